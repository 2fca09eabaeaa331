//! `childgen changes`: the detected changes, as `git diff --name-status`.

use crate::cli::{GlobalArgs, SourceArgs};
use crate::output::emit;
use crate::source;
use anyhow::Result;
use std::fmt::Write as _;

/// Prints every change, one name-status line each, paths git-quoted.
pub fn run(global: &GlobalArgs, source: &SourceArgs) -> Result<()> {
    let config = crate::settings::load_config(global)?;
    let options = source::SourceOptions {
        verbose: global.verbose,
        default_branch: config.and_then(|c| c.file.default_branch),
        quiet: global.quiet,
    };
    let changes = source::collect(source, &options)?.changes;
    let mut out = String::new();
    for change in &changes {
        let _ = writeln!(out, "{change}");
    }
    emit(global.output.as_deref(), &out)?;
    Ok(())
}
