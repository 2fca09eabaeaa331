//! The `childgen` binary: everything lives in the library.

use std::process::ExitCode;

// Rendering allocates many small JSON values; mimalloc makes that markedly cheaper.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    childgen::run(std::env::args_os())
}
