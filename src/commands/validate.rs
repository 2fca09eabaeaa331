//! `childgen validate FILE`: the checks of design §4 on any child-pipeline
//! YAML. Lists every problem and exits 2 when there is one.

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::emit;
use crate::validate::{Limits, validate};
use anyhow::Result;
use std::path::Path;

/// Validates one file.
pub fn run(global: &GlobalArgs, file: &Path) -> Result<()> {
    let bytes = crate::source::read_bounded(file, crate::files::VALIDATE_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::Invalid {
        subject: file.display().to_string(),
        problems: vec!["the file is not UTF-8".to_owned()],
    })?;
    let subject = file.display().to_string();
    let invalid = |problem: String| Error::Invalid {
        subject: subject.clone(),
        problems: vec![problem],
    };
    crate::files::check_yaml_depth(&text).map_err(&invalid)?;
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| invalid(format!("the YAML does not parse: {e}")))?;
    value
        .apply_merge()
        .map_err(|e| invalid(format!("a `<<` merge key cannot be applied: {e}")))?;
    let serde_yaml::Value::Mapping(doc) = value else {
        return Err(invalid(format!(
            "the document must be a mapping, not {}",
            crate::merge::kind(&value)
        ))
        .into());
    };
    // The limits of childgen.yml when there is one, GitLab's defaults otherwise.
    let limits = crate::settings::load_config(global)?.map_or_else(Limits::default, |c| c.file.limits);
    let report = validate(&doc, text.len(), &limits);
    if !report.errors.is_empty() {
        return Err(Error::Invalid {
            subject,
            problems: report.errors,
        }
        .into());
    }
    for warning in &report.warnings {
        crate::output::warn(global.quiet, warning);
    }
    emit(
        global.output.as_deref(),
        &format!("{subject}: valid, {} job(s)\n", report.jobs.len()),
    )?;
    Ok(())
}
