//! Keeps the README honest: its quickstart command runs, its test command is
//! the one CI runs, and its root `.gitlab-ci.yml` is the shipped one and valid.

use crate::support::{TestEnv, assert_schema_valid, root};

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The fenced blocks of a language, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    text.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_first_screen_has_the_two_commands() {
    let text = readme();
    let commands = blocks(&text, "sh");
    let quickstart = commands[0].trim();
    assert!(
        quickstart.starts_with("cargo run --locked -q -- generate "),
        "{quickstart}"
    );
    assert_eq!(commands[1].trim(), "cargo test --locked");
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains(&format!("\n{}\n", commands[1].trim())),
        ".ci/run must run the README's test command"
    );
    // The quickstart, run with the built binary from the repository root.
    let args: Vec<&str> = quickstart.split_whitespace().skip(5).collect();
    let out = TestEnv::new().cwd_abs(&root()).run(&args).success();
    assert_schema_valid(&out.stdout);
    assert!(out.stdout.contains("deploy-churn-train-dev:"));
}

#[test]
fn the_root_gitlab_ci_in_the_readme_is_the_shipped_one_and_valid() {
    let yaml = blocks(&readme(), "yaml")
        .into_iter()
        .nth(1)
        .expect("the long form, second");
    let shipped = std::fs::read_to_string(root().join("templates/init/gitlab-ci.yml")).expect("shipped");
    assert_eq!(yaml, shipped);
    assert_schema_valid(&yaml);
    assert!(yaml.lines().count() <= 60);
}

#[test]
fn the_readme_shows_the_component_first() {
    let first = blocks(&readme(), "yaml").into_iter().next().expect("a yaml block");
    let include: serde_yaml::Value = serde_yaml::from_str(&first).expect("parses");
    let entry = &include["include"][0];
    let component = entry["component"].as_str().expect("include: component:");
    assert!(component.ends_with("/childgen@1"), "{component}");
    // Every input the README sets is one the component declares.
    let spec = std::fs::read_to_string(root().join("templates/childgen.yml")).expect("component");
    let header: serde_yaml::Value =
        serde_yaml::from_str(spec.split("\n---\n").next().expect("header")).expect("header parses");
    for (name, _) in entry["inputs"].as_mapping().expect("inputs") {
        let name = name.as_str().expect("name");
        assert!(
            !header["spec"]["inputs"][name].is_null(),
            "README sets undeclared input {name}"
        );
    }
}
