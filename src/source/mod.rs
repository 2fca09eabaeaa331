//! Change sources: a diff listing, git, or the GitLab API, and `auto`, which
//! picks one from GitLab's predefined variables (design §1).

pub mod auto;
pub mod diff_file;
pub mod fetch;
pub mod git;
pub mod gitlab;
pub mod rename;

use crate::change::Change;
use crate::cli::SourceArgs;
use crate::error::{Error, Result};
use auto::{CiEnv, Decision, decide};
use gitlab::{ApiFailure, GitLab, MergedChanges, Token};
use std::io::Read;
use std::path::Path;

/// Reads a diff listing: a file, a FIFO (`<(git diff ...)`) or stdin for
/// `-`, at most [`crate::files::DIFF_LIMIT`] bytes.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::Input`] when too large.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    read_bounded(path, crate::files::DIFF_LIMIT)
}

/// Reads a file, a FIFO or stdin (`-`), at most `limit` bytes.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::Input`] when it is a
/// folder or longer than `limit`.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let fail = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut input = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().take(limit + 1).read_to_end(&mut input).map_err(fail)?;
    } else {
        if std::fs::metadata(path).map_err(fail)?.is_dir() {
            return Err(Error::Input {
                path: path.to_owned(),
                detail: "is a folder, not a file".to_owned(),
            });
        }
        let file = std::fs::File::open(path).map_err(fail)?;
        // A regular file's size is known: read it into one buffer instead of
        // growing (and copying) one from nothing. FIFOs report 0.
        let size = file.metadata().map_or(0, |m| m.len()).min(limit);
        input.reserve_exact(usize::try_from(size).unwrap_or(0) + 1);
        file.take(limit + 1).read_to_end(&mut input).map_err(fail)?;
    }
    if input.len() as u64 > limit {
        return Err(Error::Input {
            path: path.to_owned(),
            detail: format!(
                "the input is larger than {} MiB, the most childgen reads; give a smaller file \
                 (a device or a stream that never ends is refused the same way)",
                limit / 1024 / 1024
            ),
        });
    }
    Ok(input)
}

/// Reads and parses a diff listing from a file, or stdin for `-`.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::DiffLine`] when a line is
/// malformed.
pub fn read_diff(path: &Path, format: diff_file::DiffFormat) -> Result<Vec<Change>> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    diff_file::parse_owned(read_input(path)?, &name, format)
}

/// The declared format of a diff listing.
pub fn diff_format(name_only: bool) -> diff_file::DiffFormat {
    if name_only {
        diff_file::DiffFormat::NameOnly
    } else {
        diff_file::DiffFormat::NameStatus
    }
}

/// What the sources need besides their flags.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Say on stderr which source was chosen and why.
    pub verbose: bool,
    /// `default_branch` from `childgen.yml`, for local dry runs.
    pub default_branch: Option<String>,
    /// No warnings on stderr (`--quiet`).
    pub quiet: bool,
}

impl SourceOptions {
    fn info(&self, message: impl AsRef<str>) {
        crate::output::info(self.verbose, message);
    }

    fn warn(&self, message: impl AsRef<str>) {
        crate::output::warn(self.quiet, message);
    }
}

/// The changes of a run and, in one line, what they compare.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The changes.
    pub changes: Vec<Change>,
    /// What was compared: `git diff merge-base(origin/main, HEAD)..HEAD`.
    pub compared: String,
}

/// Collects the changes the source flags point at, or, without any, the
/// ones auto mode picks from the CI environment.
///
/// # Errors
/// Whatever the chosen source fails with.
pub fn collect(args: &SourceArgs, options: &SourceOptions) -> Result<Collected> {
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
) -> Result<Collected> {
    let said = |compared: String| {
        options.info(format!("source: {compared}"));
        compared
    };
    if let Some(path) = &args.diff {
        let compared = said(format!("the diff listing {}", path.display()));
        let changes = read_diff(path, diff_format(args.name_only))?;
        return Ok(Collected { changes, compared });
    }
    let repo = || git::Repo::open(args.repo.as_deref());
    if args.all {
        let rev = args.head.as_deref().unwrap_or("HEAD");
        let compared = said(format!("every file of the tree at {rev} (--all)"));
        let changes = repo()?.all_files(rev)?;
        return Ok(Collected { changes, compared });
    }
    if let Some(base) = &args.base {
        let head = args.head.as_deref();
        let compared = said(format!(
            "git diff merge-base({base}, {0})..{0}{1}",
            head.unwrap_or("HEAD"),
            if head.is_none() { " plus the working tree" } else { "" }
        ));
        let changes = repo()?.merge_request_changes(base, head)?;
        return Ok(Collected { changes, compared });
    }
    let (decision, why) = decide(env);
    options.info(format!("source (auto): {why}"));
    let mut compared = why;
    let changes = auto_changes(args, options, token, decision, &mut compared)?;
    Ok(Collected { changes, compared })
}

/// The changes of an auto-mode decision; `compared` gets the base a local
/// dry run found.
fn auto_changes(
    args: &SourceArgs,
    options: &SourceOptions,
    token: Option<Token>,
    decision: Decision,
    compared: &mut String,
) -> Result<Vec<Change>> {
    let repo = || git::Repo::open(args.repo.as_deref());
    let checkout = || fetch::Checkout::open(args.repo.as_deref(), !args.no_fetch, options.verbose);
    match decision {
        Decision::Missing { problem } => Err(Error::Usage(format!(
            "{problem}; childgen cannot tell what this pipeline changed. Pass --base REV (or --all) to say it, \
             or check that the job runs in the pipeline GitLab describes (these variables are predefined)"
        ))),
        Decision::MergeBase { base, head: None } => repo()?.merge_request_changes(&base, None),
        Decision::MergeBase { base, head: Some(head) } => {
            let mut checkout = checkout()?;
            let head_oid = checkout.commit(&head)?;
            let merge_base = checkout.merge_base(&base, &head)?;
            options.info(format!("merge base of {base} and {head}: {merge_base}"));
            checkout
                .repo()
                .range_changes(&merge_base.to_string(), &head_oid.to_string())
        }
        Decision::FirstParent { sha } => checkout()?.pushed_changes(&sha, None),
        Decision::All => repo()?.all_files("HEAD"),
        Decision::Tag { tag } => {
            let mut checkout = checkout()?;
            if let Some((previous, oid)) = checkout.previous_tag(&tag)? {
                options.info(format!("previous tag: {previous} ({oid})"));
                checkout
                    .repo()
                    .range_changes(&oid.to_string(), &format!("refs/tags/{tag}"))
            } else {
                options.info(format!(
                    "{tag} is the first tag (no earlier tag in its complete history): every file of the tree"
                ));
                checkout.repo().all_files(&format!("refs/tags/{tag}"))
            }
        }
        Decision::MergedMergeRequest {
            sha,
            default_branch,
            before,
        } => merged_merge_request(
            args,
            options,
            token,
            &mut checkout()?,
            &sha,
            &default_branch,
            before.as_deref(),
        ),
        Decision::LocalDryRun => {
            let repo = repo()?;
            let base = options.default_branch.clone().or_else(|| repo.default_branch()).ok_or_else(|| {
                Error::Git(
                    "no default branch to compare with (no origin/HEAD, main or master): pass --base REV, or set `default_branch` in childgen.yml"
                        .to_owned(),
                )
            })?;
            options.info(format!("comparing with {base}"));
            *compared = format!("git diff merge-base({base}, HEAD)..HEAD plus the working tree (a local dry run)");
            repo.merge_request_changes(&base, None)
        }
    }
}

/// The default-branch source: the merged MR through the API when a token
/// can read it; otherwise, or for a direct push, git from the commit itself.
fn merged_merge_request(
    args: &SourceArgs,
    options: &SourceOptions,
    token: Option<Token>,
    checkout: &mut fetch::Checkout,
    sha: &str,
    default_branch: &str,
    before: Option<&str>,
) -> Result<Vec<Change>> {
    let (Some(url), Some(project)) = (&args.gitlab_url, &args.project) else {
        options.info("no CI_API_V4_URL/CI_PROJECT_ID (or --gitlab-url/--project): the changes come from git");
        return checkout.pushed_changes(sha, before);
    };
    if let Some(token) = &token {
        options.info(format!(
            "GitLab API {}, project {project}, token from {}",
            gitlab::redact_url(url),
            token.variable
        ));
    }
    let job_token = token.as_ref().is_some_and(Token::is_job_token);
    let found = GitLab::new(url, project, token, options.verbose)
        .and_then(|api| api.merged_changes(sha, default_branch))
        .unwrap_or_else(|e| MergedChanges::Unavailable {
            kind: ApiFailure::Unexpected,
            detail: e.to_string(),
        });
    match found {
        MergedChanges::Complete { iid, changes } => {
            options.info(format!(
                "merge request !{iid}: {} changed file(s) from the API",
                changes.len()
            ));
            Ok(changes)
        }
        // A fast-forward merge: the merge request's range ends at this commit.
        MergedChanges::UseGit {
            iid,
            base,
            head,
            reason,
        } if head == sha => {
            options.info(format!(
                "merge request !{iid}: {reason}; git diff {base}..{head} instead"
            ));
            let base = checkout.commit(&base)?;
            checkout.repo().range_changes(&base.to_string(), sha)
        }
        MergedChanges::UseGit { iid, reason, .. } => {
            options.info(format!(
                "merge request !{iid}: {reason}; the changes come from git, from the commit itself"
            ));
            checkout.pushed_changes(sha, before)
        }
        MergedChanges::NoMergeRequest => {
            options.info("no merged merge request produced this commit (a direct push): the changes come from git");
            checkout.pushed_changes(sha, before)
        }
        MergedChanges::Unavailable { kind, detail } => {
            options.warn(api_warning(kind, &detail, job_token));
            checkout.pushed_changes(sha, before)
        }
    }
}

/// The warning for an API that could not be used: why, and what would
/// enable it (a variable and a scope, never a token's value).
fn api_warning(kind: ApiFailure, detail: &str, job_token: bool) -> String {
    let enable = "to read the merged merge request's own diff, store a project access token with the `read_api` scope \
                  as a masked CI/CD variable CHILDGEN_GITLAB_TOKEN";
    let job_token = if job_token {
        " (GitLab refuses CI_JOB_TOKEN on the merge request endpoints)"
    } else {
        ""
    };
    let (why, hint) = match kind {
        ApiFailure::Refused => ("the token may not read it", format!("; {enable}{job_token}")),
        ApiFailure::NotFound => (
            "GitLab answered 404: a private project the token cannot see, a wrong CI_PROJECT_ID, \
             or a GitLab before 15.7 without the /diffs endpoint",
            format!("; check CI_PROJECT_ID, or {enable}"),
        ),
        ApiFailure::Unreachable => ("GitLab could not be reached", String::new()),
        ApiFailure::Unexpected => ("GitLab's answer could not be used", String::new()),
    };
    format!("the GitLab API was not used: {why} ({detail}). The changes come from git, from the commit itself{hint}.")
}
