#!/usr/bin/env bash
# Benchmark (not a test): our check_ntp_time and check_ntp_peer against Debian's, side by
# side in one run, against ntpsec's ntpd in a network namespace of its own (it serves
# port 123 only), synchronized to its undisciplined local clock and started without
# CAP_SYS_TIME, so the host's clock is never touched. Prints mean wall time per run and
# the ratio ours/theirs (lower is better).
#
#   tests/bench/ntp.sh [RUNS]
#
# Needs root (a network namespace), hyperfine, ntpsec and monitoring-plugins-basic
# (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/lib.sh
runs=${1:-100}

if [ -n "${NTP_BENCH_OURS:-}" ]; then
  # inside the namespace: the comparison itself
  ours=$NTP_BENCH_OURS
  theirs=/usr/lib/nagios/plugins
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cases=(
    "$(same_args ntp_time check_ntp_time "-H 127.0.0.1 -w 1 -c 2")"
    "$(same_args ntp_peer check_ntp_peer "-H 127.0.0.1 -w 1 -c 2")"
    "$(same_args "ntp_peer all" check_ntp_peer "-H 127.0.0.1 -W 4 -C 5 -j 100 -k 200 -m 1: -n 1:")"
  )
  compare_cases "$runs" "$tmp" "${cases[@]}"
  exit 0
fi

ours=$(dist/release.sh -p hcoop-plugins --bin check_ntp_time --bin check_ntp_peer)
ns="hcoop-ntp-bench-$$"
tmp=$(mktemp -d)
ip netns add "$ns"
cleanup() {
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip -n "$ns" link set lo up
cat > "$tmp/ntp.conf" <<CFG
refclock local stratum 3 minpoll 0 maxpoll 0 prefer
tos maxdist 16 minclock 1 minsane 1
driftfile $tmp/drift
restrict default kod limited nomodify noquery
restrict 127.0.0.1
CFG
ip netns exec "$ns" setpriv --bounding-set -sys_time --inh-caps -sys_time -- \
  /usr/sbin/ntpd -n -c "$tmp/ntp.conf" -l "$tmp/ntpd.log" >/dev/null 2>&1 &
for _ in $(seq 1 40); do
  ip netns exec "$ns" ntpq -c "rv 0 leap" 127.0.0.1 2>/dev/null | grep -q leap=00 && break
  sleep 0.5
done
ip netns exec "$ns" env NTP_BENCH_OURS="$ours" "$0" "$runs"
