#!/usr/bin/env python3
"""Writes a large WASI command module, for measuring how wpack's costs grow
with module size (pack time, file size, start-up, resident memory).

Usage: gen_large_wasm.py OUT.wasm [--functions N] [--data-mib M] [--invalid-last]

The module has N small distinct functions (default 100 000, about 10 MB of
code), an optional zero-free data segment of M MiB, and a `_start` that calls
a few functions and prints one line with `fd_write`, so a run touches little
of the module: start-up cost should not grow with N or M. With
--invalid-last, the last generated function (index N) is ill-typed, so the
module must be refused: how fast that happens is what it measures.
"""
import argparse
import struct


def uleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def name(s):
    return uleb(len(s)) + s.encode()


def vec(items):
    return uleb(len(items)) + b"".join(items)


def section(sid, body):
    return bytes([sid]) + uleb(len(body)) + body


I32 = 0x7F


def func_body(i):
    """(i32) -> i32: a chain of arithmetic distinct per function."""
    code = bytearray([0x20, 0x00])  # local.get 0
    for k in range(8):
        code += b"\x41" + sleb((i * 31 + k * 7) % 1000 + 1) + b"\x6c"  # i32.const; i32.mul
        code += b"\x41" + sleb((i + k) % 977) + b"\x6a"  # i32.const; i32.add
        code += b"\x41" + sleb(k + 1) + b"\x77"  # i32.const; i32.rotl
    code += b"\x0b"  # end
    body = b"\x00" + bytes(code)  # no locals
    return uleb(len(body)) + body


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--functions", type=int, default=100_000)
    p.add_argument("--data-mib", type=int, default=0)
    p.add_argument("--invalid-last", action="store_true")
    a = p.parse_args()
    n = a.functions

    types = vec([
        b"\x60" + vec([bytes([I32])]) + vec([bytes([I32])]),   # 0: (i32) -> i32
        b"\x60" + vec([]) + vec([]),                            # 1: () -> ()
        b"\x60" + vec([bytes([I32])] * 4) + vec([bytes([I32])]),  # 2: fd_write
    ])
    imports = vec([name("wasi_snapshot_preview1") + name("fd_write") + b"\x00" + uleb(2)])
    # Function 0 is the import; 1..=n are the generated ones; n+1 is _start.
    funcs = vec([uleb(0)] * n + [uleb(1)])
    data_pages = (a.data_mib * (1 << 20)) // 65536
    memory = vec([b"\x00" + uleb(1 + data_pages + 1)])
    start = n + 1
    exports = vec([name("_start") + b"\x00" + uleb(start), name("memory") + b"\x02" + uleb(0)])

    # _start: write "large module: <sum>\n"-ish fixed text via fd_write, after
    # calling a few generated functions (dropping results).
    text = b"large module ok\n"
    start_code = bytearray()
    for f in (1, n // 2 + 1, n):
        start_code += b"\x41" + sleb(f) + b"\x10" + uleb(f) + b"\x1a"  # call f; drop
    # iovec at 0: ptr=16, len=len(text); nwritten at 8
    start_code += b"\x41\x00" + b"\x41\x10" + b"\x36\x02\x00"            # i32.store [0]=16
    start_code += b"\x41\x04" + b"\x41" + sleb(len(text)) + b"\x36\x02\x00"  # [4]=len
    start_code += b"\x41\x01\x41\x00\x41\x01\x41\x08\x10\x00\x1a"         # fd_write(1,0,1,8); drop
    start_code += b"\x0b"
    start_body = b"\x00" + bytes(start_code)
    bodies = [func_body(i) for i in range(n)]
    if a.invalid_last:
        bad = b"\x00\x41\x01\x42\x01\x6a\x0b"  # i32.const 1; i64.const 1; i32.add
        bodies[-1] = uleb(len(bad)) + bad
    code = vec(bodies + [uleb(len(start_body)) + start_body])

    segments = [b"\x00\x41\x10\x0b" + uleb(len(text)) + text]  # active, offset 16
    if data_pages:
        blob = bytes((i * 131 + 7) % 251 + 1 for i in range(65536)) * data_pages
        segments.append(b"\x00\x41" + sleb(65536) + b"\x0b" + uleb(len(blob)) + blob)
    data = vec(segments)

    module = b"\x00asm" + struct.pack("<I", 1)
    module += section(1, types) + section(2, imports) + section(3, funcs)
    module += section(5, memory) + section(7, exports) + section(10, code) + section(11, data)
    with open(a.out, "wb") as f:
        f.write(module)
    print(f"wrote {a.out}: {len(module)} bytes, {n} functions, {a.data_mib} MiB data")


if __name__ == "__main__":
    main()
