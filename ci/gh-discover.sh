#!/usr/bin/env bash
# The workflow's discover step: the legs of every example (python -m harness.discovery_json
# matrix) as two job matrices in $GITHUB_OUTPUT: matrix= the native legs (direct,
# pgbouncer[-1.24]-session, pgbouncer[-1.24]-transaction), docker= the docker legs. A broken manifest fails
# here, named, instead of dropping a job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
native=$(.venv/bin/python -m harness.discovery_json matrix --legs native)
docker=$(.venv/bin/python -m harness.discovery_json matrix --legs docker)
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  { echo "matrix=$native"; echo "docker=$docker"; } >> "$GITHUB_OUTPUT"
fi
echo "native legs: $native"
echo "docker legs: $docker"
