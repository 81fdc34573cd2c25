#!/usr/bin/env bash
# Benchmark (not a test): our check_icmp and check_ping against Debian's, side by side in
# one run, on loopback (127.0.0.1 and ::1), with the same arguments. Prints mean wall
# time per run and the ratio ours/theirs (lower is better).
#
#   tests/bench/icmp.sh [RUNS]
#
# Needs root (Debian's check_icmp has CAP_NET_RAW; ours uses a raw socket as root, or an
# unprivileged ICMP socket where net.ipv4.ping_group_range allows), hyperfine and
# monitoring-plugins-basic (tests/run.sh installs them). Debian's check_ping runs
# ping(8), which waits a second between packets: its cases send one packet, and one of
# five packets with fewer runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/lib.sh
runs=${1:-100}
ours=$(dist/release.sh -p hcoop-plugins --bin check_icmp --bin check_ping)
theirs=/usr/lib/nagios/plugins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cases=(
  "icmp 127.0.0.1|$ours/check_icmp -H 127.0.0.1|$theirs/check_icmp -H 127.0.0.1"
  "icmp ::1|$ours/check_icmp -H ::1|$theirs/check_icmp -H ::1"
  "icmp -n 1|$ours/check_icmp -H 127.0.0.1 -n 1|$theirs/check_icmp -H 127.0.0.1 -n 1"
  "icmp 3 hosts|$ours/check_icmp -H 127.0.0.1 -H 127.0.0.2 -H 127.0.0.3|$theirs/check_icmp -H 127.0.0.1 -H 127.0.0.2 -H 127.0.0.3"
  "ping -p 1|$ours/check_ping -H 127.0.0.1 -w 100,20% -c 500,60% -p 1|$theirs/check_ping -H 127.0.0.1 -w 100,20% -c 500,60% -p 1"
  "ping ::1 -p 1|$ours/check_ping -H ::1 -w 100,20% -c 500,60% -p 1|$theirs/check_ping -H ::1 -w 100,20% -c 500,60% -p 1"
)
compare_cases "$runs" "$tmp" "${cases[@]}"
# five packets: ping(8) paces them a second apart, ours as soon as each is answered
compare_cases 3 "$tmp" \
  "ping -p 5|$ours/check_ping -H 127.0.0.1 -w 100,20% -c 500,60%|$theirs/check_ping -H 127.0.0.1 -w 100,20% -c 500,60%"
