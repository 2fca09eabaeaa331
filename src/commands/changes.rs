//! `childgen changes`: the detected changes, as `git diff --name-status`.

use crate::cli::{GlobalArgs, SourceArgs};
use crate::output::emit;
use crate::source;
use anyhow::Result;
use std::fmt::Write as _;

/// Prints every change, one name-status line each, paths git-quoted.
pub fn run(global: &GlobalArgs, source: &SourceArgs) -> Result<()> {
    let changes = source::collect(source, global.verbose)?;
    let mut out = String::new();
    for change in &changes {
        let _ = writeln!(out, "{change}");
    }
    emit(global.output.as_deref(), &out)?;
    Ok(())
}
