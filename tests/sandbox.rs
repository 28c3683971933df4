//! A packed program reaches only its baked directories and variables.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;

/// Runs the packed probe with `ops` in `cwd` and returns one line per op.
fn probe(exe: &Path, cwd: &Path, ops: &[&str]) -> Vec<String> {
    let out = Command::new(exe)
        .args(ops)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

/// A directory with `data/` (given to the program) next to a secret file.
fn layout() -> TempDir {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("inside.txt"), "inside\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "SECRET\n").unwrap();
    dir
}

#[test]
fn without_dir_no_file_is_visible() {
    let dir = layout();
    let exe = pack_sample("probe", dir.path(), &[]);
    let ops = [
        "read:secret.txt",
        "read:/etc/passwd",
        "list:.",
        "list:/",
        "stat:/",
        "write:x",
    ];
    for line in probe(&exe, dir.path(), &ops) {
        assert!(line.contains("=> error"), "{line}");
    }
    assert!(!dir.path().join("x").exists());
}

#[test]
fn escapes_from_a_baked_directory_fail() {
    let dir = layout();
    let data = dir.path().join("data");
    symlink("../secret.txt", data.join("up-link")).unwrap();
    symlink(dir.path().join("secret.txt"), data.join("abs-link")).unwrap();
    symlink("/etc", data.join("etc-link")).unwrap();
    let exe = pack_sample("probe", dir.path(), &["--dir", "data::/data"]);

    let lines = probe(
        &exe,
        dir.path(),
        &[
            "read:/data/inside.txt",
            "read:/data/../secret.txt",
            "read:/data/../../../../etc/passwd",
            "read:/secret.txt",
            "read:/etc/passwd",
            "read:/data/up-link",
            "read:/data/abs-link",
            "read:/data/etc-link/passwd",
            "write:/data/../escaped.txt",
            "write:/data/etc-link/escaped.txt",
            "list:/data/..",
            "write:/data/new.txt",
        ],
    );
    assert_eq!(lines[0], "read:/data/inside.txt => ok inside");
    for line in &lines[1..11] {
        assert!(line.contains("=> error"), "escaped: {line}");
    }
    assert_eq!(lines[11], "write:/data/new.txt => ok ");
    assert!(!dir.path().join("escaped.txt").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("new.txt")).unwrap(),
        "probe\n"
    );
}

#[test]
fn a_symlink_swapped_during_the_run_never_leads_outside() {
    let dir = layout();
    let data = dir.path().join("data");
    symlink("inside.txt", data.join("swap")).unwrap();
    let exe = pack_sample("probe", dir.path(), &["--dir", "data::/data"]);

    // Flip `swap` between a target inside and one outside the directory,
    // atomically (rename over), for as long as the program runs.
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let data = data.clone();
        std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let target = if flips.is_multiple_of(2) {
                    "../secret.txt"
                } else {
                    "inside.txt"
                };
                let tmp = data.join("swap.tmp");
                let _ = std::fs::remove_file(&tmp);
                symlink(target, &tmp).unwrap();
                std::fs::rename(&tmp, data.join("swap")).unwrap();
                flips += 1;
            }
            flips
        })
    };
    // On a loaded machine the flipper can sleep through a whole run, leaving
    // the link pointing out: then the run only sees errors, so run again
    // until one read through the link too (no run may ever see the secret).
    let mut seen = Vec::new();
    for _ in 0..20 {
        let lines = probe(&exe, dir.path(), &["readloop:/data/swap:3000"]);
        assert!(
            !lines[0].contains("SECRET"),
            "read through a swapped symlink: {}",
            lines[0]
        );
        seen.push(lines[0].clone());
        if lines[0].contains("inside") {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 10, "the symlink hardly changed ({flips} flips)");
    assert!(
        seen.last().unwrap().contains("inside"),
        "no run read through the link: {seen:?}"
    );
}

#[test]
fn only_baked_variables_are_visible() {
    let dir = tempdir();
    let exe = pack_sample("args", dir.path(), &["--env", "KEEP"]);
    let out = Command::new(&exe)
        .env("KEEP", "1")
        .env("SECRET_TOKEN", "x")
        .output()
        .unwrap();
    let text = stdout(&out);
    let env_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("env ")).collect();
    assert_eq!(env_lines, ["env KEEP=1"]);
}

// ---------------------------------------------------------------------------
// Every way out of a `--dir`, tried with raw WASI calls
// (tests/wasi/sandbox/fsops.rs): the paths reach the host exactly as written.
// Each test checks that every escape attempt fails AND that nothing outside
// the directory changed (names, types, sizes, modes, link counts, times and
// contents of the whole tree around it).

/// A directory holding `data/` (the program's `--dir`, seen as `/data`) and,
/// outside it, files and directories the program must neither see nor
/// change; the packed fsops program lives in a directory of its own.
struct Jail {
    parent: TempDir,
    bin: TempDir,
    exe: PathBuf,
    /// `outside_snapshot` of `parent` when the jail was made.
    before: BTreeMap<String, String>,
}

/// Host symlinks made in `data/` (relative to it) before the program runs;
/// `{parent}` stands for the host path of the directory around `data/`.
const JAIL_LINKS: [(&str, &str); 18] = [
    // leading inside
    ("in-link", "inside.txt"),
    ("sub/up-in", "../inside.txt"),
    ("sub-link", "sub"),
    // leading out: relative, absolute, through a chain of inside links
    ("up-link", "../secret.txt"),
    ("abs-link", "{parent}/secret.txt"),
    ("etc-link", "/etc/passwd"),
    ("victim-link", "../victim.txt"),
    ("victim-abs", "{parent}/victim.txt"),
    ("sub/up2", "../../secret.txt"),
    ("chain", "sub/chain2"),
    ("sub/chain2", "../victim-link"),
    // directories outside
    ("updir", ".."),
    ("outdir", "../outside"),
    ("abs-outdir", "{parent}/outside"),
    // dangling, pointing outside
    ("dangle", "../made.txt"),
    ("dangle-abs", "{parent}/made-abs.txt"),
    // looping
    ("loop-a", "loop-b"),
    ("loop-b", "loop-a"),
];

impl Jail {
    fn new() -> Jail {
        let parent = tempdir();
        let p = parent.path();
        let data = p.join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("inside.txt"), "inside\n").unwrap();
        std::fs::write(data.join("sub/deep.txt"), "deep\n").unwrap();
        std::fs::write(p.join("secret.txt"), "SECRET\n").unwrap();
        std::fs::write(p.join("victim.txt"), "VICTIM\n").unwrap();
        std::fs::create_dir_all(p.join("outside/empty")).unwrap();
        std::fs::write(p.join("outside/file"), "OUTSIDE\n").unwrap();
        symlink("secret.txt", p.join("outlink")).unwrap();
        let parent_name = p.to_str().unwrap();
        for (name, target) in JAIL_LINKS {
            symlink(target.replace("{parent}", parent_name), data.join(name)).unwrap();
        }
        for (name, target) in [("self", "self"), ("bounce", "../data/bounce")] {
            symlink(target, data.join(name)).unwrap();
        }
        let bin = tempdir();
        let exe = bin.path().join("fsops");
        let dir = format!("{}::/data", data.display());
        pack(&sandbox_program("fsops"), &exe, &["--dir", &dir]);
        let before = outside_snapshot(p);
        Jail {
            parent,
            bin,
            exe,
            before,
        }
    }

    fn parent(&self) -> &Path {
        self.parent.path()
    }

    fn data(&self) -> PathBuf {
        self.parent().join("data")
    }

    /// `{parent}` in `op` replaced by the host path around `data/`.
    fn op(&self, op: &str) -> String {
        op.replace("{parent}", self.parent().to_str().unwrap())
    }

    /// Runs the program with `ops` and returns its line for each.
    fn run(&self, ops: &[String]) -> Vec<String> {
        let (out, killed) = run_with_timeout(
            Command::new(&self.exe)
                .args(ops)
                .current_dir(self.bin.path()),
            std::time::Duration::from_secs(60),
        );
        assert!(!killed, "the program hung on {ops:?}");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), ops.len(), "one line per operation: {lines:?}");
        lines
    }

    /// Makes each symlink `(NAME, TARGET)` in `data/` through the program
    /// (`path_symlink`) and returns the names it made: a host may refuse a
    /// link whose target leads out (wasmtime-wasi refuses absolute ones), and
    /// then there is nothing to go through.
    fn make_links<'a>(&self, links: &[(&'a str, &str)]) -> Vec<&'a str> {
        let ops: Vec<String> = links
            .iter()
            .map(|(name, target)| self.op(&format!("symlink {target} {name}")))
            .collect();
        let lines = self.run(&ops);
        links
            .iter()
            .zip(&lines)
            .filter(|(_, line)| line.ends_with(" => ok "))
            .map(|((name, _), _)| *name)
            .collect()
    }

    /// Runs `escapes`, every one of which must fail, and checks that nothing
    /// outside `data/` changed since the jail was made.
    fn assert_escapes_fail(&self, escapes: &[String]) {
        let ops: Vec<String> = escapes.iter().map(|op| self.op(op)).collect();
        let lines = self.run(&ops);
        let mut problems: Vec<String> = lines
            .into_iter()
            .filter(|line| !line.contains(" => error "))
            .map(|line| format!("got out: {line}"))
            .collect();
        problems.extend(tree_changes(&self.before, &outside_snapshot(self.parent())));
        assert!(
            problems.is_empty(),
            "the program reached outside its directory:\n{}",
            problems.join("\n")
        );
    }
}

/// tests/wasi/sandbox/NAME.wasm
fn sandbox_program(name: &str) -> PathBuf {
    root()
        .join("tests/wasi/sandbox")
        .join(format!("{name}.wasm"))
}

/// Everything under `parent` but `data/`: for each entry (not following
/// symlinks), its type, mode, size, link count, modification and change
/// times, and its contents (a file's bytes, a link's target).
fn outside_snapshot(parent: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path == root.join("data") {
                continue;
            }
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                walk(root, &path, into);
                "dir".to_string()
            } else {
                format!(
                    "file {:?}",
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap())
                )
            };
            let stat = format!(
                "mode={:o} size={} nlink={} mtime={}.{} ctime={}.{}",
                meta.mode(),
                meta.size(),
                meta.nlink(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec()
            );
            into.insert(name, format!("{what} {stat}"));
        }
    }
    let mut snapshot = BTreeMap::new();
    let meta = std::fs::metadata(parent).unwrap();
    snapshot.insert(
        ".".to_string(),
        format!("dir mtime={}.{}", meta.mtime(), meta.mtime_nsec()),
    );
    walk(parent, parent, &mut snapshot);
    snapshot
}

/// Every entry that differs between two snapshots, one line each.
fn tree_changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut changes = Vec::new();
    for (name, was) in before {
        match after.get(name) {
            None => changes.push(format!("removed {name}: was {was}")),
            Some(now) if now != was => changes.push(format!("changed {name}: {was} => {now}")),
            Some(_) => {}
        }
    }
    for (name, now) in after {
        if !before.contains_key(name) {
            changes.push(format!("created {name}: {now}"));
        }
    }
    changes
}

/// `ops` applied to each path, `{}` standing for the path.
fn each(paths: &[&str], ops: &[&str]) -> Vec<String> {
    paths
        .iter()
        .flat_map(|path| ops.iter().map(move |op| op.replace("{}", path)))
        .collect()
}

#[test]
fn dot_dot_and_absolute_paths_fail_for_every_operation() {
    let jail = Jail::new();
    // Ways to name the directory around data/.
    let outside = [
        "..",
        "./..",
        "sub/../..",
        "sub/./../..",
        "sub-link/../..",
        "{parent}",
        "/{parent}",
    ];
    let mut escapes = each(
        &outside,
        &[
            "read {}/secret.txt",
            "stat {}/secret.txt",
            "lstat {}/secret.txt",
            "openw {}/victim.txt",
            "trunc {}/victim.txt",
            "append {}/victim.txt",
            "write {}/victim.txt",
            "touch {}/victim.txt",
            "write {}/new.txt",
            "create {}/new.txt",
            "unlink {}/victim.txt",
            "rename {}/victim.txt stolen",
            "rename inside.txt {}/victim.txt",
            "rename inside.txt {}/moved.txt",
            "rename sub {}/moved-dir",
            "rename {}/outside moved-in",
            "link {}/secret.txt hard",
            "link inside.txt {}/hard.txt",
            "symlink inside.txt {}/made-link",
            "readlink {}/outlink",
            "mkdir {}/newdir",
            "rmdir {}/outside/empty",
            "list {}",
            "list {}/outside",
            "read {}/data/inside.txt",
            "at {}/outside read file",
            "at {} write new.txt",
            "at {}/outside unlink file",
        ],
    );
    // Outside the temporary directory: never anything that writes.
    escapes.extend(each(
        &[
            "/etc/passwd",
            "//etc/passwd",
            "/etc/../etc/passwd",
            "../../../../../../etc/passwd",
        ],
        &["read {}", "stat {}", "openw {}"],
    ));
    escapes.extend(
        [
            "list /",
            "list /etc",
            "list ../../../../../..",
            "at / read etc/passwd",
        ]
        .map(String::from),
    );
    jail.assert_escapes_fail(&escapes);
}

#[test]
fn symlinks_in_the_directory_that_lead_out_are_not_followed() {
    let jail = Jail::new();
    let file_links = [
        "up-link",
        "abs-link",
        "victim-link",
        "victim-abs",
        "sub/up2",
        "chain",
    ];
    let mut escapes = each(
        &file_links,
        &[
            "read {}",
            "stat {}",
            "openw {}",
            "trunc {}",
            "append {}",
            "write {}",
            "touch {}",
            "link-follow {} hard",
            "at sub read ../{}",
        ],
    );
    escapes.extend(each(&["etc-link"], &["read {}", "stat {}", "openw {}"]));
    // Loops end in an error, not a hang (and never outside).
    escapes.extend(each(
        &["loop-a", "self", "bounce", "loop-a/x"],
        &["read {}", "stat {}", "write {}", "list {}", "mkdir {}/d"],
    ));
    jail.assert_escapes_fail(&escapes);
    // The links themselves are still the program's to see.
    let lines = jail.run(&["lstat up-link".to_string()]);
    assert!(
        lines[0].starts_with("lstat up-link => ok type=7"),
        "{lines:?}"
    );
}

#[test]
fn links_the_program_makes_do_not_lead_out() {
    let jail = Jail::new();
    // Making them may succeed or not; going through them must fail.
    let made = jail.make_links(&[
        ("my-up", "../secret.txt"),
        ("my-abs", "{parent}/secret.txt"),
        ("my-etc", "/etc/passwd"),
        ("my-victim", "../victim.txt"),
        ("my-victim-abs", "{parent}/victim.txt"),
        ("sub/my-up2", "../../secret.txt"),
        ("my-updir", ".."),
        ("my-outdir", "../outside"),
        ("my-abs-outdir", "{parent}/outside"),
        ("my-dangle", "../made.txt"),
        ("my-dangle-abs", "{parent}/made-abs.txt"),
        ("my-loop", "my-loop"),
    ]);
    eprintln!("links the host let the program make: {made:?}");
    let made_of = |names: &[&'static str]| -> Vec<&'static str> {
        names.iter().copied().filter(|n| made.contains(n)).collect()
    };
    let mut escapes = each(
        &made_of(&[
            "my-up",
            "my-abs",
            "my-victim",
            "my-victim-abs",
            "sub/my-up2",
        ]),
        &[
            "read {}",
            "stat {}",
            "openw {}",
            "trunc {}",
            "append {}",
            "write {}",
            "touch {}",
            "link-follow {} hard",
        ],
    );
    escapes.extend(each(
        &made_of(&["my-etc"]),
        &["read {}", "stat {}", "openw {}"],
    ));
    escapes.extend(each(
        &made_of(&["my-updir", "my-outdir", "my-abs-outdir"]),
        &[
            "list {}",
            "read {}/secret.txt",
            "read {}/file",
            "write {}/new.txt",
            "write {}/victim.txt",
            "mkdir {}/newdir",
            "rmdir {}/empty",
            "unlink {}/file",
            "unlink {}/victim.txt",
            "at {} read file",
        ],
    ));
    escapes.extend(each(
        &made_of(&["my-dangle", "my-dangle-abs"]),
        &["write {}", "create {}", "append {}", "mkdir {}/x"],
    ));
    escapes.extend(each(&made_of(&["my-loop"]), &["read {}", "write {}"]));
    // Hard links to or from outside.
    escapes.extend(
        [
            "link ../secret.txt my-hard",
            "link {parent}/secret.txt my-hard-abs",
            "link inside.txt ../my-hard-out",
            "link inside.txt {parent}/my-hard-out-abs",
            "link my-outdir/file my-hard-via-link",
        ]
        .map(|op| op.to_string()),
    );
    jail.assert_escapes_fail(&escapes);
    // No regular file inside holds the secret (a hard link would also show
    // in the snapshot's link count of secret.txt).
    let mut dirs = vec![jail.data()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() {
                let text = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&text).contains("SECRET"),
                    "{} holds the secret",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn changes_through_a_link_to_an_outside_directory_fail() {
    let jail = Jail::new();
    let dir_links = [
        "outdir",
        "abs-outdir",
        "updir/outside",
        "sub-link/../outdir",
    ];
    let mut escapes = each(
        &dir_links,
        &[
            "list {}",
            "stat {}/file",
            "rename {}/file stolen",
            "rename inside.txt {}/moved.txt",
            "rename inside.txt {}/file",
            "rename sub {}/moved-dir",
            "rename {}/empty moved-in",
            "link {}/file hard",
            "link inside.txt {}/hard.txt",
            "symlink inside.txt {}/made-link",
            "mkdir {}/newdir",
            "mkdir {}/empty/newdir",
            "rmdir {}/empty",
            "unlink {}/file",
            "touch {}/file",
            "at {} mkdir newdir",
            "at {} rename file ../stolen",
        ],
    );
    escapes.extend(each(
        &["updir"],
        &[
            "unlink {}/victim.txt",
            "rename {}/victim.txt stolen",
            "rename inside.txt {}/victim.txt",
            "link {}/secret.txt hard",
            "mkdir {}/newdir",
            "rmdir {}/outside/empty",
            "readlink {}/outlink",
        ],
    ));
    jail.assert_escapes_fail(&escapes);
    assert!(jail.data().join("inside.txt").exists());
    assert!(jail.data().join("sub/deep.txt").exists());
}

#[test]
fn creating_through_a_dangling_link_to_outside_creates_nothing() {
    let jail = Jail::new();
    let mut dangling = vec!["dangle", "dangle-abs"];
    dangling.extend(jail.make_links(&[
        ("my-dangle", "../made-by-program.txt"),
        ("my-dangle-in-outdir", "../outside/made.txt"),
    ]));
    let escapes = each(
        &dangling,
        &[
            "write {}",
            "create {}",
            "append {}",
            "openw {}",
            "trunc {}",
            "touch {}",
            "mkdir {}/x",
            "at sub write ../{}",
            "link inside.txt {}/x",
        ],
    );
    jail.assert_escapes_fail(&escapes);
    for made in [
        "made.txt",
        "made-abs.txt",
        "made-by-program.txt",
        "outside/made.txt",
    ] {
        assert!(!jail.parent().join(made).exists(), "{made} was created");
    }
}

#[test]
fn files_cannot_be_created_in_an_outside_directory_through_a_link() {
    let jail = Jail::new();
    let mut dir_links = vec!["outdir", "abs-outdir", "updir", "sub-link/../outdir"];
    dir_links.extend(jail.make_links(&[("my-outdir", "../outside")]));
    let escapes = each(
        &dir_links,
        &[
            "write {}/new.txt",
            "create {}/new.txt",
            "append {}/new.txt",
            "mkdir {}/new-dir",
            "symlink inside.txt {}/new-link",
            "link inside.txt {}/new-hard",
            "rename sub/deep.txt {}/new-moved",
            "at {} write new.txt",
            "at {} create new.txt",
        ],
    );
    jail.assert_escapes_fail(&escapes);
    assert_eq!(list_dir(&jail.parent().join("outside")), ["empty", "file"]);
}

#[test]
fn operations_inside_the_directory_still_work() {
    let jail = Jail::new();
    // Each operation and the line it must print.
    let expected = [
        ("read inside.txt", "ok inside"),
        ("read ./inside.txt", "ok inside"),
        ("read sub/../inside.txt", "ok inside"),
        ("read sub/./deep.txt", "ok deep"),
        ("read in-link", "ok inside"),
        ("read sub/up-in", "ok inside"),
        ("read sub-link/deep.txt", "ok deep"),
        ("read sub-link/up-in", "ok inside"),
        ("stat in-link", "ok type=4 size=7"),
        ("lstat in-link", "ok type=7 size=10"),
        ("readlink in-link", "ok inside.txt"),
        ("list sub-link", "ok chain2,deep.txt,up-in,up2"),
        ("at sub read deep.txt", "ok deep"),
        ("at sub-link read deep.txt", "ok deep"),
        ("symlink inside.txt mine", "ok "),
        ("symlink ../inside.txt sub/mine-up", "ok "),
        ("symlink sub my-sub", "ok "),
        ("read mine", "ok inside"),
        ("read sub/mine-up", "ok inside"),
        ("read my-sub/deep.txt", "ok deep"),
        ("write in-link", "ok "),
        ("read inside.txt", "ok written"),
        ("append mine", "ok "),
        ("stat inside.txt", "ok type=4 size=16"),
        ("trunc sub/mine-up", "ok "),
        ("stat inside.txt", "ok type=4 size=0"),
        ("touch mine", "ok "),
        ("mkdir new-dir", "ok "),
        ("create new-dir/f", "ok "),
        ("create new-dir/f", "error EEXIST"),
        ("write my-sub/new.txt", "ok "),
        ("read sub/new.txt", "ok written"),
        ("rename new-dir/f new-dir/g", "ok "),
        ("link new-dir/g hard", "ok "),
        ("read hard", "ok written"),
        ("stat hard", "ok type=4 size=8"),
        ("unlink new-dir/g", "ok "),
        ("rmdir new-dir", "ok "),
        ("rename sub/deep.txt deep-moved.txt", "ok "),
        ("read deep-moved.txt", "ok deep"),
        ("unlink mine", "ok "),
        ("read inside.txt", "ok "),
        ("list my-sub", "ok chain2,mine-up,new.txt,up-in,up2"),
    ];
    let ops: Vec<String> = expected.iter().map(|(op, _)| op.to_string()).collect();
    let lines = jail.run(&ops);
    let wrong: Vec<String> = expected
        .iter()
        .zip(&lines)
        .filter(|((op, want), line)| **line != format!("{op} => {want}"))
        .map(|((_, want), line)| format!("{line} (expected {want})"))
        .collect();
    assert!(wrong.is_empty(), "inside operations:\n{}", wrong.join("\n"));
    let changes = tree_changes(&jail.before, &outside_snapshot(jail.parent()));
    assert!(
        changes.is_empty(),
        "outside changed:\n{}",
        changes.join("\n")
    );

    let data = jail.data();
    assert_eq!(
        std::fs::read_to_string(data.join("inside.txt")).unwrap(),
        ""
    );
    assert_eq!(
        std::fs::read_to_string(data.join("hard")).unwrap(),
        "written\n"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("sub/new.txt")).unwrap(),
        "written\n"
    );
    assert_eq!(
        std::fs::read_link(data.join("sub/mine-up")).unwrap(),
        Path::new("../inside.txt")
    );
    assert!(!data.join("mine").exists() && !data.join("new-dir").exists());
    let mtime = std::fs::metadata(data.join("inside.txt")).unwrap().mtime();
    assert_eq!(mtime, 1, "touch through a link inside sets the file's time");
}
