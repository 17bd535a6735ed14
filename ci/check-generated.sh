#!/usr/bin/env bash
# The files generated from the examples are current: the page (every code block equal to its
# tagged region, results not older than the code) and the README's badge block. .ci/run's first
# leg and the workflow's docs job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
echo "== the page's samples: python -m harness docs --check"
.venv/bin/python -m harness docs --check
echo "== README badge block: python -m harness.badge_block --check"
.venv/bin/python -m harness.badge_block --check
