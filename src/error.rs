//! The library's error type. Every user-facing failure is one variant with the
//! fields a person needs to act (file, line, path, template, group, key), and
//! [`Error::exit_code`] decides the process exit code: 2 for bad usage, config,
//! patterns, templates or input; 1 for git, network and GitLab failures.

use std::path::PathBuf;

/// `Result` with childgen's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, grouped by who can fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flags that do not fit together, or are missing.
    #[error("{0}")]
    Usage(String),

    /// A file given as input could not be read.
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },

    /// An input file childgen refuses to read: not a regular file, too large,
    /// not UTF-8.
    #[error("{path}: {detail}")]
    Input { path: PathBuf, detail: String },

    /// `childgen.yml` (or another config file) is invalid.
    #[error("{path}: {detail}")]
    Config { path: PathBuf, detail: String },

    /// A malformed line in a diff listing.
    #[error("{source_name}: line {line}: {detail}: {text}")]
    DiffLine {
        source_name: String,
        line: usize,
        text: String,
        detail: String,
    },

    /// A stop-word or regex pattern that cannot be used.
    #[error("invalid pattern {pattern:?}: {detail}")]
    Pattern { pattern: String, detail: String },

    /// An extracted value outside the `values` regex (untrusted path).
    #[error(
        "path {}: value {} of variable `{var}` does not match the allowed values `{allowed}`; \
         rename the folder, or widen `values` in childgen.yml if this value is safe",
        crate::change::for_message(path),
        crate::change::for_message(value)
    )]
    Value {
        path: String,
        var: String,
        value: String,
        allowed: String,
    },

    /// A template that does not parse, or uses a name the context lacks.
    #[error("template {template}{}: {detail}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Template {
        template: String,
        line: Option<usize>,
        detail: String,
    },

    /// A template that fails while rendering one group.
    #[error("template {template}{}, group {group}: {detail}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Render {
        template: String,
        line: Option<usize>,
        group: String,
        detail: String,
    },

    /// A rendered fragment that is not usable YAML.
    #[error("template {template}, group {group}: {detail}")]
    Fragment {
        template: String,
        group: String,
        detail: String,
    },

    /// A changed path that would change what the rendered pipeline does.
    #[error(
        "template {template}, group {group}: the changed path {} would change `{at}`: it {detail}. childgen writes no pipeline it cannot prove safe. \
         In the template, pass paths to scripts through a variable (`\"$VAR\"`) or `sh_quote`, keep them out of `if:` expressions, \
         and quote them with `yaml_quote` as whole YAML values (docs/templates.md, \"Paths in scripts\"); or rename the file",
        crate::change::for_message(path)
    )]
    Unsafe {
        template: String,
        group: String,
        path: String,
        at: String,
        detail: String,
    },

    /// A fragment whose `stages` or `variables` cannot be merged.
    #[error("{origin}: {detail}")]
    Merge { origin: String, detail: String },

    /// Two fragments that define one key differently.
    #[error(
        "{key} is defined differently by {first} and by {second}; make the template produce one definition, or give the jobs distinct names"
    )]
    Conflict { key: String, first: String, second: String },

    /// A document that GitLab would reject.
    #[error("{subject} is not a valid child pipeline:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { subject: String, problems: Vec<String> },

    /// A git operation failed (missing ref, shallow clone, ...).
    #[error("{0}")]
    Git(String),

    /// The GitLab API failed or refused.
    #[error("{0}")]
    GitLab(String),

    /// `childgen test`: rendered cases differ from their expectation.
    #[error("{failed} case(s) differ from expected.yml; review the diff, then fix the template or rerun with --bless")]
    CasesFailed { failed: usize },

    /// An `--output` target that childgen refuses to replace.
    #[error("refusing to write {path}: {reason}")]
    OutputTarget { path: PathBuf, reason: String },

    /// Writing the output failed.
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Error {
    /// The process exit code for this error: 2 when the user's input is at
    /// fault, 1 for runtime failures.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Git(_) | Error::GitLab(_) | Error::Write { .. } | Error::CasesFailed { .. } => 1,
            _ => 2,
        }
    }
}
