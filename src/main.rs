//! The `childgen` binary: everything lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    childgen::run(std::env::args_os())
}
