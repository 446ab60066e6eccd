//! Fuzz target `wire`: the body is `gauntlet::fuzz::wire`, which `cargo test` also runs
//! over the checked-in inputs in `fuzz/corpus/wire/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gauntlet::fuzz::wire(data));
