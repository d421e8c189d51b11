#!/usr/bin/env bash
# Runs n8n's community-node lint (eslint-plugin-n8n-nodes-base) over package.json, credentials/ and
# nodes/n8n/. The linter is installed into the cache, not the project: the plugin's preinstall script
# (`npx only-allow pnpm`) would break `npm ci`, so it is installed here with --ignore-scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="$(bash scripts/node24.sh)"
export PATH="$node_bin:$PATH"
cache="${WAHOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wahook}"
dir="$cache/n8n-lint"
if [ ! -f "$dir/.installed" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts \
    eslint@8.57.1 eslint-plugin-n8n-nodes-base@2.0.0 @typescript-eslint/parser@8.74.0 typescript@5.9.3 >&2
  date -u +%FT%TZ > "$dir/.installed"
fi
NODE_PATH="$dir/node_modules" "$dir/node_modules/.bin/eslint" --no-eslintrc -c scripts/n8n-eslintrc.js \
  --resolve-plugins-relative-to "$dir" --ext .ts,.json package.json credentials nodes/n8n "$@"
