//! `childgen test [DIR]`: template regression cases. Each folder of DIR holds
//! `diff.txt` and `expected.yml` (and, optionally, its own `childgen.yml`);
//! the diff is rendered with the rules and compared with the expectation. A
//! mismatch prints a unified diff; `--bless` accepts the new output.

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::{write_atomic, write_stdout};
use crate::pipeline;
use crate::settings::{Need, Settings, load_config};
use crate::source::diff_file::DiffFormat;
use crate::source::read_diff;
use anyhow::Result;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The default folder of cases, beside `childgen.yml`.
const DEFAULT_DIR: &str = "childgen-tests";

/// Runs every case; fails (exit 1) when one does not match.
pub fn run(global: &GlobalArgs, dir: Option<&Path>, bless: bool) -> Result<()> {
    let dir = match dir {
        Some(dir) => dir.to_owned(),
        None => load_config(global)?.map_or_else(|| PathBuf::from(DEFAULT_DIR), |c| c.dir.join(DEFAULT_DIR)),
    };
    if !dir.exists() {
        return Err(Error::Usage(format!(
            "{} does not exist: create one folder per case holding a diff.txt (a `git diff --name-status` listing), then run `childgen test --bless` to write each expected.yml",
            dir.display()
        ))
        .into());
    }
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Read {
        path: dir.clone(),
        source,
    })?;
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("diff.txt").is_file())
        .collect();
    cases.sort();
    if cases.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no case (a folder with diff.txt and expected.yml)",
            dir.display()
        ))
        .into());
    }
    let (mut passed, mut failed, mut blessed) = (0, 0, 0);
    let mut report = String::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case_global = global.clone();
        if case.join("childgen.yml").is_file() {
            case_global.config = Some(case.join("childgen.yml"));
        }
        let settings = Settings::resolve(&case_global, Need::Templates)?;
        let changes = read_diff(&case.join("diff.txt"), DiffFormat::NameStatus)?;
        let actual = match pipeline::generate(&settings, &changes) {
            Ok(outcome) => outcome.yaml,
            Err(e) => format!("# error: {e}\n"),
        };
        let expected_path = case.join("expected.yml");
        let expected = std::fs::read_to_string(&expected_path).ok();
        if expected.is_none() && !bless {
            failed += 1;
            let _ = writeln!(
                report,
                "FAILED  {name}: no expected.yml; run `childgen test --bless` to accept the current output"
            );
            continue;
        }
        let expected = expected.unwrap_or_default();
        if expected == actual {
            passed += 1;
            let _ = writeln!(report, "ok      {name}");
        } else if bless {
            write_atomic(&expected_path, &actual)?;
            blessed += 1;
            let _ = writeln!(report, "blessed {name}");
        } else {
            failed += 1;
            let _ = writeln!(report, "FAILED  {name}");
            let diff = similar::TextDiff::from_lines(&expected, &actual);
            let _ = write!(
                report,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("{name}/expected.yml"), &format!("{name} (rendered)"))
            );
        }
    }
    let _ = writeln!(
        report,
        "{passed} passed, {failed} failed{}",
        if blessed > 0 {
            format!(", {blessed} blessed")
        } else {
            String::new()
        }
    );
    write_stdout(&report)?;
    if failed > 0 {
        return Err(Error::CasesFailed { failed }.into());
    }
    Ok(())
}
