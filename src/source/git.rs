//! The git source (libgit2 through git2): the merge-request view
//! `merge-base(base, head)..head` with git's own rename detection
//! ([`super::rename`]; libgit2 only lists the paths), the working tree for
//! local dry runs, every file at HEAD (`--all`), and the ref lookups that auto
//! mode needs. Every missing revision names the `git fetch` that fixes it.

use super::rename;
use crate::change::{Change, path_from_bytes};
use crate::error::{Error, Result};
use git2::{Delta, DiffOptions, Oid, Repository};
use std::path::{Path, PathBuf};

/// An open repository.
pub struct Repo(Repository);

impl Repo {
    /// Opens the repository containing `dir` (or the current folder).
    ///
    /// # Errors
    /// [`Error::Git`] when there is none.
    pub fn open(dir: Option<&Path>) -> Result<Self> {
        let dir = dir.unwrap_or_else(|| Path::new("."));
        // git itself does not re-hash objects it reads; checking costs a third
        // of a large diff's time.
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
        Repository::discover(dir).map(Repo).map_err(|e| {
            Error::Git(format!(
                "{} is not inside a git repository ({}); run childgen from your clone or pass --repo DIR",
                dir.display(),
                e.message()
            ))
        })
    }

    /// The libgit2 repository, for the revision and history lookups of
    /// [`super::fetch`].
    #[must_use]
    pub fn raw(&self) -> &Repository {
        &self.0
    }

    /// The commit `rev` names.
    ///
    /// # Errors
    /// [`Error::Git`] saying which fetch brings it.
    pub fn commit(&self, rev: &str) -> Result<git2::Commit<'_>> {
        let object = self.0.revparse_single(rev).map_err(|_| self.missing(rev))?;
        object
            .peel_to_commit()
            .map_err(|e| Error::Git(format!("`{rev}` is not a commit: {}", e.message())))
    }

    fn missing(&self, rev: &str) -> Error {
        let shallow = if self.0.is_shallow() {
            " This clone is shallow: set `GIT_DEPTH: 0` in the job (or `git fetch --unshallow`)."
        } else {
            ""
        };
        let fetch = match rev.strip_prefix("origin/") {
            Some(branch) => format!("git fetch origin {branch}:refs/remotes/origin/{branch}"),
            None => format!("git fetch origin {rev}"),
        };
        Error::Git(format!(
            "revision `{rev}` is not in this clone; fetch it first: `{fetch}`.{shallow}"
        ))
    }

    /// The merge-request view: `merge-base(base, head)..head`; with no
    /// `head`, HEAD plus the working tree (staged, unstaged, untracked).
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision or merge base (shallow clone).
    pub fn merge_request_changes(&self, base: &str, head: Option<&str>) -> Result<Vec<Change>> {
        let base_commit = self.commit(base)?;
        let head_commit = self.commit(head.unwrap_or("HEAD"))?;
        let merge_base = self.0.merge_base(base_commit.id(), head_commit.id()).map_err(|_| {
            let fix = if self.0.is_shallow() {
                "the clone is shallow: set `GIT_DEPTH: 0` in the job, or `git fetch --unshallow`".to_owned()
            } else {
                "the histories are unrelated, or the clone lacks their common history: fetch it with `git fetch --unshallow` or set `GIT_DEPTH: 0`".to_owned()
            };
            Error::Git(format!("no merge base between `{base}` and `{}`: {fix}", head.unwrap_or("HEAD")))
        })?;
        match head {
            Some(_) => self.diff_commits(merge_base, head_commit.id()),
            None => self.diff_workdir(merge_base),
        }
    }

    /// `from..to` as a plain tree diff (no merge base).
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision.
    pub fn range_changes(&self, from: &str, to: &str) -> Result<Vec<Change>> {
        let from = self.commit(from)?.id();
        let to = self.commit(to)?.id();
        self.diff_commits(from, to)
    }

    /// The first parent of `rev` to `rev` (a root commit: every file added).
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision.
    pub fn first_parent_changes(&self, rev: &str) -> Result<Vec<Change>> {
        let commit = self.commit(rev)?;
        let tree = commit.tree().map_err(git_err)?;
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(parent.tree().map_err(git_err)?),
            Err(_) => None,
        };
        let diff = self
            .0
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options()))
            .map_err(git_err)?;
        self.collect(&diff, false)
    }

    /// Every file of the tree at `rev`, as status `M`: blobs, symlinks and
    /// submodules (gitlinks), like `git ls-tree -r`; names that are not UTF-8
    /// in git's quoted form.
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision.
    pub fn all_files(&self, rev: &str) -> Result<Vec<Change>> {
        let tree = self.commit(rev)?.tree().map_err(git_err)?;
        let mut changes = Vec::new();
        // Our own walk: libgit2's stops at a folder name that is not UTF-8.
        let mut pending = vec![(Vec::new(), tree)];
        while let Some((prefix, tree)) = pending.pop() {
            for entry in &tree {
                let mut path = prefix.clone();
                path.extend_from_slice(entry.name_bytes());
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => {
                        path.push(b'/');
                        pending.push((path, self.0.find_tree(entry.id()).map_err(git_err)?));
                    }
                    Some(git2::ObjectType::Blob | git2::ObjectType::Commit) => {
                        let change = Change::new('M', path_from_bytes(&path));
                        changes.push((path, change));
                    }
                    _ => {}
                }
            }
        }
        // As `git ls-tree -r` lists them: by path bytes.
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(changes.into_iter().map(|(_, change)| change).collect())
    }

    /// The default branch to compare a local dry run against: `origin/HEAD`,
    /// else the first of `origin/main`, `origin/master`, `main`, `master`.
    #[must_use]
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(reference) = self.0.find_reference("refs/remotes/origin/HEAD")
            && let Ok(Some(target)) = reference.symbolic_target()
        {
            return target.strip_prefix("refs/remotes/").map(str::to_owned);
        }
        ["origin/main", "origin/master", "main", "master"]
            .into_iter()
            .find(|r| self.0.revparse_single(r).is_ok())
            .map(str::to_owned)
    }

    fn diff_commits(&self, from: Oid, to: Oid) -> Result<Vec<Change>> {
        let old = self.0.find_commit(from).and_then(|c| c.tree()).map_err(git_err)?;
        let new = self.0.find_commit(to).and_then(|c| c.tree()).map_err(git_err)?;
        let diff = self
            .0
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options()))
            .map_err(git_err)?;
        self.collect(&diff, false)
    }

    fn diff_workdir(&self, from: Oid) -> Result<Vec<Change>> {
        let old = self.0.find_commit(from).and_then(|c| c.tree()).map_err(git_err)?;
        let mut opts = options();
        opts.include_untracked(true).recurse_untracked_dirs(true);
        let diff = self
            .0
            .diff_tree_to_workdir_with_index(Some(&old), Some(&mut opts))
            .map_err(git_err)?;
        self.collect(&diff, true)
    }

    /// One [`Change`] per delta, with git's rename detection
    /// ([`rename::detect`]) pairing deleted and created files, sorted by path.
    /// `workdir`: the new side is the working tree (read from disk).
    fn collect(&self, diff: &git2::Diff<'_>, workdir: bool) -> Result<Vec<Change>> {
        // Keyed by the (new) path's bytes: git prints them in that order.
        let mut keyed: Vec<(Vec<u8>, Change)> = Vec::with_capacity(diff.deltas().len());
        let (mut srcs, mut dsts) = (Vec::new(), Vec::new());
        for delta in diff.deltas() {
            let status = match delta.status() {
                Delta::Added | Delta::Untracked => {
                    dsts.push(self.candidate(&delta.new_file(), workdir));
                    continue;
                }
                Delta::Deleted => {
                    srcs.push(candidate(&delta.old_file(), None));
                    continue;
                }
                Delta::Modified => 'M',
                Delta::Typechange => 'T',
                Delta::Conflicted => 'U',
                Delta::Unreadable => 'X',
                // Rename detection is ours (libgit2's find_similar is never
                // called), so libgit2 reports no renames or copies.
                Delta::Unmodified | Delta::Ignored | Delta::Renamed | Delta::Copied => continue,
            };
            let path = delta.new_file().path_bytes().unwrap_or_default();
            keyed.push((path.to_vec(), Change::new(status, path_from_bytes(path))));
        }
        // git's order: by path bytes (libgit2 may fold case).
        srcs.sort_by(|a, b| a.path.cmp(&b.path));
        dsts.sort_by(|a, b| a.path.cmp(&b.path));
        let mut contents = Contents {
            repo: &self.0,
            odb: self.0.odb().map_err(git_err)?,
            workdir: if workdir {
                self.0.workdir().map(Path::to_owned)
            } else {
                None
            },
            unreadable: Vec::new(),
        };
        let outcome = rename::detect(&srcs, &dsts, &mut contents, self.rename_limit());
        if let Some(needed) = outcome.needed_limit {
            crate::output::warn(
                false,
                format!(
                    "inexact rename detection was skipped due to too many files (as git does); set diff.renameLimit to at least {needed} to detect them"
                ),
            );
        }
        if let Some(first) = contents.unreadable.first() {
            // git stops here ("unable to read"); a listing is still useful,
            // but say that it may be coarser than git's.
            crate::output::warn(
                false,
                format!(
                    "{} file(s) could not be read for rename detection (first: {}; a partial or damaged clone?): renames involving them are listed as A and D",
                    contents.unreadable.len(),
                    path_from_bytes(first)
                ),
            );
        }
        let mut src_renamed = vec![false; srcs.len()];
        let mut dst_renamed = vec![false; dsts.len()];
        for found in &outcome.renames {
            src_renamed[found.src] = true;
            dst_renamed[found.dst] = true;
            let (src, dst) = (&srcs[found.src].path, &dsts[found.dst].path);
            let change = Change::moved('R', Some(found.percent()), path_from_bytes(src), path_from_bytes(dst));
            keyed.push((dst.clone(), change));
        }
        let deleted = srcs.iter().zip(src_renamed).filter(|(_, renamed)| !renamed);
        keyed.extend(deleted.map(|(src, _)| (src.path.clone(), Change::new('D', path_from_bytes(&src.path)))));
        let added = dsts.iter().zip(dst_renamed).filter(|(_, renamed)| !renamed);
        keyed.extend(added.map(|(dst, _)| (dst.path.clone(), Change::new('A', path_from_bytes(&dst.path)))));
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|later, first| later.0 == first.0);
        let changes = keyed.into_iter().map(|(_, change)| change).collect();
        Ok(changes)
    }

    /// A created file; in the working tree its blob ID is hashed from disk
    /// when libgit2 has not computed it.
    fn candidate(&self, file: &git2::DiffFile<'_>, workdir: bool) -> rename::Candidate {
        if !workdir || file.is_valid_id() && !file.id().is_zero() {
            return candidate(file, None);
        }
        let Some(root) = self.0.workdir() else {
            return candidate(file, None);
        };
        let path = root.join(bytes_path(file.path_bytes().unwrap_or_default()));
        let id = read_worktree(&path)
            .and_then(|data| Oid::hash_object(git2::ObjectType::Blob, &data).ok())
            .unwrap_or(Oid::ZERO_SHA1);
        candidate(file, Some(id))
    }

    /// `diff.renameLimit` from the repository's configuration (git's
    /// default, 1000, when unset; 0 or less: no limit).
    fn rename_limit(&self) -> usize {
        self.0
            .config()
            .and_then(|c| c.get_i64("diff.renameLimit"))
            .map_or(rename::DEFAULT_RENAME_LIMIT, |limit| {
                usize::try_from(limit).unwrap_or(0)
            })
    }
}

fn candidate(file: &git2::DiffFile<'_>, id: Option<Oid>) -> rename::Candidate {
    rename::Candidate {
        path: file.path_bytes().unwrap_or_default().to_vec(),
        id: id.unwrap_or_else(|| file.id()),
        mode: u32::from(file.mode()),
    }
}

/// The blobs rename detection compares: from the object database, or for the
/// working tree's side, from disk.
struct Contents<'r> {
    repo: &'r Repository,
    odb: git2::Odb<'r>,
    workdir: Option<PathBuf>,
    /// Paths whose blob could not be read.
    unreadable: Vec<Vec<u8>>,
}

impl rename::Contents for Contents<'_> {
    fn size(&mut self, candidate: &rename::Candidate, dst: bool) -> Option<u64> {
        let size = match (&self.workdir, dst) {
            (Some(root), true) => std::fs::symlink_metadata(root.join(bytes_path(&candidate.path)))
                .ok()
                .map(|m| m.len()),
            _ => self.odb.read_header(candidate.id).ok().map(|(size, _)| size as u64),
        };
        if size.is_none() {
            self.unreadable.push(candidate.path.clone());
        }
        size
    }

    fn data(&mut self, candidate: &rename::Candidate, dst: bool) -> Option<Vec<u8>> {
        let data = match (&self.workdir, dst) {
            (Some(root), true) => read_worktree(&root.join(bytes_path(&candidate.path))),
            _ => self.repo.find_blob(candidate.id).ok().map(|b| b.content().to_vec()),
        };
        if data.is_none() {
            self.unreadable.push(candidate.path.clone());
        }
        data
    }
}

/// A working-tree file's content as git would store it (a symlink: its
/// target). Filters (CRLF, LFS) are not applied.
fn read_worktree(path: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).ok()?;
        return Some(target.into_os_string().into_encoded_bytes());
    }
    std::fs::read(path).ok()
}

#[cfg(unix)]
fn bytes_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// Tree diffs report gitlinks (submodule pointers) and type changes (file ↔
/// symlink) as git does; rename detection is ours.
fn options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(false).include_typechange(true);
    opts
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
fn git_err(e: git2::Error) -> Error {
    Error::Git(format!("git: {}", e.message()))
}
