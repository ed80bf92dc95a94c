//! `diverge`: runs consensus inputs through every implementation and reports where they disagree.

mod commands;

use clap::Parser;

fn main() {
    let cli = commands::Cli::parse();
    // Implementation panics are verdicts, recorded with their message: keep them off stderr.
    diverge::panics::quiet_caught_panics();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
