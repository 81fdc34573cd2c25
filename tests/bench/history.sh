#!/usr/bin/env bash
# Benchmark (not a test): the perfdata history of 10,000 services with 3 metrics each,
# checked every minute, side by side with the RRD files PNP4Nagios makes for the same
# metrics with Debian's rrdtool.
#
#   tests/bench/history.sh [MINUTES]
#   SAMPLE=10 tests/bench/history.sh 5
#
# Prints:
#   ingest cpu   CPU seconds per minute of data to take 10,000 services × 3 metrics fed
#                in real time through the store (the calls of History::perfdata and the
#                store's writer thread, which consolidates and commits), measured over
#                MINUTES (3) minutes after a minute of warm-up, as a share of one core;
#                and the whole feeding process's (which also makes up the values)
#   rss          the feeding process's resident memory (the store's writer, its SQLite
#                cache and the consolidator's state of 30,000 metrics)
#   store/year   the store's size after a year: SAMPLE (3) services × 3 metrics fed one
#                sample a minute for 365 simulated days to the consolidator (default
#                archives), scaled linearly to 30,000 metrics (a metric's size is bounded
#                by its archives, not by the number of metrics)
#   rrd          PNP4Nagios' RRD files for the same metrics: one file per service with 3
#                data sources (its default RRD_STORAGE_TYPE = SINGLE), made by
#                `rrdtool create` with its default rra.cfg (step 60, heartbeat 8460,
#                AVERAGE, MAX and MIN of 1:2880, 5:2880, 30:4320, 360:5840), and the
#                ratio of the store's size to theirs (goal <= 0.5)
#   rrd update   CPU seconds per minute of data of `rrdtool -` applying the same points
#                (100 services × 600 minutes, scaled to 10,000 services per minute), and
#                the ratio of our ingest to it (goal <= 0.2)
#   series       how long reading a metric's 1-year and 25-hour series takes
#   pages        the service page with its 3 metrics' 1-year graphs (series read from the
#                simulated year's store included; goal < 50 ms), the overview of 10,000
#                services and 1,000 hosts (goal < 200 ms), availability over a year of
#                10,000 services with 20 outages each (the computation over events in
#                memory; goal < 1 s)
#
# Needs rrdtool (tests/run.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-3}
sample=${SAMPLE:-3}
services=10000
command -v rrdtool >/dev/null || { echo "rrdtool is needed (apt-get install rrdtool)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build -q --release -p hcoop-monitor --example history_bench
bench=target/release/examples/history_bench

mkdir -m 700 "$tmp/store"
echo "feeding $services services × 3 metrics for 1 + $minutes minutes ..." >&2
"$bench" ingest "$tmp/store" "$minutes" "$services" >"$tmp/ingest"
echo "simulating a year of $sample services × 3 metrics ..." >&2
"$bench" year "$tmp/year.db" "$sample" 365 >"$tmp/year"
"$bench" render "$tmp/year.db" "$services" >"$tmp/render"

# PNP4Nagios' side: rra.cfg's archives, one RRD per service with data sources 1, 2, 3
start=1700000000
rrd_services=100
rrd_minutes=600
mkdir "$tmp/rrd"
rra="RRA:AVERAGE:0.5:1:2880 RRA:AVERAGE:0.5:5:2880 RRA:AVERAGE:0.5:30:4320 RRA:AVERAGE:0.5:360:5840"
rra="$rra RRA:MAX:0.5:1:2880 RRA:MAX:0.5:5:2880 RRA:MAX:0.5:30:4320 RRA:MAX:0.5:360:5840"
rra="$rra RRA:MIN:0.5:1:2880 RRA:MIN:0.5:5:2880 RRA:MIN:0.5:30:4320 RRA:MIN:0.5:360:5840"
for i in $(seq 0 $((rrd_services - 1))); do
  echo "create $tmp/rrd/s$i.rrd --start $((start - 60)) --step 60 DS:1:GAUGE:8460:U:U DS:2:GAUGE:8460:U:U DS:3:GAUGE:8460:U:U $rra"
done | rrdtool - >/dev/null
"$bench" rrd-lines "$tmp/rrd" "$rrd_services" "$rrd_minutes" "$start" >"$tmp/lines"
python3 - "$tmp" "$rrd_services" "$rrd_minutes" "$services" <<'PY'
import os, resource, subprocess, sys
tmp, rrd_services, rrd_minutes, services = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
before = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(f"{tmp}/lines") as lines:
    out = subprocess.run(["rrdtool", "-"], stdin=lines, capture_output=True, text=True)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
errors = [l for l in out.stdout.splitlines() if l.startswith("ERROR")]
if out.returncode != 0 or errors:
    sys.exit(f"rrdtool failed: {errors[:3]} {out.stderr[:300]}")
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
def kv(name):
    d = {}
    for l in open(f"{tmp}/{name}"):
        k, _, v = l.strip().partition("=")
        d[k] = v
    return d
ing, year = kv("ingest"), kv("year")
rrd_file = os.stat(f"{tmp}/rrd/s0.rrd").st_size
rrd_total = rrd_file * services
metrics = services * 3
per_metric = int(year["year_live_bytes"]) / int(year["year_metrics"])
ours = per_metric * metrics
rrd_cpu = cpu * (services / rrd_services) / rrd_minutes
ours_cpu = float(ing["ingest_cpu_s_per_min"])
mb = lambda b: b / 1e6
print(f"{'ingest cpu':<14} {ours_cpu:8.3f} s/min = {ours_cpu / 60 * 100:.2f}% of a core (goal < 2%): "
      f"writer {float(ing['writer_cpu_s_per_min']):.3f}, calls {float(ing['calls_cpu_s_per_min']):.3f}; "
      f"whole process {float(ing['process_cpu_s_per_min']):.3f} s/min; {ing['metrics']} metrics; "
      f"problems: {ing['problem']}")
print(f"{'rss':<14} {int(ing['rss_kb']) / 1024:8.1f} MB (peak {int(ing['hwm_kb']) / 1024:.1f} MB) of the feeding process (goal < 80 MB)")
print(f"{'store/year':<14} {mb(ours):8.0f} MB = {per_metric / 1024:.1f} KiB a metric × {metrics} "
      f"(simulated: {year['year_metrics']} metrics over {year['year_days']} days, scaled; "
      f"file {int(year['year_file_bytes']) / int(year['year_metrics']) / 1024:.1f} KiB a metric; "
      f"chunks {int(year['year_chunk_data_bytes']) / int(year['year_metrics']) / 1024:.1f} KiB, "
      f"{year['year_open_rows']} rows not sealed)")
print(f"{'rrd':<14} {mb(rrd_total):8.0f} MB = {rrd_file} bytes a service × {services} (PNP4Nagios rra.cfg, 3 DS a file)")
print(f"{'size ratio':<14} {ours / rrd_total:8.3f} (goal <= 0.5)")
print(f"{'rrd update':<14} {rrd_cpu:8.3f} s/min ({cpu:.2f} s for {rrd_services} services × {rrd_minutes} minutes)")
print(f"{'cpu ratio':<14} {ours_cpu / rrd_cpu:8.3f} (goal <= 0.2)")
def ms(v, goal=""):
    n, _, rest = v.partition(" ")
    return f"{float(n):8.2f} ms {rest}{goal}"
print(f"{'series 1y':<14} {ms(year['series_1y_ms'])}")
print(f"{'series 25h':<14} {ms(year['series_25h_ms'])}")
r = kv("render")
print(f"{'service page':<14} {ms(r['service_page_1y_ms'], ' (goal < 50 ms)')}")
print(f"{'overview':<14} {ms(r['overview_ms'], ' (goal < 200 ms)')}")
print(f"{'availability':<14} {ms(r['availability_1y_ms'], ' (goal < 1000 ms)')}")
PY
