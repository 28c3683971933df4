//! `[package.metadata.wpack]` and `[package.metadata.wpack.bin.NAME]`: pack
//! options kept in Cargo.toml, each spelled as on wpack's command line, and
//! how they combine with each other and with `cargo wpack`'s own options.

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser as _;
use serde_json::Value;

/// How a key's value is read and combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An array of strings; later sources add to it.
    List,
    /// `include`: a `List` of HOST[::GUEST] whose HOST is relative to the
    /// package directory.
    Includes,
    /// A `List` of paths relative to the package directory.
    Paths,
    /// `targets`: an array of strings that a later source replaces (a
    /// binary or the command line choosing its platforms means those only).
    Targets,
    /// `true` or `false`; a later source replaces it.
    Flag,
    /// A string; a later source replaces it.
    Text,
    /// A `Text` path relative to the package directory.
    Path,
}

/// A key of `[package.metadata.wpack]`, the wpack option it stands for and
/// an example for error messages.
struct Key {
    name: &'static str,
    flag: &'static str,
    kind: Kind,
    example: &'static str,
}

/// Every key, in the order their options are given to wpack.
const KEYS: &[Key] = &[
    key("dirs", "--dir", Kind::List, r#"dirs = ["."]"#),
    key(
        "include",
        "--include",
        Kind::Includes,
        r#"include = ["assets::/assets"]"#,
    ),
    key(
        "env",
        "--env",
        Kind::List,
        r#"env = ["NAME=VALUE", "NAME"]"#,
    ),
    key("args", "--arg", Kind::List, r#"args = ["--flag"]"#),
    key("host-fs", "--host-fs", Kind::Flag, "host-fs = true"),
    key(
        "inherit-env",
        "--inherit-env",
        Kind::Flag,
        "inherit-env = true",
    ),
    key(
        "inherit-network",
        "--inherit-network",
        Kind::Flag,
        "inherit-network = true",
    ),
    key(
        "allow-ip-name-lookup",
        "--allow-ip-name-lookup",
        Kind::Flag,
        "allow-ip-name-lookup = true",
    ),
    key(
        "init-func",
        "--init-func",
        Kind::Text,
        r#"init-func = "wizer-initialize""#,
    ),
    key(
        "strip-names",
        "--strip-names",
        Kind::Flag,
        "strip-names = true",
    ),
    key(
        "targets",
        "--target",
        Kind::Targets,
        r#"targets = ["x86_64-linux", "x86_64-windows"]"#,
    ),
    key("cpu", "--cpu", Kind::Text, r#"cpu = "x86-64-v3""#),
    key(
        "archive-files",
        "--archive-file",
        Kind::Paths,
        r#"archive-files = ["README.md", "LICENSE"]"#,
    ),
    key(
        "windows-icon",
        "--windows-icon",
        Kind::Path,
        r#"windows-icon = "app.ico""#,
    ),
    key(
        "windows-version",
        "--windows-version",
        Kind::Text,
        r#"windows-version = "1.2.3""#,
    ),
    key(
        "windows-product",
        "--windows-product",
        Kind::Text,
        r#"windows-product = "My Tool""#,
    ),
    key(
        "windows-company",
        "--windows-company",
        Kind::Text,
        r#"windows-company = "Me""#,
    ),
    key(
        "windows-description",
        "--windows-description",
        Kind::Text,
        r#"windows-description = "A tool""#,
    ),
    key(
        "windows-copyright",
        "--windows-copyright",
        Kind::Text,
        r#"windows-copyright = "(c) Me""#,
    ),
];

const fn key(name: &'static str, flag: &'static str, kind: Kind, example: &'static str) -> Key {
    Key {
        name,
        flag,
        kind,
        example,
    }
}

fn find_key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// The names of the keys, for messages.
pub fn key_names() -> String {
    let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    names.push("bin");
    names.join(", ")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{table} must be a table of the keys {}", key_names())]
    NotTable { table: String },
    #[error("{table}: unknown key `{key}`; the keys are {}", key_names())]
    UnknownKey { table: String, key: String },
    #[error("{table}: `{key}` must be {expected}, e.g. {example}")]
    WrongType {
        table: String,
        key: &'static str,
        expected: &'static str,
        example: &'static str,
    },
    #[error("{table}: `{key}`: {message}")]
    BadValue {
        table: String,
        key: &'static str,
        message: String,
    },
    #[error("{table}: the package has no binary named `{name}` (its binaries: {bins})")]
    UnknownBin {
        table: String,
        name: String,
        bins: String,
    },
}

/// One key's value from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    Values(Vec<String>),
    Flag(bool),
    Text(String),
}

/// Pack options from one source (a table of Cargo.toml, or the command
/// line), or several combined.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options(BTreeMap<&'static str, Setting>);

impl Options {
    /// Adds values of a list key (nothing when `values` is empty).
    pub fn values(&mut self, name: &str, values: &[String]) {
        if !values.is_empty() {
            self.set(name, Setting::Values(values.to_vec()));
        }
    }

    /// Sets a flag key when `on` (the command line can only turn one on).
    pub fn flag(&mut self, name: &str, on: bool) {
        if on {
            self.set(name, Setting::Flag(true));
        }
    }

    /// Sets a text key when given.
    pub fn text(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.set(name, Setting::Text(value.to_owned()));
        }
    }

    fn set(&mut self, name: &str, setting: Setting) {
        let key = find_key(name).unwrap_or_else(|| panic!("`{name}` is not in KEYS"));
        self.0.insert(key.name, setting);
    }

    /// These options, then `later`'s: lists are added to, everything else
    /// (the target list included) is replaced.
    pub fn then(&self, later: &Options) -> Options {
        let mut merged = self.clone();
        for (name, setting) in &later.0 {
            let kind = find_key(name).expect("keys come from KEYS").kind;
            match (merged.0.get_mut(name), setting) {
                (Some(Setting::Values(old)), Setting::Values(new)) if kind != Kind::Targets => {
                    old.extend(new.iter().cloned())
                }
                _ => {
                    merged.0.insert(name, setting.clone());
                }
            }
        }
        merged
    }

    /// The wpack options these stand for, in `KEYS` order, each as
    /// `--flag=VALUE` so that a value starting with `-` stays a value.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for key in KEYS {
            match self.0.get(key.name) {
                Some(Setting::Values(values)) => {
                    args.extend(values.iter().map(|v| format!("{}={v}", key.flag)))
                }
                Some(Setting::Flag(true)) => args.push(key.flag.to_owned()),
                Some(Setting::Text(value)) => args.push(format!("{}={value}", key.flag)),
                Some(Setting::Flag(false)) | None => {}
            }
        }
        args
    }
}

/// A package's `[package.metadata.wpack]`: its own options and each
/// binary's.
#[derive(Debug, Default)]
pub struct PackageConfig {
    package: Options,
    bins: BTreeMap<String, Options>,
}

impl PackageConfig {
    /// The options of binary `bin`: the package's, then the binary's own.
    pub fn for_bin(&self, bin: &str) -> Options {
        match self.bins.get(bin) {
            Some(own) => self.package.then(own),
            None => self.package.clone(),
        }
    }
}

/// Reads the `metadata` of a package as `cargo metadata` gives it (`null`
/// without any `[package.metadata]`). `dir` is the package directory, which
/// relative paths are resolved against; `bins` are its binaries' names.
pub fn parse(metadata: &Value, dir: &Path, bins: &[&str]) -> Result<PackageConfig, ConfigError> {
    let table = "[package.metadata.wpack]";
    let Some(wpack) = metadata.get("wpack") else {
        return Ok(PackageConfig::default());
    };
    let Value::Object(entries) = wpack else {
        return Err(ConfigError::NotTable {
            table: table.into(),
        });
    };
    let mut config = PackageConfig::default();
    let mut own = serde_json::Map::new();
    for (name, value) in entries {
        if name == "bin" {
            let Value::Object(by_bin) = value else {
                return Err(ConfigError::NotTable {
                    table: format!("{table} `bin`"),
                });
            };
            for (bin, value) in by_bin {
                let table = format!("[package.metadata.wpack.bin.{bin}]");
                if !bins.contains(&bin.as_str()) {
                    return Err(ConfigError::UnknownBin {
                        table,
                        name: bin.clone(),
                        bins: if bins.is_empty() {
                            "none".into()
                        } else {
                            bins.join(", ")
                        },
                    });
                }
                let Value::Object(entries) = value else {
                    return Err(ConfigError::NotTable { table });
                };
                config
                    .bins
                    .insert(bin.clone(), parse_table(&table, entries, dir)?);
            }
        } else {
            own.insert(name.clone(), value.clone());
        }
    }
    config.package = parse_table(table, &own, dir)?;
    Ok(config)
}

/// One table's keys (without `bin`).
fn parse_table(
    table: &str,
    entries: &serde_json::Map<String, Value>,
    dir: &Path,
) -> Result<Options, ConfigError> {
    let mut options = Options::default();
    for (name, value) in entries {
        let Some(key) = find_key(name) else {
            return Err(ConfigError::UnknownKey {
                table: table.into(),
                key: name.clone(),
            });
        };
        let wrong_type = |expected| ConfigError::WrongType {
            table: table.into(),
            key: key.name,
            expected,
            example: key.example,
        };
        let bad_value = |message| ConfigError::BadValue {
            table: table.into(),
            key: key.name,
            message,
        };
        let setting = match (key.kind, value) {
            (Kind::Flag, Value::Bool(on)) => Setting::Flag(*on),
            (Kind::Flag, _) => return Err(wrong_type("true or false")),
            (Kind::Text | Kind::Path, Value::String(text)) => {
                check_value(key, text).map_err(bad_value)?;
                Setting::Text(if key.kind == Kind::Path {
                    in_package(dir, text)
                } else {
                    text.clone()
                })
            }
            (Kind::Text | Kind::Path, _) => return Err(wrong_type("a string")),
            (_, Value::Array(items)) => {
                let mut values = Vec::new();
                for item in items {
                    let Value::String(text) = item else {
                        return Err(wrong_type("an array of strings"));
                    };
                    check_value(key, text).map_err(bad_value)?;
                    values.push(match key.kind {
                        Kind::Includes => include_in_package(dir, text),
                        Kind::Paths => in_package(dir, text),
                        _ => text.clone(),
                    });
                }
                Setting::Values(values)
            }
            _ => return Err(wrong_type("an array of strings")),
        };
        options.0.insert(key.name, setting);
    }
    Ok(options)
}

/// Checks one value as wpack's own command line would, so that a mistake
/// is reported against Cargo.toml before anything is built.
fn check_value(key: &Key, value: &str) -> Result<(), String> {
    if key.kind == Kind::Targets {
        return crate::stub_image::choose(&[value.to_owned()])
            .map(drop)
            .map_err(|e| format!("{e:#}"));
    }
    crate::cli::Cli::try_parse_from(["wpack", "in.wasm", &format!("{}={value}", key.flag)])
        .map(drop)
        .map_err(|e| clap_message(&e))
}

/// The first line of a clap error, without its `error: ` (the rest is
/// usage and a pointer to --help, which are about wpack's command line).
pub fn clap_message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// A path from Cargo.toml: relative to the package directory.
fn in_package(dir: &Path, path: &str) -> String {
    dir.join(path).to_string_lossy().into_owned()
}

/// An `include` from Cargo.toml: HOST is relative to the package directory,
/// and the program still sees the tree under HOST as written when no GUEST
/// is given (an absolute HOST would otherwise become its name).
fn include_in_package(dir: &Path, spec: &str) -> String {
    let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
    if Path::new(host).is_absolute() {
        return spec.to_owned();
    }
    format!("{}::{guest}", in_package(dir, host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(metadata: Value) -> Result<PackageConfig, ConfigError> {
        parse(&metadata, Path::new("/pkg"), &["app", "tool"])
    }

    #[test]
    fn relative_paths_are_the_package_s() {
        let config = parse_json(json!({"wpack": {
            "include": ["data", "assets::/a", "/abs::/b"],
            "dirs": ["."],
            "windows-icon": "app.ico",
        }}))
        .unwrap();
        assert_eq!(
            config.for_bin("app").to_args(),
            [
                "--dir=.",
                "--include=/pkg/data::data",
                "--include=/pkg/assets::/a",
                "--include=/abs::/b",
                "--windows-icon=/pkg/app.ico",
            ]
        );
    }

    #[test]
    fn a_binary_adds_to_lists_and_replaces_the_rest() {
        let config = parse_json(json!({"wpack": {
            "env": ["A=1"], "cpu": "x86-64-v2", "host-fs": true,
            "targets": ["x86_64-linux", "x86_64-windows"],
            "bin": {"tool": {"env": ["B"], "cpu": "x86-64-v3", "host-fs": false,
                             "targets": ["aarch64-linux"]}},
        }}))
        .unwrap();
        assert_eq!(
            config.for_bin("app").to_args(),
            [
                "--env=A=1",
                "--host-fs",
                "--target=x86_64-linux",
                "--target=x86_64-windows",
                "--cpu=x86-64-v2"
            ]
        );
        let mut cli = Options::default();
        cli.values("env", &["C=3".into()]);
        assert_eq!(
            config.for_bin("tool").then(&cli).to_args(),
            [
                "--env=A=1",
                "--env=B",
                "--env=C=3",
                "--target=aarch64-linux",
                "--cpu=x86-64-v3"
            ]
        );
    }

    #[test]
    fn mistakes_name_the_key() {
        let cases = [
            (json!({"wpack": {"envs": []}}), "unknown key `envs`"),
            (
                json!({"wpack": {"env": "A=1"}}),
                "`env` must be an array of strings",
            ),
            (
                json!({"wpack": {"host-fs": "yes"}}),
                "`host-fs` must be true or false",
            ),
            (json!({"wpack": {"env": ["=x"]}}), "`env`: invalid value"),
            (
                json!({"wpack": {"targets": ["vax-vms"]}}),
                "`targets`: unknown target",
            ),
            (
                json!({"wpack": {"bin": {"nope": {}}}}),
                "no binary named `nope` (its binaries: app, tool)",
            ),
            (
                json!({"wpack": {"bin": {"app": {"dir": []}}}}),
                "[package.metadata.wpack.bin.app]: unknown key `dir`",
            ),
            (json!({"wpack": 3}), "must be a table"),
        ];
        for (metadata, expected) in cases {
            let error = parse_json(metadata).unwrap_err().to_string();
            assert!(error.contains(expected), "{expected:?} not in {error:?}");
        }
    }

    #[test]
    fn no_metadata_is_no_options() {
        let config = parse_json(Value::Null).unwrap();
        assert!(config.for_bin("app").to_args().is_empty());
    }
}
