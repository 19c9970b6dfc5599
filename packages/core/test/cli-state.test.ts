import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, PATHS } from '@lime/wire';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ADMIN_PREFIX, startCore } from 'lime-core';
import { afterAll, describe, expect, test } from 'vitest';
import { readyCredentials } from '../src/internal/cli-credentials.js';
import { approve, createRequest, httpClient, runCli } from './helpers.js';

const http = httpClient();
const scratch: string[] = [];

afterAll(async () => {
  await http.close();
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lime-core-state-'));
  scratch.push(dir);
  return dir;
}

async function mintMcpToken(apiBase: string, agentToken: string): Promise<string> {
  const r = await http.call('POST', apiBase + PATHS.oauthToken, {
    headers: { 'x-agent-token': agentToken },
    body: { domain: 'mcp.example.com' },
  });
  expect(r.status).toBe(200);
  return r.json.access_token as string;
}

async function servedKeys(apiBase: string) {
  const r = await http.call('GET', apiBase + PATHS.jwks, { headers: { 'user-agent': 'test/1' } });
  expect(r.status).toBe(200);
  return createLocalJWKSet({ keys: r.json.keys });
}

async function logsIn(apiBase: string, siteToken: string, agentToken: string): Promise<number> {
  const core = { apiBase } as Parameters<typeof createRequest>[1];
  const id = await createRequest(http, core, siteToken);
  return (await approve(http, core, id, agentToken)).status;
}

describe('CLI state directory', () => {
  test('a restart on the same --state prints the same tokens; tokens minted before still verify', async () => {
    const dir = join(await tempDir(), 'state');
    // A fixed issuer: with --port 0 the listening URL (the default issuer) changes.
    const args = ['--port', '0', '--difficulty', '0', '--public-url', 'http://core.test'];

    const first = await runCli([...args, '--state', dir]);
    const before = {
      admin: first.field('admin token'),
      site: first.field('site'),
      siteToken: first.field('site token'),
      agent: first.field('agent'),
      agentToken: first.field('agent token'),
    };
    const apiBase1 = first.field('API base');
    expect(first.out).toContain(`export LIME_API_BASE=${apiBase1}`);
    expect(first.out).toContain(`export LIME_BASE_URL=${first.field('base URL')}`);
    expect(first.out).toContain(`state         ${dir}`);
    const mcpToken = await mintMcpToken(apiBase1, before.agentToken);
    // An agent made through the admin API is kept too (as a token hash).
    const created = await http.call('POST', `${first.field('base URL')}${ADMIN_PREFIX}/agents`, {
      headers: { authorization: `Bearer ${before.admin}` },
      body: { display_name: 'made at runtime' },
    });
    expect(created.status).toBe(201);
    const runtimeToken = created.json.data.agent_token as string;
    expect(await first.stop()).toBe(0);

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'state.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cli-credentials.json'))).mode & 0o777).toBe(0o600);
    const stateText = await readFile(join(dir, 'state.json'), 'utf8');
    expect(stateText).not.toContain(before.siteToken); // the Core keeps hashes only
    expect(stateText).not.toContain(runtimeToken);

    const second = await runCli([...args, '--state', dir]);
    try {
      expect({
        admin: second.field('admin token'),
        site: second.field('site'),
        siteToken: second.field('site token'),
        agent: second.field('agent'),
        agentToken: second.field('agent token'),
      }).toEqual(before);
      const apiBase2 = second.field('API base');
      expect(apiBase2).not.toBe(apiBase1); // a new process on a new port…
      const { payload } = await jwtVerify(mcpToken, await servedKeys(apiBase2), {
        issuer: second.field('issuer'), // …with the same issuer and signing key
        audience: 'mcp',
      });
      expect(payload.iss).toBe('http://core.test');
      expect(payload.sub).toBe(before.agent);
      expect(await logsIn(apiBase2, before.siteToken, before.agentToken)).toBe(200);
      const profile = await http.call('GET', apiBase2 + PATHS.agentProfile, {
        headers: { 'x-agent-token': runtimeToken },
      });
      expect(profile.status).toBe(200);
      expect(second.err).toBe('');
    } finally {
      expect(await second.stop()).toBe(0);
    }

    // --ephemeral: everything new, nothing written (not even in the working directory).
    const cwd = await tempDir();
    const third = await runCli([...args, '--ephemeral'], cwd);
    try {
      expect(third.field('site token')).not.toBe(before.siteToken);
      expect(third.field('agent token')).not.toBe(before.agentToken);
      expect(third.field('admin token')).not.toBe(before.admin);
      expect(third.out).toContain('state         none');
      await expect(
        jwtVerify(mcpToken, await servedKeys(third.field('API base')), { audience: 'mcp' }),
      ).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
      await expect(stat(join(cwd, '.lime-core'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      expect(await third.stop()).toBe(0);
    }
  });

  test('without --state the CLI keeps its state in .lime-core of the working directory', async () => {
    const cwd = await tempDir();
    const run = await runCli(['--port', '0', '--difficulty', '0'], cwd);
    try {
      expect(run.out).toContain(`state         ${join(cwd, '.lime-core')}`);
      expect((await stat(join(cwd, '.lime-core', 'state.json'))).isFile()).toBe(true);
      // Locked while in use: a second Core on it is refused, naming the holder.
      const rival = await runCli(['--port', '0'], cwd);
      expect(await rival.exited).toBe(1);
      expect(rival.err).toContain(`is in use by process ${run.child.pid}`);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  });

  test('a damaged state file stops the start with an error naming it, and is left untouched', async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    await writeFile(file, '{"format":1,"adminToken":"adm_secret_value_do_not_echo"', {
      mode: 0o600,
    });
    const run = await runCli(['--port', '0', '--state', dir]);
    expect(await run.exited).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain(`state file ${file} is not valid JSON`);
    expect(run.err).toContain('--ephemeral');
    expect(run.err).not.toContain('adm_secret');
    expect(await readFile(file, 'utf8')).toBe(
      '{"format":1,"adminToken":"adm_secret_value_do_not_echo"',
    );
  });
});

describe('startCore({ stateDir })', () => {
  test('keeps sites, agents, the admin token and every signing key with its schedule', async () => {
    const stateDir = await tempDir();
    const core = await startCore({ powDifficulty: 0, stateDir });
    const site = await core.admin.createSite({ name: 'kept' });
    const agent = await core.admin.createAgent({ displayName: 'kept' });
    const revoked = await core.admin.createAgent({ displayName: 'revoked' });
    await core.admin.revokeAgentToken(revoked.agentId);
    await core.admin.rotateSigningKey({ activate: false });
    const keys = await core.admin.signingKeys();
    const adminToken = core.adminToken;
    await core.close();

    const again = await startCore({ powDifficulty: 0, stateDir });
    try {
      expect(again.adminToken).toBe(adminToken);
      expect(await again.admin.signingKeys()).toEqual(keys);
      expect(await logsIn(again.apiBase, site.siteToken, agent.agentToken)).toBe(200);
      expect(await logsIn(again.apiBase, site.siteToken, revoked.agentToken)).toBe(401);
      // A second Core on a directory in use is refused.
      await expect(startCore({ stateDir })).rejects.toThrow(/is in use by process/);
    } finally {
      await again.close();
    }
  });

  test('a state file with a bad field is a ConfigurationError naming the file and the field', async () => {
    const stateDir = await tempDir();
    const core = await startCore({ stateDir });
    await core.close();
    const file = join(stateDir, 'state.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    const pem = saved.signingKeys.keys[0].privateKeyPem;
    saved.signingKeys.keys[0].privateKeyPem = 'not a key';
    await writeFile(file, JSON.stringify(saved));
    const err = await startCore({ stateDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('signingKeys.keys[0].privateKeyPem');
    // Refused, not replaced; and the lock was released.
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(saved);
    saved.signingKeys.keys[0].privateKeyPem = pem;
    saved.profile = 'hosted';
    await writeFile(file, JSON.stringify(saved));
    await expect(startCore({ stateDir })).rejects.toThrow(/profile 'hosted'/);
  });
});

describe('the CLI keeps its printed site and agent while the Core accepts them', () => {
  test('kept as they are; a token changed meanwhile renewed; a vanished one created anew', async () => {
    const stateDir = await tempDir();
    const core = await startCore({ powDifficulty: 0, stateDir });
    try {
      const first = await readyCredentials(core.admin, stateDir, undefined);
      expect(first.notes).toEqual([]);
      const kept = first.credentials;
      // The Core still accepts both: the same ones, no note.
      expect(await readyCredentials(core.admin, stateDir, kept)).toEqual({
        credentials: kept,
        notes: [],
      });
      // The site's token rotated through the admin API: a new token for the same site.
      await core.admin.rotateSiteToken(kept.siteId);
      await core.close();
      const again = await startCore({ powDifficulty: 0, stateDir });
      try {
        const renewed = await readyCredentials(again.admin, stateDir, kept);
        expect(renewed.credentials.siteId).toBe(kept.siteId);
        expect(renewed.credentials.siteToken).not.toBe(kept.siteToken);
        expect(renewed.credentials.agentToken).toBe(kept.agentToken);
        expect(renewed.notes).toEqual([
          `the kept token of site ${kept.siteId} was rotated or revoked meanwhile: printing a new one`,
        ]);
        // An agent this Core never had: created anew.
        const stranger = { ...renewed.credentials, agentId: 'agt_gone', agentToken: 'gone' };
        const recreated = await readyCredentials(again.admin, stateDir, stranger);
        expect(recreated.credentials.agentId).not.toBe('agt_gone');
        expect(recreated.notes).toEqual([
          'agent agt_gone is not in the state any more: created a new agent',
        ]);
      } finally {
        await again.close();
      }
    } finally {
      await core.close().catch(() => {});
    }
  });
});
