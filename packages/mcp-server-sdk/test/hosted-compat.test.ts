// Tokens as a platform without the binding extension mints them (PROTOCOL.md
// §7: `domain`, `client_id` and `scope` are extensions): no `domain` claim,
// `aud: "mcp"`. They are signed with the Core's own key, so only the binding
// differs from what the reference Core issues.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { type Core, startCore } from 'lime-core';
import { LimeMcpVerifier, type McpVerifyResult } from 'lime-mcp-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintMcpToken } from './helpers.js';

let core: Core;
let agentToken: string;
let privateKey: KeyObject;

beforeAll(async () => {
  privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  core = await startCore({ powDifficulty: 0, signingKey: privateKey });
  ({ agentToken } = await core.admin.createAgent({ displayName: 'hosted-compat' }));
});
afterAll(() => core.close());

/** Re-sign a Core token with the Core's key after editing its claims. */
function resign(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [h, p] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  edit(claims);
  const input = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}

const reason = (r: McpVerifyResult) => (r.valid ? 'valid' : r.reason);

describe('tokens from a platform without the binding extension', () => {
  it('are accepted by a bound verifier by default, since there is nothing to compare', async () => {
    const bound = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const unbound = resign(bound, (c) => {
      delete c.domain;
      delete c.client_id;
      delete c.scope;
    });
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      resource: 'https://tools.example.com/mcp',
    });
    const r = await verifier.verify(unbound);
    expect(reason(r)).toBe('valid');
    expect(r.valid && r.agentId).toMatch(/^agt_/);
  });

  it('are refused when allowUnboundTokens is off', async () => {
    const bound = await mintMcpToken(core, agentToken, { domain: 'tools.example.com' });
    const unbound = resign(bound, (c) => {
      delete c.domain;
    });
    const strict = new LimeMcpVerifier({
      baseUrl: core.url,
      expectedDomain: 'tools.example.com',
      allowUnboundTokens: false,
    });
    expect(reason(await strict.verify(unbound))).toBe('wrong_domain');
  });

  it('never excuse a token that carries another binding', async () => {
    const theirs = await mintMcpToken(core, agentToken, { domain: 'evil.example.net' });
    const verifier = new LimeMcpVerifier({
      baseUrl: core.url,
      resource: 'https://tools.example.com/mcp',
    });
    expect(reason(await verifier.verify(theirs))).toBe('wrong_domain');
    const resourceOnly = resign(
      await mintMcpToken(core, agentToken, {
        domain: 'evil.example.net',
        resource: 'https://evil.example.net/mcp',
      }),
      (c) => {
        delete c.domain;
      },
    );
    expect(reason(await verifier.verify(resourceOnly))).toBe('wrong_resource');
  });
});
