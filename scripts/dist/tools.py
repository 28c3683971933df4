#!/usr/bin/env python3
"""The file-making half of scripts/dist.sh: release archives, npm packages,
checksums, and the offline check of a Mach-O executable's architecture and
ad hoc signature. Standard library only.

Every archive is reproducible: entries sorted, owner 0, the time of the
commit (SOURCE_DATE_EPOCH), fixed modes, gzip without a name or time.

    tools.py archive OUT NAME FILE...        .tar.gz or .zip by OUT's name
    tools.py npm OUTDIR VERSION HOSTS BINS   npm packages (esbuild's layout)
    tools.py sums DIR                        DIR/SHA256SUMS of DIR's files
    tools.py macho FILE ARCH                 ARCH: arm64 (must be signed) or x86_64
    tools.py binstall OUT VERSION TRIPLES    packer/Cargo.toml's URLs name OUT's archives
"""

import gzip
import hashlib
import io
import json
import os
import re
import struct
import sys
import tarfile
import time
import zipfile

EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

# npm's names for the host platforms dist.sh builds: (os, cpu, executable).
NPM_PLATFORMS = {
    "x86_64-linux": ("linux", "x64", "wpack"),
    "aarch64-linux": ("linux", "arm64", "wpack"),
    "x86_64-windows": ("win32", "x64", "wpack.exe"),
    "aarch64-macos": ("darwin", "arm64", "wpack"),
    "x86_64-macos": ("darwin", "x64", "wpack"),
}


def mode_of(path):
    return 0o755 if os.access(path, os.X_OK) else 0o644


def write_tgz(out, entries):
    """entries: [(name in archive, bytes, mode)], written sorted."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs = sorted({n.rsplit("/", 1)[0] for n, _, _ in entries if "/" in n})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for name, data, mode in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(raw.getvalue())


def write_zip(out, entries):
    # The zip format's times are local, from 1980: the commit's time in UTC.
    stamp = max(EPOCH, 315532800)
    date_time = tuple(time.gmtime(stamp)[:6])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data, mode in sorted(entries):
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # Unix, so the mode above is kept
            z.writestr(info, data)


def archive(out, top, files):
    entries = []
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        entries.append((f"{top}/{os.path.basename(path)}", data, mode_of(path)))
    (write_zip if out.endswith(".zip") else write_tgz)(out, entries)


LAUNCHER = """#!/usr/bin/env node
// Runs the wpack executable of this platform's package (installed by npm as
// an optional dependency: only the one whose os and cpu match is fetched),
// under the name ${NAME}: started as cargo-wpack, wpack is `cargo wpack`.
"use strict";
const { spawnSync } = require("child_process");
const platform = `${process.platform}-${process.arch}`;
const exe = process.platform === "win32" ? "wpack.exe" : "wpack";
let bin;
try {
  bin = require.resolve(`@wpack/${platform}/bin/${exe}`);
} catch {
  console.error(
    `wpack: no prebuilt wpack for ${platform} (the package @wpack/${platform} is not installed). ` +
      `Prebuilt: ${PLATFORMS}. Reinstall without --omit=optional, or build wpack from source.`
  );
  process.exit(1);
}
const run = spawnSync(bin, process.argv.slice(2), { stdio: "inherit", argv0: "${NAME}" });
if (run.error) {
  console.error(`wpack: cannot run ${bin}: ${run.error.message}`);
  process.exit(1);
}
if (run.signal) process.kill(process.pid, run.signal);
process.exit(run.status);
"""


# The commands of the npm package `wpack`: each a launcher of the same
# executable.
LAUNCHED = ["wpack", "cargo-wpack"]


def npm(outdir, version, hosts, bindir):
    """The `wpack` package and one `@wpack/OS-CPU` package per host, as npm
    tarballs (a gzip'd tar of `package/`): esbuild's pattern, no install
    script. `bindir/HOST/` holds each host's executable."""
    common = {
        "version": version,
        "license": "Apache-2.0",
        "repository": {"type": "git", "url": "git+https://github.com/wpack/wpack.git"},
    }
    platforms = []
    with open("README.md", "rb") as f:
        readme = f.read()
    with open("LICENSE", "rb") as f:
        license_text = f.read()
    for host in hosts:
        os_name, cpu, exe = NPM_PLATFORMS[host]
        name = f"@wpack/{os_name}-{cpu}"
        platforms.append(name)
        manifest = {
            "name": name,
            **common,
            "description": f"The wpack executable for {os_name} {cpu}",
            "os": [os_name],
            "cpu": [cpu],
            "preferUnplugged": True,
        }
        with open(os.path.join(bindir, host, exe), "rb") as f:
            binary = f.read()
        write_tgz(
            os.path.join(outdir, f"wpack-{os_name}-{cpu}-{version}.tgz"),
            [
                ("package/package.json", json_bytes(manifest), 0o644),
                ("package/LICENSE", license_text, 0o644),
                (f"package/bin/{exe}", binary, 0o755),
            ],
        )
    main = {
        "name": "wpack",
        **common,
        "description": "Turn a WebAssembly (WASI) program into one ordinary native executable",
        # cargo-wpack: `cargo wpack` on Unix (npm's Windows shims are .cmd
        # files, and cargo looks for cargo-wpack.exe).
        "bin": {name: f"bin/{name}" for name in LAUNCHED},
        "optionalDependencies": {name: version for name in platforms},
        "engines": {"node": ">=18"},
    }
    names = ", ".join(n.split("/")[1] for n in platforms)
    launchers = [
        (
            f"package/bin/{name}",
            LAUNCHER.replace("${PLATFORMS}", names).replace("${NAME}", name).encode(),
            0o755,
        )
        for name in LAUNCHED
    ]
    write_tgz(
        os.path.join(outdir, f"wpack-{version}.tgz"),
        [
            ("package/package.json", json_bytes(main), 0o644),
            ("package/README.md", readme, 0o644),
            ("package/LICENSE", license_text, 0o644),
            *launchers,
        ],
    )


def json_bytes(value):
    return (json.dumps(value, indent=2) + "\n").encode()


def sums(directory):
    lines = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name == "SHA256SUMS" or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {name}\n")
    with open(os.path.join(directory, "SHA256SUMS"), "w") as f:
        f.writelines(lines)


# Mach-O: enough to check architecture, file type, the libraries it loads
# and an ad hoc code signature's page hashes (what macOS verifies at exec).
CPU = {"arm64": 0x0100000C, "x86_64": 0x01000007}
LC_LOAD_DYLIB, LC_CODE_SIGNATURE = 0xC, 0x1D


def macho(path, arch):
    with open(path, "rb") as f:
        data = f.read()
    magic, cputype, _, filetype, ncmds, _, _, _ = struct.unpack_from("<IiiIIIII", data, 0)

    def fail(why):
        sys.exit(f"{path}: {why}")

    if magic != 0xFEEDFACF:
        fail("not a 64-bit Mach-O file")
    if cputype != CPU[arch]:
        fail(f"CPU type {cputype:#x}, expected {arch} ({CPU[arch]:#x})")
    if filetype != 2:
        fail(f"file type {filetype}, expected an executable (MH_EXECUTE)")
    at, dylibs, signature = 32, [], None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, at)
        if cmd in (LC_LOAD_DYLIB, 0x80000018):  # LC_LOAD_WEAK_DYLIB too
            (name_at,) = struct.unpack_from("<I", data, at + 8)
            dylibs.append(data[at + name_at : at + size].split(b"\0")[0].decode())
        if cmd == LC_CODE_SIGNATURE:
            signature = struct.unpack_from("<II", data, at + 8)
        at += size
    foreign = [d for d in dylibs if not d.startswith(("/usr/lib/", "/System/"))]
    if foreign:
        fail(f"loads libraries that are not macOS's own: {foreign}")
    signed = "unsigned"
    if signature:
        signed = check_signature(path, data, *signature)
    elif arch == "arm64":
        fail("no code signature: macOS on arm64 runs only signed code")
    print(f"{path}: Mach-O {arch} executable, {signed}, links {', '.join(dylibs)}")


def check_signature(path, data, offset, size):
    blob = data[offset : offset + size]
    magic, _, count = struct.unpack_from(">III", blob, 0)
    if magic != 0xFADE0CC0:
        sys.exit(f"{path}: the code signature is not a SuperBlob")
    for i in range(count):
        kind, at = struct.unpack_from(">II", blob, 12 + 8 * i)
        if kind != 0:  # CSSLOT_CODEDIRECTORY
            continue
        cd = blob[at:]
        (magic, _, _, flags, hash_at, _, _, slots, limit, hash_size, hash_type, _, page) = (
            struct.unpack_from(">IIIIIIIIIBBBB", cd, 0)
        )
        if magic != 0xFADE0C02 or hash_type != 2 or hash_size != 32:
            sys.exit(f"{path}: not a SHA-256 CodeDirectory")
        page = 1 << page
        for slot in range(slots):
            chunk = data[slot * page : min((slot + 1) * page, limit)]
            want = cd[hash_at + 32 * slot : hash_at + 32 * (slot + 1)]
            if hashlib.sha256(chunk).digest() != want:
                sys.exit(f"{path}: page {slot} does not match its signed hash")
        if limit != offset:
            sys.exit(f"{path}: the signature covers {limit} bytes, not the {offset} before it")
        kind = "ad hoc signed" if flags & 0x2 else "signed"
        return f"{kind} ({slots} pages verified)"
    sys.exit(f"{path}: the signature has no CodeDirectory")


def binstall(out, version, triples):
    """Expands `[package.metadata.binstall]` for every triple built (and the
    hosts its overrides send to them) and checks that the archive exists
    and holds each of the crate's binaries (wpack, cargo-wpack) at
    `bin-dir`: cargo binstall installs them all."""
    import tomllib

    with open("packer/Cargo.toml", "rb") as f:
        manifest = tomllib.load(f)
    meta = manifest["package"]["metadata"]["binstall"]
    bins = [b["name"] for b in manifest["bin"]]
    overrides = meta.get("overrides", {})
    checked = 0
    for host in sorted(set(triples) | set(overrides)):
        spec = {**meta, **overrides.get(host, {})}
        spec.pop("overrides", None)

        def expand(template, bin_name):
            values = {
                "repo": "REPO",
                "version": version,
                "target": host,
                "bin": bin_name,
                "binary-ext": ".exe" if "windows" in host else "",
            }
            return re.sub(r"\{ *([a-z-]+) *\}", lambda m: values[m.group(1)], template)

        name = expand(spec["pkg-url"], bins[0]).rsplit("/", 1)[1]
        if not any(name == f"wpack-{version}-{t}{ext}" for t in triples for ext in (".tar.gz", ".zip")):
            continue  # an archive of a host not built this time
        path = os.path.join(out, name)
        if spec.get("pkg-fmt") == "zip":
            names = zipfile.ZipFile(path).namelist()
        else:
            names = tarfile.open(path).getnames()
        inner = [expand(spec["bin-dir"], b) for b in bins]
        missing = [i for i in inner if i not in names]
        if missing:
            sys.exit(f"binstall for {host}: {name} has no {', '.join(missing)}")
        print(f"binstall {host}: {name} -> {', '.join(inner)}")
        checked += 1
    if checked < len(triples):
        sys.exit(f"binstall: only {checked} of {len(triples)} archives are reachable")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "archive":
        archive(args[0], args[1], args[2:])
    elif command == "npm":
        npm(args[0], args[1], args[2].split(","), args[3])
    elif command == "sums":
        sums(args[0])
    elif command == "binstall":
        binstall(args[0], args[1], args[2].split(","))
    elif command == "macho":
        macho(args[0], args[1])
    else:
        sys.exit(f"tools.py: unknown command {command}")


if __name__ == "__main__":
    main()
