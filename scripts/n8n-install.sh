#!/usr/bin/env bash
# Installs a real n8n (pinned 2.40.7) on Node 24 into a cache folder and prints the path of its `n8n`
# executable. Fast and silent when already installed.
# Why the recipe: 2.41.x misses a dependency in the registry and one of its addons fails to build, so we
# install 2.40.7 with --ignore-scripts and rebuild only sqlite3, the one native addon n8n needs here.
set -euo pipefail
cd "$(dirname "$0")/.."
version="2.40.7"
cache="${WAHOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wahook}"
dir="$cache/n8n-$version"
node_bin="$(bash scripts/node24.sh)"
export PATH="$node_bin:$PATH"
marker="$dir/.installed"
if [ ! -f "$marker" ]; then
  mkdir -p "$dir"
  echo "Installing n8n@$version into $dir (about 5 minutes the first time)..." >&2
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts "n8n@$version" >&2
  (cd "$dir" && npm rebuild sqlite3 >&2)
  "$dir/node_modules/.bin/n8n" --version >/dev/null
  date -u +%FT%TZ > "$marker"
fi
echo "$dir/node_modules/.bin/n8n"
