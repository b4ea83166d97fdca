#!/usr/bin/env bash
# Builds livekit-server from its Go module at a pinned version and caches the binary under
# $NAVAN_CACHE_DIR/bin (default: <repo>/.cache/bin), keyed on the version: a second run is instant.
# Usage: scripts/install-livekit-server.sh [VERSION]   (prints the binary's path on stdout)
set -euo pipefail
VERSION="${1:-${NAVAN_LIVEKIT_SERVER_VERSION:-v1.13.5}}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${NAVAN_CACHE_DIR:-$ROOT/.cache}"
BIN="$CACHE/bin/livekit-server-$VERSION"
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build livekit-server $VERSION (install Go 1.26+, then re-run)" >&2
  exit 1
fi
mkdir -p "$CACHE/bin"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "building livekit-server $VERSION from its Go module (first time: ~2-3 min on 2 cores)..." >&2
CGO_ENABLED=0 GOBIN="$TMP" go install "github.com/livekit/livekit-server/cmd/server@$VERSION" >&2
mv "$TMP/server" "$BIN"
echo "livekit-server $VERSION cached at $BIN" >&2
echo "$BIN"
