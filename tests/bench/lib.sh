# Shared by the benchmark scripts (sourced, not run): free ports, a TCP port that
# accepts and closes, hyperfine comparisons of our plugins with Debian's, and nagios4
# configurations in a temp dir.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# accept_and_close ADDR PORT: two processes sharing PORT on ADDR accept connections and
# close them at once (so that accepting is not the limit); their pids go to `pids`.
accept_and_close() {
  local _
  for _ in 1 2; do
    python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
PY
    pids+=($!)
  done
}

# compare_cases RUNS TMP CASE...: each CASE is "label|our command|their command"; both
# commands must succeed once, then hyperfine -N times them side by side (RUNS runs each,
# its JSON in TMP). Prints mean wall time per run and the ratio ours/theirs.
compare_cases() {
  local runs=$1 tmp=$2
  shift 2
  printf '%-16s %12s %12s %8s\n' case "ours (ms)" "theirs (ms)" ratio
  local c label rest a b cmd out
  for c in "$@"; do
    label=${c%%|*}
    rest=${c#*|}
    a=${rest%%|*}
    b=${rest#*|}
    # both must work before they are timed
    for cmd in "$a" "$b"; do
      if ! out=$(eval "$cmd"); then
        echo "$label: '$cmd' failed: $out" >&2
        exit 1
      fi
    done
    hyperfine -N --warmup 10 --runs "$runs" --style none --export-json "$tmp/r.json" "$a" "$b" >/dev/null 2>&1
    python3 - "$tmp/r.json" "$label" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"{sys.argv[2]:<16} {a:12.2f} {b:12.2f} {a / b:8.2f}")
PY
  done
}

# stop_servers DIR: stops the processes of `pids`, gives them half a second to end and
# removes DIR.
stop_servers() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$1"
}

# wait_tcp PORT...: waits until each PORT on 127.0.0.1 accepts a connection (10 s at
# the most each).
wait_tcp() {
  local p _
  for p in "$@"; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
  done
}

# start_dovecot CONF PORT...: Dovecot in the foreground on CONF (its pid added to
# `pids`), waited for until each PORT accepts.
start_dovecot() {
  local conf=$1
  shift
  /usr/sbin/dovecot -F -c "$conf" >/dev/null 2>&1 &
  pids+=($!)
  wait_tcp "$@"
}

# same_args LABEL PLUGIN ARGS: a compare_cases CASE running our PLUGIN and Debian's with
# the same ARGS (`ours` and `theirs` say where each is).
same_args() {
  printf '%s|%s/%s %s|%s/%s %s' "$1" "$ours" "$2" "$3" "$theirs" "$2" "$3"
}

# bench_cert DIR NAME: a throwaway CA (DIR/ca.crt, DIR/ca.key) and a certificate for
# NAME it signs (DIR/server.crt, DIR/server.key readable by the servers' users).
bench_cert() {
  local d=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=bench-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -addext "subjectAltName=DNS:$name" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 30 -copy_extensions copy -out "$d/server.crt" 2>/dev/null
  chmod 644 "$d/server.key"
}

# nagios_cfg DIR MORE: writes DIR/nagios.cfg (every file inside DIR, DIR/checkresults
# made, run as user nagios, no notifications, no freshness checks, perfdata of each
# executed service check appended to DIR/perf.dat) followed by the lines MORE (the
# interval length, the perfdata template, retention, flapping).
nagios_cfg() {
  local d=$1 more=$2
  mkdir -p "$d/checkresults"
  cat > "$d/nagios.cfg" <<CFG
log_file=$d/nagios.log
cfg_file=$d/objects.cfg
object_cache_file=$d/objects.cache
precached_object_file=$d/objects.precache
status_file=$d/status.dat
temp_file=$d/nagios.tmp
temp_path=$d
lock_file=$d/nagios.lock
state_retention_file=$d/retention.dat
command_file=$d/nagios.cmd
check_external_commands=0
check_result_path=$d/checkresults
nagios_user=nagios
nagios_group=nagios
max_concurrent_checks=0
process_performance_data=1
service_perfdata_file=$d/perf.dat
service_perfdata_file_mode=a
enable_notifications=0
use_syslog=0
check_service_freshness=0
check_host_freshness=0
max_service_check_spread=1
$more
CFG
}

# The nagios4 objects every benchmark configuration needs: the 24x7 time period, the
# no-op command `none` and the contact `c` without notifications.
nagios_base_objects() {
  printf 'define timeperiod {\n timeperiod_name 24x7\n alias 24x7\n sunday 00:00-24:00\n monday 00:00-24:00\n tuesday 00:00-24:00\n wednesday 00:00-24:00\n thursday 00:00-24:00\n friday 00:00-24:00\n saturday 00:00-24:00\n}\n'
  printf 'define command {\n command_name none\n command_line /bin/true\n}\n'
  printf 'define contact {\n contact_name c\n host_notifications_enabled 0\n service_notifications_enabled 0\n host_notification_period 24x7\n service_notification_period 24x7\n host_notification_options n\n service_notification_options n\n host_notification_commands none\n service_notification_commands none\n}\n'
}

# A new temp dir that the servers' users can read.
readable_tmp() {
  local d
  d=$(mktemp -d)
  chmod 755 "$d"
  echo "$d"
}

# plugins_vs_debian RUNS BIN...: builds our BINs (release) and sets `ours` (where they
# are), `theirs` (Debian's plugins), `runs` (RUNS) and `tmp` (a readable temp dir).
plugins_vs_debian() {
  runs=$1
  shift
  local bins=()
  for b in "$@"; do bins+=(--bin "$b"); done
  ours=$(dist/release.sh -p hcoop-plugins "${bins[@]}")
  theirs=/usr/lib/nagios/plugins
  tmp=$(readable_tmp)
}

# daemon_vs_nagios PLUGIN...: sets `ours` (the daemon: $HCOOP_MONITOR, or built),
# `plugins` (Debian's, which must include PLUGIN...), `work` (a readable temp dir) and
# `pids`; at exit the processes of `pids` are stopped and `work` removed.
daemon_vs_nagios() {
  ours=${HCOOP_MONITOR:-$(dist/daemon.sh)}
  plugins=/usr/lib/nagios/plugins
  local p
  for p in /usr/sbin/nagios4 "${@/#/$plugins/}"; do
    [ -x "$p" ] || { echo "missing $p: install nagios4-core and monitoring-plugins-basic" >&2; exit 1; }
  done
  work=$(readable_tmp)
  pids=()
  trap stop_work EXIT
}

stop_work() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
