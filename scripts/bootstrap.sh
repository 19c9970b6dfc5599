#!/usr/bin/env bash
# Make a fresh machine ready: pnpm (corepack cannot fetch it here, npm can),
# then the workspace's dependencies from the lockfile, then a build, then the
# Debian Python packages of the Python interop tests (examples/python-peers),
# then Debian's redis-server for the replay-store tests (packages/sites-sdk).
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "› installing pnpm@$PNPM_VERSION with npm"
  npm install -g --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null
fi
echo "› pnpm install"
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile --reporter=append-only
else
  pnpm install --reporter=silent
fi
echo "› build"
pnpm -s build >/dev/null
bash scripts/install-python-peers.sh
bash scripts/install-redis.sh
