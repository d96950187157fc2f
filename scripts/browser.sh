#!/usr/bin/env bash
# browser.sh - make sure headless Chromium is there for the browser tests (pytest -m browser).
#
# Playwright drives the system's Chromium (Debian's package): `playwright install` downloads
# browsers from outside the package registries, which these machines cannot reach. Idempotent:
# reuses an installed Chromium (a quick check), installs the package otherwise.
# Env: WARDEN_CHROMIUM (default /usr/bin/chromium). Logs go to stderr.
set -euo pipefail

CHROMIUM=${WARDEN_CHROMIUM:-/usr/bin/chromium}
log() { echo "[browser $(date +%T)] $*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ -x "$CHROMIUM" ]; then
  log "Chromium found at $CHROMIUM, reusing it"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { log "ERROR: no Chromium at $CHROMIUM and no apt-get to install it"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
$SUDO apt-get update -qq
log "apt-get install chromium"
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$CHROMIUM" ] || { log "ERROR: chromium installed but $CHROMIUM is missing (set WARDEN_CHROMIUM)"; exit 1; }
log "Chromium installed at $CHROMIUM"
