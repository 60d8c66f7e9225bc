#!/usr/bin/env bash
# The demo: the app on SQLite against the sandbox Bitrix24 portal, nothing else to install or run.
# Options go to scripts/demo.py (e.g. --smoke to install, print and exit).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_python_venv
compile_messages
exec .venv/bin/python scripts/demo.py "$@"
