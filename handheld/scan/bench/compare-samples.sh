#!/usr/bin/env bash
# Compares read rates on the public DataMatrix sample folders (laid out by
# samples.sh) at 0°, 90°, 180° and 270°: our reader, zxing-cpp and
# libdmtx. Run by hand (needs root for apt-get); not part of the tests.
# Binaries and rotated images go to a temporary directory, never kept.
#
#   handheld/scan/bench/compare-samples.sh SETDIR…
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
handheld=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || { echo "usage: compare-samples.sh SETDIR…" >&2; exit 2; }

if ! dpkg -s libzxing-dev libdmtx-dev g++ pkg-config >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzxing-dev libdmtx-dev g++ pkg-config >/dev/null
fi
(cd "$handheld" && go build -o "$tmp/custody-scan" ./cmd/custody-scan)
zx_cflags=$(pkg-config --cflags zxing 2>/dev/null || echo "-I/usr/include")
zx_libs=$(pkg-config --libs zxing 2>/dev/null || echo "-lZXing")
g++ -O2 -std=c++17 -Wno-cpp $zx_cflags "$here/zxing_bench.cpp" -o "$tmp/zxing_bench" $zx_libs
gcc -O2 "$here/dmtx_bench.c" -o "$tmp/dmtx_bench" -ldmtx
echo "zxing-cpp $(pkg-config --modversion zxing 2>/dev/null || dpkg-query -W -f='${Version}' libzxing-dev), libdmtx $(dpkg-query -W -f='${Version}' libdmtx-dev)"

echo "== ours (custody-scan samples, one core)"
GOMAXPROCS=1 "$tmp/custody-scan" samples --pgm "$tmp/pgm" "$@"
n=$(wc -l <"$tmp/pgm/list.tsv")
t0=$(date +%s.%N)
"$tmp/zxing_bench" "$tmp/pgm" <"$tmp/pgm/list.tsv" >"$tmp/zxing.tsv"
t1=$(date +%s.%N)
"$tmp/dmtx_bench" "$tmp/pgm" "${DMTX_TIMEOUT_MS:-2000}" <"$tmp/pgm/list.tsv" >"$tmp/dmtx.tsv"
t2=$(date +%s.%N)
python3 - "$tmp/zxing.tsv" "$tmp/dmtx.tsv" "$n" "$t0" "$t1" "$t2" <<'PY'
import sys, collections
def load(path):
    acc = collections.OrderedDict()
    for line in open(path):
        g, rot, _, ok = line.rstrip("\n").split("\t")
        a = acc.setdefault(g, collections.OrderedDict())
        a[rot] = a.get(rot, 0) + int(ok)
    return acc
n, t0, t1, t2 = int(sys.argv[3]), *map(float, sys.argv[4:7])
for name, path, secs in (("zxing-cpp", sys.argv[1], t1 - t0), ("libdmtx", sys.argv[2], t2 - t1)):
    print(f"== {name} (mean {1000 * secs / n:.1f} ms per image, wall, file reading included)")
    print(f"{'set':14} {'0°':>5} {'90°':>5} {'180°':>5} {'270°':>5}")
    for g, rots in load(path).items():
        print(f"{g:14} " + " ".join(f"{rots.get(r, 0):5d}" for r in ("0", "90", "180", "270")))
PY
