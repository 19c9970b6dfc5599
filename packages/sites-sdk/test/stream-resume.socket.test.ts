// The same exactly-once property over real sockets: a node:http SSE server
// that writes the stream in chunks and then ends it or destroys the socket at
// an arbitrary byte offset, honouring Last-Event-ID; the SDK uses its default
// transport (global fetch + undici Agent).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, until } from './helpers/fake-fetch.js';
import { jwks, mintPassport, rsaKey } from './helpers/tokens.js';

const key = rsaKey('k1');
const encoder = new TextEncoder();

interface Scenario {
  log: Array<{ id: number; requestId: string; bytes: string }>;
  cuts: Array<{ at: number; abrupt: boolean }>;
  chunk: number;
  lastIds: Array<string | null>;
}
let scenario: Scenario | undefined;
let server: Server;
let apiBase: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.endsWith('/core/.well-known/jwks.json')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks(key)));
      return;
    }
    if (!req.url?.endsWith('/modules/agent-login/events') || !scenario) {
      res.writeHead(404).end();
      return;
    }
    const s = scenario;
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : null;
    const index = s.lastIds.length;
    s.lastIds.push(lastEventId);
    const last = lastEventId === null ? 0 : Number(lastEventId);
    let text = 'retry: 1\n\n';
    for (const e of s.log) if (e.id > last) text += e.bytes;
    const bytes = encoder.encode(text);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const cut = s.cuts[index];
    const end = cut ? cut.at % (bytes.length + 1) : bytes.length;
    for (let offset = 0; offset < end; offset += s.chunk) {
      res.write(bytes.slice(offset, Math.min(end, offset + s.chunk)));
    }
    if (!cut) return; // the last connection stays open
    if (cut.abrupt) res.write('', () => res.socket?.destroy());
    else res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('stream resumption over real sockets', () => {
  it('delivers every outcome exactly once across ended and reset connections', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ at: fc.nat({ max: 50_000 }), abrupt: fc.boolean() }), {
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 900 }),
        async (approvals, cuts, chunk) => {
          const log = approvals.map((isApproval, i) => {
            const requestId = `lr_${i + 1}_${Math.random().toString(36).slice(2, 8)}`;
            const data = isApproval
              ? {
                  type: 'approved',
                  login_request_id: requestId,
                  agent_passport_jwt: mintPassport({ request_id: requestId }, key),
                  redirect_url: `https://site.example/ünïcode/${i}`,
                }
              : { type: 'expired', login_request_id: requestId };
            return {
              id: i + 1,
              requestId,
              bytes: frame({ type: 'keepalive' }) + frame(data, i + 1),
            };
          });
          scenario = { log, cuts, chunk, lastIds: [] };
          const site = new LimeSite({
            siteToken: 'st_test',
            apiBase,
            reconnectMinDelay: 0,
            reconnectMaxDelay: 2,
          });
          try {
            const delivered: string[] = [];
            site.onLogin((requestId) => {
              delivered.push(requestId);
            });
            await until(
              () => delivered.length >= log.length && scenario!.lastIds.length > cuts.length,
              10_000,
            );
            await new Promise((r) => setTimeout(r, 20));
            expect([...delivered].sort()).toEqual(log.map((e) => e.requestId).sort());
          } finally {
            await site.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);
});
