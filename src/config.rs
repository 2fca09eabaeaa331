//! `childgen.yml`: its schema (unknown keys are errors, with their line) and
//! its discovery, upward from the current folder to the repository root.

use crate::error::{Error, Result};
use crate::group::Mode;
use crate::validate::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default config file name.
pub const CONFIG_NAME: &str = "childgen.yml";

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The rules, in order.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// The regex every extracted value must match.
    pub values: Option<String>,
    /// Template for the no-op pipeline when nothing matched.
    pub empty: Option<PathBuf>,
    /// Values given to every template as `vars`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// Size limits.
    #[serde(default)]
    pub limits: Limits,
    /// Templates that rules `{% include %}` or `{% import %}` (macros), by
    /// path relative to this file; globs allowed. Loaded first, named by that path.
    #[serde(default)]
    pub partials: Vec<String>,
    /// Programs the scripts may give a changed path or a value the merge
    /// request chose, besides those childgen knows read their arguments as
    /// data (`helm`, `aws`): their names, as a script writes them.
    #[serde(default)]
    pub trusted_commands: Vec<String>,
    /// The branch a local dry run compares against (default: `origin/HEAD`, then main/master).
    pub default_branch: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// A name for messages and `plan` (default: `rule-N`).
    pub name: Option<String>,
    /// Stop-word patterns.
    pub stop: Option<String>,
    /// Or a regex with named groups.
    pub regex: Option<String>,
    /// Optional globs; a path must match one of them.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The template, relative to the config file's folder.
    pub template: PathBuf,
    /// `each` (default) or `once`.
    #[serde(default)]
    pub mode: Mode,
}

/// A loaded config with the folder its relative paths start from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// The folder of `path`.
    pub dir: PathBuf,
    /// The parsed content.
    pub file: ConfigFile,
}

impl Config {
    /// Reads and parses a config file.
    ///
    /// # Errors
    /// [`Error::Read`] or [`Error::Config`] (serde's message names the key,
    /// line and column).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::files::read_text(path, crate::files::CONFIG_LIMIT, "the configuration")?;
        crate::files::check_yaml_depth(&text).map_err(|detail| Error::Config {
            path: path.to_owned(),
            detail,
        })?;
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_yaml::from_str(&text).map_err(|e| Error::Config {
                path: path.to_owned(),
                detail: e.to_string(),
            })?
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok(Config {
            path: path.to_owned(),
            dir,
            file,
        })
    }
}

/// Finds `childgen.yml` in `start` or its parents, stopping at the first
/// folder that holds `.git` (the repository root).
#[must_use]
pub fn discover(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(CONFIG_NAME);
        // Anything by that name counts: a FIFO or a folder called
        // `childgen.yml` is reported by name when it is loaded, not skipped
        // for a "no rules" error that hides it.
        if std::fs::symlink_metadata(&candidate).is_ok() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let dir = tempfile::tempdir().ok();
        let dir = dir.as_ref().map_or(Path::new("."), tempfile::TempDir::path);
        let path = dir.join(CONFIG_NAME);
        let written = std::fs::write(&path, "rules:\n  - stop: a:b\n    template: t\n    tempalte: x\n");
        assert!(written.is_ok());
        let err = Config::load(&path).map(|_| ()).map_err(|e| e.to_string());
        let message = err.err().unwrap_or_default();
        assert!(
            message.contains("unknown field `tempalte`") && message.contains("line 4"),
            "{message}"
        );
    }

    #[test]
    fn discovery_stops_at_the_repository_root() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git"))?;
        std::fs::create_dir_all(repo.join("a/b"))?;
        std::fs::write(dir.path().join(CONFIG_NAME), "")?;
        assert_eq!(discover(&repo.join("a/b")), None);
        std::fs::write(repo.join(CONFIG_NAME), "")?;
        assert_eq!(discover(&repo.join("a/b")), Some(repo.join(CONFIG_NAME)));
        Ok(())
    }
}
