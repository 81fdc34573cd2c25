#!/usr/bin/env bash
# Benchmark (not a test): check_smtp and check_imap against Debian's monitoring-plugins
# check_smtp and check_imap, side by side in one run (hyperfine -N), on the same freshly
# started Exim and Dovecot (temp dir, loopback ports, a certificate from a throwaway CA).
# Prints mean wall time per run and the ratio ours/theirs (lower is better).
#
#   tests/bench/mail.sh [RUNS]
#
# Ours verifies the certificate against the CA (--ca-cert); Debian's does not verify.
# Needs root, hyperfine, exim4-daemon-light, dovecot-imapd, openssl,
# monitoring-plugins-standard (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
plugins_vs_debian "${1:-200}" check_smtp check_imap
smtp=$(free_port)
imap=$(free_port)
imaps=$(free_port)
pids=()
cleanup() {
  sed -i "\|^$tmp/exim.conf\$|d" /etc/exim4/trusted_configs 2>/dev/null || true
  stop_servers "$tmp"
}
trap cleanup EXIT

# a CA and a certificate for mail.bench.test
bench_cert "$tmp" mail.bench.test

# Exim with STARTTLS
mkdir "$tmp/spool" "$tmp/log" && chown Debian-exim:Debian-exim "$tmp/spool" "$tmp/log"
cat >"$tmp/exim.conf" <<CONF
primary_hostname = mail.bench.test
keep_environment =
spool_directory = $tmp/spool
log_file_path = $tmp/log/%slog
daemon_smtp_ports = $smtp
local_interfaces = 127.0.0.1
tls_advertise_hosts = *
tls_certificate = $tmp/server.crt
tls_privatekey = $tmp/server.key
CONF
echo "$tmp/exim.conf" >>/etc/exim4/trusted_configs
/usr/sbin/exim4 -C "$tmp/exim.conf" -bdf >/dev/null 2>&1 &
pids+=($!)

# Dovecot with STARTTLS and IMAPS
cat >"$tmp/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
ssl = yes
ssl_cert = <$tmp/server.crt
ssl_key = <$tmp/server.key
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$tmp/home
}
service imap-login {
  inet_listener imap {
    port = $imap
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
CONF
start_dovecot "$tmp/dovecot.conf" $smtp $imap $imaps

tlsname="--sni mail.bench.test --ca-cert $tmp/ca.crt"
# label | our command | their command (same server)
cases=(
  "smtp banner|$ours/check_smtp -H 127.0.0.1 -p $smtp -F bench.test|$theirs/check_smtp -H 127.0.0.1 -p $smtp -F bench.test"
  "smtp starttls|$ours/check_smtp -H 127.0.0.1 -p $smtp -F bench.test -S -D 10 $tlsname|$theirs/check_smtp -H 127.0.0.1 -p $smtp -F bench.test -S -D 10"
  "imap greeting|$ours/check_imap -H 127.0.0.1 -p $imap|$theirs/check_imap -H 127.0.0.1 -p $imap"
  "imaps|$ours/check_imap -H 127.0.0.1 -p $imaps -S -D 10 $tlsname|$theirs/check_imap -H 127.0.0.1 -p $imaps -S -D 10"
)

compare_cases "$runs" "$tmp" "${cases[@]}"
