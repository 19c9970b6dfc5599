// Every request the Core can parse gets the §2 envelope, also those Node
// answers on its own by default: no Host, an unknown Expect, CONNECT.
import { connect } from 'node:net';
import { isFailureEnvelope } from '@lime/wire';
import type { Core } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestCore } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await startTestCore({ powDifficulty: 0 });
});
afterAll(() => core.close());

/** Send raw bytes, read until the server closes (or 2 s pass). */
function rawExchange(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(core.port, '127.0.0.1', () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, 2_000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
  });
}

function parse(raw: string) {
  const cut = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, cut);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
    }),
  );
  return {
    status: Number(statusLine?.split(' ')[1]),
    headers,
    body: JSON.parse(raw.slice(cut + 4)),
  };
}

describe('requests Node would answer without the envelope', () => {
  test('HTTP/1.1 without Host → 400 VALIDATION_ERROR (field Host)', async () => {
    const r = parse(await rawExchange('GET /api/v1/core/.well-known/jwks.json HTTP/1.1\r\n\r\n'));
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(isFailureEnvelope(r.body)).toBe(true);
    expect(r.body.error).toMatchObject({ code: 'VALIDATION_ERROR', detail: { field: 'Host' } });
    expect(r.headers['x-request-id']).toMatch(/\S/);
  });

  test('HTTP/1.0 without Host is still served', async () => {
    const raw = await rawExchange('GET /api/v1/core/.well-known/jwks.json HTTP/1.0\r\n\r\n');
    expect(parse(raw).status).toBe(200);
  });

  test('an unknown Expect → 417 EXPECTATION_FAILED', async () => {
    const r = parse(
      await rawExchange(
        'POST /api/v1/modules/agent-login/requests HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}',
      ),
    );
    expect(r.status).toBe(417);
    expect(isFailureEnvelope(r.body)).toBe(true);
    expect(r.body.error.code).toBe('EXPECTATION_FAILED');
    expect(r.headers['x-request-id']).toMatch(/\S/);
  });

  test('CONNECT → 405 METHOD_NOT_ALLOWED', async () => {
    const r = parse(
      await rawExchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
    );
    expect(r.status).toBe(405);
    expect(isFailureEnvelope(r.body)).toBe(true);
    expect(r.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  test('Expect: 100-continue still works', async () => {
    const raw = await rawExchange(
      'GET /api/v1/core/.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    expect(raw).toContain('HTTP/1.1 200 OK');
  });
});
