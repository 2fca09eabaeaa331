//! Data-driven cases: every folder of `fixtures/cases/` holds `childgen.yml`,
//! `diff.txt`, its templates and `expected.yml`. Adding a case needs no Rust.
//! Outside CI, `CHILDGEN_BLESS=1 cargo test` rewrites `expected.yml`.

use crate::support::{TestEnv, assert_schema_valid, root};

#[test]
fn every_fixture_case_renders_its_expected_yaml() {
    let cases_dir = root().join("fixtures/cases");
    let mut cases: Vec<_> = std::fs::read_dir(&cases_dir)
        .expect("fixtures/cases")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "expected the fixture cases, found {cases:?}");
    let bless = std::env::var_os("CHILDGEN_BLESS").is_some() && std::env::var_os("CI").is_none();
    let mut failures = Vec::new();
    for case in &cases {
        let config = case.join("childgen.yml").display().to_string();
        let diff = case.join("diff.txt").display().to_string();
        let out = TestEnv::new().run(&["generate", "--config", &config, "--diff", &diff]);
        let name = case.file_name().expect("name").to_string_lossy().into_owned();
        if out.code != 0 {
            failures.push(format!("{name}: {}", out.snapshot()));
            continue;
        }
        assert_schema_valid(&out.stdout);
        let expected_path = case.join("expected.yml");
        if bless {
            std::fs::write(&expected_path, &out.stdout).expect("bless");
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != out.stdout {
            failures.push(format!(
                "{name}: output differs from expected.yml\n--- got\n{}",
                out.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
