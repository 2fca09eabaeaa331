//! The git source: merge-request view, working tree, `--all`, auto mode from
//! CI variables, shallow clones and missing refs. Repositories are built with
//! git2 in temp dirs.

use crate::snapshot;
use crate::support::{GitRepo, Output, TestEnv, assert_contains};

const MODEL: &str = "import numpy\n\n\ndef predict(x):\n    return x * 2\n";

pub struct History {
    pub env: TestEnv,
    pub git: GitRepo,
    pub base: git2::Oid,
    pub feature: git2::Oid,
    pub main: git2::Oid,
}

/// main: base → late change in p4; feature (from base): modify, add, rename
/// across stages, delete.
pub fn history() -> History {
    let env = TestEnv::new().cwd("repo");
    let git = GitRepo::init(&env.path().join("repo"));
    git.write(".gitignore", "*.log\n")
        .write("README.md", "monorepo\n")
        .write("pipelines/p1/s1/modelserving.yaml", "replicas: 1\n")
        .write("pipelines/p1/s1/model.py", MODEL)
        .write("pipelines/p3/s1/x.yaml", "x: 1\n");
    let base = git.commit("base");
    git.branch("feature", base);
    git.write("pipelines/p1/s1/modelserving.yaml", "replicas: 2\n")
        .write("pipelines/p2/s1/new.py", "print('new')\n")
        .rename("pipelines/p1/s1/model.py", "pipelines/p1/s2/model.py")
        .remove("pipelines/p3/s1/x.yaml");
    let feature = git.commit("feature work");
    git.checkout("main");
    git.write("pipelines/p4/s1/late.yaml", "late: true\n");
    let main = git.commit("main moves on");
    git.checkout("feature");
    History {
        env,
        git,
        base,
        feature,
        main,
    }
}

pub const FEATURE_CHANGES: &str = "M\tpipelines/p1/s1/modelserving.yaml\nR100\tpipelines/p1/s1/model.py\tpipelines/p1/s2/model.py\nA\tpipelines/p2/s1/new.py\nD\tpipelines/p3/s1/x.yaml\n";

/// The same changes as GitLab's API gives them: renames without a score.
pub const FEATURE_CHANGES_API: &str = "M\tpipelines/p1/s1/modelserving.yaml\nR\tpipelines/p1/s1/model.py\tpipelines/p1/s2/model.py\nA\tpipelines/p2/s1/new.py\nD\tpipelines/p3/s1/x.yaml\n";

/// Merges `feature` into main with a merge commit (main's late file kept).
pub fn merge_feature(h: &History) -> git2::Oid {
    h.git.checkout("main");
    h.git
        .write("pipelines/p1/s1/modelserving.yaml", "replicas: 2\n")
        .write("pipelines/p2/s1/new.py", "print('new')\n")
        .rename("pipelines/p1/s1/model.py", "pipelines/p1/s2/model.py")
        .remove("pipelines/p3/s1/x.yaml");
    h.git
        .commit_with_parents("Merge branch 'feature' into 'main'", &[h.feature])
}

#[test]
fn merge_request_view_uses_the_merge_base_and_detects_renames() {
    let h = history();
    let out = h.env.run(&["changes", "--base", "main", "--head", "feature"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    let shas = h
        .env
        .run(&[
            "changes",
            "--base",
            &h.main.to_string(),
            "--head",
            &h.feature.to_string(),
        ])
        .success();
    assert_eq!(shas.stdout, FEATURE_CHANGES);
    assert_ne!(h.base, h.main);
}

#[test]
fn a_rename_across_stages_triggers_both_stages() {
    let h = history();
    h.env.write(
        "t.yml.tera",
        "build-{{ pipeline_name }}-{{ stage_name }}:\n  script: [make]\n",
    );
    let out = h
        .env
        .run(&[
            "generate",
            "--base",
            "main",
            "--head",
            "feature",
            "--template",
            "../t.yml.tera",
            "--stop",
            "pipeline_name:pipelines,stage_name::pipelines",
        ])
        .success();
    let doc: serde_yaml::Mapping = serde_yaml::from_str(&out.stdout).expect("yaml");
    let jobs: Vec<&str> = doc.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(jobs, ["build-p1-s1", "build-p1-s2", "build-p2-s1", "build-p3-s1"]);
}

#[test]
fn without_head_the_working_tree_is_included_but_not_ignored_files() {
    let h = history();
    h.git.write("pipelines/p5/s1/staged.py", "staged\n");
    h.git.stage_all();
    h.git.write("pipelines/p2/s1/new.py", "print('edited, unstaged')\n");
    h.git.write("pipelines/p6/s1/untracked.py", "untracked\n");
    h.git.write("pipelines/p6/s1/debug.log", "ignored\n");
    let out = h.env.run(&["changes", "--base", "main"]).success();
    assert_eq!(
        out.stdout,
        "M\tpipelines/p1/s1/modelserving.yaml\nR100\tpipelines/p1/s1/model.py\tpipelines/p1/s2/model.py\nA\tpipelines/p2/s1/new.py\nD\tpipelines/p3/s1/x.yaml\nA\tpipelines/p5/s1/staged.py\nA\tpipelines/p6/s1/untracked.py\n"
    );
    // An explicit --head excludes the working tree.
    let committed = h.env.run(&["changes", "--base", "main", "--head", "HEAD"]).success();
    assert_eq!(committed.stdout, FEATURE_CHANGES);
}

#[test]
fn all_lists_every_file_at_head() {
    let h = history();
    let out = h.env.run(&["changes", "--all"]).success();
    assert_eq!(
        out.stdout,
        "M\t.gitignore\nM\tREADME.md\nM\tpipelines/p1/s1/modelserving.yaml\nM\tpipelines/p1/s2/model.py\nM\tpipelines/p2/s1/new.py\n"
    );
}

/// Runs with GitLab's predefined variables set as a pipeline would.
fn ci(h: &History, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = args.to_vec();
    command.push("--verbose");
    h.env.run_with(vars, &command)
}

#[test]
fn auto_in_a_merge_request_pipeline() {
    let h = history();
    let (base, sha) = (h.base.to_string(), h.feature.to_string());
    let vars = [
        ("CI", "true"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_COMMIT_REF_NAME", "feature"),
    ];
    let out = ci(&h, &vars, &["changes"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "source (auto): merge request pipeline (detached)");
}

#[test]
fn auto_on_another_branch_diffs_against_the_default_branch() {
    let h = history();
    h.git.set_ref("refs/remotes/origin/main", h.main);
    let sha = h.feature.to_string();
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_COMMIT_BEFORE_SHA", "0000000000000000000000000000000000000000"),
    ];
    let out = ci(&h, &vars, &["changes"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
}

#[test]
fn a_missing_default_branch_says_which_fetch_fixes_it() {
    let h = history();
    let sha = h.feature.to_string();
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
    ];
    let out = h.env.run_with(&vars, &["changes"]);
    snapshot!("git_missing_default_branch", out);
}

#[test]
fn auto_in_a_tag_pipeline_diffs_from_the_previous_tag() {
    let h = history();
    h.git.tag("v1.0.0", h.base);
    h.git.tag("v1.1.0", h.feature);
    let sha = h.feature.to_string();
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_TAG", "v1.1.0"),
        ("CI_COMMIT_SHA", sha.as_str()),
    ];
    let out = ci(&h, &vars, &["changes"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "previous tag: v1.0.0");
    // The first tag has no predecessor: everything.
    let first = [("CI_PIPELINE_SOURCE", "push"), ("CI_COMMIT_TAG", "v1.0.0")];
    let out = ci(&h, &first, &["changes"]).success();
    assert_eq!(
        out.stdout,
        "M\t.gitignore\nM\tREADME.md\nM\tpipelines/p1/s1/model.py\nM\tpipelines/p1/s1/modelserving.yaml\nM\tpipelines/p3/s1/x.yaml\n"
    );
}

#[test]
fn auto_in_scheduled_and_manual_pipelines_takes_everything() {
    let h = history();
    for source in ["schedule", "web", "api", "trigger"] {
        let out = ci(
            &h,
            &[
                ("CI_PIPELINE_SOURCE", source),
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_DEFAULT_BRANCH", "main"),
            ],
            &["changes"],
        )
        .success();
        assert_eq!(out.stdout.lines().count(), 5, "{source}: {}", out.stdout);
    }
}

#[test]
fn auto_on_the_default_branch_without_api_falls_back_to_the_push_range() {
    let h = history();
    h.git.checkout("main");
    let (before, sha) = (h.base.to_string(), h.main.to_string());
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    let out = ci(&h, &vars, &["changes"]).success();
    assert_eq!(out.stdout, "A\tpipelines/p4/s1/late.yaml\n");
    // A new default branch (all-zero before SHA): the first parent.
    let zero = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_COMMIT_BEFORE_SHA", "0000000000000000000000000000000000000000"),
    ];
    let out = ci(&h, &zero, &["changes"]).success();
    assert_eq!(out.stdout, "A\tpipelines/p4/s1/late.yaml\n");
    assert_contains(&out.stderr, "(one commit: from its parent)");
}

#[test]
fn locally_the_dry_run_compares_the_working_tree_with_the_default_branch() {
    let h = history();
    h.git.write("pipelines/p9/s9/wip.py", "wip\n");
    let out = h.env.run(&["changes", "--verbose"]).success();
    assert!(out.stdout.ends_with("A\tpipelines/p9/s9/wip.py\n"), "{}", out.stdout);
    assert!(
        out.stderr.contains("local dry run") && out.stderr.contains("comparing with main"),
        "{}",
        out.stderr
    );
    // Issue 12: plan says what it compared without --verbose.
    h.git.write("t.yml.tera", "j-{{ p }}:\n  script: [x]\n");
    let plan = h
        .env
        .run(&["plan", "--template", "t.yml.tera", "--stop", "p:pipelines"]);
    assert!(
        plan.stdout
            .starts_with("compared: git diff merge-base(main, HEAD)..HEAD plus the working tree (a local dry run)\n"),
        "{}",
        plan.snapshot()
    );
}

#[test]
fn a_merge_commit_on_the_default_branch_gives_the_merged_changes() {
    let h = history();
    let merge = merge_feature(&h);
    let (before, sha) = (h.main.to_string(), merge.to_string());
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
    ];
    let out = ci(&h, &vars, &["changes"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
}

/// The git CLI without inherited `GIT_*` variables.
fn git_cli() -> std::process::Command {
    let mut command = std::process::Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn a_shallow_clone_names_the_fix() {
    let h = history();
    let clone_dir = h.env.path().join("shallow");
    // libgit2's local transport cannot fetch shallow; the git CLI can (as GitLab's runner does).
    let url = format!("file://{}", h.git.dir.display());
    let status = git_cli()
        .args(["clone", "--quiet", "--depth", "1", "--branch", "feature", &url])
        .arg(&clone_dir)
        .status()
        .expect("git clone");
    assert!(status.success());
    let env = TestEnv::new().cwd_abs(&clone_dir);
    let base = h.base.to_string();
    let out = env.run(&["changes", "--base", &base, "--head", "HEAD"]);
    assert_eq!(out.code, 1, "{}", out.snapshot());
    let stderr = out.stderr.replace(&base, "[BASE]");
    assert_eq!(
        stderr,
        "error: revision `[BASE]` is not in this clone; fetch it first: `git fetch origin [BASE]`. This clone is shallow: set `GIT_DEPTH: 0` in the job (or `git fetch --unshallow`).\n"
    );
    // Both branch tips fetched, but not their common history: no merge base.
    let both = h.env.path().join("shallow-both");
    let status = git_cli()
        .args([
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feature",
            &url,
        ])
        .arg(&both)
        .status()
        .expect("git clone");
    assert!(status.success());
    let out = TestEnv::new()
        .cwd_abs(&both)
        .run(&["changes", "--base", "origin/main", "--head", "HEAD"]);
    assert_eq!(out.code, 1, "{}", out.snapshot());
    assert_eq!(
        out.stderr,
        "error: no merge base between `origin/main` and `HEAD`: the clone is shallow: set `GIT_DEPTH: 0` in the job, or `git fetch --unshallow`\n"
    );
}

#[test]
fn outside_a_repository_is_a_runtime_error() {
    let env = TestEnv::new();
    let out = env.run(&["changes", "--base", "main"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("error: . is not inside a git repository"),
        "{}",
        out.stderr
    );
}

#[test]
fn many_renames_are_paired_exactly_like_git_past_the_rename_limit() {
    // 1,100 moved files: 1,100 × 1,100 candidate pairs is past git's
    // diff.renameLimit, so only identical blobs pair up (as `git diff -M` does).
    let env = TestEnv::new().cwd("repo");
    let git = GitRepo::init(&env.path().join("repo"));
    for i in 0..1100 {
        git.write(
            &format!("pipelines/p{}/old/f{i:04}.py", i % 3),
            &format!("content {i}\n"),
        );
    }
    git.write("pipelines/edited.py", "one\n");
    let base = git.commit("base");
    for i in 0..1100 {
        git.rename(
            &format!("pipelines/p{}/old/f{i:04}.py", i % 3),
            &format!("pipelines/p{}/new/f{i:04}.py", i % 3),
        );
    }
    git.remove("pipelines/edited.py")
        .write("pipelines/edited2.py", "one, but edited\n");
    git.commit("move");
    let out = env
        .run(&["changes", "--base", &base.to_string(), "--head", "HEAD"])
        .success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1102);
    assert!(lines.contains(&"R100\tpipelines/p0/old/f0000.py\tpipelines/p0/new/f0000.py"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("R100\t")).count(), 1100);
    assert!(lines.contains(&"D\tpipelines/edited.py") && lines.contains(&"A\tpipelines/edited2.py"));
}

#[test]
fn the_generator_job_end_to_end_in_a_merge_request_pipeline() {
    // What the root .gitlab-ci.yml runs: `childgen generate --verbose --output generated.yml`
    // with no source flag, in the clone, with the MR pipeline's variables.
    let h = history();
    h.git.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines,stage_name::pipelines\"\n    template: ci/stage.yml.tera\n",
    );
    h.git.write("ci/stage.yml.tera", "stages: [test]\ntest-{{ pipeline_name }}-{{ stage_name }}:\n  stage: test\n  variables:\n    CHANGED: \"{{ files | length }}\"\n  script: [make test]\n");
    let head = h.git.commit("add childgen config").to_string();
    let base = h.base.to_string();
    let vars = [
        ("CI", "true"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
        ("CI_JOB_TOKEN", "job-token-secret-value"),
    ];
    let out = h
        .env
        .run_with(&vars, &["generate", "--verbose", "--output", "generated.yml"])
        .success();
    assert_eq!(out.stdout, "");
    assert!(!out.stderr.contains("job-token-secret-value"));
    let yaml = std::fs::read_to_string(h.git.dir.join("generated.yml")).expect("generated.yml");
    crate::support::assert_schema_valid(&yaml);
    let doc: serde_yaml::Mapping = serde_yaml::from_str(&yaml).expect("yaml");
    let jobs: Vec<&str> = doc
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| k.starts_with("test-"))
        .collect();
    assert_eq!(jobs, ["test-p1-s1", "test-p1-s2", "test-p2-s1", "test-p3-s1"]);
    assert_eq!(doc["test-p1-s1"]["variables"]["CHANGED"].as_str(), Some("2"));
}
