//! Compiled code kept between runs, so that packing the same module again
//! (a release for every target, a build script run twice) skips Cranelift.
//!
//! An entry is the output of `compile::precompile`, stored under the
//! SHA-256 of everything that decides those bytes: the wasm module as it is
//! compiled (after --init-func and --strip-names), the compiler settings
//! (`compile::settings`: triple, CPU flags, kind of program, unwind tables)
//! and the wpack executable itself, so a rebuilt wpack never takes code
//! another build compiled, even under the same version number.
//!
//! Entries are never trusted: each carries its length and an xxh3-128 of
//! its bytes, checked before use as the stub checks a payload; a damaged
//! entry is removed and the module compiled again. Entries are written to a
//! temporary file in the cache directory and renamed into place, so
//! processes sharing the directory see a whole entry or none; two processes
//! compiling the same module both write the same bytes.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::xxh3_128;

/// Start of every entry, then its length and hash: 32 bytes in all.
const MAGIC: &[u8; 8] = b"WPKCODE1";
const HEADER_LEN: usize = 32;

/// Past this total size the entries used least recently are removed. A
/// 75 MB module compiles to about 145 MiB per target, so this keeps the
/// six targets of two such programs.
const LIMIT_BYTES: u64 = 2 << 30;

/// The cache directory, and where the warnings it gives go.
pub struct Cache {
    dir: PathBuf,
    quiet: bool,
}

/// What an entry is stored under: a SHA-256, in hex.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Key(String);

impl Cache {
    /// The cache `WPACK_CACHE` names, else the platform's cache directory;
    /// `None` with --no-cache, or when neither can be found (then packing
    /// just compiles, as it always can).
    pub fn open(no_cache: bool, quiet: bool) -> Option<Cache> {
        if no_cache {
            return None;
        }
        let dir = match std::env::var_os("WPACK_CACHE") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => platform_dir()?,
        };
        Some(Cache { dir, quiet })
    }

    /// The SHA-256 of a module, taken once however many compilations of it
    /// look in the cache.
    pub fn digest(wasm: &[u8]) -> [u8; 32] {
        Sha256::digest(wasm).into()
    }

    /// The key of the module with [`Cache::digest`] `wasm` compiled with
    /// `settings`; `None` if this wpack cannot read its own executable to
    /// tell its build apart.
    pub fn key(wasm: &[u8; 32], settings: &str) -> Option<Key> {
        let build = build_id()?;
        let mut hash = Sha256::new();
        for part in [
            b"wpack compile cache 1".as_slice(),
            build,
            settings.as_bytes(),
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.update(wasm);
        Some(Key(hex(&hash.finalize())))
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.code", key.0))
    }

    /// The stored code for `key`, if there is an entry and it is whole.
    pub fn get(&self, key: &Key) -> Option<Vec<u8>> {
        let path = self.path(key);
        let bytes = fs::read(&path).ok()?;
        match check(&bytes) {
            Some(()) => {
                // Used now: eviction goes by modification time.
                if let Ok(file) = fs::File::options().append(true).open(&path) {
                    let _ = file.set_modified(std::time::SystemTime::now());
                }
                let mut code = bytes;
                code.drain(..HEADER_LEN);
                Some(code)
            }
            None => {
                self.warn(&format!(
                    "the cached code {} is damaged; compiling again",
                    path.display()
                ));
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `code` for `key`. A cache that cannot be written is worth a
    /// warning, never a failed pack.
    pub fn put(&self, key: &Key, code: &[u8]) {
        if let Err(e) = self.write(key, code) {
            self.warn(&format!(
                "cannot write the compile cache in {}: {e}; set WPACK_CACHE to another \
                 directory or pass --no-cache",
                self.dir.display()
            ));
            return;
        }
        self.evict();
    }

    fn write(&self, key: &Key, code: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".wpack-")
            .tempfile_in(&self.dir)?;
        temp.write_all(MAGIC)?;
        temp.write_all(&(code.len() as u64).to_le_bytes())?;
        temp.write_all(&xxh3_128(code).to_le_bytes())?;
        temp.write_all(code)?;
        // Not synced to disk: an entry a crash leaves torn fails its hash
        // and is compiled again, and syncing cost hello's `--target all`
        // more than a second on a busy disk (BENCHMARKS.md).
        temp.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Removes the least recently used entries past [`LIMIT_BYTES`]. Another
    /// process may be reading one: on Unix it keeps its open file; where a
    /// file in use cannot be removed, it stays until a later run.
    fn evict(&self) {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = dir
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let path = entry.path();
                if path.extension()? != "code" {
                    return None;
                }
                let meta = entry.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), path))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= LIMIT_BYTES {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("wpack: warning: {message}");
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether `entry` is whole: magic, length and hash agree.
fn check(entry: &[u8]) -> Option<()> {
    let header = entry.get(..HEADER_LEN)?;
    let code = &entry[HEADER_LEN..];
    let len = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let hash = u128::from_le_bytes(header[16..32].try_into().ok()?);
    (header[..8] == *MAGIC && len == code.len() as u64 && hash == xxh3_128(code)).then_some(())
}

/// Tells this build of wpack from every other: the xxh3-128 of its own
/// executable (some 40 MB with the stubs; a few milliseconds).
fn build_id() -> Option<&'static [u8]> {
    static ID: OnceLock<Option<[u8; 16]>> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let bytes = fs::read(exe).ok()?;
        Some(xxh3_128(&bytes).to_le_bytes())
    })
    .as_ref()
    .map(|id| id.as_slice())
}

/// `$XDG_CACHE_HOME/wpack` or `~/.cache/wpack` on Linux,
/// `~/Library/Caches/wpack` on macOS, `%LOCALAPPDATA%\wpack\cache` on
/// Windows.
fn platform_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return var("LOCALAPPDATA").map(|dir| dir.join("wpack").join("cache"));
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|home| home.join("Library/Caches/wpack"));
    }
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("wpack"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_owned(),
            quiet: true,
        }
    }

    #[test]
    fn an_entry_comes_back_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let key = Key("ab".repeat(32));
        assert_eq!(cache.get(&key), None);
        cache.put(&key, b"compiled code");
        assert_eq!(cache.get(&key).as_deref(), Some(&b"compiled code"[..]));

        // One flipped bit anywhere: refused and removed.
        let path = cache.path(&key);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get(&key), None);
        assert!(!path.exists());

        // Truncated below the header.
        fs::write(&path, &MAGIC[..]).unwrap();
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn keys_differ_by_settings_and_module() {
        let (module, module2) = (Cache::digest(b"module"), Cache::digest(b"module2"));
        let a = Cache::key(&module, "x86_64 baseline").unwrap();
        assert_eq!(a, Cache::key(&module, "x86_64 baseline").unwrap());
        assert_ne!(a, Cache::key(&module, "x86_64 x86-64-v3").unwrap());
        assert_ne!(a, Cache::key(&module2, "x86_64 baseline").unwrap());
    }
}
