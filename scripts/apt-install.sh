#!/usr/bin/env bash
# Shared by the install-*.sh scripts: `apt_install NAME PACKAGE...` installs Debian
# packages with apt-get (sudo -n when not root), refreshing the package lists once if
# the first try fails. Never fatal: prints why and returns 1, so setup goes on and the
# feature that needed the package reports what is missing.

apt_install() {
  local name=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: no apt-get here; install $* with your package manager" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "$name: not root and no sudo; install $* by hand" >&2
      return 1
    fi
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300)
  if ! "${apt[@]}" install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    "${apt[@]}" update -q >/dev/null 2>&1 || true
    if ! "${apt[@]}" install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
      echo "$name: could not install $*" >&2
      return 1
    fi
  fi
}
