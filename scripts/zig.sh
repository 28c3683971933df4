#!/usr/bin/env bash
# Installs Zig and cargo-zigbuild (PyPI wheels `ziglang` and `cargo-zigbuild`,
# pinned) into target/zig-venv if needed, and prints that venv's bin directory.
# packer/build.rs links the macOS stubs with them (it looks in the same place);
# packing never needs them.
set -euo pipefail
cd "$(dirname "$0")/.."
zig_version=0.17.1
zigbuild_version=0.24.1
venv=target/zig-venv
installed() {
  "$venv/bin/pip" show "$1" 2>/dev/null | sed -n 's/^Version: //p'
}
if [ "$(installed ziglang)" != "$zig_version" ] ||
   [ "$(installed cargo-zigbuild)" != "$zigbuild_version" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "ziglang==$zig_version" "cargo-zigbuild==$zigbuild_version" >&2
fi
# cargo-zigbuild runs `zig` from PATH, else `python3 -m ziglang`: give it a
# `zig` next to itself so neither depends on what else is installed.
if [ ! -x "$venv/bin/zig" ]; then
  printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$PWD/$venv/bin/python3" >"$venv/bin/zig"
  chmod +x "$venv/bin/zig"
fi
echo "$PWD/$venv/bin"
