#!/usr/bin/env bash
# Sourced by the install-*.sh scripts: install Debian packages as root (or
# with passwordless sudo), trying the package lists already on the machine
# first and updating them only when that fails (a fresh machine has missing
# or stale lists). Callers define `fail MESSAGE` (print the fix, exit 1)
# before calling `apt_install LABEL PACKAGE...`.

apt_install() {
  local label=$1
  shift
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian-like machine)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || fail "not root and no passwordless sudo"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  local log
  log=$(mktemp)
  echo "› $label: apt-get install $*"
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
    echo "› $label: apt-get update"
    "${sudo[@]}" apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; fail "apt-get update failed"; }
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
      { cat "$log" >&2; rm -f "$log"; fail "apt-get install failed"; }
  fi
  rm -f "$log"
}
