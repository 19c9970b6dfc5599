// How `pnpm bench` reads a benchmark's output: figures, baselines, ratios and
// target verdicts, from whatever format the benchmark prints. Kept apart from
// scripts/bench-all.mjs so examples/demo/test/bench-parse.test.ts can test it
// on real outputs.

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
export function parse(out) {
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
