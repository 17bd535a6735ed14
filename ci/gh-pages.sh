#!/usr/bin/env bash
# The last CI job: merge the per-driver reports (one downloaded artifact folder per driver, each
# holding results.json, junit/, badges/) into one site for GitHub Pages:
#   SITE/index.html, SITE/simulator.html (the Connection Simulator), SITE/results.json, SITE/junit/*.xml + all.xml,
#   SITE/badges/*.svg|json
# A driver whose job died before the harness wrote results.json is named as a run error. Each
# driver's badge covers all its legs (direct, PgBouncer, docker) and names the ones that failed.
#
#   bash ci/gh-pages.sh ARTIFACTS_DIR SITE_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARTIFACTS="$(realpath "${1:?usage: bash ci/gh-pages.sh ARTIFACTS_DIR SITE_DIR}")"
SITE="$(realpath -m "${2:?usage: bash ci/gh-pages.sh ARTIFACTS_DIR SITE_DIR}")"
PY="${PYTHON:-python3}"
if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; fi
cd "$ROOT"

results=()
missing=()
for dir in "$ARTIFACTS"/*/; do
  [[ -d "$dir" ]] || continue
  if [[ -f "$dir/results.json" ]]; then
    results+=("$dir/results.json")
  else
    missing+=("$(basename "$dir")")
  fi
done
if ((${#results[@]} == 0)); then
  echo "gh-pages: no results.json under $ARTIFACTS: every driver job failed before the harness ran" >&2
  exit 1
fi

rm -rf "$SITE"
"$PY" -m harness.reporting merge "${results[@]}" --out "$SITE"
if ((${#missing[@]})); then
  # Record the artifacts without results as run errors, then rebuild the reports with them.
  "$PY" - "$SITE/results.json" "${missing[@]}" <<'EOF'
import json, sys
from pathlib import Path
path = Path(sys.argv[1])
run = json.loads(path.read_text(encoding="utf-8"))
run["errors"] += [f"{name}: the CI job left no results.json (see its log)" for name in sys.argv[2:]]
path.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
EOF
  "$PY" -m harness.reporting build "$SITE/results.json"
fi
# One badge per driver over all its legs, saying which legs failed.
"$PY" -m harness.reporting.leg_badges "$ARTIFACTS" "$SITE/badges"
touch "$SITE/.nojekyll"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  "$PY" -m harness.reporting markdown "$SITE/results.json" >> "$GITHUB_STEP_SUMMARY"
fi
echo "site: $SITE/index.html, $SITE/simulator.html"
