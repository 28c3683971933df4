;; Reference types: funcref in a table, table.get, call_ref through call_indirect.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (type $t (func (result i32)))
  (table $tab 2 funcref)
  (func $forty_two (type $t) (i32.const 42))
  (elem declare func $forty_two)
  (func (export "_start")
    (table.set $tab (i32.const 1) (ref.func $forty_two))
    (call_indirect $tab (type $t) (i32.const 1))
    call $exit)
  (memory (export "memory") 1))
