#!/usr/bin/env bash
# Install the official ACP TypeScript SDK (the client side the `bosun acp` end-to-end test
# drives the agent with) into a cache, once; fast when cached. Prints the SDK directory.
set -euo pipefail

CACHE="${BOSUN_ACP_CACHE:-$HOME/.cache/bosun-acp}"
SDK_VERSION="${BOSUN_ACP_SDK:-2.4.0}"
DIR="$CACHE/sdk-$SDK_VERSION"
SDK="$DIR/node_modules/@agentclientprotocol/sdk"

if [[ ! -f "$SDK/package.json" ]] || [[ ! -d "$DIR/node_modules/zod" ]]; then
  command -v npm >/dev/null || { echo "acp-setup: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$DIR"
  echo '{"private": true}' > "$DIR/package.json"
  npm install --silent --no-audit --no-fund --prefix "$DIR" \
    "@agentclientprotocol/sdk@$SDK_VERSION" "zod@^4" >&2
fi
echo "$SDK"
