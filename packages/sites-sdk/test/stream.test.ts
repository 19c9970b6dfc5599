// Stream behaviour against a scripted server behind an injected fetch, with
// fake timers for backoff, retry: and the watchdog (no real sleeps).
import {
  AuthenticationError,
  InvalidPassportError,
  InvalidResponseError,
  type LimeError,
  LimeSite,
  type LimeSiteOptions,
  LoginExpiredError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  type SiteEvent,
  StreamClosedError,
  TimeoutError,
} from 'lime-sites-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  API_BASE,
  fakeCore,
  frame,
  hangUntilAborted,
  json,
  type SseHandle,
  type StreamRequest,
  sseResponse,
} from './helpers/fake-fetch.js';
import { jwks, mintPassport, rsaKey } from './helpers/tokens.js';

const key = rsaKey('k1');
let sites: LimeSite[] = [];

function makeSite(
  stream: (request: StreamRequest) => Response | Promise<Response>,
  options: LimeSiteOptions = {},
) {
  const errors: LimeError[] = [];
  const core = fakeCore({ jwks: () => json(jwks(key)), stream });
  const site = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    onError: (e) => errors.push(e),
    ...options,
  });
  sites.push(site);
  return { site, core, errors };
}

/** A server whose connections the test drives: each new connection is pushed to `handles`. */
function scripted() {
  const handles: SseHandle[] = [];
  const stream = (request: StreamRequest) => {
    const handle = sseResponse({}, request.signal);
    handles.push(handle);
    return handle.response;
  };
  return { handles, stream };
}

const approved = (requestId: string, id?: number, claims: Record<string, unknown> = {}) =>
  frame(
    {
      type: 'approved',
      login_request_id: requestId,
      agent_passport_jwt: mintPassport({ request_id: requestId, ...claims }, key),
    },
    id,
  );
const expired = (requestId: string, id?: number) =>
  frame({ type: 'expired', login_request_id: requestId }, id);

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/** Advance time in 100 ms steps until `n` more stream connections came; the gaps between them, ms. */
async function reconnectGaps(core: { calls: { stream: unknown[] } }, n: number): Promise<number[]> {
  const times: number[] = [];
  let seen = core.calls.stream.length;
  const start = Date.now();
  while (times.length < n) {
    await tick(100);
    if (core.calls.stream.length > seen) {
      seen = core.calls.stream.length;
      times.push(Date.now() - start);
    }
  }
  return times.map((t, i) => t - (i === 0 ? 0 : times[i - 1]!));
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
});
afterEach(async () => {
  await Promise.all(sites.map((s) => s.close()));
  sites = [];
  vi.useRealTimers();
});

describe('watchdog', () => {
  it('reconnects a silent stream after the watchdog period, resuming from the last id', async () => {
    const { handles, stream } = scripted();
    const { site, core, errors } = makeSite(stream, { watchdogTimeout: 30_000 });
    site.onLogin(() => {});
    await tick();
    handles[0]!.push(expired('lr_1', 7));
    await tick(29_000);
    expect(core.calls.stream).toHaveLength(1);
    await tick(1_100); // silence reached 30 s since the last byte
    await tick(2_000); // reconnect backoff
    expect(core.calls.stream).toHaveLength(2);
    expect(core.calls.stream[1]!.lastEventId).toBe('7');
    expect(handles[0]!.closed).toBe(true);
    expect(errors.some((e) => e instanceof TimeoutError && /no byte/.test(e.message))).toBe(true);
  });

  it('keeps a slow stream whose keepalives arrive within the period', async () => {
    const { handles, stream } = scripted();
    const { site, core } = makeSite(stream, { watchdogTimeout: 30_000 });
    site.onLogin(() => {});
    await tick();
    for (let i = 0; i < 10; i++) {
      await tick(20_000);
      handles[0]!.push(': \n'); // a comment is a byte too
      handles[0]!.push(frame({ type: 'keepalive' }));
    }
    expect(core.calls.stream).toHaveLength(1);
    expect(site.connected).toBe(true);
  });

  it('a server that sends headers but never a byte is reconnected too', async () => {
    const { stream } = scripted();
    const { site, core } = makeSite(stream, { watchdogTimeout: 5_000, reconnectMaxDelay: 1_000 });
    site.onLogin(() => {});
    await tick(5_000 + 1_000 + 5_000 + 1_500);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(3);
  });
});

describe('reconnect policy', () => {
  it('a server that answers 5xx is retried within 2 s (passports must not expire in transit), and recovers', async () => {
    let fail = true;
    const { handles, stream } = scripted();
    const { site, core, errors } = makeSite(
      (r) =>
        fail
          ? json({ ok: false, error: { code: 'INTERNAL_ERROR', message: 'boom' } }, 503)
          : stream(r),
      { reconnectMinDelay: 1_000, reconnectMaxDelay: 8_000 },
    );
    site.onLogin(() => {});
    await tick();
    const gaps = await reconnectGaps(core, 6);
    // 1 s, then 2 s, 2 s … plus ≤ 25 % jitter (100 ms sampling): it answers, so it is up.
    expect(gaps[0]).toBeGreaterThanOrEqual(1_000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_600);
    expect(errors.every((e) => e instanceof ServerError && e.status === 503)).toBe(true);
    fail = false;
    await tick(2_600);
    expect(site.connected).toBe(true);
    expect(handles).toHaveLength(1);
  });

  it('a server that cannot be reached (refused) backs off exponentially to reconnectMaxDelay', async () => {
    let fail = true;
    const { handles, stream } = scripted();
    const { site, core } = makeSite(
      (r) => {
        if (!fail) return stream(r);
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        });
      },
      { reconnectMinDelay: 1_000, reconnectMaxDelay: 8_000 },
    );
    site.onLogin(() => {});
    await tick();
    const gaps = await reconnectGaps(core, 5);
    // 1 s, 2 s, 4 s, 8 s, 8 s … plus ≤ 25 % jitter: a down server is not hammered.
    expect(gaps[2]).toBeGreaterThanOrEqual(4_000);
    expect(gaps[3]).toBeGreaterThanOrEqual(8_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_100);
    fail = false;
    await tick(10_100);
    expect(site.connected).toBe(true);
    expect(handles).toHaveLength(1);
    const stats = site.stats();
    expect(stats.opens).toBe(1);
    expect(stats.failures).toBeGreaterThanOrEqual(5);
    expect(stats.longestGapMs).toBeGreaterThanOrEqual(23_000);
    expect(stats.currentGapMs).toBe(0);
  });

  it('honours Retry-After on 429', async () => {
    let calls = 0;
    const { stream } = scripted();
    const { site, core, errors } = makeSite(
      (r) =>
        calls++ === 0
          ? json({ ok: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } }, 429, {
              'retry-after': '7',
            })
          : stream(r),
      { reconnectMinDelay: 100 },
    );
    site.onLogin(() => {});
    await tick(6_900);
    expect(core.calls.stream).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RateLimitError);
    expect((errors[0] as RateLimitError).retryAfter).toBe(7);
    await tick(200);
    expect(core.calls.stream).toHaveLength(2);
  });

  it("honours the server's retry: after a clean end, and sends Last-Event-ID", async () => {
    const { handles, stream } = scripted();
    const { site, core } = makeSite(stream, { reconnectMinDelay: 10 });
    site.onLogin(() => {});
    await tick();
    handles[0]!.push('retry: 4000\n\n');
    handles[0]!.push(expired('lr_a', 41));
    await tick();
    handles[0]!.end();
    await tick(3_900);
    expect(core.calls.stream).toHaveLength(1);
    await tick(1_100); // 4000 ms + ≤ 25 % jitter
    expect(core.calls.stream).toHaveLength(2);
    expect(core.calls.stream[1]!.lastEventId).toBe('41');
  });

  it('a server that accepts and drops at once is retried at most every 2 s, not in a tight loop', async () => {
    const { site, core } = makeSite(
      (r) => {
        const handle = sseResponse({}, r.signal);
        handle.push('retry: 100\n\n'); // bytes, but no event
        handle.fail();
        return handle.response;
      },
      { reconnectMinDelay: 1_000, reconnectMaxDelay: 8_000 },
    );
    site.onLogin(() => {});
    await tick(30_000);
    // 1 s, then 2 s (+ jitter) apart: about 15 connections in 30 s, not 300.
    expect(core.calls.stream.length).toBeLessThanOrEqual(16);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(11);
  });

  it('times out a connect that never answers and tries again', async () => {
    let calls = 0;
    const { stream } = scripted();
    const { site, core, errors } = makeSite(
      (r) => (calls++ === 0 ? hangUntilAborted(r.signal) : stream(r)),
      { timeout: 2_000, reconnectMinDelay: 100 },
    );
    site.onLogin(() => {});
    await tick(2_000);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    await tick(200);
    expect(core.calls.stream).toHaveLength(2);
    expect(site.connected).toBe(true);
  });

  it('retries a 200 that is not an event stream (wrong API base) with an explicit error', async () => {
    let calls = 0;
    const { stream } = scripted();
    const { site, errors } = makeSite(
      (r) =>
        calls++ === 0
          ? new Response('<html>', { headers: { 'content-type': 'text/html' } })
          : stream(r),
      { reconnectMinDelay: 10 },
    );
    site.onLogin(() => {});
    await tick(100);
    expect(errors[0]).toBeInstanceOf(InvalidResponseError);
    expect(errors[0]!.message).toMatch(/text\/event-stream/);
    expect(site.connected).toBe(true);
  });

  it('drops a connection that sends one enormous event and reconnects', async () => {
    const { handles, stream } = scripted();
    const { site, core, errors } = makeSite(stream, { reconnectMinDelay: 10 });
    site.onLogin(() => {});
    await tick();
    handles[0]!.push(`data: ${'x'.repeat(300 * 1024)}`);
    await tick(100);
    expect(errors.some((e) => /exceeded/.test(e.message))).toBe(true);
    expect(core.calls.stream.length).toBeGreaterThanOrEqual(2);
  });
});

describe('credential refused', () => {
  it('a persistent 401 is retried for authRetryPeriod (5 s doubling to 60 s), then stops for good', async () => {
    const { site, core, errors } = makeSite(() =>
      json({ ok: false, error: { code: 'SITE_TOKEN_INVALID', message: 'bad token' } }, 401),
    );
    let settled = false;
    const waiting = site.waitForLogin('lr_1', { timeout: 3_600_000 }).catch((e: unknown) => {
      settled = true;
      return e;
    });
    const seen: string[] = [];
    const drained = (async () => {
      try {
        for await (const event of site.events()) seen.push(event.type);
        return 'ended';
      } catch (error) {
        return error;
      }
    })();
    await tick(290_000);
    // Still retrying, waiters still waiting: a deploy or an auth blip must not end logins.
    expect(settled).toBe(false);
    const during = core.calls.stream.length;
    expect(during).toBeGreaterThanOrEqual(7); // 0, 5, 15, 35, 75, 135, 195, 255 s
    expect(errors[0]!.message).toMatch(/retrying for up to 300 s/);
    await tick(10 * 60_000);
    expect(core.calls.stream.length).toBeLessThanOrEqual(during + 1); // the last try at 300 s
    expect(await waiting).toBeInstanceOf(AuthenticationError);
    expect(await drained).toBeInstanceOf(AuthenticationError);
    expect(seen.length).toBeGreaterThanOrEqual(7); // each refusal was a 'disconnected' event
    expect(new Set(seen)).toEqual(new Set(['disconnected']));
    const final = errors.at(-1)!;
    expect(final).toBeInstanceOf(AuthenticationError);
    expect(final.code).toBe('SITE_TOKEN_INVALID');
    expect(final.message).toMatch(/still refused after 300 s of retries — the stream stopped/);
    expect(errors.every((e) => !e.message.includes('st_test'))).toBe(true);
    // Later waiters fail at once; lazy subscribers do not restart the stream.
    const calls = core.calls.stream.length;
    await expect(site.waitForLogin('lr_2')).rejects.toBeInstanceOf(AuthenticationError);
    site.onLogin(() => {});
    await tick(60_000);
    expect(core.calls.stream).toHaveLength(calls);
  });

  it('a transient 401/403 (a deploy) is survived: the stream comes back and delivers', async () => {
    const { handles, stream } = scripted();
    let refusals = 0;
    const { site } = makeSite((r) =>
      refusals++ < 2
        ? json({ ok: false, error: { code: 'SITE_SUSPENDED', message: 'deploying' } }, 403)
        : stream(r),
    );
    const passport = site.waitForLogin('lr_ok');
    await tick(20_000);
    expect(handles).toHaveLength(1);
    handles[0]!.push(approved('lr_ok', 1));
    await tick(10);
    await expect(passport).resolves.toMatchObject({ requestId: 'lr_ok' });
  });

  it('connect() rejects on the first refusal (credential codes are AuthenticationError at any status)', async () => {
    const { site } = makeSite(() =>
      json({ ok: false, error: { code: 'SITE_SUSPENDED', message: 'suspended' } }, 403),
    );
    const connecting = site.connect();
    const assertion = expect(connecting).rejects.toBeInstanceOf(AuthenticationError);
    await tick(100);
    await assertion;
  });

  it('authRetryPeriod: 0 stops at the first refusal, as before', async () => {
    const { site, core } = makeSite(
      () => json({ ok: false, error: { code: 'FORBIDDEN', message: 'no' } }, 403),
      { authRetryPeriod: 0 },
    );
    const waiting = expect(site.waitForLogin('lr_1')).rejects.toBeInstanceOf(PermissionDeniedError);
    await tick(60_000);
    await waiting;
    expect(core.calls.stream).toHaveLength(1);
  });

  it('401 on a reconnect (token revoked meanwhile) is retried, then stops', async () => {
    let calls = 0;
    const { handles, stream } = scripted();
    const { site, core, errors } = makeSite(
      (r) =>
        calls++ === 0
          ? stream(r)
          : json({ ok: false, error: { code: 'SITE_TOKEN_INVALID', message: 'revoked' } }, 401),
      { reconnectMinDelay: 10, authRetryPeriod: 30_000 },
    );
    site.onLogin(() => {});
    await tick();
    handles[0]!.fail();
    await tick(10 * 60_000);
    expect(core.calls.stream.length).toBeGreaterThan(2);
    expect(errors.at(-1)).toBeInstanceOf(AuthenticationError);
    expect(errors.at(-1)!.message).toMatch(/still refused after 30 s/);
  });
});

describe('delivery', () => {
  it('a throwing or hanging handler never blocks the others', async () => {
    const { handles, stream } = scripted();
    const { site, errors } = makeSite(stream);
    const seen: string[] = [];
    site.onLogin(() => {
      throw new Error('handler bug');
    });
    site.onLogin(() => new Promise(() => {})); // never settles
    site.onLogin(async () => {
      throw new Error('async handler bug');
    });
    site.onLogin((requestId, passport) => {
      seen.push(`${requestId}:${passport ? passport.agentId : 'expired'}`);
    });
    await tick();
    handles[0]!.push(approved('lr_1', 1) + expired('lr_2', 2) + approved('lr_3', 3));
    await tick(10);
    expect(seen.sort()).toEqual(['lr_1:ag_test', 'lr_2:expired', 'lr_3:ag_test']);
    const handlerErrors = errors.filter((e) => e.code === 'HANDLER_FAILED');
    expect(handlerErrors).toHaveLength(6);
    expect(handlerErrors[0]!.message).toMatch(/handler bug/);
  });

  it('waitForLogin resolves whether the event came before or after the call', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream);
    await site.connect();
    handles[0]!.push(approved('lr_before', 1));
    await tick(10);
    const before = await site.waitForLogin('lr_before');
    expect(before.requestId).toBe('lr_before');
    const after = site.waitForLogin('lr_after');
    const twice = site.waitForLogin('lr_after').catch((e: unknown) => e);
    handles[0]!.push(approved('lr_after', 2));
    await tick(10);
    const passport = await after;
    expect(passport).toMatchObject({
      agentId: 'ag_test',
      userId: 'usr_test',
      userKycLevel: 2,
      agentReputation: 87.5,
      requestId: 'lr_after',
      siteId: 'site_test',
      passportVersion: 1,
    });
    expect(passport.issuedAt).toBeInstanceOf(Date);
    expect(passport.expiresAt.getTime() - passport.issuedAt.getTime()).toBe(60_000);
    // One passport, one session: the second concurrent waiter is refused, not handed the same jti.
    expect(await twice).toMatchObject({ name: 'InvalidPassportError', reason: 'replayed' });
  });

  it('a passport is handed out once: later waitForLogin calls reject replayed at once', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream);
    await site.connect();
    handles[0]!.push(approved('lr_once', 1));
    await tick(10);
    const first = await site.waitForLogin('lr_once');
    expect(first.requestId).toBe('lr_once');
    // Settles without advancing the clock: no hang until the timeout.
    const settled = vi.fn();
    const second = site.waitForLogin('lr_once', { timeout: 1_000 });
    second.then(settled, settled);
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toHaveBeenCalledTimes(1);
    const error = await second.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPassportError);
    expect((error as InvalidPassportError).reason).toBe('replayed');
    // The claim is in the configured store: claiming the same passport again is refused too.
    await expect(site.claimPassport(first)).rejects.toMatchObject({ reason: 'replayed' });
  });

  it('waitForLogin claims in the configured replayStore; a failing store puts the passport back', async () => {
    const { handles, stream } = scripted();
    let healthy = false;
    const seen = new Set<string>();
    const replayStore = {
      consume: async (jti: string) => {
        if (!healthy) throw new Error('redis down');
        if (seen.has(jti)) return false;
        seen.add(jti);
        return true;
      },
    };
    const { site } = makeSite(stream, { replayStore });
    await site.connect();
    handles[0]!.push(approved('lr_store', 1));
    await tick(10);
    await expect(site.waitForLogin('lr_store')).rejects.toMatchObject({
      reason: 'replay_check_failed',
    });
    healthy = true;
    const passport = await site.waitForLogin('lr_store');
    expect(seen).toEqual(new Set([passport.jti]));
    await expect(site.waitForLogin('lr_store')).rejects.toMatchObject({ reason: 'replayed' });
  });

  it('onLogin gets every passport unclaimed; claimPassport binds it once', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream, { watchdogTimeout: 10 * 60_000 });
    const got: Array<import('lime-sites-sdk').Passport> = [];
    site.onLogin((_id, passport) => {
      if (passport) got.push(passport);
    });
    site.onLogin((_id, passport) => {
      if (passport) got.push(passport);
    });
    await tick();
    handles[0]!.push(approved('lr_h', 1));
    await tick(10);
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(got[1]);
    await expect(site.claimPassport(got[0]!)).resolves.toBe(got[0]);
    await expect(site.claimPassport(got[1]!)).rejects.toMatchObject({ reason: 'replayed' });
    // Claimed by a handler: waitForLogin cannot hand it out a second time.
    await expect(site.waitForLogin('lr_h')).rejects.toMatchObject({ reason: 'replayed' });
    // An expired passport cannot be claimed (its id may have left the store).
    handles[0]!.push(approved('lr_old', 2));
    await tick(10);
    const old = got[2]!;
    await tick(60_000 + 30_000);
    await expect(site.claimPassport(old)).rejects.toMatchObject({ reason: 'expired' });
    await expect(site.claimPassport({} as never)).rejects.toBeInstanceOf(TypeError);
    const aborted = site.claimPassport(old, { signal: AbortSignal.abort() });
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('expiry: handlers get null, waiters reject with LoginExpiredError (before or after)', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream);
    const got: Array<[string, unknown, string]> = [];
    site.onLogin((id, passport, event) => {
      got.push([id, passport, event.type]);
    });
    const waiting = site.waitForLogin('lr_x');
    const assertion = expect(waiting).rejects.toBeInstanceOf(LoginExpiredError);
    await tick();
    handles[0]!.push(expired('lr_x', 1));
    await tick();
    await assertion;
    expect(got).toEqual([['lr_x', null, 'expired']]);
    const late = await site.waitForLogin('lr_x').catch((e: unknown) => e);
    expect(late).toBeInstanceOf(LoginExpiredError);
    expect((late as LoginExpiredError).loginRequestId).toBe('lr_x');
  });

  it('an invalid passport reaches onError, never a handler; one that arrived expired is reported to handlers as such', async () => {
    const { handles, stream } = scripted();
    const { site, errors } = makeSite(stream);
    const handler = vi.fn();
    site.onLogin(handler);
    const waiting = site.waitForLogin('lr_bad');
    const assertion = expect(waiting).rejects.toMatchObject({ reason: 'request_id_mismatch' });
    await tick();
    // Passport minted for another request: a mix-up or an attack.
    handles[0]!.push(
      frame({
        type: 'approved',
        login_request_id: 'lr_bad',
        agent_passport_jwt: mintPassport({ request_id: 'lr_other' }, key),
      }),
    );
    handles[0]!.push(
      approved('lr_expired_token', 2, {
        iat: Math.floor(Date.now() / 1000) - 500,
        exp: Math.floor(Date.now() / 1000) - 440,
      }),
    );
    await tick(10);
    await assertion;
    // The forged one never reaches a handler; the late one does, as a login that will not complete.
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]![0]).toBe('lr_expired_token');
    expect(handler.mock.calls[0]![1]).toBeNull();
    expect(handler.mock.calls[0]![2]).toMatchObject({
      type: 'rejected',
      error: { reason: 'expired_in_transit' },
    });
    await expect(site.waitForLogin('lr_expired_token')).rejects.toMatchObject({
      reason: 'expired_in_transit',
    });
    const invalid = errors.filter(
      (e) => e instanceof InvalidPassportError,
    ) as InvalidPassportError[];
    expect(invalid.map((e) => e.reason).sort()).toEqual([
      'expired_in_transit',
      'request_id_mismatch',
    ]);
  });

  it('waitForLogin times out, aborts, and rejects on close', async () => {
    const { stream } = scripted();
    const { site } = makeSite(stream);
    const timing = site.waitForLogin('lr_t', { timeout: 1_000 });
    const timeoutAssertion = expect(timing).rejects.toBeInstanceOf(TimeoutError);
    await tick(1_000);
    await timeoutAssertion;
    const controller = new AbortController();
    const aborting = site.waitForLogin('lr_a', { signal: controller.signal });
    controller.abort();
    await expect(aborting).rejects.toMatchObject({ code: 'ABORTED' });
    const closing = site.waitForLogin('lr_c');
    await site.close();
    await expect(closing).rejects.toBeInstanceOf(StreamClosedError);
    await expect(site.waitForLogin('lr_d')).rejects.toBeInstanceOf(StreamClosedError);
  });

  it('events() yields typed events, surfaces resync, ignores unknown types and ends on return()', async () => {
    const { handles, stream } = scripted();
    const { site, errors } = makeSite(stream);
    const iterator = site.events();
    const collected: SiteEvent[] = [];
    const consumer = (async () => {
      for await (const event of iterator) {
        collected.push(event);
        if (collected.length === 5) break;
      }
    })();
    await tick();
    handles[0]!.push(frame({ type: 'resync' }));
    handles[0]!.push(frame({ type: 'mystery', x: 1 }) + 'data: not json\n\n');
    handles[0]!.push(frame({ type: 'keepalive' }));
    handles[0]!.push(frame({ type: 'error', code: 'OVERLOADED', message: 'shedding' }));
    handles[0]!.push(approved('lr_i', 1) + expired('lr_j', 2));
    await tick(10);
    await consumer;
    expect(collected.map((e) => e.type)).toEqual([
      'connected',
      'resync',
      'error',
      'login',
      'expired',
    ]);
    expect(errors.map((e) => e.code)).toEqual(
      expect.arrayContaining(['STREAM_RESYNC', 'INVALID_RESPONSE', 'OVERLOADED']),
    );
    // break → return(): the iterator is done and detached.
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('one connection per LimeSite however many subscribers', async () => {
    const { stream } = scripted();
    const { site, core } = makeSite(stream);
    site.onLogin(() => {});
    site.onLogin(() => {});
    void site.waitForLogin('lr_1').catch(() => {});
    const it1 = site.events();
    await site.connect();
    await tick(10);
    expect(core.calls.stream).toHaveLength(1);
    await it1.return?.();
  });

  it('a buffered passport that expired before waitForLogin() is not handed out', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream, { watchdogTimeout: 10 * 60_000 });
    await site.connect();
    handles[0]!.push(approved('lr_late', 1));
    await tick(10);
    await tick(60_000 + 30_000 + 1_000); // passport lifetime + clock tolerance
    await expect(site.waitForLogin('lr_late')).rejects.toMatchObject({ reason: 'expired' });
  });

  it('the JWK Set is fetched once for the stream, not per subscriber', async () => {
    const { stream } = scripted();
    const { site, core } = makeSite(stream);
    for (let i = 0; i < 20; i++) void site.waitForLogin(`lr_${i}`).catch(() => {});
    site.onLogin(() => {});
    await site.connect();
    await tick(10);
    expect(core.calls.jwks).toBe(1);
  });

  it('a clean end by the server is a disconnected event, not an error', async () => {
    const { handles, stream } = scripted();
    const { site, errors } = makeSite(stream, { reconnectMinDelay: 10 });
    const iterator = site.events();
    await tick();
    handles[0]!.end();
    await tick(100);
    const types: string[] = [];
    for (let i = 0; i < 3; i++) types.push(((await iterator.next()).value as SiteEvent).type);
    expect(types).toEqual(['connected', 'disconnected', 'connected']);
    expect(errors).toEqual([]);
    await iterator.return?.();
  });

  it('unsubscribe stops a handler', async () => {
    const { handles, stream } = scripted();
    const { site } = makeSite(stream);
    const handler = vi.fn();
    const off = site.onLogin(handler);
    await tick();
    handles[0]!.push(expired('lr_1', 1));
    await tick();
    off();
    handles[0]!.push(expired('lr_2', 2));
    await tick();
    expect(handler).toHaveBeenCalledTimes(1);
  });
});

describe('credential safety and failure loops', () => {
  it('stops instead of following a redirect off the API origin (the site token stays home)', async () => {
    const { site, core, errors } = makeSite(
      () => new Response(null, { status: 302, headers: { location: 'https://evil.test/events' } }),
      { reconnectMinDelay: 10 },
    );
    const stopped = site.waitForLogin('lr_x', { timeout: 60_000 }).catch((e: unknown) => e);
    await tick(5_000);
    expect(core.calls.stream).toHaveLength(1);
    expect(core.calls.other.filter((u) => u.startsWith('https://evil.test'))).toEqual([]);
    expect(errors.some((e) => e.code === 'UNEXPECTED_REDIRECT')).toBe(true);
    expect(await stopped).toMatchObject({ code: 'UNEXPECTED_REDIRECT' });
  });

  it('stops when an injected fetch followed a redirect by itself (ignoring redirect: manual)', async () => {
    const { site, core, errors } = makeSite(
      (request) => {
        // What a fetch that drops RequestInit.redirect hands back after following one.
        const response = sseResponse({}, request.signal).response;
        Object.defineProperty(response, 'redirected', { value: true });
        return response;
      },
      { reconnectMinDelay: 10 },
    );
    const stopped = site.waitForLogin('lr_x', { timeout: 60_000 }).catch((e: unknown) => e);
    await tick(5_000);
    expect(core.calls.stream).toHaveLength(1);
    expect(errors.some((e) => e.code === 'UNEXPECTED_REDIRECT')).toBe(true);
    expect(await stopped).toMatchObject({ code: 'UNEXPECTED_REDIRECT' });
  });

  it('drops a resume point the server refuses with 400 instead of repeating it forever', async () => {
    const handles: SseHandle[] = [];
    const { site, core } = makeSite(
      (request) => {
        if (request.lastEventId === '41') {
          return json({ ok: false, error: { code: 'VALIDATION_ERROR', message: 'bad id' } }, 400);
        }
        const handle = sseResponse({}, request.signal);
        handles.push(handle);
        return handle.response;
      },
      { reconnectMinDelay: 10 },
    );
    site.onLogin(() => {});
    await tick();
    handles[0]!.push(expired('lr_1', 41));
    handles[0]!.end();
    await tick(1_000);
    const ids = core.calls.stream.map((r) => r.lastEventId);
    expect(ids.slice(0, 3)).toEqual([null, '41', null]);
  });

  it('backs off from a failing server even with reconnectMinDelay 0 and no retry:', async () => {
    const { site, core } = makeSite(
      () => json({ ok: false, error: { code: 'DOWN', message: 'down' } }, 503),
      { reconnectMinDelay: 0, reconnectMaxDelay: 60_000 },
    );
    site.onLogin(() => {});
    await tick(1_000);
    // 0, then 50·2^n (+ up to 25 % jitter): 50, 100, 200, 400 ms… at most ~6 attempts in 1 s
    expect(core.calls.stream.length).toBeGreaterThan(1);
    expect(core.calls.stream.length).toBeLessThanOrEqual(7);
  });
});
