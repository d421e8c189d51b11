#!/usr/bin/env bash
# Installs what the test suite needs beyond npm ci, so `bash scripts/run.sh test` works on a fresh machine:
# Debian's chromium (the editor test drives it; nothing downloads a browser) and a real n8n 2.40.7 in the
# cache (the n8n end-to-end test). Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The editor test needs Debian's chromium: run 'sudo apt-get install -y chromium' once." >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
bash scripts/n8n-install.sh >/dev/null
