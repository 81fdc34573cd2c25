#!/usr/bin/env bash
# Benchmark (not a test): check_http against Debian's monitoring-plugins, side by side in
# one run on the same machine and the same local nginx virtual host. Prints mean wall
# time and the ratio ours/theirs (lower is better).
#
#   tests/bench/http.sh [RUNS] [VHOSTS]
#
# 1. One request: check_http vs Debian's check_http (target <= 1.0x) and check_curl
#    (target <= 0.5x), over HTTP and HTTPS (hyperfine -N, RUNS runs each). Every plugin
#    verifies nothing over HTTPS (Debian's check_http never verifies; check_curl and ours
#    are told not to), so the TLS work compared is the same.
#    Then our check_curl vs Debian's check_curl on the same command line (over HTTPS
#    Debian's check_curl does not verify without -D, ours is told --insecure), plain and
#    with -E (target <= 1.0x).
# 2. VHOSTS virtual hosts: one check_http --vhosts-from run vs a shell loop of VHOSTS
#    runs of Debian's check_http (target <= 0.05x).
#
# Needs: nginx, openssl, monitoring-plugins-standard, hyperfine (tests/run.sh installs
# them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
runs=${1:-200}
nvhosts=${2:-500}
ours=$(dist/release.sh -p hcoop-plugins --bin check_http)/check_http
ours_curl=$(dist/release.sh -p hcoop-plugins --bin check_curl)/check_curl
theirs=/usr/lib/nagios/plugins
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

hp=$(free_port)
sp=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/www" "$work/tmp"
printf '<html><body>bench.test</body></html>\n' >"$work/www/index.html"
cat >"$work/nginx.conf" <<EOF
user root root;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  server { listen 127.0.0.1:$hp default_server; server_name bench.test ~^v\d+\.bench\.test\$; root $work/www; }
  server { listen 127.0.0.1:$sp ssl default_server; server_name bench.test;
           ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; root $work/www; }
}
EOF
/usr/sbin/nginx -c "$work/nginx.conf" -g 'daemon off;' &
pid=$!
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$sp) 2>/dev/null && break
  sleep 0.05
done

mean() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$1"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$1" "$2"; }
row() { printf '%-44s %10.2f ms  %s\n' "$1" "$(python3 -c "print(float('$2')*1000)")" "${3:-}"; }
bench() { # name command
  hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/$1.json" "$2" >/dev/null 2>&1 \
    || { echo "benchmark command failed: $2" >&2; $2; exit 1; }
  mean "$work/$1.json"
}

echo "== one request, $runs runs each (hyperfine -N)"
for scheme in http https; do
  if [ $scheme = http ]; then
    port=$hp; ossl=""; ossl_curl=""; ours_tls=""
  else
    port=$sp; ossl="-S"; ossl_curl="-S"; ours_tls="-S --insecure"
  fi
  o=$(bench "ours-$scheme" "$ours -H bench.test -I 127.0.0.1 -p $port $ours_tls -s bench.test")
  t=$(bench "theirs-$scheme" "$theirs/check_http -H bench.test -I 127.0.0.1 -p $port $ossl -s bench.test")
  c=$(bench "curl-$scheme" "$theirs/check_curl -H bench.test -I 127.0.0.1 -p $port $ossl_curl -s bench.test")
  row "$scheme: check_http (ours)" "$o"
  row "$scheme: Debian check_http" "$t" "ours/theirs = $(ratio "$o" "$t")x (target <= 1.0x)"
  row "$scheme: Debian check_curl" "$c" "ours/check_curl = $(ratio "$o" "$c")x (target <= 0.5x)"
done

echo "== check_curl, ours vs Debian's, $runs runs each (hyperfine -N)"
for scheme in http https; do
  if [ $scheme = http ]; then
    port=$hp; ossl=""; ours_tls=""
  else
    port=$sp; ossl="-S"; ours_tls="-S --insecure"
  fi
  for extra in "" "-E"; do
    o=$(bench "ourscurl-$scheme$extra" "$ours_curl -H bench.test -I 127.0.0.1 -p $port $ours_tls -s bench.test $extra")
    c=$(bench "curl2-$scheme$extra" "$theirs/check_curl -H bench.test -I 127.0.0.1 -p $port $ossl -s bench.test $extra")
    row "$scheme${extra:+ $extra}: check_curl (ours)" "$o"
    row "$scheme${extra:+ $extra}: Debian check_curl" "$c" "ours/theirs = $(ratio "$o" "$c")x (target <= 1.0x)"
  done
done

echo "== $nvhosts virtual hosts"
for i in $(seq 1 "$nvhosts"); do echo "v$i.bench.test"; done >"$work/vhosts.txt"
start=$(date +%s.%N)
"$ours" --vhosts-from "$work/vhosts.txt" -I 127.0.0.1 -p "$hp" -s bench.test -t 60 >"$work/ours.out" || {
  cat "$work/ours.out"
  exit 1
}
end=$(date +%s.%N)
o=$(python3 -c "print($end-$start)")
head -1 "$work/ours.out" | cut -c1-100
start=$(date +%s.%N)
while read -r v; do
  "$theirs/check_http" -H "$v" -I 127.0.0.1 -p "$hp" -s bench.test >/dev/null
done <"$work/vhosts.txt"
end=$(date +%s.%N)
t=$(python3 -c "print($end-$start)")
row "check_http --vhosts-from ($nvhosts vhosts)" "$o"
row "$nvhosts runs of Debian check_http" "$t" "ours/theirs = $(ratio "$o" "$t")x (target <= 0.05x)"
