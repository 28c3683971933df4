//! Clocks and `poll_oneoff`: waiting on timers and on stdin without a
//! thread of its own, in the calling thread.

use std::time::{Duration, Instant, SystemTime};

use crate::abi::until;
use crate::ctx::{Descriptor, Stdio, WasiCtx};
use crate::error::{Errno, Error, Result};
use crate::memory::GuestMemory;

pub fn realtime_now() -> Result<u64> {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| Errno::OVERFLOW)?;
    Ok(u64::try_from(since.as_nanos())?)
}

pub fn monotonic_now(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(unix)]
fn resolution(id: rustix::time::ClockId) -> u64 {
    let res = rustix::time::clock_getres(id);
    (res.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(res.tv_nsec as u64)
}

pub fn realtime_resolution() -> u64 {
    #[cfg(unix)]
    return resolution(rustix::time::ClockId::Realtime);
    // The system timer's tick, as wasmtime reports it.
    #[cfg(not(unix))]
    return 55_000_000;
}

pub fn monotonic_resolution() -> u64 {
    #[cfg(unix)]
    return resolution(rustix::time::ClockId::Monotonic);
    #[cfg(not(unix))]
    return 100;
}

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCK_ABSTIME: u16 = 1;
const EVENT_HANGUP: u16 = 1;
/// Sizes of `subscription` and `event`, both 8-aligned.
const SUBSCRIPTION_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;

/// What one subscription waits for.
enum Wait {
    /// Ready from this instant on.
    Until(Instant),
    Stdin,
    /// Ready at once: files, stdout and stderr never block here.
    Now {
        nbytes_hangup: bool,
    },
}

struct Subscription {
    userdata: u64,
    kind: u8,
    wait: Wait,
}

/// Reads and checks every subscription before waiting on any, as wasmtime
/// does: a bad one fails the call (`EINVAL`, `EBADF`) and nothing waits.
fn subscription(ctx: &WasiCtx, mem: &GuestMemory<'_>, at: u32) -> Result<Subscription> {
    let raw: [u8; SUBSCRIPTION_SIZE as usize] = mem.get_struct(at, 8)?;
    let u64_at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().unwrap());
    let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().unwrap());
    let userdata = u64_at(0);
    let kind = raw[8];
    let wait = match kind {
        EVENTTYPE_CLOCK => {
            let (id, timeout) = (u32_at(16), u64_at(24));
            let flags = u16::from_le_bytes([raw[40], raw[41]]);
            if flags & !SUBCLOCK_ABSTIME != 0 || id > 3 {
                return Err(Errno::INVAL.into());
            }
            let absolute = flags & SUBCLOCK_ABSTIME != 0;
            let now = Instant::now();
            let deadline = match (id, absolute) {
                (1, true) => ctx.start + Duration::from_nanos(timeout),
                (0 | 1, false) => now + Duration::from_nanos(timeout),
                // An absolute realtime deadline becomes a relative wait.
                (0, true) => now + Duration::from_nanos(timeout.saturating_sub(realtime_now()?)),
                _ => return Err(Errno::INVAL.into()),
            };
            Wait::Until(deadline)
        }
        EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
            let fd = u32_at(16);
            match (kind, ctx.table.get(fd)?) {
                (
                    EVENTTYPE_FD_READ,
                    Descriptor::Stdio {
                        stream: Stdio::In, ..
                    },
                ) => Wait::Stdin,
                (EVENTTYPE_FD_READ, Descriptor::File { file, position, .. }) => Wait::Now {
                    nbytes_hangup: file.stat()?.size.saturating_sub(*position) == 0,
                },
                (
                    EVENTTYPE_FD_WRITE,
                    Descriptor::Stdio {
                        stream: Stdio::Out | Stdio::Err,
                        ..
                    }
                    | Descriptor::File { .. },
                ) => Wait::Now {
                    nbytes_hangup: false,
                },
                _ => return Err(Errno::BADF.into()),
            }
        }
        _ => return Err(Errno::INVAL.into()),
    };
    Ok(Subscription {
        userdata,
        kind,
        wait,
    })
}

/// Waits until at least one subscription is ready, writes an event for each
/// ready one (in subscription order) and returns how many.
pub fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    count: u32,
) -> Result<u32> {
    if count == 0 {
        // Waiting for nothing forever is no use; preview 1 says EINVAL.
        return Err(Errno::INVAL.into());
    }
    let end = count
        .checked_mul(SUBSCRIPTION_SIZE)
        .and_then(|size| subs.checked_add(size))
        .ok_or_else(Error::out_of_bounds)?;
    mem.slice(subs, end - subs)?;
    if count == 1 {
        // A lone relative timer is a sleep (what `sleep` in libc does):
        // wasmtime sleeps the thread for it whatever the clock, and reports
        // the event with `nbytes` 1.
        let raw: [u8; SUBSCRIPTION_SIZE as usize] = mem.get_struct(subs, 8)?;
        let id = u32::from_le_bytes(raw[16..20].try_into().unwrap());
        let flags = u16::from_le_bytes([raw[40], raw[41]]);
        if raw[8] == EVENTTYPE_CLOCK && id <= 3 && flags == 0 {
            let timeout = u64::from_le_bytes(raw[24..32].try_into().unwrap());
            std::thread::sleep(Duration::from_nanos(timeout));
            let mut event = [0u8; EVENT_SIZE as usize];
            event[0..8].copy_from_slice(&raw[0..8]);
            event[10] = EVENTTYPE_CLOCK;
            event[16..24].copy_from_slice(&1u64.to_le_bytes());
            mem.put_struct(events, 8, &event)?;
            return Ok(1);
        }
    }
    let subs: Vec<Subscription> = (0..count)
        .map(|i| subscription(ctx, mem, subs + i * SUBSCRIPTION_SIZE))
        .collect::<Result<_>>()?;

    let earliest = subs
        .iter()
        .filter_map(|s| match s.wait {
            Wait::Until(t) => Some(t),
            _ => None,
        })
        .min();
    let immediate = subs.iter().any(|s| matches!(s.wait, Wait::Now { .. }));
    let wants_stdin = subs.iter().any(|s| matches!(s.wait, Wait::Stdin));
    let mut stdin_ready = false;
    if immediate {
        stdin_ready = wants_stdin && crate::stdio::wait_readable(Some(Duration::ZERO));
    } else {
        loop {
            let timeout = earliest.map(until);
            if wants_stdin {
                stdin_ready = crate::stdio::wait_readable(timeout);
            } else if let Some(timeout) = timeout {
                std::thread::sleep(timeout);
            }
            if stdin_ready || earliest.is_some_and(|t| Instant::now() >= t) {
                break;
            }
        }
    }

    let now = Instant::now();
    let mut written = 0;
    for sub in &subs {
        let (ready, nbytes, flags) = match sub.wait {
            Wait::Until(t) => (t <= now, 0, 0),
            Wait::Stdin => (stdin_ready, 1, 0),
            Wait::Now { nbytes_hangup } => (true, 1, if nbytes_hangup { EVENT_HANGUP } else { 0 }),
        };
        if !ready {
            continue;
        }
        let mut event = [0u8; EVENT_SIZE as usize];
        event[0..8].copy_from_slice(&sub.userdata.to_le_bytes());
        event[10] = sub.kind;
        event[16..24].copy_from_slice(&(nbytes as u64).to_le_bytes());
        event[24..26].copy_from_slice(&flags.to_le_bytes());
        mem.put_struct(events + written * EVENT_SIZE, 8, &event)?;
        written += 1;
    }
    Ok(written)
}
