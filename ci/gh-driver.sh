#!/usr/bin/env bash
# One CI job = one driver: install what that example needs (Debian 12, as in the `debian:12`
# job container), install the harness, run `python -m harness run --example <id>`, and leave
# reports/ (results.json, junit/<language>-<name>.xml, badges/<language>-<name>.svg|json,
# index.html) for the workflow to upload. Exits with the harness's exit code.
#
#   bash ci/gh-driver.sh node/pg-pool
#
# Outside GitHub Actions it works the same (GITHUB_OUTPUT / GITHUB_STEP_SUMMARY are optional).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EXAMPLE="${1:?usage: bash ci/gh-driver.sh <language>/<name>   e.g. node/pg-pool}"
if [[ ! -f "examples/$EXAMPLE/example.yaml" ]]; then
  echo "gh-driver: no examples/$EXAMPLE/example.yaml" >&2
  exit 2
fi
LANGUAGE="${EXAMPLE%%/*}"
SLUG="$(printf '%s' "$EXAMPLE" | sed -e 's#/#-#' -e 's#[^A-Za-z0-9._-]#_#g')"  # = harness.reporting file_stem
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "slug=$SLUG" >> "$GITHUB_OUTPUT"
fi

# -- Debian packages: the server, Python for the harness, and this driver's toolchain -------------
packages=(postgresql postgresql-contrib python3 python3-venv python3-pip ca-certificates)
case "$LANGUAGE" in
  node) packages+=(nodejs npm) ;;
  java) packages+=(openjdk-17-jdk-headless maven) ;;
  cpp) packages+=(g++ make cmake pkg-config libpqxx-dev nlohmann-json3-dev) ;;
  python) ;;
  *) echo "gh-driver: no package list for language '$LANGUAGE'; relying on what is installed" >&2 ;;
esac
# A tool already on PATH from elsewhere (NodeSource's node with its npm, Temurin ...) counts as present.
declare -A provides=([nodejs]=node [npm]=npm [openjdk-17-jdk-headless]=javac [maven]=mvn [g++]=g++ [make]=make
                     [cmake]=cmake [pkg-config]=pkg-config [python3]=python3)
missing=()
for pkg in "${packages[@]}"; do
  if [[ -n "${provides[$pkg]:-}" ]] && command -v "${provides[$pkg]}" >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  echo "::group::apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "::endgroup::"
fi

# -- the harness --------------------------------------------------------------------------------
echo "::group::install the harness"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -e .
echo "::endgroup::"
.venv/bin/python -m harness doctor || true   # the log shows which toolchain versions ran

# -- the run ------------------------------------------------------------------------------------
status=0
.venv/bin/python -m harness run --example "$EXAMPLE" || status=$?

if [[ ! -f reports/results.json ]]; then
  echo "gh-driver: the harness wrote no reports/results.json (exit $status)" >&2
  exit $((status ? status : 2))
fi
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  .venv/bin/python -m harness.reporting markdown reports/results.json >> "$GITHUB_STEP_SUMMARY" || true
fi
echo "reports: reports/junit/$SLUG.xml reports/badges/$SLUG.svg reports/badges/$SLUG.json reports/index.html"
exit "$status"
