;; Threads proposal: a shared memory and atomic read-modify-write, one thread.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1 shared)
  (func (export "_start")
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 40)))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 2)))
    (i32.atomic.load (i32.const 0))
    call $exit))
