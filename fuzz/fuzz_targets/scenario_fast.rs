//! Fuzz target `scenario_fast`: the body is `gauntlet::fuzz::scenario_fast`, which
//! `cargo test` also runs over the checked-in inputs in `fuzz/corpus/scenario_fast/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gauntlet::fuzz::scenario_fast(&gauntlet::protocols::paxos::Paxos, data));
