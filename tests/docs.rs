//! The documentation says what is true: the release workflow in docs/ passes
//! actionlint and ShellCheck (pinned; scripts/install-targets.sh installs them
//! into target/actionlint-venv, and a missing one fails these tests) and runs
//! the release command; the shell scripts in the docs pass ShellCheck; every
//! option a documented command line uses exists in that command's `--help`;
//! relative links and anchors resolve; README keeps its set-up commands and
//! BENCHMARKS.md opens with its newest full run.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const WORKFLOW: &str = "docs/release-workflow.yml";

fn missing(tool: &Path) -> ! {
    panic!(
        "{}: missing, so NOT TESTED. Install it with scripts/install-targets.sh \
         (scripts/test.sh runs it)",
        tool.display()
    );
}

/// A tool of target/actionlint-venv.
fn venv_tool(name: &str) -> PathBuf {
    let path = root().join("target/actionlint-venv/bin").join(name);
    if !path.is_file() {
        missing(&path);
    }
    path
}

/// actionlint with the pinned ShellCheck for `run:` scripts and without
/// pyflakes (none is pinned; the workflow has no Python), on `file`.
fn actionlint(file: &Path) -> Output {
    Command::new(venv_tool("actionlint"))
        .arg(format!("-shellcheck={}", venv_tool("shellcheck").display()))
        .args(["-pyflakes=", "-no-color", "-oneline"])
        .arg(file)
        .output()
        .expect("cannot run actionlint")
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// README.md and every docs/*.md, as (path relative to the root, text).
fn markdown_files() -> Vec<(String, String)> {
    let mut names: Vec<String> = fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_owned());
    names.into_iter().map(|n| (n.clone(), read(&n))).collect()
}

#[test]
fn the_release_workflow_passes_actionlint_and_shellcheck() {
    let out = actionlint(&root().join(WORKFLOW));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "actionlint {WORKFLOW}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// actionlint checks an action's inputs only when it is named by a version
/// it knows, not by a commit: every `uses:` is pinned to a commit with its
/// version in a comment, and the same file with each pin replaced by that
/// major version passes too.
#[test]
fn each_action_is_pinned_and_its_inputs_are_checked() {
    let text = read(WORKFLOW);
    let mut unpinned = String::new();
    let mut pins = 0;
    for line in text.lines() {
        let Some((indent, rest)) = line.split_once("uses: ") else {
            unpinned.push_str(line);
            unpinned.push('\n');
            continue;
        };
        let (action, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
        let (name, commit) = action.split_once('@').unwrap_or((action, ""));
        assert!(
            commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{WORKFLOW}: {name} is not pinned to a commit: {line}"
        );
        let major = comment.split('.').next().unwrap_or("");
        assert!(
            major.starts_with('v') && major[1..].parse::<u32>().is_ok(),
            "{WORKFLOW}: the pin of {name} has no `# vX.Y.Z` comment: {line}"
        );
        unpinned.push_str(&format!("{indent}uses: {name}@{major}\n"));
        pins += 1;
    }
    assert!(pins >= 3, "{WORKFLOW}: only {pins} actions found");
    let dir = tempdir();
    let copy = dir.path().join("release.yml");
    fs::write(&copy, unpinned).unwrap();
    let out = actionlint(&copy);
    assert!(
        out.status.success(),
        "{WORKFLOW} with versions instead of commits:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The checks above are real: a copy of the workflow with an unknown runner,
/// a misspelt input, an undefined context property and an unquoted variable
/// fails, and actionlint names each.
#[test]
fn actionlint_finds_the_mistakes_of_a_broken_copy() {
    let text = read(WORKFLOW);
    let mut broken = text
        .replacen("ubuntu-24.04-arm", "ubuntu-arm-latest", 1)
        .replacen("if-no-files-found", "if-no-file-found", 1)
        .replacen("github.token", "github.tokn", 1)
        .replacen(
            "sha256sum -c --strict SHA256SUMS",
            "sha256sum -c --strict $SUMS",
            1,
        );
    // The misspelt input is checked only without commit pins (see above).
    broken = broken
        .lines()
        .map(|l| match l.split_once("uses: ") {
            Some((indent, rest)) => {
                let name = rest.split('@').next().unwrap();
                let major = rest.split(" # ").nth(1).unwrap().split('.').next().unwrap();
                format!("{indent}uses: {name}@{major}\n")
            }
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(broken, text);
    let dir = tempdir();
    let copy = dir.path().join("release.yml");
    fs::write(&copy, broken).unwrap();
    let out = actionlint(&copy);
    let report = stdout(&out);
    assert!(!out.status.success(), "{report}");
    assert_contains_all(
        "actionlint's report",
        &report,
        &[
            "\"ubuntu-arm-latest\" is unknown",
            "input \"if-no-file-found\" is not defined",
            "property \"tokn\" is not defined",
            "SC2086",
        ],
    );
}

/// The workflow does what docs/SHIPPING.md says: the prebuilt wpack, pinned;
/// Rust for the wasm build only; the release command; the upload.
#[test]
fn the_release_workflow_runs_the_release_command() {
    let text = read(WORKFLOW);
    let release = text
        .split("- name: ")
        .find(|step| step.lines().any(|l| l.trim().starts_with("cargo wpack ")))
        .expect("no step runs cargo wpack");
    for option in ["--target all", "--archive", "--checksums", "--locked"] {
        assert!(release.contains(option), "cargo wpack without {option}");
    }
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("WPACK_VERSION: "))
        .expect("no WPACK_VERSION");
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "WPACK_VERSION {version} is not an exact version"
    );
    assert_contains_all(
        WORKFLOW,
        &text,
        &[
            "pipx install \"wpack==$WPACK_VERSION\"",
            "rustup target add wasm32-wasip1",
            "sha256sum -c --strict SHA256SUMS",
            "gh release upload",
        ],
    );
    // Rust is there for the wasm build only: no other target, no toolchain
    // action, no cross linker.
    for other in [
        "rustup target add x86",
        "rustup target add aarch64",
        "rust-toolchain",
        "zigbuild",
        "mingw",
    ] {
        assert!(!text.contains(other), "{WORKFLOW} uses {other}");
    }
    // Only the publish job may write to the repository.
    assert_eq!(text.matches("contents: write").count(), 1);
    assert!(text.contains("permissions:\n  contents: read"));
}

/// Every ```sh block of the docs, as a script, passes ShellCheck.
#[test]
fn shell_scripts_in_the_docs_pass_shellcheck() {
    let shellcheck = venv_tool("shellcheck");
    let dir = tempdir();
    let mut checked = 0;
    for (name, text) in markdown_files() {
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "```sh" {
                continue;
            }
            let script: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let path = dir.path().join(format!("script{checked}.sh"));
            let body = script.join("\n");
            let body = match body.starts_with("#!") {
                true => body,
                false => format!("#!/usr/bin/env bash\n{body}"),
            };
            fs::write(&path, body + "\n").unwrap();
            let out = Command::new(&shellcheck).arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "{name}, script {checked}:\n{}",
                stdout(&out)
            );
            checked += 1;
        }
    }
    // docs/SHIPPING.md's cargo-dist build script at least.
    assert!(checked >= 1, "no ```sh block found");
}

/// What one command's `--help` says.
fn help(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        stderr(&out)
    );
    stdout(&out)
}

/// The `--long` options of `segment` (one command of a shell line), after
/// the command word itself.
fn long_options(segment: &str) -> Vec<String> {
    segment
        .split_whitespace()
        .filter_map(|word| {
            let word = word.trim_matches(|c: char| "`'\"()[],".contains(c));
            let option = word.split('=').next().unwrap();
            (option.starts_with("--")
                && option.len() > 2
                && option[2..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
            .then(|| option.to_owned())
        })
        .collect()
}

/// Which help a command line segment is checked against: "wpack",
/// "inspect" or "cargo-wpack"; None for other programs.
fn command_of(segment: &str) -> Option<&'static str> {
    let words: Vec<&str> = segment.split_whitespace().collect();
    let first = *words.first()?;
    if first == "cargo" {
        return (words.get(1) == Some(&"wpack")).then_some("cargo-wpack");
    }
    if first == "wpack" || first.ends_with("/wpack") {
        return Some(match words.get(1) {
            Some(&"inspect") => "inspect",
            _ => "wpack",
        });
    }
    None
}

/// Shell lines of the docs that run wpack or cargo wpack: indented and
/// fenced code lines, inline code spans, the rows of README's options
/// table, and the workflow's `run:` scripts (folded ones joined).
fn documented_command_lines() -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for (name, text) in markdown_files() {
        let mut fenced = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if fenced || line.starts_with("    ") {
                lines.push((name.clone(), line.trim().to_owned()));
            } else if let Some(cell) = line.strip_prefix("| `--") {
                // An options table row: its first cell names wpack options.
                let cell = cell.split(" |").next().unwrap();
                lines.push((name.clone(), format!("wpack --{cell}")));
            } else {
                for (i, span) in line.split('`').enumerate() {
                    if i % 2 == 1 && command_of(span).is_some() {
                        lines.push((name.clone(), span.to_owned()));
                    }
                }
            }
        }
    }
    let workflow = read(WORKFLOW);
    let mut run: Option<(usize, bool, String)> = None;
    for line in workflow.lines().chain(std::iter::once("")) {
        let indent = line.len() - line.trim_start().len();
        if let Some((block, folded, text)) = &mut run {
            if line.trim().is_empty() || indent > *block {
                match folded {
                    true => text.push_str(&format!(" {}", line.trim())),
                    false => lines.push((WORKFLOW.to_owned(), line.trim().to_owned())),
                }
                continue;
            }
            if *folded {
                lines.push((WORKFLOW.to_owned(), text.trim().to_owned()));
            }
            run = None;
        }
        let trimmed = line.trim_start().trim_start_matches("- ");
        if let Some(script) = trimmed.strip_prefix("run: ") {
            match script {
                ">-" | ">" => run = Some((indent, true, String::new())),
                "|" => run = Some((indent, false, String::new())),
                one => lines.push((WORKFLOW.to_owned(), one.to_owned())),
            }
        }
    }
    lines
}

#[test]
fn every_option_the_docs_show_exists() {
    let wpack = wpack_bin();
    let cargo_wpack = PathBuf::from(env!("CARGO_BIN_EXE_cargo-wpack"));
    let helps = [
        ("wpack", help(&wpack, &["--help"])),
        ("inspect", help(&wpack, &["inspect", "--help"])),
        ("cargo-wpack", help(&cargo_wpack, &["wpack", "--help"])),
    ];
    let mut checked = 0;
    let mut unknown = Vec::new();
    for (file, line) in documented_command_lines() {
        // A comment is prose, not options.
        let line = match line.find(" #") {
            Some(at) => &line[..at],
            None => line.as_str(),
        };
        for segment in line.split(['|', ';', '&']) {
            let Some(command) = command_of(segment.trim()) else {
                continue;
            };
            let text = &helps.iter().find(|(c, _)| *c == command).unwrap().1;
            for option in long_options(segment) {
                checked += 1;
                let listed = text
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .any(|w| {
                        w == option
                            || w.starts_with(&format!("{option}="))
                            || w.starts_with(&format!("{option}["))
                    });
                if !listed {
                    unknown.push(format!("{file}: {option} ({command}): {}", segment.trim()));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} options found in the docs");
    assert!(
        unknown.is_empty(),
        "options the docs show but --help does not list:\n{}",
        unknown.join("\n")
    );
}

/// A heading's anchor as GitHub makes it.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
            }
            !fenced && l.starts_with('#')
        })
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn relative_links_and_anchors_resolve() {
    let mut checked = 0;
    for (name, text) in markdown_files() {
        let dir = Path::new(&name).parent().unwrap();
        for piece in text.split("](").skip(1) {
            let Some(target) = piece.split(')').next() else {
                continue;
            };
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let linked = match path.is_empty() {
                true => name.clone(),
                false => {
                    let file = root().join(dir).join(path);
                    assert!(file.exists(), "{name}: the link {target} names no file");
                    dir.join(path).to_string_lossy().into_owned()
                }
            };
            if !fragment.is_empty() && linked.ends_with(".md") {
                assert!(
                    anchors(&read(&linked)).iter().any(|a| a == fragment),
                    "{name}: the link {target} names no heading of {linked}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} links found");
}

#[test]
fn readme_leads_with_shipping_and_keeps_the_two_set_up_commands() {
    let readme = read("README.md");
    let headings: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    let at = |h: &str| {
        headings
            .iter()
            .position(|x| x.starts_with(h))
            .unwrap_or_else(|| panic!("README has no heading {h}: {headings:?}"))
    };
    assert_eq!(
        [
            at("Install"),
            at("Quick start"),
            at("Release"),
            at("Set up")
        ],
        [0, 1, 2, 3],
        "{headings:?}"
    );
    // The two commands, each on its own line as a user copies it; CI runs
    // the second.
    assert_contains_all(
        "README.md",
        &readme,
        &[
            "\n    cargo build --release && target/release/wpack samples/hello/hello.wasm -o hello && ./hello\n",
            "\n    scripts/test.sh\n",
            "work in either order, and each alone",
            "(docs/TESTING.md)",
            "(docs/SHIPPING.md)",
            "wpack app.wasm --target all -o dist/",
            "cargo wpack --target all --archive --checksums",
        ],
    );
    assert!(read(".ci/run").contains("exec scripts/test.sh"));
    // The long description of what the test command installs lives in
    // docs/TESTING.md, not on the front page.
    assert!(!readme.contains("libc6-dev-arm64-cross"));
    assert!(read("docs/TESTING.md").contains("libc6-dev-arm64-cross"));
}

/// The newest date (YYYY-MM-DD) in `text`.
fn newest_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9))
        .filter(|&i| {
            let d = &bytes[i..i + 10];
            d.iter().enumerate().all(|(j, b)| match j {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            }) && d.starts_with(b"20")
        })
        .map(|i| text[i..i + 10].to_owned())
        .max()
}

#[test]
fn benchmarks_open_with_the_newest_full_run_then_newest_first() {
    let text = read("BENCHMARKS.md");
    let sections: Vec<&str> = text.split("\n## ").skip(1).collect();
    let first = sections[0];
    let machine = first
        .lines()
        .find(|l| l.starts_with("Machine: "))
        .expect("the first section has no machine line");
    assert!(machine.ends_with("; full run"), "{machine}");
    let first_date = newest_date(machine).unwrap();
    // No later full run anywhere below.
    for line in text
        .lines()
        .filter(|l| l.starts_with("Machine: ") && l.ends_with("full run"))
    {
        assert!(
            newest_date(line).unwrap() <= first_date,
            "a newer full run: {line}"
        );
    }
    // The others newest first, each by the newest date it holds.
    let dates: Vec<(String, &str)> = sections[1..]
        .iter()
        .map(|s| {
            let title = s.lines().next().unwrap();
            (
                newest_date(s).unwrap_or_else(|| panic!("no date in {title}")),
                title,
            )
        })
        .collect();
    for pair in dates.windows(2) {
        assert!(pair[0].0 >= pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
    }
}
