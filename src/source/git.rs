//! The git source (libgit2 through git2): the merge-request view
//! `merge-base(base, head)..head` with rename detection, the working tree for
//! local dry runs, every file at HEAD (`--all`), and the ref lookups that auto
//! mode needs. Every missing revision names the `git fetch` that fixes it.

use crate::change::Change;
use crate::error::{Error, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// An open repository.
pub struct Repo(Repository);

/// git's default `diff.renameLimit`.
const RENAME_LIMIT: usize = 1000;

/// SHA-1 of nothing: GitLab's `CI_COMMIT_BEFORE_SHA` for a new branch.
pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

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
        let mut diff = self
            .0
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options()))
            .map_err(git_err)?;
        collect(&mut diff)
    }

    /// Every file of the tree at `rev`, as status `M`.
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision.
    pub fn all_files(&self, rev: &str) -> Result<Vec<Change>> {
        let tree = self.commit(rev)?.tree().map_err(git_err)?;
        let mut changes = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                changes.push(Change::new('M', format!("{root}{name}")));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git_err)?;
        changes.sort();
        Ok(changes)
    }

    /// The closest tag reachable from `rev`'s parents (the previous release).
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision.
    pub fn previous_tag(&self, rev: &str) -> Result<Option<String>> {
        let commit = self.commit(rev)?;
        let mut tags: std::collections::HashMap<Oid, Vec<String>> = std::collections::HashMap::new();
        let names = self.0.tag_names(None).map_err(git_err)?;
        for name in names.iter().flatten().flatten() {
            if let Ok(target) = self
                .0
                .revparse_single(&format!("refs/tags/{name}"))
                .and_then(|o| o.peel_to_commit())
            {
                tags.entry(target.id()).or_default().push(name.to_owned());
            }
        }
        let mut walk = self.0.revwalk().map_err(git_err)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(git_err)?;
        for parent in commit.parent_ids() {
            walk.push(parent).map_err(git_err)?;
        }
        for oid in walk {
            let oid = oid.map_err(git_err)?;
            if let Some(names) = tags.get_mut(&oid) {
                names.sort();
                return Ok(names.pop());
            }
        }
        Ok(None)
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
        let mut diff = self
            .0
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options()))
            .map_err(git_err)?;
        collect(&mut diff)
    }

    fn diff_workdir(&self, from: Oid) -> Result<Vec<Change>> {
        let old = self.0.find_commit(from).and_then(|c| c.tree()).map_err(git_err)?;
        let mut opts = options();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true);
        let mut diff = self
            .0
            .diff_tree_to_workdir_with_index(Some(&old), Some(&mut opts))
            .map_err(git_err)?;
        collect(&mut diff)
    }
}

fn options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true);
    opts
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
fn git_err(e: git2::Error) -> Error {
    Error::Git(format!("git: {}", e.message()))
}

/// Rename detection on, then one [`Change`] per delta, sorted by path.
///
/// Like git's `diff.renameLimit` (1000): inexact detection compares every
/// added file with every deleted one, so past 1000 × 1000 pairs only exact
/// renames (same blob) are detected, as `git diff -M` does. libgit2's own
/// exact pass is quadratic too, so that case pairs blob IDs with a hash map.
fn collect(diff: &mut git2::Diff<'_>) -> Result<Vec<Change>> {
    let (mut added, mut deleted) = (0usize, 0usize);
    for delta in diff.deltas() {
        match delta.status() {
            Delta::Added | Delta::Untracked => added += 1,
            Delta::Deleted => deleted += 1,
            _ => {}
        }
    }
    let exact_only = added.saturating_mul(deleted) > RENAME_LIMIT * RENAME_LIMIT;
    if !exact_only && added > 0 && deleted > 0 {
        let mut find = DiffFindOptions::new();
        find.renames(true).for_untracked(true).rename_limit(RENAME_LIMIT);
        diff.find_similar(Some(&mut find)).map_err(git_err)?;
    }
    let mut changes = Vec::with_capacity(diff.deltas().len());
    // Deleted blobs by ID, for exact renames: each pairs with one added file.
    let mut deleted_by_id: HashMap<Oid, VecDeque<usize>> = HashMap::new();
    let mut added_ids: Vec<(usize, Oid)> = Vec::new();
    for delta in diff.deltas() {
        let status = match delta.status() {
            Delta::Added | Delta::Untracked => 'A',
            Delta::Deleted => 'D',
            Delta::Modified => 'M',
            Delta::Renamed => 'R',
            Delta::Copied => 'C',
            Delta::Typechange => 'T',
            Delta::Conflicted => 'U',
            Delta::Unreadable => 'X',
            Delta::Unmodified | Delta::Ignored => continue,
        };
        let new = path_of(&delta.new_file())?;
        let change = match status {
            'R' | 'C' => Change::moved(status, None, path_of(&delta.old_file())?, new),
            'D' => Change::new('D', path_of(&delta.old_file())?),
            _ => Change::new(status, new),
        };
        if exact_only && status == 'D' && !delta.old_file().id().is_zero() {
            deleted_by_id
                .entry(delta.old_file().id())
                .or_default()
                .push_back(changes.len());
        } else if exact_only && status == 'A' && !delta.new_file().id().is_zero() {
            added_ids.push((changes.len(), delta.new_file().id()));
        }
        changes.push(change);
    }
    let mut consumed = vec![false; changes.len()];
    for (added, id) in added_ids {
        let Some(source) = deleted_by_id.get_mut(&id).and_then(VecDeque::pop_front) else {
            continue;
        };
        let old = std::mem::take(&mut changes[source].path);
        let new = std::mem::take(&mut changes[added].path);
        changes[added] = Change::moved('R', Some(100), old, new);
        consumed[source] = true;
    }
    let mut changes: Vec<Change> = changes
        .into_iter()
        .zip(consumed)
        .filter(|(_, gone)| !gone)
        .map(|(change, _)| change)
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.dedup_by(|later, first| later.path == first.path);
    Ok(changes)
}

fn path_of(file: &git2::DiffFile<'_>) -> Result<String> {
    let bytes = file.path_bytes().unwrap_or_default();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::Git(format!("path {:?} is not valid UTF-8", String::from_utf8_lossy(bytes))))
}
