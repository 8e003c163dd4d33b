#!/usr/bin/env bash
# The demo. At this stage: the domain tools on demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== GS1: a pack scan as a scanner sends it"
printf ']d2010030001012345517270331\x1d10A123\x1d21SN12345' | go run ./server/cmd/custodyctl gs1 parse --require unit -
echo "== GS1: the same scan with the group separator missing (refused)"
printf ']d201003000101234551727033110A12321SN12345' | go run ./server/cmd/custodyctl gs1 parse --require unit - || true
