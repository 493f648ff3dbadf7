#!/usr/bin/env bash
# From a fresh clone to the demo city served at http://127.0.0.1:8000.
# SCALE=city loads the full-size city (1,000,000 complaints, about 30 s on a quiet 2-core machine, minutes on a busy one).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/hygiene-map db up
.venv/bin/hygiene-map demo --scale "${SCALE:-small}" --seed "${SEED:-1}"
exec .venv/bin/hygiene-map serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
