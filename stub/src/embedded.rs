//! Embedded trees (`--include`) as directories of the WASI host's one
//! file-system layer: [`EmbeddedDir`] and [`EmbeddedFile`] implement
//! `wpack-wasi`'s [`Dir`] and [`File`] over a [`Tree`], served straight
//! from this executable's mapping of itself. Each tree is an ordinary
//! preopen; what is opened inside it is an ordinary descriptor.
//!
//! Reads copy from the mapping (nothing is extracted or read at start);
//! every change (create, write, rename, unlink, set times, truncate) gets
//! `EROFS`, as on a read-only file system. Files carry no timestamps (they
//! are not recorded at pack time).

use std::any::Any;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use wpack_wasi::Errno;
use wpack_wasi::ctx::Descriptor;
use wpack_wasi::fs::{
    Advice, Dir, DirEntry, Entries, File, Filestat, Filetype, FsResult, NewTime, OpenOptions,
    Opened,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::manifest::InitDescriptor;
use crate::tree::{Kind, LookupError, Tree};

/// `st_dev` of every embedded entry ("wpk").
const DEVICE: u64 = 0x0077_706b;

/// What every descriptor of a tree shares.
struct Shared {
    /// The whole packed file, mapped for the life of the process.
    file: &'static [u8],
    tree: Tree,
    /// Its index among the trees, for inode numbers.
    index: usize,
    /// Files whose contents matched their hash.
    verified: Mutex<HashSet<usize>>,
}

impl Shared {
    fn filestat(&self, entry: usize) -> Filestat {
        let (filetype, size) = match &self.tree.entries[entry].kind {
            Kind::Dir => (Filetype::Directory, 0),
            Kind::File { len, .. } => (Filetype::RegularFile, *len),
            Kind::Symlink { target } => (Filetype::SymbolicLink, target.len() as u64),
        };
        Filestat {
            dev: DEVICE,
            ino: ((self.index as u64 + 1) << 32) | (entry as u64 + 1),
            filetype: Some(filetype),
            nlink: 1,
            size,
            ..Filestat::default()
        }
    }

    /// Contents of a file entry, checked against its hash the first time.
    fn contents(&self, entry: usize) -> FsResult<&'static [u8]> {
        let Kind::File { offset, len, hash } = self.tree.entries[entry].kind else {
            return Err(Errno::ISDIR);
        };
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(offset.saturating_add(len)).ok())
            .and_then(|(start, end)| self.file.get(start..end))
            .ok_or(Errno::IO)?;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if !verified.contains(&entry) {
            if xxh3_64(bytes) != hash {
                crate::report::report(&format!(
                    "{}: the embedded file {} is damaged (checksum mismatch); download or pack \
                     the program again",
                    crate::report::program_name(),
                    self.tree.entries[entry].path
                ));
                return Err(Errno::IO);
            }
            verified.insert(entry);
        }
        Ok(bytes)
    }

    fn filetype(&self, entry: usize) -> Filetype {
        match self.tree.entries[entry].kind {
            Kind::Dir => Filetype::Directory,
            Kind::File { .. } => Filetype::RegularFile,
            Kind::Symlink { .. } => Filetype::SymbolicLink,
        }
    }
}

/// A directory of an embedded tree (the root is the tree's preopen).
#[derive(Clone)]
pub struct EmbeddedDir {
    shared: Arc<Shared>,
    entry: usize,
}

/// A file of an embedded tree, open for reading.
pub struct EmbeddedFile {
    shared: Arc<Shared>,
    entry: usize,
}

impl EmbeddedDir {
    /// The root directory of each tree, to preopen in order.
    pub fn trees(file: &'static [u8], trees: Vec<Tree>) -> Vec<EmbeddedDir> {
        trees
            .into_iter()
            .enumerate()
            .map(|(index, tree)| EmbeddedDir {
                shared: Arc::new(Shared {
                    file,
                    tree,
                    index,
                    verified: Mutex::default(),
                }),
                entry: 0,
            })
            .collect()
    }

    /// The directory name the program sees the tree under.
    pub fn guest(&self) -> &str {
        &self.shared.tree.guest
    }

    /// What `desc`, numbered `fd`, holds if it is a file or directory the
    /// program opened inside an embedded tree (not a tree's preopen).
    pub fn locate(fd: u32, desc: &Descriptor) -> Option<InitDescriptor> {
        let (shared, entry, position) = match desc {
            Descriptor::File { file, position, .. } => {
                let file = file.as_any().downcast_ref::<EmbeddedFile>()?;
                (&file.shared, file.entry, *position)
            }
            Descriptor::Dir {
                dir, preopen: None, ..
            } => {
                let dir = dir.as_any().downcast_ref::<EmbeddedDir>()?;
                (&dir.shared, dir.entry, 0)
            }
            _ => return None,
        };
        Some(InitDescriptor {
            fd,
            tree: u32::try_from(shared.index).ok()?,
            entry: u32::try_from(entry).ok()?,
            position,
        })
    }

    /// `open`'s descriptor again, from this tree's root: what the program
    /// opened while it was pre-initialized. `None` if the tree has no such
    /// entry (a damaged manifest).
    pub fn reopen(&self, open: &InitDescriptor) -> Option<Descriptor> {
        let entry = usize::try_from(open.entry).ok()?;
        let shared = Arc::clone(&self.shared);
        Some(match shared.tree.entries.get(entry)?.kind {
            Kind::Dir => Descriptor::Dir {
                dir: Box::new(EmbeddedDir { shared, entry }),
                preopen: None,
                listing: None,
            },
            Kind::File { .. } => Descriptor::File {
                file: Box::new(EmbeddedFile { shared, entry }),
                position: open.position,
                append: false,
                nonblocking: false,
            },
            Kind::Symlink { .. } => return None,
        })
    }

    fn lookup(&self, path: &str, follow: bool) -> FsResult<usize> {
        self.shared
            .tree
            .resolve(self.entry, path, follow)
            .map_err(|e| match e {
                LookupError::NotFound => Errno::NOENT,
                LookupError::NotDir => Errno::NOTDIR,
                LookupError::Escapes => Errno::PERM,
                LookupError::Loop => Errno::LOOP,
            })
    }
}

impl Dir for EmbeddedDir {
    fn open(&self, path: &str, o: &OpenOptions) -> FsResult<Opened> {
        let entry = match self.lookup(path, o.follow) {
            Err(Errno::NOENT) if o.create => return Err(Errno::ROFS),
            other => other?,
        };
        if o.create && o.exclusive {
            return Err(Errno::EXIST);
        }
        let kind = &self.shared.tree.entries[entry].kind;
        match kind {
            Kind::Symlink { .. } => return Err(Errno::LOOP),
            Kind::File { .. } if o.directory => return Err(Errno::NOTDIR),
            Kind::Dir if o.write => return Err(Errno::ISDIR),
            _ => {}
        }
        if o.truncate || o.write || o.create {
            return Err(Errno::ROFS);
        }
        let shared = Arc::clone(&self.shared);
        Ok(match kind {
            Kind::Dir => Opened::Dir(Box::new(EmbeddedDir { shared, entry })),
            _ => {
                shared.contents(entry)?;
                Opened::File(Box::new(EmbeddedFile { shared, entry }))
            }
        })
    }

    fn stat(&self) -> FsResult<Filestat> {
        Ok(self.shared.filestat(self.entry))
    }

    fn stat_at(&self, path: &str, follow: bool) -> FsResult<Filestat> {
        Ok(self.shared.filestat(self.lookup(path, follow)?))
    }

    fn set_times(&self, _: Option<NewTime>, _: Option<NewTime>) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn set_times_at(
        &self,
        _: &str,
        _: bool,
        _: Option<NewTime>,
        _: Option<NewTime>,
    ) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn entries(&self) -> FsResult<Entries> {
        let shared = Arc::clone(&self.shared);
        let children: Vec<usize> = shared.tree.children(self.entry).collect();
        Ok(Box::new(children.into_iter().map(move |child| {
            Ok(DirEntry {
                name: shared.tree.name(child).to_owned(),
                ino: shared.filestat(child).ino,
                filetype: shared.filetype(child),
            })
        })))
    }

    fn create_dir(&self, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn remove_dir(&self, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn unlink_file(&self, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn read_link(&self, path: &str) -> FsResult<String> {
        match &self.shared.tree.entries[self.lookup(path, false)?].kind {
            Kind::Symlink { target } => Ok(target.clone()),
            _ => Err(Errno::INVAL),
        }
    }

    fn symlink(&self, _: &str, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn rename(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn hard_link(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn readable(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl File for EmbeddedFile {
    fn stat(&self) -> FsResult<Filestat> {
        Ok(self.shared.filestat(self.entry))
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> FsResult<usize> {
        let contents = self.shared.contents(self.entry)?;
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(contents.len());
        let n = buf.len().min(contents.len() - from);
        buf[..n].copy_from_slice(&contents[from..from + n]);
        Ok(n)
    }

    fn write_at(&self, _: &[u8], _: u64) -> FsResult<usize> {
        Err(Errno::BADF)
    }

    fn append(&self, _: &[u8]) -> FsResult<usize> {
        Err(Errno::BADF)
    }

    fn set_size(&self, _: u64) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    fn set_times(&self, _: Option<NewTime>, _: Option<NewTime>) -> FsResult<()> {
        Err(Errno::ROFS)
    }

    // Nothing to do on data that never changes.
    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn sync_data(&self) -> FsResult<()> {
        Ok(())
    }

    fn advise(&self, _: u64, _: u64, _: Advice) -> FsResult<()> {
        Ok(())
    }

    fn readable(&self) -> bool {
        true
    }

    fn writable(&self) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
