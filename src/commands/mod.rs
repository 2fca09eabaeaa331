//! One module per subcommand. Commands may add context with anyhow; the
//! library below them returns typed errors.

mod changes;
mod explain;
mod generate;
mod init;
mod plan;
mod test;
mod validate;

use crate::cli::{Cli, Command};
use anyhow::Result;

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the command fails with.
pub fn dispatch(cli: Cli) -> Result<()> {
    let global = cli.global;
    match (cli.command, cli.render) {
        (Some(Command::Generate { source }), _) => generate::generate(&global, &source),
        (Some(Command::Render { args }), _) | (None, Some(args)) => generate::render(&global, &args),
        (Some(Command::Changes { source }), _) => changes::run(&global, &source),
        (Some(Command::Explain { paths }), _) => explain::run(&global, &paths),
        (Some(Command::Validate { file }), _) => validate::run(&global, &file),
        (Some(Command::Plan { source, format }), _) => plan::run(&global, &source, format),
        (Some(Command::Init { dir, force }), _) => init::run(&dir, force),
        (Some(Command::Test { dir, bless }), _) => test::run(&global, dir.as_deref(), bless),
        (Some(Command::Completions { shell }), _) => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "childgen", &mut script);
            crate::output::write_stdout(&String::from_utf8_lossy(&script))?;
            Ok(())
        }
        (None, None) => Err(crate::Error::Usage(
            "no command given; try `childgen generate`, or `childgen DIFF TEMPLATE PATTERNS` (see --help)".to_owned(),
        )
        .into()),
    }
}
