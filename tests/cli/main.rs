//! CLI integration tests: one binary, one module per command.

mod support;

mod bounds;
mod cases;
mod changes;
mod errors;
mod explain;
mod git;
mod git_parity;
mod gitlab;
mod hostile;
mod output;
mod platform;
mod readme;
mod release;
mod render;
mod runner;
mod validate;
