#!/usr/bin/env bash
# Benchmark (not a test): check_pgsql, check_mysql and check_mysql_query against Debian's
# monitoring-plugins check_pgsql, check_mysql and check_mysql_query, side by side in one
# run (hyperfine -N), on the same freshly started PostgreSQL and MariaDB servers (temp
# dirs, loopback ports), with the same connection and the same query. Prints mean wall
# time per run and the ratio ours/theirs (lower is better).
#
#   tests/bench/db.sh [RUNS]
#
# Needs root, hyperfine, postgresql, mariadb-server, monitoring-plugins-standard
# (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
plugins_vs_debian "${1:-200}" check_pgsql check_mysql check_mysql_query
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=$(free_port)
myport=$(free_port)

cleanup() {
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  [ -f "$tmp/my/pid" ] && kill "$(cat "$tmp/my/pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$tmp"
}
trap cleanup EXIT

# PostgreSQL: password authentication over TCP, as a monitoring user would use it
mkdir -p "$tmp/pg" && chown postgres: "$tmp/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >/dev/null
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$tmp/pg/data/pg_hba.conf"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w \
  -o "-p $pgport -k $tmp/pg -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$pgbin/psql" -h "$tmp/pg" -p "$pgport" -U postgres -qc "ALTER ROLE postgres PASSWORD 'benchpw'"

# MariaDB: root with a password over TCP
mkdir -p "$tmp/my" && chown mysql: "$tmp/my"
mariadb-install-db --user=mysql --datadir="$tmp/my/data" --auth-root-authentication-method=normal \
  --skip-test-db >/dev/null 2>&1
mariadbd --no-defaults --user=mysql --datadir="$tmp/my/data" --port="$myport" --bind-address=127.0.0.1 \
  --socket="$tmp/my/sock" --pid-file="$tmp/my/pid" --log-error="$tmp/my/err" --skip-name-resolve &
for _ in $(seq 100); do [ -S "$tmp/my/sock" ] && break; sleep 0.1; done
mariadb --no-defaults -uroot --socket="$tmp/my/sock" -e \
  "CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY 'benchpw'; GRANT ALL ON *.* TO 'root'@'127.0.0.1'"

pg="-H 127.0.0.1 -P $pgport -l postgres -p benchpw -d postgres"
my="-H 127.0.0.1 -P $myport -u root -p benchpw"
# label | our command | their command (same server, same query)
cases=(
  "pgsql connect|$ours/check_pgsql $pg --tls disable|$theirs/check_pgsql $pg"
  "pgsql query|$ours/check_pgsql $pg --tls disable -q 'SELECT count(*) FROM pg_class' -W 1000 -C 2000|$theirs/check_pgsql $pg -q 'SELECT count(*) FROM pg_class' -W 1000 -C 2000"
  "mysql connect|$ours/check_mysql $my|$theirs/check_mysql $my"
  "mysql query|$ours/check_mysql $my -q 'SELECT COUNT(*) FROM information_schema.schemata' --query-warning 100|$theirs/check_mysql_query $my -q 'SELECT COUNT(*) FROM information_schema.schemata' -w 100"
  "mysql_query|$ours/check_mysql_query $my -q 'SELECT COUNT(*) FROM information_schema.schemata' -w 100 -c 200|$theirs/check_mysql_query $my -q 'SELECT COUNT(*) FROM information_schema.schemata' -w 100 -c 200"
  "mysql_query 1|$ours/check_mysql_query $my -q 'SELECT 1'|$theirs/check_mysql_query $my -q 'SELECT 1'"
)

compare_cases "$runs" "$tmp" "${cases[@]}"
