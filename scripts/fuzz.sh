#!/usr/bin/env bash
# Coverage-guided fuzzing of everything the stub reads from its own file
# (trailer, manifest, ELF section index, Mach-O layout, embedded trees and
# the look-ups in them), of what `wpack inspect` parses and of the module
# stub's WASI host functions (fuzz/, issue 18).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# runs each fuzz target (default: all) for SECONDS (default 60), or until
# it has run $FUZZ_RUNS inputs if that comes first, and fails
# if any finds a crash: a panic, a leak of more than the input's size, an
# allocation over 256 MiB, more than 2 GiB resident, or one input taking
# over 10 s. It prints executions and coverage per target (BENCHMARKS.md,
# "Fuzzing").
#
# cargo-fuzz, pinned, is installed into target/fuzz-tools; it builds the
# targets with libFuzzer on stable Rust (`--sanitizer none`: libFuzzer's own
# leak and malloc checks need a sanitizer, so fuzz/src/bodies.rs counts
# allocations itself). Each target starts from its committed corpus
# (fuzz/corpus/TARGET, fuzz/corpus-regressions/TARGET) and the seeds the
# replay test writes (real files the built wpack packs for every target it
# carries, small packed files of every layout); what it finds is kept in
# target/fuzz/corpus/TARGET for the next run. A crashing input is saved in
# target/fuzz/artifacts/TARGET/: fix the bug, then copy the input to
# fuzz/corpus-regressions/TARGET/, which scripts/test.sh replays from then
# on (tests/fuzz_regressions.rs, no fuzzer needed; wasi_host's corpora:
# wasi/tests/fuzz_corpus.rs).
#
#   scripts/fuzz.sh --update-corpus
#
# replaces the committed seed corpus, fuzz/corpus/TARGET, with the smallest
# set of inputs of at most 4 KiB, from it and from what the runs found, that
# reaches the same coverage (libFuzzer's -set_cover_merge): kept small, as the
# packed files that seed the larger inputs are made afresh by each run.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(payload_read packed_file manifest elf_index macho tree inspect fat wasi_host)
update_corpus=false
if [ "${1:-}" = --update-corpus ]; then
  update_corpus=true
  shift
fi
seconds=${1:-60}
if [ $# -gt 0 ]; then shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

cargo_fuzz_version=0.13.2
tools=$PWD/target/fuzz-tools
if [ "$("$tools/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
  cargo install --locked --quiet cargo-fuzz --version "$cargo_fuzz_version" --root "$tools"
fi
export PATH="$tools/bin:$PATH"

out=target/fuzz
seeds=${FUZZ_SEEDS:-$out/seeds}
fuzz=(--sanitizer none --target-dir "$out")

if $update_corpus; then
  for t in "${all[@]}"; do
    small=$(mktemp -d)
    find "fuzz/corpus/$t" "$out/corpus/$t" -type f -size -4097c -exec cp {} "$small/" \; 2>/dev/null || true
    rm -rf "fuzz/corpus/$t.new"
    mkdir -p "fuzz/corpus/$t.new"
    cargo fuzz run "${fuzz[@]}" "$t" "fuzz/corpus/$t.new" "$small" -- -set_cover_merge=1 -max_len=4096 \
      >"$out/$t-merge.log" 2>&1
    rm -rf "fuzz/corpus/$t" "$small"
    mv "fuzz/corpus/$t.new" "fuzz/corpus/$t"
    echo "fuzz/corpus/$t: $(find "fuzz/corpus/$t" -type f | wc -l) inputs, $(du -sh "fuzz/corpus/$t" | cut -f1)"
  done
  exit 0
fi

# Replays the corpora first (through scripts/test.sh: the same build) and
# writes the generated seeds; $FUZZ_SEEDS names seeds written before (by
# `WPACK_FUZZ_SEEDS=DIR scripts/test.sh --test fuzz_regressions`).
if [ -z "${FUZZ_SEEDS:-}" ]; then
  rm -rf "$seeds"
  WPACK_FUZZ_SEEDS="$PWD/$seeds" scripts/test.sh --test fuzz_regressions --test fuzz_corpus -q
fi

cargo fuzz build "${fuzz[@]}"

# A libFuzzer statistic from the end of a log.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1 || true; }
# A field of a libFuzzer status line (`cov: 123`).
field() { grep -o "$1: [0-9]*[/0-9A-Za-z]*" | cut -d' ' -f2 || true; }

failed=()
printf '| target | executions | exec/s | coverage (edges) | features | corpus | result |\n'
printf '|---|---|---|---|---|---|---|\n'
for t in "${targets[@]}"; do
  case $t in
    packed_file) max_len=$((64 << 10)) ;; # real packed files, condensed: ~20 KB
    payload_read | inspect | fat) max_len=$((256 << 10)) ;; # a payload starts at 64 KiB; fat: two of them
    macho | elf_index) max_len=$((128 << 10)) ;;
    *) max_len=4096 ;;
  esac
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$seeds/$t" "fuzz/corpus/$t" "fuzz/corpus-regressions/$t"
  log=$out/$t.log
  result=ok
  if ! cargo fuzz run "${fuzz[@]}" "$t" "$out/corpus/$t" \
    "fuzz/corpus/$t" "fuzz/corpus-regressions/$t" "$seeds/$t" -- \
    -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
    -max_len="$max_len" -artifact_prefix="$out/artifacts/$t/" -print_final_stats=1 \
    >"$log" 2>&1; then
    result="FAILED (see $log, $out/artifacts/$t/)"
    failed+=("$t")
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(stat "$log" number_of_executed_units)" \
    "$(stat "$log" average_exec_per_sec)" "$(grep -o 'cov: [0-9]*' <<<"$last" | cut -d' ' -f2)" \
    "$(grep -o 'ft: [0-9]*' <<<"$last" | cut -d' ' -f2)" \
    "$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' <<<"$last" | cut -d' ' -f2)" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "--- $t: $out/$t.log" >&2
    grep -E -A12 'panicked|ERROR: libFuzzer|allocation of' "$out/$t.log" | head -40 >&2
  done
  echo "fuzz: ${failed[*]} failed" >&2
  exit 1
fi
