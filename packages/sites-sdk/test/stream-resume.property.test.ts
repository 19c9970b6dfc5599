// Property: the event stream cut at arbitrary byte offsets (abruptly or
// cleanly, in arbitrary chunks, through multi-byte UTF-8) and reconnected
// delivers every passport and expiry exactly once, and each reconnect asks
// for exactly the events after the last complete one (complete: its data:
// line ended — the JSON event is whole there, blank line or not).
import fc from 'fast-check';
import { LimeSite, type Passport } from 'lime-sites-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_BASE,
  fakeCore,
  frame,
  json,
  type SseHandle,
  sseResponse,
  until,
} from './helpers/fake-fetch.js';
import { jwks, mintPassport, rsaKey } from './helpers/tokens.js';

const key = rsaKey('k1');
const encoder = new TextEncoder();

interface LogEvent {
  id: number;
  requestId: string;
  bytes: string;
}

function buildLog(kinds: Array<'approved' | 'expired'>): LogEvent[] {
  return kinds.map((kind, i) => {
    const id = i + 1;
    const requestId = `lr_${id}_${Math.random().toString(36).slice(2, 8)}`;
    const data =
      kind === 'approved'
        ? {
            type: 'approved',
            login_request_id: requestId,
            agent_passport_jwt: mintPassport({ request_id: requestId }, key),
            // Non-ASCII so cuts land inside multi-byte characters.
            redirect_url: `https://site.example/wïllkømmen/€/${id}`,
          }
        : { type: 'expired', login_request_id: requestId };
    // Keepalives (no id) between events, as the Core sends them.
    return { id, requestId, bytes: frame({ type: 'keepalive' }) + frame(data, id) };
  });
}

/** The bytes one connection sends after `Last-Event-ID: last`, with frame end offsets. */
function connectionBytes(log: LogEvent[], last: number, honourResume: boolean) {
  let text = 'retry: 1\n\n';
  const ends: Array<{ id: number; end: number }> = [];
  for (const e of log) {
    if (honourResume && e.id <= last) continue;
    text += e.bytes;
    // An event counts once its data: line is complete (a whole JSON object
    // on one line is an event at once, PROTOCOL §3.5): one byte before the
    // frame's closing blank line.
    ends.push({ id: e.id, end: encoder.encode(text).length - 1 });
  }
  return { bytes: encoder.encode(text), ends };
}

function pushInChunks(handle: SseHandle, bytes: Uint8Array, sizes: number[]): void {
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const size = sizes.length === 0 ? bytes.length : sizes[i++ % sizes.length]!;
    handle.push(bytes.slice(offset, offset + size));
    offset += size;
  }
}

const sites: LimeSite[] = [];
afterEach(async () => {
  await Promise.all(sites.splice(0).map((s) => s.close()));
});

async function runScenario(
  kinds: Array<'approved' | 'expired'>,
  cuts: Array<{ at: number; abrupt: boolean }>,
  chunkSizes: number[],
  honourResume: boolean,
): Promise<void> {
  const log = buildLog(kinds);
  const expectedLastIds: Array<string | null> = [null];
  const open: SseHandle[] = [];
  const core = fakeCore({
    jwks: () => json(jwks(key)),
    stream: ({ lastEventId, index, signal }) => {
      const last = lastEventId === null ? 0 : Number(lastEventId);
      const { bytes, ends } = connectionBytes(log, last, honourResume);
      const handle = sseResponse({}, signal);
      open.push(handle);
      const cut = cuts[index];
      if (cut === undefined) {
        pushInChunks(handle, bytes, chunkSizes);
        return handle.response;
      }
      const at = cut.at % (bytes.length + 1);
      pushInChunks(handle, bytes.slice(0, at), chunkSizes);
      // The client will resume after the last frame that was complete before the cut.
      // On a clean end, a last data: line that is a whole JSON object counts even
      // without its newline (the decoder's end(), as a line reader does).
      const complete = ends.filter((e) => (cut.abrupt ? e.end : e.end - 1) <= at).at(-1);
      expectedLastIds.push(complete ? String(complete.id) : lastEventId);
      if (cut.abrupt) handle.fail();
      else handle.end();
      return handle.response;
    },
  });
  const errors: Error[] = [];
  const site = new LimeSite({
    siteToken: 'st_test',
    apiBase: API_BASE,
    fetch: core.fetch,
    reconnectMinDelay: 0,
    reconnectMaxDelay: 2,
    onError: (e) => errors.push(e),
  });
  sites.push(site);
  const delivered: Array<{ requestId: string; passport: Passport | null }> = [];
  site.onLogin((requestId, passport) => {
    delivered.push({ requestId, passport });
  });
  await until(
    () => delivered.length >= log.length && core.calls.stream.length > cuts.length,
    10_000,
  );
  // A moment for any duplicate to show up.
  await new Promise((r) => setTimeout(r, 10));

  expect(delivered.map((d) => d.requestId).sort()).toEqual(log.map((e) => e.requestId).sort());
  kinds.forEach((kind, i) => {
    const got = delivered.find((d) => d.requestId === log[i]!.requestId)!;
    if (kind === 'approved') expect(got.passport?.requestId).toBe(log[i]!.requestId);
    else expect(got.passport).toBeNull();
  });
  if (honourResume) {
    expect(core.calls.stream.map((c) => c.lastEventId)).toEqual(expectedLastIds);
  }
  expect(errors.filter((e) => e.name === 'InvalidPassportError')).toEqual([]);
  await site.close();
  expect(open.every((h) => h.closed)).toBe(true);
}

const kindsArb = fc.array(
  fc.constantFrom<'approved' | 'expired'>('approved', 'approved', 'expired'),
  {
    minLength: 1,
    maxLength: 8,
  },
);
const cutsArb = fc.array(fc.record({ at: fc.nat({ max: 100_000 }), abrupt: fc.boolean() }), {
  maxLength: 6,
});
const chunksArb = fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 5 });

describe('stream resumption under arbitrary cuts', () => {
  it('delivers every outcome exactly once and resumes from the last complete event', async () => {
    await fc.assert(
      fc.asyncProperty(kindsArb, cutsArb, chunksArb, async (kinds, cuts, chunks) => {
        await runScenario(kinds, cuts, chunks, true);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('still delivers exactly once when a server ignores Last-Event-ID and replays everything', async () => {
    await fc.assert(
      fc.asyncProperty(kindsArb, cutsArb, chunksArb, async (kinds, cuts, chunks) => {
        await runScenario(kinds, cuts, chunks, false);
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
