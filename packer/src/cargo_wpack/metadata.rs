//! What `cargo metadata --format-version 1 --no-deps` says of the workspace:
//! its packages (versions, binaries, `[package.metadata]`), which of them a
//! command line selects, and the target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub packages: Vec<Package>,
    pub workspace_members: Vec<String>,
    /// Since cargo 1.71; what a virtual workspace builds without -p.
    #[serde(default)]
    pub workspace_default_members: Option<Vec<String>>,
    pub target_directory: PathBuf,
}

#[derive(Debug, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub id: String,
    pub manifest_path: PathBuf,
    pub targets: Vec<Target>,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub struct Target {
    pub name: String,
    pub kind: Vec<String>,
}

impl Package {
    /// The names of its binary targets.
    pub fn bins(&self) -> Vec<&str> {
        self.targets
            .iter()
            .filter(|t| t.kind.iter().any(|k| k == "bin"))
            .map(|t| t.name.as_str())
            .collect()
    }

    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }
}

/// Runs `cargo metadata` with `args` (--manifest-path, --locked, ...).
pub fn read(cargo: &Path, args: &[std::ffi::OsString]) -> Result<Metadata> {
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", cargo.display()))?;
    if !output.status.success() {
        bail!("cargo metadata failed (its error is above)");
    }
    serde_json::from_slice(&output.stdout).context("cannot read the output of cargo metadata")
}

/// What the package options of the command line select.
pub struct Selection<'a> {
    pub workspace: bool,
    pub packages: &'a [String],
    pub exclude: &'a [String],
    pub manifest_path: Option<&'a Path>,
}

impl Metadata {
    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    fn members(&self) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(|p| self.workspace_members.contains(&p.id))
    }

    /// The packages cargo will build for `selection`, worked out as cargo
    /// does for the simple cases, or `None` when only cargo can tell (a
    /// package spec with a version, URL or glob, a package that is not a
    /// workspace member): those are then checked after the build.
    pub fn selected(&self, selection: &Selection) -> Option<Vec<&Package>> {
        let names = |specs: &[String]| -> Option<Vec<String>> {
            specs
                .iter()
                .map(|spec| {
                    let name = spec.split_once('@').map_or(spec.as_str(), |(name, _)| name);
                    let plain = name
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
                    plain.then(|| name.to_owned())
                })
                .collect()
        };
        if selection.workspace {
            let exclude = names(selection.exclude)?;
            return Some(
                self.members()
                    .filter(|p| !exclude.contains(&p.name))
                    .collect(),
            );
        }
        if !selection.packages.is_empty() {
            let wanted = names(selection.packages)?;
            let found: Vec<&Package> = self
                .members()
                .filter(|p| wanted.contains(&p.name))
                .collect();
            return (found.len() == wanted.len()).then_some(found);
        }
        // Neither: the package of the manifest cargo finds (the one given,
        // or the nearest Cargo.toml upwards), or for a virtual manifest the
        // default members.
        let manifest = match selection.manifest_path {
            Some(path) => path.to_path_buf(),
            None => nearest_manifest()?,
        };
        let manifest = manifest.canonicalize().ok()?;
        let own = self.members().find(|p| {
            p.manifest_path
                .canonicalize()
                .is_ok_and(|path| path == manifest)
        });
        match own {
            Some(package) => Some(vec![package]),
            None => {
                let defaults = self
                    .workspace_default_members
                    .as_ref()
                    .unwrap_or(&self.workspace_members);
                Some(
                    self.members()
                        .filter(|p| defaults.contains(&p.id))
                        .collect(),
                )
            }
        }
    }
}

fn nearest_manifest() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|path| path.is_file())
}
