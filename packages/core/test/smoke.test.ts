import { PATHS } from '@lime/wire';
import { type Core, startCore } from 'lime-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { httpClient, openStream } from './helpers.js';

let core: Core;
const http = httpClient();
beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
});
afterAll(async () => {
  await core.close();
  await http.close();
});

test('a login round trip', async () => {
  const { siteToken } = await core.admin.createSite({ name: 'x' });
  const { agentToken, agentId } = await core.admin.createAgent({ displayName: 'bot' });
  const created = await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
    headers: { 'x-site-token': siteToken },
    body: {},
  });
  expect(created.status).toBe(201);
  const id = created.json.data.login_request_id;
  const ch = await http.call('GET', core.apiBase + PATHS.loginChallenge(id));
  expect(ch.status).toBe(200);
  expect(ch.json.data.pow_challenge).toMatch(/^[0-9a-f]{64}$/);
  const ap = await http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
    headers: { 'x-agent-token': agentToken },
    body: { pow_nonce: '0' },
  });
  expect(ap.status).toBe(200);
  expect(ap.json.data.approved_agent_id).toBe(agentId);
});

test('the site stream receives the passport', async () => {
  const { siteToken } = await core.admin.createSite({ name: 'x' });
  const { agentToken } = await core.admin.createAgent({ displayName: 'bot' });
  const stream = await openStream(core.apiBase + PATHS.loginEvents, siteToken);
  expect(stream.status).toBe(200);
  const created = await http.call('POST', core.apiBase + PATHS.createLoginRequest, {
    headers: { 'x-site-token': siteToken },
    body: {},
  });
  const id = created.json.data.login_request_id;
  await http.call('POST', core.apiBase + PATHS.approveLoginRequest(id), {
    headers: { 'x-agent-token': agentToken },
    body: { pow_nonce: '0' },
  });
  const msgs = await stream.until((m) => m.some((x) => x.data.type === 'approved'));
  expect(msgs[0]!.id).toBe('1');
  expect(stream.retry).toBe(1000);
  await stream.close();
});
