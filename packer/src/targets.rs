// The platforms wpack packs for. This file is also `include!`d by
// `build.rs`, which builds a stub for each of `TARGETS` it can; so it holds
// data only and depends on nothing. `UNIVERSAL` files are made of the stubs
// of other targets and have none of their own: build.rs never reads them.

/// Executable format of a target's stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Elf,
    Pe,
    /// macOS: the payload goes into a segment of its own and the file is
    /// signed ad hoc (`wpack_stub::macho`, `codesign.rs`).
    MachO,
}

/// CPU architecture of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

/// A platform wpack can pack for.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// What users type after `--target`.
    pub name: &'static str,
    /// The Rust target the stub is built for.
    pub triple: &'static str,
    /// Other names users may give it (besides `triple`, always accepted).
    pub aliases: &'static [&'static str],
    /// The triple Cranelift compiles for. wasmtime's code depends only on
    /// the architecture and operating system (it compares no more when
    /// loading), so targets that differ only in their C library share one,
    /// and one compilation serves them all: a program packed for both is
    /// compiled once, and each output is the same file a single-target run
    /// writes.
    pub compiles_as: &'static str,
    pub format: Format,
    pub arch: Arch,
    /// One line for `--list-targets`.
    pub summary: &'static str,
    /// What building this target's stub needs besides `rustup target add`.
    pub needs: &'static str,
}

/// Every target wpack knows.
pub const TARGETS: &[Target] = &[
    Target {
        name: "x86_64-linux",
        triple: "x86_64-unknown-linux-musl",
        aliases: &[],
        compiles_as: "x86_64-unknown-linux-musl",
        format: Format::Elf,
        arch: Arch::X86_64,
        summary: "Linux x86_64, static (musl): runs on any distribution, Alpine included",
        needs: "a C compiler for wasmtime's helpers (gcc)",
    },
    Target {
        name: "x86_64-linux-gnu",
        triple: "x86_64-unknown-linux-gnu",
        aliases: &[],
        compiles_as: "x86_64-unknown-linux-musl",
        format: Format::Elf,
        arch: Arch::X86_64,
        summary: "Linux x86_64, dynamically linked against glibc",
        needs: "gcc",
    },
    Target {
        name: "aarch64-linux",
        triple: "aarch64-unknown-linux-musl",
        aliases: &[],
        compiles_as: "aarch64-unknown-linux-musl",
        format: Format::Elf,
        arch: Arch::Aarch64,
        summary: "Linux aarch64 (arm64), static (musl)",
        needs: "an aarch64 C compiler for wasmtime's helpers (Debian: gcc-aarch64-linux-gnu)",
    },
    Target {
        name: "x86_64-windows",
        triple: "x86_64-pc-windows-gnu",
        aliases: &["x86_64-pc-windows-msvc"],
        compiles_as: "x86_64-pc-windows-gnu",
        format: Format::Pe,
        arch: Arch::X86_64,
        summary: "Windows x86_64 (.exe)",
        needs: "MinGW-w64's linker and import libraries (Debian: gcc-mingw-w64-x86-64)",
    },
    Target {
        name: "aarch64-macos",
        triple: "aarch64-apple-darwin",
        aliases: &[],
        compiles_as: "aarch64-apple-darwin",
        format: Format::MachO,
        arch: Arch::Aarch64,
        summary: "macOS 11+ on Apple silicon (arm64), signed ad hoc",
        needs: ZIG,
    },
    Target {
        name: "x86_64-macos",
        triple: "x86_64-apple-darwin",
        aliases: &[],
        compiles_as: "x86_64-apple-darwin",
        format: Format::MachO,
        arch: Arch::X86_64,
        summary: "macOS 10.12+ on Intel (x86_64), signed ad hoc",
        needs: ZIG,
    },
];

/// An output holding one complete packed program per target: a macOS
/// universal ("fat") file, of which macOS runs the slice for its CPU.
#[derive(Debug, PartialEq, Eq)]
pub struct Universal {
    /// What users type after `--target`.
    pub name: &'static str,
    /// Other names for it: the Rust-style triples other tools use.
    pub aliases: &'static [&'static str],
    /// `Target::name` of each slice, in the file's order.
    pub slices: &'static [&'static str],
    /// One line for `--list-targets`.
    pub summary: &'static str,
}

/// Every universal output wpack knows.
pub const UNIVERSAL: &[Universal] = &[Universal {
    name: "universal-macos",
    aliases: &["universal2-apple-darwin", "universal-apple-darwin"],
    slices: &["aarch64-macos", "x86_64-macos"],
    summary: "macOS on Apple silicon and Intel: one universal file of both, each signed ad hoc",
}];

/// What the macOS stubs are linked with: Zig ships the macOS system
/// libraries' link stubs, so no Apple SDK is needed (see build.rs).
const ZIG: &str =
    "Zig and cargo-zigbuild (scripts/zig.sh installs them from PyPI into target/zig-venv)";
