// Property tests of MCP target handling through the public API: any spelling
// of one host shares one cached token; IPs and userinfo never cause I/O.
import fc from 'fast-check';
import { LimeAgent, ValidationError } from 'lime-agents-sdk';
import { describe, expect, it } from 'vitest';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ18xIn0.c2lnbmF0dXJl';

/** A fake Core token endpoint that records the requested domains. */
function tokenFetch() {
  const domains: string[] = [];
  const fetch = async (_input: string | URL | Request, init?: RequestInit) => {
    domains.push((JSON.parse(String(init?.body)) as { domain: string }).domain);
    return new Response(
      JSON.stringify({ access_token: JWT, token_type: 'Bearer', expires_in: 300 }),
      {
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      },
    );
  };
  return { fetch, domains };
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const host = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'dev', 'example'))
  .map(([labels, tld]) => [...labels, tld].join('.'))
  .filter((h) => !/^\d+(\.\d+)*$/.test(h));

/** Random case, optional scheme, port, path, query and trailing dot. */
const spelling = (h: string) =>
  fc
    .record({
      upper: fc.array(fc.boolean(), { minLength: h.length, maxLength: h.length }),
      scheme: fc.constantFrom('', 'https://', 'http://', 'HTTPS://'),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: fc.constantFrom('', '/mcp', '/v2/mcp', '/'),
      query: fc.constantFrom('', '?a=1'),
      dot: fc.boolean(),
    })
    .map(({ upper, scheme, port, path, query, dot }) => {
      const cased = [...h].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
      const base = `${cased}${dot ? '.' : ''}${port === undefined ? '' : `:${port}`}`;
      return scheme === '' ? `${base}${path}` : `${scheme}${base}${path}${query}`;
    });

describe('MCP targets (property)', () => {
  it('every spelling of a host maps to that lowercase host and one token request', async () => {
    await fc.assert(
      fc.asyncProperty(
        host.chain((h) =>
          fc.tuple(fc.constant(h), fc.array(spelling(h), { minLength: 1, maxLength: 8 })),
        ),
        async ([h, spellings]) => {
          const fake = tokenFetch();
          await using agent = new LimeAgent({
            agentToken: 'at_prop_0123456789',
            apiBase: 'http://core.test',
            fetch: fake.fetch,
            // some spellings are http://: this property is about the domain key
            allowInsecureMcp: true,
          });
          const tokens = await Promise.all(spellings.map((s) => agent.getMcpAccessToken(s)));
          expect(fake.domains).toEqual([h]);
          expect(tokens.every((t) => t.domain === h)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('IPv4 hosts and userinfo are refused before any I/O', async () => {
    const fake = tokenFetch();
    await using agent = new LimeAgent({
      agentToken: 'at_prop_0123456789',
      apiBase: 'http://core.test',
      fetch: fake.fetch,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.ipV4().map((ip) => ip),
          fc.ipV4().map((ip) => `https://${ip}:8443/mcp`),
          fc.ipV6().map((ip) => `https://[${ip}]/mcp`),
          host.map((h) => `https://user:secret@${h}/mcp`),
        ),
        async (target) => {
          await expect(agent.getMcpAccessToken(target)).rejects.toBeInstanceOf(ValidationError);
        },
      ),
      { numRuns: 200 },
    );
    expect(fake.domains).toEqual([]);
  });
});

describe('MCP targets over plain http', () => {
  it('are refused for non-local hosts before any I/O, unless allowInsecureMcp', async () => {
    const fake = tokenFetch();
    await using agent = new LimeAgent({
      agentToken: 'at_prop_0123456789',
      apiBase: 'http://core.test',
      fetch: fake.fetch,
    });
    const refusal = await agent.getMcpAccessToken('http://tools.example.com/mcp').catch((e) => e);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal.message).toMatch(/unencrypted/);
    expect(() => agent.mcp('http://tools.example.com/mcp')).toThrow(ValidationError);
    expect(fake.domains).toEqual([]);
    // loopback names stay usable for local development
    await expect(agent.getMcpAccessToken('http://localhost:3000/mcp')).resolves.toMatchObject({
      domain: 'localhost',
    });
    await using lax = new LimeAgent({
      agentToken: 'at_prop_0123456789',
      apiBase: 'http://core.test',
      fetch: fake.fetch,
      allowInsecureMcp: true,
    });
    await expect(lax.getMcpAccessToken('http://tools.example.com/mcp')).resolves.toMatchObject({
      domain: 'tools.example.com',
    });
  });

  it('exempt only `localhost` itself: names the runtime resolves through DNS are refused', async () => {
    // Node does not map `*.localhost` or `localhost.` to loopback: getaddrinfo
    // asks DNS (and may append search domains), so whoever answers would get
    // the bearer in clear text.
    const fake = tokenFetch();
    await using agent = new LimeAgent({
      agentToken: 'at_prop_0123456789',
      apiBase: 'http://core.test',
      fetch: fake.fetch,
    });
    for (const target of [
      'http://tools.localhost/mcp',
      'http://localhost.:3000/mcp',
      'http://LOCALHOST./mcp',
      'http://a.b.localhost:8080/mcp',
    ]) {
      const refusal = await agent.getMcpAccessToken(target).catch((e) => e);
      expect(refusal, target).toBeInstanceOf(ValidationError);
      expect(refusal.message).toMatch(/unencrypted/);
      expect(() => agent.mcp(target), target).toThrow(ValidationError);
    }
    expect(fake.domains).toEqual([]);
    await expect(agent.getMcpAccessToken('http://LOCALHOST:3000/mcp')).resolves.toMatchObject({
      domain: 'localhost',
    });
  });
});
