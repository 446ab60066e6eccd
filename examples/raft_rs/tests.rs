//! raft-rs under gauntlet, as `cargo test` keeps it: the correct adapter is clean in
//! both lanes and replays exactly, each planted adapter bug is caught within a stated
//! run budget, and the shrunk failures kept in `examples/raft_rs/corpus/` still fail
//! as recorded (docs/raft-rs.md has the full campaigns these budgets come from).

use super::*;
use gauntlet::explore::corpus::check_corpus;
use gauntlet::explore::{explore, run_and_check, CampaignConfig, Lane, ProtocolRef};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

const RAFT: ProtocolRef = &RaftRs;

fn campaign(lane: Lane, base_seed: u64, runs: u64, bugs: &[&str]) -> CampaignConfig {
    CampaignConfig {
        runs,
        base_seed,
        // One worker: the first failure is then the campaign's first failing run, as
        // `hunt` counts it.
        jobs: 1,
        bugs: bugs.iter().map(|b| b.to_string()).collect(),
        failures_dir: None,
        lane,
        protocol: RAFT,
        shard: gauntlet::explore::Shard::WHOLE,
        // Every failing run counted, as the checks below expect.
        stop_rule: gauntlet::explore::StopRule::KeepGoing {
            saved_bytes_max: u64::MAX,
        },
        guided: false,
    }
}

/// The correct adapter holds every log property and raft-rs never panics, over a
/// short campaign with the full fault mix in each lane (the 10,000-run campaign is in
/// docs/raft-rs.md), and the fast campaign reaches raft-rs's hard paths: leader
/// changes and overwritten log suffixes.
#[test]
fn raft_rs_is_clean_in_both_lanes() {
    for (lane, runs) in [(Lane::Fast, 1_000), (Lane::Turmoil, 40)] {
        let summary = explore(
            &campaign(lane, 1, runs, &[]),
            &AtomicBool::new(false),
            |_, _| {},
        );
        assert_eq!(summary.runs_done, runs);
        assert!(
            summary.failures.is_empty(),
            "{lane:?}: {:?}",
            summary.failures.first()
        );
        if lane == Lane::Fast {
            assert!(summary.coverage.get("leader_changed") > 0);
            assert!(summary.coverage.get("suffix_overwritten") > 0);
        }
    }
}

/// Same seed, same trace: raft-rs's election timeouts come from the node's seeded
/// stream, not its global RNG, so a run replays byte for byte, and the two lanes give
/// it the same trace.
#[test]
fn raft_rs_runs_replay_exactly_in_both_lanes() {
    for seed in [3, 11] {
        let scenario = RAFT.generate(seed);
        let fast = run_and_check(RAFT, Lane::Fast, &scenario);
        let again = run_and_check(RAFT, Lane::Fast, &scenario);
        let turmoil = run_and_check(RAFT, Lane::Turmoil, &scenario);
        assert!(fast.trace.len() > 100, "seed {seed}: a run does something");
        assert_eq!(fast.trace.digest(), again.trace.digest(), "seed {seed}");
        assert_eq!(fast.trace.digest(), turmoil.trace.digest(), "seed {seed}");
    }
}

/// Each planted adapter bug, as a fast-lane campaign from `seed` finds it: (bug,
/// campaign seed, run budget, property that catches it). Budgets come from `hunt`
/// (docs/raft-rs.md) with headroom.
const BUDGETS: [(PlantedBug, u64, u64, &str); 3] = [
    (ANNOUNCE_BEFORE_COMMIT, 1, 100, "slot_integrity"), // run 3
    (HARD_STATE_NOT_PERSISTED, 1, 200, "library_never_panics"), // run 22
    (ENTRIES_NOT_FSYNCED, 1, 100, "library_never_panics"), // run 3
];

/// Every planted bug is caught within its budget, by the property the table names.
#[test]
fn planted_bugs_are_caught_within_budget() {
    for (bug, seed, runs, property) in BUDGETS {
        let stop = AtomicBool::new(false);
        let mut found: Option<String> = None;
        explore(
            &campaign(Lane::Fast, seed, runs, &[bug.name]),
            &stop,
            |_, failure| {
                if let Some(v) = failure.and_then(|f| f.violations.first()) {
                    found.get_or_insert_with(|| v.property.to_string());
                    stop.store(true, Ordering::Relaxed);
                }
            },
        );
        let found = found.unwrap_or_else(|| {
            panic!(
                "{} not found in {runs} runs from seed {seed}; re-measure: \
                 cargo run --release --example raft_rs -- hunt --bug {}",
                bug.name, bug.name
            )
        });
        assert_eq!(found, property, "{} caught by {found}", bug.name);
    }
}

/// The kept, shrunk failures still fail with their recorded property, and there is
/// one per planted bug.
#[test]
fn kept_failures_still_fail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/raft_rs/corpus");
    assert_eq!(check_corpus(&[RAFT], &root), Ok(BUGS.len()));
}
