;; SIMD: 40 + 2 in each lane of an i32x4.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_start")
    (i32x4.extract_lane 3 (i32x4.add (i32x4.splat (i32.const 40)) (i32x4.splat (i32.const 2))))
    call $exit)
  (memory (export "memory") 1))
