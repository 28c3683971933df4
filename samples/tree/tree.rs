//! tree DIR: describes a directory tree the way a tool that reads its data
//! files would see it: every entry (type, size, link target), every file's
//! contents checksum, a seek and partial read, `..` inside the tree, and what
//! happens on an attempt to change it. Used to compare a packed program's
//! embedded files (`wpack --include`) with a real directory.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: tree DIR");
        std::process::exit(2)
    });
    let root = Path::new(&root);
    walk(root, root);

    // A seek and a partial read of the first regular file found.
    if let Some(file) = first_file(root) {
        let mut f = fs::File::open(&file).unwrap();
        let len = f.metadata().unwrap().len();
        let mid = f.seek(SeekFrom::Start(len / 2)).unwrap();
        let mut buf = [0u8; 8];
        let n = f.read(&mut buf).unwrap();
        let end = f.seek(SeekFrom::End(0)).unwrap();
        let back = f.seek(SeekFrom::Current(-(end as i64).min(3))).unwrap();
        println!("seek {}: mid {mid} read {:?} end {end} back {back}", rel(root, &file), &buf[..n]);
    }

    // Changes, each of which a read-only tree must refuse.
    let attempts: [(&str, Box<dyn Fn() -> std::io::Result<()>>); 5] = [
        ("create", Box::new(|| fs::write(root.join("new.txt"), "x"))),
        ("mkdir", Box::new(|| fs::create_dir(root.join("newdir")))),
        ("overwrite", Box::new(|| first_file(root).map_or(Ok(()), |f| fs::write(f, "x")))),
        ("remove", Box::new(|| first_file(root).map_or(Ok(()), fs::remove_file))),
        ("rename", Box::new(|| first_file(root).map_or(Ok(()), |f| fs::rename(f, root.join("moved"))))),
    ];
    for (what, attempt) in attempts {
        match attempt() {
            Ok(()) => println!("{what}: allowed"),
            Err(e) => println!("{what}: refused (os error {:?})", e.raw_os_error()),
        }
    }
    // The tree is unchanged afterwards.
    println!("after: {} entries", count(root));
}

fn walk(root: &Path, dir: &Path) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let name = rel(root, &path);
        if meta.is_symlink() {
            let target = fs::read_link(&path).unwrap();
            // What it leads to (a directory's own size differs between file
            // systems, so only files show one).
            let resolves = fs::metadata(&path)
                .map(|m| if m.is_dir() { "dir".to_owned() } else { format!("{} bytes", m.len()) })
                .ok();
            println!("link {name} -> {} ({resolves:?})", target.display());
        } else if meta.is_dir() {
            println!("dir  {name}");
            walk(root, &path);
            // `..` back out of it, inside the tree.
            let again = fs::read_dir(path.join("..")).unwrap().count();
            println!("     {name}/.. has {again} entries");
        } else {
            let data = fs::read(&path).unwrap();
            let sum = data.iter().fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(b as u32));
            println!("file {name} {} bytes, sum {sum:08x}", meta.len());
        }
    }
}

fn first_file(dir: &Path) -> Option<std::path::PathBuf> {
    let mut entries: Vec<_> = fs::read_dir(dir).ok()?.map(|e| e.unwrap().path()).collect();
    entries.sort();
    entries.into_iter().find(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
