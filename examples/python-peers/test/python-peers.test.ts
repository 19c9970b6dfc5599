// The published Python SDKs (shared/reference/python-sdks, run unmodified) as
// peer clients of our reference Core, next to our TypeScript SDKs:
//   1. Python site creates the request, receives the passport on its own
//      stream and verifies it; our TypeScript agent approves.
//   2. Python agent approves a request our TypeScript site created; our site
//      receives and verifies the passport.
//   3. Python MCP verifier accepts the MCP token our Core minted for our
//      TypeScript agent, and refuses forged ones.
// A missing Python or Debian package FAILS this file; LIME_SKIP_PYTHON_PEERS=1
// skips it. `bash scripts/install-python-peers.sh` installs what it needs.
import { LimeAgent, shutdownPowPool } from 'lime-agents-sdk';
import { type Core, type CoreOptions, startCore } from 'lime-core';
import { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertReferenceSdks,
  findPython,
  type PeerRun,
  runPeer,
  SKIP_PYTHON_PEERS,
} from './support/python-peer.js';

const PEER_TIMEOUT_MS = 30_000;
const MCP_DOMAIN = 'tools.example.com';

/** `s` with the character at `i` replaced by another base64url character. */
const flipChar = (s: string, i: number) =>
  s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

/**
 * Core profiles the scenarios run against: the reference Core as it is, and
 * hosted-like (every [core] extension off: UUID ids, unprefixed tokens,
 * minimal claims, per-line frames, edge User-Agent filter). The hosted
 * profile's default JWKS is the old enveloped-only document, which the Python
 * site SDK 2.0 cannot read (since 1.1 it reads the raw RFC 7517 set) while
 * the Python MCP verifier 0.4 reads only the envelope: both work against the
 * hosted platform, so the platform serves both shapes at once — 'combined'.
 */
const PROFILES: Array<{ name: string; options: CoreOptions }> = [
  { name: 'core', options: {} },
  { name: 'hosted', options: { profile: 'hosted', jwksShape: 'combined' } },
];

describe.skipIf(SKIP_PYTHON_PEERS).each(PROFILES)(
  'Python SDKs as peers — $name Core',
  (profile) => {
    let python: string;
    let core: Core;
    let siteToken: string;
    let agent: { agentId: string; agentToken: string; userId: string };
    const peers: PeerRun[] = [];

    function peer(
      script: string,
      options: { args?: string[]; env: Record<string, string>; stdin?: string },
    ) {
      const run = runPeer(script, { python, timeoutMs: PEER_TIMEOUT_MS, ...options });
      peers.push(run);
      return run;
    }

    beforeAll(async () => {
      assertReferenceSdks();
      python = findPython();
      core = await startCore(profile.options);
      ({ siteToken } = await core.admin.createSite({ name: 'python-peers' }));
      agent = await core.admin.createAgent({ displayName: 'peer-agent', userKycLevel: 2 });
    });

    afterAll(async () => {
      for (const run of peers) run.kill();
      await core?.close();
      await shutdownPowPool();
    });

    it('Python site creates the request and verifies the passport our TypeScript agent caused', async () => {
      const site = peer('site_login.py', {
        // Its own waits end first, so that it reports instead of being killed.
        args: [String((PEER_TIMEOUT_MS - 5_000) / 1000)],
        env: { LIME_API_BASE: core.apiBase, LIME_SITE_TOKEN: siteToken },
      });
      const created = await site.next('created');
      expect(created).toMatchObject({ status: 'PENDING', request_id: expect.any(String) });
      const requestId = created.request_id as string;

      const tsAgent = new LimeAgent({ apiBase: core.apiBase, agentToken: agent.agentToken });
      try {
        const approval = await tsAgent.login(requestId);
        expect(approval.requestId).toBe(requestId);
      } finally {
        await tsAgent.close();
      }

      const verified = await site.next('verified');
      expect(verified.valid).toBe(true);
      expect(verified.claims).toMatchObject({
        aud: 'lime-site-login',
        agent_id: agent.agentId, // the Python SDK renames `sub`
        user_id: agent.userId,
        user_kyc_level: 2,
        request_id: requestId,
      });
      const refusals = [await site.next('refused'), await site.next('refused')];
      expect(refusals.map((r) => r.case).sort()).toEqual(['forged-claims', 'other-request']);
      expect(refusals.find((r) => r.case === 'forged-claims')?.reason).toMatch(/signature/i);
      expect(site.lines.some((l) => l.event === 'accepted')).toBe(false);
      expect(await site.exited).toBe(0);
    });

    it('Python agent approves a login our TypeScript site created and verifies', async () => {
      const tsSite = new LimeSite({ apiBase: core.apiBase, siteToken });
      try {
        const { loginRequestId } = await tsSite.createLoginRequest();
        const passportPromise = tsSite.waitForLogin(loginRequestId, { timeout: PEER_TIMEOUT_MS });
        passportPromise.catch(() => {}); // awaited below; never an unhandled rejection meanwhile

        const pyAgent = peer('agent_login.py', {
          args: [loginRequestId, MCP_DOMAIN],
          env: { LIME_API_BASE: core.apiBase, LIME_AGENT_TOKEN: agent.agentToken },
        });
        const approved = await pyAgent.next('approved');
        expect(approved).toMatchObject({
          request_id: loginRequestId,
          status: expect.stringMatching(/^(APPROVED|DELIVERED)$/),
          approved_agent_id: agent.agentId,
        });
        const agentProfile = await pyAgent.next('profile');
        expect(agentProfile).toMatchObject({ agent_id: agent.agentId, owner_id: agent.userId });
        // The Python agent's token request is strict (exact keys, Cache-Control: no-store).
        const mcpToken = await pyAgent.next('mcp-token');
        expect(mcpToken).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
        const mcpClaims = JSON.parse(
          Buffer.from(String(mcpToken.access_token).split('.')[1]!, 'base64url').toString(),
        ) as Record<string, unknown>;
        expect(mcpClaims).toMatchObject({ sub: agent.agentId, aud: 'mcp' });
        // `domain` is a [core] extension claim: the hosted profile leaves it out.
        if (profile.name === 'core') expect(mcpClaims.domain).toBe(MCP_DOMAIN);
        expect(await pyAgent.exited).toBe(0);

        const passport = await passportPromise;
        expect(passport).toMatchObject({
          agentId: agent.agentId,
          userId: agent.userId,
          requestId: loginRequestId,
        });
        // Hosted passports carry no site_id (PROTOCOL §4); the approve answer does.
        if (profile.name === 'core') expect(passport.siteId).toBe(approved.site_id);
        else expect(passport.siteId).toBeUndefined();
      } finally {
        await tsSite.close();
      }
    });

    it('Python MCP verifier accepts our TypeScript agent’s MCP token and refuses forged ones', async () => {
      const tsAgent = new LimeAgent({ apiBase: core.apiBase, agentToken: agent.agentToken });
      let accessToken: string;
      try {
        ({ accessToken } = await tsAgent.getMcpAccessToken(`https://${MCP_DOMAIN}/mcp`));
      } finally {
        await tsAgent.close();
      }
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const forge = (changes: Record<string, unknown>) =>
        `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`;
      const tokens = {
        genuine: accessToken,
        'forged-sub': forge({ sub: 'someone-else' }),
        'forged-exp': forge({ exp: (claims.exp as number) + 3_600 }),
        'bad-signature': `${header}.${payload}.${flipChar(signature, 20)}`,
      };

      const verifier = peer('verify_mcp_tokens.py', {
        env: { LIME_BASE_URL: core.url },
        stdin: JSON.stringify(tokens),
      });
      await verifier.next('warmup');
      const results = new Map<string, Record<string, unknown>>();
      for (const _ of Object.keys(tokens)) {
        const result = await verifier.next('result');
        results.set(result.name as string, result);
      }
      expect(await verifier.exited).toBe(0);

      expect(results.get('genuine')).toMatchObject({
        is_valid: true,
        error: null,
        agent_id: agent.agentId,
        claims: { sub: agent.agentId, aud: 'mcp', iss: core.issuer },
      });
      for (const name of ['forged-sub', 'forged-exp', 'bad-signature']) {
        expect(results.get(name), name).toMatchObject({ is_valid: false, agent_id: null });
        expect(String(results.get(name)?.error), name).toMatch(/signature/i);
      }
    });
  },
);
