#!/usr/bin/env bash
# The long fuzz run: the same test as the suite's, with many more examples per operation.
#   bench/fuzz_long.sh [EXAMPLES]     (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
HYGIENE_MAP_FUZZ_EXAMPLES="${1:-300}" exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py
