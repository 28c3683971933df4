#!/usr/bin/env bash
# Rebuilds the committed .wasm files of samples/, tests/fixtures/ and
# tests/wasi/corpus/ from their sources. Needs only rustup's wasm32-wasip1 target, which it adds.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip1 >/dev/null

wasm() { # SOURCE OUTPUT [extra rustc flags]
  local src=$1 out=$2; shift 2
  rustc --edition 2024 --target wasm32-wasip1 -C opt-level=3 -C codegen-units=1 \
    -C panic=abort -C strip=debuginfo "$@" -o "$out" "$src"
  echo "built $out ($(stat -c %s "$out") bytes)"
}

for dir in samples/*/; do
  name=$(basename "$dir")
  wasm "$dir$name.rs" "$dir$name.wasm"
done
for src in tests/wasi/corpus/*.rs; do
  [ "$(basename "$src")" = wasi_raw.rs ] && continue  # included, not a program
  wasm "$src" "${src%.rs}.wasm"
done
wasm tests/fixtures/env_import.rs tests/fixtures/env_import.wasm
wasm tests/fixtures/reactor.rs tests/fixtures/reactor.wasm --crate-type cdylib
