//! Copies standard input to standard output in reads of up to 64 KiB, like
//! `cat`: one WASI `fd_read` on fd 0 and one `fd_write` on fd 1 per chunk.
//! File descriptors 0 and 1 are used directly: `std::io::stdout()` would
//! split binary data at newlines (it is line-buffered) and `std::io::copy`
//! would give the native build `splice`. Prints the byte count to stderr.
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

fn main() {
    // ManuallyDrop: the descriptors are the process's, not closed at the end.
    let mut input = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    let mut output = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) });
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read: {e}"),
        };
        output.write_all(&buf[..n]).expect("write");
        total += n as u64;
    }
    eprintln!("copied {total} bytes");
}
