//! One module per subcommand. Commands may add context with anyhow; the
//! library below them returns typed errors.

mod changes;
mod explain;
mod generate;
mod init;
mod plan;
mod test;
mod validate;

use crate::cli::{Cli, Command, GlobalArgs, OutputArgs, RuleArgs, TemplateArgs};
use anyhow::Result;

/// Lets go of what a command built without freeing it piece by piece: the
/// process ends right after, and the OS takes the memory back at once
/// (100,000 changes and their paths cost milliseconds to free one by one).
fn release<T>(value: T) {
    std::mem::forget(value);
}

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the command fails with.
pub fn dispatch(cli: Cli) -> Result<()> {
    if let (Some(_), Some(flag)) = (&cli.command, cli.legacy.given()) {
        return Err(crate::Error::Usage(format!(
            "{flag} goes after the command it is for (`childgen generate {flag} ...`); only --config, --verbose and --quiet go before it"
        ))
        .into());
    }
    let common = &cli.common;
    let options = |rules: Option<&RuleArgs>, output: Option<&OutputArgs>| GlobalArgs::new(common, rules, output);
    match (cli.command, cli.render) {
        (Some(Command::Generate { source, rules, output }), _) => {
            generate::generate(&options(Some(&rules), Some(&output)), &source)
        }
        (Some(Command::Render { args, template, output }), _) => {
            let rules = RuleArgs {
                render: template,
                ..RuleArgs::default()
            };
            generate::render(&options(Some(&rules), Some(&output)), &args)
        }
        (None, Some(args)) => {
            let rules = RuleArgs {
                render: TemplateArgs {
                    mode: cli.legacy.mode,
                    vars: cli.legacy.vars,
                },
                ..RuleArgs::default()
            };
            let output = OutputArgs {
                output: cli.legacy.output,
            };
            generate::render(&options(Some(&rules), Some(&output)), &args)
        }
        (Some(Command::Changes { source, output }), _) => changes::run(&options(None, Some(&output)), &source),
        (
            Some(Command::Explain {
                paths,
                patterns,
                output,
            }),
            _,
        ) => {
            let rules = RuleArgs {
                patterns,
                ..RuleArgs::default()
            };
            explain::run(&options(Some(&rules), Some(&output)), &paths)
        }
        (Some(Command::Validate { file, output }), _) => validate::run(&options(None, Some(&output)), &file),
        (
            Some(Command::Plan {
                source,
                format,
                pipeline,
                rules,
                output,
            }),
            _,
        ) => plan::run(
            &options(Some(&rules), Some(&output)),
            &source,
            format,
            pipeline.as_deref(),
        ),
        (Some(Command::Init { dir, force }), _) => init::run(&dir, force),
        (Some(Command::Test { dir, bless }), _) => test::run(&options(None, None), dir.as_deref(), bless),
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
