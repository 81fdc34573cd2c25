#!/usr/bin/env bash
# Benchmark (not a test): check_udp, check_pop, check_spop, check_simap and check_ssmtp
# against Debian's monitoring-plugins of the same names, side by side in one run
# (hyperfine -N), on the same freshly started servers: Dovecot with POP3, POP3S, IMAPS
# and submissions listeners, and a UDP service answering datagrams (temp dir, loopback
# ports, a certificate from a throwaway CA). Prints mean wall time per run and the ratio
# ours/theirs (lower is better).
#
#   tests/bench/services.sh [RUNS]
#
# Ours verifies the certificate against the CA (--ca-cert); Debian's does not verify.
# Needs root, hyperfine, dovecot-imapd, dovecot-pop3d, dovecot-submissiond, python3,
# openssl, monitoring-plugins-standard (tests/run.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
plugins_vs_debian "${1:-200}" check_udp check_pop check_spop check_simap check_ssmtp
pop3=$(free_port)
pop3s=$(free_port)
imaps=$(free_port)
smtps=$(free_port)
udp=$(free_port)
pids=()
trap 'stop_servers "$tmp"' EXIT

# a CA and a certificate for mail.bench.test
bench_cert "$tmp" mail.bench.test
: >"$tmp/passwd"

cat >"$tmp/dovecot.conf" <<CONF
protocols = imap pop3 submission
listen = 127.0.0.1
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
hostname = mail.bench.test
submission_relay_host = 127.0.0.1
ssl = yes
ssl_cert = <$tmp/server.crt
ssl_key = <$tmp/server.key
passdb {
  driver = passwd-file
  args = $tmp/passwd
}
userdb {
  driver = passwd-file
  args = $tmp/passwd
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $pop3
  }
  inet_listener pop3s {
    port = $pop3s
    ssl = yes
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
  inet_listener submissions {
    port = $smtps
    ssl = yes
  }
}
CONF
start_dovecot "$tmp/dovecot.conf" $pop3 $pop3s $imaps $smtps
# a UDP service answering every datagram with a line
python3 - "$udp" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    _, peer = s.recvfrom(2048)
    s.sendto(b"barbar\n", peer)
PY
pids+=($!)
python3 - "$udp" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
for _ in range(100):
    s.sendto(b"ready?", ("127.0.0.1", int(sys.argv[1])))
    try:
        s.recv(64)
        break
    except OSError:
        time.sleep(0.1)
PY

tlsname="--sni mail.bench.test --ca-cert $tmp/ca.crt"
# label | our command | their command (same server)
cases=(
  "udp|$ours/check_udp -H 127.0.0.1 -p $udp -s foo -e barbar|$theirs/check_udp -H 127.0.0.1 -p $udp -s foo -e barbar"
  "pop|$ours/check_pop -H 127.0.0.1 -p $pop3|$theirs/check_pop -H 127.0.0.1 -p $pop3"
  "spop|$ours/check_spop -H 127.0.0.1 -p $pop3s $tlsname|$theirs/check_spop -H 127.0.0.1 -p $pop3s"
  "simap|$ours/check_simap -H 127.0.0.1 -p $imaps $tlsname|$theirs/check_simap -H 127.0.0.1 -p $imaps"
  "simap -D|$ours/check_simap -H 127.0.0.1 -p $imaps -D 10 $tlsname|$theirs/check_simap -H 127.0.0.1 -p $imaps -D 10"
  "ssmtp|$ours/check_ssmtp -H 127.0.0.1 -p $smtps $tlsname|$theirs/check_ssmtp -H 127.0.0.1 -p $smtps"
)

compare_cases "$runs" "$tmp" "${cases[@]}"
