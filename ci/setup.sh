#!/usr/bin/env bash
# Sets up whatever is missing on a Debian machine like ours, and nothing else (idempotent,
# seconds when everything is there): the harness's own Debian packages and its virtual
# environment, then the Debian packages every example declares in its example.yaml
# (`system_packages:`; python -m harness.system_packages lists them). Installs only as root;
# otherwise it says what to install. Each example's own dependencies (npm ci, pip, Maven, CMake)
# are built by the harness itself, once, cached by a hash of the example's sources.
#
#   bash ci/setup.sh           set up
#   bash ci/setup.sh --list    print the Debian packages it looks after ("harness: ..." and
#                              "examples: ..."), install nothing but the harness's venv
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The harness's own needs; the examples' come from their manifests.
HARNESS_PACKAGES=(
  postgresql postgresql-contrib          # the throwaway server: initdb, pg_ctl, pg_stat_statements
  pgbouncer                              # the pooled topologies (--via pgbouncer-session|-transaction)
  libevent-dev libssl-dev pkg-config     # building PgBouncer 1.24.1 (ci/pgbouncer-1.24.sh: --via pgbouncer-1.24-*)
  python3-venv                           # the harness's venv
  chromium                               # the report's browser test (tests/test_reports.py)
  shellcheck                             # actionlint checks the workflow's run: blocks with it
)
LIST=0
case "${1:-}" in
  --list) LIST=1 ;;
  "") ;;
  *) echo "setup: unknown argument $1 (use --list or nothing)" >&2; exit 2 ;;
esac

# install_debian <what> <package...>: apt-get install the given (missing) packages as root,
# otherwise say how.
install_debian() {
  local what=$1; shift
  (($#)) || return 0
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages for $what: $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "setup: missing Debian packages for $what: $*"
    echo "       install them with: sudo apt-get install -y $*"
    echo "       (python -m harness doctor says which example needs what)"
  fi
}

if ((LIST == 0)); then
  missing=()
  for pkg in "${HARNESS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  install_debian "the harness" "${missing[@]}"
fi

# PgBouncer 1.24.1 beside Debian's 1.18 (--via pgbouncer-1.24-*): built once per machine from
# Debian 13's pinned orig tarball; a second run finds it and does nothing.
if ((LIST == 0)); then
  bash ci/pgbouncer-1.24.sh
fi

bash ci/venv.sh --dev

# HARNESS_EXAMPLES points it at another examples tree (tests/test_dropin.py does).
if ((LIST)); then
  packages=$(.venv/bin/python -m harness.system_packages)  # a broken manifest stops here, named
  echo "harness: ${HARNESS_PACKAGES[*]}"
  echo "examples: $(echo "$packages" | xargs)"
  exit 0
fi
# A tool already on PATH from elsewhere (a newer Node, Temurin, Go ...) counts as present.
packages=$(.venv/bin/python -m harness.system_packages --missing)
read -r -d '' -a missing <<< "$packages" || true
install_debian "the examples" "${missing[@]}"
