#!/usr/bin/env bash
# Benchmark (not a test): the hcoop-monitor scheduler against Debian's nagios4, side by
# side in one run on this machine, with the same number of services and the same plugin.
#
#   tests/bench/scheduler.sh [SECONDS]
#   HCOOP_MONITOR=path/to/hcoop-monitor tests/bench/scheduler.sh [SECONDS]
#
# 1. External plugins at saturation: N services of check_dummy due every second, more
#    than either can run; checks/s counted exactly (nagios4: one perfdata line per
#    executed check; hcoop-monitor: hcoop_checks_total from /metrics). Target >= 1.5x.
# 2. Latency at 1,000 checks/s: 1,000 check_dummy services due every second; p99 of the
#    per-check latency (start minus due time) sampled from /metrics. Target < 100 ms.
# 3. In-process TCP: the built-in check_tcp connecting to a local port vs nagios4
#    running Debian's check_tcp, both at saturation. Target >= 20x.
# 4. Memory: 10,000 services of a trivial built-in check (check_load): RSS after they
#    all ran once. Target <= 50 MB.
#
# Needs: nagios4-core, monitoring-plugins-basic, python3 (tests/run.sh installs them).
# Run as root (nagios4 drops to the nagios user; plugins run as nobody).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
secs=${1:-20}
warm=5
# HCOOP_MONITOR=path runs an already built daemon instead of building one
daemon_vs_nagios check_dummy check_tcp

# a local TCP port that accepts and closes connections (for the TCP checks), served by
# two processes sharing the port so that accepting is not the limit
tcp_port=$(free_port)
accept_and_close 127.0.0.1 "$tcp_port"

# nagios4 with N services of COMMAND due every second; prints executed checks/s
nagios_rate() {
  local n=$1 command=$2 d="$work/nagios-$RANDOM"
  nagios_cfg "$d" 'retain_state_information=0
interval_length=1
service_perfdata_file_template=$TIMET$
enable_flap_detection=0'
  {
    nagios_base_objects
    printf 'define command {\n command_name bench\n command_line %s\n}\n' "$command"
    printf 'define host {\n host_name h\n address 127.0.0.1\n max_check_attempts 1\n check_period 24x7\n notification_period 24x7\n active_checks_enabled 0\n contacts c\n}\n'
    for i in $(seq 1 "$n"); do
      printf 'define service {\n host_name h\n service_description s%d\n check_command bench\n check_interval 1\n retry_interval 1\n max_check_attempts 1\n check_period 24x7\n notification_period 24x7\n contacts c\n}\n' "$i"
    done
  } > "$d/objects.cfg"
  chown -R nagios:nagios "$d"
  /usr/sbin/nagios4 "$d/nagios.cfg" >/dev/null 2>&1 &
  local pid=$!
  sleep "$warm"
  local t0 t1
  t0=$(date +%s)
  sleep "$secs"
  t1=$(date +%s)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b { n++ } END { printf "%.0f\n", n / (b - a) }' "$d/perf.dat"
}

# hcoop-monitor with N services (CHECK is a TOML fragment); prints checks/s, p99
# latency in ms, and RSS in MB
ours_run() {
  local n=$1 check=$2 d="$work/ours-$RANDOM"
  mkdir -p "$d"
  local port
  port=$(free_port)
  {
    printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_file = "%s/state.json"\nretention_interval = "60s"\nconcurrency = 256\n\n' "$port" "$d"
    printf '[defaults]\ncheck_interval = "1s"\nretry_interval = "1s"\nmax_check_attempts = 1\nflap_detection = false\n\n'
    printf '[[host]]\nname = "h"\naddress = "127.0.0.1"\n\n'
    for i in $(seq 1 "$n"); do printf '[[service]]\nhost = "h"\nname = "s%d"\n%s\n' "$i" "$check"; done
  } > "$d/a.toml"
  RUST_LOG=warn "$ours" -c "$d/a.toml" run 2>"$d/log" &
  local pid=$!
  sleep "$warm"
  python3 - "$port" "$secs" "$pid" <<'PY'
import re, sys, time, urllib.request
port, secs, pid = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def scrape():
    for _ in range(300):
        try:
            t = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
            break
        except OSError:
            time.sleep(0.1)
    total = int(re.search(r"^hcoop_checks_total (\d+)", t, re.M).group(1))
    lat = [float(x) for x in re.findall(r"^hcoop_service_latency_seconds\{[^}]*\} (\S+)", t, re.M)]
    return time.time(), total, lat
t0, n0, _ = scrape()
lats = []
end = t0 + secs
while time.time() < end:
    time.sleep(min(2.0, max(0.0, end - time.time())))
    lats += scrape()[2]
t1, n1, _ = scrape()
lats.sort()
p99 = lats[int(len(lats) * 0.99) - 1] * 1000 if lats else float("nan")
rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1)) / 1024
print(f"{(n1 - n0) / (t1 - t0):.0f} {p99:.1f} {rss:.1f}")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); ${secs} s per measurement"
printf '%-46s %14s %14s %8s\n' benchmark hcoop-monitor nagios4 ratio

n=3000
read -r o_rate _ _ < <(ours_run $n "command = \"$plugins/check_dummy 0 ok\"")
n_rate=$(nagios_rate $n "$plugins/check_dummy 0 ok")
printf '%-46s %12s/s %12s/s %8s (target >= 1.5x)\n' "check_dummy, $n services due every 1 s" "$o_rate" "$n_rate" "$(ratio "$o_rate" "$n_rate")"

read -r rate p99 _ < <(ours_run 1000 "command = \"$plugins/check_dummy 0 ok\"")
printf '%-46s %12s/s  p99 latency %s ms (target < 100)\n' "check_dummy, 1000 services due every 1 s" "$rate" "$p99"

n=5000
read -r o_rate _ _ < <(ours_run $n "check = \"check_tcp\"
args = [\"-H\", \"127.0.0.1\", \"-p\", \"$tcp_port\"]")
n_rate=$(nagios_rate $n "$plugins/check_tcp -H 127.0.0.1 -p $tcp_port")
printf '%-46s %12s/s %12s/s %8s (target >= 20x)\n' "TCP connect, $n services due every 1 s" "$o_rate" "$n_rate" "$(ratio "$o_rate" "$n_rate")"

read -r _ _ rss < <(ours_run 10000 'check = "check_load"
check_interval = "10s"')
printf '%-46s %12s MB (target <= 50)\n' "RSS, 10000 built-in check_load services" "$rss"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
