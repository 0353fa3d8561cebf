#!/usr/bin/env bash
# Install bubblewrap (Debian package) when it is absent, so `run_command` can sandbox.
# Idempotent: does nothing when `bwrap` is already on PATH. Uses sudo only when not root.
# A failure here is not fatal to setup: the tool layer detects the sandbox at start and
# reports the mode it could get (see docs/security.md).
set -euo pipefail
source "$(dirname "$0")/apt-install.sh"

if command -v bwrap >/dev/null 2>&1; then
  echo "install-sandbox: bubblewrap present ($(command -v bwrap))"
  exit 0
fi
if ! apt_install install-sandbox bubblewrap; then
  echo "install-sandbox: commands will use another sandbox mode" >&2
  exit 0
fi
echo "install-sandbox: installed bubblewrap ($(command -v bwrap))"
