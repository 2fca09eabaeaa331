//! `childgen changes`: the detected changes, as `git diff --name-status`.

use crate::cli::{GlobalArgs, SourceArgs};
use crate::output::emit_with;
use crate::source;
use anyhow::Result;

/// Prints every change, one name-status line each, paths git-quoted.
pub fn run(global: &GlobalArgs, source: &SourceArgs) -> Result<()> {
    let config = crate::settings::load_config(global)?;
    let options = source::SourceOptions {
        verbose: global.verbose,
        default_branch: config.and_then(|c| c.file.default_branch),
        quiet: global.quiet,
    };
    let changes = source::collect(source, &options)?.changes;
    emit_with(global.output.as_deref(), |out| {
        for change in &changes {
            writeln!(out, "{change}")?;
        }
        Ok(())
    })?;
    super::release(changes);
    Ok(())
}
