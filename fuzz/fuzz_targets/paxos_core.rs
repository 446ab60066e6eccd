//! Fuzz target `paxos_core`: the body is `gauntlet::protocols::paxos::fuzz::paxos_core`, which `cargo test` also runs
//! over the checked-in inputs in `fuzz/corpus/paxos_core/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gauntlet::protocols::paxos::fuzz::paxos_core(data));
