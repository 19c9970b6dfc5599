// The default transport (global fetch + keep-alive undici Agent) against a
// plain node:http server: connection reuse, a stalled body, close().
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LimeAgent, TimeoutError } from 'lime-agents-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: Server;
let base: string;
let sockets = 0;
const open = new Set<import('node:net').Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/stall')) {
      // Headers and half a body, then nothing.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":true,"data":{');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, data: { agent_id: 'ag_1', display_name: 'x' } }));
  });
  server.on('connection', (s) => {
    sockets++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('default transport', () => {
  it('reuses keep-alive connections for sequential calls, and close() releases them', async () => {
    const before = sockets;
    const agent = new LimeAgent({ agentToken: 'at_x_0123456789', apiBase: base });
    for (let i = 0; i < 10; i++) {
      await expect(agent.getProfile()).resolves.toMatchObject({ agentId: 'ag_1' });
    }
    // undici may hand the next request a second socket while the first is
    // being released, but never one per request.
    expect(sockets - before).toBeLessThanOrEqual(2);
    expect(open.size).toBeGreaterThan(0);
    await agent.close();
    for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(open.size).toBe(0);
  });

  it('a body that stalls after the headers is a TimeoutError after `timeout`', async () => {
    await using agent = new LimeAgent({
      agentToken: 'at_x_0123456789',
      apiBase: `${base}/stall`,
      timeout: 200,
      maxRetries: 0,
    });
    const started = performance.now();
    // Any GET under the stalled base: the profile path is appended to it.
    await expect(agent.getProfile()).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
