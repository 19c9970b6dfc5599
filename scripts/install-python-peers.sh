#!/usr/bin/env bash
# Install what examples/python-peers needs to run the published Python SDKs
# (shared/reference/python-sdks) as peer clients: a Python 3 with httpx, PyJWT,
# cryptography and anyio, from Debian's packages (PyPI is not reachable here).
# Debian's python3-* land in /usr/bin/python3, not in a pyenv/venv `python3`;
# the test looks for them there (or in $LIME_PYTHON). The `mcp` package the
# agents SDK imports is stubbed by the test itself.
#
# Idempotent and fast when everything is there (one import check, no apt).
# LIME_SKIP_PYTHON_PEERS=1 skips it (and the tests). Exits non-zero with a
# clear message when it cannot install.
set -euo pipefail

if [ "${LIME_SKIP_PYTHON_PEERS:-}" = "1" ]; then
  echo "› python peers: skipped (LIME_SKIP_PYTHON_PEERS=1)"
  exit 0
fi

MODULES="httpx, jwt, cryptography, anyio"
PACKAGES=(python3 python3-httpx python3-jwt python3-cryptography python3-anyio)

has_modules() {
  local py
  for py in "${LIME_PYTHON:-}" /usr/bin/python3; do
    [ -n "$py" ] && [ -x "$(command -v "$py" 2>/dev/null || true)" ] || continue
    if "$py" -c "import $MODULES" >/dev/null 2>&1; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

if py=$(has_modules); then
  echo "› python peers: ready ($py has $MODULES)"
  exit 0
fi

fail() {
  echo "✗ python peers: $*" >&2
  echo "  The Python interop tests (examples/python-peers) need: apt-get install -y ${PACKAGES[*]}" >&2
  echo "  (or LIME_PYTHON=<a python3 with $MODULES>), or set LIME_SKIP_PYTHON_PEERS=1 to skip them." >&2
  exit 1
}

# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install "python peers" "${PACKAGES[@]}"

py=$(has_modules) || fail "installed ${PACKAGES[*]}, but /usr/bin/python3 still cannot import $MODULES"
echo "› python peers: ready ($py has $MODULES)"
