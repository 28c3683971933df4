//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use wpack_stub::{DirMapping, EnvVar};

use crate::include::IncludeSpec;

const EXAMPLES: &str = "\
Examples:
  wpack hello.wasm                      writes ./hello
  wpack app.wasm -o dist/app            chooses the output path
  wpack wc.wasm --dir .                 the program may read and write the working directory
  wpack wc.wasm --host-fs               the program opens any path like a native one
  wpack tool.wasm --dir /srv/data::/data --env LANG --env MODE=fast
  wpack server.wasm --inherit-network   a WASI 0.2 component that may use sockets

  wpack python.wasm --include app::/app --arg /app/main.py -o myapp
                                        one file: ./myapp ARGS runs /app/main.py ARGS

  wpack app.wasm --init-func wizer-initialize
                                        runs the export wizer-initialize now and packs
                                        the memory it leaves: no set-up work at start

  wpack app.wasm --target x86_64-windows -o app.exe
  wpack app.wasm --target all -o dist/ --archive --checksums
                                        every platform in one run: dist/app-x86_64-linux,
                                        ..., their .tar.gz/.zip and SHA256SUMS
  cargo wpack --target all              builds this cargo package for WASI and packs
                                        each binary into target/wpack/ (cargo wpack --help)
  wpack inspect ./hello                 shows what a packed file holds

  wpack --command cc=cc.wasm --command ld=ld.wasm --command-arg cc=-O2 -o tools --links bin
                                        one file of two commands: `tools cc ...`, or
                                        bin/cc and bin/ld, links to it

Run the result like any program: ./hello arg1 arg2. Its arguments all go to the
wasm program; wpack's options are fixed at pack time.";

/// Turn a WebAssembly program (a WASI command) into one native executable.
///
/// The output needs no WebAssembly runtime, compiler or linker on the machine
/// that runs it: the module is compiled ahead of time and appended to a small
/// runtime stub carried inside wpack.
#[derive(Debug, Parser)]
#[command(
    name = "wpack",
    // One version for wpack, its stubs and its release files, and the
    // wasmtime both sides are built from (a file packed by one wasmtime
    // loads only in that wasmtime).
    version = concat!(env!("CARGO_PKG_VERSION"), " (wasmtime ", env!("WPACK_WASMTIME_VERSION"), ")"),
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub pack: PackArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a packed executable holds (format, versions, target, baked
    /// directories, environment and network, whether it is a core module or
    /// a component, and its imports and exports) and
    /// verify its checksums. Exits with 1 if the file is damaged or is not a
    /// packed program.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The packed executable to inspect.
    pub file: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Print instead the licence notices a distributor of the file must ship
    /// with it: the Rust crates of the wpack stub it runs on (wasmtime and
    /// others), their licences, authors and licence texts.
    #[arg(long, conflicts_with = "json")]
    pub licenses: bool,
}

/// Options for packing (the default command).
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The program to pack: a .wasm (or .wat text) that is either a core
    /// module importing only WASI preview 1 (`wasi_snapshot_preview1`) and
    /// exporting `_start` (e.g. Rust's wasm32-wasip1), or a WASI 0.2 command
    /// component exporting `wasi:cli/run` (e.g. wasm32-wasip2).
    /// With --links and no --command: a packed file of several commands,
    /// for which to make the links.
    #[arg(
        value_name = "INPUT.wasm",
        required_unless_present_any = ["list_targets", "licenses", "commands"],
        conflicts_with = "commands"
    )]
    pub input: Option<PathBuf>,

    /// Put a program in the output as the command NAME, instead of giving
    /// one INPUT: the file then holds every --command, each module stored
    /// and compiled once however many commands run it. Started through a
    /// link or copy named NAME (NAME.exe on Windows) it runs that command;
    /// otherwise its first argument names the command (`tools NAME ARGS`).
    /// Every other option applies to all of them. Needs -o. Repeatable.
    #[arg(
        long = "command",
        value_name = "NAME=INPUT",
        value_parser = parse_command,
        help_heading = "Several commands in one file"
    )]
    pub commands: Vec<(String, PathBuf)>,

    /// An argument the command NAME gets before the user's own (after the
    /// --arg ones), e.g. `clang=clang` for a multi-call program that
    /// chooses its tool by its first argument. Repeatable, in order.
    #[arg(
        long = "command-arg",
        value_name = "NAME=ARG",
        value_parser = parse_command_arg,
        allow_hyphen_values = true,
        requires = "commands",
        help_heading = "Several commands in one file"
    )]
    pub command_args: Vec<(String, String)>,

    /// Make in DIR a link named after each command, to the output (with
    /// INPUT and no --command: to INPUT, a packed file of several
    /// commands): a symbolic link, else a hard link, else a copy.
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Several commands in one file"
    )]
    pub links: Option<PathBuf>,

    /// Where to write the executable. Default: the input's name without its
    /// extension, in the current directory. An existing file is replaced
    /// atomically.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// Let the program use a host directory, as HOST or HOST::GUEST
    /// (the program sees it as GUEST; without ::GUEST, under the name HOST).
    /// A relative HOST is resolved against the working directory when the
    /// program runs. The program can read and write everything under it and
    /// nothing outside any --dir. Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]", value_parser = DirMapping::parse)]
    pub dirs: Vec<DirMapping>,

    /// Embed a file or directory tree in the output, read now, and show it to
    /// the program read-only as GUEST (default: HOST as written). Nothing is
    /// extracted at run time: files are read from the executable itself.
    /// Symlinks must stay inside the tree. Repeatable.
    #[arg(long = "include", value_name = "HOST[::GUEST]", value_parser = IncludeSpec::parse)]
    pub includes: Vec<IncludeSpec>,

    /// An argument placed before the user's own (after the program name),
    /// e.g. the script an embedded interpreter runs. Repeatable, in order.
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    pub args: Vec<String>,

    /// Let the program use the file system like a native program: absolute
    /// paths and paths relative to the working directory (`..` included)
    /// resolve as they would natively. It can then read and write every file
    /// the user running it can, so use it for tools that open files their
    /// user names; prefer --dir to confine a program. Limitation: a relative
    /// path whose first part is also a top-level directory name (`tmp/x`,
    /// `etc/y`) resolves from `/`.
    #[arg(long)]
    pub host_fs: bool,

    /// Set an environment variable for the program: NAME=VALUE fixes the value
    /// now; NAME copies it from the environment the program runs in (if set).
    /// Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]", value_parser = EnvVar::parse)]
    pub env: Vec<EnvVar>,

    /// Pass the whole environment of the running process to the program
    /// (--env values win). Without it the program sees only --env variables.
    #[arg(long)]
    pub inherit_env: bool,

    /// Let the program use the network through wasi:sockets (TCP and UDP):
    /// it may connect to and listen on any address and port the user running
    /// it can, like a native program. Without it every socket address is
    /// refused with a permission error. Components (WASI 0.2) only.
    #[arg(long)]
    pub inherit_network: bool,

    /// Let the program resolve host names (wasi:sockets/ip-name-lookup),
    /// using the host's resolver. Separate from --inherit-network, as in
    /// `wasmtime run`. Components (WASI 0.2) only.
    #[arg(long)]
    pub allow_ip_name_lookup: bool,

    /// The platform to pack for (see --list-targets): a wpack name such as
    /// `x86_64-windows` or a Rust target triple such as
    /// `x86_64-pc-windows-msvc`. Default on Linux: the static build for this
    /// machine's architecture (`x86_64-linux` here), which runs on every
    /// Linux distribution; `x86_64-linux-gnu` links glibc dynamically.
    /// Repeat it or give a comma-separated list to pack for several targets
    /// in one run (the module is read, checked and compiled once per kind of
    /// machine code); `all` means every target this wpack carries. With more
    /// than one, -o names a directory and each output is named by
    /// --name-template.
    #[arg(long, value_name = "TARGET", value_delimiter = ',')]
    pub target: Vec<String>,

    /// The file names of the outputs when packing for several targets (or
    /// whenever it is given; -o then names a directory). Placeholders:
    /// `{name}` (the input's name without `.wasm`), `{target}` (wpack's
    /// target name), `{triple}` (its Rust target triple), `{version}` (from
    /// --version-tag). Windows outputs get `.exe` appended unless the
    /// template gives it. Default: `{name}-{target}`.
    #[arg(long, value_name = "TEMPLATE")]
    pub name_template: Option<String>,

    /// The version `{version}` stands for in --name-template.
    #[arg(long, value_name = "VERSION")]
    pub version_tag: Option<String>,

    /// Also write next to each output a release archive as cargo-dist lays
    /// them out: `{name}-{triple}.tar.gz` holding the directory
    /// `{name}-{triple}/` with the program as `{name}` and each
    /// --archive-file; for Windows `{name}-{triple}.zip`, with `{name}.exe`
    /// and the files at its top.
    #[arg(long, help_heading = "Release files")]
    pub archive: bool,

    /// A file to put in every archive beside the program, such as README or
    /// LICENSE (by its file name). Repeatable; implies --archive.
    #[arg(long, value_name = "FILE", help_heading = "Release files")]
    pub archive_file: Vec<PathBuf>,

    /// Also write `SHA256SUMS` (in `sha256sum` format) over every file this
    /// run wrote, in the output directory.
    #[arg(long, help_heading = "Release files")]
    pub checksums: bool,

    /// Do not read or write the compile cache (compiled code kept between
    /// runs, keyed by the module, wpack's version, the target, --cpu and
    /// every option that changes the code). It lives in WPACK_CACHE if set,
    /// otherwise in the platform's cache directory (`~/.cache/wpack` on
    /// Linux).
    #[arg(long)]
    pub no_cache: bool,

    /// List the targets and which of them this wpack carries a stub for.
    #[arg(long)]
    pub list_targets: bool,

    /// Print the licence notices of wpack and the stubs it carries (the
    /// crates, their licences, authors and texts), to ship with wpack. For
    /// those of a packed program: `wpack inspect --licenses FILE`.
    #[arg(long, conflicts_with = "input")]
    pub licenses: bool,

    /// CPU features to compile for: `baseline` (default: runs on every CPU
    /// of the target's architecture), `native` (this machine's CPU), or a
    /// named level such as `x86-64-v2`, `x86-64-v3`, `x86-64-v4`, `haswell`,
    /// `znver3`. A packed program refuses to start, with a message, on a CPU
    /// that lacks a feature it was compiled for.
    #[arg(long, value_name = "LEVEL", default_value = "baseline")]
    pub cpu: String,

    /// Leave out the module's function names (its `name` section): a smaller
    /// file, but a crash report then names functions by number (`wasm
    /// function 12`) instead of by name.
    #[arg(long)]
    pub strip_names: bool,

    /// Pre-initialize: instantiate the module now, run `_initialize` if it
    /// exports one, then its export FUNC (no parameters, no results), and
    /// pack a snapshot of the memory and globals it leaves (what `wasmtime
    /// wizer` does). The program then starts from that state: work done in
    /// FUNC is not redone at each start. FUNC sees only what is fixed now:
    /// the --arg arguments, the --env NAME=VALUE values and the --include
    /// trees. Stdin, --dir directories, --env NAME and --inherit-env values
    /// are not there at init (the calls get the error they get without
    /// them: EBADF, ENOTCAPABLE, unset); its output goes to wpack's stderr.
    /// Random numbers and clock readings taken in FUNC are frozen into the
    /// file, and so is the environment if the C library reads it then: see
    /// docs/PREINIT.md. Core modules only.
    #[arg(long, value_name = "FUNC")]
    pub init_func: Option<String>,

    /// With --init-func: keep exporting FUNC from the snapshot (by default
    /// it is removed, as it has run). Needed by programs that call it again.
    #[arg(long, requires = "init_func")]
    pub keep_init_func: bool,

    /// With --init-func: export the function SRC as DST in the snapshot,
    /// replacing any DST, e.g. `_start=wizer.resume` for programs built
    /// with the wizer.h pattern. Repeatable.
    #[arg(
        long = "rename-func",
        value_name = "DST=SRC",
        requires = "init_func",
        value_parser = parse_rename
    )]
    pub rename_func: Vec<(String, String)>,

    /// Windows outputs: the program's icon, from a .ico file (give one with
    /// several sizes, e.g. 16, 32, 48 and 256 pixels).
    #[arg(long, value_name = "FILE.ico", help_heading = "Windows outputs")]
    pub windows_icon: Option<PathBuf>,

    /// Windows outputs: the file and product version, X.Y.Z or X.Y.Z.W
    /// (each part 0 to 65535). Without it the version fields stay absent.
    #[arg(
        long,
        value_name = "X.Y.Z[.W]",
        value_parser = crate::windows::Version::parse,
        help_heading = "Windows outputs"
    )]
    pub windows_version: Option<crate::windows::Version>,

    /// Windows outputs: the product name shown in the file's properties.
    #[arg(long, value_name = "NAME", help_heading = "Windows outputs")]
    pub windows_product: Option<String>,

    /// Windows outputs: the company name shown in the file's properties.
    #[arg(long, value_name = "NAME", help_heading = "Windows outputs")]
    pub windows_company: Option<String>,

    /// Windows outputs: the file description (what Task Manager shows).
    #[arg(long, value_name = "TEXT", help_heading = "Windows outputs")]
    pub windows_description: Option<String>,

    /// Windows outputs: the copyright notice shown in the file's properties.
    #[arg(long, value_name = "TEXT", help_heading = "Windows outputs")]
    pub windows_copyright: Option<String>,

    /// Use this stub executable instead of the one built into wpack.
    #[arg(long, value_name = "PATH")]
    pub stub: Option<PathBuf>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `NAME=INPUT` of --command.
fn parse_command(spec: &str) -> Result<(String, PathBuf), String> {
    match spec.split_once('=') {
        Some((name, input)) if !input.is_empty() => {
            crate::suite::check_name(name)?;
            Ok((name.to_owned(), PathBuf::from(input)))
        }
        _ => Err(format!(
            "{spec:?}: give the command's name and its program, as NAME=INPUT (e.g. cc=cc.wasm)"
        )),
    }
}

/// `NAME=ARG` of --command-arg.
fn parse_command_arg(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((name, arg)) if !name.is_empty() => Ok((name.to_owned(), arg.to_owned())),
        _ => Err(format!(
            "{spec:?}: give the command's name and the argument, as NAME=ARG (e.g. cc=-O2)"
        )),
    }
}

/// `DST=SRC` of --rename-func.
fn parse_rename(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((dst, src)) if !dst.is_empty() && !src.is_empty() => {
            Ok((dst.to_owned(), src.to_owned()))
        }
        _ => Err(format!(
            "{spec:?}: give the new export name and the old one, as DST=SRC (e.g. _start=wizer.resume)"
        )),
    }
}
