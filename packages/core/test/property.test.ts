// Arbitrary methods, paths, ids, headers, nonces and bodies against every
// endpoint: never a 5xx, always an envelope or the documented raw shape, and
// a refused request never changes stored state.
import {
  isFailureEnvelope,
  isOAuthErrorBody,
  isSuccessEnvelope,
  OAUTH_TOKEN_RESPONSE_KEYS,
  PATHS,
} from '@lime/wire';
import fc from 'fast-check';
import { type Core, MemoryStore } from 'lime-core';
import { request } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRequest, httpClient, provision, startTestCore } from './helpers.js';

/** Counts every call that may change state. */
class CountingStore extends MemoryStore {
  mutations = 0;
  constructor() {
    super();
    for (const name of [
      'putSite',
      'updateSite',
      'putAgent',
      'updateAgent',
      'putLoginRequest',
      'transitionLoginRequest',
      'putBinding',
      'transitionBinding',
      'appendEvent',
    ] as const) {
      const original = this[name].bind(this) as (...a: unknown[]) => Promise<unknown>;
      (this as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const result = await original(...args);
        // An update or transition that matched nothing changed nothing.
        if (name.startsWith('put') || name === 'appendEvent' || result !== undefined) {
          this.mutations++;
        }
        return result;
      };
    }
  }
}

const http = httpClient();
const store = new CountingStore();
let core: Core;
let siteToken: string;
let agentToken: string;
let agentId: string;
let pendingId: string;

beforeAll(async () => {
  core = await startTestCore({ powDifficulty: 8, store });
  const p = await provision(core);
  siteToken = p.site.siteToken;
  agentToken = p.agent.agentToken;
  agentId = p.agent.agentId;
  pendingId = await createRequest(http, core, siteToken);
});
afterAll(async () => {
  await core.close();
  await http.close();
});

const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const id = fc.oneof(
  fc.constant('__pending__'),
  fc.constant('__agent__'),
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^lr_[A-Za-z0-9_-]{0,30}$/),
);
const token = (kind: 'site' | 'agent') =>
  fc.oneof(
    fc.constant(undefined),
    { arbitrary: fc.constant(kind === 'site' ? '__site__' : '__agent__'), weight: 5 },
    fc.constant(kind === 'site' ? '__agent__' : '__site__'),
    printable,
    fc.stringMatching(/^(at|st)_[A-Za-z0-9_-]{43}$/),
  );
const nonce = fc.oneof(
  fc.jsonValue(),
  fc.stringMatching(/^-?[0-9]{0,20}$/),
  fc.bigInt({ min: 0n, max: 2n ** 60n }).map(String),
  printable,
);
const anyValue = fc.oneof(printable, fc.jsonValue());
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 80 }),
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          pow_nonce: nonce,
          domain: fc.oneof(fc.domain(), anyValue),
          resource: fc.oneof(fc.webUrl(), anyValue),
          redirect_uri: fc.oneof(fc.webUrl(), anyValue),
          redirect_url: fc.oneof(fc.webUrl(), anyValue),
          name: anyValue,
          display_name: anyValue,
          user_kyc_level: anyValue,
          agent_reputation: anyValue,
          difficulty: fc.oneof(fc.integer({ min: -2, max: 70 }), anyValue),
          allowed: anyValue,
          agent_id: fc.oneof(fc.constant('__agent__'), anyValue),
          activate: anyValue,
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v).replaceAll('"__agent__"', JSON.stringify(agentId))),
  },
);

const enc = encodeURIComponent;
const endpoints: Array<(id: string) => string> = [
  () => `/api/v1${PATHS.createLoginRequest}`,
  (i) => `/api/v1${PATHS.loginChallenge(i)}`,
  (i) => `/api/v1${PATHS.approveLoginRequest(i)}`,
  () => `/api/v1${PATHS.loginEvents}`,
  () => `/api/v1${PATHS.agentProfile}`,
  () => `/api/v1${PATHS.createBindingRequest}`,
  () => `/api/v1${PATHS.jwks}`,
  () => `/api/v1${PATHS.oauthToken}`,
  () => `/api/v1${PATHS.oauthMetadata}`,
  () => '/.well-known/oauth-authorization-server',
  (i) => `/connect/bindings/${enc(i)}`,
  () => '/admin/v1/sites',
  () => '/admin/v1/agents',
  (i) => `/admin/v1/sites/${enc(i)}/suspend`,
  (i) => `/admin/v1/agents/${enc(i)}/oauth`,
  (i) => `/admin/v1/bindings/${enc(i)}/complete`,
  () => '/admin/v1/pow-difficulty',
  (i) => `/admin/v1/signing-keys/${enc(i)}/retire`,
  (i) => `/admin/v1/login-requests/${enc(i)}/expire`,
  (i) => `/${enc(i)}`,
  (i) => `/api/v1/modules/${enc(i)}/requests`,
  (i) => `/api/v1${PATHS.loginRequest(i)}`,
];

/** Indexes of the endpoints whose natural method is GET. */
const NATURAL_GET = new Set([1, 3, 4, 6, 8, 9, 10, 19, 20, 21]);

const isRawShape = (path: string, status: number, json: Record<string, unknown>) => {
  if (path.endsWith(PATHS.jwks)) return Array.isArray(json.keys) && isSuccessEnvelope(json);
  if (path.includes('oauth-authorization-server')) return typeof json.issuer === 'string';
  if (path.endsWith(PATHS.oauthToken)) {
    if (status === 200) {
      return Object.keys(json).sort().join() === [...OAUTH_TOKEN_RESPONSE_KEYS].sort().join();
    }
    return isOAuthErrorBody(json) || isFailureEnvelope(json);
  }
  return false;
};

test.each(endpoints.map((e, i) => [e('{id}'), i] as const))(
  '%s: never a 5xx, always the documented shape, no state change when refused',
  async (_name, endpoint) => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.oneof(
            { arbitrary: fc.constant('natural'), weight: 6 },
            fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
          ),
          id,
          site: token('site'),
          agent: token('agent'),
          admin: fc.oneof(
            fc.constant(undefined),
            { arbitrary: fc.constant('__admin__'), weight: 4 },
            printable,
          ),
          contentType: fc.constantFrom(
            undefined,
            'application/json',
            'application/json',
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/merge-patch+json',
          ),
          lastEventId: fc.oneof(fc.constant(undefined), printable, fc.nat().map(String)),
          body,
        }),
        async (r) => {
          const c = { ...r, endpoint };
          const resolveId = (v: string) =>
            v === '__pending__' ? pendingId : v === '__agent__' ? agentId : v;
          const path = endpoints[c.endpoint]!(resolveId(c.id));
          const headers: Record<string, string> = {};
          const sub = (v: string) =>
            v === '__site__' ? siteToken : v === '__agent__' ? agentToken : v;
          if (c.site !== undefined) headers['x-site-token'] = sub(c.site);
          if (c.agent !== undefined) headers['x-agent-token'] = sub(c.agent);
          if (c.admin !== undefined) {
            headers.authorization = `Bearer ${c.admin === '__admin__' ? core.adminToken : c.admin}`;
          }
          if (c.contentType !== undefined) headers['content-type'] = c.contentType;
          if (c.lastEventId !== undefined) headers['last-event-id'] = c.lastEventId;
          const method =
            c.method === 'natural' ? (NATURAL_GET.has(c.endpoint) ? 'GET' : 'POST') : c.method;
          const hasBody = c.body !== undefined && method !== 'GET';
          const before = store.mutations;
          const res = await request(core.url + path, {
            method: method as 'GET',
            headers,
            ...(hasBody ? { body: c.body } : {}),
            dispatcher: http.dispatcher,
          });
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode === 200 && type.startsWith('text/event-stream')) {
            res.body.destroy();
            return;
          }
          const text = await res.body.text();
          expect(res.statusCode, text).toBeLessThan(500);
          expect(type).toMatch(/^application\/json/);
          expect(res.headers['x-request-id']).toBeTruthy();
          const json = JSON.parse(text) as Record<string, unknown>;
          const documented =
            isRawShape(path, res.statusCode, json) ||
            (res.statusCode < 300 ? isSuccessEnvelope(json) : isFailureEnvelope(json));
          expect(documented, `${method} ${path} → ${res.statusCode} ${text}`).toBe(true);
          if (res.statusCode >= 400) {
            expect(store.mutations, `${method} ${path} → ${res.statusCode} changed state`).toBe(
              before,
            );
            if (res.statusCode === 405) expect(res.headers.allow).toBeTruthy();
          }
          // Keep a pending request around for the next run.
          const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(pendingId));
          if (ch.json?.data?.status !== 'PENDING') {
            pendingId = await createRequest(http, core, siteToken).catch(() => pendingId);
          }
        },
      ),
      { numRuns: 40 },
    );
  },
);

test('raw garbage on the socket gets a 400 envelope, and the Core keeps serving', async () => {
  const net = await import('node:net');
  const { port } = new URL(core.url);
  for (const garbage of [
    '\x00\x01\x02\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'NOT HTTP AT ALL\r\n\r\n',
  ]) {
    const reply = await new Promise<string>((resolve) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => sock.write(garbage));
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      sock.on('close', () => resolve(data));
      sock.on('error', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 4\d\d/);
    if (reply.includes('\r\n\r\n')) {
      const payload = reply.slice(reply.indexOf('\r\n\r\n') + 4);
      expect(isFailureEnvelope(JSON.parse(payload))).toBe(true);
    }
  }
  const huge = await http.call('GET', core.apiBase + PATHS.jwks, {
    headers: { 'x-padding': 'p'.repeat(20_000) },
  });
  expect(huge.status).toBe(431);
  expect(isFailureEnvelope(huge.json)).toBe(true);
  const ok = await http.call('GET', core.apiBase + PATHS.jwks);
  expect(ok.status).toBe(200);
});
