//! How much a failure owes to luck: one scenario (its cluster, workload and fault
//! schedule) played again under other run seeds, which draw its latencies and jitter
//! anew. A failure that most seeds show lives in its schedule; one that few seeds show
//! needed a lucky delivery order, and any search that draws latencies at random
//! (fresh or guided) waits about `1 / rate` runs for it even when handed the schedule
//! (docs/bugs.md, "What the found schedules allow").
//!
//! Reseed `i` (from 1) runs with seed [`reseed_seed`]`(scenario.seed, i)`, so the
//! counts are a pure function of the scenario, the lane and the number of reseeds; and
//! any one of them replays alone with `gauntlet run --scenario FILE --run-seed S`.

use super::{run_and_check, Lane, ProtocolRef};
use crate::check::Expectation;
use crate::rng::run_seed;
use crate::scenario::Scenario;
use crate::sim::RunEnd;
use std::collections::BTreeMap;

/// Most reseeds one call plays: a million fast-lane runs of a big cluster are minutes.
pub const RESEEDS_MAX: u64 = 1_000_000;
/// Run seeds kept per violated property, to replay a few of them.
pub const SEEDS_KEPT: usize = 3;

/// The run seed of reseed `index` (from 1) of a scenario whose seed is `base`.
pub fn reseed_seed(base: u64, index: u64) -> u64 {
    run_seed(base, index)
}

/// The runs that violated one property.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violated {
    /// A safety property (`Always`): one breach is a bug whatever happens after it.
    pub safety: bool,
    pub runs: u64,
    /// The first [`SEEDS_KEPT`] run seeds that violated it, in reseed order.
    pub seeds: Vec<u64>,
}

/// What the reseeds of one scenario showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReseedSummary {
    /// Reseeds played (fewer than asked when stopped).
    pub runs: u64,
    /// Runs in which every property held.
    pub held: u64,
    /// Runs the harness could not finish (a node's software failed): neither held nor
    /// violated.
    pub harness_errors: u64,
    /// Each violated property, by name, with its runs.
    pub violated: BTreeMap<&'static str, Violated>,
    /// Trace events over all runs, for their mean length (what one run costs).
    pub trace_events: u64,
    /// Stopped by the caller before every reseed was played.
    pub interrupted: bool,
}

impl ReseedSummary {
    /// Mean trace events a run (0 when nothing ran).
    pub fn mean_trace_events(&self) -> u64 {
        self.trace_events.checked_div(self.runs).unwrap_or(0)
    }
}

/// Play `scenario` under `reseeds` other run seeds in `lane` (at most
/// [`RESEEDS_MAX`]), one at a time, asking `stop` before each. The scenario must be
/// one the protocol accepts ([`super::AnyProtocol::check`]).
pub fn reseed(
    protocol: ProtocolRef,
    lane: Lane,
    scenario: &Scenario,
    reseeds: u64,
    stop: &dyn Fn() -> bool,
) -> ReseedSummary {
    let mut summary = ReseedSummary::default();
    let mut run = scenario.clone();
    for index in 1..=reseeds.min(RESEEDS_MAX) {
        if stop() {
            summary.interrupted = true;
            break;
        }
        run.seed = reseed_seed(scenario.seed, index);
        let judged = run_and_check(protocol, lane, &run);
        summary.runs += 1;
        summary.trace_events = summary
            .trace_events
            .checked_add(judged.trace.len() as u64)
            .expect("a million runs of bounded traces fit in u64");
        if matches!(judged.end, RunEnd::HarnessError(_)) {
            summary.harness_errors += 1;
            continue;
        }
        if judged.verdict.violations.is_empty() {
            summary.held += 1;
            continue;
        }
        let mut properties: Vec<(&'static str, bool)> = judged
            .verdict
            .violations
            .iter()
            .map(|v| (v.property, v.expectation == Expectation::Always))
            .collect();
        properties.sort_unstable();
        properties.dedup();
        for (property, safety) in properties {
            let entry = summary.violated.entry(property).or_default();
            entry.safety = safety;
            entry.runs += 1;
            if entry.seeds.len() < SEEDS_KEPT {
                entry.seeds.push(run.seed);
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::corpus::CorpusEntry;
    use crate::registry::Registry;
    use std::cell::Cell;

    /// The counts are those of a plain loop over the reseed seeds (every run judged
    /// once, each property counted once a run, the first seeds kept in order), and a
    /// stop request ends the reseeds before the next run, marked interrupted.
    #[test]
    fn reseeds_count_each_run_once_and_stop_when_asked() {
        let registry = Registry::builtin();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "corpus/known-failures/paxos-learner_integrity-learner_counts_duplicates-1ed4f236fe82ae4b.json",
        );
        let (entry, protocol) = CorpusEntry::load(&path, &|n| registry.get(n)).unwrap();
        let scenario = entry.scenario;
        let summary = reseed(protocol, Lane::Fast, &scenario, 200, &|| false);
        let mut failing = Vec::new();
        let mut events = 0;
        for index in 1..=200 {
            let mut run = scenario.clone();
            run.seed = reseed_seed(scenario.seed, index);
            let judged = run_and_check(protocol, Lane::Fast, &run);
            events += judged.trace.len() as u64;
            if judged.violates("learner_integrity") {
                failing.push(run.seed);
            }
        }
        assert!(!failing.is_empty() && failing.len() < 200, "{failing:?}");
        assert_eq!(summary.runs, 200);
        assert!(!summary.interrupted);
        assert_eq!(summary.trace_events, events);
        let violated = &summary.violated["learner_integrity"];
        assert!(violated.safety);
        assert_eq!(violated.runs, failing.len() as u64);
        assert_eq!(violated.seeds, failing[..SEEDS_KEPT.min(failing.len())]);
        assert_eq!(summary.held + violated.runs, 200, "{summary:?}");

        let asked = Cell::new(0);
        let stopped = reseed(protocol, Lane::Fast, &scenario, 200, &|| {
            asked.set(asked.get() + 1);
            asked.get() > 7
        });
        assert!(stopped.interrupted);
        assert_eq!(stopped.runs, 7);
    }
}
