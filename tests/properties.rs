//! The main property: over generated scenarios with the full fault mix (partitions,
//! one-way partitions, drops, duplicates, delays, crashes with lost unsynced writes),
//! every safety property holds and, once faults heal, every learner learns.
//!
//! 1,000 cases by default; `PROPTEST_CASES=N` runs more. A failing case prints its seed
//! and the command that replays it.

use crate::support::{assert_all_properties_hold, seed_override};
use gauntlet::explore::Lane;
use gauntlet::sim::{scenario_strategy, Scenario};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    /// Every property holds for every generated scenario. The schedule comes from a
    /// proptest strategy, so a failure shrinks to a small schedule.
    #[test]
    fn every_property_holds_under_faults(scenario in scenario_strategy()) {
        let scenario = match seed_override() {
            Some(seed) => Scenario::generate(seed),
            None => scenario,
        };
        assert_all_properties_hold("every_property_holds_under_faults", &scenario);
    }

    /// The seed-driven generator (what `explore` runs) holds too.
    #[test]
    fn every_property_holds_for_generated_seeds(seed in any::<u64>()) {
        let seed = seed_override().unwrap_or(seed);
        assert_all_properties_hold("every_property_holds_for_generated_seeds", &Scenario::generate(seed));
    }
}

/// Even cluster sizes and the maximum role counts (9 acceptors, 5 proposers,
/// 9 learners) run and decide under faults.
#[test]
fn large_and_even_clusters_hold() {
    use gauntlet::ids::NodeId;
    use gauntlet::paxos::{Roles, Value};
    use gauntlet::sim::{Cluster, NodeSpec, Proposal};
    for (acceptors, proposers) in [(2u16, 2u16), (4, 3), (6, 2), (9, 5)] {
        for seed in 0..10 {
            let mut scenario = Scenario::generate(seed);
            let mut nodes: Vec<NodeSpec> = (1..=acceptors)
                .map(|i| NodeSpec {
                    id: NodeId(i),
                    roles: Roles {
                        acceptor: true,
                        learner: true,
                        proposer: false,
                    },
                })
                .collect();
            for i in 0..proposers {
                nodes.push(NodeSpec {
                    id: NodeId(acceptors + 1 + i),
                    roles: Roles {
                        proposer: true,
                        ..Roles::default()
                    },
                });
            }
            scenario.cluster = Cluster { nodes };
            scenario.workload = (0..proposers)
                .map(|i| Proposal {
                    proposer: NodeId(acceptors + 1 + i),
                    value: Value::new(format!("Value_{i}")),
                    at_ms: 10 * i as u64,
                })
                .collect();
            // Keep only faults that name nodes of this cluster.
            let ids = scenario.cluster.ids();
            scenario.faults.events.retain(|e| {
                let one = gauntlet::fault::FaultSchedule {
                    events: vec![e.clone()],
                };
                one.validate(&ids).is_ok()
            });
            assert_all_properties_hold("large_and_even_clusters_hold", &scenario);
        }
    }
}

/// proptest's shrinking works on the fault schedule, and gauntlet's shrinker finishes
/// the job: with a planted bug (acceptors accept below their promise), proptest's
/// reported minimum still fails but is not always 1-minimal (with this fixed RNG seed it
/// keeps a removable crash); `shrink_failure` on top of it gives a schedule where every
/// remaining event is needed. The proptest RNG has a fixed seed: deterministic.
#[test]
fn proptest_shrinks_the_fault_schedule() {
    use gauntlet::explore::run_and_check;
    use gauntlet::paxos::{Bug, Bugs};
    use gauntlet::sim::Scenario;
    use proptest::test_runner::{
        Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
    };
    let fails = |scenario: &Scenario| {
        run_and_check(scenario)
            .verdict
            .violations
            .iter()
            .any(|v| v.property == "agreement")
    };
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[0; 32]),
    );
    let strategy = scenario_strategy().prop_map(|mut s| {
        s.bugs = Bugs([Bug::AcceptorAcceptsBelowPromise].into_iter().collect());
        s
    });
    let result = runner.run(&strategy, |scenario| {
        if fails(&scenario) {
            Err(TestCaseError::fail("agreement violated"))
        } else {
            Ok(())
        }
    });
    let minimal = match result {
        Err(TestError::Fail(_, minimal)) => minimal,
        other => panic!("the planted bug was not found in 256 cases: {other:?}"),
    };
    assert!(fails(&minimal), "the reported minimum must still fail");
    let shrunk = gauntlet::explore::shrink_failure(Lane::Turmoil, &minimal, "agreement", 2_000);
    assert!(!shrunk.stopped_early);
    let done = shrunk.scenario;
    assert!(fails(&done));
    assert!(done.faults.events.len() <= minimal.faults.events.len());
    for i in 0..done.faults.events.len() {
        let mut smaller = done.clone();
        smaller.faults.events.remove(i);
        assert!(
            !fails(&smaller),
            "event {i} of the shrunk schedule is not needed: {:?}",
            done.faults.events[i]
        );
    }
}
