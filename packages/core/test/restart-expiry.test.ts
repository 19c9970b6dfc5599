// A Core restarted on a reused store expires the login requests an earlier
// Core left pending: on time, with their `expired` events (§3.5).
import { PATHS } from '@lime/wire';
import { MemoryStore } from 'lime-core';
import { afterAll, expect, test } from 'vitest';
import {
  createRequest,
  httpClient,
  openStream,
  provision,
  significant,
  startTestCore,
} from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

test('pending requests of an earlier Core expire after a restart, with `expired` events', async () => {
  const store = new MemoryStore();
  const local = { now: Date.now() };
  const options = {
    powDifficulty: 0,
    store,
    clock: () => local.now,
    requestTtlMs: 60_000,
    sweepIntervalMs: 3_600_000,
  };
  const first = await startTestCore(options);
  const { site } = await provision(first);
  const ids = [
    await createRequest(http, first, site.siteToken),
    await createRequest(http, first, site.siteToken),
  ];
  await first.close();

  const second = await startTestCore(options);
  try {
    const stream = await openStream(second.apiBase + PATHS.loginEvents, site.siteToken);
    expect(await second.admin.sweep()).toEqual({ expired: 0 }); // not due yet
    local.now += 60_000;
    expect(await second.admin.sweep()).toEqual({ expired: 2 });
    const got = significant(await stream.until((m) => significant(m).length >= 2));
    expect(got.map((m) => m.data)).toEqual(
      ids.map((id) => ({ type: 'expired', login_request_id: id })),
    );
    for (const id of ids) expect((await store.getLoginRequest(id))?.status).toBe('EXPIRED');
    await stream.close();
    // Once expired, retention forgets them like any finished request.
    local.now += 3_600_000;
    await second.admin.sweep();
    for (const id of ids) expect(await store.getLoginRequest(id)).toBeUndefined();
  } finally {
    await second.close();
  }
});
