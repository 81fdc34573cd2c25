#!/usr/bin/env bash
# Builds the daemon as it is shipped and prints its path: the release profile, linked
# dynamically, unlike the plugins (dist/release.sh): the daemon looks users and groups
# up through the system's NSS modules, which a static C runtime cannot load safely
# (getgrouplist through libnss_systemd crashes it). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p hcoop-monitor --bin hcoop-monitor
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
echo "$target/release/hcoop-monitor"
