;; Multi-value: a function returning two values.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $pair (result i32 i32) (i32.const 40) (i32.const 2))
  (func (export "_start") (call $pair) (i32.add) (call $exit))
  (memory (export "memory") 1))
