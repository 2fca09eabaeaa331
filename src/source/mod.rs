//! Change sources: a diff listing, git, or the GitLab API, and `auto`, which
//! picks one from GitLab's predefined variables (design §1).

pub mod diff_file;

use crate::change::Change;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Reads and parses a diff listing from a file, or stdin for `-`.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::DiffLine`] when a line is
/// malformed.
pub fn read_diff(path: &Path) -> Result<Vec<Change>> {
    if path == Path::new("-") {
        let mut input = Vec::new();
        std::io::stdin().read_to_end(&mut input).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        return diff_file::parse_name_status(&input, "<stdin>");
    }
    let input = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    diff_file::parse_name_status(&input, &path.display().to_string())
}

/// Collects the changes the source flags (or, without any, the CI
/// environment) point at.
///
/// # Errors
/// Whatever the chosen source fails with.
pub fn collect(args: &crate::cli::SourceArgs, _verbose: bool) -> Result<Vec<Change>> {
    match &args.diff {
        Some(path) => read_diff(path),
        None => Err(Error::Usage(
            "git and GitLab sources are not available yet; pass --diff FILE".to_owned(),
        )),
    }
}
