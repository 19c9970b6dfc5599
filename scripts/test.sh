#!/usr/bin/env bash
# The one command that installs everything and runs every check: lint,
# type-check, package checks (publint, attw, tarball contents), then the whole
# test suite on Node 20 (this machine's) and Node 24 (fetched from the npm
# registry); the Node 20 run includes the runtime matrix on Bun, Deno and
# workerd (pinned, fetched from the npm registry by install-runtimes.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "› lint (biome)"
pnpm -s lint
echo "› type-check (tsc, strict)"
pnpm -s typecheck
echo "› package checks (publint, attw, tarball contents)"
pnpm -s check:packages
mkdir -p .tmp
echo "› runtimes for the runtime matrix (Bun, Deno, workerd)"
bash scripts/install-runtimes.sh
echo "› tests on Node $(node --version) (with the runtime matrix: Bun, Deno, workerd)"
LIME_RUNTIME_MATRIX=required pnpm -s vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-node20.json
echo "› tests on Node 24"
LIME_RUNTIME_MATRIX=skip node scripts/with-node24.mjs vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-node24.json
# Plain closing lines (vitest exits non-zero on any failure before this point).
node scripts/vitest-summary.mjs node20 .tmp/vitest-node20.json
node scripts/vitest-summary.mjs node24 .tmp/vitest-node24.json
