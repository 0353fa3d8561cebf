#!/usr/bin/env bash
# Install PostgreSQL (Debian's `postgresql` package) when its server binaries are absent,
# so the board's tests can start a real server of their own (tests/servers/postgres.py:
# initdb and pg_ctl into a temporary directory, as an unprivileged user).
# Idempotent: does nothing when /usr/lib/postgresql/*/bin/pg_ctl (or pg_ctl on PATH)
# exists. Uses sudo only when not root. A failure here is not fatal to setup: the
# PostgreSQL tests then fail saying what is missing.
set -euo pipefail
source "$(dirname "$0")/apt-install.sh"

server() {
  command -v pg_ctl 2>/dev/null || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" | tail -1
}

if [ -n "$(server || true)" ]; then
  echo "install-postgres: PostgreSQL server present ($(server))"
  exit 0
fi
if ! apt_install install-postgres postgresql; then
  echo "install-postgres: the PostgreSQL board tests will fail" >&2
  exit 0
fi
echo "install-postgres: installed PostgreSQL ($(server))"
