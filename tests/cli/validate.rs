//! `childgen validate FILE`.

use crate::snapshot;
use crate::support::TestEnv;

#[test]
fn a_valid_file() {
    let env = TestEnv::new();
    env.write("ok.yml", "stages: [build]\nb:\n  stage: build\n  script: [make]\n");
    let out = env.run(&["validate", "ok.yml"]).success();
    assert_eq!(out.stdout, "ok.yml: valid, 1 job(s)\n");
}

#[test]
fn every_problem_is_listed_with_exit_2() {
    let env = TestEnv::new();
    env.write(
        "bad.yml",
        "stages: [build]\nb:\n  stage: deploy\n  script: [make]\nc:\n  needs: [missing]\n  stage: build\n",
    );
    snapshot!("validate_problems", env.run(&["validate", "bad.yml"]));
}

#[test]
fn unparsable_yaml_names_the_line() {
    let env = TestEnv::new();
    env.write("broken.yml", "a:\n  script: [x\nb: 1\n");
    snapshot!("validate_unparsable", env.run(&["validate", "broken.yml"]));
}

#[test]
fn the_projects_own_ci_file_is_valid() {
    let path = crate::support::root().join(".gitlab-ci.yml");
    let text = std::fs::read_to_string(&path).expect(".gitlab-ci.yml");
    crate::support::assert_schema_valid(&text);
    let out = TestEnv::new().run(&["validate", &path.display().to_string()]).success();
    assert!(out.stdout.ends_with("valid, 11 job(s)\n"), "{}", out.stdout);
}

/// What GitLab's own schema rejects fails `validate` and `generate` alike,
/// naming the job and the key, and nothing is written.
#[test]
fn gitlab_schema_errors_name_the_job_and_key() {
    let env = TestEnv::new();
    env.write(
        "typo.yml",
        "stages: [build]\nb:\n  stage: build\n  script: [make]\n  artifcats: {paths: [dist]}\n",
    );
    env.write(
        "when.yml",
        "stages: [build]\nb:\n  stage: build\n  script: [make]\n  when: sometimes\n",
    );
    let out = env.run(&["validate", "typo.yml"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    crate::support::assert_contains(
        &out.stderr,
        "typo.yml is not a valid child pipeline:\n  - job `b`: unknown key `artifcats` (GitLab would reject it; check the spelling) (GitLab's CI schema)",
    );
    let out = env.run(&["validate", "when.yml"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    crate::support::assert_contains(
        &out.stderr,
        "job `b`: `when`: \"sometimes\" is not one of \"on_success\"",
    );

    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n",
    );
    env.write(
        "t.yml.tera",
        "build-{{ pipeline_name }}:\n  script: [make]\n  when: sometimes\n",
    );
    env.write("mr.diff", "M\tpipelines/p1/a.py\n");
    let out = env.run(&["generate", "--diff", "mr.diff", "--output", "child.yml"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    crate::support::assert_contains(
        &out.stderr,
        "the generated pipeline is not a valid child pipeline:\n  - job `build-p1`: `when`: \"sometimes\" is not one of",
    );
    assert!(!env.path().join("child.yml").exists());
}
