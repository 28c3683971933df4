//! Ends of a program. Modes: exit N | unreachable | divide | oob |
//! stack-overflow | oom | grow-fail | panic
use std::hint::black_box;

#[inline(never)]
fn divide(a: i32, b: i32) -> i32 {
    // Promise a non-zero divisor so Rust emits a bare `i32.div_s`, which traps.
    unsafe { std::hint::assert_unchecked(b != 0) };
    a / b
}

#[inline(never)]
fn recurse(n: u64) -> u64 {
    // Not a tail call, and no locals in linear memory: exhausts the native stack.
    if n == 0 { 0 } else { 1 + recurse(black_box(n - 1)) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("before");
    match args.get(1).map(String::as_str).unwrap_or("") {
        "exit" => std::process::exit(args[2].parse().unwrap()),
        "unreachable" => std::process::abort(),
        "divide" => println!("{}", divide(black_box(7), black_box(0))),
        "oob" => {
            let p = black_box(0xFFFF_FFF0usize) as *const u64;
            println!("{}", unsafe { std::ptr::read_volatile(p) });
        }
        "stack-overflow" => println!("{}", recurse(black_box(100_000_000))),
        "oom" => {
            // 1 GB at a time (never touched, so no real memory is used) until
            // memory.grow fails at 4 GiB and the allocator aborts.
            for _ in 0..5 {
                std::mem::forget(black_box(Vec::<u8>::with_capacity(black_box(1_000_000_000))));
            }
            println!("not reached");
        }
        "grow-fail" => {
            // memory.grow beyond 4 GiB fails with -1 instead of trapping.
            let r = core::arch::wasm32::memory_grow(0, black_box(70_000));
            println!("memory.grow(70000) = {}", r as isize);
        }
        "panic" => panic!("deliberate panic"),
        other => println!("unknown mode {other:?}"),
    }
}
