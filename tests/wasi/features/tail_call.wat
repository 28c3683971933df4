;; Tail calls: a million self-calls in tail position must not grow the stack.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $count (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $count (i32.sub (local.get $n) (i32.const 1))
                                 (i32.add (local.get $acc) (i32.const 1))))))
  (func (export "_start")
    (i32.sub (call $count (i32.const 1000042) (i32.const 0)) (i32.const 1000000))
    call $exit)
  (memory (export "memory") 1))
