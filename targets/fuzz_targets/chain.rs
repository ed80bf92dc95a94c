#![cfg_attr(feature = "libfuzzer", no_main)]
diverge_targets::fuzz_main!(diverge::target::Target::Chain);
