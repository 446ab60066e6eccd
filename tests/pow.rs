//! The proof-of-work chain through the contract: the correct chain stays clean under
//! the generator in the fast lane with every coverage property reached; `explore`
//! finds each planted bug within a stated budget, caught by the stated property, and
//! each has a kept known failure (which `tests/corpus.rs` replays); a long partition
//! with a small confirmation depth breaks confirmation safety (the CAP trade-off of
//! docs/chains.md) alike in both lanes, while the drafted depth holds; both lanes
//! agree on generated runs with faults.

use crate::support::{assert_budgets_found, assert_clean_and_covered, campaign, known_failures};
use gauntlet::check::judge;
use gauntlet::explore::{explore, AnyProtocol, Lane};
use gauntlet::fault::generate_scenario;
use gauntlet::protocol::prepare;
use gauntlet::protocols::pow::bugs::Bug;
use gauntlet::protocols::pow::Pow;
use gauntlet::scenario::Scenario;
use gauntlet::sim::run_setup;
use std::sync::atomic::AtomicBool;

/// Fast lane, per bug: (bug, campaign seed, budget in runs, property that catches it).
/// The comment gives the run at which that campaign first fails, measured with
/// `gauntlet hunt --protocol pow --all --lane fast --seeds 3` (docs/chains.md has the
/// table).
const FAST_BUDGETS: [(Bug, u64, u64, &str); 8] = [
    (Bug::ForkByHeight, 1, 100, "heaviest_chain"), // run 1
    (Bug::NoTargetCheck, 1, 500, "chain_valid"),   // run 119
    (Bug::AcceptsUnknownParent, 1, 100, "chain_valid"), // run 4
    (Bug::DropsRevertedTxs, 1, 100, "txs_settled"), // run 19
    (Bug::DoubleSpendAcrossReorg, 1, 300, "no_double_spend"), // run 5
    (Bug::NeverForwards, 1, 100, "common_prefix"), // run 3
    (Bug::NeverRedials, 1, 100, "finality_agreement"), // run 1
    (Bug::UnboundedOrphans, 1, 300, "orphan_pool_bounded"), // run 94
];

/// Every bug has a budget, and `explore` in the fast lane finds each within it,
/// caught by the stated property.
#[test]
fn explore_finds_every_pow_bug() {
    let registered: Vec<&str> = AnyProtocol::bugs(&Pow).iter().map(|b| b.name).collect();
    let catalog: Vec<&str> = Bug::ALL.iter().map(|b| b.planted().name).collect();
    assert_eq!(registered, catalog);
    assert!(registered.len() >= 8);
    for bug in Bug::ALL {
        assert!(FAST_BUDGETS.iter().any(|(b, ..)| *b == bug), "{bug:?}");
    }
    assert_budgets_found(
        &Pow,
        &FAST_BUDGETS.map(|(b, s, r, p)| (b.planted().name, s, r, p)),
    );
}

/// The correct chain under the generator: 1,000 fast-lane runs with no violation, and
/// every coverage property (a fork, a reorg, a partition both sides of which grew, a
/// node back through its bootstrap nodes) reached.
#[test]
fn correct_pow_stays_clean_under_the_generator() {
    let summary = explore(
        &campaign(&Pow, &[], 0x90, 1_000),
        &AtomicBool::new(false),
        |_, _| {},
    );
    assert_clean_and_covered(&summary, &Pow, 1_000, 4);
}

/// Every planted bug has a kept known failure whose scenario switches on exactly that
/// bug, and the CAP trade-off has its own (no bug, K = 3).
#[test]
fn every_pow_bug_has_a_kept_known_failure() {
    let entries = known_failures();
    for bug in Bug::ALL {
        let name = bug.planted().name;
        let kept = entries
            .iter()
            .any(|e| e.scenario.protocol == "pow" && e.scenario.bugs == [name]);
        assert!(
            kept,
            "{name}: no kept failure; keep one with `gauntlet keep --as known-failure FILE`"
        );
    }
    assert!(entries
        .iter()
        .any(|e| e.scenario.protocol == "pow" && e.scenario.bugs.is_empty()));
}

/// Four nodes split in two for 3 seconds, each side paying coin 1 to itself: both
/// sides keep mining (available), and at the heal one side's chain is reverted.
fn partitioned(confirm_depth: u64) -> Scenario {
    serde_json::from_value(serde_json::json!({
        "seed": 42, "protocol": "pow",
        "cluster": {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]},
        "network": {"latency_ms_min": 1, "latency_ms_max": 10},
        "workload": [{"proposer": 1, "value": "c1:n1", "at_ms": 10},
                     {"proposer": 3, "value": "c1:n3", "at_ms": 10}],
        "faults": [{"at_ms": 0, "type": "partition", "groups": [[1, 2], [3, 4]]},
                   {"at_ms": 3000, "type": "heal"}],
        "liveness_bound_ms": 30000,
        "params": {"block_interval_ms": 100, "bootstrap": [1, 3],
                   "confirm_depth": confirm_depth},
        "bugs": []
    }))
    .expect("a valid scenario")
}

/// The CAP trade-off: with K = 3 a 3-second partition breaks confirmation safety in
/// both lanes (a payment 3 blocks deep on the losing side is reverted; the message
/// names the deepest reorg), the lanes' traces are equal, and every node still
/// converges (liveness holds: the chain chose availability). With K = 60, more blocks
/// than the partition lets either side mine, the same run is clean.
#[test]
fn a_long_partition_breaks_confirmation_safety_for_small_k() {
    let small = prepare(&Pow, &partitioned(3)).expect("valid");
    let mut digests = Vec::new();
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Pow, &small, lane);
        let verdict = judge(&Pow, &small, &report.history);
        let first = verdict.violations.first().expect("a violation");
        assert_eq!(first.property, "confirmation_safety", "{lane:?}");
        assert!(
            first.message.contains("deepest reorg of the run"),
            "{first}"
        );
        assert!(verdict.liveness_ok(), "{lane:?}: {:?}", verdict.violations);
        digests.push(report.history.digest());
    }
    assert_eq!(digests[0], digests[1], "the lanes differ");
    let large = prepare(&Pow, &partitioned(60)).expect("valid");
    let report = run_setup(&Pow, &large, Lane::Fast);
    let verdict = judge(&Pow, &large, &report.history);
    assert!(verdict.is_ok(), "{:?}", verdict.violations);
}

/// Generated scenarios with their faults give the same trace in both lanes.
#[test]
fn both_lanes_agree_on_generated_runs_with_faults() {
    for seed in 0..12 {
        let scenario = generate_scenario(&Pow, seed);
        let setup = prepare(&Pow, &scenario).expect("valid");
        let fast = run_setup(&Pow, &setup, Lane::Fast).history.digest();
        let turmoil = run_setup(&Pow, &setup, Lane::Turmoil).history.digest();
        assert_eq!(fast, turmoil, "seed {seed}: the lanes differ");
    }
}
