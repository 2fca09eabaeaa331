//! `childgen init`: scaffolds `childgen.yml`, a starter template and the root
//! `.gitlab-ci.yml`. It writes what does not exist and keeps what does (unless
//! `--force`). It never touches an existing `.gitlab-ci.yml`: the generator jobs
//! then go to [`INCLUDE_FILE`] and it prints the `include:` line to add.

use crate::error::Error;
use crate::output::write_atomic;
use anyhow::Result;
use std::path::Path;

const ROOT_CI: &str = include_str!("../../templates/init/gitlab-ci.yml");

/// The scaffold besides the pipeline, embedded in the binary.
pub const FILES: [(&str, &str); 2] = [
    ("childgen.yml", include_str!("../../templates/init/childgen.yml")),
    (
        "templates/pipeline.yml.tera",
        include_str!("../../templates/init/pipeline.yml.tera"),
    ),
];

/// Where the generator jobs go when the repository already has a pipeline.
pub const INCLUDE_FILE: &str = ".gitlab/childgen.gitlab-ci.yml";

/// The generator and trigger jobs alone (the shipped root file minus its
/// `workflow:` and `stages:`, which belong to the including pipeline).
fn jobs_only() -> String {
    let jobs = ROOT_CI
        .find("\ngenerate-pipeline:")
        .map_or(ROOT_CI, |at| &ROOT_CI[at + 1..]);
    format!(
        "# childgen's generator and trigger jobs, included from your .gitlab-ci.yml:\n\
         #   include:\n#     - local: {INCLUDE_FILE}\n\
         # Your pipeline's `stages:` must list `generate` and `run`.\n{jobs}"
    )
}

/// Writes the scaffold into `dir`.
pub fn run(dir: &Path, force: bool) -> Result<()> {
    let root_ci = dir.join(".gitlab-ci.yml");
    // A `.gitlab-ci.yml` that is our own scaffold is ours to keep or --force.
    let has_pipeline = root_ci.exists() && std::fs::read_to_string(&root_ci).ok().as_deref() != Some(ROOT_CI);
    let pipeline = if has_pipeline {
        (INCLUDE_FILE, jobs_only())
    } else {
        (".gitlab-ci.yml", ROOT_CI.to_owned())
    };
    let files = FILES
        .iter()
        .map(|(name, content)| (*name, (*content).to_owned()))
        .chain([pipeline]);
    let mut kept = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        if path.exists() && !force {
            eprintln!("kept {} (exists; --force overwrites)", path.display());
            kept.push(name);
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        write_atomic(&path, &content)?;
        eprintln!("wrote {}", path.display());
    }
    if has_pipeline {
        eprintln!(
            "kept {} (your pipeline; init never edits it). Add this to it:\n\n\
             include:\n  - local: {INCLUDE_FILE}\n\n\
             and list `generate` and `run` in its `stages:` (or use the CI/CD component instead)",
            root_ci.display()
        );
        if !declares_stages(&root_ci) {
            eprintln!("note: {} declares no `generate`/`run` stages yet", root_ci.display());
        }
    }
    if kept.len() < 3 {
        eprintln!(
            "next: `childgen plan` shows what your working tree would trigger; commit the files and push a merge request"
        );
    }
    Ok(())
}

/// Whether the existing pipeline already lists both stages the jobs use.
fn declares_stages(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return false;
    };
    let Some(stages) = doc.get("stages").and_then(serde_yaml::Value::as_sequence) else {
        return false;
    };
    ["generate", "run"]
        .iter()
        .all(|s| stages.iter().any(|v| v.as_str() == Some(s)))
}
