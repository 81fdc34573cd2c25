#!/usr/bin/env bash
# Benchmark (not a test): our check_icmp, check_host and check_ping against Debian's, side by side in
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
plugins_vs_debian "${1:-100}" check_icmp check_host check_ping
trap 'rm -rf "$tmp"' EXIT

ping_levels="-w 100,20% -c 500,60%"
cases=(
  "$(same_args "icmp 127.0.0.1" check_icmp "-H 127.0.0.1")"
  "$(same_args "icmp ::1" check_icmp "-H ::1")"
  "$(same_args "icmp -n 1" check_icmp "-H 127.0.0.1 -n 1")"
  "$(same_args "icmp 3 hosts" check_icmp "-H 127.0.0.1 -H 127.0.0.2 -H 127.0.0.3")"
  "$(same_args "host 127.0.0.1" check_host "-H 127.0.0.1")"
  "$(same_args "host localhost" check_host "-H localhost")"
  "$(same_args "ping -p 1" check_ping "-H 127.0.0.1 $ping_levels -p 1")"
  "$(same_args "ping ::1 -p 1" check_ping "-H ::1 $ping_levels -p 1")"
)
compare_cases "$runs" "$tmp" "${cases[@]}"
# five packets: ping(8) paces them a second apart, ours as soon as each is answered
compare_cases 3 "$tmp" "$(same_args "ping -p 5" check_ping "-H 127.0.0.1 $ping_levels")"
