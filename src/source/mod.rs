//! Change sources: a diff listing, git, or the GitLab API, and `auto`, which
//! picks one from GitLab's predefined variables (design §1).

pub mod auto;
pub mod diff_file;
pub mod git;
pub mod gitlab;
pub mod rename;

use crate::change::Change;
use crate::cli::SourceArgs;
use crate::error::{Error, Result};
use auto::{CiEnv, Decision, decide};
use gitlab::{GitLab, MergedChanges, Token};
use std::io::Read;
use std::path::Path;

/// Reads a file, or stdin for `-`.
///
/// # Errors
/// [`Error::Read`] when it cannot be read.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    let fail = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    if path == Path::new("-") {
        let mut input = Vec::new();
        std::io::stdin().read_to_end(&mut input).map_err(fail)?;
        return Ok(input);
    }
    std::fs::read(path).map_err(fail)
}

/// Reads and parses a diff listing from a file, or stdin for `-`.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::DiffLine`] when a line is
/// malformed.
pub fn read_diff(path: &Path) -> Result<Vec<Change>> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    diff_file::parse_name_status(&read_input(path)?, &name)
}

/// What the sources need besides their flags.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Say on stderr which source was chosen and why.
    pub verbose: bool,
    /// `default_branch` from `childgen.yml`, for local dry runs.
    pub default_branch: Option<String>,
}

impl SourceOptions {
    fn info(&self, message: impl AsRef<str>) {
        crate::output::info(self.verbose, message);
    }
}

/// Collects the changes the source flags point at, or, without any, the
/// ones auto mode picks from the CI environment.
///
/// # Errors
/// Whatever the chosen source fails with.
pub fn collect(args: &SourceArgs, options: &SourceOptions) -> Result<Vec<Change>> {
    collect_with(
        args,
        options,
        &CiEnv::from_process(),
        Token::from_env(|k| std::env::var(k).ok()),
    )
}

/// [`collect`] with the environment given.
///
/// # Errors
/// Whatever the chosen source fails with.
pub fn collect_with(
    args: &SourceArgs,
    options: &SourceOptions,
    env: &CiEnv,
    token: Option<Token>,
) -> Result<Vec<Change>> {
    if let Some(path) = &args.diff {
        options.info(format!("source: diff listing {}", path.display()));
        return read_diff(path);
    }
    let repo = || git::Repo::open(args.repo.as_deref());
    if args.all {
        let rev = args.head.as_deref().unwrap_or("HEAD");
        options.info(format!("source: every file of the tree at {rev} (--all)"));
        return repo()?.all_files(rev);
    }
    if let Some(base) = &args.base {
        let head = args.head.as_deref();
        options.info(format!(
            "source: git diff merge-base({base}, {0})..{0}{1}",
            head.unwrap_or("HEAD"),
            if head.is_none() { " plus the working tree" } else { "" }
        ));
        return repo()?.merge_request_changes(base, head);
    }
    let (decision, why) = decide(env);
    options.info(format!("source (auto): {why}"));
    match decision {
        Decision::MergeBase { base, head } => repo()?.merge_request_changes(&base, head.as_deref()),
        Decision::All => repo()?.all_files("HEAD"),
        Decision::Tag { tag } => {
            let repo = repo()?;
            if let Some(previous) = repo.previous_tag(&tag)? {
                options.info(format!("previous tag: {previous}"));
                repo.range_changes(&previous, &tag)
            } else {
                options.info("no earlier tag: every file of the tree");
                repo.all_files(&tag)
            }
        }
        Decision::MergedMergeRequest {
            sha,
            default_branch,
            before,
        } => merged_merge_request(args, options, token, &sha, &default_branch, before.as_deref()),
        Decision::LocalDryRun => {
            let repo = repo()?;
            let base = options.default_branch.clone().or_else(|| repo.default_branch()).ok_or_else(|| {
                Error::Git(
                    "no default branch to compare with (no origin/HEAD, main or master): pass --base REV, or set `default_branch` in childgen.yml"
                        .to_owned(),
                )
            })?;
            options.info(format!("comparing with {base}"));
            repo.merge_request_changes(&base, None)
        }
    }
}

/// The default-branch source: the merged MR through the API, falling back
/// to git for a direct push or an incomplete API list.
fn merged_merge_request(
    args: &SourceArgs,
    options: &SourceOptions,
    token: Option<Token>,
    sha: &str,
    default_branch: &str,
    before: Option<&str>,
) -> Result<Vec<Change>> {
    let repo = git::Repo::open(args.repo.as_deref())?;
    let push = |reason: &str| -> Result<Vec<Change>> {
        if let Some(before) = before.filter(|b| *b != git::ZERO_SHA) {
            options.info(format!("{reason}: git diff {before}..{sha}"));
            repo.range_changes(before, sha)
        } else {
            options.info(format!("{reason}: git diff {sha}^..{sha} (first parent)"));
            repo.first_parent_changes(sha)
        }
    };
    let (Some(url), Some(project)) = (&args.gitlab_url, &args.project) else {
        return push("no CI_API_V4_URL/CI_PROJECT_ID (or --gitlab-url/--project)");
    };
    if let Some(token) = &token {
        options.info(format!(
            "GitLab API {url}, project {project}, token from {}",
            token.variable
        ));
    }
    let api = GitLab::new(url, project, token, options.verbose)?;
    match api.merged_changes(sha, default_branch)? {
        MergedChanges::Complete { iid, changes } => {
            options.info(format!(
                "merge request !{iid}: {} changed file(s) from the API",
                changes.len()
            ));
            Ok(changes)
        }
        MergedChanges::UseGit {
            iid,
            base,
            head,
            reason,
        } => {
            options.info(format!(
                "merge request !{iid}: {reason}; git diff {base}..{head} instead"
            ));
            repo.range_changes(&base, &head).map_err(|e| match e {
                Error::Git(message) => Error::Git(format!(
                    "{message} (merge request !{iid}'s head may be gone after a squash: `git fetch origin refs/merge-requests/{iid}/head`)"
                )),
                other => other,
            })
        }
        MergedChanges::NoMergeRequest => push("no merged merge request produced this commit (a direct push)"),
    }
}
