//! `TestEnv`: runs the built binary in a temp dir with a clean environment
//! (no inherited `CI_*`/`GITLAB_*`/`CHILDGEN_*`), and checks YAML against
//! GitLab's CI schema.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Repository root (for fixtures and templates).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary working folder and the environment the binary runs with.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
    umask: Option<libc::mode_t>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Exit code, stdout and stderr in one text, for snapshots.
    pub fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Panics with the whole output unless the run succeeded.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "{}", self.snapshot());
        self
    }
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
            stdin: None,
            cwd: None,
            umask: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file below the temp dir, creating folders.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
        path
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs the binary under this umask (the test process's own is untouched).
    pub fn umask(mut self, mask: libc::mode_t) -> Self {
        self.umask = Some(mask);
        self
    }

    /// Runs in `relative` below the temp dir instead of the temp dir itself.
    pub fn cwd(mut self, relative: &str) -> Self {
        self.cwd = Some(self.path().join(relative));
        self
    }

    /// Runs in an absolute folder (the repository, for README commands).
    pub fn cwd_abs(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_owned());
        self
    }

    /// Runs childgen with `args` and collects its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&[], args)
    }

    /// Runs with extra environment variables for this run only.
    pub fn run_with(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_childgen"));
        command
            .args(args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.path()));
        for (key, _) in std::env::vars_os().filter_map(|(k, v)| k.into_string().ok().map(|k| (k, v))) {
            let inherited_ci = key.starts_with("CI_") || key.starts_with("GITLAB_") || key == "CI";
            // GIT_DIR and friends (set in some CI jobs) would point git elsewhere.
            if inherited_ci || key.starts_with("CHILDGEN_") || key.starts_with("GIT_") {
                command.env_remove(&key);
            }
        }
        command.env("NO_COLOR", "1").env("RUST_BACKTRACE", "0");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in vars {
            command.env(key, value);
        }
        command.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(mask) = self.umask {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: umask(2) is async-signal-safe and touches only the child.
            unsafe {
                command.pre_exec(move || {
                    libc::umask(mask);
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().expect("spawn childgen");
        if let Some(input) = &self.stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input)
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        let tmp = self.path().to_string_lossy().into_owned();
        let clean = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).replace(&tmp, "[TMP]");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: clean(out.stdout),
            stderr: clean(out.stderr),
        }
    }
}

/// GitLab's CI schema: `../shared/schemas/gitlab-ci.json` when present (the
/// newest), else the copy childgen embeds (`schemas/`).
fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let shared = root().join("../shared/schemas/gitlab-ci.json");
        let path = if shared.is_file() {
            shared
        } else {
            root().join("schemas/gitlab-ci.json")
        };
        let text = std::fs::read_to_string(&path).expect("schema file");
        let json: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
        jsonschema::validator_for(&json).expect("schema compiles")
    })
}

/// Panics with every schema error unless `yaml` is a valid GitLab CI file.
#[track_caller]
pub fn assert_schema_valid(yaml: &str) {
    let instance: serde_json::Value = serde_yaml::from_str(yaml).expect("generated YAML parses");
    let errors: Vec<String> = schema()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}\n---\n{yaml}", errors.join("\n"));
}

/// Panics, showing the whole text, unless `text` contains `needle`.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
}

/// Insta settings that make snapshots stable.
pub fn insta_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"childgen \d+\.\d+\.\d+", "childgen [VERSION]");
    settings.add_filter(&regex::escape(&root().display().to_string()), "[ROOT]");
    settings
}

/// Snapshots a run's whole output under `name`.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $output:expr) => {
        $crate::support::insta_settings().bind(|| insta::assert_snapshot!($name, $output.snapshot()))
    };
}

/// A git repository built with git2 in a temp dir (never our own history).
pub struct GitRepo {
    pub repo: git2::Repository,
    pub dir: PathBuf,
}

impl GitRepo {
    /// `git init` with `main` as the first branch.
    pub fn init(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("mkdir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = git2::Repository::init_opts(dir, &opts).expect("git init");
        let mut config = repo.config().expect("config");
        config.set_str("user.name", "Test").expect("user.name");
        config.set_str("user.email", "test@example.com").expect("user.email");
        GitRepo {
            repo,
            dir: dir.to_owned(),
        }
    }

    pub fn write(&self, path: &str, content: &str) -> &Self {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        std::fs::remove_file(self.dir.join(path)).expect("remove");
        self
    }

    pub fn rename(&self, from: &str, to: &str) -> &Self {
        let target = self.dir.join(to);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::rename(self.dir.join(from), target).expect("rename");
        self
    }

    /// Stages everything (additions, changes, removals) like `git add -A`.
    pub fn stage_all(&self) {
        let mut index = self.repo.index().expect("index");
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write index");
    }

    /// `git add -A && git commit`, with extra parents for a merge commit.
    pub fn commit_with_parents(&self, message: &str, extra_parents: &[git2::Oid]) -> git2::Oid {
        self.stage_all();
        let mut index = self.repo.index().expect("index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("find tree");
        let sig = git2::Signature::now("Test", "test@example.com").expect("sig");
        let mut parents: Vec<git2::Commit> = match self.repo.head() {
            Ok(head) => vec![head.peel_to_commit().expect("head commit")],
            Err(_) => Vec::new(),
        };
        for oid in extra_parents {
            parents.push(self.repo.find_commit(*oid).expect("parent"));
        }
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
            .expect("commit")
    }

    pub fn commit(&self, message: &str) -> git2::Oid {
        self.commit_with_parents(message, &[])
    }

    /// Creates `name` at `at` and checks it out.
    pub fn branch(&self, name: &str, at: git2::Oid) {
        let commit = self.repo.find_commit(at).expect("commit");
        self.repo.branch(name, &commit, true).expect("branch");
        self.checkout(name);
    }

    pub fn checkout(&self, name: &str) {
        self.repo.set_head(&format!("refs/heads/{name}")).expect("set head");
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force().remove_untracked(true)))
            .expect("checkout");
    }

    pub fn set_ref(&self, name: &str, at: git2::Oid) {
        self.repo.reference(name, at, true, "test").expect("ref");
    }

    pub fn tag(&self, name: &str, at: git2::Oid) {
        let object = self.repo.find_object(at, None).expect("object");
        self.repo.tag_lightweight(name, &object, true).expect("tag");
    }
}

/// A loopback HTTP server that records every request it receives (head and
/// any body bytes already sent) and answers `200 []`: the "other origin" of
/// the redirect tests, which must never be reached.
pub struct CaptureServer {
    pub port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl CaptureServer {
    pub fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the capture server");
        let port = listener.local_addr().expect("capture address").port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
                let mut buffer = [0u8; 8192];
                let n = stream.read(&mut buffer).unwrap_or(0);
                seen.lock()
                    .expect("capture lock")
                    .push(String::from_utf8_lossy(&buffer[..n]).into_owned());
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]");
            }
        });
        CaptureServer { port, requests }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("capture lock").clone()
    }
}

/// A loopback HTTP server whose answers a test writes byte by byte (what
/// mockito cannot express: an endless or stalled body, headers computed from
/// the request). `answer` gets the request line and the connection; every
/// connection runs on its own thread.
pub fn raw_server(answer: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static) -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the raw server");
    let port = listener.local_addr().expect("raw server address").port();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Answers are written in pieces: without this, Nagle's algorithm
            // and delayed ACKs add 40 ms to every response.
            let _ = stream.set_nodelay(true);
            let answer = std::sync::Arc::clone(&answer);
            std::thread::spawn(move || {
                let Ok(clone) = stream.try_clone() else { return };
                let mut reader = BufReader::new(clone);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut header = String::new();
                    while reader.read_line(&mut header).unwrap_or(0) > 2 {
                        header.clear();
                    }
                    answer(request_line.trim_end(), &mut stream);
                }
            });
        }
    });
    port
}
