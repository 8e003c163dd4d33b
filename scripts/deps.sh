#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing.
# Needs root (or sudo). Safe to run again: it installs only what is absent.
set -euo pipefail
need=()
for p in "$@"; do need+=("$p"); done
# Packages the suite needs today. gcc is for the race detector.
for p in gcc libc6-dev; do
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
