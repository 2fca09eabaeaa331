//! Writing the product: atomically to a file (temp file in the same folder,
//! then rename), or to stdout. A failed run never leaves a partial file and
//! never replaces a previous good one.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes `content` to `path` atomically.
///
/// Only a regular file is ever written: an existing symlink, device, FIFO,
/// socket or folder at `path` is refused (a symlink is never followed
/// silently: `-o link` could otherwise replace whatever the link points at,
/// `/dev/full` as root). An existing file keeps its permissions; a new one
/// gets `0666` less the umask, as any other tool's output would (the artifact
/// is read by other jobs). The content goes to a temporary file in the same
/// folder, is synced, then renamed over `path`: a failure leaves no partial
/// file and never replaces a previous good one.
///
/// # Errors
/// [`Error::OutputTarget`] for a target that is not a regular file,
/// [`Error::Write`] when the folder is not writable or the rename fails.
pub fn write_atomic(path: &Path, content: &str) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let existing = existing_permissions(path)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".childgen-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // open(2) applies the umask to this mode.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(folder).map_err(fail)?;
    if let Some(permissions) = existing {
        file.as_file().set_permissions(permissions).map_err(fail)?;
    }
    file.write_all(content.as_bytes()).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The permissions of the regular file at `path`, `None` when nothing is
/// there; an error for anything that is not a regular file.
fn existing_permissions(path: &Path) -> Result<Option<std::fs::Permissions>> {
    let refuse = |reason: &str| Error::OutputTarget {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Write {
                path: path.to_owned(),
                source,
            });
        }
    };
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return Err(refuse(
            "it is a symbolic link; give the path of the file itself (childgen does not write through links)",
        ));
    }
    if kind.is_dir() {
        return Err(refuse("it is a folder; give a file path"));
    }
    if !kind.is_file() {
        return Err(refuse(
            "it is not a regular file (a device, FIFO or socket); use `-o -` or no --output for stdout",
        ));
    }
    Ok(Some(metadata.permissions()))
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
    stdout_outcome(out.write_all(content.as_bytes()).and_then(|()| out.flush()))
}

/// A write to stdout's result: a closed pipe (`| head`) is not an error.
fn stdout_outcome(result: std::io::Result<()>) -> Result<()> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The file `--output` names, `None` for stdout (no flag, `-`, or
/// `/dev/stdout`: a link to a descriptor, not a file to replace).
fn file_target(path: Option<&Path>) -> Option<&Path> {
    path.filter(|p| *p != Path::new("-") && *p != Path::new("/dev/stdout"))
}

/// Writes to `path` when given, else to stdout.
///
/// # Errors
/// As [`write_atomic`] and [`write_stdout`].
pub fn emit(path: Option<&Path>, content: &str) -> Result<()> {
    match file_target(path) {
        Some(path) => write_atomic(path, content),
        None => write_stdout(content),
    }
}

/// `fmt::Write` over a buffered stdout, remembering the first I/O error.
struct Sink<W: Write> {
    out: W,
    error: Option<std::io::Error>,
}

impl<W: Write> std::fmt::Write for Sink<W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.out.write_all(text.as_bytes()).map_err(|e| {
            self.error.get_or_insert(e);
            std::fmt::Error
        })
    }
}

/// [`emit`] for output written piece by piece: to stdout through a buffer,
/// without the whole text in memory (`changes` on a 100k-line listing,
/// issue 11); to a file, gathered first and written atomically.
///
/// # Errors
/// As [`emit`].
pub fn emit_with(path: Option<&Path>, write: impl Fn(&mut dyn std::fmt::Write) -> std::fmt::Result) -> Result<()> {
    if let Some(path) = file_target(path) {
        let mut text = String::new();
        let _ = write(&mut text);
        return write_atomic(path, &text);
    }
    let mut sink = Sink {
        out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
        error: None,
    };
    let _ = write(&mut sink);
    stdout_outcome(match sink.error.take() {
        Some(e) => Err(e),
        None => sink.out.flush(),
    })
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
