#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then pytest: first every example x scenario (the
# matrix, alone on the machine, at the harness's own parallelism: its timing checks must not share
# the CPU with anything else), then the harness's own tests in tests/, spread over pytest-xdist
# workers (two a core, at most 8; HARNESS_TEST_WORKERS=N overrides, 0 runs them in this process):
# most of them wait on servers and processes they start. Arguments go to one pytest run as given
# (e.g. `bash ci/test.sh tests/test_tls.py -k wrong`).
#
# The harness's own tests include the docker backend's. As root on Debian this sets up what
# they need first, as .ci/run does: the Docker engine (ci/docker-engine.sh) and the local
# stand-in images (ci/standin-images.sh), printing what it does. Where Docker cannot run at all,
# the docker tests are SKIPPED with the reason (pytest's summary prints it: -rs); they never
# fail for that reason, and never pass without running. HARNESS_SKIP_DOCKER_TESTS=1 skips them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/ci/setup.sh"
cd "$ROOT"

if [[ "${HARNESS_SKIP_DOCKER_TESTS:-}" != 1 ]]; then
  reason=""
  echo "test: the docker backend's tests need a Docker engine: ci/docker-engine.sh"
  if ! bash ci/docker-engine.sh; then
    reason="the Docker engine cannot run on this machine (ci/docker-engine.sh said why, above)"
  else
    echo "test: and the stand-in base images: ci/standin-images.sh (minutes the first time, seconds after)"
    if ! bash ci/standin-images.sh; then
      reason="the stand-in images could not be built (ci/standin-images.sh said why, above)"
    fi
  fi
  if [[ -n $reason ]]; then
    echo "test: docker tests will be SKIPPED: $reason"
    export HARNESS_SKIP_DOCKER_TESTS=1 HARNESS_DOCKER_UNAVAILABLE="$reason"
  fi
fi
if [[ $# -gt 0 ]]; then
  exec .venv/bin/python -m pytest -rs "$@"
fi
cores=$(nproc)
workers=${HARNESS_TEST_WORKERS:-$(( cores * 2 > 8 ? 8 : cores * 2 ))}
started=$SECONDS
machine_cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }   # ticks busy, the whole machine
cpu_started=$(machine_cpu)
echo "test: 1/2 the matrix (every example x scenario)"
matrix=0
.venv/bin/python -m pytest -rs examples || matrix=$?
matrix_seconds=$(( SECONDS - started ))
echo "test: 2/2 the harness's own tests, on $workers pytest-xdist workers"
tests=0
if [[ $workers -gt 0 ]]; then
  # worksteal: a worker that runs out takes tests queued for another, so the long ones at the end
  # do not leave a core idle.
  .venv/bin/python -m pytest -rs -n "$workers" --dist worksteal tests || tests=$?
else
  .venv/bin/python -m pytest -rs tests || tests=$?
fi
# What the command took, for ci/benchmark.py's goals; its CPU is the whole machine's meanwhile (the
# servers it starts are not its children), in clock ticks (getconf CLK_TCK).
.venv/bin/python - "$(( SECONDS - started ))" "$matrix_seconds" "$(( $(machine_cpu) - cpu_started ))" \
  "$(getconf CLK_TCK)" "$cores" "$workers" "$matrix" "$tests" <<'PY' || echo "test: could not record reports/test-command.json"
import json, sys, time
from pathlib import Path
wall, matrix_s, ticks, per_second, cores, workers, matrix, tests = sys.argv[1:]
Path("reports").mkdir(exist_ok=True)
Path("reports/test-command.json").write_text(json.dumps({
    "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "wall_s": int(wall),
    "matrix_s": int(matrix_s), "tests_s": int(wall) - int(matrix_s), "cpu_s": round(int(ticks) / int(per_second), 1),
    "cores": int(cores), "workers": int(workers), "exit": {"matrix": int(matrix), "tests": int(tests)}}, indent=1) + "\n")
PY
if [[ $matrix -ne 0 || $tests -ne 0 ]]; then
  echo "test: FAILED: the matrix exited $matrix, the harness's own tests $tests (both summaries are above)"
  exit $(( matrix != 0 ? matrix : tests ))
fi
