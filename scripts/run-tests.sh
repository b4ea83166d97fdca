#!/usr/bin/env bash
# Runs lint and the whole test suite; starts a throwaway PostgreSQL so the services suite also
# runs against it. Test artifacts (screenshots, recordings, logs) land in artifacts/.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p artifacts
echo "== lint (ruff, mypy)"
.venv/bin/ruff check src tests || exit 1
.venv/bin/mypy || exit 1
PG_STARTED=""
if [ -x scripts/postgres.sh ] && [ -z "${NAVAN_TEST_POSTGRES_URL:-}" ]; then
  if out="$(scripts/postgres.sh 2>artifacts/postgres-start.log)"; then
    export NAVAN_TEST_POSTGRES_URL="$out"
    PG_STARTED=1
    echo "== PostgreSQL for tests at $NAVAN_TEST_POSTGRES_URL"
  else
    echo "== PostgreSQL could not start (see artifacts/postgres-start.log); its tests will skip"
  fi
fi
echo "== pytest"
.venv/bin/pytest "$@"
rc=$?
if [ -n "$PG_STARTED" ]; then
  scripts/postgres.sh stop "$NAVAN_TEST_POSTGRES_URL" >/dev/null 2>&1 || true
fi
exit $rc
