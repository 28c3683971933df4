;; GC: allocate a struct on the GC heap and read a field back.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (type $point (struct (field $x i32) (field $y i32)))
  (func (export "_start")
    (local $p (ref $point))
    (local.set $p (struct.new $point (i32.const 40) (i32.const 2)))
    (i32.add (struct.get $point $x (local.get $p)) (struct.get $point $y (local.get $p)))
    call $exit)
  (memory (export "memory") 1))
