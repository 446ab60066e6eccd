//! The main property: over generated scenarios with the full fault mix (partitions,
//! one-way partitions, drops, duplicates, delays, crashes with lost unsynced writes),
//! every safety property holds and, once faults heal, every learner learns.
//!
//! 1,000 cases by default; `PROPTEST_CASES=N` runs more. A failing case prints its seed
//! and the command that replays it.

use crate::support::{assert_all_properties_hold, seed_override};
use gauntlet::explore::{AnyProtocol, Lane};
use gauntlet::fault::{strategy, SCENARIO_FAULT_EVENTS_MAX};
use gauntlet::protocols::paxos::Paxos;
use gauntlet::scenario::Scenario;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// The Paxos scenario generated from `seed` (what `explore` runs).
fn generated(seed: u64) -> Scenario {
    AnyProtocol::generate(&Paxos, seed)
}

/// Paxos scenarios with the full fault mix: the cluster and workload come from a seed,
/// the fault schedule from `gauntlet::fault::strategy::schedule` (over Paxos's message
/// kinds, within the generator's horizon and event limit), so shrinking works on the
/// schedule (events removed, rates lowered, times earlier) before it touches the seed.
fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    any::<u64>().prop_flat_map(|seed| {
        let base = generated(seed);
        let kinds = AnyProtocol::message_kinds(&Paxos)
            .iter()
            .map(|k| k.to_string())
            .collect();
        strategy::schedule(base.cluster.ids(), kinds, 3_000, SCENARIO_FAULT_EVENTS_MAX).prop_map(
            move |faults| Scenario {
                faults,
                ..base.clone()
            },
        )
    })
}

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
            Some(seed) => generated(seed),
            None => scenario,
        };
        assert_all_properties_hold("every_property_holds_under_faults", &Paxos, Lane::Turmoil, &scenario);
    }

    /// The seed-driven generator (what `explore` runs) holds too.
    #[test]
    fn every_property_holds_for_generated_seeds(seed in any::<u64>()) {
        let seed = seed_override().unwrap_or(seed);
        assert_all_properties_hold("every_property_holds_for_generated_seeds", &Paxos, Lane::Turmoil, &generated(seed));
    }
}

/// Even cluster sizes and the maximum role counts (9 acceptors, 5 proposers,
/// 9 learners) run and decide under faults.
#[test]
fn large_and_even_clusters_hold() {
    use gauntlet::fault::FaultSchedule;
    use gauntlet::ids::NodeId;
    use gauntlet::protocols::paxos::{PaxosParams, Roles};
    use gauntlet::scenario::{Cluster, NodeSpec, Proposal};
    use gauntlet::value::Value;
    for (acceptors, proposers) in [(2u16, 2u16), (4, 3), (6, 2), (9, 5)] {
        for seed in 0..10 {
            let mut scenario = generated(seed);
            let mut nodes: Vec<(NodeId, Roles)> = (1..=acceptors)
                .map(|i| {
                    let server = Roles {
                        acceptor: true,
                        learner: true,
                        proposer: false,
                    };
                    (NodeId(i), server)
                })
                .collect();
            for i in 0..proposers {
                let client = Roles {
                    proposer: true,
                    ..Roles::default()
                };
                nodes.push((NodeId(acceptors + 1 + i), client));
            }
            scenario.cluster = Cluster {
                nodes: nodes.iter().map(|&(id, _)| NodeSpec { id }).collect(),
            };
            scenario.params = serde_json::to_value(PaxosParams::from_roles(&nodes)).unwrap();
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
                let one = FaultSchedule {
                    events: vec![e.clone()],
                };
                one.validate(&ids).is_ok()
            });
            assert_all_properties_hold(
                "large_and_even_clusters_hold",
                &Paxos,
                Lane::Turmoil,
                &scenario,
            );
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
    use gauntlet::protocols::paxos::Bug;
    use proptest::test_runner::{
        Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
    };
    let fails =
        |scenario: &Scenario| run_and_check(&Paxos, Lane::Turmoil, scenario).violates("agreement");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[0; 32]),
    );
    let strategy = scenario_strategy().prop_map(|mut s| {
        s.bugs = vec![Bug::AcceptorAcceptsBelowPromise.name().to_string()];
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
    let shrunk =
        gauntlet::explore::shrink_failure(&Paxos, Lane::Turmoil, &minimal, "agreement", 2_000);
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

/// Byzantine generals scenarios (4, 7 or 10 generals, from a seed) with the full fault
/// mix and up to `m` traitors from `strategy::schedule_with_traitors` (silent,
/// mutating and replaying traitors, twins and the generals' named adversary), within
/// the synchrony bound (faults start within 500 ms).
fn generals_strategy() -> impl Strategy<Value = Scenario> {
    use gauntlet::protocols::generals::Generals;
    any::<u64>().prop_flat_map(|seed| {
        let base = AnyProtocol::generate(&Generals::WITHIN_BOUND, seed);
        let kinds = AnyProtocol::message_kinds(&Generals::WITHIN_BOUND)
            .iter()
            .map(|k| k.to_string())
            .collect();
        let adversaries = gauntlet::protocol::Protocol::strategies(&Generals::WITHIN_BOUND)
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = (base.cluster.len() - 1) / 3;
        strategy::schedule_with_traitors(base.cluster.ids(), kinds, adversaries, 500, 8, m)
            .prop_map(move |faults| Scenario {
                faults,
                ..base.clone()
            })
            // OM(m) refuses a broken connection on a loyal general's link (it loses a
            // message in whatever round comes next; `Generals::check_params`).
            .prop_filter("a schedule OM(m) accepts", |scenario| {
                AnyProtocol::check(
                    &gauntlet::protocols::generals::Generals::WITHIN_BOUND,
                    scenario,
                )
                .is_ok()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases().min(200),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    /// OM(m) keeps IC1 and IC2 (and decides) for every schedule with at most m
    /// traitors: Byzantine faults come from a proptest strategy, so a failure shrinks
    /// toward fewer traitors and events.
    #[test]
    fn generals_hold_with_at_most_m_traitors(scenario in generals_strategy()) {
        use gauntlet::protocols::generals::Generals;
        assert_all_properties_hold(
            "generals_hold_with_at_most_m_traitors",
            &Generals::WITHIN_BOUND,
            Lane::Fast,
            &scenario,
        );
    }
}
