//! Auto mode: which change source a pipeline needs, decided from GitLab's
//! predefined variables (design §1.4, §7). [`decide`] is a pure function of
//! those variables so that the whole table is unit-tested.

use std::collections::BTreeMap;

/// The CI variables auto mode reads.
pub const VARIABLES: [&str; 11] = [
    "CI_PIPELINE_SOURCE",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "CI_MERGE_REQUEST_EVENT_TYPE",
    "CI_MERGE_REQUEST_TARGET_BRANCH_SHA",
    "CI_COMMIT_BRANCH",
    "CI_DEFAULT_BRANCH",
    "CI_COMMIT_BEFORE_SHA",
    "CI_COMMIT_SHA",
    "CI_COMMIT_TAG",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
];

/// A snapshot of the variables (empty values count as unset).
#[derive(Debug, Clone, Default)]
pub struct CiEnv(BTreeMap<String, String>);

impl CiEnv {
    /// Reads [`VARIABLES`] from the process environment.
    #[must_use]
    pub fn from_process() -> Self {
        CiEnv(
            VARIABLES
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
                .collect(),
        )
    }

    /// Builds a snapshot from pairs (tests).
    #[must_use]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        CiEnv(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    /// A variable, `None` when unset or empty.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Where the changes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `merge-base(base, head)..head`; no head: the working tree too.
    MergeBase { base: String, head: Option<String> },
    /// The merged MR of `sha` through the API, else `before..sha` (or the
    /// first parent when `before` is missing or all zeros).
    MergedMergeRequest {
        sha: String,
        default_branch: String,
        before: Option<String>,
    },
    /// From the previous tag to `tag`, or everything when there is none.
    Tag { tag: String },
    /// `sha^1..sha`: a merged-results or merge-train commit whose first
    /// parent is the target branch (when GitLab did not give its SHA).
    FirstParent { sha: String },
    /// Every file of the tree at HEAD.
    All,
    /// A pipeline without a variable its type needs (named in `problem`).
    Missing { problem: String },
    /// A local dry run: HEAD plus the working tree against the default branch.
    LocalDryRun,
}

/// The decision and the sentence `--verbose` prints for it.
#[must_use]
pub fn decide(env: &CiEnv) -> (Decision, String) {
    let source = env.get("CI_PIPELINE_SOURCE");
    let sha = env.get("CI_COMMIT_SHA").unwrap_or("HEAD").to_owned();
    if let Some(source @ ("schedule" | "web" | "api" | "trigger" | "pipeline")) = source {
        return (
            Decision::All,
            format!("CI_PIPELINE_SOURCE={source}: every file of the tree (--all)"),
        );
    }
    if source == Some("merge_request_event") {
        let event = env.get("CI_MERGE_REQUEST_EVENT_TYPE").unwrap_or("detached");
        let merged_result = matches!(event, "merged_result" | "merge_train");
        let base = if merged_result {
            env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA")
        } else {
            env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
        };
        return match base {
            Some(base) => (
                Decision::MergeBase {
                    base: base.to_owned(),
                    head: Some(sha.clone()),
                },
                format!("merge request pipeline ({event}): git diff merge-base({base}, {sha})..{sha}"),
            ),
            // The merge ref's commit: its first parent is the target branch.
            // CI_MERGE_REQUEST_DIFF_BASE_SHA would add what the target gained since.
            None if merged_result => (
                Decision::FirstParent { sha: sha.clone() },
                format!(
                    "merge request pipeline ({event}) without CI_MERGE_REQUEST_TARGET_BRANCH_SHA: \
                     git diff {sha}^1..{sha} (the merge commit's first parent is the target branch)"
                ),
            ),
            None => missing(format!(
                "CI_PIPELINE_SOURCE=merge_request_event ({event}) but CI_MERGE_REQUEST_DIFF_BASE_SHA is not set"
            )),
        };
    }
    if let Some(tag) = env.get("CI_COMMIT_TAG") {
        return (
            Decision::Tag { tag: tag.to_owned() },
            format!("tag pipeline for {tag}: changes since the previous tag"),
        );
    }
    if let Some(branch) = env.get("CI_COMMIT_BRANCH") {
        let default = match (env.get("CI_DEFAULT_BRANCH"), source) {
            (Some(default), _) => default,
            (None, None) => "main",
            (None, Some(source)) => {
                return missing(format!(
                    "CI_PIPELINE_SOURCE={source} on branch {branch} but CI_DEFAULT_BRANCH is not set"
                ));
            }
        };
        if branch == default {
            return (
                Decision::MergedMergeRequest {
                    sha: sha.clone(),
                    default_branch: default.to_owned(),
                    before: env.get("CI_COMMIT_BEFORE_SHA").map(str::to_owned),
                },
                format!("default branch {default}: the merge request that produced {sha}, through the GitLab API"),
            );
        }
        return (
            Decision::MergeBase {
                base: format!("origin/{default}"),
                head: Some(sha.clone()),
            },
            format!("branch {branch}: git diff merge-base(origin/{default}, {sha})..{sha}"),
        );
    }
    if let Some(source) = source {
        return missing(format!(
            "CI_PIPELINE_SOURCE={source} but neither CI_COMMIT_BRANCH nor CI_COMMIT_TAG is set"
        ));
    }
    (
        Decision::LocalDryRun,
        "no GitLab CI variables: local dry run, HEAD and the working tree against the default branch".to_owned(),
    )
}

fn missing(problem: String) -> (Decision, String) {
    let why = format!("missing CI variable: {problem}");
    (Decision::Missing { problem }, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_table() {
        let mr = Decision::MergeBase {
            base: "b4se".into(),
            head: Some("c0ffee".into()),
        };
        let mut cases: Vec<(Vec<(&str, &str)>, Decision)> = vec![
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "b4se"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                mr.clone(),
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_MERGE_REQUEST_EVENT_TYPE", "merged_result"),
                    ("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", "t4rget"),
                    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "b4se"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                Decision::MergeBase {
                    base: "t4rget".into(),
                    head: Some("c0ffee".into()),
                },
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_MERGE_REQUEST_EVENT_TYPE", "merge_train"),
                    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "b4se"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                Decision::FirstParent { sha: "c0ffee".into() },
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_MERGE_REQUEST_EVENT_TYPE", "detached"),
                    ("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", "t4rget"),
                    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "b4se"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                mr,
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "push"),
                    ("CI_COMMIT_BRANCH", "main"),
                    ("CI_DEFAULT_BRANCH", "main"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                    ("CI_COMMIT_BEFORE_SHA", "be4"),
                ],
                Decision::MergedMergeRequest {
                    sha: "c0ffee".into(),
                    default_branch: "main".into(),
                    before: Some("be4".into()),
                },
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "push"),
                    ("CI_COMMIT_BRANCH", "feature"),
                    ("CI_DEFAULT_BRANCH", "main"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                    ("CI_COMMIT_BEFORE_SHA", "0000000000000000000000000000000000000000"),
                ],
                Decision::MergeBase {
                    base: "origin/main".into(),
                    head: Some("c0ffee".into()),
                },
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "push"),
                    ("CI_COMMIT_TAG", "v1.2.0"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                Decision::Tag { tag: "v1.2.0".into() },
            ),
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "schedule"),
                    ("CI_COMMIT_BRANCH", "main"),
                    ("CI_DEFAULT_BRANCH", "main"),
                ],
                Decision::All,
            ),
            (
                vec![("CI_PIPELINE_SOURCE", "web"), ("CI_COMMIT_BRANCH", "x")],
                Decision::All,
            ),
            (vec![("CI_PIPELINE_SOURCE", "api")], Decision::All),
            (vec![("CI_PIPELINE_SOURCE", "trigger")], Decision::All),
            (vec![], Decision::LocalDryRun),
            (
                vec![("CI_COMMIT_SHA", ""), ("CI_PIPELINE_SOURCE", "")],
                Decision::LocalDryRun,
            ),
        ];
        let missing = |problem: &str| Decision::Missing {
            problem: problem.to_owned(),
        };
        cases.extend([
            (
                vec![
                    ("CI_PIPELINE_SOURCE", "merge_request_event"),
                    ("CI_COMMIT_SHA", "c0ffee"),
                ],
                missing(
                    "CI_PIPELINE_SOURCE=merge_request_event (detached) but CI_MERGE_REQUEST_DIFF_BASE_SHA is not set",
                ),
            ),
            (
                vec![("CI_PIPELINE_SOURCE", "push"), ("CI_COMMIT_BRANCH", "main")],
                missing("CI_PIPELINE_SOURCE=push on branch main but CI_DEFAULT_BRANCH is not set"),
            ),
            (
                vec![("CI_PIPELINE_SOURCE", "push"), ("CI_COMMIT_SHA", "c0ffee")],
                missing("CI_PIPELINE_SOURCE=push but neither CI_COMMIT_BRANCH nor CI_COMMIT_TAG is set"),
            ),
            (
                vec![("CI_COMMIT_BRANCH", "feature")],
                Decision::MergeBase {
                    base: "origin/main".into(),
                    head: Some("HEAD".into()),
                },
            ),
        ]);
        for (pairs, expected) in cases {
            let (decision, why) = decide(&CiEnv::from_pairs(&pairs));
            assert_eq!(decision, expected, "{pairs:?}: {why}");
        }
    }
}
