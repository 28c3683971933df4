//! Choosing the command of a file that holds several (`--command`), as
//! busybox does: by the name the file was started under (a link or copy
//! named after a command), otherwise by the first argument; otherwise the
//! stub lists the commands and exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use crate::manifest::{Command, Manifest, Suite};

/// The exit status when no command was named, as for a usage error.
pub const NO_COMMAND_STATUS: u8 = 2;

/// The command to run and the user's own arguments for it (after argv[0]).
pub struct Chosen<'a> {
    pub command: &'a Command,
    pub rest: Vec<OsString>,
}

/// No command was named: the message that lists them, for stderr.
#[derive(Debug)]
pub struct NoCommand {
    program: String,
    asked: Option<String>,
    names: Vec<String>,
}

impl fmt::Display for NoCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = &self.program;
        match &self.asked {
            Some(asked) => writeln!(f, "{program}: no command named {asked:?}")?,
            None => writeln!(f, "{program}: name a command")?,
        }
        writeln!(f, "usage: {program} COMMAND [ARGS...]")?;
        writeln!(
            f,
            "   or: COMMAND [ARGS...], through a link or copy named COMMAND"
        )?;
        write!(f, "commands: {}", self.names.join(", "))
    }
}

impl std::error::Error for NoCommand {}

/// The command `args` (this process's own, argv[0] first) name in `suite`.
pub fn choose(suite: &Suite, mut args: Vec<OsString>) -> Result<Chosen<'_>, NoCommand> {
    let started_as = args.first().map(|arg0| command_name(Path::new(arg0)));
    if let Some(command) = started_as.as_deref().and_then(|n| suite.command(n)) {
        args.drain(..args.len().min(1));
        return Ok(Chosen {
            command,
            rest: args,
        });
    }
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if let Some(command) = first.as_deref().and_then(|n| suite.command(n)) {
        args.drain(..2);
        return Ok(Chosen {
            command,
            rest: args,
        });
    }
    Err(NoCommand {
        program: started_as.unwrap_or_else(|| "wpack-program".to_owned()),
        asked: first,
        names: suite.commands.iter().map(|c| c.name.clone()).collect(),
    })
}

/// The file name a path names a command by: without directories, and on
/// Windows without `.exe` (in any case).
fn command_name(path: &Path) -> String {
    let name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned();
    if cfg!(windows) && name.to_ascii_lowercase().ends_with(".exe") {
        name[..name.len() - 4].to_owned()
    } else {
        name
    }
}

/// The manifest `command` runs with: its arguments, environment,
/// directories and trees in place of the whole file's, and its code's name
/// and kind.
pub fn apply(mut manifest: Manifest, command: &Command) -> Manifest {
    let suite = manifest.suite.take().unwrap_or_default();
    if let Some(code) = (command.code as usize)
        .checked_sub(1)
        .and_then(|i| suite.codes.get(i))
    {
        manifest.module_name = code.module_name.clone();
        manifest.program = code.program.clone();
    }
    let trees = std::mem::take(&mut manifest.trees);
    manifest.trees = command
        .trees
        .iter()
        .filter_map(|&t| trees.get(t as usize).cloned())
        .collect();
    Manifest {
        args: command.args.clone(),
        env: command.env.clone(),
        dirs: command.dirs.clone(),
        ..manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Suite {
        let command = |name: &str| Command {
            name: name.into(),
            ..Command::default()
        };
        Suite {
            codes: vec![],
            commands: vec![command("cc"), command("ld")],
        }
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn by_name_then_by_first_argument() {
        let suite = suite();
        let chosen = choose(&suite, args(&["/usr/bin/ld", "-o", "x"])).unwrap();
        assert_eq!(chosen.command.name, "ld");
        assert_eq!(chosen.rest, args(&["-o", "x"]));
        let chosen = choose(&suite, args(&["./tools", "cc", "-c"])).unwrap();
        assert_eq!(chosen.command.name, "cc");
        assert_eq!(chosen.rest, args(&["-c"]));
        // The name wins over the first argument.
        let chosen = choose(&suite, args(&["cc", "ld"])).unwrap();
        assert_eq!((chosen.command.name.as_str(), chosen.rest.len()), ("cc", 1));
    }

    #[test]
    fn no_command_lists_them() {
        let suite = suite();
        let none = choose(&suite, args(&["/x/tools"])).err().unwrap();
        let text = none.to_string();
        assert!(text.starts_with("tools: name a command\n"), "{text}");
        assert!(text.ends_with("commands: cc, ld"), "{text}");
        let unknown = choose(&suite, args(&["tools", "as"])).err().unwrap();
        assert!(unknown.to_string().contains("no command named \"as\""));
        assert!(choose(&suite, vec![]).is_err());
    }
}
