#!/usr/bin/env bash
# The README's entry point: puts Node 24 (installed from the npm registry into a cache folder) first on
# PATH, installs the project's dependencies when they are missing or stale, then runs `npm run <script>`.
#   bash scripts/run.sh start   # the product, on the embedded SQLite store
#   bash scripts/run.sh test    # the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="$(bash scripts/node24.sh)"
export PATH="$node_bin:$PATH"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
script="${1:?usage: scripts/run.sh <npm script> [args...]}"
shift
if [ "$script" = test ]; then bash scripts/test-deps.sh; fi
exec npm run "$script" -- "$@"
