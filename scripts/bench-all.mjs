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
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const args = process.argv.slice(2);
const raw = args.includes('--raw');
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--parse');
const TIMEOUT_MS = 300_000;

const scripts = Object.keys(pkg.scripts)
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
    const child = spawn('pnpm', ['-s', 'run', name], {
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

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const NUMBER = /[-+]?\d[\d,_]*(?:\.\d+)?(?:e[-+]?\d+)?/i;
const UNIT = /^\s*(%|[a-zµμ/]+(?:\/[a-z]+)?)/i;

function toNumber(text) {
  return Number(text.replace(/[,_]/g, ''));
}

/**
 * Find `{value, unit}` of the figure in `text`: the first number after a
 * `label:`, else the first number that is not part of a name (`d=15`, `x4`).
 */
function firstFigure(text) {
  const colon = /:\s/.exec(text);
  const from = colon && NUMBER.test(text.slice(colon.index)) ? colon.index : 0;
  const re = new RegExp(NUMBER.source, 'gi');
  re.lastIndex = from;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const before = text[m.index - 1] ?? ' ';
    if (from === 0 && /[=a-z_]/i.test(before)) continue;
    const after = text.slice(m.index + m[0].length);
    const unit = UNIT.exec(after)?.[1] ?? '';
    return { value: toNumber(m[0]), unit, index: m.index, end: m.index + m[0].length };
  }
  return undefined;
}

/**
 * Turn a benchmark's output into rows `{label, value, unit, baseline?, ratio?}`.
 * Tables (`| a | b |`) use their header row to find value / baseline columns.
 */
function parse(out) {
  const rows = [];
  const lines = out.replace(ANSI, '').split(/\r?\n/);
  let header;
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed || /^[-=|:+\s]+$/.test(trimmed)) continue;
    if (/^\s*(>|\$|npm |pnpm )/.test(line)) continue;
    if (trimmed.includes('|') || trimmed.includes('│')) {
      const cells = trimmed
        .split(/[|│]/)
        .map((c) => c.trim())
        .filter((c, i, all) => !(c === '' && (i === 0 || i === all.length - 1)));
      if (!cells.some((c) => NUMBER.test(c) && !/^[a-z]/i.test(c))) {
        header = cells.map((c) => c.toLowerCase());
        continue;
      }
      const label = cells.find((c) => !/^[-+]?\d/.test(c)) ?? cells[0] ?? '';
      const numeric = cells
        .map((c, i) => ({ c, i, f: /^[-+~≈]?\s*\d/.test(c) ? firstFigure(c) : undefined }))
        .filter((x) => x.f);
      if (numeric.length === 0) continue;
      const col = (word) => header?.findIndex((h) => h.includes(word)) ?? -1;
      const baseIdx = col('baseline');
      const ratioIdx = col('ratio') >= 0 ? col('ratio') : col('speedup');
      const main =
        numeric.find((x) => x.i !== baseIdx && x.i !== ratioIdx && !/^[\d.]+\s*x$/i.test(x.c)) ??
        numeric[0];
      const base = numeric.find((x) => x.i === baseIdx);
      const ratio = numeric.find((x) => x.i === ratioIdx);
      rows.push({
        label: header && main.i < header.length ? `${label} · ${header[main.i]}` : label,
        value: main.f.value,
        unit: main.f.unit,
        baseline: base?.f.value,
        ratio: ratio?.f.value,
      });
      continue;
    }
    const fig = firstFigure(trimmed);
    if (!fig) continue;
    const label = trimmed
      .slice(0, fig.index)
      .replace(/[:=\s.…-]+$/, '')
      .trim();
    if (!label) continue;
    const rest = trimmed.slice(fig.end);
    const baseMatch = /baseline[^\d]*?([-+]?\d[\d,_]*(?:\.\d+)?)/i.exec(rest);
    const ratioMatch = /([\d.]+)\s*[x×]\b/i.exec(rest);
    rows.push({
      label,
      value: fig.value,
      unit: fig.unit,
      baseline: baseMatch ? toNumber(baseMatch[1]) : undefined,
      ratio: ratioMatch ? Number(ratioMatch[1]) : undefined,
    });
  }
  // A label that names a baseline is the baseline of the figure before it.
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i];
    const prev = rows[i - 1];
    if (
      /baseline/i.test(row.label) &&
      prev.baseline === undefined &&
      !/baseline/i.test(prev.label)
    ) {
      prev.baseline = row.value;
      row.isBaseline = true;
    }
  }
  for (const row of rows) {
    if (row.ratio === undefined && row.baseline) row.ratio = row.value / row.baseline;
  }
  return rows.filter((r) => !r.isBaseline);
}

function fmt(n) {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return String(Number(n.toPrecision(4)));
}

// `--parse FILE`: show how a saved benchmark output is read (for tuning).
const parseIdx = args.indexOf('--parse');
if (parseIdx >= 0) {
  console.table(parse(readFileSync(args[parseIdx + 1], 'utf8')));
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
  results.push({ ...r, rows: r.code === 0 ? parse(r.out) : [] });
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
  if (r.rows.length === 0) console.log(`| ${r.name} | (no figures printed) | | | | |`);
  for (const row of r.rows) {
    const ratio = row.ratio === undefined ? '' : `${fmt(row.ratio)}×`;
    console.log(
      `| ${r.name} | ${row.label.replace(/\|/g, '/')} | ${fmt(row.value)} | ${row.unit} | ${fmt(row.baseline)} | ${ratio} |`,
    );
  }
}
const failed = results.filter((r) => r.code !== 0).length;
if (failed) {
  console.error(`\n${failed} benchmark(s) failed`);
  process.exit(1);
}
