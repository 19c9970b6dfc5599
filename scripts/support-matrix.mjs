#!/usr/bin/env node
// The support matrix of the root README, generated from what the runtime
// matrix test (examples/runtime-matrix) ran: the test writes
// .tmp/runtime-matrix.json and fails unless the README's table equals
// renderMatrix() of it. `node scripts/support-matrix.mjs --write` rewrites the
// table from the last run's JSON.
import { readFileSync, writeFileSync } from 'node:fs';

/** Runtimes the test covers, in column order. */
export const RUNTIMES = ['node', 'bun', 'deno', 'workerd'];

const TITLES = { node: 'Node', bun: 'Bun', deno: 'Deno', workerd: 'workerd' };

/** Rows: what a user does, and the probe checks that prove it. */
const ROWS = [
  ['verify and refuse MCP bearers (`lime-mcp-server-sdk`)', ['mcp-verify']],
  ['verify a site passport (`lime-sites-sdk`)', ['site-verify-passport']],
  ['event stream and `waitForLogin` (`lime-sites-sdk`)', ['login-d15', 'login-d20', 'login-d24']],
  [
    'headless login, PoW at difficulty 15, 20, 24 (`lime-agents-sdk`)',
    ['login-d15', 'login-d20', 'login-d24'],
  ],
  ['`close()` of every client it runs', ['site-close', 'agent-close', 'login-close']],
];

const START = '<!-- support-matrix:start (generated: node scripts/support-matrix.mjs --write) -->';
const END = '<!-- support-matrix:end -->';

function cell(checks, needed) {
  const present = needed.filter((c) => c in checks);
  if (present.length === 0) return '—';
  return present.every((c) => checks[c] === true) ? '✅' : '❌';
}

/**
 * The markdown table for a run's results.
 * @param {{ runtimes: Record<string, { version: string, checks: Record<string, boolean> }> }} results
 */
export function renderMatrix(results) {
  const head = RUNTIMES.map((r) => {
    const v = results.runtimes[r]?.version;
    if (r === 'node') return 'Node ≥ 20.18';
    return v ? `${TITLES[r]} ${v}` : TITLES[r];
  });
  const lines = [`| | ${head.join(' | ')} |`, `|---|${RUNTIMES.map(() => '---').join('|')}|`];
  for (const [label, needed] of ROWS) {
    const cells = RUNTIMES.map((r) => cell(results.runtimes[r]?.checks ?? {}, needed));
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The table between the README's markers, or undefined. */
export function readmeMatrix(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START.length, end).trim();
}

/** The README with its table replaced. */
export function withMatrix(readme, table) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--write')) {
  const root = new URL('..', import.meta.url).pathname;
  const results = JSON.parse(readFileSync(`${root}.tmp/runtime-matrix.json`, 'utf8'));
  const readmePath = `${root}README.md`;
  writeFileSync(readmePath, withMatrix(readFileSync(readmePath, 'utf8'), renderMatrix(results)));
  console.log(renderMatrix(results));
}
