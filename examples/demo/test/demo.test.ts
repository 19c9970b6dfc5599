import { shutdownPowPool } from 'lime-agents-sdk';
import { startCore } from 'lime-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/index.js';

describe('npm run demo', () => {
  afterAll(() => shutdownPowPool()); // the proof-of-work worker threads

  it('goes from an empty Core to an MCP tool call, printing every step with timings and claims', async () => {
    const lines: string[] = [];
    const result = await runDemo({ powDifficulty: 12, print: (line) => lines.push(line) });
    const out = lines.join('\n');

    // Everyone agrees on the agent.
    expect(result.whoami).toMatchObject({ agentId: result.agentId, server: 'express' });
    expect(result.edgeWhoami).toMatchObject({ agentId: result.agentId, server: 'edge' });
    expect(result.passport).toMatchObject({
      sub: result.agentId,
      user_id: result.userId,
      request_id: result.loginRequestId,
      aud: 'lime-site-login',
    });

    // The story, in order, each step by its actor with a duration.
    const order = [
      /core +reference Core listening/,
      /core +provisioned site/,
      /site +example site backend/,
      /mcp +example MCP server/,
      /edge +example edge MCP server/,
      /agent +POST \/login\/start/,
      /agent +solved the proof of work/,
      /site +POST \/login\/finish: the passport answers/,
      /site +opened a session/,
      /mcp +whoami called by agent/,
      /edge +whoami called by agent/,
      /✓ agent .* logged into the site and called both MCP servers/,
    ];
    let at = -1;
    for (const pattern of order) {
      const next = lines.findIndex((l, i) => i > at && pattern.test(l));
      expect(next, `expected a line matching ${pattern} after line ${at}:\n${out}`).toBeGreaterThan(
        at,
      );
      at = next;
    }
    // The passport reaches the site's stream between the start and the finish
    // (before or after the agent hears back from its approve call: both happen).
    const line = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const arrived = line(/site +passport for lr_\S+ arrived on the event stream .*verified/);
    expect(arrived).toBeGreaterThan(line(/agent +POST \/login\/start/));
    expect(arrived).toBeLessThan(line(/site +POST \/login\/finish/));
    expect(out).toMatch(/^ +\+\d+ ms +agent +solved the proof of work .*\(\d+ ms\)$/m);
    // The verified claims are printed…
    expect(out).toContain(`agent (sub)`);
    expect(out).toContain(result.agentId);
    expect(out).toContain(`owner (user_id)`);
    // …but no credential ever is.
    expect(out).not.toMatch(/\bat_[A-Za-z0-9]/);
    expect(out).not.toMatch(/\bst_[A-Za-z0-9]/);
    expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('runs against an already running Core when given its API base and tokens (the hosted mode)', async () => {
    const core = await startCore({ powDifficulty: 12 });
    try {
      const { siteToken } = await core.admin.createSite({ name: 'hosted shop' });
      const { agentToken, agentId } = await core.admin.createAgent({ displayName: 'hosted bot' });
      const lines: string[] = [];
      const result = await runDemo({
        hosted: { apiBase: core.apiBase, siteToken, agentToken },
        print: (line) => lines.push(line),
      });
      expect(result.agentId).toBe(agentId);
      expect(result.whoami).toMatchObject({ agentId });
      expect(lines[0]).toBe(`LIME demo against ${core.apiBase}`);
      expect(lines.join('\n')).not.toMatch(/reference Core listening/);
    } finally {
      await core.close();
    }
  });

  it('fails loudly, and cleans up, when a credential is wrong', async () => {
    const core = await startCore({ powDifficulty: 0 });
    try {
      const { agentToken } = await core.admin.createAgent({ displayName: 'x' });
      const started = performance.now();
      await expect(
        runDemo({
          hosted: { apiBase: core.apiBase, siteToken: 'st_not_a_real_token', agentToken },
          print: () => {},
        }),
      ).rejects.toMatchObject({ code: 'SITE_TOKEN_INVALID' });
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await core.close();
    }
  });
});
