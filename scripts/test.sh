#!/usr/bin/env bash
# The whole test suite, after the same set-up as `make run`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
.venv/bin/python -m pytest "$@"
