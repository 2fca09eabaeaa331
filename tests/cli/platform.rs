//! For platform owners: `plan` (text, JSON, Mermaid), `init`, `test`,
//! `completions`, and `--help`.

use crate::snapshot;
use crate::support::{TestEnv, assert_contains, assert_schema_valid, root};

fn monorepo_env() -> TestEnv {
    TestEnv::new().cwd_abs(&root().join("fixtures/monorepo"))
}

#[test]
fn plan_as_text() {
    snapshot!("plan_text", monorepo_env().run(&["plan", "--diff", "mr.diff"]));
}

#[test]
fn plan_as_json() {
    let out = monorepo_env()
        .run(&["plan", "--diff", "mr.diff", "--format", "json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(json["changes"], 9);
    assert_eq!(json["unmatched"][0]["path"], "README.md");
    assert_eq!(json["rules"][0]["groups"][2]["vars"]["stage_name"], "batch");
    assert_eq!(json["rules"][0]["groups"][2]["jobs"][0], "remove-legacy-batch-dev");
    snapshot!("plan_json", out);
}

#[test]
fn plan_as_mermaid() {
    snapshot!(
        "plan_mermaid",
        monorepo_env().run(&["plan", "--diff", "mr.diff", "--format", "mermaid"])
    );
}

#[test]
fn plan_as_markdown_is_the_mermaid_chart_fenced() {
    // Issue 12: ready to paste into a merge request description.
    let chart = monorepo_env()
        .run(&["plan", "--diff", "mr.diff", "--format", "mermaid"])
        .success();
    let fenced = monorepo_env()
        .run(&["plan", "--diff", "mr.diff", "--format", "markdown"])
        .success();
    assert_eq!(fenced.stdout, format!("```mermaid\n{}```\n", chart.stdout));
    assert!(
        chart
            .stdout
            .starts_with("%% compared: the diff listing mr.diff\n%% planned: a merge request pipeline (your-branch into main)\nflowchart")
            && chart.stdout.ends_with('\n'),
        "{}",
        chart.stdout
    );
    assert_eq!(fenced.stderr, chart.stderr);
}

#[test]
fn plan_says_when_nothing_matched() {
    let env = monorepo_env().stdin("M\tREADME.md\n");
    let out = env.run(&["plan", "--diff", "-"]).success();
    assert_contains(
        &out.stdout,
        "no rule matched: the pipeline is the no-op job(s) no-changes",
    );
}

#[test]
fn init_scaffolds_a_working_setup_and_refuses_to_overwrite() {
    let env = TestEnv::new();
    let out = env.run(&["init"]).success();
    assert_eq!(out.stdout, "");
    for file in ["childgen.yml", "templates/pipeline.yml.tera", ".gitlab-ci.yml"] {
        assert!(env.path().join(file).is_file(), "{file} missing:\n{}", out.stderr);
    }
    let root_ci = std::fs::read_to_string(env.path().join(".gitlab-ci.yml")).expect("root");
    assert_schema_valid(&root_ci);
    assert!(root_ci.contains("artifact: generated.yml") && root_ci.contains("strategy: depend"));
    // The child it triggers, for a change in one stage, is valid too.
    env.write("diff.txt", "M\tpipelines/churn/train/model.py\nM\tdocs/index.md\n");
    let child = env.run(&["generate", "--diff", "diff.txt"]).success();
    assert_schema_valid(&child.stdout);
    assert!(
        child
            .stdout
            .contains("workflow:\n  rules:\n  - if: $CI_PIPELINE_SOURCE == \"parent_pipeline\""),
        "{}",
        child.stdout
    );
    assert!(child.stdout.contains("test-churn-train:"));
    // A second init keeps what exists, --force overwrites.
    env.write("childgen.yml", "# mine\n");
    let again = env.run(&["init"]).success();
    snapshot!("init_keeps", again);
    assert_eq!(
        std::fs::read_to_string(env.path().join("childgen.yml")).expect("kept"),
        "# mine\n"
    );
    env.run(&["init", "--force"]).success();
    assert!(
        std::fs::read_to_string(env.path().join("childgen.yml"))
            .expect("new")
            .starts_with("# childgen configuration")
    );
}

#[test]
fn test_command_passes_fails_with_a_diff_and_blesses() {
    let env = TestEnv::new();
    env.run(&["init"]).success();
    // Issue 12: no childgen-tests/ says what to do, not "cannot read".
    let none = env.run(&["test"]);
    assert_eq!(none.code, 2);
    assert_contains(
        &none.stderr,
        "childgen-tests does not exist: create one folder per case holding a diff.txt",
    );
    assert_contains(&none.stderr, "then run `childgen test --bless`");
    env.write("childgen-tests/one-stage/diff.txt", "M\tpipelines/p/s/a.py\n");
    // No expected.yml yet: says "run --bless", not a whole-file diff.
    let first = env.run(&["test"]);
    assert_eq!(first.code, 1, "{}", first.snapshot());
    assert_eq!(
        first.stdout,
        "FAILED  one-stage: no expected.yml; run `childgen test --bless` to accept the current output\n0 passed, 1 failed\n"
    );
    let blessed = env.run(&["test", "--bless"]).success();
    assert!(
        blessed.stdout.ends_with("0 passed, 0 failed, 1 blessed\n"),
        "{}",
        blessed.stdout
    );
    env.run(&["test"]).success();
    // A template change shows as a readable unified diff.
    let template = std::fs::read_to_string(env.path().join("templates/pipeline.yml.tera")).expect("template");
    env.write(
        "templates/pipeline.yml.tera",
        template.replace("stage: deploy", "stage: test"),
    );
    let changed = env.run(&["test"]);
    assert_eq!(changed.code, 1);
    snapshot!("test_command_diff", changed);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = TestEnv::new().run(&["completions", shell]).success();
        assert!(
            out.stdout.contains("childgen") && out.stdout.contains("generate"),
            "{shell}"
        );
    }
}

#[test]
fn help_texts() {
    snapshot!("help", TestEnv::new().run(&["--help"]));
    snapshot!("help_generate", TestEnv::new().run(&["generate", "--help"]));
}

#[test]
fn version() {
    let out = TestEnv::new().run(&["--version"]).success();
    assert_eq!(out.stdout, format!("childgen {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn plan_reports_limit_warnings_once() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path().join(".git")).expect("repo root");
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\nlimits: {warn_jobs: 1}\n",
    );
    env.write("t.yml.tera", "job-{{ pipeline_name }}:\n  script: [x]\n");
    env.write("diff.txt", "M\tpipelines/a/x\nM\tpipelines/b/x\n");
    let out = env.run(&["plan", "--diff", "diff.txt"]).success();
    assert_contains(
        &out.stdout,
        "\nwarning: 2 jobs, over 1: GitLab instances often limit jobs per pipeline\n",
    );
    assert_eq!(out.stderr, "");
    let generate = env.run(&["generate", "--diff", "diff.txt"]).success();
    assert_eq!(
        generate.stderr,
        "warning: 2 jobs, over 1: GitLab instances often limit jobs per pipeline\n"
    );
    let quiet = env.run(&["generate", "--diff", "diff.txt", "--quiet"]).success();
    assert_eq!(quiet.stderr, "");
}

#[test]
fn init_in_a_repository_with_a_pipeline_keeps_it_and_prints_the_include_line() {
    // Issue 12: every adopter already has a .gitlab-ci.yml.
    let env = TestEnv::new();
    let mine = "stages: [build, generate, run]\nbuild:\n  stage: build\n  script: [make]\n";
    env.write(".gitlab-ci.yml", mine);
    let out = env.run(&["init"]).success();
    assert_eq!(
        std::fs::read_to_string(env.path().join(".gitlab-ci.yml")).expect("kept"),
        mine
    );
    for file in [
        "childgen.yml",
        "templates/pipeline.yml.tera",
        ".gitlab/childgen.gitlab-ci.yml",
    ] {
        assert!(env.path().join(file).is_file(), "{file} missing:\n{}", out.stderr);
    }
    assert_contains(&out.stderr, "include:\n  - local: .gitlab/childgen.gitlab-ci.yml\n");
    assert!(!out.stderr.contains("declares no"), "{}", out.stderr);
    // The user's pipeline with that include (inlined, as GitLab merges it) is valid.
    let jobs = std::fs::read_to_string(env.path().join(".gitlab/childgen.gitlab-ci.yml")).expect("jobs");
    assert!(!jobs.contains("workflow:") && !jobs.contains("\nstages:"), "{jobs}");
    let merged = format!("{mine}{jobs}");
    assert_schema_valid(&merged);
    env.write("merged.yml", &merged);
    env.run(&["validate", "merged.yml"]).success();
    // A second run writes nothing and overwrites nothing; --force never touches the pipeline.
    env.write("childgen.yml", "# mine\n");
    let again = env.run(&["init"]).success();
    assert_contains(&again.stderr, "kept ./childgen.yml (exists; --force overwrites)");
    assert!(!again.stderr.contains("wrote "), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(env.path().join("childgen.yml")).expect("kept"),
        "# mine\n"
    );
    env.run(&["init", "--force"]).success();
    assert_eq!(
        std::fs::read_to_string(env.path().join(".gitlab-ci.yml")).expect("kept"),
        mine
    );
}

#[test]
fn init_writes_what_is_missing_and_warns_about_missing_stages() {
    let env = TestEnv::new();
    env.write(".gitlab-ci.yml", "build:\n  script: [make]\n");
    env.write("childgen.yml", "# mine\n");
    let out = env.run(&["init"]).success();
    assert_contains(&out.stderr, "kept ./childgen.yml");
    assert_contains(&out.stderr, "wrote ./templates/pipeline.yml.tera");
    assert_contains(&out.stderr, "declares no `generate`/`run` stages yet");
}

#[test]
fn the_starter_template_tears_down_a_deleted_stage_instead_of_testing_it() {
    let env = TestEnv::new();
    env.run(&["init"]).success();
    env.write(
        "diff.txt",
        "D\tpipelines/old/train/model.py\nD\tpipelines/old/train/requirements.txt\nM\tpipelines/new/train/model.py\nD\tpipelines/new/train/old.py\n",
    );
    let child = env.run(&["generate", "--diff", "diff.txt"]).success();
    assert_schema_valid(&child.stdout);
    // The deleted stage: no job cds into the folder; a teardown instead.
    assert!(child.stdout.contains("teardown-old-train:"), "{}", child.stdout);
    assert!(!child.stdout.contains("test-old-train:"), "{}", child.stdout);
    assert!(!child.stdout.contains("deploy-old-train:"), "{}", child.stdout);
    // A stage that still has files is tested and deployed as before.
    assert!(child.stdout.contains("test-new-train:") && child.stdout.contains("deploy-new-train:"));
    assert!(!child.stdout.contains("teardown-new-train:"));
}

/// Issue 12: a flag belongs to the commands that use it; elsewhere it is a
/// usage error (exit 2), never accepted and ignored. Only --config,
/// --verbose and --quiet are global.
#[test]
fn flags_are_scoped_to_their_commands() {
    let env = TestEnv::new();
    for args in [
        &["test", "--output", "x.yml"][..],
        &["init", "--stop", "a:b"],
        &["completions", "bash", "--regex", "x"],
        &["changes", "--var", "k=v"],
        &["validate", "x.yml", "--template", "t.tera"],
        &["explain", "a/b", "--var", "k=v"],
    ] {
        let out = env.run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.snapshot());
        assert_contains(&out.stderr, "error: unexpected argument '--");
    }
    // Flags that contradict each other are refused too (--all used to ignore --base).
    let out = env.run(&["changes", "--all", "--base", "main"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "the argument '--all' cannot be used with '--base <REV>'");
    let out = env.run(&["--var", "k=v", "generate"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "--var goes after the command it is for (`childgen generate --var ...`); only --config, --verbose and --quiet go before it",
    );
    // The global ones go before or after the command.
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"p:pipelines\"\n    template: t.yml.tera\n",
    );
    env.write("t.yml.tera", "j-{{ p }}:\n  script: [x]\n");
    env.write("d.txt", "M\tpipelines/a/x\n");
    let before = env
        .run(&["--config", "childgen.yml", "-q", "generate", "--diff", "d.txt"])
        .success();
    let after = env
        .run(&["generate", "--diff", "d.txt", "--config", "childgen.yml", "--quiet"])
        .success();
    assert_eq!(before.stdout, after.stdout);
    assert_contains(&before.stdout, "j-a:");
    let legacy = env
        .run(&["d.txt", "t.yml.tera", "p:pipelines", "--var", "k=v", "-o", "-"])
        .success();
    assert_eq!(legacy.stdout, before.stdout);
}

/// Issue 12: plan evaluates the jobs' `rules:` for the planned pipeline.
/// The model-serving template deploys to dev on a merge request, to uat on
/// the default branch and to prod from a release tag.
#[test]
fn plan_marks_the_jobs_the_planned_pipelines_rules_exclude() {
    let fate = |pipeline: &str, job: &str| -> String {
        let out = monorepo_env()
            .run(&["plan", "--diff", "mr.diff", "--format", "json", "--pipeline", pipeline])
            .success();
        let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        json["fates"][job]["fate"].as_str().unwrap_or("absent").to_owned()
    };
    let deploys = [
        "deploy-churn-train-dev",
        "deploy-churn-train-uat",
        "deploy-churn-train-prod",
    ];
    let table: Vec<(&str, Vec<String>)> = ["merge-request", "default-branch", "tag:v1.2.3", "tag:nightly"]
        .into_iter()
        .map(|p| (p, deploys.iter().map(|j| fate(p, j)).collect()))
        .collect();
    assert_eq!(
        table,
        [
            (
                "merge-request",
                vec!["runs".to_owned(), "not_run".to_owned(), "not_run".to_owned()]
            ),
            (
                "default-branch",
                vec!["runs".to_owned(), "runs".to_owned(), "not_run".to_owned()]
            ),
            (
                "tag:v1.2.3",
                vec!["not_run".to_owned(), "not_run".to_owned(), "runs".to_owned()]
            ),
            (
                "tag:nightly",
                vec!["not_run".to_owned(), "not_run".to_owned(), "not_run".to_owned()]
            ),
        ]
    );
    assert_eq!(fate("merge-request", "remove-churn-train-dev"), "manual");
    // Text: the group's job list marks them, and a summary says what was evaluated.
    let out = monorepo_env().run(&["plan", "--diff", "mr.diff"]).success();
    assert_contains(
        &out.stdout,
        "deploy-churn-train-dev, remove-churn-train-dev (manual), deploy-churn-train-uat (not run)",
    );
    assert_contains(
        &out.stdout,
        "in a merge request pipeline (your-branch into main), by rules:if, when and workflow:rules",
    );
    assert_contains(&out.stdout, "(not evaluated: rules:changes, rules:exists, only/except");
    let bad = monorepo_env().run(&["plan", "--diff", "mr.diff", "--pipeline", "nightly"]);
    assert_eq!(bad.code, 2, "{}", bad.snapshot());
    assert_contains(
        &bad.stderr,
        "--pipeline \"nightly\": give merge-request, default-branch, branch:NAME or tag:NAME",
    );
}
