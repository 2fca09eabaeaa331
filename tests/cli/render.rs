//! `generate --diff` and `render`: the path from a diff file to YAML.

use crate::snapshot;
use crate::support::{TestEnv, assert_contains, assert_schema_valid, root};

fn monorepo_args() -> Vec<String> {
    let monorepo = root().join("fixtures/monorepo");
    vec![
        "generate".into(),
        "--config".into(),
        monorepo.join("childgen.yml").display().to_string(),
        "--diff".into(),
        monorepo.join("mr.diff").display().to_string(),
    ]
}

fn run_monorepo(env: &TestEnv) -> crate::support::Output {
    let args = monorepo_args();
    env.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn parse(yaml: &str) -> serde_yaml::Mapping {
    serde_yaml::from_str(yaml).expect("YAML")
}

#[test]
fn the_example_monorepo_generates_a_valid_child_pipeline() {
    let out = run_monorepo(&TestEnv::new()).success();
    assert_schema_valid(&out.stdout);
    assert_eq!(out.stderr, "");
    crate::support::insta_settings().bind(|| insta::assert_snapshot!("monorepo_generated", out.stdout));
}

#[test]
fn a_deleted_stage_gets_remove_jobs_instead_of_deploys() {
    let doc = parse(&run_monorepo(&TestEnv::new()).success().stdout);
    let legacy: Vec<&str> = doc
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| k.contains("legacy-batch"))
        .collect();
    assert_eq!(
        legacy,
        [
            "remove-legacy-batch-dev",
            "remove-legacy-batch-uat",
            "remove-legacy-batch-prod"
        ]
    );
    assert!(doc.contains_key("deploy-churn-train-dev") && doc.contains_key("remove-churn-train-dev"));
}

#[test]
fn prod_images_and_prod_deploys_only_from_release_tags() {
    let doc = parse(&run_monorepo(&TestEnv::new()).success().stdout);
    for job in ["build-prod-churn-train", "deploy-churn-train-prod"] {
        let rules = serde_yaml::to_string(&doc[job]["rules"]).expect("rules");
        assert_eq!(rules, "- if: $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/\n", "{job}");
    }
    assert_eq!(
        doc["deploy-churn-train-prod"]["needs"][0].as_str(),
        Some("build-prod-churn-train")
    );
    assert_eq!(doc["remove-churn-train-prod"]["when"].as_str(), Some("manual"));
}

#[test]
fn output_does_not_depend_on_input_order() {
    let env = TestEnv::new();
    let diff = std::fs::read_to_string(root().join("fixtures/monorepo/mr.diff")).expect("diff");
    let mut lines: Vec<&str> = diff.lines().collect();
    lines.reverse();
    let reversed = env.write("reversed.diff", lines.join("\r\n"));
    let mut args = monorepo_args();
    args[4] = reversed.display().to_string();
    let second = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>()).success();
    assert_eq!(second.stdout, run_monorepo(&env).success().stdout);
}

#[test]
fn no_secret_from_the_environment_reaches_the_yaml() {
    let secrets = [
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("CI_JOB_TOKEN", "glcbt-64-jobtokensecret"),
        ("GITLAB_TOKEN", "glpat-verysecretvalue"),
        ("CHILDGEN_GITLAB_TOKEN", "glpat-othersecretvalue"),
    ];
    let mut env = TestEnv::new();
    for (key, value) in secrets {
        env = env.env(key, value);
    }
    let mut args = monorepo_args();
    args.push("--verbose".into());
    let out = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>()).success();
    for (key, value) in secrets {
        assert!(
            !out.stdout.contains(value) && !out.stderr.contains(value),
            "{key} leaked"
        );
    }
    // The transfer jobs rely on CI/CD variables by name, never by value.
    assert!(out.stdout.contains("AWS_DEFAULT_REGION") && !out.stdout.contains("AWS_SECRET_ACCESS_KEY:"));
}

#[test]
fn the_bare_form_equals_render_and_reads_stdin() {
    let env = TestEnv::new();
    let diff = "M\tpipelines/p1/s1/modelserving.yaml\nM\tpipelines/p1/s2/modelserving.yaml\n";
    env.write("diff.txt", diff);
    let template = root().join("templates/model-serving.yml.tera").display().to_string();
    let patterns = "pipeline_name:pipelines,stage_name::pipelines";
    let bare = env.run(&["diff.txt", &template, patterns]).success();
    let render = env.run(&["render", "diff.txt", &template, patterns]).success();
    let stdin = TestEnv::new()
        .stdin(diff)
        .run(&["render", "-", &template, patterns])
        .success();
    assert_eq!(bare.stdout, render.stdout);
    assert_eq!(bare.stdout, stdin.stdout);
    assert_schema_valid(&bare.stdout);
    let doc = parse(&bare.stdout);
    assert!(doc.contains_key("deploy-p1-s1-dev") && doc.contains_key("deploy-p1-s2-dev"));
}

#[test]
fn output_file_is_atomic_and_kept_on_failure() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\tpipelines/p/s/a.yaml\n");
    env.write(
        "t.yml.tera",
        "job-{{ stage_name }}:\n  script: [\"echo {{ vars.greeting }}\"]\n",
    );
    let ok = env.run(&[
        "render",
        "diff.txt",
        "t.yml.tera",
        "stage_name::pipelines",
        "--var",
        "greeting=hi",
        "-o",
        "generated.yml",
    ]);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, ""));
    let good = std::fs::read_to_string(env.path().join("generated.yml")).expect("written");
    assert!(good.contains("job-s:\n  script:\n  - echo hi\n"), "{good}");
    env.write("bad.yml.tera", "job-{{ stage_name }}:\n  script: [\"{{ nope }}\"]\n");
    let bad = env.run(&[
        "render",
        "diff.txt",
        "bad.yml.tera",
        "stage_name::pipelines",
        "-o",
        "generated.yml",
    ]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        std::fs::read_to_string(env.path().join("generated.yml")).expect("kept"),
        good
    );
    let names: Vec<String> = std::fs::read_dir(env.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".childgen"))
        .collect();
    assert!(names.is_empty(), "temp files left: {names:?}");
}

#[test]
fn a_path_cannot_add_a_job_key_or_script_line() {
    let env = TestEnv::new();
    // A file name full of YAML syntax, git-quoted as git prints it.
    env.write(
        "diff.txt",
        "A\t\"pipelines/p/s/x\\\"\\n  script: [evil]\\nevil-job:\\n  script: [rm -rf /]\\n#.py\"\nM\tpipelines/p/s/plain.py\n",
    );
    env.write(
        "t.yml.tera",
        "list-{{ stage_name }}:\n  variables:\n{% for f in files %}    FILE_{{ loop.index }}: {{ f.path | yaml_quote }}\n{% endfor %}  script: [\"ls\"]\n",
    );
    let out = env
        .run(&["render", "diff.txt", "t.yml.tera", "stage_name::pipelines"])
        .success();
    assert_schema_valid(&out.stdout);
    let doc = parse(&out.stdout);
    assert_eq!(doc.keys().filter_map(|k| k.as_str()).collect::<Vec<_>>(), ["list-s"]);
    let job = doc["list-s"].as_mapping().expect("job");
    assert_eq!(job.len(), 2);
    assert_eq!(
        doc["list-s"]["script"],
        serde_yaml::from_str::<serde_yaml::Value>("[ls]").expect("yaml")
    );
    assert_eq!(
        doc["list-s"]["variables"]["FILE_2"].as_str(),
        Some("pipelines/p/s/x\"\n  script: [evil]\nevil-job:\n  script: [rm -rf /]\n#.py")
    );
}

#[test]
fn nothing_matched_gives_the_no_op_job() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\tREADME.md\nM\tdocs/index.md\n");
    let template = root().join("templates/model-serving.yml.tera").display().to_string();
    let out = env
        .run(&[
            "render",
            "diff.txt",
            &template,
            "pipeline_name:pipelines,stage_name::pipelines",
        ])
        .success();
    assert_schema_valid(&out.stdout);
    snapshot!("no_changes", out);
}

#[test]
fn an_empty_diff_also_gives_the_no_op_job() {
    let env = TestEnv::new().stdin("");
    let template = root().join("templates/model-serving.yml.tera").display().to_string();
    let out = env.run(&["render", "-", &template, "a:pipelines"]).success();
    assert!(parse(&out.stdout).contains_key("no-changes"));
}

#[test]
fn regex_patterns_and_vars() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\tml/pipelines/p1/s1/x.py\n");
    env.write(
        "t.yml.tera",
        "{{ pipeline_name }}-{{ stage_name }}:\n  image: {{ vars.image | yaml_quote }}\n  script: [make]\n",
    );
    let out = env
        .run(&[
            "generate",
            "--diff",
            "diff.txt",
            "--template",
            "t.yml.tera",
            "--regex",
            "pipelines/(?P<pipeline_name>[^/]+)/(?P<stage_name>[^/]+)/",
            "--var",
            "image=python:3.12",
        ])
        .success();
    assert_eq!(
        out.stdout,
        "# Generated by childgen from 1 changed path(s) in 1 group(s). Do not edit: change the templates.\np1-s1:\n  image: python:3.12\n  script:\n  - make\n"
    );
}

#[test]
fn the_config_is_found_upward_but_not_past_the_repository_root() {
    let env = TestEnv::new().cwd("repo/pipelines/p");
    std::fs::create_dir_all(env.path().join("repo/.git")).expect("git dir");
    env.write("repo/pipelines/p/s/a.py", "");
    env.write("repo/diff.txt", "M\tpipelines/p/s/a.py\n");
    env.write("repo/t.yml.tera", "j-{{ stage_name }}:\n  script: [x]\n");
    env.write("childgen.yml", "rules: []\n");
    let none = env.run(&["generate", "--diff", "../../diff.txt"]);
    assert_eq!(none.code, 2, "{}", none.snapshot());
    env.write(
        "repo/childgen.yml",
        "rules:\n  - stop: \"stage_name::pipelines\"\n    template: t.yml.tera\n",
    );
    let found = env.run(&["generate", "--diff", "../../diff.txt"]).success();
    assert_contains(&found.stdout, "j-s:\n");
}

#[test]
fn command_line_rules_keep_the_configs_vars_and_values() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path().join(".git")).expect("repo root");
    env.write(
        "childgen.yml",
        "rules: []\nvars: {greeting: hello}\nvalues: '^[a-z]+$'\n",
    );
    env.write("diff.txt", "M\tpipelines/p/stage/a.py\n");
    env.write(
        "t.yml.tera",
        "j-{{ stage_name }}:\n  script: [\"echo {{ vars.greeting }}\"]\n",
    );
    let out = env
        .run(&["render", "diff.txt", "t.yml.tera", "stage_name::pipelines"])
        .success();
    assert_contains(&out.stdout, "echo hello");
    env.write("diff.txt", "M\tpipelines/p/Stage1/a.py\n");
    let refused = env.run(&["render", "diff.txt", "t.yml.tera", "stage_name::pipelines"]);
    assert_eq!(refused.code, 2);
    assert_contains(&refused.stderr, "does not match the allowed values `^[a-z]+$`");
}
