//! `childgen generate` (the CI job) and `childgen render` (the original
//! tool's form: diff file + template + stop patterns).

use super::release;
use crate::cli::{GlobalArgs, RenderArgs, SourceArgs};
use crate::output::emit;
use crate::pipeline;
use crate::settings::{Need, Settings};
use crate::source;
use anyhow::Result;

/// `childgen render DIFF TEMPLATE PATTERNS`
pub fn render(global: &GlobalArgs, args: &RenderArgs) -> Result<()> {
    let mut global = global.clone();
    global.template = Some(args.template.clone());
    global.stop = Some(args.patterns.clone());
    global.regex = None;
    let settings = Settings::resolve(&global, Need::Templates)?;
    let changes = source::read_diff(&args.diff, source::diff_format(args.name_only))?;
    let written = write(&settings, &global, &changes);
    release(changes);
    written
}

/// `childgen generate`
pub fn generate(global: &GlobalArgs, source: &SourceArgs) -> Result<()> {
    let settings = Settings::resolve(global, Need::Templates)?;
    let changes = collect(&settings, source)?.changes;
    let written = write(&settings, global, &changes);
    release(changes);
    written
}

/// The changes for `generate` and `plan`.
pub fn collect(settings: &Settings, source: &SourceArgs) -> Result<source::Collected> {
    let options = source::SourceOptions {
        verbose: settings.verbose,
        default_branch: settings.config.as_ref().and_then(|c| c.file.default_branch.clone()),
        quiet: settings.quiet,
    };
    Ok(source::collect(source, &options)?)
}

fn write(settings: &Settings, global: &GlobalArgs, changes: &[crate::change::Change]) -> Result<()> {
    let outcome = pipeline::generate(settings, changes)?;
    for warning in &outcome.report.warnings {
        settings.warn(warning);
    }
    settings.info(format!(
        "{} change(s), {} unmatched; {} job(s){}",
        changes.len(),
        outcome.grouping.unmatched.len(),
        outcome.report.jobs.len(),
        if outcome.empty {
            " (nothing matched: no-op pipeline)"
        } else {
            ""
        }
    ));
    emit(global.output.as_deref(), &outcome.yaml)?;
    if let Some(path) = &global.output {
        settings.info(format!("wrote {}", path.display()));
    }
    release(outcome);
    Ok(())
}
