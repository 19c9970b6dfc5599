import { generateKeyPairSync } from 'node:crypto';
import { PATHS } from '@lime/wire';
import { type CoreOptions, startCore } from 'lime-core';
import { describe, expect, test } from 'vitest';
import { parseCliArgs } from '../src/internal/cli-args.js';
import { approve, createRequest, httpClient, runCli } from './helpers.js';

describe('CoreOptions validation', () => {
  const bad: Array<[string, CoreOptions]> = [
    ['port', { port: -1 }],
    ['port', { port: 70_000 }],
    ['port', { port: 1.5 }],
    ['host', { host: '' }],
    ['publicUrl', { publicUrl: 'not a url' }],
    ['publicUrl', { publicUrl: 'ftp://x.example' }],
    ['publicUrl', { publicUrl: 'https://x.example/?q=1' }],
    ['powDifficulty', { powDifficulty: 65 }],
    ['powDifficulty', { powDifficulty: -1 }],
    ['requestTtlMs', { requestTtlMs: 0 }],
    ['passportTtlSeconds', { passportTtlSeconds: 121 }],
    ['bindingPassportTtlSeconds', { bindingPassportTtlSeconds: 61 }],
    ['mcpTokenTtlSeconds', { mcpTokenTtlSeconds: 0 }],
    ['retentionMs', { retentionMs: 0 }],
    ['keepaliveMs', { keepaliveMs: 1 }],
    ['retryMs', { retryMs: -5 }],
    ['rateLimits.perIp.burst', { rateLimits: { perIp: { burst: 0, perSecond: 1 } } }],
    [
      'rateLimits.perCredential.perSecond',
      { rateLimits: { perCredential: { burst: 1, perSecond: 0 } } },
    ],
    ['maxBodyBytes', { maxBodyBytes: 1 }],
    ['keySize', { keySize: 1024 }],
    ['adminToken', { adminToken: 'short' }],
    ['clock', { clock: 5 as unknown as () => number }],
    ['log', { log: 'yes' as unknown as () => void }],
    ['signingKey', { signingKey: 'not a pem' }],
    ['signingKey', { signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }],
    ['signingKey', { signingKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }],
    ['signingKey', { signingKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey }],
    ['profile', { profile: 'Hosted' as unknown as 'hosted' }],
    ['profile', { profile: 7 as unknown as 'hosted' }],
    ['jwksShape', { jwksShape: 'both' as unknown as 'raw' }],
    ['keepaliveMs', { profile: 'hosted', keepaliveMs: 0 }],
  ];
  test.each(bad)('%s is refused with a TypeError naming it', async (field, options) => {
    const err = await startCore(options).then(
      async (core) => {
        await core.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toContain(field);
  });

  test('a configured admin token is used; requestTtlMs sets expires_at', async () => {
    const http = httpClient();
    const core = await startCore({
      powDifficulty: 0,
      adminToken: 'a-long-enough-admin-token',
      requestTtlMs: 5_000,
    });
    try {
      expect(core.adminToken).toBe('a-long-enough-admin-token');
      expect(core.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(core.apiBase).toBe(`${core.url}/api/v1`);
      const site = await core.admin.createSite({ name: 's' });
      const r = await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
        headers: { 'x-site-token': site.siteToken },
        body: {},
      });
      const left = Date.parse(r.json.data.expires_at) - Date.now();
      expect(left).toBeGreaterThan(3_000);
      expect(left).toBeLessThanOrEqual(5_000);
    } finally {
      await core.close();
      await http.close();
    }
  });

  test('admin calls honour an aborted signal and map refusals to LimeError classes', async () => {
    const core = await startCore({ powDifficulty: 0 });
    try {
      const ac = new AbortController();
      ac.abort();
      await expect(core.admin.createSite({}, { signal: ac.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      const { NotFoundError, ValidationError } = await import('@lime/wire');
      await expect(core.admin.rotateAgentToken('agt_nope')).rejects.toBeInstanceOf(NotFoundError);
      await expect(core.admin.createSite({ name: '' })).rejects.toBeInstanceOf(ValidationError);
    } finally {
      await core.close();
    }
  });
});

describe('CLI', () => {
  test('flags and environment', () => {
    expect(parseCliArgs([], {}).options).toEqual({ port: 8787, stateDir: '.lime-core' });
    expect(parseCliArgs(['--ephemeral'], {}).options).toEqual({ port: 8787 });
    expect(parseCliArgs(['--no-state'], { LIME_CORE_STATE: '/s' }).options).toEqual({
      port: 8787,
    });
    expect(parseCliArgs(['--state', '/x'], {}).options.stateDir).toBe('/x');
    expect(parseCliArgs([], { LIME_CORE_STATE: '/e' }).options.stateDir).toBe('/e');
    expect(() => parseCliArgs(['--state=/x', '--ephemeral'], {})).toThrow(/contradict/);
    expect(() => parseCliArgs(['--state='], {})).toThrow(/needs a directory/);
    expect(parseCliArgs(['--signing-key-file', '/k.pem'], {}).signingKeyFile).toBe('/k.pem');
    expect(parseCliArgs([], { LIME_CORE_SIGNING_KEY_FILE: '/e.pem' }).signingKeyFile).toBe(
      '/e.pem',
    );
    expect(
      parseCliArgs(
        ['--port', '0', '--difficulty=3', '--host', '0.0.0.0', '--public-url', 'https://c.example'],
        {},
      ).options,
    ).toEqual({
      port: 0,
      powDifficulty: 3,
      host: '0.0.0.0',
      publicUrl: 'https://c.example',
      stateDir: '.lime-core',
    });
    expect(
      parseCliArgs(['--ephemeral'], { LIME_CORE_PORT: '9000', LIME_CORE_DIFFICULTY: '0' }).options,
    ).toEqual({ port: 9000, powDifficulty: 0 });
    expect(parseCliArgs(['--port', '1'], { LIME_CORE_PORT: '9000' }).options.port).toBe(1);
    expect(parseCliArgs(['--help'], {}).help).toBe(true);
    expect(parseCliArgs(['--profile', 'hosted'], {}).options.profile).toBe('hosted');
    expect(parseCliArgs(['--profile=core'], { LIME_CORE_PROFILE: 'hosted' }).options.profile).toBe(
      'core',
    );
    expect(parseCliArgs([], { LIME_CORE_PROFILE: 'hosted' }).options.profile).toBe('hosted');
    expect(parseCliArgs([], {}).options.profile).toBeUndefined();
    expect(() => parseCliArgs(['--profile', 'cloud'], {})).toThrow(/--profile must be/);
    expect(() => parseCliArgs(['--port', 'abc'], {})).toThrow(TypeError);
    expect(() => parseCliArgs(['--nope'], {})).toThrow(/unknown argument/);
    expect(() => parseCliArgs(['--port'], {})).toThrow(/needs a value/);
  });

  test('prints the API base and ready tokens, serves, and stops on SIGTERM', async () => {
    const cli = await runCli(['--port', '0', '--difficulty', '0', '--ephemeral']);
    const { out } = cli;
    const apiBase = /API base\s+(\S+)/.exec(out)?.[1];
    const siteToken = /site token\s+(st_\S+)/.exec(out)?.[1];
    const agentToken = /agent token\s+(at_\S+)/.exec(out)?.[1];
    const adminToken = /admin token\s+(\S+)/.exec(out)?.[1];
    expect(apiBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    expect(adminToken).toBeTruthy();
    const http = httpClient();
    try {
      const core = { apiBase: apiBase! } as Parameters<typeof createRequest>[1];
      const id = await createRequest(http, core, siteToken!);
      const r = await approve(http, core, id, agentToken!);
      expect(r.status).toBe(200);
    } finally {
      await http.close();
    }
    expect(await cli.stop()).toBe(0);
    expect(cli.out).toContain('stopped.');
  });
});

test('CLI --profile hosted prints unprefixed tokens and the profile', async () => {
  const cli = await runCli([
    '--port',
    '0',
    '--difficulty',
    '0',
    '--profile',
    'hosted',
    '--ephemeral',
  ]);
  const { out } = cli;
  expect(out).toMatch(/profile\s+hosted/);
  expect(out).toMatch(/site token\s+[0-9a-f]{64}\n/);
  expect(out).toMatch(/agent token\s+[0-9a-f]{64}\n/);
  expect(out).toMatch(/site\s+[0-9a-f]{8}-[0-9a-f]{4}-/);
  expect(await cli.stop()).toBe(0);
});
