#!/usr/bin/env bash
# Release files of wpack for every host platform it runs on (issue #19):
#
#   scripts/dist.sh [--hosts LIST] [--out DIR] [--no-check]
#   scripts/dist.sh --host-wheel [--out DIR]
#
# LIST: comma-separated, of x86_64-linux, aarch64-linux (static musl: any
# distribution), x86_64-windows, aarch64-macos, x86_64-macos (linked by Zig,
# as the stubs are; the arm64 one signed ad hoc by Zig's linker). Default:
# all five. DIR (default dist/) receives, per host:
#
#   wpack-VERSION-TRIPLE.tar.gz (.zip for Windows)   wpack, cargo-wpack, README.md, LICENSE
#   wpack-VERSION-py3-none-TAG.whl                   maturin, `bindings = "bin"`
#   wpack-OS-CPU-VERSION.tgz                         npm package @wpack/OS-CPU
#
# and wpack-VERSION.tgz (the npm package `wpack` that picks the platform
# package; its commands wpack and cargo-wpack) and SHA256SUMS. cargo-wpack
# is `cargo wpack`: a 0.5 MB executable that starts the wpack beside it
# (packer/src/bin/cargo-wpack.rs), in the archives and the wheel; in npm a
# launcher of wpack under that name. Every host's wpack carries the same
# twelve stubs:
# they are built once, by the build of this machine's wpack (README command
# 1 builds the same), copied to target/dist/stubs/, and handed to each host
# build through WPACK_STUB_DIR (packer/build.rs), so a program packed on any
# host is the same file. Then, unless --no-check, it checks what it can
# here: the Linux x86_64 wheel installed offline into a fresh venv lists six
# targets, packs hello and the result runs; wpack.exe under wine and the
# aarch64 wpack under qemu pack hello for x86_64-linux byte-identical to the
# native wpack; the macOS files are Mach-O of the right architecture (the
# arm64 one with a valid ad hoc signature); the npm packages install offline
# and run.
#
# --host-wheel makes only the wheel of this machine's own build of wpack
# (target/release, as README command 1 leaves it), which tests/dist.rs
# installs offline and runs.
#
# Needs what scripts/install-targets.sh installs (it runs it) and installs
# maturin, pinned, into target/dist-venv. Not part of scripts/test.sh, which
# builds and installs the host's wheel only (tests/dist.rs).
# docs/RELEASING.md is the release checklist.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

. scripts/dist/hosts.sh
hosts=$all_hosts
out=dist
check=true
host_wheel=false
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) hosts=${2:?--hosts needs a list, e.g. x86_64-linux,x86_64-windows}; shift 2 ;;
    --hosts=*) hosts=${1#--hosts=}; shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --no-check) check=false; shift ;;
    --host-wheel) host_wheel=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dist.sh: unknown argument $1 (see scripts/dist.sh --help)" >&2; exit 2 ;;
  esac
done

IFS=, read -r -a host_list <<<"$hosts"
for h in "${host_list[@]}"; do triple_of "$h" >/dev/null; done

maturin_version=1.16.0
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
# Reproducible: archive and wheel times are the commit's. Given only to the
# host builds and the files: in the environment of the stubs' build it would
# make wasmtime's build script (cc) run again and every stub rebuild.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 315532800)
step() { printf '\n== %s\n' "$*" >&2; }
seconds() { echo $(( $(date +%s) - $1 )); }
timings=()

venv=target/dist-venv
if [ "$("$venv/bin/maturin" --version 2>/dev/null)" != "maturin $maturin_version" ]; then
  step "maturin $maturin_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin==$maturin_version"
fi
export PATH="$root/$venv/bin:$root/target/zig-venv/bin:$PATH"

if $host_wheel; then
  mkdir -p "$out"
  exec maturin build --release --locked --manifest-path packer/Cargo.toml --out "$out"
fi

step "toolchains (scripts/install-targets.sh)"
scripts/install-targets.sh

step "the twelve stubs, built once (cargo build --release: packer/build.rs builds them)"
start=$(date +%s)
cargo build --release --locked -p wpack
stubs=target/dist/stubs
rm -rf "$stubs"
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-unknown-linux-gnu \
  x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin; do
  exe=; [[ $t == *windows* ]] && exe=.exe
  mkdir -p "$stubs/$t"
  for pair in stub-module/wpack-stub stub/wpack-stub-component; do
    src=target/wpack-stub/$t/${pair}$exe
    [ -f "$src" ] || { echo "dist.sh: no stub $src: the build left $t out (see its warning)" >&2; exit 1; }
    cp "$src" "$stubs/$t/"
  done
done
export WPACK_STUB_DIR=$root/$stubs
timings+=("stubs (and this machine's wpack): $(seconds "$start") s")

mkdir -p "$out"
rm -f "$out"/wpack-* "$out"/SHA256SUMS
bins=target/dist/bin
rm -rf "$bins"
for host in "${host_list[@]}"; do
  triple=$(triple_of "$host")
  step "wpack for $host ($triple)"
  start=$(date +%s)
  upper=$(echo "$triple" | tr a-z- A-Z_)
  lower=$(echo "$triple" | tr - _)
  # Build paths out of the binary (panic locations, also in the code
  # Cranelift generates into the target directory), so that a build in
  # another checkout or target directory gives the same bytes. The last
  # matching prefix wins: the target directory before the checkout.
  flags="--remap-path-prefix=$root=/wpack --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
  flags+=" --remap-path-prefix=${CARGO_TARGET_DIR:-$root/target}=/target"
  args=(--release --locked --manifest-path packer/Cargo.toml --target "$triple" --out "$out")
  envs=()
  case $triple in
    *-linux-musl)
      # Static, with Rust's own lld and musl, as the stubs; wasmtime's C
      # helper file needs a C compiler for the target. One wheel for every
      # Linux: the static binary needs no particular glibc or musl.
      cc=gcc; [[ $triple == aarch64-* ]] && cc=aarch64-linux-gnu-gcc
      envs+=("CARGO_TARGET_${upper}_LINKER=rust-lld" "CC_${lower}=$cc")
      args+=(--compatibility manylinux_2_17 musllinux_1_1 --auditwheel skip) ;;
    *-apple-darwin) args+=(--zig) ;;
  esac
  env "${envs[@]}" RUSTFLAGS="$flags" SOURCE_DATE_EPOCH="$epoch" maturin build "${args[@]}"
  exe=; [[ $triple == *windows* ]] && exe=.exe
  mkdir -p "$bins/$host"
  cp "target/$triple/release/wpack$exe" "target/$triple/release/cargo-wpack$exe" "$bins/$host/"
  name=wpack-$version-$triple
  suffix=.tar.gz; [[ $triple == *windows* ]] && suffix=.zip
  SOURCE_DATE_EPOCH=$epoch python3 scripts/dist/tools.py archive "$out/$name$suffix" "$name" \
    "$bins/$host/wpack$exe" "$bins/$host/cargo-wpack$exe" README.md LICENSE
  timings+=("$host: $(seconds "$start") s")
done

step "npm packages, SHA256SUMS"
SOURCE_DATE_EPOCH=$epoch python3 scripts/dist/tools.py npm "$out" "$version" "$hosts" "$bins"
python3 scripts/dist/tools.py sums "$out"
ls -l "$out" >&2
printf '%s\n' "${timings[@]}" >&2

$check || exit 0
step "checks"
scripts/dist/check.sh "$out" "$bins" "$hosts"
