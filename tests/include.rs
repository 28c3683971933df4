//! Self-contained programs: files embedded with `--include`, leading
//! arguments baked with `--arg`, and `.wat` input. The embedded tree is
//! compared with the same tree given to the `wasmtime` CLI as a `--dir`, and
//! every test deletes the source tree after packing: the packed file must
//! need nothing beside it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A tree with what tools ship: nested directories, a file large enough to
/// be page-aligned, an empty file, relative symlinks to a file and a
/// directory, and a dangling link that stays inside.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("lib/sub")).unwrap();
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();
    std::fs::write(root.join("a.txt"), "alpha\nbeta\n").unwrap();
    std::fs::write(root.join("empty"), "").unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(root.join("lib/big.bin"), big).unwrap();
    std::fs::write(root.join("lib/sub/deep.txt"), "deep").unwrap();
    std::os::unix::fs::symlink("lib/sub/deep.txt", root.join("link-to-file")).unwrap();
    std::os::unix::fs::symlink("../../lib", root.join("lib/sub/up-link")).unwrap();
    std::os::unix::fs::symlink("missing", root.join("dangling")).unwrap();
}

fn sample_tree() -> PathBuf {
    sample("tree")
}

/// Packs `wasm` into `exe` with `tree` embedded as `guest` (plus `extra`
/// options), then deletes `tree`: the output must need nothing beside it.
fn pack_and_delete(wasm: &Path, exe: &Path, tree: &Path, guest: &str, extra: &[&str]) {
    let spec = format!("{}::{guest}", tree.display());
    let mut args = vec!["--include", spec.as_str()];
    args.extend_from_slice(extra);
    pack(wasm, exe, &args);
    std::fs::remove_dir_all(tree).unwrap();
}

fn run(exe: &Path, args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(exe)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (out.status.code(), stdout(&out), stderr(&out))
}

/// The lines of the tree sample's output that only read the tree.
fn reads_only(output: &str) -> String {
    output
        .lines()
        .take_while(|l| !l.starts_with("create:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_embedded_tree_reads_like_the_same_directory() {
    let dir = tempdir();
    let src = dir.path().join("data");
    make_tree(&src);

    // The reference: the same program and tree under `wasmtime run --dir`
    // (read before the packed run, whose tree is then deleted).
    let copy = dir.path().join("copy");
    make_tree(&copy);
    let wasmtime = reference_wasmtime();
    let reference = Command::new(&wasmtime)
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", copy.display()))
        .arg(sample_tree())
        .arg("/data")
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", stderr(&reference));
    let expected = reads_only(&stdout(&reference));

    let exe = dir.path().join("tree-app");
    pack_and_delete(&sample_tree(), &exe, &src, "/data", &["--arg", "/data"]);
    let (code, out, err) = run(&exe, &[], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(reads_only(&out), expected, "packed vs wasmtime --dir");
    assert!(out.contains("file lib/big.bin 200000 bytes"), "{out}");
    assert!(
        out.contains("link link-to-file -> lib/sub/deep.txt (Some(\"4 bytes\"))"),
        "{out}"
    );
    assert!(out.contains("lib/sub/.. has 2 entries"), "{out}");

    // Every change refused with EROFS (WASI errno 69); nothing changed.
    for what in ["create", "mkdir", "overwrite", "remove", "rename"] {
        assert!(
            out.contains(&format!("{what}: refused (os error Some(69))")),
            "{what}: {out}"
        );
    }
    assert!(out.contains("after: 6 entries"), "{out}");
}

/// Names that sort between a directory and its contents: `lib-x.txt`
/// comes after `lib` but before `lib/a.txt` (`-` sorts before `/`). A tree
/// in walk order was refused as damaged by the stub; found when samples/
/// got `preinit` and `preinit-c`.
#[test]
fn names_sorting_inside_a_directorys_run() {
    let dir = tempdir();
    let tree = dir.path().join("t");
    std::fs::create_dir_all(tree.join("lib/sub")).unwrap();
    std::fs::create_dir_all(tree.join("lib.d")).unwrap();
    std::fs::write(tree.join("lib/a.txt"), "a").unwrap();
    std::fs::write(tree.join("lib/sub/b.txt"), "bb").unwrap();
    std::fs::write(tree.join("lib-x.txt"), "xyz").unwrap();
    std::fs::write(tree.join("lib.d/c.txt"), "cccc").unwrap();
    let exe = dir.path().join("tree");
    pack_and_delete(&sample_tree(), &exe, &tree, "/data", &["--arg", "/data"]);
    let (code, out, err) = run(&exe, &[], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_contains_all(
        "tree",
        &out,
        &[
            "file lib/a.txt 1 bytes",
            "file lib/sub/b.txt 2 bytes",
            "file lib-x.txt 3 bytes",
            "file lib.d/c.txt 4 bytes",
        ],
    );
}

#[test]
fn args_come_before_the_users_own() {
    let dir = tempdir();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(app.join("main.py"), "print('hi')\n").unwrap();
    let exe = dir.path().join("myapp");
    pack_and_delete(
        &sample("args"),
        &exe,
        &app,
        "/app",
        &["--arg", "/app/main.py", "--arg", "-x"],
    );
    let (code, out, err) = run(&exe, &["one", "two words"], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("argv[1]=/app/main.py\nargv[2]=-x\nargv[3]=one\nargv[4]=two words\n"),
        "{out}"
    );

    // The interpreter case: the baked argument names a file in the tree,
    // which the program then reads.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("script.txt"), "one two three\n").unwrap();
    let wc = dir.path().join("wc-script");
    pack_and_delete(
        &sample("wc"),
        &wc,
        &data,
        "/app",
        &["--arg", "/app/script.txt"],
    );
    let (code, out, err) = run(&wc, &[], dir.path());
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "1 3 14 /app/script.txt\n"),
        "{err}"
    );
}

#[test]
fn single_files_and_relative_guest_names() {
    let dir = tempdir();
    std::fs::write(dir.path().join("notes.txt"), "a b\nc\n").unwrap();
    let exe = dir.path().join("wc");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // `--include notes.txt` shows the file as `notes.txt`, relative to the
    // program's working directory, as `--dir` does.
    let out = Command::new(wpack_bin())
        .current_dir(dir.path())
        .args([sample("wc").to_str().unwrap(), "-q", "-o"])
        .arg(&exe)
        .args([
            "--include",
            "notes.txt",
            "--include",
            "notes.txt::/etc/n.txt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(dir.path().join("notes.txt")).unwrap();
    let (code, out, err) = run(&exe, &["notes.txt", "/etc/n.txt"], &work);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "2 3 6 notes.txt\n2 3 6 /etc/n.txt\n");
}

#[test]
fn damaged_embedded_data_is_reported_not_served() {
    let dir = tempdir();
    let src = dir.path().join("data");
    make_tree(&src);
    let exe = dir.path().join("tree-app");
    pack(
        &sample_tree(),
        &exe,
        &["--include", &format!("{}::/data", src.display())],
    );
    let mut bytes = std::fs::read(&exe).unwrap();
    // The big file's bytes are the longest run of this pattern.
    let needle: Vec<u8> = (1000..1064u32).map(|i| (i * 7 % 251) as u8).collect();
    let at = bytes.windows(64).position(|w| w == needle).unwrap();
    bytes[at] ^= 1;
    let bad = dir.path().join("bad");
    write_executable(&bad, &bytes);
    let (code, _, err) = run(&bad, &["/data"], dir.path());
    assert_ne!(code, Some(0));
    assert!(
        err.contains("embedded file lib/big.bin is damaged"),
        "{err}"
    );
}

#[test]
fn same_inputs_same_bytes() {
    let dir = tempdir();
    let src = dir.path().join("data");
    make_tree(&src);
    let spec = format!("{}::/data", src.display());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    pack(&sample_tree(), &a, &["--include", &spec]);
    // A later modification time changes nothing.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(src.join("a.txt"), "alpha\nbeta\n").unwrap();
    pack(&sample_tree(), &b, &["--include", &spec]);
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
}

#[test]
fn inspect_lists_trees_and_args() {
    let dir = tempdir();
    let src = dir.path().join("data");
    make_tree(&src);
    let exe = dir.path().join("app");
    pack(
        &sample_tree(),
        &exe,
        &[
            "--include",
            &format!("{}::/data", src.display()),
            "--arg",
            "/data",
        ],
    );
    let text = stdout(&wpack(&["inspect", exe.to_str().unwrap()]));
    assert!(
        text.contains("/data (read-only): 4 files, 4 directories, 3 symlinks, 200015 bytes"),
        "{text}"
    );
    assert!(text.contains("Arguments:      \"/data\""), "{text}");
    let json = wpack(&["inspect", "--json", exe.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["args"][0], "/data");
    assert_eq!(json["embedded"][0]["guest"], "/data");
    assert_eq!(json["embedded"][0]["files"], 4);
    assert_eq!(json["embedded"][0]["bytes"], 200015);
}

#[test]
fn bad_includes_are_clear_errors() {
    let dir = tempdir();
    let p = |name: &str| dir.path().join(name).display().to_string();
    refuses(
        &sample("hello"),
        &["--include", &p("nope")],
        "no such file or directory",
    );

    let with_socket = dir.path().join("sock");
    std::fs::create_dir(&with_socket).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(with_socket.join("s")).unwrap();
    refuses(&sample("hello"), &["--include", &p("sock")], "is a socket");

    let leaky = dir.path().join("leaky");
    std::fs::create_dir(&leaky).unwrap();
    std::os::unix::fs::symlink("../../etc/passwd", leaky.join("pw")).unwrap();
    refuses(
        &sample("hello"),
        &["--include", &p("leaky")],
        "leads out of the included tree",
    );
    std::fs::remove_file(leaky.join("pw")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", leaky.join("pw")).unwrap();
    refuses(
        &sample("hello"),
        &["--include", &p("leaky")],
        "leads out of the included tree",
    );

    let ok = dir.path().join("ok");
    std::fs::create_dir(&ok).unwrap();
    std::fs::write(ok.join("f"), "x").unwrap();
    let spec = format!("{}::/data", ok.display());
    refuses(
        &sample("hello"),
        &["--include", &spec, "--dir", "/tmp::/data"],
        "overlap",
    );
    refuses(
        &sample("hello"),
        &[
            "--include",
            &spec,
            "--include",
            &format!("{}::/data/x", ok.display()),
        ],
        "overlap",
    );
    refuses(
        &sample("hello"),
        &["--include", &spec, "--include", &spec],
        "included twice",
    );

    // The output inside the included tree: the next pack would include it.
    let out = wpack(&[
        sample("hello").to_str().unwrap(),
        "--include",
        &spec,
        "-o",
        ok.join("hello").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("would be inside what is included"),
        "{}",
        stderr(&out)
    );
    assert!(!ok.join("hello").exists());
}

#[test]
fn wat_text_input_packs_like_its_binary() {
    let dir = tempdir();
    let wat = root().join("tests/wasi/features/simd.wat");
    let exe = dir.path().join("simd");
    pack(&wat, &exe, &[]);
    let (code, _, err) = run(&exe, &[], dir.path());
    assert_eq!(code, Some(42), "{err}");

    let bad = dir.path().join("bad.wat");
    std::fs::write(
        &bad,
        "(module\n  (func $f (export \"_start\")\n    (i32.bogus))\n)\n",
    )
    .unwrap();
    refuses(&bad, &[], "(text format)");
    refuses(&bad, &[], ":3:");
}

#[test]
fn embedded_trees_pack_for_every_target() {
    let dir = tempdir();
    let src = dir.path().join("data");
    make_tree(&src);
    let spec = format!("{}::/data", src.display());
    for target in targets_carried() {
        let out = dir.path().join(format!("tree-{target}"));
        pack(
            &sample_tree(),
            &out,
            &["--include", &spec, "--target", &target],
        );
        let bytes = std::fs::read(&out).unwrap();
        let packed = wpack_stub::payload::read(&bytes).unwrap();
        assert_eq!(packed.manifest.trees.len(), 1, "{target}");
        packed.verify_payload().unwrap();
        let text = stdout(&wpack(&["inspect", out.to_str().unwrap()]));
        assert!(
            text.contains("/data (read-only): 4 files"),
            "{target}: {text}"
        );
    }
}

/// 256 MB embedded cost nothing until read: the program starts with the
/// same resident memory as without them (timings: BENCHMARKS.md).
#[test]
fn a_large_embedded_file_costs_nothing_at_start() {
    let dir = tempdir();
    let wasm = dir.path().join("ready.wasm");
    std::fs::write(
        &wasm,
        wat::parse_str(
            r#"(module
              (import "wasi_snapshot_preview1" "fd_write"
                (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "ready\n")
              (func (export "_start")
                (i32.store (i32.const 16) (i32.const 0))
                (i32.store (i32.const 20) (i32.const 6))
                (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
                (loop (br 0))))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    let file = std::fs::File::create(big.join("data.bin")).unwrap();
    file.set_len(256 << 20).unwrap();
    drop(file);

    let plain = dir.path().join("plain");
    let heavy = dir.path().join("heavy");
    pack(&wasm, &plain, &[]);
    pack_and_delete(&wasm, &heavy, &big, "/big", &[]);
    assert!(std::fs::metadata(&heavy).unwrap().len() > 256 << 20);
    // Twice each: the first start of a file also checks the payload hash.
    let rss = |exe: &Path| {
        resident_when_ready(&mut Command::new(exe));
        resident_when_ready(&mut Command::new(exe)).0
    };
    let (plain_rss, heavy_rss) = (rss(&plain), rss(&heavy));
    eprintln!("resident at start: plain {plain_rss} KiB, with 256 MiB embedded {heavy_rss} KiB");
    assert!(
        heavy_rss < plain_rss + 4096,
        "256 MiB embedded made start-up resident memory grow: {plain_rss} -> {heavy_rss} KiB"
    );
}

/// A module of a few MB gets progress lines while it compiles, not only a
/// line saying compilation started.
#[test]
fn long_packs_show_progress() {
    let dir = tempdir();
    let wasm = big_module(dir.path());
    let out = Command::new(wpack_bin())
        .arg(&wasm)
        .arg("-o")
        .arg(dir.path().join("big"))
        // Compiled now, even if an earlier run left this module's code in
        // the cache.
        .arg("--no-cache")
        .env("WPACK_PROGRESS_MS", "100")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("wpack: compiling "), "{err}");
    let ticks: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wpack: compiling: "))
        .collect();
    assert!(ticks.len() >= 2, "no progress lines: {err}");
    // Progress is counted in functions as they finish, so it only grows,
    // and the time left comes with it.
    let counts: Vec<usize> = ticks
        .iter()
        .filter_map(|l| {
            let (_, rest) = l.split_once("s, ")?;
            let (count, _) = rest.split_once(" of ")?;
            count.replace(' ', "").parse().ok()
        })
        .collect();
    assert!(!counts.is_empty(), "no function counts: {err}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{err}");
    assert!(
        ticks
            .iter()
            .any(|l| l.contains("functions (") && l.contains("s left")),
        "{err}"
    );
    assert!(err.contains("wpack: packed "), "{err}");
}
