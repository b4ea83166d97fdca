#!/usr/bin/env bash
# Builds the web call page's bundle (src/navan_voice/web/static/dist/call.js) with npm, only when
# the front-end sources or the lock file changed since the last build (stamp keyed on a hash).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
UI="$ROOT/src/navan_voice/web/ui"
OUT="$ROOT/src/navan_voice/web/static/dist/call.js"
STAMP="$ROOT/.cache/web-build.stamp"
if ! command -v npm >/dev/null; then
  echo "web: npm is missing; install Node.js 20+ (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
hash=$(cd "$UI" && find src package.json package-lock.json tsconfig.json -type f -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ]; then
  echo "web: bundle up to date"
  exit 0
fi
echo "web: building the call page bundle"
(cd "$UI" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
mkdir -p "$(dirname "$STAMP")"
echo "$hash" > "$STAMP"
echo "web: done"
