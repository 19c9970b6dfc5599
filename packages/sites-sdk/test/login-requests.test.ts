// Unit tests of src/internal/login-requests.ts: the request endpoints and the
// shapes it accepts from the Core, behind a fake fetch.
import { HttpClient, InvalidResponseError } from '@lime/wire';
import { LoginRequestNotFoundError } from 'lime-sites-sdk';
import { describe, expect, it } from 'vitest';
import { LoginRequests, requireDate } from '../src/internal/login-requests.js';
import { API_BASE, fakeCore, json } from './helpers/fake-fetch.js';

function requests(answer: (url: string, init: RequestInit | undefined) => Response) {
  const core = fakeCore({ other: answer });
  const http = new HttpClient({
    apiBase: API_BASE,
    headers: {},
    timeoutMs: 5_000,
    maxRetries: 0,
    fetch: core.fetch,
  });
  return { requests: new LoginRequests(http), core };
}

const EXPIRES = '2030-01-01T00:00:00Z';

describe('LoginRequests', () => {
  it('creates a login request and reads the answer', async () => {
    const { requests: r, core } = requests(() =>
      json({
        ok: true,
        data: { login_request_id: 'lr_1', status: 'PENDING', expires_at: EXPIRES },
      }),
    );
    await expect(r.create(undefined)).resolves.toEqual({
      loginRequestId: 'lr_1',
      status: 'PENDING',
      expiresAt: new Date(EXPIRES),
    });
    expect(core.calls.other).toHaveLength(1);
  });

  it('refuses an answer without the protocol fields', async () => {
    const { requests: r } = requests(() => json({ ok: true, data: { status: 'PENDING' } }));
    await expect(r.create(undefined)).rejects.toBeInstanceOf(InvalidResponseError);
    expect(() => requireDate({ at: 'yesterday' }, 'at', '/x')).toThrow(/expected an RFC 3339 time/);
  });

  it('maps an unknown id to LoginRequestNotFoundError, and reads a status', async () => {
    const { requests: r } = requests((url) =>
      url.endsWith('/lr_gone')
        ? json({ ok: false, error: { code: 'REQUEST_NOT_FOUND', message: 'no' } }, 404)
        : json({ ok: true, data: { status: 'APPROVED', expires_at: 'not a date' } }),
    );
    await expect(r.get('lr_gone', undefined)).rejects.toBeInstanceOf(LoginRequestNotFoundError);
    await expect(r.get('lr_1', undefined)).resolves.toMatchObject({
      loginRequestId: 'lr_1',
      status: 'APPROVED',
      expiresAt: undefined,
    });
    await expect(r.get('', undefined)).rejects.toThrow(TypeError);
  });

  it('creates a binding request only for an absolute http(s) redirect', async () => {
    const { requests: r, core } = requests(() =>
      json({
        ok: true,
        data: {
          binding_id: 'b_1',
          connect_url: 'https://x/c',
          status: 'PENDING',
          expires_at: EXPIRES,
        },
      }),
    );
    await expect(r.createBinding('/relative', undefined)).rejects.toThrow(TypeError);
    expect(core.calls.other).toHaveLength(0);
    await expect(r.createBinding('https://site.test/bound', undefined)).resolves.toMatchObject({
      bindingId: 'b_1',
      connectUrl: 'https://x/c',
    });
  });
});
