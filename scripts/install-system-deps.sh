#!/usr/bin/env bash
# Installs the Debian packages navan-voice needs, only those missing (apt-get update runs only
# when something is missing). Run as root, or with sudo available.
set -euo pipefail
PKGS=(
  sox libsox-fmt-all          # audio conversion and measurement in tests and benchmarks
  espeak-ng flite festival festvox-us-slt-hts   # caller voices for tests (not the agent's voice)
  redis-server                # shared by livekit-server and livekit-sip
  sip-tester                  # sipp: a real SIP caller / human desk in tests
  libopus-dev libopusfile-dev libsoxr-dev pkg-config   # cgo deps of livekit-sip
  tesseract-ocr               # OCR of shared screens when no vision model is configured
  chromium                    # headless browser for the web e2e tests (driven by Playwright)
  postgresql                  # the services suite also runs against a real PostgreSQL
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
