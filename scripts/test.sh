#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run all of it.
#   scripts/test.sh                 the whole suite (what CI runs)
#   scripts/test.sh -m "not slow"   skip the end-to-end tests (real servers, browser)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: the browser, web server and load tool the end-to-end tests drive, and
# gettext's msgfmt, which checks the translations as translators' tools do.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v msgfmt >/dev/null || missing+=(gettext)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: the package and its test extra in a local virtualenv.
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# JavaScript test tools (ical.js, axe-core, yaml-language-server), exactly as locked.
npm ci --no-audit --no-fund --silent

exec .venv/bin/python -m pytest -n 2 "$@"
