#!/usr/bin/env bash
# Benchmark (not a test): how the hcoop-monitor daemon scales with the number of
# services, side by side with Debian's nagios4 at 10,000.
#
#   tests/bench/scale.sh [SECONDS]
#   HCOOP_MONITOR=path/to/hcoop-monitor CASES="10k 100k" tests/bench/scale.sh 120
#   UNIQUE=1 tests/bench/scale.sh     every service with arguments of its own
#
# Every case is built-in (in-process) check_tcp services connecting to a local port that
# accepts and closes, due every minute:
#   10k, 100k, 300k   that many services on 10 hosts, all in one configuration file
#   hosts             10,000 hosts with 10 services each
#   objects           10,000 services on 100 hosts with what a site moving from Nagios
#                     has: 50 time periods (every service in one of them), 500 groups
#                     (host and service groups, half by list, half by pattern) and
#                     2,000 service dependencies
#   nagios            nagios4 running Debian's check_tcp for 10k services on 10 hosts
# For each it prints:
#   load      seconds to read and validate the configuration (`validate`; nagios4 -v)
#   first     seconds from the start of the daemon to its first API answer (nagios4:
#             to its first status.dat)
#   cpu       CPU seconds per minute used by the daemon (nagios4: its workers and the
#             plugins they ran too), measured over SECONDS after a minute of warm-up
#   rss       resident memory at the end, in MB (nagios4: with its workers)
#   p50, p99  how late checks started against their schedule, in ms, over the same
#             window: the difference of two scrapes of the hcoop_check_lateness_seconds
#             histogram in /metrics/scheduler (a bucket's upper bound); a daemon without
#             it is read from each service's last hcoop_service_latency_seconds in
#             /metrics (marked *); nagios4: $SERVICELATENCY$ of every check run in the
#             window
#   checks/s  checks run per second in the window (due: services / 60)
#
# Needs: nagios4-core, monitoring-plugins-basic, python3 (tests/run.sh installs them).
# Run as root (nagios4 drops to the nagios user). Each case runs about SECONDS + 70 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
secs=${1:-120}
warm=${WARM:-60}
cases=${CASES:-10k 100k 300k hosts objects nagios}
daemon_vs_nagios check_tcp

# a port on every loopback address that accepts and closes connections, served by two
# processes sharing it so that accepting is not the limit
tcp_port=$(free_port)
accept_and_close 0.0.0.0 "$tcp_port"

# generates a one-file configuration: HOSTS hosts, PER services each
gen_ours() {
  local hosts=$1 per=$2 port=$3 d=$4
  python3 - "$hosts" "$per" "$port" "$d" "$tcp_port" "${UNIQUE:-0}" "${5:-0}" <<'PY'
import sys
hosts, per, port, d, tcp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
# objects: time periods, groups and dependencies as a site moving from Nagios has
objects = sys.argv[7] == "1"
days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# UNIQUE=1: every service's arguments differ (a warning threshold of its own), so that
# nothing checked or built once per distinct argument list can be shared between them
unique = sys.argv[6] == "1"
with open(f"{d}/scale.toml", "w") as f:
    f.write(f'[daemon]\nlisten = "127.0.0.1:{port}"\nstate_file = "{d}/state/state.json"\n'
            f'socket = "{d}/run/control.sock"\n\n')
    f.write('[defaults]\ncheck_interval = "1m"\nretry_interval = "1m"\n\n')
    for h in range(hosts):
        f.write(f'[[host]]\nname = "h{h}"\naddress = "127.0.{h // 250}.{h % 250 + 1}"\n\n')
    for i in range(hosts * per):
        warn = f', "-w", "{5 + i / 1e6:.6f}"' if unique else ""
        period = f'check_period = "p{i % 50}"\n' if objects else ""
        f.write(f'[[service]]\nhost = "h{i % hosts}"\nname = "tcp{i}"\ncheck = "check_tcp"\n'
                f'args = ["-H", "$HOSTADDRESS$", "-p", "{tcp}"{warn}]\n{period}\n')
    if objects:
        # every period holds all the time, written as Nagios sites write theirs
        for p in range(50):
            rules = ", ".join(f'"{day} 00:00-{12 + p % 6:02}:00,{12 + p % 6:02}:00-24:00"' for day in days)
            f.write(f'[[timeperiod]]\nname = "p{p}"\nrules = [{rules}]\n\n')
        for g in range(250):
            if g % 2:
                f.write(f'[[hostgroup]]\nname = "hg{g}"\npattern = "^h{g % 10}[0-9]*$"\n\n')
            else:
                members = ", ".join(f'"h{(g + k) % hosts}"' for k in range(5))
                f.write(f'[[hostgroup]]\nname = "hg{g}"\nmembers = [{members}]\n\n')
        for g in range(250):
            if g % 2:
                f.write(f'[[servicegroup]]\nname = "sg{g}"\npattern = "^h[0-9]+/tcp{g}[0-9]$"\n\n')
            else:
                members = ", ".join(f'"h{g % hosts}/tcp{g + k * 7 * hosts}"' for k in range(5))
                f.write(f'[[servicegroup]]\nname = "sg{g}"\nmembers = [{members}]\n\n')
        # fans: 2,000 services depend on the first service of their host
        for i in range(hosts, hosts + 2000):
            f.write(f'[[servicedependency]]\nhost = "h{i % hosts}"\nservice = "tcp{i % hosts}"\n'
                    f'dependent_service = "tcp{i}"\nexecution_failure_criteria = "c,u"\n'
                    f'notification_failure_criteria = "w,c,u"\n\n')
PY
}

# the measurement of one running process tree (PID; URL of /metrics or "" for nagios4
# with PERF, its perfdata file): prints cpu, rss, p50, p99, checks/s
measure() {
  python3 - "$1" "$2" "$secs" "${3:-}" <<'PY'
import os, re, sys, time, urllib.error, urllib.request
pid, url, secs, perf = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
tick = os.sysconf("SC_CLK_TCK")

def tree(root):
    """root and its descendants"""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out

def cpu():
    """CPU seconds of the tree, with the children each process reaped"""
    total = 0
    for p in tree(pid):
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15])
    return total / tick

def rss():
    kb = 0
    for p in tree(pid):
        try:
            kb += int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p}/status").read()).group(1))
        except (OSError, AttributeError):
            pass
    return kb / 1024

def scrape():
    global url
    try:
        t = urllib.request.urlopen(url, timeout=120).read().decode()
    except urllib.error.HTTPError as e:
        # a daemon without the light page: every series, rendered under its lock (at
        # 300,000 services long enough to make checks late)
        if e.code != 404 or not url.endswith("/scheduler"):
            raise
        url = url.removesuffix("/scheduler")
        t = urllib.request.urlopen(url, timeout=120).read().decode()
    total = int(re.search(r"^hcoop_checks_total (\d+)", t, re.M).group(1))
    buckets = [(float("inf") if le == "+Inf" else float(le), int(n)) for le, n in
               re.findall(r'^hcoop_check_lateness_seconds_bucket\{le="([^"]+)"\} (\d+)', t, re.M)]
    last = [float(x) for x in re.findall(r"^hcoop_service_latency_seconds\{[^}]*\} (\S+)", t, re.M)]
    def one(name):
        m = re.search(rf"^{name} (\d+)", t, re.M)
        return int(m.group(1)) if m else 0
    saves = (one("hcoop_retention_compactions_total"), one("hcoop_retention_snapshot_bytes"))
    return total, buckets, last, saves

def quantile(sorted_values, q):
    return sorted_values[max(0, int(len(sorted_values) * q + 0.999999) - 1)]

c0, t0 = cpu(), time.time()
if url:
    n0, b0, _, s0 = scrape()
time.sleep(max(0.0, t0 + secs - time.time()))
c1, t1 = cpu(), time.time()
mark = ""
if url:
    n1, b1, last, s1 = scrape()
    rate = (n1 - n0) / (t1 - t0)
    # the state files: snapshots written (compactions) in the window and their size
    print(f"  state: {s1[0] - s0[0]} snapshots of {s1[1] / 1e6:.1f} MB written in {t1 - t0:.0f} s",
          file=sys.stderr)
    if b1:
        diff = [(le, n - (dict(b0).get(le, 0))) for le, n in b1]
        total = diff[-1][1]
        def q(x):
            rank = max(1, int(total * x + 0.999999))
            return next((le for le, n in diff if n >= rank), float("inf")) * 1000
        p50, p99 = (q(0.5), q(0.99)) if total else (float("nan"),) * 2
    else:
        last.sort(); mark = "*"
        p50, p99 = (quantile(last, 0.5) * 1000, quantile(last, 0.99) * 1000) if last else (float("nan"),) * 2
else:
    lat = []
    for line in open(perf):
        ts, _, l = line.strip().partition("\t")
        if ts.isdigit() and t0 <= int(ts) < t1 and l:
            lat.append(float(l))
    lat.sort()
    rate = len(lat) / (t1 - t0)
    p50, p99 = (quantile(lat, 0.5) * 1000, quantile(lat, 0.99) * 1000) if lat else (float("nan"),) * 2
print(f"{(c1 - c0) / (t1 - t0) * 60:.1f} {rss():.0f} {p50:.1f}{mark} {p99:.1f}{mark} {rate:.0f}")
PY
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

ours_case() {
  local name=$1 hosts=$2 per=$3 objects=${4:-0} d="$work/$1"
  mkdir -p "$d/state" "$d/run"
  chmod 700 "$d/state" "$d/run"
  local port
  port=$(free_port)
  gen_ours "$hosts" "$per" "$port" "$d" "$objects"
  local t load first
  t=$(now)
  "$ours" -c "$d/scale.toml" validate >/dev/null 2>"$d/validate.log" || { cat "$d/validate.log" >&2; return 1; }
  load=$(since "$t")
  t=$(now)
  RUST_LOG=warn "$ours" -c "$d/scale.toml" run 2>"$d/log" &
  local pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/api/whoami" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "$name: the daemon stopped:" >&2; tail -5 "$d/log" >&2; return 1; }
    sleep 0.02
  done
  first=$(since "$t")
  sleep "$warm"
  local cpu rss p50 p99 rate
  read -r cpu rss p50 p99 rate < <(measure "$pid" "http://127.0.0.1:$port/metrics/scheduler" 2>"$d/state.txt")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%-28s %8s %8s %8s %8s %9s %9s %9s\n' "$name ($((hosts * per)) svc, $hosts hosts)" \
    "$load" "$first" "$cpu" "$rss" "$p50" "$p99" "$rate/$((hosts * per / 60))"
  cat "$d/state.txt"
  rm -rf "$d"
}

nagios_case() {
  local n=10000 hosts=10 d="$work/nagios"
  nagios_cfg "$d" "status_update_interval=10
retain_state_information=1
retention_update_interval=1
interval_length=60
service_perfdata_file_template=\$TIMET\$\t\$SERVICELATENCY\$
enable_flap_detection=1"
  nagios_base_objects > "$d/objects.cfg"
  python3 - "$d" "$n" "$hosts" "$plugins" "$tcp_port" <<'PY'
import sys
d, n, hosts, plugins, tcp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(f"{d}/objects.cfg", "a") as f:
    f.write(f"define command {{\n command_name tcp\n command_line {plugins}/check_tcp -H $HOSTADDRESS$ -p {tcp}\n}}\n")
    for h in range(hosts):
        f.write(f"define host {{\n host_name h{h}\n address 127.0.0.{h + 1}\n max_check_attempts 1\n"
                " check_period 24x7\n notification_period 24x7\n active_checks_enabled 0\n contacts c\n}\n")
    for i in range(n):
        f.write(f"define service {{\n host_name h{i % hosts}\n service_description tcp{i}\n check_command tcp\n"
                " check_interval 1\n retry_interval 1\n max_check_attempts 3\n check_period 24x7\n"
                " notification_period 24x7\n contacts c\n}\n")
PY
  chown -R nagios:nagios "$d"
  local t load first
  t=$(now)
  /usr/sbin/nagios4 -v "$d/nagios.cfg" >"$d/verify.log" 2>&1 || { tail -5 "$d/verify.log" >&2; return 1; }
  load=$(since "$t")
  t=$(now)
  /usr/sbin/nagios4 "$d/nagios.cfg" >/dev/null 2>&1 &
  local pid=$!
  until [ -s "$d/status.dat" ]; do sleep 0.02; done
  first=$(since "$t")
  sleep "$warm"
  local cpu rss p50 p99 rate
  read -r cpu rss p50 p99 rate < <(measure "$pid" "" "$d/perf.dat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%-28s %8s %8s %8s %8s %9s %9s %9s\n' "nagios4 ($n svc, $hosts hosts)" \
    "$load" "$first" "$cpu" "$rss" "$p50" "$p99" "$rate/$((n / 60))"
  rm -rf "$d"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); ${warm} s warm-up, ${secs} s measured per case"
printf '%-28s %8s %8s %8s %8s %9s %9s %9s\n' case "load s" "first s" "cpu s/m" "rss MB" "p50 ms" "p99 ms" "checks/s"
for c in $cases; do
  case $c in
    10k) ours_case 10k 10 1000 ;;
    100k) ours_case 100k 10 10000 ;;
    300k) ours_case 300k 10 30000 ;;
    hosts) ours_case hosts 10000 10 ;;
    objects) ours_case objects 100 100 1 ;;
    nagios) nagios_case ;;
    *) echo "unknown case $c (10k 100k 300k hosts objects nagios)" >&2; exit 2 ;;
  esac
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goals at 100k: load < 2 s, first < 2 s, cpu <= 15 s/m, rss <= 250 MB, p99 < 50 ms; at 300k: rss <= 750 MB, p99 < 1000 ms"
