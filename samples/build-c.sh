#!/usr/bin/env bash
# Rebuilds the committed C sample samples/preinit-c/preinit-c.wasm (WASI
# preview 1) from preinit-c.c and wizer.h.
#
# Toolchain: Debian's clang, lld, wasi-libc and compiler-rt builtins for
# wasm32 (Debian 12: clang 14.0.6, wasi-libc 0.0~git20220510), installed with
# apt-get if missing (through sudo when not root). wasi-libc's headers and
# libraries are in Debian's multiarch directories (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi), which Debian's clang searches for --target=wasm32-wasi
# without a --sysroot. To use another toolchain instead (wasi-sdk, say), set
# CC to its clang and WASI_SYSROOT to its sysroot: nothing is installed then.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CC:-}" ]; then
  CC=clang
  packages=(clang lld wasi-libc libclang-rt-dev-wasm32)
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null ||
      { echo "build-c.sh: needs ${missing[*]} (Debian packages), or CC and WASI_SYSROOT set" >&2; exit 1; }
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "installing ${missing[*]}" >&2
    apt_install() {
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    }
    apt_install || { "${sudo[@]}" apt-get update -q >&2 && apt_install; }
  fi
fi
flags=(--target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug)
[ -n "${WASI_SYSROOT:-}" ] && flags+=(--sysroot="$WASI_SYSROOT")

# wizer.h names __wasm_call_ctors, so wasm-ld stops wrapping exports in calls
# to the constructors and destructors. A crt1-command.o whose _start does not
# call them itself (Debian 12's) would then run neither: use wizer.h's own
# _start instead of it (see wizer.h).
crt1=$("$CC" "${flags[@]}" -print-file-name=crt1-command.o)
if [ -f "$crt1" ] && ! grep -q __wasm_call_ctors "$crt1"; then
  echo "$crt1 leaves the constructors to wasm-ld: building with wizer.h's _start" >&2
  flags+=(-nostartfiles -DWIZER_OWN_START)
fi

out=samples/preinit-c/preinit-c.wasm
"$CC" "${flags[@]}" -o "$out" samples/preinit-c/preinit-c.c
echo "built $out ($(stat -c %s "$out") bytes) with $("$CC" --version | head -1)"
