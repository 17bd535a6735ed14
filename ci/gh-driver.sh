#!/usr/bin/env bash
# One CI job = one driver x one leg (direct, pgbouncer[-1.24]-session, pgbouncer[-1.24]-transaction, docker:
# python -m harness.discovery_json matrix lists them). A native leg installs what the example needs (Debian 12, as in the `debian:12`
# job container: the harness's packages, then the ones the example's manifest declares under
# `system_packages:`), install the harness, run `python -m harness run --example <id>`, and leave
# reports/ (results.json, junit/<language>-<name>.xml, badges/<language>-<name>.svg|json,
# index.html) for the workflow to upload. Exits with the harness's exit code.
#
#   bash ci/gh-driver.sh <language>/<name> [<leg>]     (default leg: direct)
#
# The docker leg installs nothing from Debian (the example builds in its image) and needs a Docker
# engine: without one it says "NOT RUN" and why, and exits 1 (never passes quietly).
# reports/leg.json names the example and the leg, for ci/gh-pages.sh's per-driver badges.
#
# Outside GitHub Actions it works the same (GITHUB_OUTPUT / GITHUB_STEP_SUMMARY are optional).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EXAMPLE="${1:?usage: bash ci/gh-driver.sh <language>/<name> [<leg>]   (python -m harness list shows them)}"
LEG="${2:-direct}"
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

# -- the harness: the server, PgBouncer, Python and its venv ---------------------------------------
HARNESS_PACKAGES=(postgresql postgresql-contrib pgbouncer python3 python3-venv python3-pip ca-certificates curl)
mkdir -p reports
printf '{"example": "%s", "leg": "%s"}\n' "$EXAMPLE" "$LEG" > reports/leg.json
if [[ $LEG == docker ]]; then
  if ! docker info >/dev/null 2>&1; then
    echo "gh-driver: $EXAMPLE docker leg: NOT RUN: no Docker engine answers 'docker info' on this runner" >&2
    exit 1
  fi
else
  apt_install "the harness" "${HARNESS_PACKAGES[@]}"
fi
if [[ $LEG == pgbouncer-1.24-* ]]; then
  # PgBouncer 1.24.1 beside Debian's 1.18: built from the pinned orig tarball (its build packages too).
  echo "::group::PgBouncer 1.24.1 (ci/pgbouncer-1.24.sh)"
  bash ci/pgbouncer-1.24.sh
  echo "::endgroup::"
fi
echo "::group::install the harness"
bash ci/venv.sh
echo "::endgroup::"
read -r -a leg_arguments <<< "$(.venv/bin/python -m harness.discovery_json leg-arguments "$LEG")"

# -- this driver's toolchain, from its manifest (a native leg) ------------------------------------
# --missing leaves out what is present, also a tool already on PATH from elsewhere (NodeSource's
# node, Temurin ...); an unknown id or a broken manifest stops the job here, named.
if [[ $LEG != docker ]]; then
  packages=$(.venv/bin/python -m harness.system_packages --missing --example "$EXAMPLE")
  read -r -d '' -a missing <<< "$packages" || true
  apt_install "$EXAMPLE" "${missing[@]}"
  .venv/bin/python -m harness doctor || true   # the log shows which toolchain versions ran
fi

# -- the run ------------------------------------------------------------------------------------
status=0
.venv/bin/python -m harness run --example "$EXAMPLE" "${leg_arguments[@]}" || status=$?

if [[ ! -f reports/results.json ]]; then
  echo "gh-driver: the harness wrote no reports/results.json (exit $status)" >&2
  exit $((status ? status : 2))
fi
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  .venv/bin/python -m harness.reporting markdown reports/results.json >> "$GITHUB_STEP_SUMMARY" || true
fi
echo "reports: reports/junit/$SLUG.xml reports/badges/$SLUG.svg reports/badges/$SLUG.json reports/index.html"
exit "$status"
