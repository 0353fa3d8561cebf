#!/usr/bin/env bash
# Entry point of the real-VS-Code runs: installs what they need (cached), then runs
#   run.sh tests --bosun PATH                 the extension's suite in the extension host
#   run.sh screenshots --bosun PATH --vsix F --out DIR   screenshots through code-server
# The extension must be built first (make -C vscode-extension build / vsix).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(cd "$here/../../vscode-extension" && pwd)"
what="${1:?usage: run.sh tests|screenshots [args]}"
shift
env_file="$(bash "$here/setup.sh")"
node_bin="$(sed -n "s/^BOSUN_E2E_NODE_BIN='\(.*\)'$/\1/p" "$env_file")"
case "$what" in
  tests) exec "$node_bin/node" "$here/run-tests.mjs" --env "$env_file" --ext "$ext" "$@" ;;
  screenshots) exec "$node_bin/node" "$here/screenshots.mjs" --env "$env_file" --ext "$ext" "$@" ;;
  *) echo "run.sh: unknown mode $what" >&2; exit 2 ;;
esac
