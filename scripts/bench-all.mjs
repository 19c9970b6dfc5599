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
const NUMBER = /[-+]?\d(?:[\d_]|,(?=\d{3}))*(?:\.\d+)?(?:e[-+]?\d+)?/i;
const UNIT = /^\s*(%|[a-zµμ/]+(?:\/[a-z]+)?)/i;

function toNumber(text) {
  return Number(text.replace(/[,_]/g, ''));
}

/**
 * Find `{value, unit}` of the first number in `text` that is not part of a
 * name (`d=15`, `x4`, `p99`), or undefined.
 */
function firstFigure(text) {
  const re = new RegExp(NUMBER.source, 'gi');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const before = text[m.index - 1] ?? ' ';
    if (/[=a-z_]/i.test(before)) continue;
    const after = text.slice(m.index + m[0].length);
    const unit = UNIT.exec(after)?.[1] ?? '';
    return { value: toNumber(m[0]), unit, index: m.index, end: m.index + m[0].length };
  }
  return undefined;
}

/** Targets and verdicts ("target: …", "… MISSED", "NOT met") are shown as notes, not figures. */
const NOTE = /\btarget|\bMISSED\b|\bNOT met\b|:\s+met\b/i;
const RATIO = /([-+]?\d[\d,_]*(?:\.\d+)?)\s*[x×](?![a-z])\s*([a-z][\w/-]*)?/i;

/**
 * Turn a benchmark's output into `{rows, notes}`; a row is
 * `{label, value, unit, baseline?, ratio?, ratioText?}`. A figure is:
 * - a table row (`| a | 1,234 | … |`), its header naming the value, baseline and ratio columns;
 * - a column-aligned line, `label   1.23 M/s  = 5.7× naive`;
 * - a `label: 123 unit` line.
 * Titles and prose (no colon, no column gap) are skipped.
 */
function parse(out) {
  const rows = [];
  const notes = [];
  const lines = out.replace(ANSI, '').split(/\r?\n/);
  let header;
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed || /^[-=|:+\s]+$/.test(trimmed)) continue;
    if (/^\s*(>|\$|npm |pnpm )/.test(line)) continue;
    if (NOTE.test(trimmed)) {
      notes.push(trimmed);
      applyBaselineNote(rows, trimmed);
      continue;
    }
    if (trimmed.startsWith('|') || trimmed.startsWith('│')) {
      const row = parseTableRow(trimmed, header);
      if (row === 'header') {
        header = trimmed
          .split(/[|│]/)
          .slice(1, -1)
          .map((c) => c.trim().toLowerCase());
      } else if (row) rows.push(row);
      continue;
    }
    header = undefined;
    // `label<2+ spaces>rest` or `label: rest`
    const gap = /\S(\s{2,})\S/.exec(trimmed);
    const colon = /:\s/.exec(trimmed);
    let label;
    let rest;
    if (gap && (!colon || gap.index < colon.index)) {
      label = trimmed.slice(0, gap.index + 1);
      rest = trimmed.slice(gap.index + 1 + gap[1].length);
    } else if (colon) {
      label = trimmed.slice(0, colon.index);
      rest = trimmed.slice(colon.index + 1).trim();
    } else continue;
    label = label.replace(/[:=\s.…-]+$/, '').trim();
    const fig = firstFigure(rest);
    if (!label || !fig) continue;
    const qualifier = rest
      .slice(0, fig.index)
      .replace(/[:=\s]+$/, '')
      .trim();
    const after = rest.slice(fig.end);
    if (/^\s*[x×](?![a-z])/i.test(after)) {
      rows.push({ label, ratioText: rest });
      continue;
    }
    const row = {
      label: qualifier ? `${label} · ${qualifier}` : label,
      value: fig.value,
      unit: fig.unit,
    };
    const base = /baseline[^\d]*?([-+]?\d[\d,_]*(?:\.\d+)?)/i.exec(after);
    if (base) row.baseline = toNumber(base[1]);
    const ratio = RATIO.exec(after);
    if (ratio) {
      row.ratio = toNumber(ratio[1]);
      if (ratio[2]) row.ratioText = `${ratio[1]}× ${ratio[2]}`;
    }
    rows.push(row);
  }
  // A row labelled "baseline" is the baseline of the row before it.
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
    if (row.ratio === undefined && row.baseline && row.value !== undefined) {
      row.ratio = row.value / row.baseline;
    }
  }
  return { rows: rows.filter((r) => !r.isBaseline), notes };
}

/** `| cells |` → a row, `'header'` for a header row, undefined for anything else. */
function parseTableRow(trimmed, header) {
  const cells = trimmed
    .split(/[|│]/)
    .slice(1, -1)
    .map((c) => c.trim());
  const numeric = cells
    .map((c, i) => ({ c, i, f: /^[-+~≈]?\s*\d/.test(c) ? firstFigure(c) : undefined }))
    .filter((x) => x.f);
  if (numeric.length === 0) return header ? undefined : 'header';
  const col = (word) => header?.findIndex((h) => h.includes(word)) ?? -1;
  const baseIdx = col('baseline');
  const ratioIdx = col('ratio') >= 0 ? col('ratio') : col('speedup');
  const main =
    numeric.find((x) => x.i !== baseIdx && x.i !== ratioIdx && !/^[\d.]+\s*[x×]$/i.test(x.c)) ??
    numeric[0];
  const label = cells.find((c) => !/^[-+~≈]?\s*\d/.test(c)) ?? '';
  return {
    label: header && main.i < header.length ? `${label} · ${header[main.i]}` : label,
    value: main.f.value,
    unit: main.f.unit || '',
    baseline: numeric.find((x) => x.i === baseIdx)?.f.value,
    ratio: numeric.find((x) => x.i === ratioIdx)?.f.value,
  };
}

/** "(baseline 500 logins/s)" in a target line: the baseline of the row measured in that unit. */
function applyBaselineNote(rows, note) {
  const m = /baseline\s+([-+]?\d[\d,_]*(?:\.\d+)?)\s*([^\s),;]+)/i.exec(note);
  if (!m) return;
  const unit = m[2].toLowerCase();
  const row = rows.find(
    (r) =>
      r.baseline === undefined &&
      (r.unit?.toLowerCase() === unit || r.label.toLowerCase() === unit),
  );
  if (row) {
    row.baseline = toNumber(m[1]);
    row.ratio = row.value / row.baseline;
  }
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
