//! The stub must stay a runtime only: no compiler inside, and small.
//!
//! Cargo unifies features across a workspace build, so a stub built together
//! with the packer would silently link Cranelift. The check looks at the stub
//! that actually ships (the front of a packed file) for source paths that
//! only Cranelift's code embeds (panic locations), and proves the marker works
//! by finding it in `wpack` itself.

mod common;

use common::*;
use wpack_stub::payload;

/// Byte strings present in any binary that links Cranelift's code generator.
const COMPILER_MARKERS: [&[u8]; 2] = [b"cranelift-codegen-", b"regalloc2-"];

/// The budget for a packed hello world: 1.4 MiB, issue #17's (it was 2.69
/// MiB with wasmtime-wasi's preview 1 on tokio). The module stub is
/// wasmtime's runtime, wpack's own WASI host (`wasi/`) and the loader,
/// built for size (BENCHMARKS.md).
const PACKED_HELLO_BUDGET: u64 = 1_468_006;

/// The budget for a packed WASI 0.2 hello world (samples/hello/hello-p2.wasm):
/// the component stub carries the component model and WASI 0.2 host on top
/// of what the module stub has (BENCHMARKS.md, "Components").
const PACKED_COMPONENT_HELLO_BUDGET: u64 = 3_900_000;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn stub_contains_no_compiler_and_fits_the_budget() {
    let wpack = std::fs::read(wpack_bin()).unwrap();
    for marker in COMPILER_MARKERS {
        assert!(
            contains(&wpack, marker),
            "marker {} not found in wpack: the check is blind",
            String::from_utf8_lossy(marker)
        );
    }
    let dir = tempdir();
    for (what, input, budget) in [
        ("hello", sample("hello"), PACKED_HELLO_BUDGET),
        (
            "component hello",
            root().join("samples/hello/hello-p2.wasm"),
            PACKED_COMPONENT_HELLO_BUDGET,
        ),
    ] {
        let out = dir.path().join(what);
        pack(&input, &out, &[]);
        let file = std::fs::read(&out).unwrap();
        let packed = payload::read(&file).expect("a packed file has a payload");
        for marker in COMPILER_MARKERS {
            assert!(
                !contains(packed.stub_region, marker),
                "the stub of packed {what} links the compiler ({})",
                String::from_utf8_lossy(marker)
            );
        }
        let size = file.len() as u64;
        assert!(
            size <= budget,
            "packed {what} is {size} bytes, budget {budget}"
        );
    }
}

/// Every target's stubs (module and component), not only the default's:
/// each target is its own cargo build.
#[test]
fn no_target_stub_contains_a_compiler() {
    let dir = tempdir();
    let carried = targets_carried();
    assert!(carried.len() > 1, "{carried:?}");
    for target in carried {
        for (kind, input) in [
            ("module", sample("hello")),
            ("component", root().join("samples/hello/hello-p2.wasm")),
        ] {
            let out = dir.path().join(format!("{target}-{kind}"));
            pack(&input, &out, &["--target", &target]);
            let file = std::fs::read(&out).unwrap();
            let packed = payload::read(&file).unwrap();
            for marker in COMPILER_MARKERS {
                assert!(
                    !contains(packed.stub_region, marker),
                    "the {target} {kind} stub links the compiler ({})",
                    String::from_utf8_lossy(marker)
                );
            }
            eprintln!("{target}: packed {kind} hello {} bytes", file.len());
        }
    }
}

/// Tables the stub never reads stay out of Linux payloads: address maps,
/// native unwind tables (registering them was quadratic in the number of
/// functions with the static stub's unwinder) and symbol tables.
#[test]
fn linux_payloads_carry_no_unused_tables() {
    let dir = tempdir();
    let hello = pack_sample("hello", dir.path(), &["--target", "x86_64-linux"]);
    let file = std::fs::read(&hello).unwrap();
    let packed = payload::read(&file).unwrap();
    let elf = goblin::elf::Elf::parse(packed.payload).unwrap();
    let names: Vec<&str> = elf
        .section_headers
        .iter()
        .filter_map(|s| elf.shdr_strtab.get_at(s.sh_name))
        .collect();
    assert!(names.contains(&".text"), "{names:?}");
    for unused in [".wasmtime.addrmap", ".eh_frame"] {
        assert!(!names.contains(&unused), "{unused} in {names:?}");
    }
    // The object writer always emits a symbol table; without debug symbols
    // it holds no per-function entries (hello had 26 KiB of them).
    for header in &elf.section_headers {
        let name = elf.shdr_strtab.get_at(header.sh_name).unwrap_or("");
        if name == ".symtab" || name == ".strtab" {
            assert!(header.sh_size < 1024, "{name} is {} bytes", header.sh_size);
        }
    }
}
