#!/usr/bin/env bash
# From a fresh clone: set up, then run the whole test suite against a real
# PostGIS the tests start themselves (a throw-away embedded cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
