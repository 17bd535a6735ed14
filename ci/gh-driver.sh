#!/usr/bin/env bash
# One CI job = one driver: install what that example needs (Debian 12, as in the `debian:12`
# job container: the harness's packages, then the ones the example's manifest declares under
# `system_packages:`), install the harness, run `python -m harness run --example <id>`, and leave
# reports/ (results.json, junit/<language>-<name>.xml, badges/<language>-<name>.svg|json,
# index.html) for the workflow to upload. Exits with the harness's exit code.
#
#   bash ci/gh-driver.sh <language>/<name>
#
# Outside GitHub Actions it works the same (GITHUB_OUTPUT / GITHUB_STEP_SUMMARY are optional).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EXAMPLE="${1:?usage: bash ci/gh-driver.sh <language>/<name>   (python -m harness list shows them)}"
SLUG="$(printf '%s' "$EXAMPLE" | sed -e 's#/#-#' -e 's#[^A-Za-z0-9._-]#_#g')"  # = harness.reporting file_stem
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "slug=$SLUG" >> "$GITHUB_OUTPUT"
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

# apt_install <what> <package...>: the packages that dpkg does not list as installed.
apt_install() {
  local what=$1 pkg missing=(); shift
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  echo "::group::apt-get install ($what) ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "::endgroup::"
}

# -- the harness: the server, Python and its venv -------------------------------------------------
HARNESS_PACKAGES=(postgresql postgresql-contrib python3 python3-venv python3-pip ca-certificates)
apt_install "the harness" "${HARNESS_PACKAGES[@]}"
echo "::group::install the harness"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -e .
echo "::endgroup::"

# -- this driver's toolchain, from its manifest ---------------------------------------------------
# --missing leaves out what is present, also a tool already on PATH from elsewhere (NodeSource's
# node, Temurin ...); an unknown id or a broken manifest stops the job here, named.
packages=$(.venv/bin/python -m harness.system_packages --missing --example "$EXAMPLE")
read -r -d '' -a missing <<< "$packages" || true
apt_install "$EXAMPLE" "${missing[@]}"
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
