#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: PostgreSQL, Redis, Chromium, the venv, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k oauth).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_python_venv
ensure_postgres
ensure_redis
ensure_command chromium chromium
compile_messages

export DATABASE_URL="${DATABASE_URL:-postgres://hrsync:hrsync@127.0.0.1:5432/hrsync}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/15}"
say "pytest"
exec .venv/bin/pytest "$@"
