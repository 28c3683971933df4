;; memory64: 64-bit addresses.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") i64 1)
  (func (export "_start")
    (i32.store (i64.const 65000) (i32.const 42))
    (i32.load (i64.const 65000))
    call $exit))
