//! Host directories and files: [`Dir`] and [`File`] over the operating
//! system, every path resolved by `cap-primitives` inside the directory it
//! starts from (`..`, absolute paths and symlinks included), as
//! wasmtime-wasi and wasi-common do.

use std::any::Any;
use std::io;
use std::path::Path;

use cap_primitives::fs::{self as cap, FollowSymlinks, Metadata, SystemTimeSpec};

use crate::error::Errno;
use crate::fs::{
    Advice, Dir, DirEntry, Entries, File, Filestat, Filetype, FsResult, NewTime, OpenOptions,
    Opened, nanos,
};

/// A directory of the host's file system.
pub struct HostDir {
    dir: std::fs::File,
    readable: bool,
}

impl HostDir {
    /// Opens `path` (an ordinary host path) as a directory to preopen.
    pub fn open_ambient(path: &Path) -> io::Result<HostDir> {
        let mut options = cap::OpenOptions::new();
        options.read(true);
        maybe_dir(&mut options);
        let dir = cap::open_ambient_dir(path, cap_primitives::ambient_authority())?;
        Ok(HostDir {
            dir,
            readable: true,
        })
    }

    fn follow(follow: bool) -> FollowSymlinks {
        if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        }
    }
}

/// A file of the host's file system.
pub struct HostFile {
    file: std::fs::File,
    readable: bool,
    writable: bool,
}

#[cfg(windows)]
fn maybe_dir(options: &mut cap::OpenOptions) {
    use cap::OpenOptionsExt;
    // FILE_FLAG_BACKUP_SEMANTICS opens directories; share read and write.
    options.custom_flags(0x0200_0000);
    options.share_mode(0x1 | 0x2);
}

#[cfg(not(windows))]
fn maybe_dir(_: &mut cap::OpenOptions) {}

fn filetype(ft: cap::FileType) -> Filetype {
    if ft.is_dir() {
        Filetype::Directory
    } else if ft.is_symlink() {
        Filetype::SymbolicLink
    } else if ft.is_file() {
        Filetype::RegularFile
    } else {
        special_filetype(ft)
    }
}

#[cfg(unix)]
fn special_filetype(ft: cap::FileType) -> Filetype {
    use cap::FileTypeExt;
    if ft.is_block_device() {
        Filetype::BlockDevice
    } else if ft.is_char_device() {
        Filetype::CharacterDevice
    } else {
        // FIFOs and sockets: preview 1 has no type for a FIFO, and
        // wasmtime reports both as unknown here.
        Filetype::Unknown
    }
}

#[cfg(not(unix))]
fn special_filetype(_: cap::FileType) -> Filetype {
    Filetype::Unknown
}

/// The inode number the program sees: the file's own, mixed with its
/// device's. As in wasmtime, every file reports device 1, so the number
/// alone must tell files on different devices apart (wasmtime hashes the
/// pair; this mix keeps a directory entry's number computable from the
/// directory's device without a stat per entry).
#[cfg(unix)]
fn guest_ino(dev: u64, ino: u64) -> u64 {
    ino ^ dev.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(32)
}

/// The device number every host file reports.
const DEVICE: u64 = 1;

fn filestat(meta: &Metadata) -> Filestat {
    #[cfg(unix)]
    let (ino, nlink) = {
        use cap::MetadataExt;
        (guest_ino(meta.dev(), meta.ino()), meta.nlink())
    };
    #[cfg(not(unix))]
    let (ino, nlink) = (0, 1);
    Filestat {
        dev: DEVICE,
        ino,
        filetype: Some(filetype(meta.file_type())),
        nlink,
        size: meta.len(),
        atim: nanos(meta.accessed().map(|t| t.into_std())),
        mtim: nanos(meta.modified().map(|t| t.into_std())),
        // wasmtime-wasi reports the creation time where a status-change
        // time would go; so does this host, for the same answers.
        ctim: nanos(meta.created().map(|t| t.into_std())),
    }
}

fn time_spec(time: Option<NewTime>) -> Option<SystemTimeSpec> {
    time.map(|t| match t {
        NewTime::Now => SystemTimeSpec::SymbolicNow,
        NewTime::At(t) => SystemTimeSpec::Absolute(cap_primitives::time::SystemTime::from_std(t)),
    })
}

fn file_times(atim: Option<NewTime>, mtim: Option<NewTime>) -> std::fs::FileTimes {
    let resolve = |t: NewTime| match t {
        NewTime::Now => std::time::SystemTime::now(),
        NewTime::At(t) => t,
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(t) = atim {
        times = times.set_accessed(resolve(t));
    }
    if let Some(t) = mtim {
        times = times.set_modified(resolve(t));
    }
    times
}

impl Dir for HostDir {
    fn open(&self, path: &str, o: &OpenOptions) -> FsResult<Opened> {
        let mut options = cap::OpenOptions::new();
        maybe_dir(&mut options);
        let (mut readable, mut writable) = (false, false);
        if o.create {
            if o.exclusive {
                options.create_new(true);
            } else {
                options.create(true);
            }
            options.write(true);
            writable = true;
        }
        if o.truncate {
            options.truncate(true).write(true);
            writable = true;
        }
        if o.read {
            options.read(true);
            readable = true;
        }
        if o.write {
            options.write(true);
            writable = true;
        } else {
            // Open for reading at least, so the OS lets every file be
            // opened; the rights reported then say what was asked for.
            options.read(true);
            readable = true;
        }
        // The public spelling of cap-primitives' own `follow` option (what
        // cap-fs-ext's `OpenOptionsFollowExt` calls).
        options._cap_fs_ext_follow(HostDir::follow(o.follow));
        if o.directory && (o.create || o.exclusive || o.truncate) {
            return Err(Errno::INVAL);
        }
        let file = cap::open(&self.dir, path.as_ref(), &options)?;
        if Metadata::from_file(&file)?.is_dir() {
            // Windows opens a directory for writing; POSIX says EISDIR.
            if cfg!(windows) && o.write {
                return Err(Errno::ISDIR);
            }
            Ok(Opened::Dir(Box::new(HostDir {
                dir: file,
                readable,
            })))
        } else if o.directory {
            Err(Errno::NOTDIR)
        } else {
            Ok(Opened::File(Box::new(HostFile {
                file,
                readable,
                writable,
            })))
        }
    }

    fn stat(&self) -> FsResult<Filestat> {
        Ok(filestat(&Metadata::from_file(&self.dir)?))
    }

    fn stat_at(&self, path: &str, follow: bool) -> FsResult<Filestat> {
        let meta = cap::stat(&self.dir, path.as_ref(), HostDir::follow(follow))?;
        Ok(filestat(&meta))
    }

    fn set_times(&self, atim: Option<NewTime>, mtim: Option<NewTime>) -> FsResult<()> {
        Ok(self.dir.set_times(file_times(atim, mtim))?)
    }

    fn set_times_at(
        &self,
        path: &str,
        follow: bool,
        atim: Option<NewTime>,
        mtim: Option<NewTime>,
    ) -> FsResult<()> {
        let (atim, mtim) = (time_spec(atim), time_spec(mtim));
        if follow {
            cap::set_times(&self.dir, path.as_ref(), atim, mtim)?;
        } else {
            cap::set_times_nofollow(&self.dir, path.as_ref(), atim, mtim)?;
        }
        Ok(())
    }

    fn entries(&self) -> FsResult<Entries> {
        // A fresh descriptor of the directory, read from its start; each
        // `next` takes the next entry of the batch one getdents call filled,
        // with its inode and type (a stat only where the file system gives
        // no type).
        #[cfg(unix)]
        let dev = {
            use cap::MetadataExt;
            Metadata::from_file(&self.dir)?.dev()
        };
        let entries = cap::read_base_dir(&self.dir)?;
        Ok(Box::new(entries.map(move |entry| {
            let entry = entry?;
            let filetype = filetype(entry.file_type()?);
            #[cfg(unix)]
            let ino = {
                use rustix::fs::DirEntryExt;
                guest_ino(dev, entry.ino())
            };
            #[cfg(not(unix))]
            let ino = 0;
            let name = entry.file_name().into_string().map_err(|_| Errno::ILSEQ)?;
            Ok(DirEntry {
                name,
                ino,
                filetype,
            })
        })))
    }

    fn create_dir(&self, path: &str) -> FsResult<()> {
        Ok(cap::create_dir(
            &self.dir,
            path.as_ref(),
            &cap::DirOptions::new(),
        )?)
    }

    fn remove_dir(&self, path: &str) -> FsResult<()> {
        Ok(cap::remove_dir(&self.dir, path.as_ref())?)
    }

    fn unlink_file(&self, path: &str) -> FsResult<()> {
        #[cfg(windows)]
        {
            // A symlink to a directory is removed as a directory there.
            let meta = cap::stat(&self.dir, path.as_ref(), FollowSymlinks::No)?;
            if meta.file_type().is_symlink() && cap::remove_file(&self.dir, path.as_ref()).is_err()
            {
                return Ok(cap::remove_dir(&self.dir, path.as_ref())?);
            }
        }
        Ok(cap::remove_file(&self.dir, path.as_ref())?)
    }

    fn read_link(&self, path: &str) -> FsResult<String> {
        let target = cap::read_link(&self.dir, path.as_ref())?;
        target
            .into_os_string()
            .into_string()
            .map_err(|_| Errno::ILSEQ)
    }

    fn symlink(&self, target: &str, path: &str) -> FsResult<()> {
        #[cfg(not(windows))]
        cap::symlink(target.as_ref(), &self.dir, path.as_ref())?;
        #[cfg(windows)]
        {
            let is_dir = cap::stat(&self.dir, target.as_ref(), FollowSymlinks::Yes)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            if is_dir {
                cap::symlink_dir(target.as_ref(), &self.dir, path.as_ref())?;
            } else {
                cap::symlink_file(target.as_ref(), &self.dir, path.as_ref())?;
            }
        }
        Ok(())
    }

    fn rename(&self, path: &str, to: &dyn Dir, to_path: &str) -> FsResult<()> {
        let to = to.as_any().downcast_ref::<HostDir>().ok_or(Errno::XDEV)?;
        Ok(cap::rename(
            &self.dir,
            path.as_ref(),
            &to.dir,
            to_path.as_ref(),
        )?)
    }

    fn hard_link(&self, path: &str, to: &dyn Dir, to_path: &str) -> FsResult<()> {
        let to = to.as_any().downcast_ref::<HostDir>().ok_or(Errno::XDEV)?;
        Ok(cap::hard_link(
            &self.dir,
            path.as_ref(),
            &to.dir,
            to_path.as_ref(),
        )?)
    }

    fn sync(&self) -> FsResult<()> {
        let mut options = cap::OpenOptions::new();
        options.read(true);
        maybe_dir(&mut options);
        let dir = cap::open(&self.dir, ".".as_ref(), &options)?;
        sync_all(&dir)
    }

    fn readable(&self) -> bool {
        self.readable
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn sync_all(file: &std::fs::File) -> FsResult<()> {
    match file.sync_all() {
        Ok(()) => Ok(()),
        // Windows refuses to flush a file not open for writing; POSIX
        // does not, and neither does wasmtime.
        Err(e) if cfg!(windows) && e.raw_os_error() == Some(5) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl File for HostFile {
    fn stat(&self) -> FsResult<Filestat> {
        Ok(filestat(&Metadata::from_file(&self.file)?))
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> FsResult<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)?;
        Ok(n)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> FsResult<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::write_at(&self.file, buf, offset)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_write(&self.file, buf, offset)?;
        Ok(n)
    }

    fn append(&self, buf: &[u8]) -> FsResult<usize> {
        #[cfg(target_os = "linux")]
        {
            use rustix::io::{Errno as E, ReadWriteFlags, pwritev2};
            match pwritev2(
                &self.file,
                &[io::IoSlice::new(buf)],
                0,
                ReadWriteFlags::APPEND,
            ) {
                Err(E::NOSYS) | Err(E::NOTSUP) => {}
                other => return Ok(other.map_err(io::Error::from)?),
            }
        }
        #[cfg(unix)]
        {
            // Switch the description to append mode for this one write: no
            // other thread shares it.
            use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
            let flags = fcntl_getfl(&self.file).map_err(io::Error::from)?;
            fcntl_setfl(&self.file, flags | OFlags::APPEND).map_err(io::Error::from)?;
            let written = rustix::io::write(&self.file, buf).map_err(io::Error::from);
            let _ = fcntl_setfl(&self.file, flags);
            Ok(written?)
        }
        #[cfg(not(unix))]
        {
            let end = self.file.metadata()?.len();
            self.write_at(buf, end)
        }
    }

    fn set_size(&self, size: u64) -> FsResult<()> {
        Ok(self.file.set_len(size)?)
    }

    fn set_times(&self, atim: Option<NewTime>, mtim: Option<NewTime>) -> FsResult<()> {
        Ok(self.file.set_times(file_times(atim, mtim))?)
    }

    fn sync(&self) -> FsResult<()> {
        sync_all(&self.file)
    }

    fn sync_data(&self) -> FsResult<()> {
        match self.file.sync_data() {
            Ok(()) => Ok(()),
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(5) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn advise(&self, offset: u64, len: u64, advice: Advice) -> FsResult<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::Advice as A;
            let advice = match advice {
                Advice::Normal => A::Normal,
                Advice::Sequential => A::Sequential,
                Advice::Random => A::Random,
                Advice::WillNeed => A::WillNeed,
                Advice::DontNeed => A::DontNeed,
                Advice::NoReuse => A::NoReuse,
            };
            rustix::fs::fadvise(&self.file, offset, std::num::NonZeroU64::new(len), advice)
                .map_err(io::Error::from)?;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (offset, len, advice);
        Ok(())
    }

    fn readable(&self) -> bool {
        self.readable
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
