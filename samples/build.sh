#!/usr/bin/env bash
# Rebuilds the committed .wasm files of samples/, tests/fixtures/,
# tests/wasi/corpus/ (WASI preview 1 modules) and tests/wasi/components/
# (WASI 0.2 components) from their sources. Needs only rustup's wasm32-wasip1
# and wasm32-wasip2 targets, which it adds.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip1 wasm32-wasip2 >/dev/null

target=wasm32-wasip1
wasm() { # SOURCE OUTPUT [extra rustc flags]
  local src=$1 out=$2; shift 2
  rustc --edition 2024 --target $target -C opt-level=3 -C codegen-units=1 \
    -C panic=abort -C strip=debuginfo "$@" -o "$out" "$src"
  echo "built $out ($(stat -c %s "$out") bytes)"
}

for dir in samples/*/; do
  name=$(basename "$dir")
  [ -f "$dir$name.rs" ] || continue  # samples/preinit-c: C, built by samples/build-c.sh
  wasm "$dir$name.rs" "$dir$name.wasm"
done
for src in tests/wasi/corpus/*.rs; do
  [ "$(basename "$src")" = wasi_raw.rs ] && continue  # included, not a program
  wasm "$src" "${src%.rs}.wasm"
done
wasm tests/fixtures/env_import.rs tests/fixtures/env_import.wasm
wasm tests/fixtures/preinit_world.rs tests/fixtures/preinit_world.wasm
wasm tests/fixtures/reactor.rs tests/fixtures/reactor.wasm --crate-type cdylib
for tool in a b c; do
  TOOL=$tool wasm tests/fixtures/suite_tool.rs "tests/fixtures/suite_$tool.wasm"
done

# The same programs as components: rustc links them with wasm-component-ld,
# which adapts what still calls preview 1 (wasi_raw.rs) to WASI 0.2.
# (Not edges.rs: it tests the preview 1 host, so it runs only as a module.)
target=wasm32-wasip2
for name in args_env stdio fs paths clocks_random exit_traps; do
  wasm "tests/wasi/corpus/$name.rs" "tests/wasi/components/$name.wasm"
done
wasm tests/wasi/components/net.rs tests/wasi/components/net.wasm
wasm samples/hello/hello.rs samples/hello/hello-p2.wasm

# The programs of tests/sandbox.rs and tests/module_host.rs (preview 1).
target=wasm32-wasip1
for src in tests/wasi/sandbox/*.rs; do
  wasm "$src" "${src%.rs}.wasm"
done
