//! The git source against the git CLI (issue 9): for each class of history
//! where childgen once disagreed with `git diff --name-status -M B...H`, a
//! repository built with the git CLI whose history exercises it, and a
//! seeded property test over random renames, edits and type changes. git is
//! the oracle: status letter, score and paths must match line for line. The
//! oracle must be git 2.33 or later (its basename step; Debian bookworm has
//! 2.39).

use crate::support::{TestEnv, assert_contains};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository driven by the git CLI.
struct Oracle {
    env: TestEnv,
    dir: PathBuf,
}

impl Oracle {
    fn new() -> Self {
        let env = TestEnv::new().cwd("repo");
        let dir = env.path().join("repo");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let oracle = Oracle { env, dir };
        oracle.git(&["init", "-q", "-b", "main"]);
        oracle.git(&["config", "user.email", "dev@example.com"]);
        oracle.git(&["config", "user.name", "Dev"]);
        oracle.git(&["config", "commit.gpgsign", "false"]);
        oracle
    }

    /// Runs git in the repository; panics with its stderr on failure.
    fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args)
    }

    fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.join(relative)
    }

    fn write(&self, relative: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, content).expect("write");
        self
    }

    fn remove(&self, relative: impl AsRef<Path>) -> &Self {
        std::fs::remove_file(self.path(relative)).expect("remove");
        self
    }

    fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> &Self {
        let to = self.path(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::rename(self.path(from), to).expect("rename");
        self
    }

    #[cfg(unix)]
    fn symlink(&self, relative: impl AsRef<Path>, target: &str) -> &Self {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, path).expect("symlink");
        self
    }

    /// Stages everything and commits; returns the commit ID.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "--no-verify", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Two commits on `main` from file lists, through `git fast-import` (a
    /// thousand files in milliseconds, where writing them takes seconds on a
    /// slow disk); the working tree is left alone. Returns (base, head).
    fn import(&self, base: &[(String, String)], head: &[(String, String)]) -> (String, String) {
        use std::io::Write as _;
        let mut stream = String::new();
        for (message, files) in [("base", base), ("head", head)] {
            stream.push_str(&format!(
                "commit refs/heads/main\ncommitter Dev <dev@example.com> 1700000000 +0000\ndata {}\n{message}\ndeleteall\n",
                message.len()
            ));
            for (path, content) in files {
                stream.push_str(&format!("M 100644 inline {path}\ndata {}\n{content}\n", content.len()));
            }
        }
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet"])
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("git fast-import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("write stream");
        assert!(child.wait().expect("wait").success(), "git fast-import failed");
        let rev = |name: &str| self.git(&["rev-parse", name]).trim().to_owned();
        (rev("main~1"), rev("main"))
    }

    /// `git diff --name-status -M base...head`.
    fn git_diff(&self, base: &str, head: &str) -> String {
        self.git(&[
            "-c",
            "core.quotePath=true",
            "diff",
            "--no-ext-diff",
            "--name-status",
            "-M",
            &format!("{base}...{head}"),
        ])
    }

    /// Asserts childgen lists exactly what git lists; returns the listing.
    #[track_caller]
    fn assert_parity(&self, base: &str, head: &str) -> String {
        let expected = self.git_diff(base, head);
        let ours = self.env.run(&["changes", "--base", base, "--head", head]).success();
        assert_eq!(ours.stdout, expected, "childgen (left) vs git diff -M (right)");
        expected
    }
}

/// Runs git in `dir`; panics with its stderr on failure.
fn git_in(dir: &Path, args: &[&str]) -> String {
    let mut command = Command::new("git");
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            command.env_remove(&key);
        }
    }
    let out = command.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git quotes paths")
}

/// Numbered lines: files that share no line with each other.
fn lines(tag: &str, count: usize) -> String {
    (0..count).map(|i| format!("{tag} line {i:04} of the file\n")).collect()
}

/// `text` with every `every`-th line replaced.
fn edit(text: &str, every: usize) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if i % every == 0 {
                format!("edited {i}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

fn count(listing: &str, prefix: &str) -> usize {
    listing.lines().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn inexact_renames_match_git_in_both_directions() {
    let repo = Oracle::new();
    let text = lines("model", 40);
    repo.write("src/one.py", &text)
        // 90 % the same, different folder and name.
        .write("src/two.py", lines("two", 40))
        // A pair git scores low: same size, a few lines shared.
        .write("src/low.py", lines("low", 30))
        // Two sources for one destination: git takes the more similar one.
        .write("src/first.txt", lines("shared", 20))
        .write("src/second.txt", edit(&lines("shared", 20), 3))
        // Grown a lot: past the size filter.
        .write("src/small.txt", lines("small", 4))
        // CRLF text (the CR before LF is not counted) and binary (NUL bytes:
        // it is) files, moved and edited.
        .write("src/crlf.txt", lines("crlf", 30).replace('\n', "\r\n"))
        .write("src/blob.bin", binary(0));
    let base = repo.commit("base");
    repo.remove("src/one.py")
        .write("lib/renamed.py", edit(&text, 10))
        .remove("src/two.py")
        .write("lib/two.py", edit(&lines("two", 40), 2))
        .remove("src/low.py")
        .write(
            "lib/low.py",
            edit(&lines("low", 30), 1).replacen("edited 0", "low line 0000 of the file", 1),
        )
        .remove("src/first.txt")
        .remove("src/second.txt")
        .write("lib/merged.txt", edit(&lines("shared", 20), 7))
        .remove("src/small.txt")
        .write("lib/small.txt", lines("small", 40))
        .remove("src/crlf.txt")
        .write("lib/crlf.txt", edit(&lines("crlf", 30), 4).replace('\n', "\r\n"))
        .remove("src/blob.bin")
        .write("lib/blob.bin", binary(7));
    let head = repo.commit("move and edit");
    let listing = repo.assert_parity(&base, &head);
    // The classes are really there: scored renames, an A + D pair git scores
    // too low, and a destination with two candidate sources.
    assert_contains(&listing, "R09");
    assert_contains(&listing, "\tsrc/one.py\tlib/renamed.py\n");
    assert_contains(&listing, "A\tlib/low.py\n");
    assert_contains(&listing, "D\tsrc/low.py\n");
    assert_contains(&listing, "\tsrc/first.txt\tlib/merged.txt\n");
    assert_contains(&listing, "D\tsrc/second.txt\n");
    assert_contains(&listing, "A\tlib/small.txt\n");
    assert_contains(&listing, "\tsrc/crlf.txt\tlib/crlf.txt\n");
    assert_contains(&listing, "\tsrc/blob.bin\tlib/blob.bin\n");
}

/// Bytes with NULs and CRLFs; `edit` changes one 64-byte stretch in eight.
fn binary(edit: u8) -> Vec<u8> {
    (0..4096u32)
        .map(|i| match i % 97 {
            0 => 0,
            1 => b'\r',
            2 => b'\n',
            _ if edit > 0 && (i / 64) % 8 == 0 => u8::try_from(i % 251).expect("byte") ^ edit,
            _ => u8::try_from(i % 251).expect("byte"),
        })
        .collect()
}

#[test]
fn identical_blobs_score_100_and_prefer_the_same_basename() {
    let repo = Oracle::new();
    repo.write("a/config.yml", "same: true\n")
        .write("b/other.yml", "same: true\n")
        .write("c/empty.txt", "")
        .write("d/x.txt", "unique\n");
    let base = repo.commit("base");
    repo.remove("a/config.yml")
        .remove("b/other.yml")
        .write("z/config.yml", "same: true\n")
        .write("z/new.yml", "same: true\n")
        .rename("c/empty.txt", "z/empty.txt")
        .rename("d/x.txt", "z/y.txt");
    let head = repo.commit("moves");
    let listing = repo.assert_parity(&base, &head);
    assert_contains(&listing, "R100\ta/config.yml\tz/config.yml\n");
    assert_contains(&listing, "R100\tb/other.yml\tz/new.yml\n");
    assert_contains(&listing, "R100\tc/empty.txt\tz/empty.txt\n");
}

#[test]
fn exact_renames_are_found_among_over_a_thousand_deletions() {
    let repo = Oracle::new();
    let base: Vec<(String, String)> = (0..1200)
        .map(|i| (format!("old/d{:02}/f{i:04}.txt", i % 40), format!("file {i}\n")))
        .collect();
    let head: Vec<(String, String)> = (0..1200)
        .step_by(120)
        .map(|i| (format!("new/g{i:04}.txt"), format!("file {i}\n")))
        .collect();
    let (base, head) = repo.import(&base, &head);
    let listing = repo.assert_parity(&base, &head);
    assert_eq!(count(&listing, "R100\t"), 10, "{listing}");
    assert_eq!(count(&listing, "D\t"), 1190);
}

#[test]
fn the_rename_limit_applies_after_exact_renames_as_in_git() {
    let repo = Oracle::new();
    let base: Vec<(String, String)> = (0..1100)
        .map(|i| (format!("old/f{i:04}.txt"), lines(&format!("f{i}"), 8)))
        .collect();
    // 1,100 × 1,100 created × deleted, but 1,050 are exact: the 50 edited
    // ones are under the limit and git pairs them inexactly.
    let head: Vec<(String, String)> = (0..1100)
        .map(|i| {
            let text = lines(&format!("f{i}"), 8);
            let text = if i < 50 { edit(&text, 4) } else { text };
            (format!("new/g{i:04}.txt"), text)
        })
        .collect();
    let (base, head) = repo.import(&base, &head);
    let listing = repo.assert_parity(&base, &head);
    assert_eq!(count(&listing, "R"), 1100, "{listing}");
    assert_eq!(count(&listing, "R100\t"), 1050);
}

#[test]
fn past_the_rename_limit_git_still_pairs_exact_and_same_basename_files() {
    let repo = Oracle::new();
    let base: Vec<(String, String)> = (0..1020)
        .map(|i| (format!("old/f{i:04}.txt"), lines(&format!("f{i}"), 8)))
        .collect();
    // 5 exact renames, 5 edited moves that keep their (unique) basename,
    // 1,010 edited moves under new names: after the exact and basename
    // pairs, 1,010 × 1,010 > 1000².
    let head: Vec<(String, String)> = (0..1020)
        .map(|i| {
            let text = lines(&format!("f{i}"), 8);
            let (name, text) = match i {
                0..5 => (format!("g{i:04}.txt"), text),
                5..10 => (format!("f{i:04}.txt"), edit(&text, 4)),
                _ => (format!("g{i:04}.txt"), edit(&text, 4)),
            };
            (format!("new/{name}"), text)
        })
        .collect();
    let (base, head) = repo.import(&base, &head);
    let listing = repo.assert_parity(&base, &head);
    assert_eq!(count(&listing, "R100\t"), 5, "{listing}");
    assert_eq!(count(&listing, "R0"), 5);
    assert_contains(&listing, "\told/f0005.txt\tnew/f0005.txt\n");
    assert_eq!(count(&listing, "A\t"), 1010);
    let out = repo.env.run(&["changes", "--base", &base, "--head", &head]).success();
    assert_contains(&out.stderr, "diff.renameLimit to at least 1010");
    // The repository's own diff.renameLimit counts, as it does for git.
    repo.git(&["config", "diff.renameLimit", "2000"]);
    let unlimited = repo.assert_parity(&base, &head);
    assert_eq!(count(&unlimited, "R"), 1020);
}

#[cfg(unix)]
#[test]
fn type_changes_are_t_and_mode_changes_m() {
    let repo = Oracle::new();
    repo.write("to_link", "content\n")
        .symlink("to_file", "target")
        .write("target", "target\n")
        .write("script.sh", "echo hi\n")
        .symlink("moved_link", "target");
    let base = repo.commit("base");
    repo.symlink("to_link", "target")
        .write("to_file", "now a file\n")
        .rename("moved_link", "links/moved_link");
    std::fs::set_permissions(
        repo.path("script.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let head = repo.commit("types");
    let listing = repo.assert_parity(&base, &head);
    assert_contains(&listing, "T\tto_link\n");
    assert_contains(&listing, "T\tto_file\n");
    assert_contains(&listing, "M\tscript.sh\n");
    assert_contains(&listing, "R100\tmoved_link\tlinks/moved_link\n");
}

#[test]
fn submodule_pointer_moves_are_m_and_all_lists_gitlinks() {
    let repo = Oracle::new();
    let sub = repo.env.path().join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    git_in(&sub, &["init", "-q", "-b", "main"]);
    git_in(
        &sub,
        &[
            "-c",
            "user.email=a@b",
            "-c",
            "user.name=a",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "one",
        ],
    );
    let first = git_in(&sub, &["rev-parse", "HEAD"]).trim().to_owned();
    git_in(
        &sub,
        &[
            "-c",
            "user.email=a@b",
            "-c",
            "user.name=a",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "two",
        ],
    );
    let second = git_in(&sub, &["rev-parse", "HEAD"]).trim().to_owned();
    // Gitlinks straight into the index: no clone needed.
    let gitlink = |commit: &str, path: &str| {
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{commit},{path}"),
        ]);
    };
    repo.write("README.md", "top\n").write("tools/lint", "#!/bin/sh\n");
    repo.git(&["add", "README.md", "tools/lint"]);
    for path in ["vendor/lib", "vendor/gone", "vendor/moving"] {
        gitlink(&first, path);
    }
    repo.git(&["commit", "-q", "-m", "base"]);
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    for path in ["vendor/gone", "vendor/moving", "tools/lint"] {
        repo.git(&["update-index", "--force-remove", path]);
    }
    gitlink(&second, "vendor/lib");
    gitlink(&first, "third_party/moving");
    gitlink(&second, "vendor/new");
    // A file replaced by a submodule: a type change.
    gitlink(&first, "tools/lint");
    repo.git(&["commit", "-q", "-m", "bump"]);
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let listing = repo.assert_parity(&base, &head);
    assert_contains(&listing, "M\tvendor/lib\n");
    assert_contains(&listing, "D\tvendor/gone\n");
    assert_contains(&listing, "A\tvendor/new\n");
    assert_contains(&listing, "R100\tvendor/moving\tthird_party/moving\n");
    assert_contains(&listing, "T\ttools/lint\n");
    let all = repo.env.run(&["changes", "--all"]).success();
    assert_eq!(
        all.stdout,
        "M\tREADME.md\nM\tthird_party/moving\nM\ttools/lint\nM\tvendor/lib\nM\tvendor/new\n"
    );
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_stay_quoted_and_are_rejected_by_values_alone() {
    use std::os::unix::ffi::OsStrExt;
    let name = |bytes: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(bytes));
    let repo = Oracle::new();
    repo.write(name(b"pipelines/p1/caf\xe9.txt"), "latin-1 name\n")
        .write("pipelines/p1/ok.txt", "fine\n")
        .write(
            "childgen.yml",
            "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: templates/t.yml.tera\n",
        )
        .write("templates/t.yml.tera", "j-{{ pipeline_name }}:\n  script: [\"true\"]\n");
    let base = repo.commit("base");
    repo.rename(name(b"pipelines/p1/caf\xe9.txt"), name(b"pipelines/p1/d\xe9j\xe0.txt"))
        .write(name(b"pipelines/p\xe9/x.txt"), "a stage whose name is not UTF-8\n")
        .write("pipelines/p2/y.txt", "ok\n");
    let head = repo.commit("latin-1");
    let listing = repo.assert_parity(&base, &head);
    assert_contains(
        &listing,
        "R100\t\"pipelines/p1/caf\\351.txt\"\t\"pipelines/p1/d\\351j\\340.txt\"\n",
    );
    assert_contains(&listing, "A\t\"pipelines/p\\351/x.txt\"\n");
    // A --diff listing of the same names reads the same way.
    repo.env.write("listing.txt", &listing);
    let from_listing = repo.env.run(&["changes", "--diff", "../listing.txt"]).success();
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&from_listing.stdout), sorted(&listing));
    // --all lists the names as git ls-tree does.
    let all = repo.env.run(&["changes", "--all"]).success();
    let ls_tree = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    let listed: String = all.stdout.lines().map(|l| format!("{}\n", &l[2..])).collect();
    assert_eq!(listed, ls_tree);
    // The stage name taken from the bad path fails the `values` check,
    // naming that path; nothing else fails.
    let refused = repo.env.run(&["generate", "--base", &base, "--head", &head]);
    assert_eq!(refused.code, 2, "{}", refused.snapshot());
    // The message shows git's escape once (`\351`), not escaped again.
    assert_contains(
        &refused.stderr,
        r#"path "pipelines/p\351/x.txt": value "p\351" of variable `pipeline_name` does not match"#,
    );
    // Without that path the run passes, the renamed file counted for p1.
    repo.remove(name(b"pipelines/p\xe9/x.txt"));
    let head = repo.commit("drop the bad stage");
    let out = repo.env.run(&["generate", "--base", &base, "--head", &head]).success();
    assert_contains(&out.stdout, "j-p1:");
    assert_contains(&out.stdout, "j-p2:");
}

#[test]
fn all_with_head_lists_that_revisions_tree_without_base() {
    let repo = Oracle::new();
    repo.write("a.txt", "a\n").write("dir/b.txt", "b\n");
    let first = repo.commit("first");
    repo.remove("a.txt").write("c.txt", "c\n");
    repo.commit("second");
    let out = repo.env.run(&["changes", "--all", "--head", &first]).success();
    assert_eq!(out.stdout, "M\ta.txt\nM\tdir/b.txt\n");
    let now = repo.env.run(&["changes", "--all"]).success();
    assert_eq!(now.stdout, "M\tc.txt\nM\tdir/b.txt\n");
    let head_alone = repo.env.run(&["changes", "--head", &first]);
    assert_eq!(head_alone.code, 2, "{}", head_alone.snapshot());
}

/// A small deterministic generator (64-bit LCG, high bits).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).expect("fits") % n
    }
}

/// Random content from a small vocabulary, so files share lines and
/// similarity scores spread over the whole range.
fn random_text(rng: &mut Rng, lines: usize) -> String {
    const WORDS: [&str; 12] = [
        "alpha", "beta", "gamma", "delta", "stage", "deploy", "model", "serve", "train", "test", "build", "lint",
    ];
    (0..lines)
        .map(|_| format!("{} {} {}\n", WORDS[rng.below(12)], WORDS[rng.below(12)], rng.below(40)))
        .collect()
}

#[cfg(unix)]
#[test]
fn random_histories_match_git() {
    const DIRS: [&str; 4] = ["pipelines/a", "pipelines/b", "lib", "docs/x"];
    let repo = Oracle::new();
    // PARITY_SEED=N PARITY_CASES=M explores further by hand; CI runs the default.
    let number = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(number("PARITY_SEED").unwrap_or(0x5eed_0009));
    let cases = number("PARITY_CASES").unwrap_or(16);
    // Regular files (content can be read and edited), and every path.
    let mut files: Vec<String> = Vec::new();
    let mut links_and_files: Vec<String> = Vec::new();
    let mut seen = String::new();
    for case in 0..cases {
        // A fresh base each case: a mix of text files and a few duplicates.
        repo.git(&["rm", "-rq", "--ignore-unmatch", "."]);
        let _ = std::fs::remove_dir_all(repo.path("pipelines"));
        let _ = std::fs::remove_dir_all(repo.path("lib"));
        let _ = std::fs::remove_dir_all(repo.path("docs"));
        files.clear();
        links_and_files.clear();
        for i in 0..30 {
            // Few names, so some basenames repeat across folders.
            let path = format!(
                "{}/f{}.{}",
                DIRS[rng.below(4)],
                if rng.below(3) == 0 { i % 5 } else { i },
                ["py", "yml", "txt"][rng.below(3)]
            );
            if repo.path(&path).symlink_metadata().is_ok() {
                continue;
            }
            match rng.below(12) {
                // Symlinks, some alike (exact renames need the same mode).
                0 => {
                    repo.symlink(&path, ["../x", "../y"][rng.below(2)]);
                }
                1 => {
                    repo.write(&path, "");
                }
                // A copy of an earlier regular file: several same-blob sources.
                2 | 3 if !files.is_empty() => {
                    let from = &files[rng.below(files.len())];
                    let text = std::fs::read(repo.path(from)).unwrap_or_default();
                    repo.write(&path, text);
                }
                _ => {
                    let n = 3 + rng.below(25);
                    repo.write(&path, random_text(&mut rng, n));
                }
            }
            if !repo.path(&path).symlink_metadata().expect("exists").is_symlink() {
                files.push(path.clone());
            }
            links_and_files.push(path);
        }
        let base = repo.commit(&format!("base {case}"));
        for (i, path) in links_and_files.clone().iter().enumerate() {
            let is_file = files.contains(path);
            let target = format!(
                "{}/{}",
                DIRS[rng.below(4)],
                if rng.below(2) == 0 {
                    path.rsplit('/').next().expect("name").to_owned()
                } else {
                    format!("moved{i}.txt")
                }
            );
            let exists = repo.path(&target).exists();
            match rng.below(10) {
                0 if !exists => {
                    repo.rename(path, &target);
                }
                1 if !exists && is_file => {
                    let text = std::fs::read_to_string(repo.path(path)).expect("read");
                    let every = 2 + rng.below(6);
                    repo.remove(path).write(&target, edit(&text, every));
                }
                2 => {
                    repo.remove(path);
                }
                3 if is_file => {
                    let text = std::fs::read_to_string(repo.path(path)).expect("read");
                    repo.write(path, edit(&text, 3));
                }
                4 if is_file => {
                    repo.symlink(path, "elsewhere");
                }
                6 if is_file => {
                    use std::os::unix::fs::PermissionsExt as _;
                    let mode = std::fs::Permissions::from_mode(0o755);
                    std::fs::set_permissions(repo.path(path), mode).expect("chmod");
                }
                5 if !exists => {
                    let n = 3 + rng.below(25);
                    repo.write(&target, random_text(&mut rng, n));
                }
                _ => {}
            }
        }
        let head = repo.commit(&format!("head {case}"));
        seen.push_str(&repo.assert_parity(&base, &head));
    }
    // The cases really cover every class: exact and scored renames, renames
    // git scores too low (A + D), edits, mode and type changes.
    for prefix in ["R100\t", "R0", "A\t", "D\t", "M\t", "T\t"] {
        assert!(count(&seen, prefix) >= 3, "{prefix}: {seen}");
    }
}

/// Where git stops ("unable to read"), childgen lists the changes without
/// the rename it cannot score, and says so.
#[test]
fn an_unreadable_blob_is_named_not_silently_unpaired() {
    let repo = Oracle::new();
    repo.write("src/model.py", lines("model", 30));
    let base = repo.commit("base");
    repo.remove("src/model.py")
        .write("lib/model2.py", edit(&lines("model", 30), 5));
    let head = repo.commit("move");
    assert_eq!(repo.git_diff(&base, &head), "R080\tsrc/model.py\tlib/model2.py\n");
    let blob = repo.git(&["rev-parse", &format!("{base}:src/model.py")]);
    let blob = blob.trim();
    std::fs::remove_file(repo.path(format!(".git/objects/{}/{}", &blob[..2], &blob[2..]))).expect("rm blob");
    let out = repo.env.run(&["changes", "--base", &base, "--head", &head]).success();
    assert_eq!(out.stdout, "A\tlib/model2.py\nD\tsrc/model.py\n");
    assert_contains(
        &out.stderr,
        "1 file(s) could not be read for rename detection (first: src/model.py; a partial or damaged clone?)",
    );
}

/// Without `--head`, the working tree: what `git diff -M BASE` says for
/// tracked files (renames staged, the moved file edited further on disk and
/// not staged), plus untracked files as `A` (which git diff leaves out).
#[test]
fn the_working_tree_matches_git_diff_against_the_base() {
    let repo = Oracle::new();
    repo.write("src/a.py", lines("a", 30))
        .write("src/b.py", lines("b", 30))
        .write("src/c.py", lines("c", 30));
    let base = repo.commit("base");
    std::fs::create_dir_all(repo.path("lib")).expect("mkdir");
    repo.git(&["mv", "src/a.py", "lib/a.py"]);
    repo.git(&["mv", "src/b.py", "lib/renamed_b.py"]);
    // On disk only: the staged blob is the old one, the working tree's differs.
    repo.write("lib/renamed_b.py", edit(&lines("b", 30), 6))
        .write("src/c.py", edit(&lines("c", 30), 2));
    let git_says = repo.git(&["diff", "--no-ext-diff", "--name-status", "-M", &base]);
    assert_eq!(
        git_says,
        "R100\tsrc/a.py\tlib/a.py\nR083\tsrc/b.py\tlib/renamed_b.py\nM\tsrc/c.py\n"
    );
    let ours = repo.env.run(&["changes", "--base", &base]).success();
    assert_eq!(ours.stdout, git_says);
    repo.write("notes/untracked.txt", "new\n");
    let with_untracked = repo.env.run(&["changes", "--base", &base]).success();
    assert_eq!(
        with_untracked.stdout,
        git_says.replace("M\tsrc/c.py", "A\tnotes/untracked.txt\nM\tsrc/c.py")
    );
}
