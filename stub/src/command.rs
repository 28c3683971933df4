//! Choosing the command of a file that holds several (`--command`), as
//! busybox does: by the name the file was started under (a link or copy
//! named after a command), otherwise by the first argument; otherwise the
//! stub lists the commands and exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use crate::manifest::{Manifest, Suite};

/// The exit status when no command was named, as for a usage error.
pub const NO_COMMAND_STATUS: u8 = 2;

/// The command to run and the program's arguments: the command's name as
/// argv[0], then the user's own.
pub struct Chosen {
    /// Into `Suite::commands`.
    pub index: usize,
    pub argv: Vec<OsString>,
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
pub fn choose(suite: &Suite, mut args: Vec<OsString>) -> Result<Chosen, NoCommand> {
    let started_as = args.first().map(|arg0| command_name(Path::new(arg0)));
    // By the name started as, argv[0] replaced; else by the first argument,
    // argv[0] removed and the argument left as the new argv[0].
    let (index, drop) = match started_as.as_deref().and_then(|n| suite.position(n)) {
        Some(index) => (Some(index), 1),
        None => {
            let first = args.get(1).map(|a| a.to_string_lossy());
            (first.and_then(|n| suite.position(&n)), 2)
        }
    };
    let Some(index) = index else {
        return Err(NoCommand {
            program: started_as.unwrap_or_else(|| "wpack-program".to_owned()),
            asked: args.get(1).map(|a| a.to_string_lossy().into_owned()),
            names: suite.commands.iter().map(|c| c.name.clone()).collect(),
        });
    };
    args.drain(..drop - 1);
    args[0] = suite.commands[index].name.clone().into();
    Ok(Chosen { index, argv: args })
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

/// The manifest command `index` runs with: its arguments, environment,
/// directories and trees in place of the whole file's, and its code's name
/// and kind. The settings are moved out of the suite, not copied.
pub fn apply(mut manifest: Manifest, index: usize) -> Manifest {
    let Some(mut suite) = manifest.suite.take() else {
        return manifest;
    };
    let command = suite.commands.swap_remove(index);
    if let Some(i) = (command.code as usize).checked_sub(1)
        && i < suite.codes.len()
    {
        let code = suite.codes.swap_remove(i);
        manifest.module_name = code.module_name;
        manifest.program = code.program;
    }
    let mut trees: Vec<_> = std::mem::take(&mut manifest.trees)
        .into_iter()
        .map(Some)
        .collect();
    manifest.trees = command
        .trees
        .iter()
        .filter_map(|&t| trees.get_mut(t as usize)?.take())
        .collect();
    Manifest {
        args: command.args,
        env: command.env,
        dirs: command.dirs,
        ..manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Command;

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
        assert_eq!(chosen.index, 1);
        assert_eq!(chosen.argv, args(&["ld", "-o", "x"]));
        let chosen = choose(&suite, args(&["./tools", "cc", "-c"])).unwrap();
        assert_eq!(chosen.index, 0);
        assert_eq!(chosen.argv, args(&["cc", "-c"]));
        // The name wins over the first argument.
        let chosen = choose(&suite, args(&["cc", "ld"])).unwrap();
        assert_eq!((chosen.index, chosen.argv), (0, args(&["cc", "ld"])));
    }

    #[test]
    fn apply_moves_the_commands_settings_in() {
        let mut suite = suite();
        suite.commands[1].args = vec!["-v".into()];
        suite.commands[1].trees = vec![1];
        let tree = |guest: &str| crate::tree::Tree {
            guest: guest.into(),
            entries: vec![],
        };
        let manifest = Manifest {
            args: vec!["shared".into()],
            trees: vec![tree("/a"), tree("/b")],
            suite: Some(suite),
            ..Manifest::default()
        };
        let applied = apply(manifest, 1);
        assert_eq!(applied.args, ["-v"]);
        assert_eq!(applied.trees, [tree("/b")]);
        assert!(applied.suite.is_none());
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
