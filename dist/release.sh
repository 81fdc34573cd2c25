#!/usr/bin/env bash
# Builds binaries as they are shipped and prints the directory that holds them: the
# release profile with the C runtime linked statically. A static-pie plugin starts
# without the dynamic loader's work (loading and relocating libc and libgcc_s), which
# is most of a short check's start-up; the benchmarks and the package use this build
# for the plugins. The daemon is built by dist/daemon.sh, dynamically.
#
#   dist/release.sh [cargo build arguments]     e.g. -p hcoop-plugins --bin check_load
#
# The flag goes to the host target only (`--target HOST`), so build scripts and
# procedural macros stay dynamic, as they must. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
flags_var="CARGO_TARGET_$(printf %s "$host" | tr 'a-z.-' 'A-Z__')_RUSTFLAGS"
export "$flags_var=${!flags_var:-} -C target-feature=+crt-static"
# check_nrpe_client's OpenSSL (anonymous DH for a stock nrpe without a certificate) is
# linked statically too, as a static binary must (libssl-dev ships the archives)
export OPENSSL_STATIC=1
# glibc warns at link time that getaddrinfo and getpwnam in a static binary load NSS
# modules of the same glibc at run time: true, and the package depends on that libc6
cargo build --release --quiet --target "$host" "$@" 2> >(grep -v "statically linked applications requires at runtime" >&2)
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
echo "$target/$host/release"
