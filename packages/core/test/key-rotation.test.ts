// PROTOCOL.md §6 key rotation, timed by the Core: a new key is published
// before it signs (longer than the verifiers' refetch intervals), a retired
// key stays published for the longest token lifetime plus skew, and the
// published set stays small, newest first.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { PATHS } from '@lime/wire';
import { decodeProtectedHeader } from 'jose';
import type { Core } from 'lime-core';
import { afterAll, describe, expect, test } from 'vitest';
import { SigningKeyring } from '../src/internal/signing-keys.js';
import { httpClient, provision, startTestCore } from './helpers.js';

const http = httpClient();
afterAll(() => http.close());

async function publishedKids(c: Core): Promise<string[]> {
  const r = await http.call('GET', c.apiBase + PATHS.jwks);
  return r.json.keys.map((k: { kid: string }) => k.kid);
}

async function freshTokenKid(c: Core, agentToken: string): Promise<string> {
  const r = await http.call('POST', c.apiBase + PATHS.oauthToken, {
    headers: { 'x-agent-token': agentToken },
    body: { domain: 'mcp.example.com' },
  });
  return decodeProtectedHeader(r.json.access_token).kid!;
}

describe('rotation by default', () => {
  test('publishes at once, signs after 65 s, unpublishes the old key 600 s after', async () => {
    const local = { now: Date.now() };
    const c = await startTestCore({ powDifficulty: 0, clock: () => local.now });
    try {
      const { agent } = await provision(c);
      const first = (await c.admin.signingKeys()).activeKid;
      const { kid, activatesAt } = await c.admin.rotateSigningKey();
      expect(activatesAt).toBe(local.now + 65_000);
      expect(await publishedKids(c)).toEqual([kid, first]); // newest first
      expect(await c.admin.signingKeys()).toMatchObject({
        activeKid: first,
        scheduled: { kid, activatesAt },
      });
      local.now += 64_999;
      expect(await freshTokenKid(c, agent.agentToken)).toBe(first);
      local.now += 1;
      expect(await freshTokenKid(c, agent.agentToken)).toBe(kid);
      expect(await publishedKids(c)).toEqual([kid, first]);
      // MCP token 300 s + 300 s of skew after the old key stopped signing.
      local.now += 599_999;
      expect(await publishedKids(c)).toEqual([kid, first]);
      local.now += 1;
      expect(await publishedKids(c)).toEqual([kid]);
    } finally {
      await c.close();
    }
  });

  test("'now' (or true) signs at once; a new scheduled rotation supersedes an unused one", async () => {
    const local = { now: Date.now() };
    const c = await startTestCore({ powDifficulty: 0, clock: () => local.now });
    try {
      const { agent } = await provision(c);
      const a = await c.admin.rotateSigningKey({ activate: 'now' });
      expect(a.activatesAt).toBeNull();
      expect(await freshTokenKid(c, agent.agentToken)).toBe(a.kid);
      const b = await c.admin.rotateSigningKey({ activate: true });
      expect(await freshTokenKid(c, agent.agentToken)).toBe(b.kid);
      const unused = await c.admin.rotateSigningKey();
      const next = await c.admin.rotateSigningKey();
      const kids = await publishedKids(c);
      expect(kids[0]).toBe(next.kid);
      expect(kids).not.toContain(unused.kid); // never signed: safe to drop
      await expect(c.admin.rotateSigningKey({ activate: 'later' as never })).rejects.toMatchObject({
        status: 400,
        code: 'VALIDATION_ERROR',
      });
    } finally {
      await c.close();
    }
  });
});

/** Published kids of the keyring, after checking the JWKS serves the same, in the same order. */
function kidsOf(ring: SigningKeyring): string[] {
  const kids = ring.publishedKids();
  expect(JSON.parse(ring.jwksJson()).keys.map((k: { kid: string }) => k.kid)).toEqual(kids);
  return kids;
}

test('100 rotations in a row: the set stays small, newest first, a fresh token’s kid is published', async () => {
  const local = { now: Date.now() };
  // Small keys: this is about the schedule, not about RSA (rotations over HTTP below).
  const generate = () =>
    new Promise<KeyObject>((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 512 }, (err, _pub, priv) =>
        err ? reject(err) : resolve(priv),
      ),
    );
  const ring = await SigningKeyring.create(2048, await generate(), {
    typ: true,
    jwksShape: 'combined',
    clock: () => local.now,
    activationDelayMs: 65_000,
    retireAfterMs: 600_000,
    maxPublished: 4,
    generate,
  });
  const rotated: string[] = [];
  let largest = 0;
  for (let i = 0; i < 100; i++) {
    // Every way of rotating, at intervals from seconds to minutes.
    const activation = (['scheduled', 'now', false] as const)[i % 3]!;
    const { kid } = await ring.rotate(activation);
    rotated.push(kid);
    local.now += [7_000, 30_000, 70_000, 700_000][i % 4]!;
    const kids = kidsOf(ring);
    largest = Math.max(largest, kids.length);
    expect(kids.length).toBeLessThanOrEqual(4);
    expect(kids[0]).toBe(kid); // newest first
    const order = kids.map((k) => rotated.lastIndexOf(k)).filter((n) => n >= 0);
    expect(order).toEqual([...order].sort((x, y) => y - x));
    const token = await ring.sign({ i });
    expect(kids).toContain(decodeProtectedHeader(token).kid);
  }
  expect(largest).toBeGreaterThanOrEqual(3);
});

test('rotations over HTTP: the JWKS stays small and newest first', async () => {
  const local = { now: Date.now() };
  const c = await startTestCore({ powDifficulty: 0, clock: () => local.now });
  try {
    const { agent } = await provision(c);
    const rotated: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { kid } = await c.admin.rotateSigningKey(
        i % 3 === 0 ? {} : { activate: i % 3 === 1 ? 'now' : false },
      );
      rotated.push(kid);
      local.now += 70_000;
      const kids = await publishedKids(c);
      expect(kids.length).toBeLessThanOrEqual(4);
      expect(kids[0]).toBe(kid);
      expect(kids).toContain(await freshTokenKid(c, agent.agentToken));
    }
    expect((await c.admin.signingKeys()).publishedKids).toEqual(await publishedKids(c));
  } finally {
    await c.close();
  }
}, 60_000);

test('the delays, the retirement and the cap are options', async () => {
  const local = { now: Date.now() };
  const c = await startTestCore({
    powDifficulty: 0,
    clock: () => local.now,
    signingKeyActivationDelayMs: 1_000,
    signingKeyRetireAfterMs: 2_000,
    maxPublishedSigningKeys: 2,
  });
  try {
    const { agent } = await provision(c);
    const first = (await c.admin.signingKeys()).activeKid;
    const { kid } = await c.admin.rotateSigningKey();
    local.now += 1_000;
    expect(await freshTokenKid(c, agent.agentToken)).toBe(kid);
    local.now += 2_000;
    expect(await publishedKids(c)).toEqual([kid]);
    const a = await c.admin.rotateSigningKey({ activate: 'now' });
    const b = await c.admin.rotateSigningKey({ activate: 'now' });
    expect(await publishedKids(c)).toEqual([b.kid, a.kid]);
    expect(first).not.toBe(kid);
  } finally {
    await c.close();
  }
  await expect(startTestCore({ maxPublishedSigningKeys: 1 })).rejects.toThrow(
    /maxPublishedSigningKeys/,
  );
});
