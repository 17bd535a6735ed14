#!/usr/bin/env bash
# The harness's virtual environment, .venv, made once: pip runs only when .venv is missing or
# pyproject.toml changed since the last install (a stamp holds its hash), so a second run redoes
# nothing. ci/setup.sh and ci/gh-driver.sh use it; the workflow's jobs call it.
#
#   bash ci/venv.sh           the harness
#   bash ci/venv.sh --dev     with the dev extras (pytest-xdist, lxml, playwright)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
target=.
case "${1:-}" in
  --dev) target='.[dev]' ;;
  "") ;;
  *) echo "venv: unknown argument $1 (use --dev or nothing)" >&2; exit 2 ;;
esac
PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "venv: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.harness-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $target"
# A dev install covers a plain one.
if [[ -f $stamp ]] && { [[ "$(cat "$stamp")" == "$want" ]] || [[ $target == . && "$(cat "$stamp")" == "${want% *} .[dev]" ]]; }; then
  exit 0
fi
echo "venv: installing the harness ($target) into .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# setuptools warns about editable installs on every install; keep the log, show it on failure.
if ! .venv/bin/python -m pip install -q -e "$target" >.venv/install.log 2>&1; then
  cat .venv/install.log; exit 1
fi
echo "$want" > "$stamp"
