// The pure parts of scripts/check-packages.mjs: given a package's manifest,
// the files of its packed tarball and the attw report, list what is wrong.
// Unit-tested in examples/demo/test/check-packages.test.ts.

/** The repository every package must point at (and the README links too). */
export const REPOSITORY = 'https://github.com/lime-pics/lime-ts';

/** Files every tarball must carry. */
export const REQUIRED_FILES = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'];

/** The module resolution modes attw must find types under, for every subpath. */
export const RESOLUTION_MODES = ['node10', 'node16-cjs', 'node16-esm', 'bundler'];

/**
 * Problems with the manifest fields a registry page needs.
 * @param {Record<string, any>} pkg the packed package.json
 * @param {string} dir the package's directory in the repository, e.g. `packages/wire`
 */
export function manifestProblems(pkg, dir) {
  const out = [];
  if (pkg.license !== 'MIT') out.push(`license is ${JSON.stringify(pkg.license)}, expected "MIT"`);
  const repo = pkg.repository;
  if (typeof repo !== 'object' || repo === null) {
    out.push('repository is missing (expected { type, url, directory })');
  } else {
    if (repo.url !== `git+${REPOSITORY}.git`)
      out.push(`repository.url is ${JSON.stringify(repo.url)}, expected "git+${REPOSITORY}.git"`);
    if (repo.directory !== dir)
      out.push(`repository.directory is ${JSON.stringify(repo.directory)}, expected "${dir}"`);
  }
  if (typeof pkg.homepage !== 'string' || !pkg.homepage.startsWith(REPOSITORY))
    out.push(`homepage is ${JSON.stringify(pkg.homepage)}, expected a page under ${REPOSITORY}`);
  if (pkg.bugs?.url !== `${REPOSITORY}/issues`)
    out.push(`bugs.url is ${JSON.stringify(pkg.bugs?.url)}, expected "${REPOSITORY}/issues"`);
  return out;
}

/**
 * Markdown links and images that only work inside the repository (relative
 * paths): on the registry they are broken. Anchors (`#…`) and absolute URLs
 * pass. Fenced code blocks are skipped.
 * @param {string} markdown
 * @returns {string[]} one `line N: target` per offending link
 */
export function relativeLinks(markdown) {
  const out = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const targets = [
      ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
      ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((m) => m[1]),
      ...[...line.matchAll(/\b(?:href|src)=["']([^"']+)["']/g)].map((m) => m[1]),
    ];
    for (const t of targets) {
      if (/^(https?:|mailto:|#)/i.test(t)) continue;
      out.push(`line ${i + 1}: ${t}`);
    }
  });
  return out;
}

const norm = (p) => {
  const parts = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
};
const dirOf = (p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** Every string value of an `exports`/`bin`/… tree. */
function strings(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Specifiers of relative imports, requires, re-exports and source maps in a file. */
export function relativeReferences(source) {
  const out = new Set();
  const re =
    /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']|[#@]\s*sourceMappingURL=(\S+)|\/\/\/\s*<reference\s+path=["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && !spec.startsWith('data:'))
      out.add(m[2] && !spec.startsWith('.') ? `./${spec}` : spec);
  }
  return [...out];
}

/** Where a relative specifier may land: itself, or its declaration file. */
function candidates(from, spec) {
  const base = norm(`${dirOf(from)}/${spec}`);
  const isDecl = /\.d\.[cm]?ts$/.test(from);
  const list = [base];
  if (isDecl) {
    list.push(
      base.replace(/\.js$/, '.d.ts'),
      base.replace(/\.cjs$/, '.d.cts'),
      base.replace(/\.mjs$/, '.d.mts'),
      `${base}.d.ts`,
      `${base}/index.d.ts`,
    );
  } else {
    list.push(`${base}.js`, `${base}/index.js`);
  }
  return list;
}

/**
 * Files of a tarball that nothing reaches: not named by a manifest (the root
 * package.json or a subpath stub's `main`/`module`/`types`/`exports`/`bin`),
 * not imported, re-exported or source-mapped by a reached file, and not one
 * of the documents every package carries.
 * @param {Record<string, string>} files path (relative to the package root) → text content
 * @returns {{ unexpected: string[], missing: string[] }} unreached files, and
 *   targets that manifests or imports name but the tarball lacks
 */
export function unreachedFiles(files) {
  const present = new Set(Object.keys(files));
  const reached = new Set();
  const missing = new Set();
  const queue = [];
  const reach = (path, from) => {
    if (reached.has(path)) return;
    if (!present.has(path)) {
      missing.add(`${path} (named by ${from})`);
      return;
    }
    reached.add(path);
    queue.push(path);
  };
  for (const doc of REQUIRED_FILES) if (present.has(doc)) reached.add(doc);
  for (const path of present) {
    if (!(path === 'package.json' || path.endsWith('/package.json'))) continue;
    reached.add(path);
    const manifest = JSON.parse(files[path]);
    const named = [
      manifest.main,
      manifest.module,
      manifest.types,
      manifest.typings,
      ...strings(manifest.exports),
      ...strings(manifest.bin),
    ].filter((s) => typeof s === 'string' && !s.includes('*'));
    for (const target of named) reach(norm(`${dirOf(path)}/${target}`), path);
  }
  while (queue.length > 0) {
    const path = queue.shift();
    if (!/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(path)) continue;
    for (const spec of relativeReferences(files[path])) {
      const hit = candidates(path, spec).find((c) => present.has(c));
      if (hit) reach(hit, path);
      else missing.add(`${spec} (imported by ${path})`);
    }
  }
  return {
    unexpected: [...present].filter((p) => !reached.has(p)).sort(),
    missing: [...missing].sort(),
  };
}

/**
 * Problems in an `attw --format json` report: any problem attw found, and
 * any subpath that does not resolve to type declarations under each of the
 * four resolution modes (attw's strict profile), so a mode dropped from the
 * run (or a subpath missing from `exports`) cannot pass silently.
 * @param {any} report
 * @param {string[]} subpaths the subpaths of the package's `exports` (`.`, `./express`, …)
 */
export function attwProblems(report, subpaths) {
  const out = [];
  for (const p of report.analysis?.problems ?? []) {
    out.push(
      `${p.kind}${p.entrypoint ? ` in ${p.entrypoint}` : ''}${p.resolutionKind ? ` (${p.resolutionKind})` : ''}`,
    );
  }
  const entrypoints = report.analysis?.entrypoints ?? {};
  for (const subpath of subpaths) {
    const entry = entrypoints[subpath];
    if (!entry) {
      out.push(`${subpath}: not checked by attw`);
      continue;
    }
    for (const mode of RESOLUTION_MODES) {
      const resolution = entry.resolutions?.[mode]?.resolution;
      if (!resolution?.isTypeScript) out.push(`${subpath}: no type declarations under ${mode}`);
    }
  }
  return out;
}

/** The code subpaths of an `exports` map (`./package.json` and patterns excluded). */
export function exportedSubpaths(exportsField) {
  if (typeof exportsField === 'string' || !exportsField) return ['.'];
  const keys = Object.keys(exportsField);
  if (!keys.every((k) => k.startsWith('.'))) return ['.'];
  return keys.filter((k) => !k.endsWith('.json') && !k.includes('*'));
}
