//! `--output`: only regular files, atomically, with the permissions a user
//! expects (issue 10 item 7, issue 12).

use crate::support::{TestEnv, assert_contains, root};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

const DIFF: &str = "M\tpipelines/churn/train/modelserving.yaml\n";

fn generate(env: &TestEnv, output: &str) -> crate::support::Output {
    let config = root().join("fixtures/monorepo/childgen.yml");
    env.run(&[
        "generate",
        "--config",
        config.to_str().expect("utf-8"),
        "--diff",
        "mr.diff",
        "--output",
        output,
    ])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.write("mr.diff", DIFF);
    env
}

#[test]
fn a_new_file_honours_the_umask() {
    for (umask, expected) in [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)] {
        let env = setup().umask(umask);
        generate(&env, "generated.yml").success();
        let path = env.path().join("generated.yml");
        assert_eq!(mode(&path), expected, "umask {umask:o}");
        assert_contains(&std::fs::read_to_string(&path).expect("read"), "test-churn-train:");
    }
}

#[test]
fn an_existing_file_keeps_its_mode() {
    let env = setup().umask(0o022);
    let path = env.write("generated.yml", "old: content\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    generate(&env, "generated.yml").success();
    assert_eq!(mode(&path), 0o640);
    assert_contains(&std::fs::read_to_string(&path).expect("read"), "test-churn-train:");
}

#[test]
fn a_symlink_is_refused_and_its_target_untouched() {
    let env = setup();
    let target = env.write("precious.txt", "keep me\n");
    std::os::unix::fs::symlink(&target, env.path().join("link.yml")).expect("symlink");
    let out = generate(&env, "link.yml");
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_eq!(
        out.stderr,
        "error: refusing to write link.yml: it is a symbolic link; give the path of the file itself \
         (childgen does not write through links)\n"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me\n");
    let link = std::fs::symlink_metadata(env.path().join("link.yml")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link itself is untouched too");
}

#[test]
fn devices_fifos_and_folders_are_refused() {
    let env = setup();
    let fifo = env.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("c path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    std::fs::create_dir(env.path().join("folder")).expect("mkdir");
    for (target, reason) in [
        ("/dev/null", "it is not a regular file (a device, FIFO or socket)"),
        ("fifo", "it is not a regular file (a device, FIFO or socket)"),
        ("folder", "it is a folder; give a file path"),
    ] {
        // A FIFO opened for writing would block forever: refusing must not open it.
        let out = generate(&env, target);
        assert_eq!(out.code, 2, "{target}: {}", out.snapshot());
        assert_contains(&out.stderr, &format!("error: refusing to write {target}: {reason}"));
    }
    let fifo_kind = std::fs::symlink_metadata(&fifo).expect("lstat").file_type();
    assert!(!fifo_kind.is_file(), "the FIFO is still a FIFO");
    assert_eq!(leftovers(env.path()), Vec::<String>::new());
}

#[test]
fn dash_is_stdout() {
    let env = setup();
    let out = generate(&env, "-").success();
    assert_contains(&out.stdout, "test-churn-train:");
    let out = generate(&env, "/dev/stdout").success();
    assert_contains(&out.stdout, "test-churn-train:");
    assert!(!env.path().join("-").exists());
}

#[test]
fn a_failed_run_keeps_the_previous_file() {
    let env = setup();
    let path = env.write("generated.yml", "previous: good\n");
    env.write("mr.diff", "Q\tnot-a-status\n");
    let out = generate(&env, "generated.yml");
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "previous: good\n");
    assert_eq!(leftovers(env.path()), Vec::<String>::new());
}

/// Temporary files childgen left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".childgen-"))
        .collect()
}

/// The fourth red-team pass: plain scalars that GitLab's YAML 1.1 reader
/// (Psych) reads as something other than the string childgen meant. A date
/// is refused by GitLab (`Psych::DisallowedClass`), `:deploy-p1` is a Symbol
/// that replaces the job `deploy-p1`, `0,1` is the integer 1; a path with a
/// line break in a job name used to leave its whole entry unquoted.
#[test]
fn what_gitlabs_yaml_reader_would_misread_is_quoted() {
    let env = TestEnv::new();
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n",
    );
    env.write(
        "t.yml.tera",
        "{%- for f in files %}\n{{ f.path | split(pat=\"/\") | last | yaml_quote }}:\n  variables:\n    CUDA_VISIBLE_DEVICES: \"0,1\"\n    PUSH_IMAGE: \"nO\"\n    PIP_NO_CACHE_DIR: \"off\"\n    FOLDED: \"oﬀ\"\n    NAME: {{ pipeline_name }}\n  cache: {key: \"no\"}\n  script: [\"echo lint only\"]\n{%- endfor %}\ndeploy-{{ pipeline_name }}:\n  script: [\"mlctl deploy\"]\n",
    );
    let out = env
        .stdin("A\tpipelines/2024-01-15/:deploy-2024-01-15\nA\t\"pipelines/2024-01-15/y\\nno\"\n")
        .run(&["generate", "--diff", "-"]);
    assert_eq!(out.code, 0, "{}", out.snapshot());
    crate::support::assert_schema_valid(&out.stdout);
    for quoted in [
        "':deploy-2024-01-15':\n",
        "deploy-2024-01-15:\n",
        "? |-\n  y\n  no\n",
        "NAME: '2024-01-15'\n",
    ] {
        assert_contains(&out.stdout, quoted);
    }
    for (quoted, times) in [
        ("CUDA_VISIBLE_DEVICES: '0,1'\n", 2),
        ("PUSH_IMAGE: 'nO'\n", 2),
        ("PIP_NO_CACHE_DIR: 'off'\n", 2),
        ("key: 'no'\n", 2),
        // Psych folds case the Unicode way: `oﬀ` is `false` to it.
        ("FOLDED: 'oﬀ'\n", 2),
    ] {
        assert_eq!(out.stdout.matches(quoted).count(), times, "{quoted}\n{}", out.stdout);
    }
}
