#!/usr/bin/env bash
# The demo: a one-node Custody site with demo data (two clients, NDC-based
# products, an inbound ASN of pallets, cases and units, orders) and a small
# fleet of simulated handhelds working against it over websockets, going
# offline now and then and making a few conflicts. Watch it in the site
# console (a browser); Ctrl-C stops it all.
#
# The fleet works in rounds of DEMO_ROUND (2m): each round loads new
# ASNs, orders and shipments and makes its conflicts within its first
# minute, so the console shows exceptions soon after the start.
#
# Environment: DEMO_DIR (data, default a new temp dir), DEMO_HTTP
# (default 127.0.0.1:8081), DEMO_RAFT (127.0.0.1:7001), DEMO_DEVICES (4),
# DEMO_DURATION (30m, the fleet's total), DEMO_ROUND (2m), DEMO_CONFLICTS
# (6 per round).
set -euo pipefail
cd "$(dirname "$0")/.."

http=${DEMO_HTTP:-127.0.0.1:8081}
raft=${DEMO_RAFT:-127.0.0.1:7001}
devices=${DEMO_DEVICES:-4}
duration=${DEMO_DURATION:-30m}
round=${DEMO_ROUND:-2m}
conflicts=${DEMO_CONFLICTS:-6}
dir=${DEMO_DIR:-$(mktemp -d -t custody-demo-XXXXXX)}
bin="$dir/bin"
mkdir -p "$bin"

seconds() { # a Go-style duration of s, m or h to seconds
  local d=$1
  case $d in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}

echo "== building custody-server, custodyctl and custody-sim"
GOFLAGS=${GOFLAGS:--buildvcs=false} go build -o "$bin/" ./server/cmd/custody-server ./server/cmd/custodyctl ./e2e/cmd/custody-sim

server_pid=
fleet_pid=
stop() {
  trap - INT TERM EXIT
  echo
  echo "== stopping the fleet and the site"
  if [[ -n $fleet_pid ]]; then
    kill -TERM "$fleet_pid" 2>/dev/null || true
    wait "$fleet_pid" 2>/dev/null || true
  fi
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    echo "== custody-server (pid $server_pid) is still running; data and logs are in $dir"
  else
    echo "== stopped: custody-server and the fleet have exited; data and logs are in $dir"
  fi
}
trap stop INT TERM EXIT

echo "== starting a one-node site on http://$http (data in $dir/site)"
"$bin/custody-server" --id n1 --data "$dir/site" --http "$http" --raft "$raft" --insecure-devices >"$dir/server.log" 2>&1 &
server_pid=$!

# Wait for the API port (bash's /dev/tcp: no curl needed).
host=${http%:*}; port=${http##*:}
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "custody-server did not start:"; tail -20 "$dir/server.log"; exit 1
  fi
  sleep 0.2
done
base="http://$http"

# The first start writes the admin's console password into the data dir.
pwfile="$dir/site/console-admin-password"
for _ in $(seq 1 100); do [[ -s $pwfile ]] && break; sleep 0.2; done
admin_pw=$(cat "$pwfile")

# The fleet: rounds of custody-sim until the total duration is up.
fleet() {
  local total n=0 start sim_pid= status
  # Stopping the fleet stops the round under way too (custody-sim runs
  # as a child of this subshell, which would otherwise leave it behind).
  trap '[[ -n $sim_pid ]] && kill -TERM "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; exit 0' TERM
  total=$(seconds "$duration")
  start=$SECONDS
  while (( SECONDS - start < total )); do
    n=$((n + 1))
    "$bin/custody-sim" --servers "$base" --devices "$devices" --duration "$round" --offline 0.2 \
      --conflicts "$conflicts" --seed "$n" --pace 1s --dir "$dir/devices/round$n" --keep 2>>"$dir/sim.log" &
    sim_pid=$!
    status=0
    wait "$sim_pid" || status=$?
    sim_pid=
    if (( status != 0 )); then
      echo "== custody-sim round $n ended with status $status (see $dir/sim.log)"; return 1
    fi
  done
  echo "== the fleet is done; the site keeps running until Ctrl-C"
}
echo "== $devices simulated handhelds start working (progress below)"
fleet &
fleet_pid=$!

# Demo logins: the users come with the demo data the fleet loads; their
# console passwords are drawn now.
lead_pw="lead1-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
op_pw="op1-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
ctl() { "$bin/custodyctl" --server "$base" "$@"; }
for user_pw in "lead1 $lead_pw" "op1 $op_pw"; do
  set -- $user_pw
  for _ in $(seq 1 150); do
    if echo "$2" | CUSTODY_USER=admin ctl users password "$1" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
done

cat <<MSG

== the site console: open $base/ in a browser
   admin   $admin_pw   (admin: devices, users, every client; also in $pwfile)
   lead1   $lead_pw   (shift lead: every client; resolves exceptions, holds and releases)
   op1     $op_pw   (operator of the client acme only)
   The floor updates by itself; conflicts and exceptions appear within the first minute.

== the API (every call names a user: header X-Custody-User, e.g. admin; the handhelds
   sync without certificates here: --insecure-devices, a demo setting)
  cluster status  curl -s -H 'X-Custody-User: admin' $base/api/v1/cluster/status
  exceptions      curl -s -H 'X-Custody-User: admin' $base/api/v1/exceptions
  metrics         curl -s $base/metrics
  logs            $dir/server.log, $dir/sim.log
Ctrl-C stops the site and the fleet.

MSG

wait "$fleet_pid" || true
fleet_pid=
wait "$server_pid"
