//! A synchronous WASI preview 1 host for wasmtime.
//!
//! Laid out as wasi-common and wazero lay theirs out:
//! [`WasiCtx`] is the program's state (arguments, environment, the clocks'
//! origin, the descriptor table); [`fs`] is the one file-system layer, a
//! [`fs::Dir`] and a [`fs::File`] trait that host directories
//! ([`HostDir`], confined by `cap-primitives`) and any other tree implement
//! alike; [`add_to_linker`] puts the 46 functions of
//! `wasi_snapshot_preview1` on top, with checked access to the program's
//! memory ([`memory`]).
//!
//! Everything runs on the calling thread: no async runtime, no worker
//! thread, no component model. Behaviour follows wasmtime-wasi 48's
//! preview 1, which wpack's differential tests compare it with; listing a
//! directory is linear in its size (see [`ctx::Listing`]).
//!
//! This crate knows nothing of wpack's file format.

mod abi;
pub mod ctx;
pub mod error;
pub mod fs;
mod host_dir;
pub mod memory;
mod poll;
mod stdio;

pub use abi::add_to_linker;
pub use ctx::{I32Exit, WasiCtx};
pub use error::{Errno, Error};
pub use host_dir::{HostDir, HostFile};
