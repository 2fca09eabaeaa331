//! A generator of synthetic monorepos for benchmarks and for trying childgen
//! at scale: `pipelines/pNNN/sNN/...` files in a base commit (`main`) and a head
//! commit (`feature`) with a mix of modified, added, deleted and renamed files.
//! Built with `git fast-import`, so 100,000 files take seconds.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The shape of a synthetic monorepo.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Files in the base commit.
    pub files: usize,
    /// Changed files in the head commit (M/A/D/R mix).
    pub changes: usize,
    /// Files per stage folder.
    pub files_per_stage: usize,
    /// Stages per pipeline.
    pub stages: usize,
}

impl Shape {
    /// `files` over stages of 20 files, 10 stages per pipeline.
    pub fn new(files: usize, changes: usize) -> Self {
        Shape {
            files,
            changes,
            files_per_stage: 20,
            stages: 10,
        }
    }

    fn path(&self, i: usize) -> String {
        let stage = i / self.files_per_stage;
        format!(
            "pipelines/p{:04}/s{:02}/src/file{:06}.py",
            stage / self.stages,
            stage % self.stages,
            i
        )
    }
}

fn blob(out: &mut Vec<u8>, path: &str, content: &str) {
    let _ = write!(out, "M 100644 inline {path}\ndata {}\n{content}\n", content.len());
}

fn commit(out: &mut Vec<u8>, branch: &str, mark: usize, parent: Option<usize>, message: &str) {
    let _ = write!(
        out,
        "commit refs/heads/{branch}\nmark :{mark}\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata {}\n{message}\n",
        message.len()
    );
    if let Some(parent) = parent {
        let _ = writeln!(out, "from :{parent}");
    }
}

/// Creates the repository in `dir` (which must not exist or be empty),
/// checks out `feature`, and returns the number of changes per kind.
pub fn generate(dir: &Path, shape: Shape) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
    };
    git(&["init", "--quiet", "--initial-branch=main"])?;
    let mut stream = Vec::with_capacity(shape.files * 80);
    commit(&mut stream, "main", 1, None, "base");
    for i in 0..shape.files {
        blob(
            &mut stream,
            &shape.path(i),
            &format!("# module {i}\ndef f():\n    return {i}\n"),
        );
    }
    commit(&mut stream, "feature", 2, Some(1), "feature");
    let step = (shape.files / shape.changes.max(1)).max(1);
    let (mut modified, mut added, mut deleted, mut renamed) = (0, 0, 0, 0);
    for (n, i) in (0..shape.files).step_by(step).take(shape.changes).enumerate() {
        let path = shape.path(i);
        match n % 20 {
            0..=11 => {
                blob(
                    &mut stream,
                    &path,
                    &format!("# module {i}, changed\ndef f():\n    return {}\n", i + 1),
                );
                modified += 1;
            }
            12..=14 => {
                blob(
                    &mut stream,
                    &path.replace(".py", "_new.py"),
                    &format!("# new module {i}\n"),
                );
                added += 1;
            }
            15..=17 => {
                let _ = writeln!(stream, "D {path}");
                deleted += 1;
            }
            _ => {
                let _ = writeln!(stream, "R {path} {}", path.replace("/src/", "/lib/"));
                renamed += 1;
            }
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?
        .write_all(&stream)?;
    if !child.wait()?.success() {
        return Err(std::io::Error::other("git fast-import failed"));
    }
    git(&["checkout", "--quiet", "-f", "feature"])?;
    Ok(format!(
        "{} files; {modified} modified, {added} added, {deleted} deleted, {renamed} renamed",
        shape.files
    ))
}

/// Module text: a shared header (license, imports) and `i`'s own body, so
/// every pair of files is a little similar and each file's edited move is
/// very similar.
fn module_text(i: usize, edited: bool) -> String {
    let mut text = String::from(
        "# Copyright the authors. Licensed under the Apache License 2.0.\nimport os\nimport sys\nimport json\n\nfrom common import config, logging\n\n",
    );
    for line in 0..30 {
        if edited && line % 10 == 3 {
            let _ = writeln!(text, "    value_{line} = compute({i}, {line}, edited=True)");
        } else {
            let _ = writeln!(
                text,
                "    value_{line} = compute({i}, {line})  # step {line} of module {i}"
            );
        }
    }
    text
}

/// A rename-heavy range: `files` modules in the base commit (`main`); the
/// head (`feature`) moves `exact` of them unchanged, `same_name` edited into
/// another folder under the same name, and `renamed` edited under new names
/// (every destination then scored against every remaining source).
pub fn generate_moves(
    dir: &Path,
    files: usize,
    exact: usize,
    same_name: usize,
    renamed: usize,
) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
    };
    git(&["init", "--quiet", "--initial-branch=main"])?;
    let path = |i: usize| format!("pkg/m{:03}/module{i:05}.py", i / 50);
    let mut stream = Vec::with_capacity(files * 1600);
    commit(&mut stream, "main", 1, None, "base");
    for i in 0..files {
        blob(&mut stream, &path(i), &module_text(i, false));
    }
    commit(&mut stream, "feature", 2, Some(1), "reorganise");
    for i in 0..exact + same_name + renamed {
        let old = path(i);
        if i < exact {
            let _ = writeln!(
                stream,
                "R {old} {}",
                old.replace("pkg/", "lib/").replace("module", "mod")
            );
            continue;
        }
        let _ = writeln!(stream, "D {old}");
        let new = if i < exact + same_name {
            old.replace("pkg/", "src/")
        } else {
            old.replace("pkg/", "src/").replace("module", "component")
        };
        blob(&mut stream, &new, &module_text(i, true));
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?
        .write_all(&stream)?;
    if !child.wait()?.success() {
        return Err(std::io::Error::other("git fast-import failed"));
    }
    Ok(format!(
        "{files} files; {exact} moved unchanged, {same_name} moved and edited under the same name, {renamed} moved and edited under new names"
    ))
}
