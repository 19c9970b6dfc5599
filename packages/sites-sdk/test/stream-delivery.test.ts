// Unit tests of src/internal/stream-delivery.ts against a scripted SSE
// stream: parsing, duplicates, in-order delivery of concurrently verified
// passports, handlers, events() and stopping.
import { JwksCache, type LimeError } from '@lime/wire';
import { InvalidPassportError, type Passport, type SiteEvent } from 'lime-sites-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoginOutcome } from '../src/internal/outcome-buffer.js';
import { StreamDelivery } from '../src/internal/stream-delivery.js';
import {
  EVENTS_URL,
  fakeCore,
  frame,
  JWKS_URL,
  json,
  type SseHandle,
  sseResponse,
  until,
} from './helpers/fake-fetch.js';
import { jwks, rsaKey } from './helpers/tokens.js';

const open: StreamDelivery[] = [];
afterEach(() => {
  for (const d of open.splice(0)) {
    d.closeStream();
    d.close(new Error('test over'));
  }
});

function setup(verify: (jwt: string, requestId: string) => Promise<Passport>) {
  let sse: SseHandle | undefined;
  const core = fakeCore({
    jwks: () => json(jwks(rsaKey('k1'))),
    stream: (request) => {
      sse = sseResponse({}, request.signal);
      return sse.response;
    },
  });
  const settled: [string, LoginOutcome['kind']][] = [];
  const reported: LimeError[] = [];
  let rechecks = 0;
  let rejected: unknown;
  const delivery = new StreamDelivery({
    stream: {
      url: EVENTS_URL,
      headers: {},
      fetch: core.fetch,
      minDelayMs: 10,
      maxDelayMs: 50,
      watchdogMs: 60_000,
      connectTimeoutMs: 5_000,
      authRetryMs: 0,
      maxEventSize: 64 * 1024,
      random: Math.random,
    },
    keys: new JwksCache({ jwksUrl: JWKS_URL, fetch: core.fetch }),
    outcomeBufferSize: 100,
    outcomeBufferTtl: 60_000,
    verify,
    settle: (id, outcome) => settled.push([id, outcome.kind]),
    recheck: () => rechecks++,
    rejectAll: (error) => {
      rejected = error;
    },
    report: (error) => reported.push(error),
    isClosed: () => false,
  });
  open.push(delivery);
  return {
    delivery,
    settled,
    reported,
    sse: () => sse!,
    rechecks: () => rechecks,
    rejected: () => rejected,
  };
}

const passportFor = (requestId: string) => ({ requestId }) as Passport;

describe('StreamDelivery', () => {
  it('delivers in stream order although passports verify concurrently, once per request', async () => {
    const slow = { release: () => {} };
    const t = setup(async (jwt, requestId) => {
      if (jwt === 'slow') await new Promise<void>((r) => (slow.release = r));
      return passportFor(requestId);
    });
    const events = t.delivery.events({});
    const seen: SiteEvent[] = [];
    void (async () => {
      for await (const e of events) seen.push(e);
    })();
    await t.delivery.connect(undefined);
    t.sse().push(
      frame({ type: 'approved', login_request_id: 'lr_1', agent_passport_jwt: 'slow' }, 1),
    );
    t.sse().push(frame({ type: 'expired', login_request_id: 'lr_2' }, 2));
    t.sse().push(frame({ type: 'expired', login_request_id: 'lr_2' }, 3)); // duplicate
    await new Promise((r) => setTimeout(r, 30));
    expect(t.settled).toEqual([]); // lr_2 waits behind lr_1
    expect(t.delivery.arrived('lr_1')).toBe(true);
    slow.release();
    await until(() => t.settled.length === 2);
    expect(t.settled).toEqual([
      ['lr_1', 'approved'],
      ['lr_2', 'expired'],
    ]);
    expect(t.delivery.outcome('lr_1')).toMatchObject({ kind: 'approved' });
    await until(() => seen.filter((e) => e.type !== 'connected').length === 2);
    expect(seen.map((e) => e.type)).toEqual(['connected', 'login', 'expired']);
  });

  it('calls handlers with rejected passports that expired in transit, and reports others', async () => {
    const t = setup(async (jwt) => {
      throw new InvalidPassportError(jwt === 'late' ? 'expired_in_transit' : 'bad_signature', jwt);
    });
    const calls: [string, Passport | null, string][] = [];
    t.delivery.addHandler((id, p, e) => {
      calls.push([id, p, e.type]);
    });
    await t.delivery.connect(undefined);
    t.sse().push(frame({ type: 'approved', login_request_id: 'lr_1', agent_passport_jwt: 'late' }));
    t.sse().push(frame({ type: 'approved', login_request_id: 'lr_2', agent_passport_jwt: 'bad' }));
    await until(() => t.settled.length === 2);
    expect(calls).toEqual([['lr_1', null, 'rejected']]);
    expect(t.reported.map((e) => (e as InvalidPassportError).reason)).toEqual([
      'expired_in_transit',
      'bad_signature',
    ]);
  });

  it('ignores frames that are not JSON, rechecks on resync, reports error frames', async () => {
    const t = setup(async (_jwt, id) => passportFor(id));
    await t.delivery.connect(undefined);
    t.sse().push('data: {not json\n\n');
    t.sse().push(frame({ type: 'resync' }));
    t.sse().push(frame({ type: 'error', code: 'BOOM', message: 'server says no' }));
    await until(() => t.reported.length === 3);
    expect(t.reported.map((e) => e.code)).toEqual(['INVALID_RESPONSE', 'STREAM_RESYNC', 'BOOM']);
    expect(t.rechecks()).toBe(1);
  });

  it('checks events() options and ends iterators on close', async () => {
    const t = setup(async (_jwt, id) => passportFor(id));
    expect(() => t.delivery.events({ bufferSize: 0 })).toThrow(TypeError);
    const events = t.delivery.events({});
    const next = events.next();
    t.delivery.close(new Error('closed'));
    await expect(next).resolves.toMatchObject({ done: true });
  });
});
