//! The wasmtime settings that a precompiled module records and that wasmtime
//! checks again when the stub loads it (target, wasm features, tunables).
//!
//! Both the packer (with Cranelift) and the stub (without) call [`configure`],
//! so a setting changed here changes on both sides at once. Settings that only
//! steer code generation (optimisation level, parallelism) live in the packer.

use wasmtime::{Config, WasmFeatures};

/// The WebAssembly proposals a packed program may use.
///
/// Spelled out rather than left to wasmtime's defaults, because those depend
/// on the cargo features each side is built with (`gc`, `threads`,
/// `component-model`), and the stub must accept exactly what the packer
/// compiled for. GC types, exceptions and threads need wasmtime cargo features
/// the stub does not carry yet, so they are off.
pub const WASM_FEATURES: WasmFeatures = WasmFeatures::WASM2
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::EXTENDED_CONST)
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::RELAXED_SIMD)
    .union(WasmFeatures::MEMORY64)
    .difference(WasmFeatures::GC_TYPES);

/// Applies the settings shared by the packer and the stub.
pub fn configure(config: &mut Config) -> &mut Config {
    config
        .wasm_features(WasmFeatures::all(), false)
        .wasm_features(WASM_FEATURES, true)
        .relaxed_simd_deterministic(false)
}
