//! `cargo bench`: runs the release binary on generated inputs and prints, per
//! scenario, the median wall time and the peak RSS against the targets. A
//! benchmark, never a test: it reports, it does not fail on a slow machine.
//!
//! `cargo bench -- render` runs only the scenarios whose name contains `render`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One measured run of the binary.
struct Sample {
    wall: Duration,
    max_rss_kb: i64,
}

/// Runs `command` to completion and reads its own peak RSS with `wait4`.
fn measure(command: &mut Command) -> Sample {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let child = command.spawn().expect("spawn");
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, reaped exactly once here.
    let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = start.elapsed();
    assert_eq!(reaped, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "benchmark command failed: {command:?}"
    );
    std::mem::forget(child);
    Sample {
        wall,
        max_rss_kb: usage.ru_maxrss,
    }
}

struct Scenario {
    name: String,
    args: Vec<String>,
    runs: usize,
    target_ms: Option<f64>,
    target_mb: Option<f64>,
}

struct Row {
    name: String,
    median_ms: f64,
    min_ms: f64,
    rss_mb: f64,
    verdict: String,
}

fn run(binary: &Path, scenario: &Scenario) -> Row {
    let mut samples: Vec<Sample> = (0..scenario.runs)
        .map(|_| measure(Command::new(binary).args(&scenario.args)))
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
        let _ = write!(verdict, ", {} < {t} MB", if rss_mb < t { "ok" } else { "MISSED" });
    }
    Row {
        name: scenario.name.clone(),
        median_ms,
        min_ms: ms(samples[0].wall),
        rss_mb,
        verdict,
    }
}

/// A `git diff --name-status` of `lines` changes spread over `groups` stages
/// (`pipelines/pNNN/sNN/...`), statuses mixed, some renames.
pub fn synthetic_diff(lines: usize, groups: usize) -> String {
    let mut out = String::with_capacity(lines * 48);
    for i in 0..lines {
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

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_childgen"));
    let work = tempfile::tempdir().expect("temp dir");
    let template = work.path().join("job.yml.tera");
    std::fs::write(
        &template,
        "test-{{ pipeline_name }}-{{ stage_name }}:\n  stage: test\n  variables:\n    FILES: \"{{ files | length }}\"\n  script: [\"make -C pipelines/{{ pipeline_name }}/{{ stage_name }} test\"]\n",
    )
    .expect("template");
    let stop = "pipeline_name:pipelines,stage_name::pipelines".to_owned();
    let mut scenarios = Vec::new();
    for (lines, groups, runs, target) in [
        (1_000, 10, 21, None),
        (10_000, 100, 15, None),
        (100_000, 1_000, 11, Some(100.0)),
    ] {
        let diff = work.path().join(format!("{lines}.diff"));
        std::fs::write(&diff, synthetic_diff(lines, groups)).expect("diff");
        scenarios.push(Scenario {
            name: format!("render {lines} lines / {groups} groups"),
            args: vec![
                "render".into(),
                diff.display().to_string(),
                template.display().to_string(),
                stop.clone(),
                "-q".into(),
            ],
            runs,
            target_ms: target,
            target_mb: target.map(|_| 60.0),
        });
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
    scenarios.push(Scenario {
        name: "generate typical MR (100 files, 5 groups)".into(),
        args: vec![
            "generate".into(),
            "--config".into(),
            config,
            "--diff".into(),
            typical.display().to_string(),
            "-q".into(),
        ],
        runs: 21,
        target_ms: Some(10.0),
        target_mb: None,
    });

    println!(
        "childgen benchmarks ({} cores)\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!("| scenario | median ms | min ms | peak RSS MB | target |");
    println!("|---|---:|---:|---:|---|");
    for scenario in scenarios
        .iter()
        .filter(|s| filter.as_ref().is_none_or(|f| s.name.contains(f.as_str())))
    {
        let row = run(&binary, scenario);
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} |",
            row.name, row.median_ms, row.min_ms, row.rss_mb, row.verdict
        );
    }
}
