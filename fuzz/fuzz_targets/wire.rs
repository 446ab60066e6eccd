//! Fuzz target `wire`: the body is `gauntlet::protocols::paxos::fuzz::wire`, which `cargo test` also runs
//! over the checked-in inputs in `fuzz/corpus/wire/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gauntlet::protocols::paxos::fuzz::wire(data));
