//! Every fuzz target's body runs on stable Rust over its checked-in inputs
//! (`fuzz/corpus/<target>/`), and over a few thousand seeded random inputs, so a
//! regression in a target is caught by `cargo test`, not only by a fuzzing campaign.
//! The targets fuzz Paxos: its wire codec and cores (`protocols::paxos::fuzz`), and
//! the generic scenario bodies (`gauntlet::fuzz`) given Paxos.

use gauntlet::protocols::paxos::{fuzz, Paxos};
use gauntlet::rng::{stream_rng, Stream};
use rand_core::Rng;
use std::path::Path;

fn run_corpus(target: &str, body: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let files = gauntlet::explore::corpus::corpus_files(&dir); // *.json only: not these
    assert!(files.is_empty());
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| body(&data));
        assert!(
            result.is_ok(),
            "fuzz input {} fails target {target}",
            path.display()
        );
        count += 1;
    }
    count
}

fn random_inputs(seed: u64, count: usize, len_max: u64, body: fn(&[u8])) {
    let mut rng = stream_rng(seed, Stream::Scenario);
    for _ in 0..count {
        let len = (rng.next_u64() % len_max) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        body(&data);
    }
}

/// `wire`: checked-in inputs and 20,000 random byte strings never panic, and whatever
/// decodes re-encodes identically.
#[test]
fn wire_target() {
    assert!(run_corpus("wire", fuzz::wire) > 0);
    random_inputs(1, 20_000, 64, fuzz::wire);
}

/// `paxos_core`: checked-in inputs and 2,000 random schedules of deliveries,
/// duplicates, drops, timers and restarts keep agreement, validity and integrity.
#[test]
fn paxos_core_target() {
    assert!(run_corpus("paxos_core", fuzz::paxos_core) > 0);
    random_inputs(2, 2_000, 2_048, fuzz::paxos_core);
}

/// The `scenario` target's body: Paxos scenarios from the bytes, turmoil lane.
fn paxos_scenario(data: &[u8]) {
    gauntlet::fuzz::scenario(&Paxos, data)
}

/// The `scenario_fast` target's body: the same scenarios, fast lane.
fn paxos_scenario_fast(data: &[u8]) {
    gauntlet::fuzz::scenario_fast(&Paxos, data)
}

/// `scenario`: checked-in inputs run in the turmoil lane with every property holding.
#[test]
fn scenario_target() {
    assert!(run_corpus("scenario", paxos_scenario) > 0);
    random_inputs(3, 50, 96, paxos_scenario);
}

/// `scenario_fast`: the same inputs in the fast lane, plus more random ones (it is cheap).
#[test]
fn scenario_fast_target() {
    assert!(run_corpus("scenario_fast", paxos_scenario_fast) > 0);
    random_inputs(4, 2_000, 96, paxos_scenario_fast);
}
