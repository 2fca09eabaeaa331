//! `cargo run --release --example synth_monorepo -- DIR [FILES] [CHANGES]`:
//! writes a synthetic monorepo (branches `main` and `feature`, checked out on
//! `feature`) to try childgen at scale, e.g.
//! `childgen changes --repo DIR --base main --head feature`.

#[path = "../benches/synth.rs"]
mod synth;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: synth_monorepo DIR [FILES=100000] [CHANGES=10000]");
        return std::process::ExitCode::from(2);
    };
    let number = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match synth::generate(
        std::path::Path::new(dir),
        synth::Shape::new(number(1, 100_000), number(2, 10_000)),
    ) {
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
