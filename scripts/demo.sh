#!/usr/bin/env bash
# `npm run demo`: make the machine ready (pnpm, dependencies, a build of every
# package — the demo uses the built SDKs exactly as a user would), then run the
# whole system end to end: examples/demo/src/main.ts.
#
#   LIME_DEMO_SKIP_BOOTSTRAP=1 npm run demo   # skip install + build (already done)
#   LIME_API_BASE=… LIME_SITE_TOKEN=… LIME_AGENT_TOKEN=… npm run demo
#                                             # against a hosted Core instead of the embedded one
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${LIME_DEMO_SKIP_BOOTSTRAP:-}" != "1" ]; then
  bash scripts/bootstrap.sh
fi
exec node_modules/.bin/tsx examples/demo/src/main.ts "$@"
