// A generic MCP client, without LIME's auth, that follows the 401 into OAuth
// discovery: it must get a clear answer from the Core's metadata, not a
// schema error (the MCP SDK requires `authorization_endpoint`).
import { auth, discoverOAuthServerInfo } from '@modelcontextprotocol/sdk/client/auth.js';
import { type Core, startCore } from 'lime-core';
import { type McpServerHandle, startMcpServer } from 'lime-example-mcp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';

let core: Core;
let mcp: McpServerHandle;

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  mcp = await startMcpServer({ apiBase: core.apiBase });
});

afterAll(async () => {
  await mcp?.close();
  await core?.close();
});

const DOCS = 'https://github.com/lime-pics/lime-ts/blob/main/docs/use-with-your-framework.md';

it("the MCP SDK's discovery reads the Core's metadata, and it points at the docs", async () => {
  const info = await discoverOAuthServerInfo(mcp.url);
  expect(info.authorizationServerMetadata).toMatchObject({
    issuer: core.issuer,
    authorization_endpoint: DOCS,
    service_documentation: DOCS,
  });
});

it('an interactive OAuth client stops with a plain reason, not a schema error', async () => {
  const redirected: URL[] = [];
  const error = await auth(
    {
      redirectUrl: 'http://localhost:1/callback',
      clientMetadata: { redirect_uris: ['http://localhost:1/callback'], client_name: 'generic' },
      clientInformation: () => undefined,
      saveClientInformation: () => {},
      tokens: () => undefined,
      saveTokens: () => {},
      redirectToAuthorization: (url) => {
        redirected.push(url);
      },
      saveCodeVerifier: () => {},
      codeVerifier: () => '',
    },
    { serverUrl: mcp.url },
  ).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).name).not.toBe('ZodError');
  expect((error as Error).message).toMatch(/does not support dynamic client registration/);
  expect(redirected).toEqual([]);
});
