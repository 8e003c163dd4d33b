#!/usr/bin/env bash
# The handheld's pure-Go packages must build for Android without the NDK.
# The Fyne UI needs cgo and is packaged separately; it is excluded here.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(go list ./handheld/... | grep -v -e '/handheld/ui' -e '/handheld/cmd/custody-handheld' || true)
if [ -z "$pkgs" ]; then
  echo "android-check: no handheld packages yet"; exit 0
fi
GOOS=android GOARCH=arm64 CGO_ENABLED=0 go build $pkgs
echo "android-check: $(echo "$pkgs" | wc -l) handheld packages build for android/arm64 (CGO_ENABLED=0)"
