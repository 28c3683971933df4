;; custom-page-sizes: not enabled by default in wasmtime, so wpack must refuse
;; it at pack time with a message naming the feature.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 (pagesize 1))
  (func (export "_start") (call $exit (i32.const 42))))
