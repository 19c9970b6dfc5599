// The docs' code samples are these files: run them against a Core, and check
// that every sample in docs/*.md is byte-for-byte the file it names.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LimeAgent } from 'lime-agents-sdk';
import { type Core, startCore } from 'lime-core';
import { LimeSite } from 'lime-sites-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginOrExplain } from '../src/error-handling.js';
import { createToolServer } from '../src/mcp-server-quickstart.js';
import { createLoginRoutes } from '../src/site-quickstart.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

let core: Core;
let agentToken: string;
let agentId: string;
let site: LimeSite;
const servers: Server[] = [];

async function listen(handler: Parameters<typeof createServer>[1], host = '127.0.0.1') {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0 });
  const s = await core.admin.createSite({ name: 'docs' });
  ({ agentToken, agentId } = await core.admin.createAgent({ displayName: 'docs' }));
  site = new LimeSite({ apiBase: core.apiBase, siteToken: s.siteToken });
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await site.close();
  await core.close();
});

describe('docs snippets run', () => {
  it('site + MCP server + agent quick starts work together', async () => {
    const sitePort = await listen(createLoginRoutes(site));
    let toolApp: ReturnType<typeof createToolServer> | undefined;
    const mcpPort = await listen((req, res) => toolApp!(req, res), 'localhost');
    const mcpUrl = `http://localhost:${mcpPort}/mcp`;
    toolApp = createToolServer(mcpUrl, core.url);

    const start = await fetch(`http://127.0.0.1:${sitePort}/login/start`, { method: 'POST' });
    const { loginRequestId, handle } = (await start.json()) as {
      loginRequestId: string;
      handle: string;
    };

    // The agent quick start reads its configuration from the environment.
    const saved = { token: process.env.LIME_AGENT_TOKEN, base: process.env.LIME_API_BASE };
    process.env.LIME_AGENT_TOKEN = agentToken;
    process.env.LIME_API_BASE = core.apiBase;
    const quickstart = await import('../src/agent-quickstart.js');
    try {
      const finishing = fetch(`http://127.0.0.1:${sitePort}/login/finish/${handle}`, {
        method: 'POST',
      });
      const used = await quickstart.logInAndUseTool(loginRequestId, mcpUrl);
      expect(used.tools).toEqual(['greet']);
      const finished = await (await finishing).json();
      expect(finished).toMatchObject({ agentId });
      const me = await fetch(`http://127.0.0.1:${sitePort}/me/${finished.sessionId}`);
      expect(await me.json()).toMatchObject({ agentId });

      // The MCP quick start's tool sees the agent.
      const agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
      const result = await agent.mcp(mcpUrl).callTool('greet', { greeting: 'hello' });
      expect(result.content).toEqual([{ type: 'text', text: `hello, ${agentId}` }]);
      await agent.close();
    } finally {
      await quickstart.shutdown();
      process.env.LIME_AGENT_TOKEN = saved.token;
      process.env.LIME_API_BASE = saved.base;
      if (saved.token === undefined) delete process.env.LIME_AGENT_TOKEN;
      if (saved.base === undefined) delete process.env.LIME_API_BASE;
    }
  });

  it('error handling explains each failure', async () => {
    const agent = new LimeAgent({ apiBase: core.apiBase, agentToken });
    expect(await loginOrExplain(agent, 'lr_unknown')).toBe(
      'unknown request id: is the site talking to the same Core?',
    );
    const { loginRequestId } = await site.createLoginRequest();
    await core.admin.expireLoginRequest(loginRequestId);
    expect(await loginOrExplain(agent, loginRequestId)).toBe(
      'too late: ask the site for a new request',
    );
    const fresh = await site.createLoginRequest();
    expect(await loginOrExplain(agent, fresh.loginRequestId)).toBe('logged in');
    const other = await core.admin.createAgent({ displayName: 'late' });
    const late = new LimeAgent({ apiBase: core.apiBase, agentToken: other.agentToken });
    expect(await loginOrExplain(late, fresh.loginRequestId)).toBe(
      'another agent approved this request',
    );
    await agent.close();
    await late.close();
  });
});

describe('docs links resolve', () => {
  /** GitHub's heading anchors: lowercase, punctuation dropped, spaces → '-'. */
  const slug = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
  const pages = [
    ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
    'examples/README.md',
    'README.md',
  ];
  for (const page of pages) {
    it(`${page}: every relative link points at a file (and heading) of this repository`, () => {
      const text = readFileSync(join(root, page), 'utf8');
      const broken: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = join(root, page, '..', path);
        if (!file.startsWith(root)) {
          broken.push(target!); // outside the repository: no reader on GitHub or npm has it
          continue;
        }
        if (!existsSync(file)) {
          broken.push(target!);
          continue;
        }
        if (anchor && file.endsWith('.md')) {
          const headings = [...readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
            slug(m[1]!),
          );
          if (!headings.includes(anchor)) broken.push(target!);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});

describe('docs show the snippets exactly', () => {
  const docs = join(root, 'docs');
  const files = readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.md'),
  );
  const marker = /<!-- snippet: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g;
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(docs, file), 'utf8');
    for (const [, path, body] of text.matchAll(marker)) {
      found.push(`${file} → ${path}`);
      it(`${file} shows ${path} verbatim`, () => {
        expect(body).toBe(readFileSync(join(root, path!), 'utf8'));
      });
    }
  }
  it('every snippet file appears in the docs', () => {
    const snippetFiles = [
      ...readdirSync(fileURLToPath(new URL('../src/', import.meta.url))).map((f) => `src/${f}`),
      'test/local-core-emulator.test.ts',
    ].map((f) => relative(root, fileURLToPath(new URL(`../${f}`, import.meta.url))));
    for (const f of snippetFiles) expect(found.join('\n')).toContain(f);
  });
});
