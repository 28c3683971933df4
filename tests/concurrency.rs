//! Concurrent packs of one output, and many copies of one program at once.

mod common;

use std::process::Command;

use common::*;

#[test]
fn two_packers_writing_one_output_leave_one_complete_file() {
    let dir = tempdir();
    let out = dir.path().join("prog");
    for round in 0..5 {
        let spawn = |name: &str| {
            Command::new(wpack_bin())
                .arg(sample(name))
                .arg("-o")
                .arg(&out)
                .arg("-q")
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn("hello"), spawn("fib"));
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        let run = Command::new(&out).arg("10").output().unwrap();
        let text = stdout(&run);
        assert!(
            text == "Hello, world!\n" || text == "fib(10) = 55\n",
            "round {round}: {text:?}"
        );
        assert_eq!(
            list_dir(dir.path()),
            ["prog"],
            "temporary files left behind"
        );
    }
}

#[test]
fn many_copies_of_one_program_run_at_once() {
    let dir = tempdir();
    let fib = pack_sample("fib", dir.path(), &[]);
    let children: Vec<_> = (0..16)
        .map(|i| {
            Command::new(&fib)
                .arg((20 + i % 5).to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let expected = [6765, 10946, 17711, 28657, 46368];
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            stdout(&out),
            format!("fib({}) = {}\n", 20 + i % 5, expected[i % 5])
        );
    }
}
