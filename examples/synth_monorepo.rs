//! `cargo run --release --example synth_monorepo -- DIR [FILES] [CHANGES]`:
//! writes a synthetic monorepo (branches `main` and `feature`, checked out on
//! `feature`) to try childgen at scale, e.g.
//! `childgen changes --repo DIR --base main --head feature`.
//!
//! `synth_monorepo --moves DIR [FILES] [EXACT] [SAME_NAME] [RENAMED]` writes the
//! benchmark's rename-heavy range instead (modules moved, some edited).

#[path = "../benches/synth.rs"]
mod synth;

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let moves = args.first().is_some_and(|a| a == "--moves");
    if moves {
        args.remove(0);
    }
    let Some(dir) = args.first() else {
        eprintln!(
            "usage: synth_monorepo DIR [FILES=100000] [CHANGES=10000]\n       synth_monorepo --moves DIR [FILES=6000] [EXACT=2000] [SAME_NAME=100] [RENAMED=900]"
        );
        return std::process::ExitCode::from(2);
    };
    let number = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let path = std::path::Path::new(dir);
    let made = if moves {
        synth::generate_moves(path, number(1, 6_000), number(2, 2_000), number(3, 100), number(4, 900))
    } else {
        synth::generate(path, synth::Shape::new(number(1, 100_000), number(2, 10_000)))
    };
    match made {
        Ok(summary) => {
            println!("{dir}: {summary}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
