//! Adoption (issue 12): the CI/CD component and the release files are checked
//! like every YAML childgen writes.

use crate::support::{TestEnv, assert_contains, assert_schema_valid, root};
use std::collections::BTreeMap;

/// The component's two documents: the `spec:` header and the jobs.
fn component() -> (serde_yaml::Value, String) {
    let text = std::fs::read_to_string(root().join("templates/childgen.yml")).expect("component");
    let (header, body) = text.split_once("\n---\n").expect("a spec header, then ---");
    (serde_yaml::from_str(header).expect("header parses"), body.to_owned())
}

/// GitLab's `$[[ inputs.NAME ]]` interpolation, for the test: every name must be declared.
fn interpolate(body: &str, inputs: &BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]").expect("regex");
    re.replace_all(body, |c: &regex::Captures| {
        inputs
            .get(&c[1])
            .unwrap_or_else(|| panic!("input {} is not declared", &c[1]))
            .clone()
    })
    .into_owned()
}

fn defaults(header: &serde_yaml::Value) -> BTreeMap<String, String> {
    let inputs = header["spec"]["inputs"]
        .as_mapping()
        .expect("spec: inputs: is a mapping");
    inputs
        .iter()
        .map(|(name, spec)| {
            let name = name.as_str().expect("input name").to_owned();
            let description = spec["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "input {name} has no description");
            let default = spec["default"]
                .as_str()
                .unwrap_or_else(|| panic!("input {name} has no string default"));
            (name, default.to_owned())
        })
        .collect()
}

#[test]
fn the_component_header_declares_the_documented_inputs() {
    let (header, _) = component();
    let keys: Vec<_> = defaults(&header).into_keys().collect();
    assert_eq!(
        keys,
        ["args", "config", "generate_stage", "git_depth", "image", "run_stage"]
    );
    let top: Vec<_> = header
        .as_mapping()
        .expect("mapping")
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    assert_eq!(top, ["spec"], "the header holds only spec:");
}

#[test]
fn the_component_with_defaults_and_with_custom_inputs_is_a_valid_pipeline() {
    let (header, body) = component();
    let mut inputs = defaults(&header);
    for candidate in [inputs.clone(), {
        inputs.insert("generate_stage".into(), "prepare".into());
        inputs.insert("run_stage".into(), "children".into());
        inputs.insert("args".into(), "--var env=prod".into());
        inputs.insert("config".into(), "ci/childgen.yml".into());
        inputs.insert("git_depth".into(), "50".into());
        inputs
    }] {
        let jobs = interpolate(&body, &candidate);
        assert!(!jobs.contains("$[["), "uninterpolated input left:\n{jobs}");
        // The including project declares the stages; add them as it would.
        let pipeline = format!(
            "stages: [{}, {}]\n{jobs}",
            candidate["generate_stage"], candidate["run_stage"]
        );
        assert_schema_valid(&pipeline);
        let env = TestEnv::new();
        env.write("component.yml", &pipeline);
        let out = env.run(&["validate", "component.yml"]).success();
        assert_eq!(out.stdout, "component.yml: valid, 2 job(s)\n");
        assert_contains(&jobs, &format!("--config \"{}\"", candidate["config"]));
        assert_contains(&jobs, &format!("GIT_DEPTH: \"{}\"", candidate["git_depth"]));
    }
}

#[test]
fn the_components_generate_line_runs_against_the_example() {
    // The script line, with the example's config, is a real childgen invocation.
    let (header, body) = component();
    let mut inputs = defaults(&header);
    inputs.insert(
        "config".into(),
        root().join("fixtures/monorepo/childgen.yml").display().to_string(),
    );
    inputs.insert(
        "args".into(),
        format!("--diff {}", root().join("fixtures/monorepo/mr.diff").display()),
    );
    let jobs: serde_yaml::Value = serde_yaml::from_str(&interpolate(&body, &inputs)).expect("jobs parse");
    let line = jobs["childgen-generate"]["script"][0].as_str().expect("script line");
    let env = TestEnv::new();
    let words: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches('"').to_owned())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    env.run(&words).success();
    let generated = std::fs::read_to_string(env.path().join("childgen-generated.yml")).expect("artifact written");
    assert_schema_valid(&generated);
}

#[test]
fn the_release_notes_come_from_a_changelog_section() {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).expect("CHANGELOG.md");
    assert!(
        changelog.contains("\n## [Unreleased]\n"),
        "git-cliff's unreleased section"
    );
    let ci = std::fs::read_to_string(root().join(".gitlab-ci.yml")).expect(".gitlab-ci.yml");
    for needle in [
        "static-x86_64:",
        "static-aarch64:",
        "sha256sum",
        "buildah bud",
        "release:\n",
        "CHANGELOG.md",
    ] {
        assert_contains(&ci, needle);
    }
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    for key in [
        "description",
        "license",
        "repository",
        "readme",
        "keywords",
        "categories",
        "rust-version",
    ] {
        assert!(
            manifest.lines().any(|l| l.starts_with(&format!("{key} = "))),
            "Cargo.toml lacks {key}"
        );
    }
}
