#!/usr/bin/env bash
# Compares read rates on the same synthetic frames: our reader, gozxing
# alone, zxing-cpp and libdmtx. Run by hand (needs root for apt-get); it
# is not part of the tests. Binaries are built into a temporary directory
# and never kept.
#
#   handheld/scan/bench/compare.sh [SET_DIR]
#
# SET_DIR defaults to a fresh set rendered with `custody-scan synth --pgm`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
handheld=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! dpkg -s libzxing-dev libdmtx-dev g++ pkg-config >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzxing-dev libdmtx-dev g++ pkg-config >/dev/null
fi

(cd "$handheld" && go build -o "$tmp/custody-scan" ./cmd/custody-scan)
set_dir=${1:-}
if [ -z "$set_dir" ]; then
	set_dir="$tmp/set"
	"$tmp/custody-scan" synth -o "$set_dir" --seed "${SEED:-7}" --count "${COUNT:-6}" --pgm
elif ! ls "$set_dir"/*.pgm >/dev/null 2>&1; then
	echo "compare.sh: $set_dir has no .pgm frames (render it with --pgm)" >&2
	exit 1
fi

zx_cflags=$(pkg-config --cflags zxing 2>/dev/null || echo "-I/usr/include")
zx_libs=$(pkg-config --libs zxing 2>/dev/null || echo "-lZXing")
g++ -O2 -std=c++17 -Wno-cpp $zx_cflags "$here/zxing_bench.cpp" -o "$tmp/zxing_bench" $zx_libs
gcc -O2 "$here/dmtx_bench.c" -o "$tmp/dmtx_bench" -ldmtx
echo "zxing-cpp $(pkg-config --modversion zxing 2>/dev/null || dpkg-query -W -f='${Version}' libzxing-dev), libdmtx $(dpkg-query -W -f='${Version}' libdmtx-dev)"

"$tmp/custody-scan" bench --list "$set_dir" >"$tmp/list.tsv"
"$tmp/custody-scan" bench --json "$tmp/ours.json" "$set_dir" >/dev/null
"$tmp/zxing_bench" "$set_dir" <"$tmp/list.tsv" >"$tmp/zxing.tsv"
"$tmp/dmtx_bench" "$set_dir" "${DMTX_TIMEOUT_MS:-2000}" <"$tmp/list.tsv" >"$tmp/dmtx.tsv"

# per group: frames, ours, gozxing, zxing-cpp, libdmtx (read rates)
python3 - "$tmp/ours.json" "$tmp/zxing.tsv" "$tmp/dmtx.tsv" <<'PY'
import json, sys, collections
ours = json.load(open(sys.argv[1]))
def load(path):
    acc = collections.defaultdict(lambda: [0, 0])
    for line in open(path):
        g, size, aimed, ok = line.rstrip("\n").split("\t")
        for key in (g, "aimed" if aimed == "true" else None):
            if key:
                acc[key][0] += 1
                acc[key][1] += int(ok)
    return acc
zx, dm = load(sys.argv[2]), load(sys.argv[3])
rows = collections.OrderedDict()
for r in ours["rows"]:
    if r["group"] == "aimed":
        continue
    a = rows.setdefault(r["group"], [0, 0, 0])
    a[0] += r["frames"]; a[1] += r["read"]; a[2] += r["gozxing_read"]
na = sum(r["frames"] for r in ours["rows"] if r["group"] == "aimed")
rows["aimed"] = [na, round(ours["aimed_rate"] * na), round(ours["aimed_gozxing_rate"] * na)]
print(f"{'group':16} {'frames':>6} {'ours':>7} {'gozxing':>8} {'zxing-cpp':>10} {'libdmtx':>8}")
for g, (n, o, b) in rows.items():
    z = zx[g][1] / zx[g][0] if zx[g][0] else 0
    d = dm[g][1] / dm[g][0] if dm[g][0] else 0
    print(f"{g:16} {n:6d} {o/n:7.1%} {b/n:8.1%} {z:10.1%} {d:8.1%}")
PY
