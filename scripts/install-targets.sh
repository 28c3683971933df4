#!/usr/bin/env bash
# Installs what building the cross-target stubs and testing them needs:
# Rust's targets, a C compiler for aarch64 and MinGW-w64 (build time only:
# packing never needs them), and the emulators the tests run the outputs in
# (qemu-user for aarch64, wine for Windows). Idempotent; run as root (CI is).
set -euo pipefail
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-pc-windows-gnu >/dev/null

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v wine >/dev/null || command -v wine64 >/dev/null || need+=(wine64)
command -v strip >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-targets: needs root to install: ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
