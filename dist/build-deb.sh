#!/usr/bin/env bash
# Builds the Debian package of hcoop-monitor and prints the path of the .deb: the
# shipped binaries (dist/release.sh), the check binaries staged with the man pages and
# shell completions generated from their command line definitions, then cargo-deb
# (installed from crates.io when missing). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "installing cargo-deb" >&2
  cargo install cargo-deb --locked --quiet
fi

host=$(rustc -vV | sed -n 's/^host: //p')
# the binaries as they are shipped (release, C runtime linked statically)
release=$(dist/release.sh -p hcoop-plugins --bins)
dist/release.sh -p hcoop-tests --bin gen-dist >/dev/null

stage="$release/package"
rm -rf "$stage"
mkdir -p "$stage/plugins"
# the daemon, linked dynamically (dist/daemon.sh says why)
install -m 0755 "$(dist/daemon.sh)" "$stage/hcoop-monitor"
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
for plugin in $("$release/gen-dist" plugins); do
  install -m 0755 "$release/$plugin" "$stage/plugins/$plugin"
done
strip --strip-unneeded "$stage"/plugins/*
"$release/gen-dist" docs "$stage" >&2
gzip -9n "$stage"/man/*.1

mkdir -p "$target/debian"
# --target: the assets' target/release/ is the host triple's release directory
cargo deb -p hcoop-monitor --no-build --quiet --target "$host" --output "$target/debian/" | tail -n 1
