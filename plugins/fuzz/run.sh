#!/usr/bin/env bash
# Fuzzes the NRPE packet decoder (plugins/src/nrpe.rs) with cargo-fuzz; not part of CI.
#
#   plugins/fuzz/run.sh [SECONDS]     (default 60)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Findings are
# kept in plugins/fuzz/artifacts/; the corpus grows in plugins/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz with a nightly toolchain is needed: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  exit 1
fi
mkdir -p corpus/nrpe_decode
cargo +nightly fuzz run nrpe_decode corpus/nrpe_decode -- -max_total_time="$secs"
