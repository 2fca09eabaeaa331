//! `childgen init`: scaffolds `childgen.yml`, a starter template and the root
//! `.gitlab-ci.yml`. Refuses to overwrite without `--force`.

use crate::error::Error;
use crate::output::write_atomic;
use anyhow::Result;
use std::path::Path;

/// The scaffold, embedded in the binary.
pub const FILES: [(&str, &str); 3] = [
    ("childgen.yml", include_str!("../../templates/init/childgen.yml")),
    (
        "templates/pipeline.yml.tera",
        include_str!("../../templates/init/pipeline.yml.tera"),
    ),
    (".gitlab-ci.yml", include_str!("../../templates/init/gitlab-ci.yml")),
];

/// Writes the scaffold into `dir`.
pub fn run(dir: &Path, force: bool) -> Result<()> {
    let existing: Vec<String> = FILES
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !force {
        return Err(Error::Usage(format!(
            "{} already exist(s); rerun with --force to overwrite, or merge by hand",
            existing.join(", ")
        ))
        .into());
    }
    for (name, content) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        write_atomic(&path, content)?;
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "next: `childgen plan` shows what your working tree would trigger; commit the three files and push a merge request"
    );
    Ok(())
}
