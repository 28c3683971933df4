#!/usr/bin/env bash
# Issue 18's sequence, checked with cargo itself: wpack built, then a Rust
# target installed, then the next build must run packer/build.rs again (so
# the new target's stub is built and embedded); and a build with nothing
# changed must not run it.
#
# `rustup target add` is stood in for by what it does that matters here: it
# rewrites lib/rustlib/components in the toolchain's sysroot, which the
# build script watches. The file is touched, its contents unchanged, so no
# download is needed. Costs one rebuild of wpack and its tests (a minute or
# two); tests/targets.rs checks the same from the build script's output
# without rebuilding (`the_build_reruns_when_rust_targets_are_installed`).
set -euo pipefail
cd "$(dirname "$0")/.."

# The build scripts/test.sh makes (it installs the targets first).
build=(scripts/test.sh --no-run)
components="$(rustc --print sysroot)/lib/rustlib/components"
fail() {
  echo "check-rerun: $1" >&2
  exit 1
}
if [ ! -f "$components" ]; then
  echo "check-rerun: no $components (a toolchain not installed by rustup): nothing to check"
  exit 0
fi

"${build[@]}" --quiet
log=$("${build[@]}" -v 2>&1)
grep -q '^ *Fresh wpack v' <<<"$log" ||
  fail "a build with nothing changed ran packer/build.rs again:
$(grep -E '^ *(Dirty|Running)' <<<"$log" | head -5)"

touch "$components"
log=$("${build[@]}" -v 2>&1)
grep -E "^ *Dirty wpack v.*$components" <<<"$log" >/dev/null ||
  fail "cargo did not see the installed target:
$(grep -E '^ *(Dirty|Fresh) wpack' <<<"$log")"
grep -E 'Running `[^`]*/build/wpack-[0-9a-f]+/build-script-build`' <<<"$log" >/dev/null ||
  fail "packer/build.rs did not run again after a target was installed"

log=$("${build[@]}" -v 2>&1)
grep -q '^ *Fresh wpack v' <<<"$log" || fail "the build after that ran packer/build.rs again"
echo "check-rerun: ok: a target installed makes the next build run packer/build.rs again; nothing changed, it does not"
