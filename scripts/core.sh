#!/usr/bin/env bash
# Start the reference Core (CLI) on port 8787, installing and building first
# when this is a fresh clone. Arguments go to the CLI (--port, --difficulty …).
# Sites, agents, tokens and signing keys are kept in .lime-core/ at the
# repository root (gitignored), so a restart prints the same tokens;
# `npm run core -- --ephemeral` keeps nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ ! -f packages/core/dist/cli.js ] || [ ! -f packages/wire/dist/index.js ]; then
  bash scripts/bootstrap.sh
fi
exec node packages/core/dist/cli.js "$@"
