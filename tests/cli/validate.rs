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
