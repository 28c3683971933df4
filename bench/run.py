#!/usr/bin/env python3
"""wpack's benchmark: native vs packed vs `wasmtime run`, side by side.

Usage: bench/run.py [--quick] [--no-large]

Builds each workload in bench/workloads (plus samples/hello and samples/fib)
natively and for wasm32-wasip1 from the same source, packs the .wasm with
wpack, precompiles it with `wasmtime compile` (the pinned reference CLI from
scripts/reference-wasmtime.sh), checks that every runner prints the same
checksum, then times everything with hyperfine in the same run and prints
Markdown tables: sizes, start-up, run time and ratio to native per workload,
geomean of the compute ratios, peak RSS, pack time, and how costs grow with
module size (bench/gen_large_wasm.py). Paste the output into BENCHMARKS.md.
"""
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = "--quick" in sys.argv
LARGE = "--no-large" not in sys.argv
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


def mb(path):
    return f"{Path(path).stat().st_size / 1e6:.2f} MB"


def main():
    for tool in ["hyperfine", "rustc"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (hyperfine: apt-get install hyperfine)")
    run("cargo", "build", "--release", "--locked", cwd=ROOT, stdout=subprocess.DEVNULL)
    run("rustup", "target", "add", "wasm32-wasip1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wpack = ROOT / "target/release/wpack"
    wasmtime = Path(out(ROOT / "scripts/reference-wasmtime.sh").strip())
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "data").mkdir(exist_ok=True)
    data = WORK / "data/input.bin"
    if not data.exists() or data.stat().st_size != FILEIO_MIB << 20:
        with open(data, "wb") as f:
            block = bytes((i * 131 + 7) % 256 for i in range(1 << 20))
            for _ in range(FILEIO_MIB):
                f.write(block)

    flags = ["-C", "opt-level=3", "-C", "codegen-units=1", "-C", "panic=abort"]
    programs = dict(WORKLOADS, hello=(ROOT / "samples/hello/hello.rs", [], False))
    for name, (src, _, _) in programs.items():
        run("rustc", "--edition", "2024", *flags, "-C", "strip=symbols", "-o", WORK / f"{name}-native", src)
        run("rustc", "--edition", "2024", "--target", "wasm32-wasip1", *flags,
            "-C", "strip=debuginfo", "-o", WORK / f"{name}.wasm", src)
        extra = ["--dir", "data"] if name == "fileio" else []
        run(wpack, "-q", WORK / f"{name}.wasm", "-o", WORK / f"{name}-packed", *extra)
        run(wasmtime, "compile", WORK / f"{name}.wasm", "-o", WORK / f"{name}.cwasm")

    def commands(name, args):
        a = " ".join(args)
        dirs = "--dir data " if name == "fileio" else ""
        return {
            "native": f"./{name}-native {a}",
            "wpack": f"./{name}-packed {a}",
            "wasmtime": f"{wasmtime} run --allow-precompiled {dirs}{name}.cwasm {a}",
        }

    # Every runner must print the same thing.
    for name, (_, args, _) in programs.items():
        seen = {who: subprocess.run(cmd.split(), cwd=WORK, capture_output=True, text=True).stdout
                for who, cmd in commands(name, args).items()}
        if len(set(seen.values())) != 1:
            sys.exit(f"{name}: runners disagree: {seen}")

    # Packed files are verified once, then remembered (see stub/src/verified.rs);
    # measure the steady state, as users see it from the second run on.
    import time
    time.sleep(2.5)
    for name, (_, args, _) in programs.items():
        subprocess.run(commands(name, args)["wpack"].split(), cwd=WORK, capture_output=True)

    runs = 3 if QUICK else 10
    startup = hyperfine(commands("hello", []), runs=20 if QUICK else 200, warmup=10)
    times, rss = {}, {}
    for name, (_, args, _) in WORKLOADS.items():
        times[name] = hyperfine(commands(name, args), runs=runs)
        rss[name] = {who: peak_rss_kib(cmd) for who, cmd in commands(name, args).items()}
    rss["hello"] = {who: peak_rss_kib(cmd) for who, cmd in commands("hello", []).items()}
    pack = hyperfine({
        "wpack sha256": f"{wpack} -q sha256.wasm -o p-sha256",
        "wasmtime compile sha256": f"{wasmtime} compile sha256.wasm -o c-sha256.cwasm",
    }, runs=runs)

    commit = out("git", "rev-parse", "--short", "HEAD", cwd=ROOT).strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"Machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; "
          f"date {date.today()}; commit {commit}; {out(wasmtime, '--version').strip()}; "
          f"{'quick run' if QUICK else 'full run'}\n")

    print("| file | size |\n|---|---|")
    default = next(line.split()[0] for line in out(wpack, "--list-targets").splitlines()
                   if line.endswith("(default)"))
    for name, triple in [("x86_64-linux", "x86_64-unknown-linux-musl"),
                         ("x86_64-linux-gnu", "x86_64-unknown-linux-gnu")]:
        stub = ROOT / f"target/wpack-stub/{triple}/stub/wpack-stub"
        if stub.exists():
            mark = ", the default: packed below" if name == default else ""
            print(f"| stub ({name}{mark}) | {mb(stub)} |")
    print(f"| packed hello | {mb(WORK / 'hello-packed')} |")
    print(f"| native hello | {mb(WORK / 'hello-native')} |")
    print(f"| hello.wasm / hello.cwasm | {mb(WORK / 'hello.wasm')} / {mb(WORK / 'hello.cwasm')} |\n")

    print("| start-up (hello) | min | median | / native |\n|---|---|---|---|")
    for who, (lo, med) in startup.items():
        print(f"| {who} | {fmt_s(lo)} | {fmt_s(med)} | {med / startup['native'][1]:.2f}x |")
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

    embedded(wpack)
    components(wpack, wasmtime)
    if LARGE:
        large(wpack, wasmtime)
    composition(wpack)


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
    stubs = ROOT / f"target/wpack-stub/{triple}/stub"
    print("Components (WASI 0.2, wasm32-wasip2) against the same programs as modules\n")
    print("| file | module | component |\n|---|---|---|")
    print(f"| stub (x86_64-linux) | {mb(stubs / 'wpack-stub')} | {mb(stubs / 'wpack-stub-component')} |")
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
        p = hyperfine({"wpack": f"{wpack} -q {wasm} -o {name}-packed",
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


if __name__ == "__main__":
    main()
