//! The wasmtime settings that a precompiled module records and that wasmtime
//! checks again when the stub loads it (target, wasm features, tunables).
//!
//! Both the packer (with Cranelift) and the stub (without) call [`configure`],
//! so a setting changed here changes on both sides at once. Settings that only
//! steer code generation (optimisation level, parallelism) live in the packer.

use wasmtime::{Config, WasmFeatures};

/// The WebAssembly proposals a packed program may use: the same set the
/// `wasmtime` CLI enables by default (WebAssembly 3.0: GC, exception
/// handling, threads/atomics, tail calls, memory64, multi-memory, relaxed
/// SIMD, extended const, function references, on top of 2.0).
///
/// Spelled out rather than left to wasmtime's defaults, because those depend
/// on the cargo features each side is built with, and the stub must accept
/// exactly what the packer compiled for. The cargo features they need are
/// listed once, in the workspace manifest.
pub const WASM_FEATURES: WasmFeatures = WasmFeatures::WASM3;

/// What components add: the component model (without its async and other
/// still-gated parts, as `wasmtime run` has it by default). Only the
/// component stub's wasmtime is built with it; the module stub's is not, and
/// modules are compiled without it so that it loads them.
pub const COMPONENT_FEATURES: WasmFeatures = WASM_FEATURES.union(WasmFeatures::COMPONENT_MODEL);

/// Which of the two stubs runs the program: the packer compiles for it and
/// that stub loads with the same settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Module,
    Component,
}

/// Applies the settings shared by the packer and the stub of `kind`.
pub fn configure(config: &mut Config, kind: Kind) -> &mut Config {
    let features = match kind {
        Kind::Module => WASM_FEATURES,
        Kind::Component => COMPONENT_FEATURES,
    };
    config
        .wasm_features(WasmFeatures::all(), false)
        .wasm_features(features, true)
        .relaxed_simd_deterministic(false)
        // The ELF symbol table wasmtime writes into compiled code serves
        // debuggers and profilers only; it was 17% of a large payload.
        // Checked at load time, hence shared.
        .debug_symbols(false)
        // Modules built for threads (C/C++ with atomics) declare a shared
        // memory even when they run one thread; without this they would
        // fail to instantiate. There is no way to start a second thread
        // (wasi-threads is not provided), so the known deficiencies of
        // shared memories in wasmtime's API do not apply.
        .shared_memory(true)
}
