#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing.
# Needs root (or sudo). Safe to run again: it installs only what is absent.
set -euo pipefail
need=()
for p in "$@"; do need+=("$p"); done
# Packages the suite needs: gcc for cgo and the race detector; the Fyne
# desktop build (GL and X11 headers, ALSA for sound); Xvfb for real-window
# screenshots of the handheld app; Debian's chromium for the console's
# browser tests; a font with wide coverage for screenshots.
for p in gcc libc6-dev pkg-config libgl1-mesa-dev xorg-dev libasound2-dev xvfb chromium fonts-dejavu-core; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "deps: all system packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
