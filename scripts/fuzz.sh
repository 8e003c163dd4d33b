#!/usr/bin/env bash
# Runs every fuzz target of the workspace for $FUZZTIME each.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
for pkg in $(go list work); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $f"
    (cd "$dir" && go test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" .)
  done
done
