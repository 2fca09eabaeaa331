//! `cargo bench`: runs the release binary on generated inputs and prints, per
//! scenario, the median wall time and the peak RSS against the targets. A
//! benchmark, never a test: it reports, it does not fail on a slow machine.
//!
//! `cargo bench -- render` runs only the scenarios whose name contains `render`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod synth;

/// One measured run of the binary.
struct Sample {
    wall: Duration,
    max_rss_kb: i64,
}

/// Runs `command` to completion and reads its peak RSS, through a small
/// helper process (this benchmark binary again, see [`measure_here`]).
///
/// Why a helper: Linux carries a process's peak RSS across `exec`, so a child
/// spawned straight from this process (which holds megabytes of generated
/// input) would report at least this process's RSS as its own peak. The
/// helper is a fresh, small process; its child's peak is the child's own.
fn measure(command: &Command) -> Sample {
    let mut helper = Command::new(std::env::current_exe().expect("current exe"));
    helper
        .env(MEASURE_ENV, "1")
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => helper.env(key, value),
            None => helper.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        helper.current_dir(dir);
    }
    let out = helper.output().expect("measuring helper");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<i64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    assert!(
        out.status.success() && fields.len() == 2,
        "benchmark command failed: {command:?}"
    );
    Sample {
        wall: Duration::from_nanos(u64::try_from(fields[0]).unwrap_or(0)),
        max_rss_kb: fields[1],
    }
}

/// Set in the environment of the measuring helper.
const MEASURE_ENV: &str = "CHILDGEN_BENCH_MEASURE";

/// The helper's side: runs `program args...` (its own arguments), output
/// discarded, and prints its wall time in nanoseconds and its peak RSS in KiB
/// (`wait4`), or fails when the program fails.
fn measure_here() -> ! {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("program to measure");
    let mut command = Command::new(program);
    command
        .args(args)
        .env_remove(MEASURE_ENV)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let child = command.spawn().expect("spawn");
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, reaped exactly once here.
    let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = start.elapsed();
    std::mem::forget(child);
    let ok = reaped == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if ok {
        println!("{} {}", wall.as_nanos(), usage.ru_maxrss);
    }
    std::process::exit(i32::from(!ok));
}

struct Scenario {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    cwd: Option<PathBuf>,
    env: Vec<(String, String)>,
    runs: usize,
    target_ms: Option<f64>,
    target_mb: Option<f64>,
    /// Report the ratio to the scenario of this name (the reference tool).
    versus: Option<(String, f64)>,
    /// Check `target_mb` against the peak RSS above this scenario's (the
    /// idle process: what the input costs, not the binary's own pages).
    over: Option<String>,
}

impl Scenario {
    fn new(name: impl Into<String>, program: &Path, args: &[&str]) -> Self {
        Scenario {
            name: name.into(),
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            cwd: None,
            env: Vec::new(),
            runs: 11,
            target_ms: None,
            target_mb: None,
            versus: None,
            over: None,
        }
    }
}

struct Row {
    name: String,
    median_ms: f64,
    min_ms: f64,
    rss_mb: f64,
    verdict: String,
}

fn run(scenario: &Scenario, done: &[Row]) -> Row {
    let mut samples: Vec<Sample> = (0..scenario.runs)
        .map(|_| {
            let mut command = Command::new(&scenario.program);
            command
                .args(&scenario.args)
                .envs(scenario.env.iter().map(|(k, v)| (k, v)));
            if let Some(cwd) = &scenario.cwd {
                command.current_dir(cwd);
            }
            measure(&command)
        })
        .collect();
    samples.sort_by_key(|s| s.wall);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median_ms = ms(samples[samples.len() / 2].wall);
    #[allow(clippy::cast_precision_loss)]
    let rss_mb = samples.iter().map(|s| s.max_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    let mut verdict = String::new();
    if let Some(t) = scenario.target_ms {
        let _ = write!(verdict, "{} < {t} ms", if median_ms < t { "ok" } else { "MISSED" });
    }
    if let Some(t) = scenario.target_mb {
        match scenario.over.as_ref().and_then(|o| done.iter().find(|r| &r.name == o)) {
            Some(idle) => {
                let used = rss_mb - idle.rss_mb;
                let _ = write!(
                    verdict,
                    ", {} {used:.1} MB above idle < {t} MB",
                    if used < t { "ok" } else { "MISSED" }
                );
            }
            None => {
                let _ = write!(verdict, ", {} < {t} MB", if rss_mb < t { "ok" } else { "MISSED" });
            }
        }
    }
    if let Some((reference, limit)) = &scenario.versus
        && let Some(other) = done.iter().find(|r| &r.name == reference)
    {
        let ratio = median_ms / other.median_ms;
        if !verdict.is_empty() {
            verdict.push_str("; ");
        }
        let _ = write!(
            verdict,
            "{:.2}× {reference} ({} < {limit}×), RSS {:.2}×",
            ratio,
            if ratio < *limit { "ok" } else { "MISSED" },
            rss_mb / other.rss_mb
        );
    }
    Row {
        name: scenario.name.clone(),
        median_ms,
        min_ms: ms(samples[0].wall),
        rss_mb,
        verdict,
    }
}

/// Panics unless childgen lists what `git diff --name-status -M` lists for
/// `main...feature` in `repo` (a benchmark of a wrong answer is worthless).
fn assert_same_listing(git: &Path, binary: &Path, repo: &str) {
    let git_out = Command::new(git)
        .args(["-C", repo, "diff", "--name-status", "-M", "main...feature"])
        .output()
        .expect("git diff");
    let ours = Command::new(binary)
        .args(["changes", "--repo", repo, "--base", "main", "--head", "feature"])
        .output()
        .expect("childgen changes");
    assert!(
        git_out.stdout == ours.stdout,
        "childgen and git diff -M disagree on {repo}"
    );
}

/// A `git diff --name-status` of `lines` changes spread over `groups` stages
/// (`pipelines/pNNN/sNN/...`), statuses mixed, some renames; sorted by path
/// as git prints it.
pub fn synthetic_diff(lines: usize, groups: usize) -> String {
    let mut out = String::with_capacity(lines * 48);
    let mut order: Vec<usize> = (0..lines).collect();
    order.sort_by_key(|i| (i % groups, *i));
    for i in order {
        let g = i % groups;
        let path = format!("pipelines/p{:03}/s{:02}/src/file{i:06}.py", g / 20, g % 20);
        let _ = match i % 10 {
            0 => writeln!(out, "A\t{path}"),
            1 => writeln!(out, "D\t{path}"),
            2 => writeln!(
                out,
                "R087\tpipelines/p{:03}/s{:02}/old/file{i:06}.py\t{path}",
                g / 20,
                g % 20
            ),
            _ => writeln!(out, "M\t{path}"),
        };
    }
    out
}

/// The issue-11 shape: 100 pipelines × 10 stages × 100 files, every file
/// changed (60 % M, 15 % A, 10 % D, 15 % R, each rename coming from the next
/// stage of the same pipeline, so it counts for two groups): 100,000 lines,
/// about 5.8 MB. Sorted by path as git prints it, or (`sorted` false) in an
/// order that interleaves every group.
pub fn heavy_diff(sorted: bool) -> String {
    const FILES: usize = 100 * 10 * 100;
    let mut order: Vec<usize> = (0..FILES).collect();
    if !sorted {
        // 7919 is prime to 100,000: i ↦ i × 7919 mod 100,000 is a permutation.
        order.sort_by_key(|i| (i * 7919) % FILES);
    }
    let mut out = String::with_capacity(FILES * 60);
    for i in order {
        let (p, s, f) = (i / 1000, (i / 100) % 10, i % 100);
        let path = format!("pipelines/p{p:03}/s{s:02}/src/features/module_{f:03}.py");
        let _ = match i % 20 {
            0..=11 => writeln!(out, "M\t{path}"),
            12..=14 => writeln!(out, "A\t{path}"),
            15..=16 => writeln!(out, "D\t{path}"),
            _ => writeln!(
                out,
                "R{:03}\tpipelines/p{p:03}/s{:02}/src/legacy/module_{f:03}.py\t{path}",
                70 + i % 31,
                (s + 1) % 10
            ),
        };
    }
    out
}

/// Whether `python3` can import jinja2 and yaml (the reference script's needs).
fn python_ready() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import jinja2, yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err("python3 cannot import jinja2 and yaml (pip install jinja2 pyyaml)".to_owned()),
        Err(e) => Err(format!("no python3 ({e})")),
    }
}

/// Panics unless childgen's and the Python script's YAML describe the same
/// pipeline (both parsed; key order and formatting may differ).
fn assert_same_pipeline(binary: &Path, script: &Path, args: &[&str]) {
    let ours = Command::new(binary)
        .arg("render")
        .args(args)
        .arg("-q")
        .output()
        .expect("childgen render");
    let theirs = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        ours.status.success(),
        "childgen render failed: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(
        theirs.status.success(),
        "render.py failed: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let parse = |out: &[u8]| -> serde_yaml::Value { serde_yaml::from_slice(out).expect("YAML") };
    let (ours, theirs) = (parse(&ours.stdout), parse(&theirs.stdout));
    assert!(ours == theirs, "childgen render and benches/render.py disagree");
    let jobs = ours.as_mapping().map_or(0, |m| m.len() - 1);
    eprintln!("heavy shape: childgen and render.py agree on {jobs} jobs");
}

fn main() {
    if std::env::var_os(MEASURE_ENV).is_some() {
        measure_here();
    }
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_childgen"));
    let git = PathBuf::from("git");
    let work = tempfile::tempdir().expect("temp dir");
    let wanted = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let mut scenarios = Vec::new();

    let template = work.path().join("job.yml.tera");
    std::fs::write(
        &template,
        "test-{{ pipeline_name }}-{{ stage_name }}:\n  stage: test\n  variables:\n    FILES: \"{{ files | length }}\"\n  script: [\"make -C pipelines/{{ pipeline_name }}/{{ stage_name }} test\"]\n",
    )
    .expect("template");
    let template = template.display().to_string();
    let stop = "pipeline_name:pipelines,stage_name::pipelines";
    for (lines, groups, runs, target) in [
        (1_000, 10, 21, None),
        (10_000, 100, 15, None),
        (100_000, 1_000, 11, Some(100.0)),
    ] {
        let diff = work.path().join(format!("{lines}.diff"));
        std::fs::write(&diff, synthetic_diff(lines, groups)).expect("diff");
        let diff = diff.display().to_string();
        let mut scenario = Scenario::new(
            format!("render {lines} lines / {groups} groups"),
            &binary,
            &["render", &diff, &template, stop, "-q"],
        );
        scenario.runs = runs;
        scenario.target_ms = target;
        scenario.target_mb = target.map(|_| 60.0);
        scenarios.push(scenario);
    }

    // A typical merge request: 100 files in three stages of one pipeline, a
    // DataCube manifest and a dataset version, through the example's rules and templates.
    let typical = work.path().join("typical.diff");
    let mut diff = String::new();
    for i in 0..100 {
        let _ = match i {
            0..=2 => writeln!(diff, "M\tpipelines/churn/s{i}/modelserving.yaml"),
            3 => writeln!(diff, "M\tpipelines/churn/s0/datacube.yaml"),
            4..=9 => writeln!(diff, "A\tdata/alice/datasets/tx/v7/part-{i:04}.csv"),
            _ => writeln!(diff, "M\tpipelines/churn/s{}/src/module_{i}.py", i % 3),
        };
    }
    std::fs::write(&typical, diff).expect("typical diff");
    let config = root.join("fixtures/monorepo/childgen.yml").display().to_string();
    let typical = typical.display().to_string();
    let mut scenario = Scenario::new(
        "generate typical MR (100 files, 5 groups)",
        &binary,
        &["generate", "--config", &config, "--diff", &typical, "-q"],
    );
    scenario.runs = 21;
    scenario.target_ms = Some(10.0);
    scenarios.push(scenario);

    // The issue-11 heavy shape: 100,000 changed files, 1,000 groups, three jobs
    // per group from a template that never reads `files`, against the Python +
    // Jinja2 + PyYAML script childgen replaces, side by side in this run.
    if wanted("heavy") {
        let idle_name = "heavy: baseline, childgen --version (idle RSS)";
        let mut idle = Scenario::new(idle_name, &binary, &["--version"]);
        idle.runs = 11;
        scenarios.push(idle);
        let heavy_template = root.join("benches/heavy.yml.tera").display().to_string();
        let script = root.join("benches/render.py");
        for sorted in [true, false] {
            let text = heavy_diff(sorted);
            #[allow(clippy::cast_precision_loss)]
            let input_mb = text.len() as f64 / (1024.0 * 1024.0);
            let order = if sorted { "sorted" } else { "unsorted" };
            let diff = work.path().join(format!("heavy-{order}.diff"));
            std::fs::write(&diff, text).expect("heavy diff");
            let diff = diff.display().to_string();
            let args = [diff.as_str(), heavy_template.as_str(), stop];
            let python = format!("heavy: python3 render.py ({order})");
            let reference = match python_ready() {
                Ok(()) => {
                    assert_same_pipeline(&binary, &script, &args);
                    let script = script.display().to_string();
                    let mut py = Scenario::new(&python, Path::new("python3"), &[&script, &diff, &heavy_template, stop]);
                    py.runs = 3;
                    scenarios.push(py);
                    Some(python)
                }
                Err(why) => {
                    if sorted {
                        println!("heavy: the Python side is skipped: {why}\n");
                    }
                    None
                }
            };
            let mut ours = Scenario::new(
                format!("heavy: childgen render 100k changes / 1,000 groups / 3,000 jobs ({order}, {input_mb:.1} MB)"),
                &binary,
                &["render", &diff, &heavy_template, stop, "-q"],
            );
            ours.target_ms = Some(55.0);
            ours.target_mb = Some(40.0);
            ours.versus = reference.map(|r| (r, 0.05));
            scenarios.push(ours);
            let mut changes = Scenario::new(
                format!("heavy: childgen changes --diff, 100k lines ({order})"),
                &binary,
                &["changes", "--diff", &diff],
            );
            changes.target_ms = Some(25.0);
            // "Memory ≤ 2× the input": what the run holds above the idle
            // process (whose RSS is the binary's own mapped pages).
            changes.target_mb = Some((input_mb * 2.0 * 10.0).round() / 10.0);
            changes.over = Some(idle_name.to_owned());
            scenarios.push(changes);
        }
    }

    // Git: a 100,000-file monorepo whose feature branch changes 10,000 files.
    let needs_repo = ["git", "working tree", "GitLab"].iter().any(|n| wanted(n));
    let repo = work.path().join("monorepo");
    if needs_repo {
        let started = Instant::now();
        let summary = synth::generate(&repo, synth::Shape::new(100_000, 10_000)).expect("synthetic monorepo");
        eprintln!(
            "synthetic monorepo: {summary} ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
        let repo_arg = repo.display().to_string();
        assert_same_listing(&git, &binary, &repo_arg);
        let mut reference = Scenario::new(
            "git diff --name-status -M (100k files, 10k changed)",
            &git,
            &["-C", &repo_arg, "diff", "--name-status", "-M", "main", "feature"],
        );
        reference.runs = 7;
        scenarios.push(reference);
        let mut ours = Scenario::new(
            "git source: childgen changes --base --head",
            &binary,
            &["changes", "--repo", &repo_arg, "--base", "main", "--head", "feature"],
        );
        ours.runs = 7;
        ours.versus = Some(("git diff --name-status -M (100k files, 10k changed)".into(), 1.5));
        scenarios.push(ours);

        // The working tree: 100 edited files and 3 untracked ones on top.
        for i in (0..100_000).step_by(1_000) {
            let path = repo.join(format!(
                "pipelines/p{:04}/s{:02}/src/file{:06}.py",
                i / 200,
                (i / 20) % 10,
                i + 5
            ));
            if path.exists() {
                let _ = std::fs::write(&path, format!("# edited {i}\n"));
            }
        }
        for i in 0..3 {
            let _ = std::fs::create_dir_all(repo.join("pipelines/p9999/s00"));
            let _ = std::fs::write(repo.join(format!("pipelines/p9999/s00/untracked{i}.py")), "x\n");
        }
        let mut status = Scenario::new(
            "git status --porcelain (100k files)",
            &git,
            &["-C", &repo_arg, "status", "--porcelain"],
        );
        status.runs = 7;
        scenarios.push(status);
        let mut dry = Scenario::new(
            "working tree dry run: childgen changes --base",
            &binary,
            &["changes", "--repo", &repo_arg, "--base", "main"],
        );
        dry.runs = 7;
        dry.versus = Some(("git status --porcelain (100k files)".into(), 2.0));
        scenarios.push(dry);

        // GitLab: 3,000 files over 30 pages, 100 ms per response.
        let server = api::serve(Duration::from_millis(100), 30);
        let mut api = Scenario::new(
            "GitLab source: 3,000 files / 30 pages / 100 ms latency",
            &binary,
            &["changes"],
        );
        api.cwd = Some(repo.clone());
        api.runs = 5;
        api.target_ms = Some(800.0);
        api.env = vec![
            ("CI_PIPELINE_SOURCE".into(), "push".into()),
            ("CI_COMMIT_BRANCH".into(), "main".into()),
            ("CI_DEFAULT_BRANCH".into(), "main".into()),
            ("CI_COMMIT_SHA".into(), api::MERGE_SHA.into()),
            ("CI_API_V4_URL".into(), format!("{server}/api/v4")),
            ("CI_PROJECT_ID".into(), "1".into()),
            ("GITLAB_TOKEN".into(), "bench-token".into()),
        ];
        scenarios.push(api);
    }

    // Git, rename-heavy: thousands of similar files moved, a thousand of them
    // edited, so git's similarity matrix (900 × 900 pairs) does real work.
    if wanted("rename") {
        let moves = work.path().join("moves");
        let summary = synth::generate_moves(&moves, 6_000, 2_000, 100, 900).expect("rename-heavy repo");
        eprintln!("rename-heavy repo: {summary}");
        let moves = moves.display().to_string();
        assert_same_listing(&git, &binary, &moves);
        let reference = "git diff --name-status -M (rename-heavy: 3,000 moves, 1,000 edited)";
        let mut git_moves = Scenario::new(
            reference,
            &git,
            &["-C", &moves, "diff", "--name-status", "-M", "main", "feature"],
        );
        git_moves.runs = 7;
        scenarios.push(git_moves);
        let mut ours = Scenario::new(
            "git source, rename-heavy: childgen changes --base --head",
            &binary,
            &["changes", "--repo", &moves, "--base", "main", "--head", "feature"],
        );
        ours.runs = 7;
        ours.versus = Some((reference.into(), 1.5));
        scenarios.push(ours);
    }

    println!(
        "childgen benchmarks ({} cores)\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!("| scenario | median ms | min ms | peak RSS MB | target |");
    println!("|---|---:|---:|---:|---|");
    let mut rows: Vec<Row> = Vec::new();
    for scenario in scenarios
        .iter()
        .filter(|s| wanted(&s.name) || s.name.starts_with("git "))
    {
        let row = run(scenario, &rows);
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} |",
            row.name, row.median_ms, row.min_ms, row.rss_mb, row.verdict
        );
        rows.push(row);
    }
}

/// A loopback HTTP server answering like GitLab, with a fixed latency per
/// response, one thread per connection (so concurrency is visible).
mod api {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    pub const MERGE_SHA: &str = "1111111111111111111111111111111111111111";

    pub fn serve(latency: Duration, pages: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut request_line = String::new();
                    let _ = reader.read_line(&mut request_line);
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    std::thread::sleep(latency);
                    let (body, extra) = respond(&path, pages);
                    let mut stream = &stream;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        url
    }

    fn respond(path: &str, pages: usize) -> (String, String) {
        let mr = format!(
            r#"{{"iid":9,"state":"merged","target_branch":"main","merge_commit_sha":"{MERGE_SHA}","sha":"2222222222222222222222222222222222222222","changes_count":"{}","diff_refs":{{"base_sha":"a","head_sha":"b","start_sha":"a"}}}}"#,
            pages * 100
        );
        if path.contains("/repository/commits/") {
            return (format!("[{mr}]"), String::new());
        }
        if let Some(query) = path.split_once("/diffs?").map(|(_, q)| q) {
            let page: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let files: Vec<String> = (0..100)
                .map(|i| {
                    let n = (page - 1) * 100 + i;
                    let p = format!("pipelines/p{:03}/s{}/file{n:05}.py", n % 50, n % 5);
                    format!(r#"{{"old_path":"{p}","new_path":"{p}","a_mode":"100644","b_mode":"100644","diff":"","new_file":false,"renamed_file":false,"deleted_file":false}}"#)
                })
                .collect();
            return (
                format!("[{}]", files.join(",")),
                format!("x-total-pages: {pages}\r\nx-page: {page}\r\n"),
            );
        }
        (mr, String::new())
    }
}
