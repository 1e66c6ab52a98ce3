#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/test_chat_ui_browser.py) when it is missing.
# Playwright's own browser download cannot work here; the tests drive /usr/bin/chromium instead.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
