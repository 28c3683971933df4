//! Fails on purpose, to show how a packed program reports a trap.
//! Usage: panic [divide|unreachable]
#[inline(never)]
fn divide(a: i32, b: i32) -> i32 {
    // Rust would check the divisor and panic; promising it is non-zero drops
    // the check, so the wasm `i32.div_s` instruction itself traps.
    unsafe { std::hint::assert_unchecked(b != 0) };
    a / b
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("divide") => println!("{}", divide(std::hint::black_box(7), std::hint::black_box(0))),
        _ => panic!("this program panics on purpose"),
    }
}
