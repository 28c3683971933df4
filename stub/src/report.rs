//! One-line messages on stderr, named after the program that writes them.

use std::path::Path;

/// Writes one line to stderr. Unlike `eprintln!`, never panics: with stderr
/// closed the line is lost, but the exit status still tells what happened.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The name this program was started as, without directories, for messages.
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .map(|arg0| match Path::new(&arg0).file_name() {
            Some(name) => name.to_string_lossy().into_owned(),
            None => arg0.to_string_lossy().into_owned(),
        })
        .unwrap_or_else(|| "wpack-program".to_owned())
}
