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
/// SIMD, extended const, function references, on top of 2.0), and the
/// component model for WASI 0.2 programs (without its async and other
/// still-gated parts, also as `wasmtime run` has them by default).
///
/// Spelled out rather than left to wasmtime's defaults, because those depend
/// on the cargo features each side is built with, and the stub must accept
/// exactly what the packer compiled for. The cargo features they need are
/// listed once, in the workspace manifest.
pub const WASM_FEATURES: WasmFeatures = WasmFeatures::WASM3.union(WasmFeatures::COMPONENT_MODEL);

/// Applies the settings shared by the packer and the stub.
pub fn configure(config: &mut Config) -> &mut Config {
    config
        .wasm_features(WasmFeatures::all(), false)
        .wasm_features(WASM_FEATURES, true)
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
