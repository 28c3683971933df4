#!/usr/bin/env bash
# Runs the whole test suite: the unit tests of both crates and the integration
# tests in tests/, which pack the samples and run the results as processes.
# The first run builds wasmtime for the packer and for each target's stub
# (about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
# Cross-target stubs and their emulators (qemu-user, wine): see README.
scripts/install-targets.sh
# Installing targets makes this build run packer/build.rs again, so the wpack
# it tests carries them (tests/targets.rs checks it; scripts/check-rerun.sh
# checks it with cargo itself, at the cost of a rebuild). The fuzz corpora are
# replayed too (tests/fuzz_regressions.rs); scripts/fuzz.sh runs the fuzzers.
# --no-default-features: the stub's library only (payload format, manifest);
# its binary is built by packer/build.rs in its own cargo invocation.
# wpack-mem: the musl stub's memcpy/memmove, tested here on the host.
# wpack-wasi: the WASI host; tests/host_calls.rs calls every function with
# arbitrary arguments.
# The compile cache of this run's packs starts empty and stays in target/, so
# that no test finds code an earlier run compiled (tests/cache.rs sets its
# own) and the user's cache is left alone.
export WPACK_CACHE="$PWD/target/test-cache"
rm -rf "$WPACK_CACHE"
exec cargo test --release --locked -p wpack -p wpack-stub -p wpack-mem -p wpack-wasi --no-default-features "$@"
