#!/usr/bin/env bash
# Benchmark (not a test): Debian's nrpe daemon against our agent (hcoop-monitor nrpe),
# side by side in one run, with the same load generator (tests/src/bin/nrpe_load.rs),
# the same nrpe.cfg commands and the same certificate (ECDSA P-256; the client never
# resumes TLS sessions, as a new check_nrpe process cannot). Prints requests/s and p99
# latency for each, and the ratios ours/nrpe (throughput: higher is better).
#
#   tests/bench/nrpe.sh [SECONDS] [CLIENTS]
#
# Rows: TLS and plain TCP, with an external command (check_dummy, on both) and, for our
# agent, a built-in check run in-process (builtin:check_load) compared with nrpe running
# check_dummy, the cheapest external command there is.
# Targets: >= 5x nrpe's TLS throughput with the external command, >= 20x with the
# built-in one, lower p99 in both.
#
# Loopback only; every load run stops by itself after SECONDS. Needs:
# nagios-nrpe-server, monitoring-plugins-basic, openssl (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
secs=${1:-5}
clients=${2:-8}
bin=$(dist/release.sh -p hcoop-tests --bin nrpe_load)
# the daemon as shipped: linked dynamically (it looks users up through NSS modules)
daemon=$(dist/daemon.sh)
work=$(mktemp -d)
chmod 755 "$work"
# servers are started inside $(...): their pids go to a file the cleanup reads
cleanup() {
  if [ -f "$work/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$work/pids"
    sleep 0.5
  fi
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }

# one ECDSA P-256 certificate for both servers
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
chmod 644 "$work/key.pem" "$work/cert.pem"

common="allowed_hosts=127.0.0.1
command_timeout=10
connection_timeout=10
command[dummy]=/usr/lib/nagios/plugins/check_dummy 0 fine
command[builtin]=builtin:check_load -w 900 -c 1000
ssl_cert_file=$work/cert.pem
ssl_privatekey_file=$work/key.pem"

# start NAME MODE(tls|plain): prints the port
start() {
  local name=$1 mode=$2 port dir
  port=$(free_port)
  dir="$work/$name-$mode"
  mkdir -p "$dir"
  chmod 777 "$dir"
  printf 'server_port=%s\nserver_address=127.0.0.1\nnrpe_user=nagios\nnrpe_group=nagios\npid_file=%s/pid\n%s\n' \
    "$port" "$dir" "$common" >"$dir/nrpe.cfg"
  local flag=()
  [ "$mode" = plain ] && flag=(-n)
  if [ "$name" = nrpe ]; then
    /usr/sbin/nrpe -c "$dir/nrpe.cfg" -f "${flag[@]}" >/dev/null 2>&1 &
  else
    "$daemon" nrpe -c "$dir/nrpe.cfg" --state-dir "$dir/state" "${flag[@]}" >/dev/null 2>&1 &
  fi
  echo $! >>"$work/pids"
  wait_port "$port"
  echo "$port"
}

load() { # port mode command -> "rps p99"
  local flag=()
  [ "$2" = plain ] && flag=(--plain)
  "$bin/nrpe_load" --port "$1" --clients "$clients" --seconds "$secs" --command "$3" "${flag[@]}" |
    sed -E 's/.*errors=([0-9]+) rps=([0-9.]+) p50_ms=[0-9.]+ p99_ms=([0-9.]+)/\2 \3 \1/'
}

printf '%-7s %-28s %10s %9s %7s\n' mode server req/s p99_ms errors
for mode in tls plain; do
  np=$(start nrpe $mode)
  op=$(start ours $mode)
  read -r n_rps n_p99 n_err < <(load "$np" $mode dummy)
  read -r o_rps o_p99 o_err < <(load "$op" $mode dummy)
  read -r b_rps b_p99 b_err < <(load "$op" $mode builtin)
  printf '%-7s %-28s %10s %9s %7s\n' $mode "nrpe, check_dummy" "$n_rps" "$n_p99" "$n_err"
  printf '%-7s %-28s %10s %9s %7s\n' $mode "ours, check_dummy" "$o_rps" "$o_p99" "$o_err"
  printf '%-7s %-28s %10s %9s %7s\n' $mode "ours, builtin:check_load" "$b_rps" "$b_p99" "$b_err"
  awk -v m=$mode -v n="$n_rps" -v o="$o_rps" -v b="$b_rps" -v np="$n_p99" -v op="$o_p99" -v bp="$b_p99" \
    'BEGIN { printf "%-7s ratio ours/nrpe: external %.1fx (p99 %.2f vs %.2f ms), built-in %.1fx (p99 %.2f vs %.2f ms)\n", m, o/n, op, np, b/n, bp, np }'
done
