//! `cargo wpack`: builds a package's binaries for WASI with cargo and packs
//! each for every target asked for, through wpack's own command line
//! ([`crate::run_args`]), so an option means what it means to wpack.
//!
//! `metadata` reads the workspace (`cargo metadata`), `config` the options
//! in `[package.metadata.wpack]`, `build` runs `cargo build`.

mod build;
mod config;
mod metadata;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use clap::builder::styling::{AnsiColor, Styles};

use config::Options;

/// Output names as cargo-binstall looks for them by default.
const NAME_TEMPLATE: &str = "{name}-{version}-{triple}";

const AFTER_HELP: &str = "\
Pack options can also live in Cargo.toml, spelled as on the command line:

  [package.metadata.wpack]             for every binary of the package
  include = [\"assets::/assets\"]        HOST paths are relative to the package
  env = [\"NAME=VALUE\", \"NAME\"]
  args = [\"--flag\"]
  targets = [\"x86_64-linux\", \"x86_64-windows\"]

  [package.metadata.wpack.bin.NAME]    for one binary: adds to the lists above,
  host-fs = true                       replaces the other values

Keys: dirs, include, env, args, host-fs, inherit-env, inherit-network,
allow-ip-name-lookup, init-func, strip-names, targets, cpu, archive-files,
windows-icon, windows-version, windows-product, windows-company,
windows-description, windows-copyright. Options given here add to the lists
and replace the other values (--target replaces `targets`).

Examples:
  cargo wpack                          every binary, for this machine, into target/wpack/
  cargo wpack --target all --archive --checksums
                                       release files for every platform
  cargo wpack -p tool --bin tool --target x86_64-linux,x86_64-windows -F cli

See `wpack --help` for what each pack option does.";

/// Cargo's own colours for its help (cargo's `style` module).
fn cargo_styles() -> Styles {
    Styles::styled()
        .header(AnsiColor::BrightGreen.on_default().bold())
        .usage(AnsiColor::BrightGreen.on_default().bold())
        .literal(AnsiColor::BrightCyan.on_default().bold())
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::BrightRed.on_default().bold())
        .valid(AnsiColor::BrightCyan.on_default().bold())
        .invalid(AnsiColor::Yellow.on_default().bold())
}

/// Build a package's binaries for WASI and pack each into a native executable
/// for every target
#[derive(Debug, Parser)]
#[command(
    name = "cargo-wpack",
    bin_name = "cargo wpack",
    version = concat!(env!("CARGO_PKG_VERSION"), " (wasmtime ", env!("WPACK_WASMTIME_VERSION"), ")"),
    styles = cargo_styles(),
    after_help = AFTER_HELP
)]
struct Cli {
    /// Platforms to pack for, comma-separated or repeated, or `all` (see
    /// `wpack --list-targets`; Rust triples accepted) [default: this machine]
    #[arg(long, value_name = "TARGET", value_delimiter = ',')]
    target: Vec<String>,

    /// Directory for the outputs [default: <target-dir>/wpack]
    #[arg(long, value_name = "DIRECTORY")]
    out_dir: Option<PathBuf>,

    /// Build for wasm32-wasip2 (a WASI 0.2 component) instead of wasm32-wasip1
    #[arg(long)]
    component: bool,

    /// Output names (placeholders {name} {version} {triple} {target})
    #[arg(long, value_name = "TEMPLATE", default_value = NAME_TEMPLATE)]
    name_template: String,

    /// Use verbose output (passed to cargo)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Print only errors
    #[arg(short, long)]
    quiet: bool,

    /// Coloring (passed to cargo)
    #[arg(long, value_name = "WHEN", value_parser = ["auto", "always", "never"])]
    color: Option<String>,

    /// Override a configuration value (passed to cargo)
    #[arg(long, value_name = "KEY=VALUE|PATH")]
    config: Vec<String>,

    // --- wpack's options --------------------------------------------------
    /// A host directory the program may use, HOST or HOST::GUEST
    #[arg(long, value_name = "HOST[::GUEST]", help_heading = "Pack Options")]
    dir: Vec<String>,

    /// A file or tree to embed, HOST or HOST::GUEST
    #[arg(long, value_name = "HOST[::GUEST]", help_heading = "Pack Options")]
    include: Vec<String>,

    /// An environment variable: NAME=VALUE fixed now, NAME copied at run time
    #[arg(long, value_name = "NAME[=VALUE]", help_heading = "Pack Options")]
    env: Vec<String>,

    /// An argument placed before the user's own
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        help_heading = "Pack Options"
    )]
    arg: Vec<String>,

    /// Let the program open any path, like a native program
    #[arg(long, help_heading = "Pack Options")]
    host_fs: bool,

    /// Pass the whole environment through
    #[arg(long, help_heading = "Pack Options")]
    inherit_env: bool,

    /// Components: let the program use the network
    #[arg(long, help_heading = "Pack Options")]
    inherit_network: bool,

    /// Components: let the program resolve host names
    #[arg(long, help_heading = "Pack Options")]
    allow_ip_name_lookup: bool,

    /// Pre-initialize: run the export FUNC now and pack the memory it leaves
    #[arg(long, value_name = "FUNC", help_heading = "Pack Options")]
    init_func: Option<String>,

    /// Leave out function names (smaller; crash reports name functions by number)
    #[arg(long, help_heading = "Pack Options")]
    strip_names: bool,

    /// CPU features to compile for (baseline, native, x86-64-v3, ...)
    #[arg(long, value_name = "LEVEL", help_heading = "Pack Options")]
    cpu: Option<String>,

    /// Do not use the compile cache
    #[arg(long, help_heading = "Pack Options")]
    no_cache: bool,

    /// Also write a release archive of each output
    #[arg(long, help_heading = "Release Options")]
    archive: bool,

    /// A file to put in every archive (README, LICENSE); implies --archive
    #[arg(long, value_name = "FILE", help_heading = "Release Options")]
    archive_file: Vec<String>,

    /// Also write SHA256SUMS over every file written
    #[arg(long, help_heading = "Release Options")]
    checksums: bool,

    /// Windows outputs: the icon (.ico)
    #[arg(long, value_name = "FILE.ico", help_heading = "Windows Options")]
    windows_icon: Option<String>,

    /// Windows outputs: the file and product version
    #[arg(long, value_name = "X.Y.Z[.W]", help_heading = "Windows Options")]
    windows_version: Option<String>,

    /// Windows outputs: the product name
    #[arg(long, value_name = "NAME", help_heading = "Windows Options")]
    windows_product: Option<String>,

    /// Windows outputs: the company name
    #[arg(long, value_name = "NAME", help_heading = "Windows Options")]
    windows_company: Option<String>,

    /// Windows outputs: the file description
    #[arg(long, value_name = "TEXT", help_heading = "Windows Options")]
    windows_description: Option<String>,

    /// Windows outputs: the copyright notice
    #[arg(long, value_name = "TEXT", help_heading = "Windows Options")]
    windows_copyright: Option<String>,

    // --- cargo's options --------------------------------------------------
    /// Package to pack (see `cargo help pkgid`)
    #[arg(short, long, value_name = "SPEC", help_heading = "Package Selection")]
    package: Vec<String>,

    /// Pack all packages in the workspace
    #[arg(long, help_heading = "Package Selection")]
    workspace: bool,

    /// Exclude packages (with --workspace)
    #[arg(
        long,
        value_name = "SPEC",
        requires = "workspace",
        help_heading = "Package Selection"
    )]
    exclude: Vec<String>,

    /// Pack only the specified binary [default: all binaries]
    #[arg(long, value_name = "NAME", help_heading = "Target Selection")]
    bin: Vec<String>,

    /// Space or comma separated list of features to activate
    #[arg(
        short = 'F',
        long,
        value_name = "FEATURES",
        help_heading = "Feature Selection"
    )]
    features: Vec<String>,

    /// Activate all available features
    #[arg(long, help_heading = "Feature Selection")]
    all_features: bool,

    /// Do not activate the `default` feature
    #[arg(long, help_heading = "Feature Selection")]
    no_default_features: bool,

    /// Build in release mode (the default)
    #[arg(
        short,
        long,
        conflicts_with_all = ["debug", "profile"],
        help_heading = "Compilation Options"
    )]
    release: bool,

    /// Build in debug mode (the `dev` profile) instead of release mode
    #[arg(long, conflicts_with = "profile", help_heading = "Compilation Options")]
    debug: bool,

    /// Build with the specified profile
    #[arg(
        long,
        value_name = "PROFILE-NAME",
        help_heading = "Compilation Options"
    )]
    profile: Option<String>,

    /// Number of parallel jobs, defaults to # of CPUs.
    #[arg(
        short,
        long,
        value_name = "N",
        allow_hyphen_values = true,
        help_heading = "Compilation Options"
    )]
    jobs: Option<String>,

    /// Directory for all generated artifacts
    #[arg(long, value_name = "DIRECTORY", help_heading = "Compilation Options")]
    target_dir: Option<PathBuf>,

    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH", help_heading = "Manifest Options")]
    manifest_path: Option<PathBuf>,

    /// Assert that `Cargo.lock` will remain unchanged
    #[arg(long, help_heading = "Manifest Options")]
    locked: bool,

    /// Run without accessing the network
    #[arg(long, help_heading = "Manifest Options")]
    offline: bool,

    /// Equivalent to specifying both --locked and --offline
    #[arg(long, help_heading = "Manifest Options")]
    frozen: bool,
}

impl Cli {
    /// The options cargo metadata and cargo build share.
    fn manifest_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(path) = &self.manifest_path {
            args.extend(["--manifest-path".into(), path.into()]);
        }
        for (on, flag) in [
            (self.locked, "--locked"),
            (self.offline, "--offline"),
            (self.frozen, "--frozen"),
            (self.quiet, "--quiet"),
        ] {
            if on {
                args.push(flag.into());
            }
        }
        for _ in 0..self.verbose {
            args.push("--verbose".into());
        }
        if let Some(color) = &self.color {
            args.push(format!("--color={color}").into());
        }
        for config in &self.config {
            args.push(format!("--config={config}").into());
        }
        args
    }

    /// `cargo build`'s options besides --target and --message-format.
    fn build_args(&self) -> Vec<OsString> {
        let mut args = self.manifest_args();
        let mut valued = |flag: &str, values: &[String]| {
            for value in values {
                args.push(format!("{flag}={value}").into());
            }
        };
        valued("--package", &self.package);
        valued("--exclude", &self.exclude);
        valued("--features", &self.features);
        valued("--jobs", self.jobs.as_slice());
        if self.bin.is_empty() {
            // Only binaries: a library or tests of the package are not
            // built for WASI unless a binary needs them.
            args.push("--bins".into());
        } else {
            valued("--bin", &self.bin);
        }
        match (&self.profile, self.debug) {
            (Some(profile), _) => args.push(format!("--profile={profile}").into()),
            // cargo build's own default.
            (None, true) => {}
            (None, false) => args.push("--release".into()),
        }
        for (on, flag) in [
            (self.workspace, "--workspace"),
            (self.all_features, "--all-features"),
            (self.no_default_features, "--no-default-features"),
        ] {
            if on {
                args.push(flag.into());
            }
        }
        if let Some(dir) = &self.target_dir {
            args.extend(["--target-dir".into(), dir.into()]);
        }
        args
    }

    /// The pack options of the command line, in the form of Cargo.toml's.
    fn pack_options(&self) -> Options {
        let mut options = Options::default();
        options.values("dirs", &self.dir);
        options.values("include", &self.include);
        options.values("env", &self.env);
        options.values("args", &self.arg);
        options.flag("host-fs", self.host_fs);
        options.flag("inherit-env", self.inherit_env);
        options.flag("inherit-network", self.inherit_network);
        options.flag("allow-ip-name-lookup", self.allow_ip_name_lookup);
        options.text("init-func", self.init_func.as_deref());
        options.flag("strip-names", self.strip_names);
        options.values("targets", &self.target);
        options.text("cpu", self.cpu.as_deref());
        options.values("archive-files", &self.archive_file);
        options.text("windows-icon", self.windows_icon.as_deref());
        options.text("windows-version", self.windows_version.as_deref());
        options.text("windows-product", self.windows_product.as_deref());
        options.text("windows-company", self.windows_company.as_deref());
        options.text("windows-description", self.windows_description.as_deref());
        options.text("windows-copyright", self.windows_copyright.as_deref());
        options
    }

    /// The wasm target cargo builds for.
    fn wasm_triple(&self) -> &'static str {
        if self.component {
            "wasm32-wasip2"
        } else {
            "wasm32-wasip1"
        }
    }
}

/// `cargo-wpack [wpack] ARGS...`: cargo runs external subcommands with the
/// subcommand's name as first argument (and `cargo help wpack` as
/// `cargo-wpack wpack --help`); run directly, there is none.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|arg| arg == "wpack") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cargo-wpack: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Each package's `[package.metadata.wpack]`, read once.
#[derive(Default)]
struct Configs(BTreeMap<String, config::PackageConfig>);

impl Configs {
    fn get(&mut self, package: &metadata::Package) -> Result<&config::PackageConfig> {
        if !self.0.contains_key(&package.id) {
            let config = config::parse(&package.metadata, package.dir(), &package.bins())
                .with_context(|| package.manifest_path.display().to_string())?;
            self.0.insert(package.id.clone(), config);
        }
        Ok(&self.0[&package.id])
    }
}

/// One binary to pack: the wpack command line for it.
struct Job {
    bin: String,
    version: String,
    args: Vec<OsString>,
}

fn run(cli: &Cli) -> Result<()> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    check_command_line(cli)?;
    let metadata = metadata::read(&cargo, &cli.manifest_args())?;
    let mut configs = Configs::default();
    // Before building: mistakes in Cargo.toml, and packages with nothing to
    // pack, are reported without waiting for a build.
    let selection = metadata::Selection {
        workspace: cli.workspace,
        packages: &cli.package,
        exclude: &cli.exclude,
        manifest_path: cli.manifest_path.as_deref(),
    };
    if let Some(selected) = metadata.selected(&selection) {
        for package in &selected {
            configs.get(package)?;
        }
        if !selected.is_empty() && selected.iter().all(|p| p.bins().is_empty()) {
            let names: Vec<String> = selected
                .iter()
                .map(|p| format!("{} ({})", p.name, p.manifest_path.display()))
                .collect();
            bail!(
                "nothing to pack: {} has no binary target (add src/main.rs, src/bin/NAME.rs \
                 or a [[bin]] section)",
                names.join(", ")
            );
        }
    }

    let triple = cli.wasm_triple();
    build::ensure_target(triple, cli.quiet)?;
    let artifacts = build::build(&cargo, triple, &cli.build_args())?;
    if artifacts.is_empty() {
        bail!(
            "nothing to pack: cargo built no binary for {triple} (the package has no binary \
             target, or its binaries' required-features are not enabled)"
        );
    }

    let out_dir = match (&cli.out_dir, &cli.target_dir) {
        (Some(dir), _) => dir.clone(),
        (None, Some(target_dir)) => target_dir.join("wpack"),
        (None, None) => metadata.target_directory.join("wpack"),
    };
    let mut jobs = Vec::new();
    for artifact in &artifacts {
        let package = metadata.package(&artifact.package_id).with_context(|| {
            format!(
                "cargo built {}, which cargo metadata does not list",
                artifact.package_id
            )
        })?;
        if let Some(twin) = artifacts
            .iter()
            .find(|a| a.bin == artifact.bin && a.package_id != artifact.package_id)
        {
            bail!(
                "two packages have a binary named `{}` ({} and {}): their outputs would have \
                 the same names; pack them one at a time with -p",
                artifact.bin,
                artifact.package_id,
                twin.package_id
            );
        }
        let options = configs
            .get(package)?
            .for_bin(&artifact.bin)
            .then(&cli.pack_options());
        jobs.push(job(cli, artifact, package, &options, &out_dir)?);
    }

    // Each wpack run writes a SHA256SUMS over its own files; the one left
    // must cover every binary's.
    let merge_sums = cli.checksums && jobs.len() > 1;
    let mut sums = Vec::new();
    for job in &jobs {
        if !cli.quiet {
            status("Packing", &format!("{} v{}", job.bin, job.version));
        }
        crate::run_args(job.args.iter().cloned())
            .with_context(|| format!("packing {} v{}", job.bin, job.version))?;
        if merge_sums {
            let path = out_dir.join("SHA256SUMS");
            sums.push(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            );
        }
    }
    if merge_sums {
        write_sums(&out_dir, &sums)?;
    }
    if !cli.quiet {
        status(
            "Finished",
            &format!("{} in {}", count(jobs.len()), out_dir.display()),
        );
    }
    Ok(())
}

/// Checks the pack options of the command line as wpack would, before
/// anything is built.
fn check_command_line(cli: &Cli) -> Result<()> {
    let mut args = vec!["wpack".to_owned(), "in.wasm".to_owned()];
    args.extend(cli.pack_options().to_args());
    if let Err(error) = crate::cli::Cli::try_parse_from(&args) {
        bail!("{}", config::clap_message(&error));
    }
    if !cli.target.is_empty() {
        crate::stub_image::choose(&cli.target)?;
    }
    Ok(())
}

/// The wpack command line that packs `artifact`, checked before anything
/// is packed so that a bad option stops the run before its first output.
fn job(
    cli: &Cli,
    artifact: &build::Artifact,
    package: &metadata::Package,
    options: &Options,
    out_dir: &Path,
) -> Result<Job> {
    let mut args: Vec<OsString> = vec!["wpack".into(), artifact.wasm.clone().into()];
    args.extend(["-o".into(), out_dir.into()]);
    args.push(format!("--name-template={}", cli.name_template).into());
    args.push(format!("--version-tag={}", package.version).into());
    args.extend(options.to_args().into_iter().map(OsString::from));
    for (on, flag) in [
        (cli.archive, "--archive"),
        (cli.checksums, "--checksums"),
        (cli.no_cache, "--no-cache"),
        (cli.quiet, "--quiet"),
    ] {
        if on {
            args.push(flag.into());
        }
    }
    if let Err(error) = crate::cli::Cli::try_parse_from(&args) {
        bail!(
            "{} ({}): {}",
            artifact.bin,
            package.manifest_path.display(),
            config::clap_message(&error)
        );
    }
    Ok(Job {
        bin: artifact.bin.clone(),
        version: package.version.clone(),
        args,
    })
}

/// Writes `SHA256SUMS` in `dir` from the lists of several runs, atomically.
fn write_sums(dir: &Path, lists: &[String]) -> Result<()> {
    let path = dir.join("SHA256SUMS");
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    for list in lists {
        file.write_all(list.as_bytes())?;
    }
    file.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn count(n: usize) -> String {
    match n {
        1 => "1 binary".into(),
        n => format!("{n} binaries"),
    }
}

/// A status line as cargo prints them: the verb right-aligned, in bold
/// green on a terminal.
fn status(verb: &str, message: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[1;32m{verb:>12}\x1b[0m {message}");
    } else {
        eprintln!("{verb:>12} {message}");
    }
}
