import {
  AuthenticationError,
  HOSTED_API_BASE,
  LimeAgent,
  LimeError,
  ValidationError,
} from 'lime-agents-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';

const TOKEN = 'at_test_0123456789abcdef';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('new LimeAgent(options)', () => {
  it('fails at construction without a token, naming the env variable', () => {
    vi.stubEnv('LIME_AGENT_TOKEN', '');
    const make = () => new LimeAgent();
    expect(make).toThrow(AuthenticationError);
    expect(make).toThrow(/LIME_AGENT_TOKEN/);
    try {
      make();
    } catch (e) {
      expect(e).toBeInstanceOf(LimeError);
      expect((e as LimeError).code).toBe('MISSING_AGENT_TOKEN');
    }
  });

  it('reads LIME_AGENT_TOKEN and LIME_API_BASE, else the hosted base', async () => {
    vi.stubEnv('LIME_AGENT_TOKEN', TOKEN);
    vi.stubEnv('LIME_API_BASE', 'http://core.test:8080/api/v1/');
    await using a = new LimeAgent();
    expect(a.apiBase).toBe('http://core.test:8080/api/v1');
    vi.stubEnv('LIME_API_BASE', '');
    await using b = new LimeAgent();
    expect(b.apiBase).toBe(HOSTED_API_BASE);
    // An origin without /api/v1 is accepted too.
    await using c = new LimeAgent({ apiBase: 'https://core.test' });
    expect(c.apiBase).toBe('https://core.test/api/v1');
  });

  it('refuses a site token or a JWT as agent token (lanes never mix), without echoing it', () => {
    const site = 'st_secret_site_token_value';
    expect(() => new LimeAgent({ agentToken: site })).toThrow(/site token/);
    try {
      new LimeAgent({ agentToken: site });
    } catch (e) {
      expect((e as LimeError).code).toBe('INVALID_AGENT_TOKEN');
      expect((e as Error).message).not.toContain(site);
    }
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const aud of [
      'lime-site-login',
      'lime-binding',
      'mcp',
      ['mcp', 'https://x.example/mcp'],
    ]) {
      const jwt = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ sub: 'ag_1', aud })}.c2lnbmF0dXJl`;
      expect(() => new LimeAgent({ agentToken: jwt }), JSON.stringify(aud)).toThrow(/JWT/);
    }
  });

  it('accepts agent tokens without the at_ prefix (the hosted platform issues them)', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const token of [
      'pow-prod-verify-agent-token-v1', // the Python integration tests' production token
      '3f0c8a9e-2b7d-4c61-9a1e-5d4f6b7c8d9e',
      'agent token with inner spaces',
      // A JWT-shaped agent token that is not a LIME passport or MCP token.
      `${b64({ alg: 'HS256' })}.${b64({ agent: 'ag_1' })}.c2ln`,
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ18xIn0.c2lnbmF0dXJl',
    ]) {
      expect(new LimeAgent({ agentToken: ` ${token}\n` }).apiBase, token).toBe(
        'https://lime.pics/api/v1',
      );
    }
    expect(() => new LimeAgent({ agentToken: 'at_a\r\nX-Injected: 1' })).toThrow(
      /control character/,
    );
  });

  it('validates every numeric option with a TypeError that names it', () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ['timeout', { timeout: 0 }],
      ['maxRetries', { maxRetries: 1.5 }],
      ['maxRetries', { maxRetries: -1 }],
      ['powTimeout', { powTimeout: Number.NaN }],
      ['powWorkers', { powWorkers: 0 }],
      ['mcpTokenRefreshSkew', { mcpTokenRefreshSkew: -5 }],
      ['retryBaseDelay', { retryBaseDelay: Number.POSITIVE_INFINITY }],
      ['apiBase', { apiBase: 'ftp://x' }],
      ['fetch', { fetch: 'nope' }],
      ['mcpResource', { mcpResource: 'yes' }],
    ];
    for (const [field, opts] of bad) {
      expect(() => new LimeAgent({ agentToken: TOKEN, ...opts }), field).toThrow(TypeError);
      expect(() => new LimeAgent({ agentToken: TOKEN, ...opts }), field).toThrow(
        new RegExp(`options\\.${field}`),
      );
    }
  });

  it('does no I/O at construction and on invalid input', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    await using agent = new LimeAgent({ agentToken: TOKEN, apiBase: 'http://core.test', fetch });
    await expect(agent.login('   ')).rejects.toBeInstanceOf(ValidationError);
    await expect(agent.login('')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(agent.getMcpAccessToken('127.0.0.1')).rejects.toBeInstanceOf(ValidationError);
    await expect(agent.getMcpAccessToken('https://u:p@tools.test/mcp')).rejects.toThrow(/userinfo/);
    expect(() => agent.mcp('[::1]:8080')).toThrow(ValidationError);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('close() is idempotent and later calls fail clearly', async () => {
    const agent = new LimeAgent({ agentToken: TOKEN, apiBase: 'http://core.test' });
    await agent.close();
    await agent.close();
    await expect(agent.getProfile()).rejects.toThrow(/closed/);
    expect(() => agent.mcp('tools.test')).toThrow(/closed/);
  });
});
