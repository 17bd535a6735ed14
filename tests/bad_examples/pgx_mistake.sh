#!/usr/bin/env bash
# Builds examples/go/pgxpool with one deliberate mistake, for the wrong examples bad/pgx-*: the
# sample's own main.go with one sed expression applied. Refused when the expression changes
# nothing, so a reworded sample cannot quietly build a correct program under a wrong name.
set -euo pipefail
sample="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/examples/go/pgxpool"
cp "$sample/go.mod" "$sample/go.sum" .
sed -e "$1" "$sample/main.go" > main.go
if cmp -s main.go "$sample/main.go"; then
  echo "pgx_mistake.sh: the expression '$1' changed nothing in $sample/main.go: update it to the sample" >&2
  exit 1
fi
GOTOOLCHAIN=local go build -o pgx-bad .
