//! The manifest: configuration baked into a packed program at pack time and
//! applied by the stub at run time (`--dir`, `--env`, `--inherit-env`,
//! `--arg`, `--inherit-network`, the directory of `--include` trees, and
//! whether the payload is a core module or a component).
//!
//! It is stored with `postcard`, which is compact and already part of
//! wasmtime's dependency tree. postcard is not self-describing, so any change
//! to these types is a format change and bumps [`crate::FORMAT_VERSION`].

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::tree::Tree;

/// Everything the stub needs besides the compiled code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of the wpack that packed the file.
    pub wpack_version: String,
    /// Target triple the module was compiled for.
    pub target: String,
    /// File name of the packed `.wasm`, for messages.
    pub module_name: String,
    /// Host directories made visible to the program, in order.
    pub dirs: Vec<DirMapping>,
    /// Environment variables set for the program, in order.
    pub env: Vec<EnvVar>,
    /// Pass the whole host environment through (baked `env` entries win).
    pub inherit_env: bool,
    /// `--host-fs`: resolve absolute and relative paths as a native program
    /// would (see `stub/src/run.rs` for how).
    pub host_fs: bool,
    /// `--arg`: arguments placed after `argv[0]`, before the user's own.
    pub args: Vec<String>,
    /// `--include`: file trees embedded in the packed file, read-only.
    pub trees: Vec<Tree>,
    /// What the payload holds, which decides how the stub runs it.
    pub program: Program,
    /// `--inherit-network` and `--allow-ip-name-lookup` (components only).
    pub network: Network,
    /// `--init-func`: the payload is a snapshot taken after this init ran.
    pub init: Option<Init>,
    /// Several commands in one file (`--command`): present exactly in format
    /// version [`crate::payload::SUITE_FORMAT_VERSION`], where it follows the
    /// fields above in the manifest's bytes. A file of one program keeps the
    /// older version's bytes, so it is left out of this struct's encoding.
    #[serde(skip)]
    pub suite: Option<Suite>,
}

/// The commands of a file packed with `--command`, and the compiled code
/// they run beyond the payload.
///
/// Code 0 is the payload (the trailer's, with the ELF section index where
/// there is one); the manifest's own `module_name` and `program` describe
/// it. Codes 1.. are [`Code`]s stored before it. Each command is a complete
/// set of the per-program settings: the stub puts its `args`, `env` and
/// `dirs` in place of the manifest's and sees only its `trees`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suite {
    /// Codes 1.., in file order.
    pub codes: Vec<Code>,
    /// In the order given at pack time, which is the order they are listed.
    pub commands: Vec<Command>,
}

/// Compiled code stored between the embedded files and the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// A multiple of [`crate::PAYLOAD_ALIGN`] in the file.
    pub offset: u64,
    pub len: u64,
    /// XXH3-64 of the code's bytes, checked before any of them runs.
    pub hash: u64,
    /// File name of the `.wasm` it was compiled from, for messages.
    pub module_name: String,
    /// Of the same kind as the manifest's `program`: one stub runs one kind.
    pub program: Program,
}

/// One command of a suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// What it is started as: the file name of a link, or the first argument.
    pub name: String,
    /// 0: the payload; `n`: `Suite::codes[n - 1]`.
    pub code: u32,
    /// Arguments after `argv[0]` (the name), before the user's own.
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub dirs: Vec<DirMapping>,
    /// The embedded trees it sees (indices into `Manifest::trees`), in order.
    pub trees: Vec<u32>,
}

impl Suite {
    /// Where the command named `name` is in `commands`, if it is there.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.commands.iter().position(|c| c.name == name)
    }

    /// What is wrong with a suite read from a file, if anything: every
    /// index in range, one kind of program, names non-empty and distinct.
    /// (Where its codes lie is checked with the rest of the layout.)
    pub fn check(&self, program: &Program, trees: usize) -> Result<(), &'static str> {
        if self.commands.is_empty() {
            return Err("the command table is empty");
        }
        if self
            .codes
            .iter()
            .any(|c| c.program.kind() != program.kind())
        {
            return Err("the codes are not all of one kind");
        }
        for (i, command) in self.commands.iter().enumerate() {
            // Quadratic, and smaller in the stub than a set: suites are short.
            let repeated = self.commands[..i].iter().any(|c| c.name == command.name);
            if command.name.is_empty() || repeated {
                return Err("a command name is empty or repeated");
            }
            if command.code as usize > self.codes.len() {
                return Err("a command names no code");
            }
            if command.trees.iter().any(|&t| t as usize >= trees) {
                return Err("a command names no embedded tree");
            }
        }
        Ok(())
    }
}

/// How a module was pre-initialized at pack time (`--init-func`): the
/// payload is the snapshot of its memories and globals after the init
/// function returned, compiled in place of the module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    /// The export that ran (after `_initialize`, if the module has one).
    pub func: String,
    /// `--keep-init-func`: the snapshot still exports `func`.
    pub kept: bool,
    /// `--rename-func DST=SRC`, as (DST, SRC), in order.
    pub renames: Vec<(String, String)>,
    /// Files and directories of embedded trees the init left open: the
    /// snapshot holds their numbers, so the stub opens them again at the
    /// same numbers before `_start`.
    pub open: Vec<InitDescriptor>,
}

/// A descriptor open when the init returned, inside an embedded tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitDescriptor {
    pub fd: u32,
    /// Index into `Manifest::trees`.
    pub tree: u32,
    /// Index into that tree's entries: a file or a directory.
    pub entry: u32,
    /// Read position of a file.
    pub position: u64,
}

/// The kind of program in the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Program {
    /// A core module run with WASI preview 1 (`_start`).
    #[default]
    Module,
    /// A WASI 0.2 command component run with `wasi:cli/run`. Its top-level
    /// import and export names are kept for `wpack inspect` (the payload
    /// holds compiled code, not the original type information).
    Component {
        imports: Vec<String>,
        exports: Vec<String>,
    },
}

/// Bytes each stub binary carries (a `#[used]` static) so that the packer
/// can tell, from a stub file alone, which kind of program it runs.
pub const MODULE_STUB_MARKER: [u8; 22] = *b"wpack-stub-runs:module";
pub const COMPONENT_STUB_MARKER: [u8; 25] = *b"wpack-stub-runs:component";

impl Program {
    /// The marker of the stub that runs this kind of program.
    pub fn stub_marker(&self) -> &'static [u8] {
        match self {
            Program::Module => &MODULE_STUB_MARKER,
            Program::Component { .. } => &COMPONENT_STUB_MARKER,
        }
    }

    /// "module" or "component", for messages.
    /// The engine settings this program is compiled and loaded with.
    pub fn engine_kind(&self) -> crate::engine::Kind {
        match self {
            Program::Module => crate::engine::Kind::Module,
            Program::Component { .. } => crate::engine::Kind::Component,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Program::Module => "module",
            Program::Component { .. } => "component",
        }
    }
}

/// Network access of a component, off unless asked for at pack time (the
/// same switches as `wasmtime run -S inherit-network,allow-ip-name-lookup`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Any address the host can reach may be bound or connected to (TCP, UDP).
    pub inherit: bool,
    /// `wasi:sockets/ip-name-lookup` resolves names.
    pub ip_name_lookup: bool,
}

/// `--dir HOST[::GUEST]`: a host directory preopened under a guest name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirMapping {
    /// Absolute, or relative to the working directory at run time.
    pub host: String,
    /// The name the program sees.
    pub guest: String,
}

/// `--env NAME=VALUE` (fixed value) or `--env NAME` (taken from the host at run time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    /// `None`: read `name` from the host environment when the program starts.
    pub value: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("--dir needs a directory, as HOST or HOST::GUEST")]
    EmptyDir,
    #[error("--dir {0:?}: the guest name after `::` is empty; use HOST or HOST::GUEST")]
    EmptyGuest(String),
    #[error("--env {0:?}: the variable name is empty; use NAME=VALUE or NAME")]
    EmptyEnvName(String),
    #[error("--env {0:?}: a variable name cannot contain `=` or NUL")]
    BadEnvName(String),
    #[error("--env {0:?}: a value cannot contain NUL")]
    BadEnvValue(String),
}

impl DirMapping {
    /// Parses `HOST[::GUEST]`; without `::GUEST` the program sees the directory
    /// under the name it was given on the host, as with `wasmtime run --dir`.
    pub fn parse(spec: &str) -> Result<Self, SpecError> {
        let (host, guest) = match spec.split_once("::") {
            Some((_, "")) => return Err(SpecError::EmptyGuest(spec.to_owned())),
            Some((host, guest)) => (host, guest),
            None => (spec, spec),
        };
        if host.is_empty() {
            return Err(SpecError::EmptyDir);
        }
        Ok(Self {
            host: host.to_owned(),
            guest: guest.to_owned(),
        })
    }
}

impl EnvVar {
    /// Parses `NAME=VALUE` or `NAME`.
    pub fn parse(spec: &str) -> Result<Self, SpecError> {
        let (name, value) = match spec.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (spec, None),
        };
        if name.is_empty() {
            return Err(SpecError::EmptyEnvName(spec.to_owned()));
        }
        if name.contains('\0') {
            return Err(SpecError::BadEnvName(spec.to_owned()));
        }
        if value.is_some_and(|v| v.contains('\0')) {
            return Err(SpecError::BadEnvValue(spec.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        })
    }
}

impl Manifest {
    /// The manifest's bytes: its fields, then the suite if there is one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes =
            postcard::to_stdvec(self).expect("serialising plain data to a Vec cannot fail");
        if let Some(suite) = &self.suite {
            bytes.extend(postcard::to_stdvec(suite).expect("plain data"));
        }
        bytes
    }

    /// Decodes a manifest that must use all of `bytes`; `with_suite` says
    /// whether the format version has a suite after the fields.
    pub fn from_bytes(bytes: &[u8], with_suite: bool) -> Result<Self, postcard::Error> {
        let (mut manifest, rest): (Manifest, _) = postcard::take_from_bytes(bytes)?;
        let rest = if with_suite {
            let (suite, rest) = postcard::take_from_bytes(rest)?;
            manifest.suite = Some(suite);
            rest
        } else {
            rest
        };
        if !rest.is_empty() {
            return Err(postcard::Error::DeserializeBadEncoding);
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        let d = DirMapping::parse("data").unwrap();
        assert_eq!((d.host.as_str(), d.guest.as_str()), ("data", "data"));
        let d = DirMapping::parse("/tmp/x::/sandbox").unwrap();
        assert_eq!((d.host.as_str(), d.guest.as_str()), ("/tmp/x", "/sandbox"));
        let d = DirMapping::parse(".::.").unwrap();
        assert_eq!((d.host.as_str(), d.guest.as_str()), (".", "."));
        assert_eq!(DirMapping::parse(""), Err(SpecError::EmptyDir));
        assert_eq!(DirMapping::parse("::x"), Err(SpecError::EmptyDir));
        assert!(matches!(
            DirMapping::parse("x::"),
            Err(SpecError::EmptyGuest(_))
        ));
    }

    #[test]
    fn env_specs() {
        let e = EnvVar::parse("A=b=c").unwrap();
        assert_eq!((e.name.as_str(), e.value.as_deref()), ("A", Some("b=c")));
        let e = EnvVar::parse("HOME").unwrap();
        assert_eq!((e.name.as_str(), e.value), ("HOME", None));
        let e = EnvVar::parse("EMPTY=").unwrap();
        assert_eq!(e.value.as_deref(), Some(""));
        assert!(matches!(
            EnvVar::parse("=x"),
            Err(SpecError::EmptyEnvName(_))
        ));
        assert!(matches!(EnvVar::parse(""), Err(SpecError::EmptyEnvName(_))));
    }

    #[test]
    fn manifest_round_trip_and_trailing_bytes() {
        let m = Manifest {
            wpack_version: "0.1.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            module_name: "hello.wasm".into(),
            dirs: vec![DirMapping::parse("a::b").unwrap()],
            env: vec![EnvVar::parse("X=1").unwrap(), EnvVar::parse("Y").unwrap()],
            inherit_env: true,
            host_fs: true,
            args: vec!["/app/main.py".into()],
            trees: vec![],
            program: Program::Component {
                imports: vec!["wasi:cli/stdout@0.2.6".into()],
                exports: vec!["wasi:cli/run@0.2.6".into()],
            },
            network: Network {
                inherit: true,
                ip_name_lookup: false,
            },
            init: Some(Init {
                func: "wizer-initialize".into(),
                kept: false,
                renames: vec![("_start".into(), "wizer.resume".into())],
                open: vec![InitDescriptor {
                    fd: 5,
                    tree: 0,
                    entry: 2,
                    position: 17,
                }],
            }),
            suite: None,
        };
        let bytes = m.to_bytes();
        assert_eq!(Manifest::from_bytes(&bytes, false).unwrap(), m);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Manifest::from_bytes(&longer, false).is_err());
        assert!(Manifest::from_bytes(&bytes[..bytes.len() - 1], false).is_err());
        // A suite follows the fields, and only a suite's version reads it.
        assert!(Manifest::from_bytes(&bytes, true).is_err());
        let suite = Manifest {
            program: Program::Module,
            suite: Some(Suite {
                codes: vec![Code {
                    offset: 65536,
                    len: 9,
                    hash: 3,
                    module_name: "b.wasm".into(),
                    program: Program::Module,
                }],
                commands: vec![Command {
                    name: "b".into(),
                    code: 1,
                    args: vec!["-x".into()],
                    env: vec![EnvVar::parse("Z=2").unwrap()],
                    dirs: vec![],
                    trees: vec![],
                }],
            }),
            ..m
        };
        let bytes = suite.to_bytes();
        assert_eq!(Manifest::from_bytes(&bytes, true).unwrap(), suite);
        assert!(Manifest::from_bytes(&bytes, false).is_err());
        let s = suite.suite.as_ref().unwrap();
        assert_eq!(s.check(&Program::Module, 0), Ok(()));
        assert!(s.check(&suite.program, 0).is_ok());
        let mut bad = s.clone();
        bad.commands[0].code = 2;
        assert!(bad.check(&Program::Module, 0).is_err());
        bad.commands[0].code = 1;
        bad.commands[0].trees = vec![0];
        assert!(bad.check(&Program::Module, 0).is_err());
        bad.commands = vec![s.commands[0].clone(), s.commands[0].clone()];
        bad.commands[1].trees.clear();
        assert!(bad.check(&Program::Module, 0).is_err());
    }
}
