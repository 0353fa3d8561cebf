#!/usr/bin/env bash
# Install bubblewrap (Debian package) when it is absent, so `run_command` can sandbox.
# Idempotent: does nothing when `bwrap` is already on PATH. Uses sudo only when not root.
# A failure here is not fatal to setup: the tool layer detects the sandbox at start and
# reports the mode it could get (see docs/security.md).
set -euo pipefail

if command -v bwrap >/dev/null 2>&1; then
  echo "install-sandbox: bubblewrap present ($(command -v bwrap))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-sandbox: no apt-get here; install bubblewrap with your package manager" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "install-sandbox: not root and no sudo; install bubblewrap by hand" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends bubblewrap >/dev/null 2>&1; then
  # The package lists may be missing or stale on a fresh machine.
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 || true
  if ! "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends bubblewrap >/dev/null 2>&1; then
    echo "install-sandbox: could not install bubblewrap; commands will use another sandbox mode" >&2
    exit 0
  fi
fi
echo "install-sandbox: installed bubblewrap ($(command -v bwrap))"
