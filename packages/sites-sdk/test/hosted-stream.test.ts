// The event stream as the hosted platform may send it (PROTOCOL.md §3.5 and
// the Python listener): per-line JSON events without a blank line, several
// JSON lines in one event, long silences, odd content types, transient
// refusals — and the §3.1b status checks that keep waitForLogin() from
// hanging when the stream cannot promise delivery. Scripted server, fake
// timers. Each case here failed (or hung) before this change.
import {
  LimeSite,
  type LimeSiteOptions,
  LoginExpiredError,
  LoginRequestNotFoundError,
  PassportNotReceivedError,
} from 'lime-sites-sdk';
import { describe, expect, it } from 'vitest';
import { API_BASE, fakeCore, json } from './helpers/fake-fetch.js';
import { useScriptedSites } from './helpers/scripted-site.js';
import { jwks, mintPassport, rsaKey } from './helpers/tokens.js';

const key = rsaKey('hosted-stream');
const scripted = useScriptedSites(key);
const tick = scripted.tick;

/** A scripted server; `other` answers §3.1b reads. */
function setup(
  options: LimeSiteOptions = {},
  other?: (url: string) => Response,
  streamInit: { headers?: Record<string, string> } = {},
) {
  return scripted.setup({
    site: options,
    ...(other ? { other } : {}),
    ...(streamInit.headers ? { streamHeaders: streamInit.headers } : {}),
  });
}

const approvedJson = (requestId: string) =>
  JSON.stringify({
    type: 'approved',
    login_request_id: requestId,
    agent_passport_jwt: mintPassport({ request_id: requestId }, key),
  });

describe('hosted framing', () => {
  it('a data: line holding a whole JSON event is delivered at once, without a blank line', async () => {
    const { site, handles } = setup();
    const passport = site.waitForLogin('lr_line');
    await tick();
    handles[0]!.push(`data: ${approvedJson('lr_line')}\n`); // no blank line, ever
    await tick(10);
    await expect(passport).resolves.toMatchObject({ requestId: 'lr_line' });
  });

  it('a passport without jti (hosted claims) is handed out and claimed once, keyed on its request', async () => {
    const { site, handles } = setup();
    const passport = site.waitForLogin('lr_nojti');
    const second = site.waitForLogin('lr_nojti').catch((e: unknown) => e);
    await tick();
    const jwt = mintPassport(
      { request_id: 'lr_nojti', jti: undefined, sub: undefined, agent_id: 'agent-9' },
      key,
    );
    handles[0]!.push(
      `data: {"type":"approved","login_request_id":"lr_nojti","agent_passport_jwt":"${jwt}"}\n`,
    );
    await tick(10);
    await expect(passport).resolves.toMatchObject({ agentId: 'agent-9', jti: undefined });
    expect(await second).toMatchObject({ reason: 'replayed' });
  });

  it('the JWKS is fetched with the SDK User-Agent, not the runtime default', async () => {
    const agents: Array<string | null> = [];
    const core = fakeCore({
      jwks: () => json(jwks(key)),
    });
    const site = new LimeSite({
      siteToken: 'st_test',
      apiBase: API_BASE,
      fetch: (input, init) => {
        if (String(input).endsWith('/jwks.json'))
          agents.push(new Headers(init?.headers).get('user-agent'));
        return core.fetch(input, init);
      },
    });
    scripted.track(site);
    await site.verifyPassport(mintPassport({ request_id: 'lr_ua' }, key), {
      expectedRequestId: 'lr_ua',
    });
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatch(/^lime-sites-sdk\/\d/);
  });

  it('several JSON lines in one event are several events', async () => {
    const { site, handles } = setup();
    const a = site.waitForLogin('lr_a');
    const b = site.waitForLogin('lr_b');
    await tick();
    handles[0]!.push(`data: ${approvedJson('lr_a')}\ndata: ${approvedJson('lr_b')}\n\n`);
    await tick(10);
    await expect(a).resolves.toMatchObject({ requestId: 'lr_a' });
    await expect(b).resolves.toMatchObject({ requestId: 'lr_b' });
  });

  it('accepts 200 with no content type, or a parameterised one', async () => {
    for (const headers of [
      { 'content-type': '' },
      { 'content-type': 'Text/Event-Stream; charset=UTF-8' },
    ]) {
      const { site, handles } = setup({}, undefined, { headers });
      const passport = site.waitForLogin('lr_ct');
      await tick();
      handles[0]!.push(`data: ${approvedJson('lr_ct')}\n\n`);
      await tick(10);
      await expect(passport).resolves.toMatchObject({ requestId: 'lr_ct' });
    }
  });
});

describe('silence (hosted keepalive cadence unknown: tolerate 310 s)', () => {
  it('does not reconnect after 300 s of silence, does after 310 s', async () => {
    const { site, core } = setup();
    await site.connect();
    await tick(300_000);
    expect(core.calls.stream).toHaveLength(1);
    await tick(11_000);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(2);
  });

  it('learns a faster cadence from the stream itself: keepalives every 10 s → reconnect after ~25 s of silence', async () => {
    const { site, core, handles } = setup();
    await site.connect();
    for (let i = 0; i < 3; i++) {
      handles[0]!.push(`data: {"type":"keepalive"}\n`);
      await tick(10_000);
    }
    await tick(14_000); // 24 s since the last keepalive
    expect(core.calls.stream).toHaveLength(1);
    await tick(2_000);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(2);
  });

  it('comment lines count as keepalives too', async () => {
    const { site, core, handles } = setup();
    await site.connect();
    for (let i = 0; i < 3; i++) {
      handles[0]!.push(': ping\n\n');
      await tick(4_000);
    }
    await tick(7_000);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(2);
  });
});

describe('waitForLogin and the request status (§3.1b)', () => {
  const statusRoute =
    (answer: (id: string) => Response) =>
    (url: string): Response => {
      const match = /\/modules\/agent-login\/requests\/([^/]+)$/.exec(url);
      if (!match)
        return json({ ok: false, error: { code: 'NOT_FOUND', message: 'no route' } }, 404);
      return answer(decodeURIComponent(match[1]!));
    };
  const status = (value: string) => (id: string) =>
    json({
      ok: true,
      data: { login_request_id: id, status: value, expires_at: '2030-01-01T00:00:00Z' },
    });

  it('fails fast on an id the Core does not know (ours and the hosted spelling)', async () => {
    for (const code of ['REQUEST_NOT_FOUND', 'SITE_LOGIN_REQUEST_NOT_FOUND']) {
      const { site } = setup(
        {},
        statusRoute(() => json({ ok: false, error: { code, message: 'unknown' } }, 404)),
      );
      const waiting = site.waitForLogin('lr_typo').catch((e: unknown) => e);
      await tick(100);
      const error = await waiting;
      expect(error).toBeInstanceOf(LoginRequestNotFoundError);
      expect((error as LoginRequestNotFoundError).loginRequestId).toBe('lr_typo');
    }
  });

  it('fails fast on an expired request', async () => {
    const { site } = setup({}, statusRoute(status('EXPIRED')));
    const waiting = site.waitForLogin('lr_old').catch((e: unknown) => e);
    await tick(100);
    expect(await waiting).toBeInstanceOf(LoginExpiredError);
  });

  it('approved at the Core but never received here → PassportNotReceivedError, not a 330 s hang', async () => {
    const { site } = setup({ statusCheckInterval: 30_000 }, statusRoute(status('DELIVERED')));
    await site.connect();
    const waiting = site.waitForLogin('lr_elsewhere').catch((e: unknown) => e);
    await tick(4_000);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await tick(0);
    expect(settled).toBe(false); // the passport may be a moment behind the status
    await tick(2_000);
    const error = await waiting;
    expect(error).toBeInstanceOf(PassportNotReceivedError);
    expect((error as PassportNotReceivedError).loginStatus).toBe('DELIVERED');
  });

  it('approved, and the event arrives within the grace: the passport is delivered', async () => {
    const { site, handles } = setup({}, statusRoute(status('APPROVED')));
    await site.connect();
    const passport = site.waitForLogin('lr_soon');
    await tick(1_000);
    handles[0]!.push(`data: ${approvedJson('lr_soon')}\n\n`);
    await tick(10);
    await expect(passport).resolves.toMatchObject({ requestId: 'lr_soon' });
  });

  it('still pending: keeps waiting, and checks again every statusCheckInterval', async () => {
    const { site, core } = setup({ statusCheckInterval: 30_000 }, statusRoute(status('PENDING')));
    let settled = false;
    void site
      .waitForLogin('lr_wait', { timeout: 200_000 })
      .catch(() => {})
      .finally(() => {
        settled = true;
      });
    await tick(95_000);
    expect(settled).toBe(false);
    const reads = core.calls.other.filter((u) => u.endsWith('/requests/lr_wait'));
    expect(reads.length).toBe(4); // at 0, 30, 60 and 90 s
  });

  it('a Core without the status route (a generic 404) changes nothing: the stream decides', async () => {
    const { site, handles } = setup({}, () =>
      json({ ok: false, error: { code: 'NOT_FOUND', message: 'no route' } }, 404),
    );
    const passport = site.waitForLogin('lr_plain');
    await tick(60_000);
    handles[0]!.push(`data: ${approvedJson('lr_plain')}\n\n`);
    await tick(10);
    await expect(passport).resolves.toMatchObject({ requestId: 'lr_plain' });
  });

  it('after a stream gap, a request approved meanwhile is reported at once', async () => {
    let approvedNow = false;
    const { site, handles } = setup(
      { statusCheckInterval: 0, reconnectMinDelay: 10 },
      statusRoute((id) => status(approvedNow ? 'APPROVED' : 'PENDING')(id)),
    );
    await site.connect();
    const waiting = site.waitForLogin('lr_gap').catch((e: unknown) => e);
    await tick(100);
    handles[0]!.fail(); // the stream drops; the approval happens meanwhile
    approvedNow = true;
    await tick(6_000); // reconnect, re-check, grace
    expect(await waiting).toBeInstanceOf(PassportNotReceivedError);
  });

  it('getLoginRequest reads the status; an unknown id is LoginRequestNotFoundError', async () => {
    const { site } = setup(
      {},
      statusRoute((id) =>
        id === 'lr_known'
          ? status('PENDING')(id)
          : json({ ok: false, error: { code: 'REQUEST_NOT_FOUND', message: 'unknown' } }, 404),
      ),
    );
    await expect(site.getLoginRequest('lr_known')).resolves.toMatchObject({
      loginRequestId: 'lr_known',
      status: 'PENDING',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    await expect(site.getLoginRequest('lr_nope')).rejects.toBeInstanceOf(LoginRequestNotFoundError);
    await expect(site.getLoginRequest('')).rejects.toBeInstanceOf(TypeError);
  });
});
