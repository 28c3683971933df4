//! How a trap is told in one line: the trap, then the wasm functions it
//! happened in, innermost first. The stub reports a program's traps so, and
//! the packer an init function's (`--init-func`).

use wasmtime::WasmBacktrace;

/// Frames of the wasm backtrace shown after a trap, innermost first.
const BACKTRACE_FRAMES: usize = 6;

/// Innermost frames that only say how a program aborts (Rust's panic and
/// abort machinery); skipped so the line starts at the program's own code.
const ABORT_FRAMES: [&str; 5] = ["abort", "std::", "core::", "__rustc::", "__rust_"];

/// " (at f <- g <- _start)", innermost first, or "" without frames.
pub fn describe_backtrace(backtrace: &WasmBacktrace) -> String {
    let names: Vec<String> = backtrace
        .frames()
        .iter()
        .map(|frame| match frame.func_name() {
            Some(name) => format!("{:#}", rustc_demangle::demangle(name)),
            // Packed with --strip-names, or a module built without names.
            None => format!("wasm function {}", frame.func_index()),
        })
        .skip_while(|name| ABORT_FRAMES.iter().any(|p| name.starts_with(p)))
        .collect();
    if names.is_empty() {
        return String::new();
    }
    let mut shown = names[..names.len().min(BACKTRACE_FRAMES)].join(" <- ");
    if names.len() > BACKTRACE_FRAMES {
        shown.push_str(&format!(" <- ... {} more", names.len() - BACKTRACE_FRAMES));
    }
    format!(" (at {shown})")
}
