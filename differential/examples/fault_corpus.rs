//! Writes the injected-fault inputs of the `fault-injection` build (`diverge::faults`) into a
//! directory, one file per fault, for a demonstration campaign next to the shipped seeds:
//!
//! ```text
//! cargo run --release -p diverge --features fault-injection --example fault_corpus -- DIR
//! cargo run --release -p diverge --features fault-injection -- fuzz --corpus DIR --target voluntary_exit attestation ...
//! ```

use diverge::faults::{input, Fault};

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: fault_corpus DIR");
        std::process::exit(2);
    };
    let faults: [(&str, Fault, &[&str]); 7] = [
        ("panic-both", Fault::Panic, &["spec", "fast"]),
        ("internal-both", Fault::Internal, &["spec", "fast"]),
        ("sleep-both", Fault::Sleep, &["spec", "fast"]),
        ("abort-fast", Fault::Abort, &["fast"]),
        ("stack-overflow-spec", Fault::StackOverflow, &["spec"]),
        ("allocate-fast", Fault::Allocate, &["fast"]),
        ("panic-fast", Fault::Panic, &["fast"]),
    ];
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        std::process::exit(1);
    }
    for (name, fault, implementations) in faults {
        let path = dir.join(format!("fault-{name}.bin"));
        if let Err(e) = std::fs::write(&path, input(fault, implementations)) {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
        println!("{}", path.display());
    }
}
