#!/usr/bin/env bash
# Lays out the public DataMatrix sample images that TestSampleSets reads,
# outside the repository (they are never committed):
#
#   handheld/scan/bench/samples.sh ZXING_GIT ZXINGCPP_GIT OUT
#   CUSTODY_REFDATA=OUT go test ./scan/ -run TestSampleSets -v
#
# ZXING_GIT and ZXINGCPP_GIT are clones (or bare git directories) of
# github.com/zxing/zxing and github.com/zxing-cpp/zxing-cpp. Files are
# read from their HEAD commit with git itself (zxing-cpp marks its samples
# export-ignore, so `git archive` would skip them).
set -euo pipefail
zx=$1 zxcpp=$2 out=$3
copy() { # git-dir tree-path dest
	mkdir -p "$3"
	git --git-dir="$1" ls-tree HEAD "$2/" | while read -r _ type sha path; do
		[ "$type" = blob ] && git --git-dir="$1" cat-file blob "$sha" >"$3/$(basename "$path")"
	done
}
gitdir() { if [ -d "$1/.git" ]; then echo "$1/.git"; else echo "$1"; fi; }
zx=$(gitdir "$zx") zxcpp=$(gitdir "$zxcpp")
for i in 1 2 3; do copy "$zx" core/src/test/resources/blackbox/datamatrix-$i "$out/datamatrix/zxing-$i"; done
for i in 1 2 3 4; do copy "$zxcpp" test/samples/datamatrix-$i "$out/datamatrix/zxingcpp-$i"; done
echo "sample sets in $out/datamatrix"
