//! Fuzz target `scenario`: the body is `gauntlet::fuzz::scenario` on Paxos, which `cargo test` also runs
//! over the checked-in inputs in `fuzz/corpus/scenario/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gauntlet::fuzz::scenario(&gauntlet::protocols::paxos::Paxos, data));
