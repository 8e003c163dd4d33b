#!/usr/bin/env bash
# Builds the handheld app's Android package (APK) with fyne package
# (fyne.io/tools v1.7.4). It needs the Android NDK, which this build
# environment cannot download: without one it stops and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

ndk=${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}
if [ -z "$ndk" ] && [ -n "${ANDROID_HOME:-}" ] && [ -d "$ANDROID_HOME/ndk" ]; then
  ndk=$(ls -d "$ANDROID_HOME"/ndk/* 2>/dev/null | sort -V | tail -1 || true)
fi
if [ -z "$ndk" ] || [ ! -d "$ndk" ]; then
  cat >&2 <<MSG
package:android: no Android NDK is installed, so no APK can be built here.
Install the NDK (Android Studio's SDK manager, or the NDK zip from developer.android.com)
and set ANDROID_NDK_HOME to it (or ANDROID_HOME with the NDK under ndk/), then run this again.
The handheld's pure-Go packages are still checked to build for android/arm64: task handheld.
MSG
  exit 1
fi
export ANDROID_NDK_HOME=$ndk
app=handheld/cmd/custody-handheld
# the icon: a GS1 DataMatrix, made here rather than kept in git
[ -f "$app/Icon.png" ] || go run ./handheld/cmd/custody-scan label --gs1 '(01)09506000134352(10)CUSTODY(21)APP' -o "$app/Icon.png"
mkdir -p dist
(cd "$app" && go run fyne.io/tools/cmd/fyne@v1.7.4 package --target android/arm64 --app-id org.custody.handheld --name Custody --icon Icon.png)
mv "$app"/*.apk dist/ 2>/dev/null || true
echo "package:android: $(ls dist/*.apk)"
