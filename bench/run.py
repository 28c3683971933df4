#!/usr/bin/env python3
"""wpack's benchmark: native vs packed vs `wasmtime run`, side by side.

Usage: bench/run.py [--quick] [--no-large] [--only SECTIONS] [--wpack PATH]
                    [--wpack-before PATH] [--timeout SECONDS]

Builds each workload in bench/workloads (plus samples/hello and samples/fib)
natively and for wasm32-wasip1 from the same source, packs the .wasm with
wpack, precompiles it with `wasmtime compile` (the pinned reference CLI from
scripts/reference-wasmtime.sh), checks that every runner prints the same
checksum, then times everything with hyperfine in the same run and prints
Markdown tables: sizes, start-up and peak RSS, run time and ratio to native
per workload, geomean of the compute ratios, pack time, stub and packed hello
size per target, WASI-heavy workloads (directory listings, small files,
sleeps, a stdin-to-stdout pipe), how costs grow with module size
(bench/gen_large_wasm.py), and pre-initialization (samples/preinit packed
with and without --init-func, next to `wasmtime wizer` + `wasmtime run`).
Paste the output into BENCHMARKS.md.

--wpack-before PATH adds a second wpack (e.g. a copy of an older build) to the
same run: a "packed (before)" column in the WASI table, a row in the start-up
table and rows in the per-target table. --only picks sections (comma
separated): main, targets, wasi, embedded, components, large, composition,
preinit.
Any run that takes longer than --timeout seconds (default 60) in the WASI
table is stopped and reported as "> 60 s". --wpack PATH measures that binary
instead of building target/release/wpack.
"""
import argparse
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ["main", "targets", "wasi", "embedded", "components", "large", "composition", "preinit", "release", "big"]


def parse_args():
    p = argparse.ArgumentParser(description="wpack's benchmark (see bench/README.md)")
    p.add_argument("--quick", action="store_true", help="smaller inputs, fewer runs")
    p.add_argument("--no-large", action="store_true", help="leave out the module-size table")
    p.add_argument("--only", metavar="SECTIONS", default=None,
                   help="comma-separated sections to run: " + ", ".join(SECTIONS))
    p.add_argument("--wpack", metavar="PATH", type=Path, default=None,
                   help="the wpack to measure (default: build target/release/wpack with cargo first)")
    p.add_argument("--wpack-before", metavar="PATH", type=Path, default=None,
                   help="a second wpack binary to compare in the same run (column 'packed (before)')")
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=60.0,
                   help="WASI table: one run longer than this is stopped and reported as '> N s' (default 60)")
    a = p.parse_args()
    if a.only:
        a.only = [x.strip() for x in a.only.split(",") if x.strip()]
        unknown = [x for x in a.only if x not in SECTIONS]
        if unknown:
            p.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    else:
        a.only = [x for x in SECTIONS if not (x == "large" and a.no_large)]
    for opt in ["wpack", "wpack_before"]:
        path = getattr(a, opt)
        if path is not None:
            setattr(a, opt, path.resolve())
            if not path.is_file() or not os.access(path, os.X_OK):
                p.error(f"--{opt.replace('_', '-')} {path}: not an executable file")
    return a


ARGS = parse_args()
QUICK = ARGS.quick
LARGE = "large" in ARGS.only
WORK = ROOT / "target" / "bench"

# name -> (source, arguments, is a compute workload for the geomean)
WORKLOADS = {
    "fib": (ROOT / "samples/fib/fib.rs", ["36" if QUICK else "40"], True),
    "sha256": (ROOT / "bench/workloads/sha256.rs", ["16" if QUICK else "64"], True),
    "nbody": (ROOT / "bench/workloads/nbody.rs", ["1000000" if QUICK else "5000000"], True),
    "sort": (ROOT / "bench/workloads/sort.rs", ["1000000" if QUICK else "5000000"], True),
    "alloc": (ROOT / "bench/workloads/alloc.rs", ["1000000" if QUICK else "3000000"], True),
    "fileio": (ROOT / "bench/workloads/fileio.rs", ["data/input.bin"], False),
}
FILEIO_MIB = 64 if QUICK else 256
FLAGS = ["-C", "opt-level=3", "-C", "codegen-units=1", "-C", "panic=abort"]


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def out(*cmd, **kw):
    return run(*cmd, capture_output=True, text=True, **kw).stdout


def hyperfine(commands, runs, warmup=1):
    """name -> command (no shell); returns name -> (min, median) seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        args = ["hyperfine", "-N", "--style", "none", "--runs", str(runs),
                "--warmup", str(warmup), "--export-json", f.name]
        for name, cmd in commands.items():
            args += ["-n", name, cmd]
        run(*args, stdout=subprocess.DEVNULL, cwd=WORK)
        results = json.load(open(f.name))["results"]
    return {r["command"]: (r["min"], r["median"]) for r in results}


def peak_rss_kib(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd.split(), cwd=WORK,
                       capture_output=True, text=True)
    return int(r.stderr.strip().splitlines()[-1])


def fmt_s(s):
    return f"{s * 1000:.1f} ms" if s < 10 else f"{s:.2f} s"


def thousands(n):
    return f"{n:,}".replace(",", " ")


def mb(path):
    return f"{Path(path).stat().st_size / 1e6:.2f} MB"


def main():
    for tool in ["hyperfine", "rustc"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (hyperfine: apt-get install hyperfine)")
    if ARGS.wpack:
        wpack = ARGS.wpack
    else:
        run("cargo", "build", "--release", "--locked", cwd=ROOT, stdout=subprocess.DEVNULL)
        wpack = ROOT / "target/release/wpack"
    run("rustup", "target", "add", "wasm32-wasip1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = ARGS.wpack_before
    wasmtime = Path(out(ROOT / "scripts/reference-wasmtime.sh").strip())
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "data").mkdir(exist_ok=True)
    data = WORK / "data/input.bin"
    if not data.exists() or data.stat().st_size != FILEIO_MIB << 20:
        with open(data, "wb") as f:
            block = bytes((i * 131 + 7) % 256 for i in range(1 << 20))
            for _ in range(FILEIO_MIB):
                f.write(block)

    commit = out("git", "rev-parse", "--short", "HEAD", cwd=ROOT).strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; "
          f"date {date.today()}; commit {commit}; {out(wasmtime, '--version').strip()}; "
          f"{'quick run' if QUICK else 'full run'}; sections {', '.join(ARGS.only)}; "
          f"load average at start {load}")
    print(f"wpack: {wpack}" + (f"; wpack (before): {before}" if before else "") + "\n")

    only = ARGS.only
    if {"main", "embedded", "components", "composition"} & set(only):
        prepare(wpack, wasmtime, before)
    if "main" in only:
        main_tables(wpack, wasmtime, before)
    if "targets" in only:
        targets(wpack, before)
    if "wasi" in only:
        wasi(wpack, wasmtime, before)
    if "embedded" in only:
        embedded(wpack)
    if "components" in only:
        components(wpack, wasmtime)
    if LARGE:
        large(wpack, wasmtime)
    if "composition" in only:
        composition(wpack)
    if "preinit" in only:
        preinit(wpack, wasmtime)
    if "release" in only:
        release(wpack)
    if "big" in only and os.environ.get("WPACK_BENCH_BIG"):
        big(wpack, wasmtime)


def progress(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def build(name, src, target="wasm32-wasip1", suffix=""):
    """`{name}-native` and `{name}{suffix}.wasm` in WORK, from the same source."""
    if target == "wasm32-wasip1":
        run("rustc", "--edition", "2024", *FLAGS, "-C", "strip=symbols", "-o", WORK / f"{name}-native", src)
    run("rustc", "--edition", "2024", "--target", target, *FLAGS,
        "-C", "strip=debuginfo", "-o", WORK / f"{name}{suffix}.wasm", src)


def settle(files):
    """Packed files are verified once, then remembered (stub/src/verified.rs),
    but not when changed less than 2 s before: wait, then run each once (its
    arguments do not matter: the check happens before the program runs), so
    that timing sees the steady state users see from the second run on."""
    time.sleep(2.5)
    for f in files:
        subprocess.run([str(WORK / f)], cwd=WORK, stdin=subprocess.DEVNULL, capture_output=True)


def prepare(wpack, wasmtime, before):
    """Builds, packs and precompiles the workloads and hello, and checks that
    every runner prints the same thing."""
    programs = dict(WORKLOADS, hello=(ROOT / "samples/hello/hello.rs", [], False))
    for name, (src, _, _) in programs.items():
        progress(f"building {name}")
        build(name, src)
        extra = ["--dir", "data"] if name == "fileio" else []
        run(wpack, "-q", WORK / f"{name}.wasm", "-o", WORK / f"{name}-packed", *extra)
        if before and name == "hello":
            run(before, "-q", WORK / f"{name}.wasm", "-o", WORK / f"{name}-before", *extra)
        run(wasmtime, "compile", WORK / f"{name}.wasm", "-o", WORK / f"{name}.cwasm")

    # Every runner must print the same thing.
    for name, (_, args, _) in programs.items():
        seen = {who: subprocess.run(cmd.split(), cwd=WORK, capture_output=True, text=True).stdout
                for who, cmd in commands(name, args, wasmtime).items()}
        if len(set(seen.values())) != 1:
            sys.exit(f"{name}: runners disagree: {seen}")
    settle([f"{name}-packed" for name in programs] + (["hello-before"] if before else []))


def commands(name, args, wasmtime):
    a = " ".join(args)
    dirs = "--dir data " if name == "fileio" else ""
    return {
        "native": f"./{name}-native {a}",
        "wpack": f"./{name}-packed {a}",
        "wasmtime": f"{wasmtime} run --allow-precompiled {dirs}{name}.cwasm {a}",
    }


def main_tables(wpack, wasmtime, before):
    """Sizes, start-up and peak RSS of hello, the workloads, pack time."""
    runs = 3 if QUICK else 10
    progress("start-up")
    hello = commands("hello", [], wasmtime)
    if before:
        hello = {"native": hello["native"], "wpack": hello["wpack"],
                 "wpack (before)": "./hello-before", "wasmtime": hello["wasmtime"]}
    startup = hyperfine(hello, runs=20 if QUICK else 200, warmup=10)
    times, rss = {}, {}
    for name, (_, args, _) in WORKLOADS.items():
        progress(f"timing {name}")
        times[name] = hyperfine(commands(name, args, wasmtime), runs=runs)
        rss[name] = {who: peak_rss_kib(cmd) for who, cmd in commands(name, args, wasmtime).items()}
    rss["hello"] = {who: peak_rss_kib(cmd) for who, cmd in hello.items()}
    pack = hyperfine({
        "wpack sha256": f"{wpack} -q --no-cache sha256.wasm -o p-sha256",
        "wasmtime compile sha256": f"{wasmtime} compile sha256.wasm -o c-sha256.cwasm",
    }, runs=runs)

    print("| file | size |\n|---|---|")
    default = next(line.split()[0] for line in out(wpack, "--list-targets").splitlines()
                   if line.endswith("(default)"))
    # From the measured wpack itself (--wpack may not be target/release's).
    stubs = list_targets(wpack)
    for name in ["x86_64-linux", "x86_64-linux-gnu"]:
        if name in stubs:
            mark = ", the default: packed below" if name == default else ""
            print(f"| stub ({name}{mark}) | {stubs[name][0] * 1024 / 1e6:.2f} MB |")
    print(f"| packed hello | {mb(WORK / 'hello-packed')} |")
    if before:
        print(f"| packed hello (before) | {mb(WORK / 'hello-before')} |")
    print(f"| native hello | {mb(WORK / 'hello-native')} |")
    print(f"| hello.wasm / hello.cwasm | {mb(WORK / 'hello.wasm')} / {mb(WORK / 'hello.cwasm')} |\n")

    print("| start-up (hello) | min | median | / native | peak RSS | / native |\n|---|---|---|---|---|---|")
    m = rss["hello"]
    for who, (lo, med) in startup.items():
        print(f"| {who} | {fmt_s(lo)} | {fmt_s(med)} | {med / startup['native'][1]:.2f}x | "
              f"{m[who] / 1024:.1f} MB | {m[who] / m['native']:.2f}x |")
    print()

    print("| workload | native | wpack | wasmtime run | wpack / native | wasmtime / native | peak RSS native / wpack / wasmtime |")
    print("|---|---|---|---|---|---|---|")
    ratios = {"wpack": [], "wasmtime": []}
    for name, (_, args, compute) in WORKLOADS.items():
        t = times[name]
        nat = t["native"][1]
        r = {who: t[who][1] / nat for who in ["wpack", "wasmtime"]}
        if compute:
            for who in ratios:
                ratios[who].append(r[who])
        m = rss[name]
        print(f"| {name} {' '.join(args)} | {fmt_s(nat)} | {fmt_s(t['wpack'][1])} | "
              f"{fmt_s(t['wasmtime'][1])} | {r['wpack']:.2f}x | {r['wasmtime']:.2f}x | "
              f"{m['native'] / 1024:.0f} / {m['wpack'] / 1024:.0f} / {m['wasmtime'] / 1024:.0f} MB |")
    geo = {who: math.exp(sum(map(math.log, v)) / len(v)) for who, v in ratios.items()}
    print(f"| **geomean (compute)** | | | | **{geo['wpack']:.2f}x** | **{geo['wasmtime']:.2f}x** | |")
    m = rss["hello"]
    print(f"| hello (RSS only) | | | | | | {m['native'] / 1024:.1f} / {m['wpack'] / 1024:.1f} / {m['wasmtime'] / 1024:.1f} MB |\n")

    print("| pack time | min | median |\n|---|---|---|")
    for who, (lo, med) in pack.items():
        print(f"| {who} | {fmt_s(lo)} | {fmt_s(med)} |")
    print()


def list_targets(wpack):
    """target name -> (module stub KiB, component stub KiB), for the targets
    whose stubs this wpack carries (`wpack --list-targets`)."""
    text = out(wpack, "--list-targets")
    found = re.findall(r"^(\S+)[^\n]*\n\s+stubs built in \((\d+) KiB for modules, (\d+) KiB for components\)",
                       text, re.M)
    return {name: (int(m), int(c)) for name, m, c in found}


def targets(wpack, before):
    """Stub sizes per target and kind, and hello packed for each target, as a
    module (hello.wasm) and as a component (hello-p2.wasm)."""
    progress("stub and packed hello size per target")
    run("rustup", "target", "add", "wasm32-wasip2", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    src = ROOT / "samples/hello/hello.rs"
    build("hello", src)
    build("hello", src, target="wasm32-wasip2", suffix="-p2")
    (WORK / "targets").mkdir(exist_ok=True)
    binaries = {"": wpack}
    if before:
        binaries[" (before)"] = before
    print("Stub size per target and kind (`wpack --list-targets`, KiB) and samples/hello packed for each target\n")
    print("| target | module stub | component stub | packed hello (module) | packed hello (component) |")
    print("|---|---|---|---|---|")
    rows = {}
    for label, binary in binaries.items():
        for name, (module_kib, component_kib) in list_targets(binary).items():
            sizes = []
            for wasm in ["hello.wasm", "hello-p2.wasm"]:
                dest = WORK / "targets" / f"{wasm[:-5]}-{name}{'-before' if label else ''}"
                r = subprocess.run([str(binary), "-q", "--target", name, str(WORK / wasm), "-o", str(dest)],
                                   capture_output=True, text=True)
                sizes.append(mb(dest) if r.returncode == 0 else "fails")
            rows.setdefault(name, []).append(
                f"| {name}{label} | {thousands(module_kib)} KiB | {thousands(component_kib)} KiB | "
                f"{sizes[0]} | {sizes[1]} |")
    for name in rows:
        print("\n".join(rows[name]))
    print()


# --- WASI-heavy workloads -------------------------------------------------

# name -> source; each is packed with the same --dir as wasmtime gets.
WASI_PROGRAMS = {
    "listdir": (ROOT / "bench/workloads/listdir.rs", ["--dir", "wasi"]),
    "smallfiles": (ROOT / "bench/workloads/smallfiles.rs", ["--dir", "wasi"]),
    "fileio": (ROOT / "bench/workloads/fileio.rs", ["--dir", "data"]),
    "sleep": (ROOT / "bench/workloads/sleep.rs", []),
    "pipe": (ROOT / "bench/workloads/pipe.rs", []),
}
LIST_SIZES = [1_000, 16_000] if QUICK else [1_000, 16_000, 100_000]
SMALL_FILES, SMALL_ROUNDS = 5_000, 4
SLEEPS = 200
SLOW = 5.0  # a runner slower than this (first run) is not given to hyperfine


def make_tree(path, count, size_of):
    """COUNT files in PATH (made once; a marker beside it says it is complete)."""
    marker = path.with_name(path.name + ".complete")
    if marker.exists() and marker.read_text() == str(count):
        return
    progress(f"creating {count} files in {path.relative_to(ROOT)}")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    block = bytes(range(256)) * 17
    for i in range(count):
        with open(path / f"f{i:06d}", "wb") as f:
            n = size_of(i)
            if n:
                f.write(block[i % 256:i % 256 + n])
    marker.write_text(str(count))


def run_limited(cmd, capture=True):
    """Runs CMD (split like hyperfine -N) in WORK; returns (seconds, stdout),
    or (None, None) if it ran longer than --timeout (then it is killed)."""
    start = time.perf_counter()
    p = subprocess.Popen(shlex.split(cmd), cwd=WORK, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = p.communicate(timeout=ARGS.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, None
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"`{cmd}` exited with {p.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    return elapsed, stdout


def timed(cmds, check=None):
    """runner -> (median seconds, runs), or None if a run passed --timeout.

    Each runner is run once first, with the time limit (through CHECK's
    command if given, whose output must be the same for every runner). Those
    that took less than SLOW seconds are then timed together by hyperfine;
    slower ones get at most two more runs, each with the limit (none under
    --quick), timed here: their median is over a few runs only."""
    result, fast, seen, first = {}, {}, {}, {}
    for who, cmd in cmds.items():
        elapsed, stdout = run_limited((check or cmds)[who])
        if elapsed is None:
            progress(f"  {who}: > {ARGS.timeout:.0f} s, stopped")
            result[who] = None
            continue
        progress(f"  {who}: {fmt_s(elapsed)} (first run)")
        seen[who], first[who] = stdout, elapsed
        if elapsed < SLOW:
            fast[who] = cmd
            continue
        times = [] if check else [elapsed]
        for _ in range((1 if QUICK else 3) - len(times)):
            t, _ = run_limited(cmd, capture=False)
            if t is None:
                times = None
                break
            times.append(t)
        result[who] = (statistics.median(times), len(times)) if times else None
    if len(set(seen.values())) > 1:
        sys.exit("runners disagree: " + repr({w: o[:200] for w, o in seen.items()}))
    if fast:
        longest = max(first[w] for w in fast)
        if longest < 0.1:
            runs = 20 if QUICK else 50
        elif longest < 1:
            runs = 10 if QUICK else 30
        else:
            runs = 5 if QUICK else 10
        for who, (_, med) in hyperfine(fast, runs).items():
            result[who] = (med, runs)
    return {who: result[who] for who in cmds}


def wasi(wpack, wasmtime, before):
    """Workloads that spend their time in WASI calls rather than wasm code:
    native vs packed (vs a second wpack) vs `wasmtime run`."""
    wasi_dir = WORK / "wasi"
    for n in LIST_SIZES:
        make_tree(wasi_dir / f"list-{n}", n, lambda i: 0)
    make_tree(wasi_dir / f"small-{SMALL_FILES}", SMALL_FILES, lambda i: 64 + (i * 997) % 4033)
    packed = ["packed"] + (["before"] if before else [])
    for name, (src, dirs) in WASI_PROGRAMS.items():
        progress(f"building {name}")
        build(name, src)
        run(wpack, "-q", WORK / f"{name}.wasm", "-o", WORK / f"{name}-packed", *dirs)
        if before:
            run(before, "-q", WORK / f"{name}.wasm", "-o", WORK / f"{name}-before", *dirs)
        run(wasmtime, "compile", WORK / f"{name}.wasm", "-o", WORK / f"{name}.cwasm")
    settle([f"{name}-{kind}" for name in WASI_PROGRAMS for kind in packed])

    def runners(name, args, wrap=None):
        dirs = " ".join(WASI_PROGRAMS[name][1])
        cmds = {"native": f"./{name}-native {args}", "packed": f"./{name}-packed {args}"}
        if before:
            cmds["packed (before)"] = f"./{name}-before {args}"
        cmds["wasmtime run"] = f"{wasmtime} run --allow-precompiled {dirs} {name}.cwasm {args}"
        if wrap:
            cmds = {who: wrap(cmd) for who, cmd in cmds.items()}
        return cmds

    rows = []  # (label, results)
    for n in LIST_SIZES:
        label = f"list a directory of {thousands(n)} entries"
        progress(label)
        rows.append((label, timed(runners("listdir", f"wasi/list-{n}"))))
    label = (f"open-read-close {thousands(SMALL_FILES)} small files (64 B-4 KiB), "
             f"{SMALL_ROUNDS} rounds, a listing each")
    progress(label)
    rows.append((label, timed(runners("smallfiles", f"wasi/small-{SMALL_FILES} {SMALL_ROUNDS}"))))
    label = f"fileio: read a {FILEIO_MIB} MiB file in 64 KiB reads"
    progress(label)
    rows.append((label, timed(runners("fileio", "data/input.bin"))))
    label = f"sleep(1 ms) x {SLEEPS} (`poll_oneoff`)"
    progress(label)
    sleep = timed(runners("sleep", f"{SLEEPS} 1000"))
    rows.append((label, sleep))
    # stdin and stdout through the same shell redirections for every runner:
    # first a file in and /dev/null out (the runtime's own cost per call),
    # then pipes at both ends, fed and drained by cat (adds the kernel's pipe
    # copies and the scheduling of three processes on the same cores).
    pipes = {}
    for kind, feed, drain, shown in [
            ("file", "{} < data/input.bin", " > /dev/null", "`prog < file > /dev/null`"),
            ("pipes", "cat data/input.bin | {}", " | cat > /dev/null", "`cat \\| prog \\| cat`")]:
        label = f"stdin -> stdout, {FILEIO_MIB} MiB, {shown}"
        progress(label)
        cmd = lambda sink: lambda c: f"sh -c '{feed.format(c.strip())}{sink}'"
        pipes[kind] = timed(runners("pipe", "", cmd(drain)), check=runners("pipe", "", cmd(" | sha256sum")))
        rows.append((label, pipes[kind]))

    whos = list(runners("pipe", ""))
    heads = {"native": "native", "packed": "packed", "packed (before)": "packed (before)",
             "wasmtime run": "wasmtime run"}
    ratio_heads = {"packed": "packed / native", "packed (before)": "before / native",
                   "wasmtime run": "wasmtime / native"}
    limit = ARGS.timeout

    def cell(r):
        if r is None:
            return f"> {limit:.0f} s"
        med, runs = r
        return fmt_s(med) + (f" ({runs} run{'s' if runs > 1 else ''})" if runs < 5 else "")

    def ratio(r, nat):
        if nat is None:
            return "?"
        if r is None:
            return f"> {limit / nat[0]:.0f}x"
        return f"{r[0] / nat[0]:.2f}x"

    print(f"WASI-heavy workloads: medians (hyperfine; runs slower than {SLOW:.0f} s timed alone, "
          f"runs noted); `> {limit:.0f} s`: stopped after {limit:.0f} s. "
          f"Load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| workload | " + " | ".join(heads[w] for w in whos) + " | "
          + " | ".join(ratio_heads[w] for w in whos if w != "native") + " |")
    print("|---|" + "---|" * (2 * len(whos) - 1))
    for label, r in rows:
        print(f"| {label} | " + " | ".join(cell(r[w]) for w in whos) + " | "
              + " | ".join(ratio(r[w], r["native"]) for w in whos if w != "native") + " |")
    print()
    per_call = ", ".join(f"{w} {sleep[w][0] / SLEEPS * 1000:.3f} ms" if sleep[w] else f"{w} ?"
                         for w in whos)
    print(f"Per `sleep(1 ms)` (median / {SLEEPS}): {per_call}.")
    for kind, what in [("file", "from a file to /dev/null"), ("pipes", "through pipes, with the feeding and draining `cat`")]:
        r = pipes[kind]
        rate = ", ".join(f"{w} {FILEIO_MIB / r[w][0]:.0f} MiB/s" if r[w] else f"{w} ?" for w in whos)
        print(f"stdin -> stdout {what}: {rate}.")
    print()


def embedded(wpack):
    """Files embedded with --include against the same files through --dir:
    start-up and memory with a large tree, and read throughput."""
    run(wpack, "-q", WORK / "fileio.wasm", "-o", WORK / "fileio-embedded", "--include", "data", cwd=WORK)
    run(wpack, "-q", WORK / "hello.wasm", "-o", WORK / "hello-embedded", "--include", "data", cwd=WORK)
    size = (WORK / "data/input.bin").stat().st_size >> 20
    runs = 30 if QUICK else 200
    t = hyperfine({"plain": "./hello-packed", "embedded": "./hello-embedded"}, runs, warmup=5)
    # (hyperfine takes a name starting with "--" for an option of its own)
    reads = hyperfine({
        "dir": "./fileio-packed data/input.bin",
        "include": "./fileio-embedded data/input.bin",
    }, 5 if QUICK else 10)
    print(f"Embedded files: {size} MiB (`data/`) embedded vs read through `--dir`\n")
    print("| measure | plain / --dir | embedded | ratio |\n|---|---|---|---|")
    print(f"| packed hello size | {mb(WORK / 'hello-packed')} | {mb(WORK / 'hello-embedded')} | |")
    (_, a), (_, b) = t["plain"], t["embedded"]
    print(f"| hello start-up (median) | {fmt_s(a)} | {fmt_s(b)} | {b / a:.2f} |")
    ra, rb = peak_rss_kib("./hello-packed"), peak_rss_kib("./hello-embedded")
    print(f"| hello peak RSS | {ra / 1024:.1f} MB | {rb / 1024:.1f} MB | {rb / ra:.2f} |")
    (_, a), (_, b) = reads["dir"], reads["include"]
    print(f"| read {size} MiB (fileio, median) | {fmt_s(a)} | {fmt_s(b)} | {b / a:.2f} |\n")


def components(wpack, wasmtime):
    """The same programs as WASI 0.2 components (wasm32-wasip2): sizes of the
    two stubs, start-up and run time against the module build, native and
    `wasmtime run`."""
    run("rustup", "target", "add", "wasm32-wasip2", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flags = ["-C", "opt-level=3", "-C", "codegen-units=1", "-C", "panic=abort", "-C", "strip=debuginfo"]
    fib_args = WORKLOADS["fib"][1]
    for name, src in [("hello", ROOT / "samples/hello/hello.rs"), ("fib", WORKLOADS["fib"][0])]:
        run("rustc", "--edition", "2024", "--target", "wasm32-wasip2", *flags,
            "-o", WORK / f"{name}-p2.wasm", src)
        run(wpack, "-q", WORK / f"{name}-p2.wasm", "-o", WORK / f"{name}-p2-packed")
        run(wasmtime, "compile", WORK / f"{name}-p2.wasm", "-o", WORK / f"{name}-p2.cwasm")
        # Run once, so that timing sees the verified-once steady state.
        args = fib_args if name == "fib" else []
        subprocess.run([WORK / f"{name}-p2-packed", *args], cwd=WORK, capture_output=True)
    runs = 30 if QUICK else 200
    start = hyperfine({
        "native": "./hello-native",
        "wpack module": "./hello-packed",
        "wpack component": "./hello-p2-packed",
        "wasmtime run component": f"{wasmtime} run --allow-precompiled hello-p2.cwasm",
    }, runs, warmup=10)
    a = " ".join(fib_args)
    fib = hyperfine({
        "native": f"./fib-native {a}",
        "wpack module": f"./fib-packed {a}",
        "wpack component": f"./fib-p2-packed {a}",
        "wasmtime run component": f"{wasmtime} run --allow-precompiled fib-p2.cwasm {a}",
    }, 3 if QUICK else 10)
    triple = "x86_64-unknown-linux-musl"
    # Each kind is built with its own profile (Cargo.toml: stub-module, stub).
    module_stub = ROOT / f"target/wpack-stub/{triple}/stub-module/wpack-stub"
    component_stub = ROOT / f"target/wpack-stub/{triple}/stub/wpack-stub-component"
    print("Components (WASI 0.2, wasm32-wasip2) against the same programs as modules\n")
    print("| file | module | component |\n|---|---|---|")
    print(f"| stub (x86_64-linux) | {mb(module_stub)} | {mb(component_stub)} |")
    print(f"| hello.wasm | {mb(WORK / 'hello.wasm')} | {mb(WORK / 'hello-p2.wasm')} |")
    print(f"| packed hello | {mb(WORK / 'hello-packed')} | {mb(WORK / 'hello-p2-packed')} |\n")
    print(f"| runner | hello start-up (median) | / native | fib {a} (median) | / native |")
    print("|---|---|---|---|---|")
    for who in start:
        print(f"| {who} | {fmt_s(start[who][1])} | {start[who][1] / start['native'][1]:.2f}x | "
              f"{fmt_s(fib[who][1])} | {fib[who][1] / fib['native'][1]:.2f}x |")
    print()


def large(wpack, wasmtime):
    """How pack time, size, start-up and memory grow with module size."""
    gen = ROOT / "bench/gen_large_wasm.py"
    sizes = [(10_000, 0), (100_000, 0), (300_000, 0), (1_000, 16), (1_000, 64)]
    if QUICK:
        sizes = [(10_000, 0), (100_000, 0), (1_000, 16)]
    print("| module | wasm | packed | wpack pack | wasmtime compile | start-up wpack | start-up wasmtime | RSS wpack | RSS wasmtime |")
    print("|---|---|---|---|---|---|---|---|---|")
    import time
    for funcs, data_mib in sizes:
        name = f"large-{funcs}f-{data_mib}m"
        wasm = WORK / f"{name}.wasm"
        run(sys.executable, gen, wasm, "--functions", funcs, "--data-mib", data_mib, stdout=subprocess.DEVNULL)
        p = hyperfine({"wpack": f"{wpack} -q --no-cache {wasm} -o {name}-packed",
                       "compile": f"{wasmtime} compile {wasm} -o {name}.cwasm"}, runs=1 if QUICK else 3, warmup=0)
        time.sleep(2.5)
        subprocess.run([str(WORK / f"{name}-packed")], capture_output=True)  # verified once
        s = hyperfine({"wpack": f"./{name}-packed",
                       "wasmtime": f"{wasmtime} run --allow-precompiled {name}.cwasm"}, runs=20, warmup=3)
        r_w = peak_rss_kib(f"./{name}-packed")
        r_t = peak_rss_kib(f"{wasmtime} run --allow-precompiled {name}.cwasm")
        label = f"{funcs} functions" + (f", {data_mib} MiB data" if data_mib else "")
        print(f"| {label} | {mb(wasm)} | {mb(WORK / (name + '-packed'))} | {fmt_s(p['wpack'][1])} | "
              f"{fmt_s(p['compile'][1])} | {fmt_s(s['wpack'][1])} | {fmt_s(s['wasmtime'][1])} | "
              f"{r_w / 1024:.1f} MB | {r_t / 1024:.1f} MB |")
    print()


def payload_sections(path):
    """name -> size of the payload's sections, read through the packed file's
    ELF section index (docs/FORMAT.md), which lists the stub's sections first,
    without names."""
    b = Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", b, 40)
    shnum, shstrndx = struct.unpack_from("<HH", b, 60)
    header = lambda i: struct.unpack_from("<IIQQQQIIQQ", b, shoff + 64 * i)
    strings = header(shstrndx)[4]
    sizes = {}
    for i in range(1, shnum):
        name_at, _, _, _, _, size = header(i)[:6]
        name = b[strings + name_at:b.index(b"\0", strings + name_at)].decode()
        if name:  # unnamed: the stub's own sections, listed first
            sizes[name] = size
    return sizes


def composition(wpack):
    """What fills a payload, and what --strip-names saves."""
    run(wpack, "-q", "--strip-names", WORK / "sha256.wasm", "-o", WORK / "sha256-nonames")
    files = {"sha256 (Rust, with names)": WORK / "sha256-packed",
             "sha256 --strip-names": WORK / "sha256-nonames"}
    for funcs, data_mib in [(100_000 if QUICK else 300_000, 0), (1_000, 16 if QUICK else 64)]:
        packed = WORK / f"large-{funcs}f-{data_mib}m-packed"
        if packed.exists():
            files[f"{funcs} functions, {data_mib} MiB data"] = packed
    columns = [(".text", "code"), (".wasmtime.info", "metadata"), (".name.wasm", "names"),
               (".rodata.wasm", "data segments"), (".wasmtime.traps", "trap table")]
    print("| payload of | file | " + " | ".join(f"{label} (`{sec}`)" for sec, label in columns) + " | other |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    for label, path in files.items():
        sizes = payload_sections(path)
        total = sum(sizes.values())
        cells = [sizes.pop(sec, 0) for sec, _ in columns]
        cells.append(sum(sizes.values()))
        size = lambda c: f"{c / 1e6:.2f} MB" if c >= 1e6 else f"{c / 1e3:.1f} KB"
        print(f"| {label} | {mb(path)} | " + " | ".join(
            f"{size(c)} ({100 * c / total:.0f}%)" for c in cells) + " |")
    print()


# --- Pre-initialization ------------------------------------------------------

# samples/preinit: its start-up builds a table (a sieve and a totient table);
# `wizer-initialize` builds it. The committed .wasm is used as is: the
# source imports WASI's random_get directly, so it has no native build.
PREINIT_WASM = ROOT / "samples/preinit/preinit.wasm"
PREINIT_INIT = ["--init-func", "wizer-initialize"]
PREINIT_ARGS = "1000003"


def preinit(wpack, wasmtime):
    """samples/preinit packed without and with --init-func, against the same
    module under `wasmtime run` without and with `wasmtime wizer`: start-up,
    peak RSS, file sizes, pack time, and whether the seed drawn at init is
    frozen."""
    progress("pre-initialized: packing samples/preinit")
    shutil.copyfile(PREINIT_WASM, WORK / "preinit.wasm")
    supported = "--init-func" in out(wpack, "--help")
    run(wpack, "-q", WORK / "preinit.wasm", "-o", WORK / "preinit-packed")
    if supported:
        run(wpack, "-q", WORK / "preinit.wasm", *PREINIT_INIT, "-o", WORK / "preinit-init")
    else:
        progress(f"  {wpack} has no --init-func: its pre-initialized rows stay empty")
    # `-S cli=y`: without it wasmtime's wizer links no WASI, and a module that
    # imports WASI cannot be instantiated at all.
    wizer = [wasmtime, "wizer", "-S", "cli=y"]
    run(*wizer, WORK / "preinit.wasm", "-o", WORK / "preinit-wizer.wasm")
    for name in ["preinit", "preinit-wizer"]:
        run(wasmtime, "compile", WORK / f"{name}.wasm", "-o", WORK / f"{name}.cwasm")
    settle(["preinit-packed"] + (["preinit-init"] if supported else []))

    a = PREINIT_ARGS
    # runner -> (command, the runner it is the pre-initialized form of)
    runners = {
        "wpack": (f"./preinit-packed {a}", None),
        "wpack --init-func": (f"./preinit-init {a}", "wpack"),
        "wasmtime run (.cwasm)": (f"{wasmtime} run --allow-precompiled preinit.cwasm {a}", None),
        "wasmtime wizer + run (.cwasm)":
            (f"{wasmtime} run --allow-precompiled preinit-wizer.cwasm {a}", "wasmtime run (.cwasm)"),
        "wasmtime run (.wasm, compile cache)": (f"{wasmtime} run preinit.wasm {a}", None),
        "wasmtime wizer + run (.wasm, compile cache)":
            (f"{wasmtime} run preinit-wizer.wasm {a}", "wasmtime run (.wasm, compile cache)"),
    }
    if not supported:
        del runners["wpack --init-func"]
    cmds = {who: cmd for who, (cmd, _) in runners.items()}

    # Every runner prints the same thing (but for --seed's lines).
    seen = {who: subprocess.run(shlex.split(cmd), cwd=WORK, capture_output=True, text=True).stdout
            for who, cmd in cmds.items()}
    if len(set(seen.values())) != 1 or not seen["wpack"]:
        sys.exit(f"preinit: runners disagree: {seen}")
    # The pitfall: the seed drawn at init, in two runs of each.
    def init_seed(cmd):
        text = subprocess.run(shlex.split(cmd) + ["--seed"], cwd=WORK, capture_output=True, text=True).stdout
        return re.search(r"^seed drawn at init: (\w+)$", text, re.M).group(1)
    frozen = {who: init_seed(cmd) == init_seed(cmd) for who, cmd in cmds.items()}

    progress("pre-initialized: start-up")
    startup = hyperfine(cmds, runs=10 if QUICK else 30, warmup=3)
    rss = {who: peak_rss_kib(cmd) for who, cmd in cmds.items()}
    progress("pre-initialized: pack time")
    packing = {
        "wpack": f"{wpack} -q --no-cache preinit.wasm -o p-preinit",
        "wpack --init-func": f"{wpack} -q --no-cache preinit.wasm {' '.join(PREINIT_INIT)} -o p-preinit-init",
        "wasmtime wizer": f"{' '.join(map(str, wizer))} preinit.wasm -o p-preinit-wizer.wasm",
        "wasmtime compile (original)": f"{wasmtime} compile preinit.wasm -o p-preinit.cwasm",
        "wasmtime compile (wizer output)": f"{wasmtime} compile preinit-wizer.wasm -o p-preinit-wizer.cwasm",
    }
    if not supported:
        del packing["wpack --init-func"]
    pack = hyperfine(packing, runs=3 if QUICK else 10)

    print(f"Pre-initialized: samples/preinit (its start-up builds a table, a sieve and a totient table), "
          f"argument `{a}`; packed without and with `{' '.join(PREINIT_INIT)}`, and run by `wasmtime run` "
          f"without and with `wasmtime wizer -S cli=y` first"
          + ("" if supported else f"; this wpack has no `--init-func`") + "\n")
    best = "wpack --init-func" if supported else None
    print("| start-up | min | median | pre-initialization: faster by | / wpack --init-func | peak RSS | "
          "seed drawn at init, two runs |")
    print("|---|---|---|---|---|---|---|")
    for who, (_, plain) in runners.items():
        lo, med = startup[who]
        speedup = f"**{startup[plain][1] / med:.1f}x**" if plain else ""
        vs = f"{med / startup[best][1]:.2f}x" if best else "?"
        print(f"| {who} | {fmt_s(lo)} | {fmt_s(med)} | {speedup} | {vs} | {rss[who] / 1024:.1f} MB | "
              f"{'the same (frozen)' if frozen[who] else 'different'} |")
    print()

    def size(name):
        path = WORK / name
        return path.stat().st_size if path.exists() else None

    print("| file | size | pre-initialized / not |\n|---|---|---|")
    files = [("preinit.wasm", "preinit.wasm", None),
             ("`wasmtime wizer` output (.wasm)", "preinit-wizer.wasm", "preinit.wasm"),
             ("preinit.cwasm (`wasmtime compile`)", "preinit.cwasm", None),
             ("`wasmtime wizer` output, compiled (.cwasm)", "preinit-wizer.cwasm", "preinit.cwasm"),
             ("packed", "preinit-packed", None),
             ("packed with `--init-func`", "preinit-init", "preinit-packed")]
    for label, name, plain in files:
        if size(name) is None or (name == "preinit-init" and not supported):
            continue
        ratio = f"{size(name) / size(plain):.2f}x" if plain else ""
        print(f"| {label} | {mb(WORK / name)} | {ratio} |")
    print()

    print("| pack time | min | median | / without pre-initialization |\n|---|---|---|---|")
    plain_of = {"wpack --init-func": "wpack", "wasmtime wizer": None,
                "wasmtime compile (wizer output)": "wasmtime compile (original)"}
    for who, (lo, med) in pack.items():
        plain = plain_of.get(who)
        ratio = f"{med / pack[plain][1]:.2f}x" if plain else ""
        print(f"| {who} | {fmt_s(lo)} | {fmt_s(med)} | {ratio} |")
    wiz = pack["wasmtime wizer"][1] + pack["wasmtime compile (wizer output)"][1]
    print(f"| `wasmtime wizer` + `wasmtime compile` (sum of medians) | | {fmt_s(wiz)} | "
          f"{wiz / pack['wasmtime compile (original)'][1]:.2f}x |")
    print()

def release(wpack):
    """Every target in one call against one call per target, and the compile
    cache's second run. WPACK_BENCH_BIG=PATH.wasm adds a real big module
    (BENCHMARKS.md used npm @yowasp/clang's llvm.core.wasm); the `big`
    section then describes its x86_64-linux output."""
    import shutil as sh
    import tempfile
    targets = [l.split()[0] for l in out(wpack, "--list-targets").splitlines()
               if l and not l.startswith(" ") and "universal" not in l.split()[0]]
    gen = ROOT / "bench/gen_large_wasm.py"
    ten = WORK / "release-100000f.wasm"
    run(sys.executable, gen, ten, "--functions", 100_000, stdout=subprocess.DEVNULL)
    modules = [("hello", ROOT / "samples/hello/hello.wasm"), ("100 000 functions", ten)]
    if os.environ.get("WPACK_BENCH_BIG"):
        big = Path(os.environ["WPACK_BENCH_BIG"])
        modules.append((big.name, big))

    print(f"Targets: {', '.join(targets)}; one run each. Single calls with --no-cache; "
          "`--target all` first with an empty WPACK_CACHE, then again.\n")
    print("| module | wasm | 6 single calls | `--target all` | speed-up | peak RSS: single (max) / all | "
          "again, from the cache | cache speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for label, wasm in modules:
        progress(f"release: {label}")
        with tempfile.TemporaryDirectory(dir=WORK) as tmp:
            tmp = Path(tmp)
            single, single_rss = 0.0, 0
            for t in targets:
                took, rss = timed_run([wpack, "-q", "--no-cache", wasm, "--target", t, "-o", tmp / f"single-{t}"])
                single, single_rss = single + took, max(single_rss, rss)
                if wasm != ten and label != "hello" and t == "x86_64-linux":
                    sh.copy(tmp / f"single-{t}", WORK / "big-x86_64-linux")
                    (WORK / "big-x86_64-linux.time").write_text(f"{took} {rss}")
            env = dict(os.environ, WPACK_CACHE=str(tmp / "cache"))
            first, rss = timed_run([wpack, "-q", wasm, "--target", "all", "-o", tmp / "c1"], env)
            second, _ = timed_run([wpack, "-q", wasm, "--target", "all", "-o", tmp / "c2"], env)
        print(f"| {label} | {mb(wasm)} | {fmt_s(single)} | {fmt_s(first)} | {single / first:.2f}x | "
              f"{single_rss / 1024:.0f} MB / {rss / 1024:.0f} MB | {fmt_s(second)} | {first / second:.1f}x |")
    print()


def timed_run(cmd, env=None):
    """Seconds and peak resident KiB of one run of `cmd`."""
    import time
    started = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + [str(c) for c in cmd],
                       cwd=WORK, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd} failed: {r.stderr}")
    return time.monotonic() - started, int(r.stderr.strip().splitlines()[-1])


def big(wpack, wasmtime):
    """The big module of the `release` section (WPACK_BENCH_BIG) packed for
    x86_64-linux next to `wasmtime compile`, and what fills its payload."""
    wasm = Path(os.environ["WPACK_BENCH_BIG"])
    packed = WORK / "big-x86_64-linux"
    took, rss = map(float, (WORK / "big-x86_64-linux.time").read_text().split())
    progress("big: wasmtime compile")
    w_took, w_rss = timed_run([wasmtime, "compile", wasm, "-o", WORK / "big.cwasm"])
    progress("big: --strip-names")
    s_took, _ = timed_run([wpack, "-q", "--no-cache", "--strip-names", wasm, "--target", "x86_64-linux",
                           "-o", WORK / "big-nonames"])
    print(f"{wasm.name}: {mb(wasm)} of wasm.\n")
    print("| | time | peak RSS | output |")
    print("|---|---|---|---|")
    print(f"| wpack (x86_64-linux) | {fmt_s(took)} | {rss / 1024:.0f} MB | {mb(packed)} |")
    print(f"| wpack --strip-names | {fmt_s(s_took)} | | {mb(WORK / 'big-nonames')} |")
    print(f"| wasmtime compile | {fmt_s(w_took)} | {w_rss / 1024:.0f} MB | {mb(WORK / 'big.cwasm')} |")
    print()
    # The same module as several commands of one file (--command): stored
    # and compiled once, so it should cost what one pack does.
    names = os.environ.get("WPACK_BENCH_BIG_COMMANDS", "clang,wasm-ld,llvm-ar").split(",")
    progress(f"big: as {len(names)} commands")
    args = [a for n in names for a in ("--command", f"{n}={wasm}")]
    suite = WORK / "big-suite"
    c_took, c_rss = timed_run([wpack, "-q", "--no-cache", *args, "--target", "x86_64-linux", "-o", suite])
    grown = suite.stat().st_size / packed.stat().st_size - 1
    print(f"As {len(names)} commands in one file ({', '.join(names)}):\n")
    print("| | time | peak RSS | output |")
    print("|---|---|---|---|")
    print(f"| one program | {fmt_s(took)} | {rss / 1024:.0f} MB | {packed.stat().st_size:,} bytes |")
    print(f"| {len(names)} commands | {fmt_s(c_took)} ({c_took / took:.2f}x) | {c_rss / 1024:.0f} MB "
          f"| {suite.stat().st_size:,} bytes (+{100 * grown:.3f}%) |")
    print()
    sizes = payload_sections(packed)
    total = sum(sizes.values())
    print("| payload section | size | share |")
    print("|---|---|---|")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"| `{name}` | {size / 1e6:.2f} MB | {100 * size / total:.1f}% |")
    print()


if __name__ == "__main__":
    main()
