#!/usr/bin/env bash
# Creates .venv from uv.lock (exact pins). uv itself is pinned and kept in .cache/uv-tool;
# its package cache (~/.cache/uv) makes a second run on the same machine take seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
UV_VERSION="0.13.9"
TOOL="$ROOT/.cache/uv-tool"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x "$TOOL/bin/uv" ] || [ "$("$TOOL/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "python: installing uv $UV_VERSION"
  "$PYTHON" -m venv "$TOOL"
  "$TOOL/bin/pip" install -q "uv==$UV_VERSION"
fi
echo "python: syncing .venv from uv.lock"
cd "$ROOT"
"$TOOL/bin/uv" sync --frozen --python "$PYTHON" --quiet
echo "python: .venv ready"
