#!/usr/bin/env bash
# Everything hygiene-map needs on a fresh Debian/Ubuntu machine with Python 3.11+:
# PostgreSQL + PostGIS (+ pgRouting), GDAL, headless Chromium, CJK fonts and
# poppler from the system packages; a virtual environment in .venv with the
# pinned Python packages; the pinned front-end packages the pages serve.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "not root and no sudo: install the system packages listed in scripts/setup.sh by hand"; fi
fi

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing system packages: ${missing[*]}"
  if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${HYGIENE_MAP_SKIP_SYSTEM:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1; then
  apt_install postgresql postgresql-contrib
  PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -1)
  apt_install "postgresql-${PG_MAJOR}-postgis-3" "postgresql-${PG_MAJOR}-pgrouting" \
    gdal-bin poppler-utils fonts-noto-cjk chromium chromium-driver python3-venv
  # Printed PDFs embed a TrueType CJK font: Noto CJK's outlines are CFF, which
  # matplotlib embeds as an (invalid) TrueType program; WenQuanYi Micro Hei is TrueType.
  apt_install fonts-wqy-microhei
  # …and emoji typed on phones (😡 🐀) as outlines, where the CJK font has none (layers/printing/style.py).
  apt_install fonts-symbola
  # Node.js may come from elsewhere (with its own npm): install only what is missing.
  command -v node >/dev/null 2>&1 || apt_install nodejs
  command -v npm >/dev/null 2>&1 || apt_install npm
  # The distribution starts its own cluster on 5432; hygiene-map runs its own.
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  log "Python 3.11 or newer is needed (found $(.venv/bin/python --version))"; exit 1
fi
stamp=.venv/.hygiene-map-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  log "installing Python packages (pinned in constraints.txt)"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
  .venv/bin/pip install -q -c constraints.txt -e '.[test]' 2>&1 | grep -v "is ignored" >&2 || true
  .venv/bin/python -c 'import api.cli, geopandas, fastapi' 
  touch "$stamp"
fi

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    log "installing front-end packages (pinned in package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
fi
log "ready"
