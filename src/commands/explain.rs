//! `childgen explain PATH...`: each path's variables per rule, or why it does
//! not match. Exits 0 whether paths matched or not.

use crate::cli::GlobalArgs;
use crate::group::Selection;
use crate::output::emit;
use crate::settings::{Need, Settings};
use anyhow::Result;
use std::fmt::Write as _;

/// Explains every path against every rule.
pub fn run(global: &GlobalArgs, paths: &[String]) -> Result<()> {
    let settings = Settings::resolve(global, Need::Patterns)?;
    let mut out = String::new();
    for path in paths {
        let _ = writeln!(out, "{path}");
        for rule in &settings.rules {
            let vars = rule.pattern.vars();
            let verdict = match rule.select(path) {
                Selection::Values(values) => match settings.values.check(path, &vars, &values) {
                    Ok(()) => vars
                        .iter()
                        .zip(&values)
                        .map(|(v, x)| format!("{v}={x}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Err(e) => format!("rejected, the run would fail: {e}"),
                },
                Selection::Filtered => {
                    let globs = rule.paths.as_ref().map(|(g, _)| g.join(", ")).unwrap_or_default();
                    format!("no match: not in `paths` ({globs})")
                }
                Selection::Miss(reason) => format!("no match: {reason}"),
            };
            let _ = writeln!(out, "  {}: {verdict}", rule.name);
        }
    }
    emit(global.output.as_deref(), &out)?;
    Ok(())
}
