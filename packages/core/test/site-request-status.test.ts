// PROTOCOL.md §3.1b: a site reads the status of its own login requests.
// PENDING → APPROVED/DELIVERED, or EXPIRED; another site's id is a 404 like
// an unknown one; credentials as on every other site route.
import { PATHS } from '@lime/wire';
import type { Core } from 'lime-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  approve,
  createRequest,
  type HttpResult,
  httpClient,
  openStream,
  provision,
  startTestCore,
} from './helpers.js';

const http = httpClient();
let offset = 0;
let core: Core;

beforeAll(async () => {
  core = await startTestCore({ powDifficulty: 0, clock: () => Date.now() + offset });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

const status = (id: string, siteToken?: string) =>
  http.call('GET', core.apiBase + PATHS.loginRequest(id), {
    headers: siteToken === undefined ? {} : { 'x-site-token': siteToken },
  });

function expectFailure(r: HttpResult, code: number, errorCode: string) {
  expect(r.status, r.text).toBe(code);
  expect(r.json.ok).toBe(false);
  expect(r.json.error.code).toBe(errorCode);
}

describe('GET /modules/agent-login/requests/{id}', () => {
  test('PENDING after create: login_request_id, status, expires_at as created', async () => {
    const { site } = await provision(core);
    const created = await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
      headers: { 'x-site-token': site.siteToken },
      body: {},
    });
    const id = created.json.data.login_request_id;
    const r = await status(id, site.siteToken);
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json).toEqual({
      ok: true,
      data: { login_request_id: id, status: 'PENDING', expires_at: created.json.data.expires_at },
    });
  });

  test('APPROVED without a stream, with approved_at and approved_agent_id', async () => {
    const { site, agent } = await provision(core);
    const id = await createRequest(http, core, site.siteToken);
    const before = Date.now();
    expect((await approve(http, core, id, agent.agentToken)).status).toBe(200);
    const r = await status(id, site.siteToken);
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({
      login_request_id: id,
      status: 'APPROVED',
      approved_agent_id: agent.agentId,
    });
    const at = Date.parse(r.json.data.approved_at);
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  test('DELIVERED once a connection of the site received the passport', async () => {
    const { site, agent } = await provision(core);
    const stream = await openStream(core.apiBase + PATHS.loginEvents, site.siteToken);
    const id = await createRequest(http, core, site.siteToken);
    await approve(http, core, id, agent.agentToken);
    await stream.until((m) => m.some((e) => e.data?.type === 'approved'));
    const r = await status(id, site.siteToken);
    expect(r.json.data.status).toBe('DELIVERED');
    expect(r.json.data.approved_agent_id).toBe(agent.agentId);
    await stream.close();
  });

  test('EXPIRED once its time has come, without waiting for the sweep', async () => {
    const { site } = await provision(core);
    const id = await createRequest(http, core, site.siteToken);
    offset += 301_000;
    try {
      const r = await status(id, site.siteToken);
      expect(r.status).toBe(200);
      expect(r.json.data.status).toBe('EXPIRED');
      expect(r.json.data).not.toHaveProperty('approved_at');
      expect(r.json.data).not.toHaveProperty('approved_agent_id');
    } finally {
      offset -= 301_000;
    }
  });

  test("another site's request is a 404 exactly like an unknown id", async () => {
    const { site } = await provision(core);
    const other = await core.admin.createSite({ name: 'other' });
    const id = await createRequest(http, core, site.siteToken);
    const foreign = await status(id, other.siteToken);
    const unknown = await status('lr_does_not_exist', other.siteToken);
    expectFailure(foreign, 404, 'REQUEST_NOT_FOUND');
    expectFailure(unknown, 404, 'REQUEST_NOT_FOUND');
    expect(foreign.json.error).toEqual(unknown.json.error);
    // The owner still sees it, untouched.
    expect((await status(id, site.siteToken)).json.data.status).toBe('PENDING');
  });

  test('credentials: 401 missing/invalid, 403 suspended, agent token refused', async () => {
    const { site, agent } = await provision(core);
    const id = await createRequest(http, core, site.siteToken);
    expectFailure(await status(id), 401, 'SITE_TOKEN_MISSING');
    expectFailure(await status(id, `st_${'x'.repeat(43)}`), 401, 'SITE_TOKEN_INVALID');
    expectFailure(await status(id, agent.agentToken), 401, 'SITE_TOKEN_INVALID');
    // Credentials are checked before the id: an unknown id without a token is a 401 too.
    expectFailure(await status('lr_nope'), 401, 'SITE_TOKEN_MISSING');
    await core.admin.suspendSite(site.siteId);
    expectFailure(await status(id, site.siteToken), 403, 'SITE_SUSPENDED');
  });

  test('the route answers GET only', async () => {
    const { site } = await provision(core);
    const id = await createRequest(http, core, site.siteToken);
    const r = await http.call('DELETE', core.apiBase + PATHS.loginRequest(id), {
      headers: { 'x-site-token': site.siteToken },
    });
    expectFailure(r, 405, 'METHOD_NOT_ALLOWED');
    expect(r.headers.allow).toBe('GET');
  });
});
