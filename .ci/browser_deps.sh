#!/usr/bin/env bash
# What the browser tests (tests/browser) need besides the Python packages: Debian's Chromium
# (Playwright drives it; no browser download) and axe-core from the npm registry, installed
# into a cache directory outside the repository. Idempotent; prints the axe-core path.
set -euo pipefail
AXE_CORE_VERSION=4.14.1
axe_dir="${AXE_CORE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ca-directory/axe-core-$AXE_CORE_VERSION}"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install chromium'" >&2
    exit 1
  fi
fi

if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$axe_dir"
  npm install --silent --no-audit --no-fund --prefix "$axe_dir" "axe-core@$AXE_CORE_VERSION" >/dev/null
fi
echo "$axe_dir/node_modules/axe-core/axe.min.js"
