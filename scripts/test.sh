#!/usr/bin/env bash
# Runs the whole test suite: the unit tests of both crates and the integration
# tests in tests/, which pack the samples and run the results as processes.
# The first run builds wasmtime twice (packer and stub), a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# --no-default-features: the stub's library only (payload format, manifest);
# its binary is built by packer/build.rs in its own cargo invocation.
exec cargo test --release --locked -p wpack -p wpack-stub --no-default-features "$@"
