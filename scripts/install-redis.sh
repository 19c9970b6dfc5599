#!/usr/bin/env bash
# Install Debian's redis-server for the replay-store tests
# (packages/sites-sdk/test/redis-*.test.ts), which start their own server on a
# free port and stop it. Nothing is started here.
#
# Idempotent and fast when it is there (one `command -v`, no apt); the apt
# package lists are updated only when the package cannot be found without.
# LIME_SKIP_REDIS=1 skips it (and the tests). Exits non-zero with a clear
# message when it cannot install.
set -euo pipefail

if [ "${LIME_SKIP_REDIS:-}" = "1" ]; then
  echo "› redis-server: skipped (LIME_SKIP_REDIS=1)"
  exit 0
fi

if bin=$(command -v redis-server 2>/dev/null); then
  echo "› redis-server: ready ($bin)"
  exit 0
fi

fail() {
  echo "✗ redis-server: $*" >&2
  echo "  The Redis replay-store tests need: apt-get install -y redis-server" >&2
  echo "  (or redis-server on PATH), or set LIME_SKIP_REDIS=1 to skip them." >&2
  exit 1
}

# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install redis-server redis-server
# The package's own service is not wanted: the tests start theirs on a free port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl stop redis-server >/dev/null 2>&1 || true
fi
bin=$(command -v redis-server) || fail "installed redis-server, but it is not on PATH"
echo "› redis-server: ready ($bin, $("$bin" --version | awk '{print $3}'))"
