#!/usr/bin/env bash
# Runs every test of hcoop-monitor: installs the Debian packages the tests need when
# they are missing (as root), builds the binaries, then runs formatting, lint and the
# whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(sed -e 's/#.*//' tests/debian-packages.txt | tr -s ' \n' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# each step's start time, so a slow run shows where its time went
step() { echo "[$(date -u +%T)] $*" >&2; }
step formatting and lint
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
step debug build
cargo build --workspace --bins --quiet
# Debian package: release build, man pages, completions and the .deb, which the package
# test (tests/tests/package.rs) installs with dpkg, runs and purges
step Debian package
dist/build-deb.sh
if [ "${HCOOP_FREE_RELEASE_BUILD:-}" = 1 ]; then
  # the tests need only the .deb (target/debian) from the release build: its
  # intermediate files (gigabytes) go before the test binaries are built
  target=${CARGO_TARGET_DIR:-target}
  rm -rf "$target/release" "$target/$(rustc -vV | sed -n 's/^host: //p')"
fi
step tests
if command -v cargo-nextest >/dev/null 2>&1; then
  # one test at a time: the end-to-end tests start real servers on shared loopback
  # addresses, network namespaces and system files (exim's trusted_configs, /vicepa)
  cargo nextest run --workspace --no-fail-fast --test-threads 1
  cargo test --workspace --doc --quiet
else
  cargo test --workspace --no-fail-fast -- --test-threads 1
fi
step done
