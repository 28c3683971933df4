//! How a host function fails: with an errno the program sees, or with a trap
//! that ends it (as wasmtime's own preview 1 does for bad pointers and for
//! argument values no witx type allows).

use std::fmt;
use std::io;

/// A WASI preview 1 error number (`errno` in the witx definitions).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

impl Errno {
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const ALREADY: Errno = Errno(7);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const DEADLK: Errno = Errno(16);
    pub const DQUOT: Errno = Errno(19);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const ILSEQ: Errno = Errno(25);
    pub const INPROGRESS: Errno = Errno(26);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const TXTBSY: Errno = Errno(74);
    pub const XDEV: Errno = Errno(75);
    /// Outside every capability the program was given (wasi-libc reports a
    /// path under no preopen so).
    pub const NOTCAPABLE: Errno = Errno(76);
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {}", self.0)
    }
}

/// The host's own failures, as the errno wasmtime-wasi 48 reports for them:
/// the raw OS error where its table knows it, otherwise the error's kind,
/// otherwise `EIO` (so, like wasmtime, `EXDEV` from the OS reads as `EIO`).
impl From<io::Error> for Errno {
    fn from(err: io::Error) -> Errno {
        if let Some(errno) = err.raw_os_error().and_then(from_raw_os_error) {
            return errno;
        }
        match err.kind() {
            io::ErrorKind::NotFound => Errno::NOENT,
            io::ErrorKind::PermissionDenied => Errno::PERM,
            io::ErrorKind::AlreadyExists => Errno::EXIST,
            io::ErrorKind::InvalidInput => Errno::INVAL,
            _ => Errno::IO,
        }
    }
}

#[cfg(unix)]
fn from_raw_os_error(raw: i32) -> Option<Errno> {
    use rustix::io::Errno as E;
    #[allow(
        unreachable_patterns,
        reason = "OPNOTSUPP equals NOTSUP on some platforms"
    )]
    Some(match E::from_raw_os_error(raw) {
        E::PIPE => Errno::PIPE,
        E::PERM => Errno::PERM,
        E::NOENT => Errno::NOENT,
        E::NOMEM => Errno::NOMEM,
        E::IO => Errno::IO,
        E::BADF => Errno::BADF,
        E::BUSY => Errno::BUSY,
        E::ACCESS => Errno::ACCES,
        E::NOTDIR => Errno::NOTDIR,
        E::ISDIR => Errno::ISDIR,
        E::INVAL => Errno::INVAL,
        E::EXIST => Errno::EXIST,
        E::FBIG => Errno::FBIG,
        E::NOSPC => Errno::NOSPC,
        E::SPIPE => Errno::SPIPE,
        E::MLINK => Errno::MLINK,
        E::NAMETOOLONG => Errno::NAMETOOLONG,
        E::NOTEMPTY => Errno::NOTEMPTY,
        E::LOOP => Errno::LOOP,
        E::OVERFLOW => Errno::OVERFLOW,
        E::ILSEQ => Errno::ILSEQ,
        E::NOTSUP => Errno::NOTSUP,
        E::ALREADY => Errno::ALREADY,
        E::INPROGRESS => Errno::INPROGRESS,
        E::INTR => Errno::INTR,
        E::OPNOTSUPP => Errno::NOTSUP,
        _ => return None,
    })
}

#[cfg(windows)]
fn from_raw_os_error(raw: i32) -> Option<Errno> {
    // Win32 error codes, as wasmtime-wasi maps them.
    Some(match raw as u32 {
        2 | 3 | 123 => Errno::NOENT, // FILE_NOT_FOUND, PATH_NOT_FOUND, INVALID_NAME
        5 | 32 => Errno::ACCES,      // ACCESS_DENIED, SHARING_VIOLATION
        1314 => Errno::PERM,         // PRIVILEGE_NOT_HELD
        6 => Errno::BADF,            // INVALID_HANDLE
        8 | 14 => Errno::NOMEM,      // NOT_ENOUGH_MEMORY, OUTOFMEMORY
        145 => Errno::NOTEMPTY,      // DIR_NOT_EMPTY
        21 | 170 => Errno::BUSY,     // NOT_READY, BUSY
        50 => Errno::NOTSUP,         // NOT_SUPPORTED
        80 | 183 => Errno::EXIST,    // FILE_EXISTS, ALREADY_EXISTS
        109 => Errno::PIPE,          // BROKEN_PIPE
        111 => Errno::NAMETOOLONG,   // BUFFER_OVERFLOW
        4390 | 131 => Errno::INVAL,  // NOT_A_REPARSE_POINT, NEGATIVE_SEEK
        267 => Errno::NOTDIR,        // DIRECTORY
        681 => Errno::LOOP,          // STOPPED_ON_SYMLINK
        336 => Errno::ISDIR,         // DIRECTORY_NOT_SUPPORTED
        _ => return None,
    })
}

/// Why a host function did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Returned to the program as the function's result.
    #[error("{0:?}")]
    Errno(Errno),
    /// Ends the program, with this message (wasmtime's wording).
    #[error("{0}")]
    Trap(String),
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Error {
        Error::Errno(errno)
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Errno(err.into())
    }
}

impl Error {
    /// A pointer or length outside the guest's memory: wasmtime traps.
    pub(crate) fn out_of_bounds() -> Error {
        Error::Trap("pointer out of bounds".into())
    }

    /// An argument no value of its witx type has (an unknown enum case or
    /// flag bit): wasmtime traps before the function runs.
    pub(crate) fn invalid_enum(ty: &str) -> Error {
        Error::Trap(format!("Invalid enum value {ty}"))
    }

    pub(crate) fn invalid_flags(ty: &str) -> Error {
        Error::Trap(format!("Invalid flag value {ty}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An integer that does not fit where it goes: `EOVERFLOW`.
impl From<std::num::TryFromIntError> for Error {
    fn from(_: std::num::TryFromIntError) -> Error {
        Error::Errno(Errno::OVERFLOW)
    }
}
