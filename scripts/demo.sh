#!/usr/bin/env bash
# The demo: a one-node Custody site with demo data (two clients, NDC-based
# products, an inbound ASN of pallets, cases and units, orders) and a small
# fleet of simulated handhelds working against it over websockets, going
# offline now and then and making a few conflicts. Ctrl-C stops it all.
#
# Environment: DEMO_DIR (data, default a new temp dir), DEMO_HTTP
# (default 127.0.0.1:8081), DEMO_RAFT (127.0.0.1:7001), DEMO_DEVICES (4),
# DEMO_DURATION (30m), DEMO_CONFLICTS (6).
set -euo pipefail
cd "$(dirname "$0")/.."

http=${DEMO_HTTP:-127.0.0.1:8081}
raft=${DEMO_RAFT:-127.0.0.1:7001}
devices=${DEMO_DEVICES:-4}
duration=${DEMO_DURATION:-30m}
conflicts=${DEMO_CONFLICTS:-6}
dir=${DEMO_DIR:-$(mktemp -d -t custody-demo-XXXXXX)}
bin="$dir/bin"
mkdir -p "$bin"

echo "== building custody-server and custody-sim"
GOFLAGS=${GOFLAGS:--buildvcs=false} go build -o "$bin/" ./server/cmd/custody-server ./e2e/cmd/custody-sim

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "== stopping"
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  echo "data and logs are in $dir"
}
trap stop INT TERM EXIT

echo "== starting a one-node site on http://$http (data in $dir/site)"
"$bin/custody-server" --id n1 --data "$dir/site" --http "$http" --raft "$raft" --insecure-devices >"$dir/server.log" 2>&1 &
pids+=($!)

# Wait for the API port (bash's /dev/tcp: no curl needed).
host=${http%:*}; port=${http##*:}
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "custody-server did not start:"; tail -20 "$dir/server.log"; exit 1
  fi
  sleep 0.2
done

base="http://$http"
cat <<MSG

== where to look (every API call names a user: header X-Custody-User, e.g. admin;
   the handhelds sync without certificates here: --insecure-devices, a demo setting)
  cluster status  curl -s -H 'X-Custody-User: admin' $base/api/v1/cluster/status
  exceptions      curl -s -H 'X-Custody-User: admin' $base/api/v1/exceptions
  units           curl -s -H 'X-Custody-User: admin' '$base/api/v1/units?limit=20'
  one unit        curl -s -H 'X-Custody-User: admin' $base/api/v1/units/<key>   (history included)
  devices         curl -s -H 'X-Custody-User: admin' $base/api/v1/devices
  orders          curl -s -H 'X-Custody-User: admin' $base/api/v1/orders
  inbound ASN     curl -s -H 'X-Custody-User: admin' $base/api/v1/asns/ASN-1   (pallet → cases → units: keys to look up)
  metrics         curl -s $base/metrics
  health          curl -s $base/readyz
  logs            $dir/server.log, $dir/sim.log
Ctrl-C stops the site and the fleet.

MSG

echo "== $devices simulated handhelds working for $duration (progress below)"
"$bin/custody-sim" --servers "$base" --devices "$devices" --duration "$duration" --offline 0.2 \
  --conflicts "$conflicts" --seed 7 --pace 1s --dir "$dir/devices" --keep 2>"$dir/sim.log" &
pids+=($!)
wait "${pids[1]}" || echo "custody-sim ended with status $? (see $dir/sim.log)"
echo "== the fleet is done; the site keeps running until Ctrl-C"
wait "${pids[0]}"
