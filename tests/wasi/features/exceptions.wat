;; Exception handling (exnref proposal): throw a tag carrying 42 and catch it.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (tag $e (param i32))
  (func $thrower (throw $e (i32.const 42)))
  (func (export "_start")
    (block $handler (result i32)
      (try_table (catch $e $handler) (call $thrower))
      (i32.const 0))
    call $exit)
  (memory (export "memory") 1))
