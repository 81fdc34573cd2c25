#!/usr/bin/env bash
# Benchmark (not a test): check_dummy, check_users, check_dig and check_ldap against
# Debian's monitoring-plugins, side by side in one run on the same machine and the same
# local servers. Prints mean wall time per run and the ratio ours/theirs (lower is
# better; goal <= 1.0).
#
#   tests/bench/peer_checks.sh [RUNS]
#
# - check_dummy 0 text; check_users -w 5 -c 10 (the system's utmp);
# - check_dig: one A question to a local authoritative named (Debian's runs dig);
# - check_ldap: an anonymous bind and a base search on a local slapd (Debian's with -3),
#   then with -W/-C: the whole tree of 1000 entries counted.
#
# Runs as root (a loopback address for named). Needs: bind9, bind9-dnsutils, slapd,
# monitoring-plugins-basic and -standard, hyperfine, iproute2 (tests/run.sh installs
# them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
runs=${1:-300}
ours=$(dist/release.sh -p hcoop-plugins --bin check_dummy --bin check_users --bin check_dig --bin check_ldap)
theirs=/usr/lib/nagios/plugins
work=$(mktemp -d)
pids=()
trap stop_work EXIT

# named on 127.0.0.33, one zone
ip=127.0.0.33
ip addr add "$ip/32" dev lo 2>/dev/null || true
dport=$(free_port)
mkdir -p "$work/named"
printf '$TTL 300\n$ORIGIN bench.test.\n@ IN SOA ns1 hostmaster ( 1 3600 600 86400 300 )\n@ IN NS ns1\nns1 IN A %s\nwww IN A 192.0.2.1\n' "$ip" >"$work/named/bench.test.db"
printf 'options {\n directory "%s";\n pid-file "%s/named.pid";\n session-keyfile "%s/session.key";\n managed-keys-directory "%s";\n listen-on port %s { %s; };\n listen-on-v6 { none; };\n recursion no;\n dnssec-validation no;\n};\ncontrols { };\nzone "bench.test" { type master; file "%s/bench.test.db"; };\n' \
  "$work/named" "$work/named" "$work/named" "$work/named" "$dport" "$ip" "$work/named" >"$work/named/named.conf"
/usr/sbin/named -g -c "$work/named/named.conf" >"$work/named/log" 2>&1 &
pids+=($!)

# slapd on a free port, 1000 entries under ou=people
lport=$(free_port)
mkdir -p "$work/ldap/db"
cat >"$work/ldap/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $work/ldap/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited
access to * by * read
database mdb
maxsize 67108864
suffix "dc=bench,dc=test"
rootdn "cn=admin,dc=bench,dc=test"
rootpw bench
directory $work/ldap/db
CONF
{
  printf 'dn: dc=bench,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: bench\no: bench\n\n'
  printf 'dn: ou=people,dc=bench,dc=test\nobjectClass: organizationalUnit\nou: people\n\n'
  for i in $(seq 1 998); do
    printf 'dn: uid=u%d,ou=people,dc=bench,dc=test\nobjectClass: inetOrgPerson\nuid: u%d\ncn: U %d\nsn: N%d\n\n' "$i" "$i" "$i" "$i"
  done
} >"$work/ldap/data.ldif"
/usr/sbin/slapadd -f "$work/ldap/slapd.conf" -l "$work/ldap/data.ldif" >/dev/null 2>&1
/usr/sbin/slapd -d 0 -f "$work/ldap/slapd.conf" -h "ldap://127.0.0.1:$lport/" >"$work/ldap/log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
  if dig +short -p "$dport" @"$ip" www.bench.test A >/dev/null 2>&1 &&
    (exec 3<>"/dev/tcp/127.0.0.1/$lport") 2>/dev/null; then
    break
  fi
  sleep 0.1
done

dig_args="-H $ip -p $dport -l www.bench.test -a 192.0.2.1"
ldap_args="-H 127.0.0.1 -p $lport -b dc=bench,dc=test -3"
compare_cases "$runs" "$work" \
  "dummy|$ours/check_dummy 0 text|$theirs/check_dummy 0 text" \
  "users|$ours/check_users -w 5 -c 10|$theirs/check_users -w 5 -c 10" \
  "dig|$ours/check_dig $dig_args|$theirs/check_dig $dig_args" \
  "ldap|$ours/check_ldap $ldap_args|$theirs/check_ldap $ldap_args" \
  "ldap 1000 entries|$ours/check_ldap $ldap_args -W 2000 -C 3000|$theirs/check_ldap $ldap_args -W 2000 -C 3000"
