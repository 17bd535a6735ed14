#!/usr/bin/env bash
# Quick start, command 1: set up what is missing, then run the whole matrix and write reports/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/ci/setup.sh"
cd "$ROOT"
exec .venv/bin/python -m harness run "$@"
