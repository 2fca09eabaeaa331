//! childgen turns the paths a merge request changed into a GitLab dynamic
//! child pipeline: changes → stop-word extraction → groups → Tera render →
//! merge → validate → YAML. See `docs/design.md` for the contract.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod change;
pub mod cli;
mod commands;
pub mod config;
pub mod emit;
pub mod error;
pub mod fastyaml;
pub mod files;
pub mod group;
pub mod merge;
pub mod output;
mod parallel;
pub mod pattern;
pub mod pipeline;
pub mod render;
pub mod rules;
pub mod safety;
pub mod schema;
pub mod settings;
pub mod source;
pub mod subset;
pub mod validate;
pub mod yaml11;

pub use error::{Error, Result};

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs childgen with these arguments (the first is the program name) and
/// returns the exit code: 0 success, 1 runtime failure, 2 bad input.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    // Templates render on a stack of the size their bounds are made for
    // (`parallel::STACK`); the main thread's is the system's.
    let outcome = std::thread::Builder::new()
        .name("childgen".to_owned())
        .stack_size(parallel::STACK)
        .spawn(move || commands::dispatch(cli))
        .map_or_else(
            |e| Err(anyhow::anyhow!("cannot start a thread: {e}")),
            |thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// Prints an error chain as one paragraph and picks the exit code.
fn report(err: &anyhow::Error) -> ExitCode {
    let broken_pipe = err
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {err:#}");
    let code = err
        .chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(1, Error::exit_code);
    ExitCode::from(code)
}
