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

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian-like machine)"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || fail "not root and no passwordless sudo"
  SUDO=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() {
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends redis-server >"$log" 2>&1
}
echo "› redis-server: apt-get install redis-server"
# Try the lists already on the machine first; update them only when that fails
# (missing or stale lists on a fresh machine).
if ! install; then
  echo "› redis-server: apt-get update"
  "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; fail "apt-get update failed"; }
  install || { cat "$log" >&2; fail "apt-get install failed"; }
fi
# The package's own service is not wanted: the tests start theirs on a free port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  "${SUDO[@]}" systemctl stop redis-server >/dev/null 2>&1 || true
fi
bin=$(command -v redis-server) || fail "installed redis-server, but it is not on PATH"
echo "› redis-server: ready ($bin, $("$bin" --version | awk '{print $3}'))"
