#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then pytest: first every example x scenario (the
# matrix, alone on the machine, at the harness's own parallelism: its timing checks must not share
# the CPU with anything else), then the harness's own tests in tests/, spread over pytest-xdist
# workers (two a core, at most 8; HARNESS_TEST_WORKERS=N overrides, 0 runs them in this process):
# most of them wait on servers and processes they start. Arguments go to one pytest run as given
# (e.g. `bash ci/test.sh tests/test_tls.py -k wrong`).
#
# The harness's own tests include the docker backend's (the 10 slowest are printed: --durations).
# As root on Debian this sets up what they need, as .ci/run does, in the background while the
# matrix runs: the Docker engine (ci/docker-engine.sh) and the local
# stand-in images (ci/standin-images.sh), printing what it does. Where Docker cannot run at all,
# the docker tests are SKIPPED with the reason (pytest's summary prints it: -rs); they never
# fail for that reason, and never pass without running. HARNESS_SKIP_DOCKER_TESTS=1 skips them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/ci/setup.sh"
cd "$ROOT"

# docker_setup: the engine, then the stand-in images; prints the reason when the docker tests
# cannot run (nothing when they can).
docker_setup() {
  echo "test: the docker backend's tests need a Docker engine: ci/docker-engine.sh" >&2
  if ! bash ci/docker-engine.sh >&2; then
    echo "the Docker engine cannot run on this machine (ci/docker-engine.sh said why, above)"
    return
  fi
  echo "test: and the stand-in base images: ci/standin-images.sh (minutes the first time, seconds after)" >&2
  if ! bash ci/standin-images.sh >&2; then
    echo "the stand-in images could not be built (ci/standin-images.sh said why, above)"
  fi
}
# skip_docker_if <reason>: the docker tests are SKIPPED, with the reason, when there is one.
skip_docker_if() {
  if [[ -n $1 ]]; then
    echo "test: docker tests will be SKIPPED: $1"
    export HARNESS_SKIP_DOCKER_TESTS=1 HARNESS_DOCKER_UNAVAILABLE="$1"
  fi
}
want_docker=0
if [[ "${HARNESS_SKIP_DOCKER_TESTS:-}" != 1 ]]; then want_docker=1; fi
if [[ $# -gt 0 ]]; then
  if ((want_docker)); then skip_docker_if "$(docker_setup)"; fi
  exec .venv/bin/python -m pytest -rs --durations=10 "$@"
fi
# On a fresh machine the engine and the images take minutes: they are set up in the background
# while the native matrix runs (it needs neither), and waited for before the harness's own tests.
docker_log=""
if ((want_docker)); then
  docker_log=$(mktemp /tmp/harness-docker-setup.XXXXXX)
  docker_setup > "$docker_log.reason" 2> "$docker_log" &
  docker_pid=$!
  trap 'rm -f "$docker_log" "$docker_log.reason"' EXIT
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
if [[ -n $docker_log ]]; then
  echo "test: waiting for the docker set-up that ran beside the matrix (its log follows)"
  wait "$docker_pid" || true
  cat "$docker_log"
  skip_docker_if "$(cat "$docker_log.reason")"
fi
echo "test: 2/2 the harness's own tests, on $workers pytest-xdist workers"
tests=0
if [[ $workers -gt 0 ]]; then
  # worksteal: a worker that runs out takes tests queued for another, so the long ones at the end
  # do not leave a core idle.
  .venv/bin/python -m pytest -rs --durations=10 -n "$workers" --dist worksteal tests || tests=$?
else
  .venv/bin/python -m pytest -rs --durations=10 tests || tests=$?
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
