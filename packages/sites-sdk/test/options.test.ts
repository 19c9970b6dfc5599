// Construction: defaults from the environment, the lanes rule, and a
// TypeError naming the field for every invalid option.
import { ConfigurationError, LimeSite, type LimeSiteOptions } from 'lime-sites-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';

const sites: LimeSite[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(sites.splice(0).map((s) => s.close()));
});
const make = (options: LimeSiteOptions = {}) => {
  const s = new LimeSite(options);
  sites.push(s);
  return s;
};

describe('new LimeSite()', () => {
  it('reads LIME_SITE_TOKEN and LIME_API_BASE; defaults to the hosted API', () => {
    vi.stubEnv('LIME_SITE_TOKEN', 'st_from_env');
    vi.stubEnv('LIME_API_BASE', '');
    expect(make().apiBase).toBe('https://lime.pics/api/v1');
    vi.stubEnv('LIME_API_BASE', 'http://127.0.0.1:9/api/v1/');
    expect(make().apiBase).toBe('http://127.0.0.1:9/api/v1');
    expect(make({ apiBase: 'https://core.example' }).apiBase).toBe('https://core.example/api/v1');
  });

  it('refuses a missing token and an agent token, without echoing it', () => {
    vi.stubEnv('LIME_SITE_TOKEN', '');
    expect(() => make()).toThrow(ConfigurationError);
    expect(() => make()).toThrow(/LIME_SITE_TOKEN/);
    const error = (() => {
      try {
        make({ siteToken: 'at_secret_agent_token_value' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toMatch(/agent token/);
    expect(error?.message).not.toContain('secret_agent_token_value');
    expect(() => make({ siteToken: 'st_with\nnewline' })).toThrow(TypeError);
  });

  it.each([
    ['timeout', { timeout: 0 }],
    ['timeout', { timeout: Number.NaN }],
    ['maxRetries', { maxRetries: 1.5 }],
    ['reconnectMinDelay', { reconnectMinDelay: -1 }],
    ['reconnectMaxDelay', { reconnectMinDelay: 5_000, reconnectMaxDelay: 1_000 }],
    ['watchdogTimeout', { watchdogTimeout: 0 }],
    ['jwks.cacheTtl', { jwks: { cacheTtl: -5 } }],
    ['jwks.url', { jwks: { url: 'ftp://x' } }],
    ['jwks.maxDocumentBytes', { jwks: { maxDocumentBytes: 10 } }],
    ['clockTolerance', { clockTolerance: 1_000 }],
    ['issuer', { issuer: '' }],
    ['replayStore', { replayStore: {} as never }],
    ['fetch', { fetch: 'fetch' as never }],
    ['onError', { onError: 1 as never }],
    ['outcomeBufferSize', { outcomeBufferSize: 0 }],
    ['apiBase', { apiBase: 'lime.pics' }],
    ['maxTokenLength', { maxTokenLength: 10 }],
  ] as const)('%s is validated (TypeError naming it)', (field, options) => {
    expect(() => make({ siteToken: 'st_x', ...(options as LimeSiteOptions) })).toThrow(TypeError);
    expect(() => make({ siteToken: 'st_x', ...(options as LimeSiteOptions) })).toThrow(field);
  });

  it('LIME_JWT_VERIFY_LEEWAY_SECONDS sets the clock tolerance and is validated', () => {
    vi.stubEnv('LIME_JWT_VERIFY_LEEWAY_SECONDS', '999');
    expect(() => make({ siteToken: 'st_x' })).toThrow(/LIME_JWT_VERIFY_LEEWAY_SECONDS/);
  });

  it('close() is idempotent and later calls fail clearly; asyncDispose closes', async () => {
    const s = make({ siteToken: 'st_x', fetch: async () => new Response('', { status: 503 }) });
    await s.close();
    await s.close();
    await expect(s.createLoginRequest()).rejects.toMatchObject({ code: 'STREAM_CLOSED' });
    expect(() => s.onLogin(() => {})).toThrow(/closed/);
    const t = make({ siteToken: 'st_x', fetch: async () => new Response('', { status: 503 }) });
    await t[Symbol.asyncDispose]();
    await expect(t.waitForLogin('lr_1')).rejects.toMatchObject({ code: 'STREAM_CLOSED' });
  });
});
