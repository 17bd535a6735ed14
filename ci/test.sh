#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then pytest (every example x scenario, and the
# harness's own tests in tests/).
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
exec .venv/bin/python -m pytest -rs "$@"
