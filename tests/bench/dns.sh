#!/usr/bin/env bash
# Benchmark (not a test): our DNS checks against Debian's monitoring-plugins, side by side
# in one run on the same machine and the same local named servers. Prints mean wall time
# and the ratio ours/theirs (lower is better).
#
#   tests/bench/dns.sh [RUNS] [ZONES]
#
# 1. check_dns vs Debian's check_dns (nslookup) and check_dig (dig): one A question to a
#    local authoritative named (hyperfine -N, RUNS runs each; target <= 0.3x).
# 2. check_dns_serial over ZONES zones x 2 servers (a master and an AXFR slave) vs a
#    shell loop of Debian's check_dig asking both servers for each zone's SOA (target
#    < 1 s for 1000 zones).
#
# Runs as root (loopback addresses 127.0.0.31 and .32, named on port 53, which Debian's
# check_dns cannot change). Needs: bind9, bind9-dnsutils, monitoring-plugins-standard,
# hyperfine, iproute2 (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
runs=${1:-200}
nzones=${2:-1000}
master=127.0.0.31
slave=127.0.0.32
ours=$(dist/release.sh -p hcoop-plugins --bin check_dns --bin check_dns_serial)
theirs=/usr/lib/nagios/plugins
work=$(mktemp -d)
pids=()
trap stop_work EXIT

for ip in $master $slave; do
  ip addr add "$ip/32" dev lo 2>/dev/null || true
done

# zones z0000.test ... with www A 192.0.2.1, delegated to ns1/ns2.bench.test
zone_file() { # name serial extra
  printf '$TTL 300\n$ORIGIN %s.\n@ IN SOA ns1.bench.test. hostmaster.bench.test. ( %s 3600 600 86400 300 )\n@ IN NS ns1.bench.test.\n@ IN NS ns2.bench.test.\n%b' "$1" "$2" "$3"
}
options() { # dir ip extra
  printf 'options {\n directory "%s";\n pid-file "%s/named.pid";\n session-keyfile "%s/session.key";\n managed-keys-directory "%s";\n listen-on port 53 { %s; };\n listen-on-v6 { none; };\n recursion no;\n notify no;\n allow-transfer { any; };\n dnssec-validation no;\n%s};\ncontrols { };\n' "$1" "$1" "$1" "$1" "$2" "$3"
}
mkdir -p "$work/m" "$work/s"
options "$work/m" $master $' transfers-out 1000;\n tcp-clients 1000;\n' >"$work/m/named.conf"
options "$work/s" $slave $' serial-query-rate 1000;\n transfers-in 200;\n transfers-per-ns 200;\n' >"$work/s/named.conf"
zone_file bench.test 1 "ns1 IN A $master\nns2 IN A $slave\n" >"$work/m/bench.test.db"
echo "zone \"bench.test\" { type master; file \"$work/m/bench.test.db\"; };" >>"$work/m/named.conf"
: >"$work/zones.txt"
for i in $(seq 0 $((nzones - 1))); do
  z=$(printf 'z%04d.test' "$i")
  echo "$z" >>"$work/zones.txt"
  zone_file "$z" $((2024010100 + i)) "www IN A 192.0.2.1\n" >"$work/m/$z.db"
  echo "zone \"$z\" { type master; file \"$work/m/$z.db\"; };" >>"$work/m/named.conf"
  echo "zone \"$z\" { type slave; masters { $master; }; file \"$work/s/$z.db\"; };" >>"$work/s/named.conf"
done

/usr/sbin/named -g -c "$work/m/named.conf" >"$work/m/log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  dig +short +norec @$master z0000.test SOA >/dev/null 2>&1 && break
  sleep 0.1
done
/usr/sbin/named -g -c "$work/s/named.conf" >"$work/s/log" 2>&1 &
pids+=($!)
serial=("$ours/check_dns_serial" -m $master --resolver $master --zones-from "$work/zones.txt"
  --state-dir "$work/state" -t 10)
for _ in $(seq 300); do
  "${serial[@]}" >/dev/null 2>&1 && break
  sleep 0.2
done
"${serial[@]}" | head -1

json=$work/r.json
ratio() { python3 -c "print($1 / $2)"; }
mean_ms() { python3 -c "import json,sys; r=json.load(open('$json'))['results']; print(' '.join(str(x['mean']*1000) for x in r))"; }

echo
echo "1. one A question to a local named ($runs runs each, hyperfine -N)"
hyperfine -N --warmup 10 --runs "$runs" --ignore-failure --style none --export-json "$json" \
  "$ours/check_dns -H www.z0000.test -s $master -a 192.0.2.1" \
  "$theirs/check_dns -H www.z0000.test -s $master -a 192.0.2.1" \
  "$theirs/check_dig -H $master -l www.z0000.test -a 192.0.2.1" >/dev/null 2>&1
read -r a b c <<<"$(mean_ms)"
printf '%-34s %10.3f ms\n' "ours check_dns" "$a"
printf '%-34s %10.3f ms   ours/theirs %.2fx\n' "Debian check_dns (nslookup)" "$b" "$(ratio "$a" "$b")"
printf '%-34s %10.3f ms   ours/theirs %.2fx\n' "Debian check_dig (dig)" "$c" "$(ratio "$a" "$c")"

echo
echo "2. SOA serials of $nzones zones on 2 servers"
hyperfine -N --warmup 2 --runs 10 --style none --export-json "$json" "${serial[*]}" >/dev/null 2>&1
read -r a <<<"$(mean_ms)"
start=$(date +%s.%N)
while read -r z; do
  for s in $master $slave; do
    "$theirs/check_dig" -H $s -l "$z" -T SOA >/dev/null || true
  done
done <"$work/zones.txt"
end=$(date +%s.%N)
b=$(python3 -c "print(($end - $start) * 1000)")
printf '%-34s %10.3f ms\n' "ours check_dns_serial" "$a"
printf '%-34s %10.3f ms   ours/theirs %.4fx\n' "loop of Debian check_dig" "$b" "$(ratio "$a" "$b")"
