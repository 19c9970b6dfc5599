// The per-domain token cache must not keep every token an agent ever got.
import { McpTokenCache } from 'lime-agents-sdk/internal/mcp-token-cache';
import { describe, expect, it } from 'vitest';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ18xIn0.c2lnbmF0dXJl';

describe('McpTokenCache', () => {
  it('renews a short-lived token at half its lifetime when the skew is longer', async () => {
    let now = 1_000_000;
    let requests = 0;
    const cache = new McpTokenCache(
      async () => {
        requests++;
        return { accessToken: JWT, expiresIn: 4 };
      },
      30_000, // the default skew, longer than the 4 s token
      () => now,
    );
    const get = () => cache.get({ domain: 'tools.example.com', resource: undefined });
    await get();
    now += 1_900;
    await get();
    expect(requests).toBe(1); // reused: 2.1 s left, more than half of 4 s
    now += 200;
    await get();
    expect(requests).toBe(2); // 1.9 s left: renewed
  });

  it('drops expired tokens as new domains arrive, so memory stays bounded', async () => {
    let now = 1_000_000;
    let requests = 0;
    const cache = new McpTokenCache(
      async () => {
        requests++;
        return { accessToken: JWT, expiresIn: 300 };
      },
      30_000,
      () => now,
    );
    let largest = 0;
    for (let i = 0; i < 5_000; i++) {
      await cache.get({ domain: `d${i}.example.com`, resource: undefined });
      if (i % 250 === 249) largest = Math.max(largest, countCached(cache, i));
      now += 1_000; // 300 tokens live at any time
    }
    expect(requests).toBe(5_000);
    // Without the sweep all 5 000 stay; with it, about the 300 live ones (≤ 2× + the floor).
    expect(largest).toBeLessThanOrEqual(700);
    // A live token is still served from the cache.
    await cache.get({ domain: 'd4999.example.com', resource: undefined });
    expect(requests).toBe(5_000);
  });
});

/** How many domains 0..upTo still have a cached entry. */
function countCached(cache: McpTokenCache, upTo: number): number {
  let n = 0;
  for (let i = 0; i <= upTo; i++) if (cache.peek(`d${i}.example.com`, undefined)) n++;
  return n;
}
