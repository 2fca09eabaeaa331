//! `childgen changes --diff`: every input form, normalised.

use crate::snapshot;
use crate::support::TestEnv;

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
    let z = env.run(&["changes", "--diff", "z.bin"]).success();
    assert_eq!(z.stdout, "R100\ta\tb\nM\twith space/a.yaml\n");
    let names = env.run(&["changes", "--diff", "names.txt"]).success();
    assert_eq!(names.stdout, "M\tpipelines/p/s/a.yaml\nM\tpipelines/p/s/b.yaml\n");
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
