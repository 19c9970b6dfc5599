// API answers the reference Core never gives (hosted 200 instead of 201,
// broken shapes, 429 on a non-idempotent call), served by msw through the
// SDK's default transport — which proves it reads the global fetch per call.
import { InvalidResponseError, LimeSite, RateLimitError, ValidationError } from 'lime-sites-sdk';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const BASE = 'https://hosted.example/api/v1';
const server = setupServer();
const sites: LimeSite[] = [];
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(async () => {
  server.resetHandlers();
  await Promise.all(sites.splice(0).map((s) => s.close()));
});
afterAll(() => server.close());

const make = () => {
  const s = new LimeSite({ siteToken: 'st_msw', apiBase: BASE });
  sites.push(s);
  return s;
};

describe('login and binding requests over the default transport', () => {
  it('accepts the hosted 200 answer and sends the site token', async () => {
    let token: string | null = null;
    server.use(
      http.post(`${BASE}/modules/agent-login/requests`, ({ request }) => {
        token = request.headers.get('x-site-token');
        return HttpResponse.json({
          ok: true,
          data: {
            login_request_id: 'lr_hosted',
            status: 'PENDING',
            expires_at: '2030-01-01T00:00:00Z',
          },
        });
      }),
    );
    const request = await make().createLoginRequest({ listen: false });
    expect(request).toEqual({
      loginRequestId: 'lr_hosted',
      status: 'PENDING',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    expect(token).toBe('st_msw');
  });

  it.each([
    ['no login_request_id', { status: 'PENDING', expires_at: '2030-01-01T00:00:00Z' }],
    ['expires_at not a time', { login_request_id: 'lr_1', expires_at: 'soon' }],
  ])('refuses an answer with %s', async (_name, data) => {
    server.use(
      http.post(`${BASE}/modules/agent-login/requests`, () =>
        HttpResponse.json({ ok: true, data }),
      ),
    );
    await expect(make().createLoginRequest({ listen: false })).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
  });

  it('never retries creating a request, even on 429', async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/modules/agent-login/requests`, () => {
        calls++;
        return HttpResponse.json(
          { ok: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } },
          { status: 429, headers: { 'retry-after': '3' } },
        );
      }),
    );
    const error = await make()
      .createLoginRequest({ listen: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(3);
    expect(calls).toBe(1);
  });

  it('creates a binding request; refuses a relative redirectUri before any call', async () => {
    let body: unknown;
    server.use(
      http.post(`${BASE}/modules/bindings/requests`, async ({ request }) => {
        body = await request.json();
        return HttpResponse.json(
          {
            ok: true,
            data: {
              binding_id: 'bd_1',
              connect_url: 'https://lime.pics/connect/bd_1',
              status: 'PENDING',
              expires_at: '2030-01-01T00:00:00Z',
            },
          },
          { status: 201 },
        );
      }),
    );
    const site = make();
    const binding = await site.createBindingRequest({ redirectUri: 'https://site.example/bound' });
    expect(binding.bindingId).toBe('bd_1');
    expect(binding.connectUrl).toBe('https://lime.pics/connect/bd_1');
    expect(body).toEqual({ redirect_uri: 'https://site.example/bound' });
    await expect(site.createBindingRequest({ redirectUri: '/bound' })).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it('maps a 400 VALIDATION_ERROR to ValidationError', async () => {
    server.use(
      http.post(`${BASE}/modules/bindings/requests`, () =>
        HttpResponse.json(
          { ok: false, error: { code: 'VALIDATION_ERROR', message: 'redirect_uri must be https' } },
          { status: 400 },
        ),
      ),
    );
    await expect(
      make().createBindingRequest({ redirectUri: 'http://site.example/x' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
