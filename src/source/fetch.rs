//! What a decision needs from a runner's clone, and fetching it from `origin`
//! when the clone lacks it (issue 8).
//!
//! GitLab Runner clones with `git fetch --depth N` and a few refspecs, so the
//! commit before a push, the default branch, a merge base or the previous
//! tag is often not there. A shallow boundary (a commit listed in
//! `.git/shallow`) looks like a root commit to anyone who does not check;
//! taking it for one selects every file. [`Checkout`] checks, fetches the
//! exact SHA or branch, deepens in bounded steps, and, when it cannot fetch,
//! fails with the command (or `GIT_DEPTH`) that fixes it.
//!
//! Fetches use the git CLI (libgit2 cannot deepen a shallow clone); its
//! messages pass through [`redact`] so a URL's credentials never print.

use super::git::Repo;
use crate::change::Change;
use crate::error::{Error, Result};
use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How far to deepen a shallow clone, one step at a time; after the last
/// step, `--unshallow`.
const DEEPEN_STEPS: [u32; 3] = [50, 200, 1000];
/// Depth of a missing branch or commit fetched into a shallow clone.
const FETCH_DEPTH: u32 = 50;
/// The longest one git command may take.
const GIT_TIMEOUT: Duration = Duration::from_mins(5);

/// A repository that may fetch what it lacks from `origin`.
pub struct Checkout {
    dir: Option<PathBuf>,
    repo: Repo,
    can_fetch: bool,
    verbose: bool,
}

impl Checkout {
    /// Opens the repository; `can_fetch` allows `git fetch origin`.
    ///
    /// # Errors
    /// [`Error::Git`] when there is no repository.
    pub fn open(dir: Option<&Path>, can_fetch: bool, verbose: bool) -> Result<Self> {
        Ok(Checkout {
            dir: dir.map(Path::to_owned),
            repo: Repo::open(dir)?,
            can_fetch,
            verbose,
        })
    }

    /// The repository as it is now.
    #[must_use]
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    fn info(&self, message: impl AsRef<str>) {
        crate::output::info(self.verbose, message);
    }

    /// The commits at the shallow boundary: their parents exist but are not here.
    fn shallow(&self) -> HashSet<Oid> {
        let path = self.repo.raw().commondir().join("shallow");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| Oid::from_str(line.trim()).ok())
            .collect()
    }

    fn lookup(&self, rev: &str) -> Option<Oid> {
        let object = self.repo.raw().revparse_single(rev).ok()?;
        object.peel_to_commit().ok().map(|c| c.id())
    }

    /// The commit `rev` names, fetched from `origin` when it is missing:
    /// `origin/BRANCH` as that branch, a SHA as itself, anything else as a tag.
    ///
    /// # Errors
    /// [`Error::Git`] naming the fetch that brings it, when it cannot be fetched.
    pub fn commit(&mut self, rev: &str) -> Result<Oid> {
        if let Some(oid) = self.lookup(rev) {
            return Ok(oid);
        }
        let mut args = Vec::new();
        if self.repo.raw().is_shallow() {
            args.push(format!("--depth={FETCH_DEPTH}"));
        }
        let refspec = if let Some(branch) = rev.strip_prefix("origin/") {
            format!("+refs/heads/{branch}:refs/remotes/origin/{branch}")
        } else if is_sha(rev) {
            rev.to_owned()
        } else {
            let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
            format!("+refs/tags/{tag}:refs/tags/{tag}")
        };
        args.extend(["origin".to_owned(), refspec]);
        let fix = command(&args);
        self.fetch(&format!("`{rev}`, which this clone lacks"), &args)
            .map_err(|why| missing(rev, &fix, &why))?;
        self.lookup(rev)
            .ok_or_else(|| missing(rev, &fix, "origin does not have it either"))
    }

    /// The parents of `oid`; a shallow boundary is deepened first, so an
    /// empty list means a true root commit.
    ///
    /// # Errors
    /// [`Error::Git`] when the parents are beyond the boundary and cannot be fetched.
    pub fn parents(&mut self, oid: Oid) -> Result<Vec<Oid>> {
        if self.shallow().contains(&oid) {
            let args = ["--deepen=1".to_owned(), "origin".to_owned(), oid.to_string()];
            let fix = command(&args);
            self.fetch(&format!("the parents of {oid} (a shallow boundary, not a root commit)"), &args)
                .map_err(|why| {
                    Error::Git(format!(
                        "commit {oid} is at this clone's shallow boundary, so its parents are not here and could not be fetched ({why}); \
                         run `{fix}` before childgen, or set `GIT_DEPTH: 0` in the job"
                    ))
                })?;
            if self.shallow().contains(&oid) {
                return Err(Error::Git(format!(
                    "commit {oid} is still at this clone's shallow boundary after `{fix}`; set `GIT_DEPTH: 0` in the job"
                )));
            }
        }
        let commit = self.repo.raw().find_commit(oid).map_err(git_err)?;
        Ok(commit.parent_ids().collect())
    }

    /// `merge-base(base, head)`, deepening a shallow clone in bounded steps
    /// until the two histories meet.
    ///
    /// # Errors
    /// [`Error::Git`] for a missing revision, unrelated histories, or a clone
    /// that cannot be deepened.
    pub fn merge_base(&mut self, base: &str, head: &str) -> Result<Oid> {
        let base_oid = self.commit(base)?;
        let head_oid = self.commit(head)?;
        let tips = [base_oid.to_string(), head_oid.to_string()];
        self.deepen_until(&tips, &format!("the merge base of `{base}` and `{head}`"), |me| {
            me.repo.raw().merge_base(base_oid, head_oid).ok()
        })?
        .ok_or_else(|| {
            Error::Git(format!(
                "no merge base between `{base}` and `{head}`: the histories are unrelated"
            ))
        })
    }

    /// The closest tag reachable from `tag`'s parents, among this clone's
    /// tags and, when fetching is allowed, `origin`'s (a runner fetches only
    /// the pipeline's tag at `GIT_DEPTH` > 0). `None` only for a true first
    /// tag: the walk reached root commits, not a shallow boundary.
    ///
    /// # Errors
    /// [`Error::Git`] when the history cannot be completed.
    pub fn previous_tag(&mut self, tag: &str) -> Result<Option<(String, Oid)>> {
        let target = self.commit(&format!("refs/tags/{tag}"))?;
        let mut tagged = self.local_tags();
        // At GIT_DEPTH > 0 the runner fetches only this tag: origin knows the others.
        let mut unlisted = None;
        let has_origin = self.repo.raw().find_remote("origin").is_ok();
        if self.can_fetch && has_origin {
            match self.remote_tags() {
                Ok(remote) => {
                    for (oid, names) in remote {
                        tagged.entry(oid).or_default().extend(names);
                    }
                }
                Err(why) => {
                    self.info(format!("cannot list origin's tags ({why}); using this clone's"));
                    unlisted = Some(why);
                }
            }
        } else if has_origin {
            self.info("origin's tags not listed (--no-fetch): this clone's tags only");
        }
        tagged.remove(&target);
        for names in tagged.values_mut() {
            names.sort();
            names.dedup();
        }
        let tips = [target.to_string()];
        let found = self.deepen_until(&tips, &format!("the tag before {tag}"), |me| {
            me.closest_tagged(target, &tagged)
        })?;
        match found {
            Some(TagWalk::Tagged(oid)) => Ok(tagged
                .get(&oid)
                .and_then(|names| names.last().cloned())
                .map(|name| (name, oid))),
            // This clone may simply not have the earlier tags.
            Some(TagWalk::RootsOnly) | None if unlisted.is_some() => Err(Error::Git(format!(
                "cannot tell whether {tag} is the first tag: this clone has no earlier tag and origin's tags could not be listed ({}); \
                 run `git fetch --tags origin` before childgen, or set `GIT_DEPTH: 0` in the job",
                unlisted.unwrap_or_default()
            ))),
            Some(TagWalk::RootsOnly) | None => Ok(None),
        }
    }

    /// Walks back from `target`'s parents to the closest tagged commit, or
    /// to root commits only; `None` when it hit the shallow boundary first.
    fn closest_tagged(&self, target: Oid, tagged: &HashMap<Oid, Vec<String>>) -> Option<TagWalk> {
        let shallow = self.shallow();
        if shallow.contains(&target) {
            return None;
        }
        let repo = self.repo.raw();
        let mut walk = repo.revwalk().ok()?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME).ok()?;
        for parent in repo.find_commit(target).ok()?.parent_ids() {
            walk.push(parent).ok()?;
        }
        let mut boundary = false;
        for oid in walk {
            let Ok(oid) = oid else { return None };
            if tagged.contains_key(&oid) {
                return Some(TagWalk::Tagged(oid));
            }
            boundary |= shallow.contains(&oid);
        }
        if boundary { None } else { Some(TagWalk::RootsOnly) }
    }

    /// Evaluates `probe` (`None`: "the history is cut short, deepen"); while
    /// it asks for more, deepens `tips` by each of [`DEEPEN_STEPS`], then
    /// unshallows. `Ok(None)` when a complete clone still has no answer.
    fn deepen_until<T>(
        &mut self,
        tips: &[String],
        what: &str,
        mut probe: impl FnMut(&Self) -> Option<T>,
    ) -> Result<Option<T>> {
        let mut steps = DEEPEN_STEPS.iter();
        loop {
            if let Some(found) = probe(self) {
                return Ok(Some(found));
            }
            if !self.repo.raw().is_shallow() {
                return Ok(None);
            }
            let step = steps.next();
            let last = step.is_none();
            let mut args = vec![step.map_or_else(|| "--unshallow".to_owned(), |n| format!("--deepen={n}"))];
            args.push("origin".to_owned());
            args.extend(tips.iter().cloned());
            let fix = command(&args);
            self.fetch(&format!("{what}, beyond this shallow clone"), &args)
                .map_err(|why| {
                    Error::Git(format!(
                        "{what} is beyond this shallow clone and could not be fetched ({why}); \
                         set `GIT_DEPTH: 0` in the job, or run `git fetch --unshallow origin` before childgen"
                    ))
                })?;
            if last && self.repo.raw().is_shallow() {
                return Err(Error::Git(format!(
                    "{what} is still beyond this clone after `{fix}`; set `GIT_DEPTH: 0` in the job"
                )));
            }
        }
    }

    /// This clone's tags, by the commit they point at.
    fn local_tags(&self) -> HashMap<Oid, Vec<String>> {
        let repo = self.repo.raw();
        let mut tags: HashMap<Oid, Vec<String>> = HashMap::new();
        if let Ok(names) = repo.tag_names(None) {
            for name in names.iter().flatten().flatten() {
                if let Some(oid) = self.lookup(&format!("refs/tags/{name}")) {
                    tags.entry(oid).or_default().push(name.to_owned());
                }
            }
        }
        tags
    }

    /// `git ls-remote --tags origin`: names and commits, no objects fetched.
    fn remote_tags(&self) -> std::result::Result<HashMap<Oid, Vec<String>>, String> {
        let listing = self.git(&["ls-remote", "--tags", "origin"])?;
        let mut direct: HashMap<String, Oid> = HashMap::new();
        let mut peeled: HashMap<String, Oid> = HashMap::new();
        for line in listing.lines() {
            let Some((sha, name)) = line.split_once('\t') else {
                continue;
            };
            let (Ok(oid), Some(name)) = (Oid::from_str(sha.trim()), name.trim().strip_prefix("refs/tags/")) else {
                continue;
            };
            match name.strip_suffix("^{}") {
                Some(name) => peeled.insert(name.to_owned(), oid),
                None => direct.insert(name.to_owned(), oid),
            };
        }
        let mut tags: HashMap<Oid, Vec<String>> = HashMap::new();
        for (name, oid) in direct {
            let commit = peeled.get(&name).copied().unwrap_or(oid);
            tags.entry(commit).or_default().push(name);
        }
        Ok(tags)
    }

    /// The change set of a push to the default branch, from git alone:
    /// `before..sha` when GitLab gave the commit before the push (several
    /// pushed commits, a fast-forward merge), else what `sha` brought to its
    /// first parent (a merge commit: what the merge brought; a squash or a
    /// single commit: parent..sha). Every file only for a true root commit.
    ///
    /// # Errors
    /// [`Error::Git`] when a commit it needs cannot be had.
    pub fn pushed_changes(&mut self, sha: &str, before: Option<&str>) -> Result<Vec<Change>> {
        let head = self.commit(sha)?;
        if let Some(before) = before.filter(|b| !b.chars().all(|c| c == '0')) {
            let from = self.commit(before)?;
            self.info(format!(
                "git diff {before}..{sha} (CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA)"
            ));
            return self.repo.range_changes(&from.to_string(), &head.to_string());
        }
        let parents = self.parents(head)?;
        match parents.first() {
            None => {
                self.info(format!("{sha} is a root commit: every file of its tree is new"));
                self.repo.first_parent_changes(&head.to_string())
            }
            Some(parent) => {
                let kind = if parents.len() > 1 {
                    "a merge commit: what the merge brought, from its first parent"
                } else {
                    "one commit: from its parent"
                };
                self.info(format!("git diff {parent}..{sha} ({kind})"));
                self.repo.range_changes(&parent.to_string(), &head.to_string())
            }
        }
    }

    /// Runs `git fetch ARGS` (ARGS name `origin`), then reopens the
    /// repository so libgit2 sees the new objects and shallow boundary.
    fn fetch(&mut self, what: &str, fetch_args: &[String]) -> std::result::Result<(), String> {
        if !self.can_fetch {
            return Err("fetching is off (--no-fetch)".to_owned());
        }
        if self.repo.raw().find_remote("origin").is_err() {
            return Err("this repository has no `origin` remote".to_owned());
        }
        self.info(format!("fetching {what}: {}", command(fetch_args)));
        let mut args = vec!["fetch", "--quiet", "--no-tags"];
        args.extend(fetch_args.iter().map(String::as_str));
        self.git(&args)?;
        self.repo = Repo::open(self.dir.as_deref()).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Runs git with this repository, without a terminal prompt, within
    /// [`GIT_TIMEOUT`]; its stdout, or its last error line (redacted).
    fn git(&self, args: &[&str]) -> std::result::Result<String, String> {
        let mut child = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.raw().path())
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git ({e}); install git, or fetch before childgen"))?;
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let out = std::thread::spawn(move || read_all(stdout.as_mut()));
        let err = std::thread::spawn(move || read_all(stderr.as_mut()));
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() > GIT_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("git {} took longer than {}s", args[0], GIT_TIMEOUT.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("git {}: {e}", args[0])),
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if status.success() {
            return Ok(stdout);
        }
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        Err(format!("git {} failed: {}", args[0], redact(last.trim())))
    }
}

/// Where a walk back from a tag ended.
enum TagWalk {
    /// At this tagged commit.
    Tagged(Oid),
    /// At root commits, with no tag on the way: the first tag.
    RootsOnly,
}

fn read_all(source: Option<&mut impl Read>) -> String {
    let mut text = String::new();
    if let Some(source) = source {
        let _ = source.read_to_string(&mut text);
    }
    text
}

/// `git fetch ARGS`, as a person would type it.
fn command(args: &[String]) -> String {
    format!("git fetch {}", args.join(" "))
}

fn is_sha(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

fn missing(rev: &str, fix: &str, why: &str) -> Error {
    Error::Git(format!(
        "revision `{rev}` is not in this clone and could not be fetched ({why}); \
         run `{fix}` before childgen, or set `GIT_DEPTH: 0` in the job"
    ))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
fn git_err(e: git2::Error) -> Error {
    Error::Git(format!("git: {}", e.message()))
}

/// A git message without a URL's credentials (`https://user:token@host`)
/// or the value of any token variable.
#[must_use]
pub fn redact(text: &str) -> String {
    let mut out = super::gitlab::redact_url(text);
    for variable in ["CHILDGEN_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN"] {
        if let Ok(value) = std::env::var(variable)
            && value.len() >= 4
        {
            out = out.replace(&value, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact("fatal: unable to access 'https://gitlab-ci-token:glcbt-abc@gitlab.example.com/g/p.git/': 403"),
            "fatal: unable to access 'https://***@gitlab.example.com/g/p.git/': 403"
        );
        assert_eq!(
            redact("file:///tmp/origin and ssh://git@host/x"),
            "file:///tmp/origin and ssh://***@host/x"
        );
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn shas_are_recognised() {
        assert!(is_sha("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_sha("origin/main"));
        assert!(!is_sha("v1.0"));
    }
}
