#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then pytest (every example x scenario, and the
# harness's own tests in tests/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/ci/setup.sh"
cd "$ROOT"
exec .venv/bin/python -m pytest "$@"
