#!/usr/bin/env bash
# Pinned Bun, Deno and workerd for the runtime matrix test
# (examples/runtime-matrix), from the npm registry: each package carries its
# binary in a per-platform optionalDependency, so `--ignore-scripts` is enough
# and nothing runs at install time. Installed into .tmp/runtimes (not the
# workspace), with links in .tmp/runtimes/bin; skipped when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
WORKERD_VERSION=1.20261117.1
dir=.tmp/runtimes
stamp="bun@$BUN_VERSION deno@$DENO_VERSION workerd@$WORKERD_VERSION"
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -x "$dir/bin/bun" ] && [ -x "$dir/bin/deno" ] && [ -x "$dir/bin/workerd" ]; then
  exit 0
fi
echo "› installing $stamp into $dir"
rm -rf "$dir"
mkdir -p "$dir/bin"
echo '{ "private": true }' >"$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --no-package-lock \
  "bun@$BUN_VERSION" "deno@$DENO_VERSION" "workerd@$WORKERD_VERSION" >/dev/null)
# The real binaries (the wrappers' own bin entries need their postinstall).
first() { for f in "$@"; do [ -x "$f" ] && { echo "$f"; return; }; done; return 1; }
bun=$(first "$PWD/$dir"/node_modules/@oven/bun-*/bin/bun) || { echo "no bun binary for this platform" >&2; exit 1; }
deno=$(first "$PWD/$dir"/node_modules/@deno/*/deno) || { echo "no deno binary for this platform" >&2; exit 1; }
workerd=$(first "$PWD/$dir"/node_modules/@cloudflare/workerd-*/bin/workerd) || { echo "no workerd binary for this platform" >&2; exit 1; }
ln -sf "$bun" "$dir/bin/bun"
ln -sf "$deno" "$dir/bin/deno"
ln -sf "$workerd" "$dir/bin/workerd"
"$dir/bin/bun" --version >/dev/null && "$dir/bin/deno" --version >/dev/null && "$dir/bin/workerd" --version >/dev/null
echo "$stamp" >"$dir/stamp"
