//! Writing the product: atomically to a file (temp file in the same folder,
//! then rename), or to stdout. A failed run never leaves a partial file and
//! never replaces a previous good one.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes `content` to `path` atomically.
///
/// # Errors
/// [`Error::Write`] when the folder is not writable or the rename fails.
pub fn write_atomic(path: &Path, content: &str) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".childgen-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(fail)?;
    file.write_all(content.as_bytes()).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// A `--verbose` message on stderr (stdout carries only the product).
pub fn info(verbose: bool, message: impl AsRef<str>) {
    if verbose {
        eprintln!("childgen: {}", message.as_ref());
    }
}

/// A warning on stderr unless `--quiet`.
pub fn warn(quiet: bool, message: impl AsRef<str>) {
    if !quiet {
        eprintln!("warning: {}", message.as_ref());
    }
}

/// Writes `content` to stdout. A closed pipe (`| head`) is not an error.
///
/// # Errors
/// [`Error::Write`] for any other failure.
pub fn write_stdout(content: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(content.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes to `path` when given, else to stdout.
///
/// # Errors
/// As [`write_atomic`] and [`write_stdout`].
pub fn emit(path: Option<&Path>, content: &str) -> Result<()> {
    match path {
        Some(path) if path != Path::new("-") => write_atomic(path, content),
        _ => write_stdout(content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_temp_file() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Usage(e.to_string()))?;
        let target = dir.path().join("generated.yml");
        write_atomic(&target, "one: 1\n")?;
        write_atomic(&target, "two: 2\n")?;
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), Some("two: 2\n"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .map_err(|e| Error::Usage(e.to_string()))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("generated.yml")]);
        assert!(write_atomic(&dir.path().join("missing/x.yml"), "x").is_err());
        Ok(())
    }
}
