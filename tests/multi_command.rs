//! Several commands in one file (`--command NAME=INPUT`): chosen by the name
//! the file is started under (symbolic link, hard link, copy) or by the
//! first argument, each with its own module and baked arguments; every
//! module stored once; the command table read back by `wpack inspect` and
//! by the stub. Other targets: tests/targets.rs and tests/macos.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn tool(name: &str) -> PathBuf {
    fixture(&format!("suite_{name}.wasm"))
}

/// Packs `--command a=suite_a.wasm ...` for each (name, module, baked
/// arguments) into `out`.
fn pack_suite(out: &Path, commands: &[(&str, &Path, &[&str])], extra: &[&str]) -> Output {
    let mut cmd = Command::new(wpack_bin());
    for (name, module, args) in commands {
        cmd.arg("--command")
            .arg(format!("{name}={}", module.display()));
        for arg in *args {
            cmd.arg(format!("--command-arg={name}={arg}"));
        }
    }
    cmd.arg("-o").arg(out).args(extra).output().unwrap()
}

fn packs(output: Output) {
    assert!(output.status.success(), "wpack failed: {}", stderr(&output));
}

fn run(exe: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let (out, killed) = run_with_timeout(
        Command::new(exe).args(args),
        std::time::Duration::from_secs(60),
    );
    assert!(!killed, "{} hung", exe.display());
    (out.status.code(), stdout(&out), stderr(&out))
}

/// The three modules of three commands, each with its own argument.
fn three(dir: &Path) -> PathBuf {
    let out = dir.join("tools");
    let (a, b, c) = (tool("a"), tool("b"), tool("c"));
    packs(pack_suite(
        &out,
        &[
            ("alpha", &a, &["--from-alpha"]),
            ("beta", &b, &["--from-beta", "second"]),
            ("gamma", &c, &["--from-gamma"]),
        ],
        &["--quiet", "--env", "SUITE_SHARED=yes"],
    ));
    out
}

/// What `tool` prints when started as command `name` with its baked
/// arguments `baked` and the user's `user`.
fn expected(tool: &str, name: &str, baked: &[&str], user: &[&str]) -> String {
    let mut text = format!("tool={tool}\nargv[0]={name}\n");
    for (i, arg) in baked.iter().chain(user).enumerate() {
        text.push_str(&format!("argv[{}]={arg}\n", i + 1));
    }
    text.push_str("env SUITE_SHARED=yes\n");
    text
}

#[test]
fn three_commands_from_three_modules_by_link_copy_and_argument() {
    let dir = tempdir();
    let tools = three(dir.path());
    let cases = [
        ("alpha", "a", &["--from-alpha"][..], 10),
        ("beta", "b", &["--from-beta", "second"][..], 11),
        ("gamma", "c", &["--from-gamma"][..], 12),
    ];
    for (i, (name, module, baked, status)) in cases.into_iter().enumerate() {
        // Each command by each way of starting it: a symbolic link, a hard
        // link and a copy named after it, and `tools NAME ARGS`.
        let ways = dir.path().join(format!("ways-{name}"));
        std::fs::create_dir_all(ways.join("sym")).unwrap();
        std::fs::create_dir_all(ways.join("hard")).unwrap();
        std::fs::create_dir_all(ways.join("copy")).unwrap();
        std::os::unix::fs::symlink(&tools, ways.join("sym").join(name)).unwrap();
        std::fs::hard_link(&tools, ways.join("hard").join(name)).unwrap();
        std::fs::copy(&tools, ways.join("copy").join(name)).unwrap();
        let user = ["user arg", "exit=7"];
        for via in ["sym", "hard", "copy"] {
            let exe = ways.join(via).join(name);
            let (code, out, err) = run(&exe, &user[..1]);
            assert_eq!(
                out,
                expected(module, name, baked, &user[..1]),
                "{name} via {via}: {err}"
            );
            assert_eq!(code, Some(status), "{name} via {via}: its own status");
            let (code, _, err) = run(&exe, &user);
            assert_eq!(code, Some(7), "{name} via {via}: exit=7: {err}");
        }
        let mut args = vec![name];
        args.extend(user);
        let (code, out, err) = run(&tools, &args);
        assert_eq!(
            out,
            expected(module, name, baked, &user),
            "tools {name}: {err}"
        );
        assert_eq!(code, Some(7), "tools {name}");
        let (code, _, _) = run(&tools, &[name]);
        assert_eq!(code, Some(status), "tools {name} ({i})");
    }

    // No command named: the list, on stderr, and status 2.
    for args in [&[][..], &["delta", "x"][..]] {
        let (code, out, err) = run(&tools, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert!(err.ends_with("commands: alpha, beta, gamma\n"), "{err}");
        assert!(err.contains("usage: tools COMMAND [ARGS...]"), "{err}");
    }
    let (_, _, err) = run(&tools, &["delta"]);
    assert!(
        err.starts_with("tools: no command named \"delta\"\n"),
        "{err}"
    );
    let unknown = dir.path().join("delta");
    std::os::unix::fs::symlink(&tools, &unknown).unwrap();
    let (code, _, err) = run(&unknown, &[]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("delta: name a command\n"), "{err}");
}

/// Reads a packed file's trailer fields: (format version, payload offset).
fn trailer(file: &[u8]) -> (u32, u64) {
    let t = &file[file.len() - 64..];
    (
        u32::from_le_bytes(t[48..52].try_into().unwrap()),
        u64::from_le_bytes(t[0..8].try_into().unwrap()),
    )
}

#[test]
fn one_module_is_stored_once_however_many_commands_run_it() {
    let dir = tempdir();
    let single = dir.path().join("single");
    pack(&tool("a"), &single, &[]);
    let suite = dir.path().join("suite");
    let a = tool("a");
    // The same module under two paths is recognised by its bytes.
    let copy = dir.path().join("copy-of-a.wasm");
    std::fs::copy(&a, &copy).unwrap();
    packs(pack_suite(
        &suite,
        &[
            ("one", &a, &["1"]),
            ("two", &a, &["2"]),
            ("three", &copy, &[]),
        ],
        &["--quiet"],
    ));
    let (single, suite_bytes) = (
        std::fs::read(&single).unwrap(),
        std::fs::read(&suite).unwrap(),
    );
    // Version 7 for one program, 8 for a suite; the same payload place.
    assert_eq!(trailer(&single), (7, trailer(&suite_bytes).1));
    assert_eq!(trailer(&suite_bytes).0, 8);
    let grown = suite_bytes.len() as i64 - single.len() as i64;
    assert!(
        (0..4096).contains(&grown),
        "three commands on one module add {grown} bytes to it"
    );
    let (code, out, _) = run(&suite, &["two", "x"]);
    assert_eq!(code, Some(10));
    assert!(out.contains("argv[0]=two\nargv[1]=2\nargv[2]=x\n"), "{out}");

    let json = wpack(&["inspect", "--json", suite.to_str().unwrap()]);
    assert!(json.status.success(), "{}", stderr(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["format_version"], 8);
    assert_eq!(report["other_codes"].as_array().unwrap().len(), 0);
    let commands = report["commands"].as_array().unwrap();
    let names: Vec<&str> = commands
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["one", "two", "three"]);
    assert!(
        commands
            .iter()
            .all(|c| c["code"] == 0 && c["module"] == "suite_a.wasm")
    );
    assert_eq!(commands[1]["args"], serde_json::json!(["2"]));
}

#[test]
fn inspect_lists_commands_and_verifies_every_code() {
    let dir = tempdir();
    let tools = three(dir.path());
    let text = wpack(&["inspect", tools.to_str().unwrap()]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert_contains_all(
        "inspect",
        &text,
        &[
            "Format:         wpack payload version 8",
            "Commands:       alpha: runs suite_a.wasm with \"--from-alpha\"",
            "                beta: runs suite_b.wasm with \"--from-beta\" \"second\"",
            "                gamma: runs suite_c.wasm with \"--from-gamma\"",
            "Other code:     suite_b.wasm: ",
            "                suite_c.wasm: ",
        ],
    );
    let json = wpack(&["inspect", "--json", tools.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let codes = report["other_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 2);
    let commands = report["commands"].as_array().unwrap();
    assert_eq!(commands[2]["code"], 2);
    assert_eq!(commands[2]["env"][0]["name"], "SUITE_SHARED");

    // A flipped byte in the third command's code: inspect refuses the file,
    // that command refuses to start, and the others still run.
    let mut bytes = std::fs::read(&tools).unwrap();
    let offset = codes[1]["offset"].as_u64().unwrap() as usize;
    bytes[offset + 100] ^= 0x40;
    let damaged = dir.path().join("damaged");
    write_executable(&damaged, &bytes);
    let out = wpack(&["inspect", damaged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
    let (code, out, err) = run(&damaged, &["gamma"]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert!(err.contains("damaged (checksum mismatch)"), "{err}");
    let (code, _, err) = run(&damaged, &["alpha"]);
    assert_eq!(code, Some(10), "{err}");
}

/// Each code a command runs is hashed once, then remembered like the
/// payload of a single program (stub/src/runtime/verified.rs), and checked
/// again once the file changes.
#[test]
fn every_code_is_verified_once_and_again_after_a_change() {
    use std::io::{Seek, SeekFrom, Write};

    let dir = tempdir();
    let cache = tempdir();
    let tools = three(dir.path());
    let json = wpack(&["inspect", "--json", tools.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let gamma_code = report["other_codes"][1]["offset"].as_u64().unwrap();
    let run = |name: &str| {
        let out = Command::new(&tools)
            .arg(name)
            .env("XDG_CACHE_HOME", cache.path())
            .env("WPACK_DEBUG", "1")
            .output()
            .unwrap();
        (out.status.code(), stderr(&out))
    };
    let entries = || list_dir(&cache.path().join("wpack").join("verified"));

    // Older than the settling time, so that checks are remembered.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (code, err) = run("gamma");
    assert_eq!(code, Some(12), "{err}");
    assert!(err.contains("code 2 checksum: verified now"), "{err}");
    let (code, err) = run("gamma");
    assert_eq!(code, Some(12), "{err}");
    assert!(
        err.contains("code 2 checksum: verified at an earlier start"),
        "{err}"
    );
    let (code, err) = run("alpha");
    assert_eq!(code, Some(10), "{err}");
    assert!(err.contains("code 0 checksum: verified now"), "{err}");
    let names = entries();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-2")), "{names:?}");

    // One byte of gamma's code changed in place (same file, same size).
    let byte = std::fs::read(&tools).unwrap()[gamma_code as usize + 100];
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&tools)
        .unwrap();
    file.seek(SeekFrom::Start(gamma_code + 100)).unwrap();
    file.write_all(&[byte ^ 0x40]).unwrap();
    drop(file);
    let (code, err) = run("gamma");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("damaged (checksum mismatch)"), "{err}");
    let (code, err) = run("alpha");
    assert_eq!(code, Some(10), "{err}");
    assert!(err.contains("code 0 checksum: verified now"), "{err}");
}

#[test]
fn links_are_made_beside_the_output() {
    let dir = tempdir();
    let out = dir.path().join("dist/tools");
    let bin = dir.path().join("dist/bin");
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    let (a, b) = (tool("a"), tool("b"));
    let packed = pack_suite(
        &out,
        &[("alpha", &a, &[]), ("beta", &b, &[])],
        &["--links", bin.to_str().unwrap()],
    );
    assert!(packed.status.success(), "{}", stderr(&packed));
    assert!(
        stderr(&packed).contains("wpack: packed 2 commands (alpha, beta) into "),
        "{}",
        stderr(&packed)
    );
    assert!(
        stderr(&packed).contains("made symbolic links to"),
        "{}",
        stderr(&packed)
    );
    assert_eq!(list_dir(&bin), ["alpha", "beta"]);
    // Relative: the directory can move as a whole.
    assert_eq!(
        std::fs::read_link(bin.join("beta")).unwrap(),
        Path::new("../tools")
    );
    let moved = dir.path().join("moved");
    std::fs::rename(dir.path().join("dist"), &moved).unwrap();
    let (code, stdout, err) = run(&moved.join("bin/beta"), &["x"]);
    assert_eq!(code, Some(11), "{err}");
    assert!(
        stdout.starts_with("tool=b\nargv[0]=beta\nargv[1]=x\n"),
        "{stdout}"
    );

    // For a file packed before; replacing what is there.
    let again = wpack(&[
        "--links",
        moved.join("bin").to_str().unwrap(),
        moved.join("tools").to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(list_dir(&moved.join("bin")), ["alpha", "beta"]);
    let (code, _, _) = run(&moved.join("bin/alpha"), &[]);
    assert_eq!(code, Some(10));

    // A file of one program has no commands to link.
    let single = dir.path().join("single");
    pack(&a, &single, &[]);
    let out = wpack(&[
        "--links",
        dir.path().join("l").to_str().unwrap(),
        single.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("holds one program"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("l").exists());
}

#[test]
fn shared_options_reach_every_command() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("note.txt"), "shared\n").unwrap();
    let out = dir.path().join("suite");
    let (args, wc) = (sample("args"), sample("wc"));
    packs(pack_suite(
        &out,
        &[("args", &args, &["baked"]), ("wc", &wc, &["/in/note.txt"])],
        &[
            "--quiet",
            "--arg=--first",
            "--include",
            &format!("{}::/in", data.display()),
            "--env",
            "MODE=fast",
        ],
    ));
    let (code, stdout, err) = run(&out, &["args", "mine"]);
    assert_eq!(code, Some(0), "{err}");
    assert_contains_all(
        "args",
        &stdout,
        &[
            "argv[0]=args\n",
            "argv[1]=--first\n",
            "argv[2]=baked\n",
            "argv[3]=mine\n",
            "env MODE=fast\n",
        ],
    );
    // The embedded tree, read by the other command, which got the shared
    // --arg too (no such file, so its status is 1).
    let (code, stdout, err) = run(&out, &["wc"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(stdout, "1 1 7 /in/note.txt\n");
    assert!(err.contains("wc: --first: "), "{err}");
}

#[test]
fn components_can_be_commands() {
    let dir = tempdir();
    let out = dir.path().join("suite");
    let hello = root().join("samples/hello/hello-p2.wasm");
    let args_env = root().join("tests/wasi/components/args_env.wasm");
    packs(pack_suite(
        &out,
        &[("hello", &hello, &[]), ("show", &args_env, &["baked"])],
        &["--quiet", "--env", "GREETING=hi"],
    ));
    let (code, stdout, err) = run(&out, &["hello"]);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "Hello, world!\n"),
        "{err}"
    );
    let (code, stdout, err) = run(&out, &["show", "user"]);
    assert_eq!(code, Some(0), "{err}");
    assert_contains_all(
        "show",
        &stdout,
        &["arg 0: \"baked\"", "arg 1: \"user\"", "env \"GREETING=hi\""],
    );
}

/// `wpack ARGS` fails with one line containing `expected` and writes nothing.
fn refused(args: &[&str], expected: &str) {
    let dir = tempdir();
    let out = dir.path().join("out");
    let mut cmd = Command::new(wpack_bin());
    cmd.args(args).current_dir(dir.path());
    if !args.contains(&"-o") {
        cmd.arg("-o").arg(&out);
    }
    let output = cmd.output().unwrap();
    let err = stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{args:?}: {err}");
    assert!(
        err.contains(expected),
        "{args:?}: expected {expected:?} in: {err}"
    );
    // Ours are one line; clap's add a usage line and a hint.
    let lines = err.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(lines <= 4, "{args:?}: short: {err}");
    assert_eq!(
        list_dir(dir.path()),
        Vec::<String>::new(),
        "{args:?}: nothing written"
    );
}

#[test]
fn what_cannot_work_is_refused_before_anything_is_written() {
    let a = format!("a={}", tool("a").display());
    let b = format!("b={}", tool("b").display());
    let a2 = format!("a={}", tool("b").display());
    let component = format!(
        "p2={}",
        root().join("samples/hello/hello-p2.wasm").display()
    );
    let hello = sample("hello");
    let hello = hello.to_str().unwrap();
    refused(
        &["--command", &a, "--command", &a2],
        "that name is given twice",
    );
    refused(
        &["--command", &a, "--command-arg", "z=1"],
        "there is no --command z (the commands are a)",
    );
    refused(
        &["--command", &a, "--command", &component],
        "one file runs either core modules or components",
    );
    refused(
        &["--command", &a, "--init-func", "init"],
        "--init-func init cannot be used with --command",
    );
    refused(
        &["--command", &a, "--command", &b, "-o"],
        "a value is required",
    );
    let no_o = Command::new(wpack_bin())
        .args(["--command", &a])
        .current_dir(tempdir().path())
        .output()
        .unwrap();
    assert!(
        stderr(&no_o).contains("give it one with -o FILE"),
        "{}",
        stderr(&no_o)
    );
    refused(&[hello, "--command", &a], "cannot be used with");
    refused(&["--command", "x/y=a.wasm"], "cannot contain '/'");
    refused(&["--command=-x=a.wasm"], "cannot start with `-`");
    refused(
        &["--command", "a="],
        "give the command's name and its program",
    );
    refused(&["--command", "a=missing.wasm"], "cannot read missing.wasm");
    let bad = fixture("env_import.wasm");
    refused(
        &[
            "--command",
            &a,
            "--command",
            &format!("bad={}", bad.display()),
        ],
        "env_import.wasm: imports `env::host_log`",
    );
    refused(
        &[
            "--command",
            &a,
            "--target",
            "x86_64-linux,aarch64-linux",
            "--links",
            "bin",
        ],
        "--links makes links to one file",
    );
}
