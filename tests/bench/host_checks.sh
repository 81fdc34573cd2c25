#!/usr/bin/env bash
# Benchmark (not a test): our host checks against Debian's monitoring-plugins, side by
# side in one run on the same machine, with the same arguments. Prints mean wall time
# per run and the ratio ours/theirs (lower is better).
#
#   tests/bench/host_checks.sh [RUNS]
#
# Needs: hyperfine, monitoring-plugins-basic (tests/run.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-300}
ours=$(dist/release.sh -p hcoop-plugins --bin check_load --bin check_disk --bin check_swap --bin check_procs)
theirs=/usr/lib/nagios/plugins
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# name | arguments (the same for both)
cases=(
  "check_load|-w 15,10,5 -c 30,25,20"
  "check_load|-r -w 2,2,2 -c 4,4,4"
  "check_swap|-w 20% -c 10%"
  "check_disk|-w 10% -c 5% -p /"
  "check_procs|-w 500 -c 1000"
  "check_procs|-w 5 -c 10 -C sshd"
  "check_procs|-w 5 -c 10 -a nonexistent-argument"
)

printf '%-14s %-34s %12s %12s %8s\n' check arguments "ours (ms)" "theirs (ms)" ratio
for c in "${cases[@]}"; do
  name=${c%%|*}
  args=${c#*|}
  if [ ! -x "$ours/$name" ] || [ ! -x "$theirs/$name" ]; then
    printf '%-14s %-34s %s\n' "$name" "$args" "(not built / not installed)"
    continue
  fi
  hyperfine -N --warmup 20 --runs "$runs" --ignore-failure --style none 2>/dev/null \
    --export-json "$out/r.json" "$ours/$name $args" "$theirs/$name $args" >/dev/null
  python3 - "$out/r.json" "$name" "$args" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"{sys.argv[2]:<14} {sys.argv[3]:<34} {a:12.3f} {b:12.3f} {a / b:7.2f}x")
PY
done
