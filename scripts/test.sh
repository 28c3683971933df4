#!/usr/bin/env bash
# Runs the whole test suite: the unit tests of both crates and the integration
# tests in tests/, which pack the samples and run the results as processes.
# The first run builds wasmtime for the packer and for each target's stub
# (about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
# Cross-target stubs and their emulators (qemu-user, wine): see README.
scripts/install-targets.sh
# --no-default-features: the stub's library only (payload format, manifest);
# its binary is built by packer/build.rs in its own cargo invocation.
# wpack-mem: the musl stub's memcpy/memmove, tested here on the host.
exec cargo test --release --locked -p wpack -p wpack-stub -p wpack-mem --no-default-features "$@"
