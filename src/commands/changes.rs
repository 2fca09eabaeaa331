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
        // Lines gather in a buffer that goes out 64 KiB at a time.
        let mut buffer = String::with_capacity(1 << 16);
        for change in &changes {
            change.push_line(&mut buffer);
            if buffer.len() >= (1 << 16) - 4096 {
                out.write_str(&buffer)?;
                buffer.clear();
            }
        }
        out.write_str(&buffer)
    })?;
    super::release(changes);
    Ok(())
}
