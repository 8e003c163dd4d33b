#!/usr/bin/env bash
# Builds the commands under the given patterns into ./bin.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
pkgs=$(go list "$@" 2>/dev/null || true)
if [ -z "$pkgs" ]; then
  echo "build: no commands match $*"; exit 0
fi
go build -o bin/ $pkgs
echo "build: $(echo $pkgs | wc -w) commands in ./bin"
