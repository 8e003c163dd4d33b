#!/usr/bin/env bash
# Fails when any Go file of the repository is not gofmt-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)
if [ -n "$bad" ]; then
  echo "gofmt would change:"; echo "$bad"; exit 1
fi
echo "gofmt: clean"
