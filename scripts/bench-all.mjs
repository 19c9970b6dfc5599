#!/usr/bin/env node
// `pnpm bench`: run every `bench:*` script of the root package.json one after
// the other (they compete for the same CPUs, so never in parallel), collect
// the figures they print and show one table, with the ratio to each figure's
// baseline when the benchmark printed one.
//
// The benchmarks are owned by their packages and print what they like; this
// script only assumes that a figure is a line holding a label and a number
// (`verify (cached JWKS): 41,230 ops/s`, `| pow d=15 | 12.3 ms |`), and that a
// line or column mentioning "baseline" holds the number to compare against.
//
//   pnpm bench                 # every benchmark
//   pnpm bench pow verify      # only those whose script name contains a word
//   pnpm bench --raw           # also echo each benchmark's own output
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from './bench-all.parse.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const args = process.argv.slice(2);
const raw = args.includes('--raw');
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--parse');
const TIMEOUT_MS = 300_000;

// Benchmarks without a root script: run as `node <args>` (the soak needs
// --expose-gc to force collections before it reads the heap).
const COMMANDS = {
  'bench:core-soak': ['--expose-gc', '--import', 'tsx', 'packages/core/bench/soak.bench.ts'],
};

const scripts = [...Object.keys(pkg.scripts), ...Object.keys(COMMANDS)]
  .filter((name) => name.startsWith('bench:'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)));

if (scripts.length === 0) {
  console.error(`no bench:* script matches ${filters.join(', ')}`);
  process.exit(1);
}

/** Run one script, echoing a heartbeat, and resolve with its output. */
function run(name) {
  return new Promise((resolve) => {
    const started = performance.now();
    const [cmd, cmdArgs] = COMMANDS[name]
      ? [process.execPath, COMMANDS[name]]
      : ['pnpm', ['-s', 'run', name]];
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ name, code, signal, out, ms: performance.now() - started });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ name, code: 1, signal: null, out: String(err), ms: 0 });
    });
  });
}

function fmt(n) {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return String(Number(n.toPrecision(4)));
}

// `--parse FILE`: show how a saved benchmark output is read (for tuning).
const parseIdx = args.indexOf('--parse');
if (parseIdx >= 0) {
  const parsed = parse(readFileSync(args[parseIdx + 1], 'utf8'));
  console.table(parsed.rows);
  console.log(parsed.notes);
  process.exit(0);
}

const results = [];
for (const name of scripts) {
  process.stderr.write(`› ${name} … `);
  const r = await run(name);
  process.stderr.write(
    `${r.code === 0 ? 'ok' : `FAILED (${r.signal ?? `exit ${r.code}`})`} in ${(r.ms / 1000).toFixed(1)} s\n`,
  );
  if (raw || r.code !== 0) process.stderr.write(`${r.out.trimEnd()}\n\n`);
  results.push({ ...r, parsed: r.code === 0 ? parse(r.out) : { rows: [], notes: [] } });
}

console.log(
  `\nLIME benchmarks — node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString()}\n`,
);
console.log('| benchmark | figure | value | unit | baseline | ratio |');
console.log('|---|---|---:|---|---:|---:|');
for (const r of results) {
  if (r.code !== 0) {
    console.log(`| ${r.name} | **failed** (${r.signal ?? `exit ${r.code}`}) | | | | |`);
    continue;
  }
  if (r.parsed.rows.length === 0) console.log(`| ${r.name} | (no figures printed) | | | | |`);
  for (const row of r.parsed.rows) {
    const ratio = row.ratioText ?? (row.ratio === undefined ? '' : `${fmt(row.ratio)}×`);
    console.log(
      `| ${r.name} | ${row.label.replace(/\|/g, '/')} | ${fmt(row.value)} | ${row.unit ?? ''} | ${fmt(row.baseline)} | ${ratio} |`,
    );
  }
}
// PoW hash rate per runtime, as the last runtime matrix test measured it
// (examples/runtime-matrix: 4 solves at difficulty 22 on the SDK's worker pool).
const matrixFile = `${root}.tmp/runtime-matrix.json`;
if (existsSync(matrixFile) && (filters.length === 0 || filters.some((f) => 'pow'.includes(f)))) {
  const { runtimes } = JSON.parse(readFileSync(matrixFile, 'utf8'));
  for (const [name, r] of Object.entries(runtimes)) {
    if (r.hashRate === undefined) continue;
    console.log(
      `| runtime matrix (last test run, ${statSync(matrixFile).mtime.toISOString().slice(0, 10)}) | pow hash rate, ${name} ${r.version} | ${fmt(r.hashRate)} | hashes/s | | |`,
    );
  }
}
const notes = results.filter((r) => r.code === 0 && r.parsed.notes.length > 0);
if (notes.length > 0) {
  console.log('\nTargets, as each benchmark judged them:');
  for (const r of notes) for (const note of r.parsed.notes) console.log(`  ${r.name}: ${note}`);
}
const failed = results.filter((r) => r.code !== 0).length;
if (failed) {
  console.error(`\n${failed} benchmark(s) failed`);
  process.exit(1);
}
