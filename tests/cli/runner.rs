//! Clones made exactly as GitLab Runner makes them (issue 8): an origin
//! repository with merge-commit, squash and fast-forward merge requests,
//! direct pushes, lightweight and annotated tags, an open merge request, a
//! brand-new branch and `refs/pipelines/<id>`; cloned over `file://` with the
//! runner's refspecs at `GIT_DEPTH` 0, 20 and 1; `childgen generate` run with
//! the variables GitLab sets, against a loopback GitLab that answers, refuses
//! (401, 403), does not know the project (404) or is not there. The matrix is
//! in docs/runner-matrix.md.

use crate::support::{Output, TestEnv, assert_contains};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const TOKEN: &str = "glpat-RUNNER-secret-never-printed";
const JOB_TOKEN: &str = "glcbt-JOB-secret-never-printed";
const PROJECT: &str = "/api/v4/projects/42";
const ZERO: &str = "0000000000000000000000000000000000000000";
const DEPTHS: [u32; 3] = [0, 20, 1];

/// The origin repository, built once per test binary.
struct Origin {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// Commit SHAs by fixture name (`m1`, `merge`, `squash`, ...).
    sha: BTreeMap<String, String>,
}

impl Origin {
    fn sha(&self, name: &str) -> String {
        self.sha.get(name).unwrap_or_else(|| panic!("no commit {name}")).clone()
    }

    fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

/// The git CLI without inherited `GIT_*` variables, quiet about branch names.
fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"]);
    command
}

#[track_caller]
fn run_git(dir: &Path, args: &[&str]) {
    let out = git(dir).args(args).output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `git fast-import` stream: the whole origin in one process.
struct Stream {
    text: String,
    mark: u32,
    time: u64,
    names: Vec<(String, u32)>,
}

/// A file operation of a commit.
enum Op<'a> {
    Write(&'a str, &'a str),
    Delete(&'a str),
}

impl Stream {
    fn data(&mut self, content: &str) {
        self.text.push_str(&format!("data {}\n{content}\n", content.len()));
    }

    /// A commit on `branch` (after `from`, merging `merge`); returns its mark.
    fn commit(&mut self, name: &str, branch: &str, from: Option<u32>, merge: Option<u32>, ops: &[Op]) -> u32 {
        self.mark += 1;
        self.time += 60;
        let mark = self.mark;
        self.text.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter Dev <dev@example.com> {} +0000\n",
            self.time
        ));
        self.data(name);
        if let Some(from) = from {
            self.text.push_str(&format!("from :{from}\n"));
        }
        if let Some(merge) = merge {
            self.text.push_str(&format!("merge :{merge}\n"));
        }
        for op in ops {
            match op {
                Op::Write(path, content) => {
                    self.text.push_str(&format!("M 100644 inline {path}\n"));
                    self.data(content);
                }
                Op::Delete(path) => self.text.push_str(&format!("D {path}\n")),
            }
        }
        self.text.push('\n');
        self.names.push((name.to_owned(), mark));
        mark
    }

    fn reference(&mut self, name: &str, mark: u32) {
        self.text.push_str(&format!("reset {name}\nfrom :{mark}\n\n"));
    }

    fn annotated_tag(&mut self, name: &str, mark: u32) {
        self.time += 1;
        self.text.push_str(&format!(
            "tag {name}\nfrom :{mark}\ntagger Dev <dev@example.com> {} +0000\n",
            self.time
        ));
        self.data(&format!("release {name}"));
    }
}

const CONFIG: &str =
    "rules:\n  - stop: \"pipeline_name:pipelines,stage_name::pipelines\"\n    template: ci/stage.yml.tera\n";
const TEMPLATE: &str =
    "stages: [test]\ntest-{{ pipeline_name }}-{{ stage_name }}:\n  stage: test\n  script: [make test]\n";

/// Pipeline IDs (`refs/pipelines/<id>`) of the fixture's pipelines.
const PIPELINES: [(&str, u32); 12] = [
    ("merge", 101),
    ("squash", 102),
    ("ff_b", 103),
    ("push_b", 104),
    ("m1", 105),
    ("f24", 106),
    ("g22", 107),
    ("open_b", 108),
    ("merge_ref", 109),
    ("new_a", 111),
    ("open_branch", 112),
    ("merge_ref_train", 110),
];

fn origin() -> &'static Origin {
    static ORIGIN: OnceLock<Origin> = OnceLock::new();
    ORIGIN.get_or_init(build_origin)
}

/// The history (first parent on `main`, oldest first):
/// - `m1`: root, five groups p1..p5 stage s1; lightweight tag `v0.9`.
/// - `f1`..`f24`: fillers on docs/notes.md (`f12` edits p3/s1); lightweight `v1.0` on `f24`.
/// - `d1`: a direct push (p3/s1), then `merge`: merge request !1 (p1/s1 edit,
///   p2/s2 new) as a merge commit whose first parent is `d1`.
/// - `squash`: merge request !2 squashed (p4/s1 edit, p5/s1 deleted); its
///   three commits only under refs/merge-requests/2/head.
/// - `ff_a`, `ff_b`: merge request !3 fast-forwarded (p2/s1 → p2/s3 rename, p1/s2 new).
/// - `push_a`, `push_b`: two commits pushed at once (p3/s1 edit, p5/s2 new).
/// - `g1`..`g22`: fillers; annotated `v2.0` on `g22` (main's tip).
/// - Open merge request !4 (`open_a`, `open_b`: p4/s2) from `merge`; its merge
///   ref `merge_ref` merges it into `g22`. Brand-new branch `feat-new` (`new_a`: p5/s3).
fn build_origin() -> Origin {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("origin.git");
    std::fs::create_dir_all(&path).expect("mkdir");
    run_git(&path, &["init", "--quiet", "--bare"]);
    let mut s = Stream {
        text: String::new(),
        mark: 0,
        time: 1_700_000_000,
        names: Vec::new(),
    };
    let m1 = s.commit(
        "m1",
        "main",
        None,
        None,
        &[
            Op::Write("README.md", "monorepo\n"),
            Op::Write("childgen.yml", CONFIG),
            Op::Write("ci/stage.yml.tera", TEMPLATE),
            Op::Write("pipelines/p1/s1/a.py", "a = 1\n"),
            Op::Write("pipelines/p2/s1/b.py", "b = 1\nshared = True\n"),
            Op::Write("pipelines/p3/s1/c.py", "c = 1\n"),
            Op::Write("pipelines/p4/s1/d.py", "d = 1\n"),
            Op::Write("pipelines/p5/s1/e.py", "e = 1\n"),
        ],
    );
    s.reference("refs/tags/v0.9", m1);
    let mut tip = m1;
    for i in 1..=24 {
        let note = format!("note {i}\n");
        let c12 = "c = 12\n";
        let ops: Vec<Op> = if i == 12 {
            vec![Op::Write("pipelines/p3/s1/c.py", c12)]
        } else {
            vec![Op::Write("docs/notes.md", &note)]
        };
        tip = s.commit(&format!("f{i}"), "main", Some(tip), None, &ops);
    }
    let f24 = tip;
    s.reference("refs/tags/v1.0", f24);
    let mr1_first = s.commit(
        "mr1_first",
        "feat-merge",
        Some(f24),
        None,
        &[Op::Write("pipelines/p1/s1/a.py", "a = 2\n")],
    );
    let mr1_head = s.commit(
        "mr1_head",
        "feat-merge",
        Some(mr1_first),
        None,
        &[Op::Write("pipelines/p2/s2/new.py", "new = 1\n")],
    );
    let d1 = s.commit(
        "d1",
        "main",
        Some(f24),
        None,
        &[Op::Write("pipelines/p3/s1/c.py", "c = 3\n")],
    );
    let merge = s.commit(
        "merge",
        "main",
        Some(d1),
        Some(mr1_head),
        &[
            Op::Write("pipelines/p1/s1/a.py", "a = 2\n"),
            Op::Write("pipelines/p2/s2/new.py", "new = 1\n"),
        ],
    );
    s.reference("refs/merge-requests/1/head", mr1_head);
    let sq_a = s.commit(
        "sq_a",
        "feat-squash",
        Some(merge),
        None,
        &[Op::Write("pipelines/p4/s1/d.py", "d = 2\n")],
    );
    let sq_b = s.commit(
        "sq_b",
        "feat-squash",
        Some(sq_a),
        None,
        &[Op::Delete("pipelines/p5/s1/e.py")],
    );
    let sq_c = s.commit(
        "sq_c",
        "feat-squash",
        Some(sq_b),
        None,
        &[Op::Write("pipelines/p4/s1/d.py", "d = 3\n")],
    );
    s.reference("refs/merge-requests/2/head", sq_c);
    let squash = s.commit(
        "squash",
        "main",
        Some(merge),
        None,
        &[
            Op::Write("pipelines/p4/s1/d.py", "d = 3\n"),
            Op::Delete("pipelines/p5/s1/e.py"),
        ],
    );
    let ff_a = s.commit(
        "ff_a",
        "main",
        Some(squash),
        None,
        &[
            Op::Delete("pipelines/p2/s1/b.py"),
            Op::Write("pipelines/p2/s3/b.py", "b = 1\nshared = True\n"),
        ],
    );
    let ff_b = s.commit(
        "ff_b",
        "main",
        Some(ff_a),
        None,
        &[Op::Write("pipelines/p1/s2/x.py", "x = 1\n")],
    );
    s.reference("refs/merge-requests/3/head", ff_b);
    let push_a = s.commit(
        "push_a",
        "main",
        Some(ff_b),
        None,
        &[Op::Write("pipelines/p3/s1/c.py", "c = 4\n")],
    );
    let mut tip = s.commit(
        "push_b",
        "main",
        Some(push_a),
        None,
        &[Op::Write("pipelines/p5/s2/f.py", "f = 1\n")],
    );
    for i in 1..=22 {
        let note = format!("later note {i}\n");
        tip = s.commit(
            &format!("g{i}"),
            "main",
            Some(tip),
            None,
            &[Op::Write("docs/notes.md", &note)],
        );
    }
    let g22 = tip;
    s.annotated_tag("v2.0", g22);
    let open_a = s.commit(
        "open_a",
        "feat-open",
        Some(merge),
        None,
        &[Op::Write("pipelines/p4/s2/g.py", "g = 1\n")],
    );
    let open_b = s.commit(
        "open_b",
        "feat-open",
        Some(open_a),
        None,
        &[Op::Write("pipelines/p4/s2/g.py", "g = 2\n")],
    );
    s.reference("refs/merge-requests/4/head", open_b);
    let merge_ref = s.commit(
        "merge_ref",
        "tmp-merge-ref",
        Some(g22),
        Some(open_b),
        &[Op::Write("pipelines/p4/s2/g.py", "g = 2\n")],
    );
    s.reference("refs/merge-requests/4/merge", merge_ref);
    let new_a = s.commit(
        "new_a",
        "feat-new",
        Some(g22),
        None,
        &[Op::Write("pipelines/p5/s3/h.py", "h = 1\n")],
    );
    let marks: BTreeMap<String, u32> = s.names.iter().cloned().collect();
    for (name, id) in PIPELINES {
        let mark = match name {
            "open_branch" => open_b,
            "merge_ref_train" => merge_ref,
            other => marks[other],
        };
        s.reference(&format!("refs/pipelines/{id}"), mark);
    }
    let _ = new_a;
    let marks_file = dir.path().join("marks");
    let mut child = git(&path)
        .args(["fast-import", "--quiet"])
        .arg(format!("--export-marks={}", marks_file.display()))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.text.as_bytes())
            .expect("stream");
    }
    assert!(child.wait().expect("fast-import").success());
    run_git(&path, &["branch", "-D", "tmp-merge-ref", "feat-merge", "feat-squash"]);
    let by_mark: BTreeMap<u32, String> = std::fs::read_to_string(&marks_file)
        .expect("marks")
        .lines()
        .filter_map(|l| {
            let (mark, sha) = l.split_once(' ')?;
            Some((mark.trim_start_matches(':').parse().ok()?, sha.to_owned()))
        })
        .collect();
    let sha = s
        .names
        .iter()
        .map(|(name, mark)| (name.clone(), by_mark[mark].clone()))
        .collect();
    Origin { _dir: dir, path, sha }
}

/// What the runner fetches for a pipeline.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Branch(&'static str),
    Tag(&'static str),
    MergeRequest,
}

/// A runner's clone for `pipeline` at `depth`, copied from one made once
/// per test binary (childgen may fetch into it, so each run gets its own).
fn clone(into: &Path, pipeline: u32, kind: Kind, depth: u32, sha: &str) {
    type Clones = std::sync::Mutex<BTreeMap<(u32, u32, String), std::sync::Arc<OnceLock<PathBuf>>>>;
    static CLONES: OnceLock<(tempfile::TempDir, Clones)> = OnceLock::new();
    let (root, clones) = CLONES.get_or_init(|| (tempfile::tempdir().expect("temp dir"), Clones::default()));
    let slot = clones
        .lock()
        .expect("lock")
        .entry((pipeline, depth, format!("{kind:?}")))
        .or_default()
        .clone();
    let made = slot.get_or_init(|| {
        let dir = root.path().join(format!("{pipeline}-{depth}-{}", clones_made()));
        runner_clone(&dir, pipeline, kind, depth, sha);
        dir
    });
    copy_dir(made, into);
}

fn clones_made() -> usize {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `git init; git remote add; git fetch <refspecs> --prune --quiet [--depth N]; git checkout -f -q SHA`.
fn runner_clone(into: &Path, pipeline: u32, kind: Kind, depth: u32, sha: &str) {
    std::fs::create_dir_all(into).expect("mkdir");
    let o = origin();
    run_git(into, &["init", "--quiet"]);
    run_git(into, &["remote", "add", "origin", &o.url()]);
    let mut refspecs = vec![format!("+refs/pipelines/{pipeline}:refs/pipelines/{pipeline}")];
    if depth == 0 {
        refspecs.push("+refs/heads/*:refs/remotes/origin/*".to_owned());
        refspecs.push("+refs/tags/*:refs/tags/*".to_owned());
    } else {
        match kind {
            Kind::Branch(branch) => refspecs.push(format!("+refs/heads/{branch}:refs/remotes/origin/{branch}")),
            Kind::Tag(tag) => refspecs.push(format!("+refs/tags/{tag}:refs/tags/{tag}")),
            Kind::MergeRequest => {}
        }
    }
    let mut args = vec!["fetch", "origin"];
    args.extend(refspecs.iter().map(String::as_str));
    args.extend(["--prune", "--quiet"]);
    let depth_arg = depth.to_string();
    if depth > 0 {
        args.extend(["--depth", &depth_arg]);
    }
    run_git(into, &args);
    run_git(into, &["checkout", "-f", "-q", sha]);
}

/// How the loopback GitLab answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// Every endpoint answers (a project access token in `CHILDGEN_GITLAB_TOKEN`).
    Answers,
    /// 401 everywhere (an expired token).
    Unauthorized,
    /// The job token: 403 on the merge request endpoints.
    Forbidden,
    /// The job token: the merge request is found, its /diffs refused (403).
    DiffsForbidden,
    /// 404 everywhere (a private project, no token).
    NotFound,
    /// Nothing listens (connection refused).
    Unreachable,
}

const APIS: [Api; 6] = [
    Api::Answers,
    Api::Unauthorized,
    Api::Forbidden,
    Api::DiffsForbidden,
    Api::NotFound,
    Api::Unreachable,
];

impl Api {
    fn token(self) -> Option<(&'static str, &'static str)> {
        match self {
            Api::Answers | Api::Unauthorized => Some(("CHILDGEN_GITLAB_TOKEN", TOKEN)),
            Api::Forbidden | Api::DiffsForbidden | Api::Unreachable => Some(("CI_JOB_TOKEN", JOB_TOKEN)),
            Api::NotFound => None,
        }
    }
}

fn file_diff(old: &str, new: &str, kind: char) -> serde_json::Value {
    json!({
        "old_path": old, "new_path": new, "a_mode": "100644", "b_mode": "100644", "diff": "",
        "new_file": kind == 'A', "renamed_file": kind == 'R', "deleted_file": kind == 'D', "generated_file": false
    })
}

/// A merged merge request as GitLab returns it.
fn merged_mr(
    iid: u64,
    merge: Option<&str>,
    squash: Option<&str>,
    head: &str,
    base: &str,
    count: usize,
) -> serde_json::Value {
    json!({
        "id": 5000 + iid, "iid": iid, "project_id": 42, "title": format!("MR {iid}"),
        "state": "merged", "target_branch": "main", "source_branch": format!("feature-{iid}"),
        "sha": head, "merge_commit_sha": merge, "squash_commit_sha": squash, "squash": squash.is_some(),
        "changes_count": count.to_string(),
        "diff_refs": {"base_sha": base, "head_sha": head, "start_sha": base},
    })
}

/// A loopback GitLab for `api` with the fixture's merged merge requests.
fn gitlab(api: Api) -> Option<ServerGuard> {
    if api == Api::Unreachable {
        return None;
    }
    let o = origin();
    let mut server = Server::new();
    let status = match api {
        Api::Unauthorized => Some(401),
        Api::Forbidden => Some(403),
        Api::NotFound => Some(404),
        _ => None,
    };
    if let Some(status) = status {
        let message = match status {
            401 => "401 Unauthorized",
            403 => "403 Forbidden",
            _ => "404 Project Not Found",
        };
        server
            .mock("GET", Matcher::Regex(format!("^{PROJECT}/")))
            .with_status(status)
            .with_header("content-type", "application/json")
            .with_body(json!({ "message": message }).to_string())
            .create();
        return Some(server);
    }
    let merge_requests = [
        (
            "merge",
            merged_mr(1, Some(&o.sha("merge")), None, &o.sha("mr1_head"), &o.sha("f24"), 2),
            json!([
                file_diff("pipelines/p1/s1/a.py", "pipelines/p1/s1/a.py", 'M'),
                file_diff("pipelines/p2/s2/new.py", "pipelines/p2/s2/new.py", 'A'),
            ]),
        ),
        (
            "squash",
            merged_mr(2, None, Some(&o.sha("squash")), &o.sha("sq_c"), &o.sha("merge"), 2),
            json!([
                file_diff("pipelines/p4/s1/d.py", "pipelines/p4/s1/d.py", 'M'),
                file_diff("pipelines/p5/s1/e.py", "pipelines/p5/s1/e.py", 'D'),
            ]),
        ),
        (
            "ff_b",
            merged_mr(3, None, None, &o.sha("ff_b"), &o.sha("squash"), 2),
            json!([
                file_diff("pipelines/p2/s1/b.py", "pipelines/p2/s3/b.py", 'R'),
                file_diff("pipelines/p1/s2/x.py", "pipelines/p1/s2/x.py", 'A'),
            ]),
        ),
    ];
    for (commit, mr, diffs) in merge_requests {
        let iid = mr["iid"].as_u64().unwrap_or_default();
        server
            .mock(
                "GET",
                format!("{PROJECT}/repository/commits/{}/merge_requests", o.sha(commit)).as_str(),
            )
            .with_header("content-type", "application/json")
            .with_body(json!([mr]).to_string())
            .create();
        server
            .mock("GET", format!("{PROJECT}/merge_requests/{iid}").as_str())
            .with_header("content-type", "application/json")
            .with_body(mr.to_string())
            .create();
        let diffs_mock = server
            .mock("GET", format!("{PROJECT}/merge_requests/{iid}/diffs").as_str())
            .match_query(Matcher::Any);
        if api == Api::DiffsForbidden {
            diffs_mock
                .with_status(403)
                .with_body(json!({"message": "403 Forbidden"}).to_string())
                .create();
        } else {
            diffs_mock
                .with_header("x-total-pages", "1")
                .with_header("content-type", "application/json")
                .with_body(diffs.to_string())
                .create();
        }
    }
    // The direct push: no merge request.
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{}/merge_requests", o.sha("push_b")).as_str(),
        )
        .with_header("content-type", "application/json")
        .with_body("[]")
        .create();
    Some(server)
}

/// The API base URL for `server`, or a loopback port nothing listens on.
fn api_url(server: Option<&ServerGuard>) -> String {
    if let Some(server) = server {
        return format!("{}/api/v4", server.url());
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    format!("http://127.0.0.1:{port}/api/v4")
}

/// One job: a clone for `pipeline` at `depth`, then `childgen ARGS` with `vars`.
struct Job<'a> {
    name: &'a str,
    kind: Kind,
    depth: u32,
    sha: String,
    vars: Vec<(&'static str, String)>,
    args: &'a [&'a str],
}

impl Job<'_> {
    fn run(&self, api_url: &str, token: Option<(&str, &str)>) -> Output {
        self.run_in(api_url, token, |_| {})
    }

    /// [`Job::run`], with `prepare` called on the clone before childgen runs.
    fn run_in(&self, api_url: &str, token: Option<(&str, &str)>, prepare: impl Fn(&Path)) -> Output {
        let pipeline = PIPELINES
            .iter()
            .find(|(n, _)| *n == self.name)
            .map_or_else(|| panic!("pipeline {}", self.name), |(_, id)| *id);
        let env = TestEnv::new();
        let dir = env.path().join("build");
        clone(&dir, pipeline, self.kind, self.depth, &self.sha);
        prepare(&dir);
        let env = env.cwd_abs(&dir);
        let pipeline_id = pipeline.to_string();
        let mut vars: Vec<(&str, &str)> = vec![
            ("CI", "true"),
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", &pipeline_id),
            ("CI_COMMIT_SHA", &self.sha),
            ("CI_DEFAULT_BRANCH", "main"),
            ("CI_PROJECT_ID", "42"),
        ];
        if !api_url.is_empty() {
            vars.push(("CI_API_V4_URL", api_url));
        }
        vars.extend(self.vars.iter().map(|(k, v)| (*k, v.as_str())));
        vars.extend(token);
        let out = env.run_with(&vars, self.args);
        for secret in [TOKEN, JOB_TOKEN] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "token printed:\n{}",
                out.snapshot()
            );
        }
        out
    }
}

/// The `test-<pipeline>-<stage>` jobs of a generated pipeline.
#[track_caller]
fn groups(out: &Output) -> Vec<String> {
    assert_eq!(out.code, 0, "{}", out.snapshot());
    let doc: serde_yaml::Mapping = serde_yaml::from_str(&out.stdout).expect("generated YAML");
    doc.keys()
        .filter_map(|k| k.as_str())
        .filter_map(|k| k.strip_prefix("test-"))
        .map(str::to_owned)
        .collect()
}

/// The default-branch variables of a push pipeline.
fn push_vars(branch: &str, before: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CI_PIPELINE_SOURCE", "push".to_owned()),
        ("CI_COMMIT_BRANCH", branch.to_owned()),
        ("CI_COMMIT_REF_NAME", branch.to_owned()),
        ("CI_COMMIT_BEFORE_SHA", before.to_owned()),
    ]
}

const GENERATE: &[&str] = &["generate", "--verbose"];

/// A labelled run and the groups it must give.
type Case = (String, Vec<&'static str>, Box<dyn Fn() -> Output + Send + Sync>);

/// Runs `cases` (name, expected groups, job) on up to 8 threads; failures
/// are collected and reported together.
fn run_all(cases: &[Case]) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((label, expected, job)) = cases.get(i) else {
                        break;
                    };
                    let out = job();
                    let ok = out.code == 0 && groups(&out) == *expected;
                    if !ok {
                        failures
                            .lock()
                            .expect("lock")
                            .push(format!("{label}: expected {expected:?}\n{}", out.snapshot()));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The default branch after a merge commit, a squash, a fast-forward and a
/// push of two commits, at every depth, whatever the API answers.
#[test]
fn default_branch_pipelines_at_every_depth_whatever_the_api_answers() {
    let o = origin();
    let servers: Vec<(Api, Option<ServerGuard>)> = APIS.iter().map(|api| (*api, gitlab(*api))).collect();
    let cases_by_commit: [(&str, &str, Vec<&str>); 5] = [
        ("merge", "d1", vec!["p1-s1", "p2-s2"]),
        ("squash", "merge", vec!["p4-s1", "p5-s1"]),
        ("ff_b", "squash", vec!["p1-s2", "p2-s1", "p2-s3"]),
        ("push_b", "ff_b", vec!["p3-s1", "p5-s2"]),
        // A pipeline GitLab gives no before SHA (all zeros): the commit itself.
        ("push_b", "", vec!["p5-s2"]),
    ];
    let mut cases: Vec<Case> = Vec::new();
    for (api, server) in &servers {
        let url = api_url(server.as_ref());
        for (commit, before, expected) in &cases_by_commit {
            for depth in DEPTHS {
                let before = if before.is_empty() {
                    ZERO.to_owned()
                } else {
                    o.sha(before)
                };
                let job = Job {
                    name: commit,
                    kind: Kind::Branch("main"),
                    depth,
                    sha: o.sha(commit),
                    vars: push_vars("main", &before),
                    args: GENERATE,
                };
                let url = url.clone();
                let api = *api;
                let label = format!("{commit} (before {}) at depth {depth}, API {api:?}", &before[..8]);
                cases.push((
                    label,
                    expected.clone(),
                    Box::new(move || {
                        let out = job.run(&url, api.token());
                        check_api_story(api, &out);
                        out
                    }),
                ));
            }
        }
    }
    run_all(&cases);
}

/// What stderr says about the API: used, or a warning that says why not
/// and what would enable it.
#[track_caller]
fn check_api_story(api: Api, out: &Output) {
    let warned = out.stderr.contains("warning: the GitLab API was not used");
    match api {
        Api::Answers => assert!(!warned, "{}", out.snapshot()),
        Api::DiffsForbidden if !out.stderr.contains("comes from merge request") => {
            // The direct push: no merge request, nothing to refuse.
            assert!(!warned, "{}", out.snapshot());
        }
        _ => {
            assert!(warned, "{}", out.snapshot());
            if matches!(api, Api::Unauthorized | Api::Forbidden | Api::DiffsForbidden) {
                assert_contains(
                    &out.stderr,
                    "`read_api` scope as a masked CI/CD variable CHILDGEN_GITLAB_TOKEN",
                );
            }
        }
    }
}

/// Merge request pipelines: detached, merged results (with and without the
/// target SHA) and merge trains.
#[test]
fn merge_request_pipelines_at_every_depth() {
    let o = origin();
    let mr = |event: &str, target: Option<&str>| {
        let mut vars = vec![
            ("CI_PIPELINE_SOURCE", "merge_request_event".to_owned()),
            ("CI_MERGE_REQUEST_IID", "4".to_owned()),
            ("CI_MERGE_REQUEST_EVENT_TYPE", event.to_owned()),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", o.sha("merge")),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", o.sha("open_b")),
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".to_owned()),
            ("CI_COMMIT_BEFORE_SHA", ZERO.to_owned()),
        ];
        if let Some(target) = target {
            vars.push(("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", o.sha(target)));
        }
        vars
    };
    let kinds = [
        ("open_b", "detached", mr("detached", None)),
        ("merge_ref", "merged_result", mr("merged_result", Some("g22"))),
        (
            "merge_ref",
            "merged_result without the target SHA",
            mr("merged_result", None),
        ),
        ("merge_ref_train", "merge_train", mr("merge_train", Some("g22"))),
        (
            "merge_ref_train",
            "merge_train without the target SHA",
            mr("merge_train", None),
        ),
    ];
    let mut cases: Vec<Case> = Vec::new();
    for (name, label, vars) in kinds {
        for depth in DEPTHS {
            let sha = if name == "open_b" {
                o.sha("open_b")
            } else {
                o.sha("merge_ref")
            };
            let job = Job {
                name,
                kind: Kind::MergeRequest,
                depth,
                sha,
                vars: vars.clone(),
                args: GENERATE,
            };
            cases.push((
                format!("{label} at depth {depth}"),
                vec!["p4-s2"],
                Box::new(move || job.run("http://127.0.0.1:9/api/v4", Some(("CI_JOB_TOKEN", JOB_TOKEN)))),
            ));
        }
    }
    run_all(&cases);
}

/// Branch pipelines: a brand-new branch (all-zero before SHA) and a push to
/// the open merge request's branch.
#[test]
fn branch_pipelines_at_every_depth() {
    let o = origin();
    let mut cases: Vec<Case> = Vec::new();
    for (name, branch, commit, before, expected) in [
        ("new_a", "feat-new", "new_a", ZERO.to_owned(), "p5-s3"),
        ("open_branch", "feat-open", "open_b", o.sha("open_a"), "p4-s2"),
    ] {
        for depth in DEPTHS {
            let job = Job {
                name,
                kind: Kind::Branch(branch),
                depth,
                sha: o.sha(commit),
                vars: push_vars(branch, &before),
                args: GENERATE,
            };
            cases.push((
                format!("branch {branch} at depth {depth}"),
                vec![expected],
                Box::new(move || job.run("http://127.0.0.1:9/api/v4", Some(("CI_JOB_TOKEN", JOB_TOKEN)))),
            ));
        }
    }
    run_all(&cases);
}

/// Tag pipelines: the first tag (a true root: everything), a lightweight tag
/// whose previous tag is 25 commits back, an annotated tag.
#[test]
fn tag_pipelines_at_every_depth() {
    let o = origin();
    let mut cases: Vec<Case> = Vec::new();
    for (name, tag, expected) in [
        ("m1", "v0.9", vec!["p1-s1", "p2-s1", "p3-s1", "p4-s1", "p5-s1"]),
        ("f24", "v1.0", vec!["p3-s1"]),
        (
            "g22",
            "v2.0",
            vec![
                "p1-s1", "p1-s2", "p2-s1", "p2-s2", "p2-s3", "p3-s1", "p4-s1", "p5-s1", "p5-s2",
            ],
        ),
    ] {
        for depth in DEPTHS {
            let job = Job {
                name,
                kind: Kind::Tag(tag),
                depth,
                sha: o.sha(name),
                vars: vec![
                    ("CI_PIPELINE_SOURCE", "push".to_owned()),
                    ("CI_COMMIT_TAG", tag.to_owned()),
                    ("CI_COMMIT_REF_NAME", tag.to_owned()),
                    ("CI_COMMIT_BEFORE_SHA", ZERO.to_owned()),
                ],
                args: GENERATE,
            };
            let tag = tag.to_owned();
            cases.push((
                format!("tag {tag} at depth {depth}"),
                expected.clone(),
                Box::new(move || {
                    let out = job.run("http://127.0.0.1:9/api/v4", None);
                    if tag == "v0.9" {
                        assert_contains(&out.stderr, "v0.9 is the first tag");
                    } else {
                        assert_contains(&out.stderr, "previous tag: v");
                    }
                    out
                }),
            ));
        }
    }
    run_all(&cases);
}

/// A true root commit is the one place a push selects every file; a shallow
/// boundary at depth 1 is not one.
#[test]
fn a_root_commit_selects_everything_and_says_so() {
    let o = origin();
    let job = Job {
        name: "m1",
        kind: Kind::Branch("main"),
        depth: 1,
        sha: o.sha("m1"),
        vars: push_vars("main", ZERO),
        args: GENERATE,
    };
    let out = job.run("", None);
    assert_eq!(groups(&out), ["p1-s1", "p2-s1", "p3-s1", "p4-s1", "p5-s1"]);
    assert_contains(&out.stderr, "is a root commit: every file of its tree is new");
}

/// Without a way to fetch, exit 1 with the command that fixes it, and never
/// a credential from origin's URL.
#[test]
fn without_a_way_to_fetch_the_fix_is_named() {
    let o = origin();
    let sha = o.sha("squash");
    let job = Job {
        name: "squash",
        kind: Kind::Branch("main"),
        depth: 1,
        sha: sha.clone(),
        vars: push_vars("main", ZERO),
        args: &["changes", "--no-fetch"],
    };
    let out = job.run("", None);
    assert_eq!(out.code, 1, "{}", out.snapshot());
    assert_eq!(
        out.stderr.replace(&sha, "[SHA]"),
        "error: commit [SHA] is at this clone's shallow boundary, so its parents are not here and could not be fetched \
         (fetching is off (--no-fetch)); run `git fetch --deepen=1 origin [SHA]` before childgen, or set `GIT_DEPTH: 0` in the job\n"
    );
    // origin unreachable, with the job token in its URL as the runner sets it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let job = Job {
        args: &["changes"],
        vars: push_vars("main", &o.sha("merge")),
        ..job
    };
    let out = job.run_in("", Some(("CI_JOB_TOKEN", JOB_TOKEN)), |dir| {
        let url = format!("http://gitlab-ci-token:{JOB_TOKEN}@127.0.0.1:{port}/group/project.git");
        run_git(dir, &["remote", "set-url", "origin", &url]);
    });
    assert_eq!(out.code, 1, "{}", out.snapshot());
    let before = o.sha("merge");
    assert_contains(
        &out.stderr,
        &format!("error: revision `{before}` is not in this clone and could not be fetched (git fetch failed: "),
    );
    assert_contains(
        &out.stderr,
        &format!("run `git fetch --depth=50 origin {before}` before childgen, or set `GIT_DEPTH: 0` in the job"),
    );
}

/// A merge request pipeline without the variables its type needs says
/// which one is missing (not "local dry run").
#[test]
fn missing_merge_request_variables_are_named() {
    let o = origin();
    let job = Job {
        name: "open_b",
        kind: Kind::MergeRequest,
        depth: 20,
        sha: o.sha("open_b"),
        vars: vec![("CI_PIPELINE_SOURCE", "merge_request_event".to_owned())],
        args: &["changes"],
    };
    let out = job.run("", None);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_eq!(
        out.stderr,
        "error: CI_PIPELINE_SOURCE=merge_request_event (detached) but CI_MERGE_REQUEST_DIFF_BASE_SHA is not set; \
         childgen cannot tell what this pipeline changed. Pass --base REV (or --all) to say it, or check that the job runs \
         in the pipeline GitLab describes (these variables are predefined)\n"
    );
}

/// The API's list and git's agree, file by file, for each kind of merge.
#[test]
fn the_api_and_git_give_the_same_changes() {
    let o = origin();
    let answers = gitlab(Api::Answers);
    let refused = gitlab(Api::Forbidden);
    for (commit, before) in [("merge", "d1"), ("squash", "merge"), ("ff_b", "squash")] {
        let job = Job {
            name: commit,
            kind: Kind::Branch("main"),
            depth: 1,
            sha: o.sha(commit),
            vars: push_vars("main", &o.sha(before)),
            args: &["changes", "--verbose"],
        };
        let from_api = job.run(&api_url(answers.as_ref()), Api::Answers.token());
        assert_contains(&from_api.stderr, "changed file(s) from the API");
        let from_git = job.run(&api_url(refused.as_ref()), Api::Forbidden.token());
        assert_contains(&from_git.stderr, "(CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA)");
        assert_contains(&from_git.stderr, "fetching");
        assert_eq!(from_api.code, 0, "{}", from_api.snapshot());
        // GitLab's API has no similarity score: compare letters and paths.
        assert_eq!(
            without_scores(&from_api.stdout),
            without_scores(&from_git.stdout),
            "{commit}"
        );
    }
}

/// A clone without the earlier tags and an origin that cannot list them:
/// not "the first tag" (everything), but an error naming the fix.
#[test]
fn a_tag_whose_history_cannot_be_checked_is_not_taken_for_the_first() {
    let o = origin();
    let job = Job {
        name: "f24",
        kind: Kind::Tag("v1.0"),
        depth: 0,
        sha: o.sha("f24"),
        vars: vec![
            ("CI_PIPELINE_SOURCE", "push".to_owned()),
            ("CI_COMMIT_TAG", "v1.0".to_owned()),
        ],
        args: &["changes"],
    };
    let out = job.run_in("", None, |dir| {
        run_git(dir, &["tag", "-d", "v0.9"]);
        run_git(dir, &["remote", "set-url", "origin", "file:///nonexistent/origin.git"]);
    });
    assert_eq!(out.code, 1, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "error: cannot tell whether v1.0 is the first tag: this clone has no earlier tag and origin's tags could not be listed (git ls-remote failed: ",
    );
    assert_contains(
        &out.stderr,
        "run `git fetch --tags origin` before childgen, or set `GIT_DEPTH: 0` in the job",
    );
}

/// A name-status listing with the rename/copy scores dropped (`R100` -> `R`).
fn without_scores(listing: &str) -> String {
    listing
        .lines()
        .map(|line| {
            let (status, rest) = line.split_once('\t').unwrap_or((line, ""));
            format!("{}\t{rest}\n", status.trim_end_matches(|c: char| c.is_ascii_digit()))
        })
        .collect()
}
