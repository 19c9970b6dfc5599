// `pnpm bench` must keep reading the benchmarks' figures. The fixtures are
// real outputs of the four benchmarks (captured on the 2-core dev machine).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '../../../scripts/bench-all.parse.mjs';

const fixture = (name: string) =>
  parse(readFileSync(new URL(`./fixtures/bench/${name}.txt`, import.meta.url), 'utf8'));

describe('pnpm bench reads every benchmark', () => {
  it('bench:core — key: value lines, baseline from the target line', () => {
    const { rows, notes } = fixture('core');
    expect(rows.find((r) => r.label === 'logins/s')).toMatchObject({
      value: 956,
      baseline: 500,
    });
    expect(rows.find((r) => r.label === 'latency p99')).toMatchObject({ value: 123.3, unit: 'ms' });
    expect(notes.some((n) => n.startsWith('target:'))).toBe(true);
  });

  it('bench:pow — column-aligned lines with ratios against the naive loop', () => {
    const { rows, notes } = fixture('pow');
    expect(rows.find((r) => r.label === 'WASM SIMD kernel (1 core)')).toMatchObject({
      value: 5.92,
      unit: 'M/s',
      ratio: 22.3,
      ratioText: '22.3× naive',
    });
    expect(rows.find((r) => r.label === 'warm pool, difficulty 15 · median')).toMatchObject({
      value: 2.1,
      unit: 'ms',
    });
    expect(rows.some((r) => r.label.startsWith('PoW benchmark'))).toBe(false); // a title
    expect(notes.filter((n) => /MISSED|met/.test(n))).toHaveLength(4);
  });

  it('bench:verify — a markdown table with baseline and ratio columns, and the ceiling ratio', () => {
    const { rows, notes } = fixture('verify');
    expect(rows[0]).toMatchObject({
      label: 'LimeSite.verifyPassport, all checks · per core (/s)',
      value: 26_232,
      baseline: 7_623,
      ratio: 3.44,
    });
    expect(
      rows.find((r) => r.label === 'verifyPassport per core vs bare crypto.verify, same run'),
    ).toMatchObject({ value: 78, unit: '%' });
    expect(notes.some((n) => /^target ≥ 85 % of bare crypto\.verify: NOT met/.test(n))).toBe(true);
  });

  it('bench:mcp-verify — aligned lines and a ratios-only line', () => {
    const { rows } = fixture('mcp-verify');
    expect(
      rows.find((r) => r.label === 'LimeMcpVerifier.verify (node backend, all checks)'),
    ).toMatchObject({ value: 19_946, unit: '/s' });
    expect(rows.find((r) => r.label === 'ratio ours/jose')?.ratioText).toMatch(/^3\.3×/);
  });
});
