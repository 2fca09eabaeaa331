//! Data-driven cases: every folder of `fixtures/cases/` holds `childgen.yml`,
//! `diff.txt`, its templates and `expected.yml`. They run through
//! `childgen test` itself; adding a case needs no Rust. Outside CI,
//! `CHILDGEN_BLESS=1 cargo test` rewrites the expectations (`--bless`).

use crate::support::{TestEnv, assert_schema_valid, root};

#[test]
fn every_fixture_case_renders_its_expected_yaml() {
    let bless = std::env::var_os("CHILDGEN_BLESS").is_some() && std::env::var_os("CI").is_none();
    let mut args = vec!["test", "fixtures/cases"];
    if bless {
        args.push("--bless");
    }
    let out = TestEnv::new().cwd_abs(&root()).run(&args);
    assert_eq!(out.code, 0, "{}", out.snapshot());
    let cases: Vec<_> = std::fs::read_dir(root().join("fixtures/cases"))
        .expect("cases")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(cases.len() >= 7, "{cases:?}");
    assert!(
        out.stdout.ends_with(&format!("{} passed, 0 failed\n", cases.len())),
        "{}",
        out.stdout
    );
    for case in cases {
        let expected = std::fs::read_to_string(case.join("expected.yml")).expect("expected.yml");
        assert_schema_valid(&expected);
    }
}
