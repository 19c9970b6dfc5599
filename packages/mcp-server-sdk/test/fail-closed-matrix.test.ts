// Fail closed, shown against the real routers: express 4 and 5 (every mount
// style we document or that a user is likely to write, strict and
// case-sensitive routing on and off) and the web-standard handler behind Hono
// and a bare Worker-style fetch. Each request variant (case, slashes,
// percent-encoding, query, dot segments, every method) is sent raw over HTTP
// with each credential (none, forged, expired, valid). The invariant: every
// request that reaches a tool handler carries a verified bearer — and the
// valid token does reach it, so the matrix cannot pass by refusing everything.
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express, { type RequestHandler } from 'express';
import express4 from 'express4';
import * as fc from 'fast-check';
import { Hono } from 'hono';
import { type Core, startCore } from 'lime-core';
import {
  createProtectedResourceMetadataHandler,
  createWebBearerAuth,
  type LimeAuthInfo,
  LimeMcpVerifier,
  withLimeMcpAuth,
} from 'lime-mcp-server-sdk';
import { limeAuthMetadataRouter, limeBearerAuth, limeMcpAuth } from 'lime-mcp-server-sdk/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forge, mintMcpToken } from './helpers.js';

const RESOURCE = 'https://tools.example.com/mcp';
const METHODS = ['POST', 'GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT'] as const;
type Credential = 'none' | 'forged' | 'expired' | 'valid';
const CREDENTIALS: readonly Credential[] = ['none', 'forged', 'expired', 'valid'];

let core: Core;
let clockOffset = 0;
let verifier: LimeMcpVerifier;
let agentId: string;
const tokens: Partial<Record<Credential, string>> = {};

/** What a tool handler saw: the probe id and the auth it was given. */
interface Hit {
  probe: string;
  auth: LimeAuthInfo | undefined;
}

/** A running server, and every tool call it served. */
interface Target {
  label: string;
  /** Prefix under which the MCP route lives ('' at the root). */
  prefix: string;
  /** Does this style serve the RFC 9728 metadata (at the app root)? */
  servesMetadata: boolean;
  origin: string;
  server: Server;
  hits: Hit[];
}

beforeAll(async () => {
  core = await startCore({ powDifficulty: 0, clock: () => Date.now() + clockOffset });
  const agent = await core.admin.createAgent({ displayName: 'matrix' });
  agentId = agent.agentId;
  tokens.valid = await mintMcpToken(core, agent.agentToken, { domain: 'tools.example.com' });
  tokens.forged = forge(tokens.valid);
  clockOffset = -3_600_000; // an hour ago: a real Core token, long expired
  tokens.expired = await mintMcpToken(core, agent.agentToken, { domain: 'tools.example.com' });
  clockOffset = 0;
  verifier = new LimeMcpVerifier({ baseUrl: core.url, resource: RESOURCE, leeway: 0 });
  await verifier.warmup();
});

afterAll(async () => {
  await core.close();
});

/** Send one request exactly as written (no URL normalisation on the way). */
function rawRequest(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; reached: boolean }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          reached: res.headers['x-tool'] === 'reached',
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(method === 'POST' || method === 'PUT' ? '{}' : undefined);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Paths a client (or attacker) may send for the MCP route under `prefix`. */
function pathVariants(prefix: string): string[] {
  const P = prefix;
  return [
    `${P}/mcp`,
    `${P}/MCP`,
    `${P}/Mcp`,
    `${P}/mcp/`,
    `${P}/MCP/`,
    `${P}//mcp`,
    `${P}/mcp//`,
    `${P}/%6dcp`,
    `${P}/%6Dcp`,
    `${P}/m%63p`,
    `${P}/%4DCP`,
    `${P}/mcp%2f`,
    `${P}/mcp%2F`,
    `${P}/mcp?x=1`,
    `${P}/MCP?x=1`,
    `${P}/Mcp/?x=1`,
    `${P}/mcp;x=1`,
    `${P}/./mcp`,
    `${P}/x/../mcp`,
    `${P}/mcp/.`,
    `${P}/mcp/sub`,
    `${P.toUpperCase()}/MCP`,
    `${P}/.well-known/oauth-protected-resource/mcp`,
    '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-protected-resource',
    '/.WELL-KNOWN/oauth-protected-resource/mcp',
    '/.well-known/oauth-protected-resource/mcp/',
    '/.well-known/oauth-protected-resource/%6dcp',
    '/.well-known/oauth-protected-resource/mcp?x=1',
  ];
}

function headersFor(credential: Credential, probe: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'x-probe': probe,
  };
  const token = tokens[credential];
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

let probes = 0;

interface Violation {
  target: string;
  method: string;
  path: string;
  credential: Credential;
  problem: string;
}

/**
 * Send every method × path × credential to `target` (a few at a time) and
 * return each cell that broke the invariant.
 */
async function sweep(target: Target, paths = pathVariants(target.prefix)): Promise<Violation[]> {
  const violations: Violation[] = [];
  const cells: Array<{ method: string; path: string; credential: Credential }> = [];
  for (const credential of CREDENTIALS)
    for (const method of METHODS)
      for (const path of paths) cells.push({ method, path, credential });
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const cell = cells[next++]!;
      const probe = `p${probes++}`;
      const report = (problem: string) =>
        violations.push({ target: target.label, ...cell, problem });
      let answer: Awaited<ReturnType<typeof rawRequest>>;
      try {
        answer = await rawRequest(
          target.origin,
          cell.method,
          cell.path,
          headersFor(cell.credential, probe),
        );
      } catch (error) {
        report(`no answer: ${(error as Error).message}`);
        continue;
      }
      const hit = target.hits.find((h) => h.probe === probe);
      if (hit || answer.reached) {
        if (cell.credential !== 'valid')
          report(`tool ran without a valid bearer (${answer.status})`);
        else if (hit?.auth?.token !== tokens.valid || hit?.auth?.extra.agentId !== agentId) {
          report('tool ran without the verified auth info');
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return violations;
}

async function closeTargets(targets: Target[]): Promise<void> {
  for (const t of targets) {
    t.server.closeAllConnections();
    await new Promise((r) => t.server.close(r));
  }
}

/** Every cell of every target: no tool ran without a verified bearer. */
async function expectNoViolations(targets: Target[]): Promise<void> {
  const violations: Violation[] = [];
  for (const target of targets) violations.push(...(await sweep(target)));
  expect(violations).toEqual([]);
}

/** The valid bearer does reach the tool (so the sweep can fail), with the verified agent. */
async function expectValidReaches(targets: Target[]): Promise<void> {
  for (const [i, target] of targets.entries()) {
    const probe = `valid${i}`;
    const answer = await rawRequest(
      target.origin,
      'POST',
      `${target.prefix}/mcp`,
      headersFor('valid', probe),
    );
    expect({ target: target.label, status: answer.status, reached: answer.reached }).toEqual({
      target: target.label,
      status: 200,
      reached: true,
    });
    expect(target.hits.find((h) => h.probe === probe)?.auth?.extra.agentId).toBe(agentId);
  }
}

/** A tool handler for express: records what it was given. */
function expressTool(hits: Hit[]): RequestHandler {
  return (req, res) => {
    hits.push({
      probe: String(req.headers['x-probe']),
      auth: (req as { auth?: LimeAuthInfo }).auth,
    });
    res.setHeader('x-tool', 'reached');
    res.status(200).send('TOOL');
  };
}

type ExpressLike = typeof express;
const EXPRESS_LINES: Array<[string, ExpressLike]> = [
  ['express5', express],
  ['express4', express4 as unknown as ExpressLike],
];
const ROUTING = [
  { caseSensitive: false, strict: false },
  { caseSensitive: true, strict: false },
  { caseSensitive: false, strict: true },
  { caseSensitive: true, strict: true },
];

/** The mount styles: how a user may wire the guard into an express app. */
const MOUNTS: Array<{
  name: string;
  prefix: string;
  servesMetadata: boolean;
  build: (
    e: ExpressLike,
    app: express.Express,
    routing: { caseSensitive: boolean; strict: boolean },
    hits: Hit[],
  ) => void;
}> = [
  {
    name: 'app.use(limeMcpAuth) + routes + catch-all',
    prefix: '',
    servesMetadata: true,
    build: (_e, app, _r, hits) => {
      app.use(limeMcpAuth({ resource: RESOURCE, verifier }));
      app.all('/mcp', expressTool(hits));
      app.use(expressTool(hits)); // everything else is a tool too
    },
  },
  {
    name: 'route-level app.all(path, limeBearerAuth, tool) + metadata router',
    prefix: '',
    servesMetadata: true,
    build: (_e, app, _r, hits) => {
      app.use(limeAuthMetadataRouter({ verifier }));
      app.all('/mcp', limeBearerAuth({ verifier }), expressTool(hits));
    },
  },
  {
    name: 'route-level app.post (README) + get/delete',
    prefix: '',
    servesMetadata: false,
    build: (e, app, _r, hits) => {
      const guard = limeBearerAuth({ verifier });
      app.post('/mcp', guard, e.json(), expressTool(hits));
      app.get('/mcp', guard, expressTool(hits));
      app.delete('/mcp', guard, expressTool(hits));
    },
  },
  {
    name: 'app.use(path, limeBearerAuth) + app.all(path)',
    prefix: '',
    servesMetadata: false,
    build: (_e, app, _r, hits) => {
      app.use('/mcp', limeBearerAuth({ verifier }));
      app.all('/mcp', expressTool(hits));
    },
  },
  {
    name: 'Router at /api with router.use(limeBearerAuth)',
    prefix: '/api',
    servesMetadata: false,
    build: (e, app, routing, hits) => {
      const router = e.Router(routing);
      router.use(limeBearerAuth({ verifier }));
      router.all('/mcp', expressTool(hits));
      router.use(expressTool(hits));
      app.use('/api', router);
    },
  },
  {
    name: 'nested Routers /api → /v1, guard on the inner one',
    prefix: '/api/v1',
    servesMetadata: false,
    build: (e, app, routing, hits) => {
      const inner = e.Router(routing);
      inner.use(limeBearerAuth({ verifier }));
      inner.all('/mcp', expressTool(hits));
      const outer = e.Router(routing);
      outer.use('/v1', inner);
      app.use('/api', outer);
    },
  },
  {
    name: 'Router at /api with limeMcpAuth inside + catch-all',
    prefix: '/api',
    servesMetadata: false,
    build: (e, app, routing, hits) => {
      const router = e.Router(routing);
      router.use(limeMcpAuth({ resource: RESOURCE, verifier }));
      router.all('/mcp', expressTool(hits));
      router.use(expressTool(hits));
      app.use('/api', router);
      app.use(limeAuthMetadataRouter({ verifier }));
    },
  },
];

describe.each(EXPRESS_LINES)('%s', (line, e) => {
  const targets: Target[] = [];

  beforeAll(async () => {
    for (const routing of ROUTING) {
      for (const mount of MOUNTS) {
        const app = e();
        if (routing.caseSensitive) app.set('case sensitive routing', true);
        if (routing.strict) app.set('strict routing', true);
        const hits: Hit[] = [];
        mount.build(e, app, routing, hits);
        const { createServer } = await import('node:http');
        const server = createServer(app);
        const origin = await listen(server);
        targets.push({
          label: `${line} ${JSON.stringify(routing)} ${mount.name}`,
          prefix: mount.prefix,
          servesMetadata: mount.servesMetadata,
          origin,
          server,
          hits,
        });
      }
    }
  });

  afterAll(() => closeTargets(targets));

  it(
    'no method, path variant, routing mode or mount style reaches a tool without a verified bearer',
    () => expectNoViolations(targets),
    120_000,
  );

  it('the valid bearer reaches the tool on the canonical path in every style (the matrix can fail)', () =>
    expectValidReaches(targets));

  it('serves the metadata documents without a bearer where a style serves them', async () => {
    for (const target of targets.filter((t) => t.servesMetadata)) {
      for (const path of [
        '/.well-known/oauth-protected-resource/mcp',
        '/.well-known/oauth-protected-resource',
      ]) {
        const answer = await rawRequest(target.origin, 'GET', path, headersFor('none', 'meta'));
        expect({ target: target.label, path, status: answer.status }).toEqual({
          target: target.label,
          path,
          status: 200,
        });
        expect(JSON.parse(answer.body)).toMatchObject({ resource: RESOURCE });
      }
    }
  });

  it('refusals carry WWW-Authenticate with the metadata URL', async () => {
    const target = targets[0]!;
    const answer = await new Promise<{ status: number; auth: string | undefined }>((resolve) => {
      const { hostname, port } = new URL(target.origin);
      httpRequest({ host: hostname, port, method: 'POST', path: '/MCP' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, auth: res.headers['www-authenticate'] });
      }).end('{}');
    });
    expect(answer.status).toBe(401);
    expect(answer.auth).toContain('resource_metadata="https://tools.example.com/.well-known/');
  });
});

describe('property: arbitrary paths under the one-line guard', () => {
  it.each(EXPRESS_LINES)(
    '%s: no generated path reaches the catch-all tool without a bearer',
    async (_line, e) => {
      const hits: Hit[] = [];
      const app = e();
      app.use(limeMcpAuth({ resource: RESOURCE, verifier }));
      app.use(expressTool(hits));
      const { createServer } = await import('node:http');
      const server = createServer(app);
      const origin = await listen(server);
      const segment = fc.constantFrom(
        'mcp',
        'MCP',
        'Mcp',
        '%6dcp',
        'm%63p',
        '',
        '.',
        '..',
        '.well-known',
        '.WELL-KNOWN',
        'oauth-protected-resource',
        'OAUTH-PROTECTED-RESOURCE',
        '%2e',
        '%2E%2E',
        'api',
        '%2f',
        ';x',
      );
      const pathArb = fc
        .tuple(
          fc.array(segment, { minLength: 1, maxLength: 5 }),
          fc.constantFrom('', '/', '?x=1', '?'),
        )
        .map(([segs, tail]) => `/${segs.join('/')}${tail}`);
      try {
        await fc.assert(
          fc.asyncProperty(
            pathArb,
            fc.constantFrom(...METHODS),
            fc.constantFrom<Credential>('none', 'forged', 'expired'),
            async (path, method, credential) => {
              const probe = `prop${probes++}`;
              await rawRequest(origin, method, path, headersFor(credential, probe));
              return !hits.some((h) => h.probe === probe);
            },
          ),
          { numRuns: 300 },
        );
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    },
  );
});

describe('web-standard handler', () => {
  const targets: Target[] = [];

  /** Web tool: records what it was given. */
  const webTool = (hits: Hit[]) => (request: Request, auth: LimeAuthInfo | undefined) => {
    hits.push({ probe: request.headers.get('x-probe') ?? '', auth });
    return new Response('TOOL', { status: 200, headers: { 'x-tool': 'reached' } });
  };

  beforeAll(async () => {
    const styles: Array<{
      name: string;
      prefix: string;
      meta: boolean;
      app: (hits: Hit[]) => (r: Request) => Response | Promise<Response>;
    }> = [
      {
        name: 'bare fetch: withLimeMcpAuth around a case-insensitive inner router',
        prefix: '',
        meta: true,
        app: (hits) =>
          withLimeMcpAuth({ verifier }, (request, auth) => webTool(hits)(request, auth)),
      },
      ...[false, true].map((strict) => ({
        name: `Hono strict=${strict}: app.all(path) calls createWebBearerAuth (README)`,
        prefix: '',
        meta: true,
        app: (hits: Hit[]) => {
          const auth = createWebBearerAuth({ verifier });
          const metadata = createProtectedResourceMetadataHandler({ verifier });
          const app = new Hono({ strict });
          app.get('/.well-known/oauth-protected-resource/mcp', () => metadata());
          app.all('/mcp', async (c) => {
            const authInfo = await auth(c.req.raw);
            if (authInfo instanceof Response) return authInfo;
            return webTool(hits)(c.req.raw, authInfo);
          });
          return app.fetch;
        },
      })),
      ...[false, true].map((strict) => ({
        name: `Hono strict=${strict}: sub-app at /api, withLimeMcpAuth per route`,
        prefix: '/api',
        meta: false,
        app: (hits: Hit[]) => {
          const guarded = withLimeMcpAuth({ verifier, metadata: false }, (request, auth) =>
            webTool(hits)(request, auth),
          );
          const sub = new Hono({ strict });
          sub.all('/mcp', (c) => guarded(c.req.raw));
          sub.all('/mcp/*', (c) => guarded(c.req.raw));
          const app = new Hono({ strict });
          app.route('/api', sub);
          return app.fetch;
        },
      })),
      {
        name: 'Hono: withLimeMcpAuth as the whole app (catch-all)',
        prefix: '',
        meta: true,
        app: (hits) => {
          const app = new Hono();
          const guarded = withLimeMcpAuth({ verifier }, (request, auth) =>
            webTool(hits)(request, auth),
          );
          app.all('*', (c) => guarded(c.req.raw));
          return app.fetch;
        },
      },
    ];
    for (const style of styles) {
      const hits: Hit[] = [];
      const fetchHandler = style.app(hits);
      const server = createAdaptorServer({ fetch: fetchHandler }) as Server;
      const origin = await listen(server);
      targets.push({
        label: style.name,
        prefix: style.prefix,
        servesMetadata: style.meta,
        origin,
        server,
        hits,
      });
    }
  });

  afterAll(() => closeTargets(targets));

  it(
    'no method, path variant or mount style reaches a tool without a verified bearer',
    () => expectNoViolations(targets),
    120_000,
  );

  it('the valid bearer reaches the tool, and metadata is served without one', async () => {
    await expectValidReaches(targets);
    for (const target of targets) {
      if (target.servesMetadata) {
        const meta = await rawRequest(
          target.origin,
          'GET',
          '/.well-known/oauth-protected-resource/mcp',
          headersFor('none', 'm'),
        );
        expect(meta.status).toBe(200);
        expect(JSON.parse(meta.body)).toMatchObject({ resource: RESOURCE });
      }
    }
  });
});
