#!/usr/bin/env bash
# Checks the release files scripts/dist.sh made, as far as this Linux x86_64
# machine can (wine runs the Windows wpack, qemu the aarch64 one; macOS files
# are checked offline):
#
#   scripts/dist/check.sh OUT BINS HOSTS
#
# OUT: the release files; BINS/HOST/: each host's wpack; HOSTS: the list
# dist.sh built. Every host's wpack packs samples/hello for x86_64-linux and
# the results must be byte-identical to what this machine's own build
# (target/release/wpack, built with the same stubs) packs, and run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. scripts/dist/hosts.sh
out=$1 bins=$2 hosts=$3
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hello=$root/samples/hello/hello.wasm
fail() { echo "dist check: $*" >&2; exit 1; }
has() { [[ ",$hosts," == *",$1,"* ]]; }

native=$root/target/release/wpack
"$native" "$hello" --target x86_64-linux -o "$work/hello-native"
[ "$("$work/hello-native")" = "Hello, world!" ] || fail "hello packed by $native does not run"

if has x86_64-linux; then
echo "-- Linux x86_64 wheel, installed offline into a fresh venv"
wheel=$(ls "$out"/wpack-"$version"-*manylinux*x86_64*.whl)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "$wheel"
wpack=$work/venv/bin/wpack
"$wpack" --version
listed=$("$wpack" --list-targets)
echo "$listed"
for name in x86_64-linux aarch64-linux x86_64-linux-gnu x86_64-windows aarch64-macos x86_64-macos; do
  line=$(grep -A1 -E "^$name\s" <<<"$listed") || fail "the wheel's wpack does not list $name"
  grep -q "no stub" <<<"$line" && fail "the wheel's wpack has no stub for $name"
done
"$wpack" "$hello" --target x86_64-linux -o "$work/hello-wheel"
cmp "$work/hello-native" "$work/hello-wheel" || fail "the wheel's wpack packs another file"
[ "$("$work/hello-wheel")" = "Hello, world!" ] || fail "hello packed by the wheel's wpack does not run"
echo "wheel: installs offline, six targets, packs the same file, which runs"
fi

echo "-- every host's wpack packs the same file for x86_64-linux"
if has x86_64-linux; then
  "$bins/x86_64-linux/wpack" "$hello" --target x86_64-linux -o "$work/hello-archive"
  cmp "$work/hello-native" "$work/hello-archive" || fail "the x86_64-linux wpack packs another file"
  echo "x86_64-linux: identical"
fi
if has aarch64-linux; then
  qemu-aarch64 "$bins/aarch64-linux/wpack" "$hello" --target x86_64-linux -o "$work/hello-aarch64"
  cmp "$work/hello-native" "$work/hello-aarch64" || fail "packed under qemu (aarch64 wpack): differs"
  [ "$("$work/hello-aarch64")" = "Hello, world!" ] || fail "hello packed by the aarch64 wpack does not run"
  echo "aarch64-linux (qemu): identical, runs"
fi
if has x86_64-windows; then
  export WINEPREFIX=$root/target/wine-prefix WINEDEBUG=-all
  # wine 8 lacks bcryptprimitives.dll, which Windows 10+ has and Rust's std
  # uses (tests/wine/bcryptprimitives.c).
  cp "$bins/x86_64-windows/wpack.exe" "$work/"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c -ladvapi32
  cp "$hello" "$work/hello.wasm"
  (cd "$work" && wine wpack.exe hello.wasm --target x86_64-linux -o hello-windows)
  cmp "$work/hello-native" "$work/hello-windows" || fail "packed under wine (Windows wpack): differs"
  # Windows has no executable bit (wpack.exe says so when it packs for Linux).
  chmod +x "$work/hello-windows"
  [ "$("$work/hello-windows")" = "Hello, world!" ] || fail "hello packed by wpack.exe does not run"
  echo "x86_64-windows (wine): identical, runs"
fi
has aarch64-macos && python3 scripts/dist/tools.py macho "$bins/aarch64-macos/wpack" arm64
has x86_64-macos && python3 scripts/dist/tools.py macho "$bins/x86_64-macos/wpack" x86_64

echo "-- archives and wheels hold what they should"
(cd "$out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
for f in "$out"/*.whl; do
  python3 - "$f" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
scripts = [n for n in names if ".data/scripts/wpack" in n]
assert scripts, f"{sys.argv[1]}: no wpack in the wheel's scripts: {names}"
print(f"{sys.argv[1].rsplit('/', 1)[1]}: {scripts[0]}")
EOF
done

echo "-- cargo binstall finds each archive (packer/Cargo.toml)"
triples=()
for h in ${hosts//,/ }; do triples+=("$(triple_of "$h")"); done
python3 scripts/dist/tools.py binstall "$out" "$version" "$(IFS=,; echo "${triples[*]}")"

has x86_64-linux || { echo "dist check: all passed (npm not checked: no x86_64-linux package)"; exit 0; }
echo "-- npm: the wpack package and this platform's, installed offline"
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    fail "npm is missing (apt-get install nodejs npm)"
  fi
fi
mkdir "$work/npm"
(cd "$work/npm" && echo '{"private": true}' >package.json &&
  npm install --offline --no-audit --no-fund --loglevel=error \
    "$root/$out/wpack-linux-x64-$version.tgz" "$root/$out/wpack-$version.tgz" >/dev/null)
"$work/npm/node_modules/.bin/wpack" --version
"$work/npm/node_modules/.bin/wpack" "$hello" --target x86_64-linux -o "$work/hello-npm"
cmp "$work/hello-native" "$work/hello-npm" || fail "packed through npm: differs"
echo "npm: installs, runs, identical"
echo "dist check: all passed"
