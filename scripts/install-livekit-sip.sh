#!/usr/bin/env bash
# Builds livekit-sip from its Go module at a pinned version (cgo: Debian's libopus-dev,
# libopusfile-dev, libsoxr-dev, pkg-config) and caches the binary under $NAVAN_CACHE_DIR/bin
# (default: <repo>/.cache/bin), keyed on the version: a second run is instant.
# Usage: scripts/install-livekit-sip.sh [VERSION]   (prints the binary's path on stdout)
set -euo pipefail
VERSION="${1:-${NAVAN_LIVEKIT_SIP_VERSION:-v1.8.0}}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${NAVAN_CACHE_DIR:-$ROOT/.cache}"
BIN="$CACHE/bin/livekit-sip-$VERSION"
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build livekit-sip $VERSION (install Go 1.26+, then re-run)" >&2
  exit 1
fi
for lib in opus opusfile soxr; do
  if ! pkg-config --exists "$lib"; then
    echo "error: livekit-sip needs the C library '$lib' (Debian: libopus-dev libopusfile-dev" \
      "libsoxr-dev pkg-config; run scripts/install-system-deps.sh), then re-run" >&2
    exit 1
  fi
done
mkdir -p "$CACHE/bin"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "building livekit-sip $VERSION from its Go module with cgo (first time: a few min)..." >&2
# Not `go install .../cmd/livekit-sip@VERSION`: the module proxy answers 403 (not 404) for the
# sub-path github.com/livekit/sip/cmd/livekit-sip, which `go install` treats as fatal. A throw-away
# module that requires github.com/livekit/sip@VERSION builds the same package with the same
# dependency versions (livekit-sip's go.mod lists them all and has no replace directives).
cd "$TMP"
go mod init navan-voice/livekit-sip-build >/dev/null 2>&1
go get "github.com/livekit/sip@$VERSION" >&2
CGO_ENABLED=1 go build -mod=mod -trimpath -o "$TMP/livekit-sip" github.com/livekit/sip/cmd/livekit-sip >&2
mv "$TMP/livekit-sip" "$BIN"
echo "livekit-sip $VERSION cached at $BIN" >&2
echo "$BIN"
