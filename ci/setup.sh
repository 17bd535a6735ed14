#!/usr/bin/env bash
# Sets up whatever is missing on a Debian machine like ours, and nothing else (idempotent,
# seconds when everything is there): Debian packages when run as root, then the harness's
# virtual environment. Each example's own dependencies (npm ci, pip, Maven, CMake) are built by
# the harness itself, once, cached by a hash of the example's sources.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DEBIAN_PACKAGES=(
  postgresql postgresql-contrib          # the throwaway server: initdb, pg_ctl, pg_stat_statements
  python3-venv                           # the harness's venv and the Python examples' venvs
  nodejs npm                             # node/pg-client, node/pg-pool
  openjdk-17-jdk-headless maven          # java/hikaricp
  g++ cmake pkg-config libpqxx-dev nlohmann-json3-dev   # cpp/libpqxx
  chromium                               # the report's browser test (tests/test_reports.py)
  shellcheck                             # actionlint checks the workflow's run: blocks with it
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Tools already on PATH from elsewhere (a newer Node, Temurin, ...) count as present.
filtered=()
for pkg in "${missing[@]}"; do
  case "$pkg" in
    nodejs) command -v node >/dev/null || filtered+=("$pkg") ;;
    npm) command -v npm >/dev/null || filtered+=("$pkg") ;;
    openjdk-17-jdk-headless) command -v javac >/dev/null || filtered+=("$pkg") ;;
    maven) command -v mvn >/dev/null || filtered+=("$pkg") ;;
    g++) command -v g++ >/dev/null || filtered+=("$pkg") ;;
    cmake) command -v cmake >/dev/null || filtered+=("$pkg") ;;
    *) filtered+=("$pkg") ;;
  esac
done
if ((${#filtered[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${filtered[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${filtered[*]}"
    echo "       install them with: sudo apt-get install -y ${filtered[*]}"
    echo "       (python -m harness doctor says which example needs what)"
  fi
fi

PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.harness-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: installing the harness into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # setuptools warns about editable installs on every install; keep the log, show it on failure.
  if ! .venv/bin/python -m pip install -q -e '.[dev]' >.venv/install.log 2>&1; then
    cat .venv/install.log; exit 1
  fi
  echo "$want" > "$stamp"
fi
