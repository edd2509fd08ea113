#!/usr/bin/env bash
# The whole test suite, after the same set-up as `make run`. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The architecture: apps depend one way, the engine knows no Django, no import circles.
.venv/bin/lint-imports
# Security lint of the project's own packages: each finding left is fixed or explained at its line
# (`# nosec BXXX: reason`); the filter drops bandit's notes that a reason's words are no test ids.
.venv/bin/bandit -q -r accounts api avatars campaigns config consent core engine lessons provenance rendering studio \
  2> >(grep -v -e "is not a test name or id" -e "but no failed test" >&2)
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
echo "==> Test suite on SQLite"
.venv/bin/python -m pytest "$@"
# The same suite on PostgreSQL (a throwaway server on a free port); the engine tests use no database.
echo "==> Test suite on PostgreSQL"
scripts/with_postgres.py -- .venv/bin/python -m pytest --ignore=tests/engine "$@"
