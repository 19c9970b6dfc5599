#!/usr/bin/env bash
# The one command that installs everything and runs every check: lint,
# type-check, package checks (publint, attw), then the whole test suite on
# Node 20 (this machine's) and Node 24 (fetched from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "› lint (biome)"
pnpm -s lint
echo "› type-check (tsc, strict)"
pnpm -s typecheck
echo "› package checks (publint, attw)"
pnpm -s check:packages
mkdir -p .tmp
echo "› tests on Node $(node --version)"
pnpm -s vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-node20.json
echo "› tests on Node 24"
node scripts/with-node24.mjs vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-node24.json
# Plain closing lines (vitest exits non-zero on any failure before this point).
node scripts/vitest-summary.mjs node20 .tmp/vitest-node20.json
node scripts/vitest-summary.mjs node24 .tmp/vitest-node24.json
