//! The process's standard streams, read and written directly: no buffer
//! between the program and the file descriptor, so what `poll_oneoff` sees
//! is what the next read gets.

use std::io;

use crate::ctx::Stdio;
use crate::error::Errno;

/// Reads from stdin, retrying when a signal interrupts.
pub fn read(buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        #[cfg(unix)]
        let result = rustix::io::read(rustix::stdio::stdin(), &mut *buf).map_err(io::Error::from);
        #[cfg(not(unix))]
        let result = io::Read::read(&mut io::stdin(), buf);
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return Ok(other?),
        }
    }
}

/// Writes to stdout or stderr, retrying when a signal interrupts.
pub fn write(stream: Stdio, data: &[u8]) -> Result<usize, Errno> {
    loop {
        #[cfg(unix)]
        let result = {
            let fd = match stream {
                Stdio::Err => rustix::stdio::stderr(),
                _ => rustix::stdio::stdout(),
            };
            rustix::io::write(fd, data).map_err(io::Error::from)
        };
        #[cfg(not(unix))]
        let result = {
            use std::io::Write;
            let write = |w: &mut dyn Write| w.write(data).and_then(|n| w.flush().map(|()| n));
            match stream {
                Stdio::Err => write(&mut io::stderr()),
                _ => write(&mut io::stdout()),
            }
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return Ok(other?),
        }
    }
}

/// Waits until stdin has data or is at its end, or `timeout` passes
/// (`None`: no limit). Returns whether stdin is ready.
#[cfg(unix)]
pub fn wait_readable(timeout: Option<std::time::Duration>) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = rustix::stdio::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = timeout.map(|t| Timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: t.subsec_nanos().into(),
    });
    match poll(&mut fds, timeout.as_ref()) {
        Ok(n) => n > 0,
        // A bad or closed stdin reads as ready: the read then says why.
        Err(rustix::io::Errno::INTR) => false,
        Err(_) => true,
    }
}

/// Windows has no readiness for a console or pipe handle that `poll`
/// could wait on; stdin is reported ready and the read blocks.
#[cfg(not(unix))]
pub fn wait_readable(_timeout: Option<std::time::Duration>) -> bool {
    true
}
