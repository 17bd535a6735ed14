#!/usr/bin/env bash
# Lint .github/workflows with actionlint (https://github.com/rhysd/actionlint), installing the
# pinned version from the Go module proxy when it is missing. actionlint also runs shellcheck on
# every `run:` block when shellcheck is on PATH (apt-get install -y shellcheck).
#
#   bash ci/actionlint.sh [extra actionlint arguments]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="v1.7.12"
BIN_DIR="${ACTIONLINT_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg-sample-harness/actionlint-$VERSION}"

actionlint=""
if command -v actionlint >/dev/null && [[ "$(actionlint -version | head -n1)" == "$VERSION" ]]; then
  actionlint="$(command -v actionlint)"
elif [[ -x "$BIN_DIR/actionlint" ]]; then
  actionlint="$BIN_DIR/actionlint"
else
  if ! command -v go >/dev/null; then
    echo "actionlint.sh: actionlint $VERSION is missing and so is Go to build it." >&2
    echo "  fix: install Go >= 1.24 (https://go.dev/dl/), then run this script again" >&2
    exit 2
  fi
  echo "actionlint.sh: installing actionlint $VERSION into $BIN_DIR (go install, from the Go module proxy)"
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
  actionlint="$BIN_DIR/actionlint"
fi

cd "$ROOT"
if ! command -v shellcheck >/dev/null; then
  echo "actionlint.sh: shellcheck not found, so run: blocks are not checked (apt-get install -y shellcheck)" >&2
fi
"$actionlint" -version | head -n1
"$actionlint" -color "$@" .github/workflows/*.yml
echo "actionlint: .github/workflows is clean"
