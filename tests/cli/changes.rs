//! `childgen changes --diff`: every input form, normalised.

use crate::snapshot;
use crate::support::{TestEnv, assert_contains};

#[test]
fn normalises_every_form_and_quotes_like_git() {
    let env = TestEnv::new();
    env.write(
        "mixed.txt",
        "M\tpipelines/p/s/b.yaml\r\nR087\tpipelines/p/s/old.py\tpipelines/p/t/new.py\r\n\r\nA\t\"pipelines/caf\\303\\251/s/x.yaml\"\r\nD\tpipelines/p/s/b.yaml\r\n",
    );
    snapshot!("changes_mixed", env.run(&["changes", "--diff", "mixed.txt"]));
}

#[test]
fn reads_nul_separated_and_name_only_output() {
    let env = TestEnv::new();
    env.write("z.bin", b"M\0with space/a.yaml\0R100\0a\0b\0".as_slice());
    env.write("names.txt", "pipelines/p/s/a.yaml\npipelines/p/s/b.yaml\n");
    env.write("names.z", b"pipelines/p/s/a.yaml\0D\0".as_slice());
    let z = env.run(&["changes", "--diff", "z.bin"]).success();
    assert_eq!(z.stdout, "R100\ta\tb\nM\twith space/a.yaml\n");
    let names = env.run(&["changes", "--diff", "names.txt", "--name-only"]).success();
    assert_eq!(names.stdout, "M\tpipelines/p/s/a.yaml\nM\tpipelines/p/s/b.yaml\n");
    let names = env.run(&["changes", "--diff", "names.z", "--name-only"]).success();
    assert_eq!(names.stdout, "M\tD\nM\tpipelines/p/s/a.yaml\n");
    // Without --name-only a listing must be name-status: no guess, a clear error.
    let unflagged = env.run(&["changes", "--diff", "names.txt"]);
    assert_eq!(unflagged.code, 2, "{}", unflagged.snapshot());
    assert_contains(
        &unflagged.stderr,
        "names.txt: line 1: not a name-status line (a status letter, then a TAB and the path); \
         for a `git diff --name-only` listing pass --name-only",
    );
    let flag_alone = env.run(&["changes", "--name-only"]);
    assert_eq!(flag_alone.code, 2, "{}", flag_alone.snapshot());
    assert_contains(&flag_alone.stderr, "--diff");
}

/// Issue 10: a merge request chooses its file names; a name never fakes a
/// deletion of another path, whatever form the listing takes.
#[test]
fn a_file_name_never_fakes_a_deletion() {
    let env = TestEnv::new();
    let config = crate::support::root().join("fixtures/monorepo/childgen.yml");
    let config = config.to_str().expect("utf-8 path");
    // `git diff --name-only` of an MR that only adds a file whose name reads
    // like a name-status line: a path under a folder `D pipelines`, nothing more.
    env.write("only.txt", "D pipelines/churn/train/modelserving.yaml\n");
    let out = env
        .run(&["generate", "--config", config, "--diff", "only.txt", "--name-only"])
        .success();
    assert_contains(&out.stdout, "no-changes:");
    assert!(
        !out.stdout.contains("churn-train"),
        "nothing of churn/train:\n{}",
        out.stdout
    );
    // Next to a real edit, without --name-only: an error, never a guess.
    env.write(
        "names.txt",
        "D pipelines/churn/train/modelserving.yaml\npipelines/churn/train/src/features.py\n",
    );
    let unflagged = env.run(&["generate", "--config", config, "--diff", "names.txt"]);
    assert_eq!(unflagged.code, 2, "{}", unflagged.snapshot());
    assert!(unflagged.stdout.is_empty());
    // `-z --name-only` output of an MR adding a root file `D` and editing a stage:
    // the fields are not records of name-status, so without --name-only it fails.
    env.write(
        "names.z",
        b"D\0pipelines/churn/train/modelserving.yaml\0pipelines/churn/train/src/features.py\0".as_slice(),
    );
    let out = env
        .run(&["generate", "--config", config, "--diff", "names.z", "--name-only"])
        .success();
    // The edited stage deploys; it is not torn down (its test job exists only then).
    assert_contains(&out.stdout, "test-churn-train:");
    assert_contains(&out.stdout, "deploy-churn-train-dev:");
    let unflagged = env.run(&["generate", "--config", config, "--diff", "names.z"]);
    assert_eq!(unflagged.code, 2, "{}", unflagged.snapshot());
    assert_contains(
        &unflagged.stderr,
        "for `git diff --name-only -z` output pass --name-only",
    );
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    // `childgen changes | head -1`: the reader goes away; childgen exits 0, quietly.
    let env = TestEnv::new();
    let diff: String = (0..20_000)
        .map(|i| format!("M\tpipelines/p/s/file{i:05}.py\n"))
        .collect();
    let path = env.write("big.txt", diff);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_childgen"))
        .args(["changes", "--diff"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
