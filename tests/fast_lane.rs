//! The fast lane (`sim::run_fast`): the same cores driven by a discrete-event loop
//! instead of turmoil. These tests hold it to the turmoil lane's semantics: the lab
//! scenarios choose the same values, the same judges pass over thousands of generated
//! Paxos scenarios and reach every coverage state, the lanes agree on how generated
//! runs end (failing runs too, as far as they do today), and crashes, partitions and
//! the fault layer behave as the shell and turmoil make them behave. That runs replay
//! exactly in each lane is in `tests/determinism.rs`.

use crate::support::{assert_typed_holds, run_typed, seed_override};
use gauntlet::check::{CoverageCounts, Expectation, Verdict};
use gauntlet::explore::{
    campaign_scenario, first_divergence, run_and_check, AnyProtocol, Lane, ProtocolRef,
};
use gauntlet::fault::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::protocols::naive::Naive;
use gauntlet::protocols::paxos::{lab, Bug, Msg, Node, Note, Paxos};
use gauntlet::rng::run_seed;
use gauntlet::scenario::{NetworkConfig, Scenario};
use gauntlet::sim::{RunEnd, RunReport};
use gauntlet::value::Value;
use std::collections::BTreeMap;

/// A Paxos history.
type PaxosHistory = History<Node>;

/// Judge a fast-lane Paxos run; fail with the witnesses and the replay hint on any
/// violation or harness error.
fn fast_checked(test_name: &str, scenario: &Scenario) -> (RunReport<Node>, Verdict) {
    let run = assert_typed_holds(test_name, &Paxos, Lane::Fast, scenario);
    (run.report, run.verdict)
}

/// The turmoil lane's run of the same scenario, unjudged.
fn turmoil_run(scenario: &Scenario) -> RunReport<Node> {
    run_typed(&Paxos, Lane::Turmoil, scenario).report
}

/// Each learner's learned values, in history order.
fn learned(history: &PaxosHistory) -> BTreeMap<NodeId, Vec<Value>> {
    let mut out: BTreeMap<NodeId, Vec<Value>> = BTreeMap::new();
    for e in &history.events {
        if let EventKind::Protocol(Note::Learned { value, .. }) = &e.kind {
            out.entry(e.node.unwrap()).or_default().push(value.clone());
        }
    }
    out
}

/// The one value every server of a lab run learned (each exactly once).
fn lab_value(lane: &str, history: &PaxosHistory) -> Value {
    let learned = learned(history);
    let servers: Vec<NodeId> = learned.keys().copied().collect();
    assert_eq!(
        servers,
        vec![NodeId(1), NodeId(2), NodeId(3)],
        "{lane}: every server learns"
    );
    let value = learned[&NodeId(1)][0].clone();
    for (node, values) in &learned {
        assert_eq!(
            values,
            &vec![value.clone()],
            "{lane}: {node} learned {values:?}"
        );
    }
    value
}

/// The four lab scenarios choose the same value in both lanes, every learner learns it
/// exactly once, and the first three choose what the lab says: A alone gives `Value_A`,
/// A then B gives `Value_A` (B adopts it), B then A gives `Value_B`.
#[test]
fn lab_scenarios_choose_the_same_value_in_both_lanes() {
    type Workload = &'static [(char, u64)];
    let labs: [(Workload, Option<&str>); 4] = [
        (&[('A', 0)], Some("Value_A")),
        (&[('A', 0), ('B', 1_000)], Some("Value_A")),
        (&[('B', 0), ('A', 1_000)], Some("Value_B")),
        (&[('A', 0), ('B', 0)], None),
    ];
    for (workload, expected) in labs {
        let scenario = lab(42, workload);
        let (fast, _) = fast_checked(
            "lab_scenarios_choose_the_same_value_in_both_lanes",
            &scenario,
        );
        assert_eq!(fast.end, RunEnd::Settled, "{workload:?}");
        let turmoil = turmoil_run(&scenario);
        let fast_value = lab_value("fast lane", &fast.history);
        let turmoil_value = lab_value("turmoil lane", &turmoil.history);
        assert_eq!(fast_value, turmoil_value, "lanes disagree on {workload:?}");
        if let Some(expected) = expected {
            assert_eq!(fast_value, Value::new(expected), "{workload:?}");
        }
    }
}

/// 5,000 generated scenarios in the fast lane: the unchanged checkers find no violation
/// and no run ends in a harness error, and every coverage state (competing ballots,
/// adoption, restart between promise and accept, duplicate delivery, isolated majority,
/// a chosen value) is reached by some run, so the pass is not vacuous.
#[test]
fn fast_lane_generated_scenarios_hold_with_full_coverage() {
    let seeds: Vec<u64> = match seed_override() {
        Some(s) => vec![s],
        None => (0..5_000).map(|i| 0x5EED_0000 + i).collect(),
    };
    let many = seeds.len() > 1;
    let properties = AnyProtocol::properties(&Paxos);
    let mut coverage = CoverageCounts::for_properties(&properties);
    for seed in seeds {
        let (_, verdict) = fast_checked(
            "fast_lane_generated_scenarios_hold_with_full_coverage",
            &AnyProtocol::generate(&Paxos, seed),
        );
        coverage.add(&verdict);
    }
    if many {
        let sometimes = properties
            .iter()
            .filter(|p| p.expectation == Expectation::Sometimes);
        let mut named = 0;
        for p in sometimes {
            named += 1;
            assert!(
                coverage.get(p.name) > 0,
                "no run reached {}: {:?}",
                p.name,
                coverage.entries()
            );
        }
        assert!(named > 0, "Paxos lists coverage states");
    }
}

/// Generated runs of each planted Paxos bug the lane comparison plays (campaign seed
/// `0x1A4E_5000`), and of the naive vote.
const LANES_RUNS_PER_BUG: u64 = 50;
const LANES_RUNS_NAIVE: u64 = 300;

/// The lanes agree exactly: the same scenario gives the same trace, byte for byte (the
/// same digest), in the fast world and in the turmoil world, for correct runs and
/// failing ones alike.
///
/// Played: 200 generated Paxos scenarios; the same generator with each planted Paxos
/// bug switched on ([`LANES_RUNS_PER_BUG`] per bug, so many runs fail); and
/// [`LANES_RUNS_NAIVE`] naive-vote scenarios (some break agreement or liveness). A
/// difference names the scenario, the first differing event of each lane, and the
/// commands that print both traces. The test also requires that enough of the runs
/// fail, so failing runs are really compared.
///
/// Why they can agree: every node's draws come from streams of its own, a datagram
/// takes at least a millisecond, and a node takes what is due at one instant in one
/// order in both worlds (docs/architecture.md, "One network, two worlds").
#[test]
fn lanes_agree_on_outcomes_of_generated_scenarios() {
    let mut compared = 0u64;
    let mut failing = 0u64;
    let mut check = |protocol: ProtocolRef, scenario: &Scenario, what: &str| {
        let fast = run_and_check(protocol, Lane::Fast, scenario);
        let turmoil = run_and_check(protocol, Lane::Turmoil, scenario);
        if let Some((i, f, t)) = first_divergence(fast.trace.as_ref(), turmoil.trace.as_ref()) {
            let bugs: String = scenario
                .bugs
                .iter()
                .map(|b| format!(" --bug {b}"))
                .collect();
            panic!(
                "{what}, seed {}: the lanes differ at event {i}\n  fast:    {f:?}\n  turmoil: {t:?}\n\
                 see both: gauntlet run --seed {} --protocol {}{bugs} --trace --lane fast (and --lane turmoil)",
                scenario.seed,
                scenario.seed,
                protocol.name()
            );
        }
        assert_eq!(
            fast.verdict, turmoil.verdict,
            "{what}, seed {}",
            scenario.seed
        );
        compared += 1;
        failing += u64::from(!fast.verdict.violations.is_empty());
    };
    for seed in (0..200).map(|i| 0xC0DE_0000 + i) {
        check(&Paxos, &AnyProtocol::generate(&Paxos, seed), "paxos");
    }
    for bug in Bug::ALL {
        for i in 0..LANES_RUNS_PER_BUG {
            let seed = run_seed(0x1A4E_5000, i);
            let scenario = campaign_scenario(&Paxos, seed, &[bug.name().to_string()]);
            check(&Paxos, &scenario, bug.name());
        }
    }
    for i in 0..LANES_RUNS_NAIVE {
        let scenario = AnyProtocol::generate(&Naive, run_seed(0x4A1E_5000, i));
        check(&Naive, &scenario, "naive");
    }
    println!("lanes agree on {compared} runs, {failing} of them failing");
    assert!(failing >= 100, "only {failing} failing runs compared");
}

/// The lab cluster with every datagram taking exactly 5 ms: A's Prepare reaches the
/// acceptors at 5, their promises reach A at 10, A's Accepts reach them at 15.
fn fixed_latency_lab(faults: Vec<FaultEvent>) -> Scenario {
    let mut scenario = lab(7, &[('A', 0)]);
    scenario.network = NetworkConfig {
        latency_ms_min: 5,
        latency_ms_max: 5,
    };
    scenario.faults = FaultSchedule { events: faults };
    scenario
}

fn at(at_ms: u64, fault: Fault) -> FaultEvent {
    FaultEvent { at_ms, fault }
}

/// An acceptor crashed between its promise and the Accept recovers its promise. n1
/// promises at 5 ms (persisting it first), crashes at 12 with A's Accept in flight, and
/// restarts at 13: its new incarnation starts from the persisted promise, the Accept
/// that lands at 15 is accepted at that very ballot, and the coverage state
/// `restart_between_promise_and_accept` is reached. The turmoil lane does the same.
#[test]
fn crashed_acceptor_recovers_its_promise() {
    let n1 = NodeId(1);
    let scenario = fixed_latency_lab(vec![
        at(12, Fault::Crash { node: n1 }),
        at(13, Fault::Restart { node: n1 }),
    ]);
    let (fast, verdict) = fast_checked("crashed_acceptor_recovers_its_promise", &scenario);
    assert!(
        verdict
            .reached
            .contains(&"restart_between_promise_and_accept"),
        "{:?}",
        verdict.reached
    );
    for (lane, history) in [
        ("fast", &fast.history),
        ("turmoil", &turmoil_run(&scenario).history),
    ] {
        let promised = history
            .events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Protocol(Note::Promised { ballot }) if e.node == Some(n1) => {
                    Some((e.at_ms, *ballot))
                }
                _ => None,
            })
            .expect("n1 promised");
        assert_eq!(promised.0, 5, "{lane}");
        let restarted = history
            .events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Started {
                    incarnation: 1,
                    recovered,
                } if e.node == Some(n1) => Some((e.at_ms, recovered.clone())),
                _ => None,
            })
            .expect("n1 restarted");
        assert_eq!(restarted.0, 13, "{lane}");
        let acceptor = restarted
            .1
            .and_then(|s| s.acceptor.clone())
            .expect("{lane}: a disk");
        assert_eq!(acceptor.promised, Some(promised.1), "{lane}: promise kept");
        let accepted = history.events.iter().find_map(|e| match &e.kind {
            EventKind::Protocol(Note::Accepted { ballot, .. }) if e.node == Some(n1) => {
                Some((e.at_ms, *ballot))
            }
            _ => None,
        });
        assert_eq!(
            accepted,
            Some((15, promised.1)),
            "{lane}: accepted after restart"
        );
    }
}

/// Ids of the messages `from` sent matching `pred`, and whether each was delivered.
fn sent_and_delivered(
    history: &PaxosHistory,
    from: NodeId,
    pred: impl Fn(&Msg) -> bool,
) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    for e in &history.events {
        if let EventKind::Sent { msg_id, msg, .. } = &e.kind {
            if e.node == Some(from) && pred(msg) {
                let deliveries = history
                    .events
                    .iter()
                    .filter(|d| {
                        matches!(&d.kind, EventKind::Delivered { from: f, msg_id: m, .. }
                            if *f == from && m == msg_id)
                    })
                    .count();
                out.push((*msg_id, deliveries));
            }
        }
    }
    out
}

/// A partition drops what is in flight across it (turmoil clears the link's queue):
/// A's Prepares, sent at 0 and due at 5, are lost when A is cut off at 3; after the
/// liveness phase heals the network, A retries and every learner learns.
#[test]
fn partition_drops_messages_in_flight() {
    let a = NodeId(4);
    let scenario = fixed_latency_lab(vec![at(
        3,
        Fault::Partition {
            groups: vec![vec![a]],
        },
    )]);
    let (fast, _) = fast_checked("partition_drops_messages_in_flight", &scenario);
    let first_prepares = sent_and_delivered(
        &fast.history,
        a,
        |m| matches!(m, Msg::Prepare { ballot } if ballot.round == 1),
    );
    assert_eq!(first_prepares.len(), 3);
    assert!(
        first_prepares.iter().all(|(_, d)| *d == 0),
        "{first_prepares:?}"
    );
    assert_eq!(fast.end, RunEnd::Settled);
    assert_eq!(learned(&fast.history).len(), 3);
}

/// A one-way partition cuts one direction only: with A -> servers cut, A's Prepares
/// are lost while the servers' nudges still reach A.
#[test]
fn one_way_partition_cuts_one_direction() {
    let a = NodeId(4);
    let servers = vec![NodeId(1), NodeId(2), NodeId(3)];
    let scenario = fixed_latency_lab(vec![
        at(
            0,
            Fault::PartitionOneWay {
                from: vec![a],
                to: servers.clone(),
            },
        ),
        at(500, Fault::Heal),
    ]);
    let (fast, _) = fast_checked("one_way_partition_cuts_one_direction", &scenario);
    let before_heal = |id: u64| {
        fast.history.events.iter().any(|e| {
            e.at_ms < 500 && matches!(&e.kind, EventKind::Sent { msg_id, .. } if *msg_id == id)
        })
    };
    let from_a = sent_and_delivered(&fast.history, a, |_| true);
    assert!(from_a
        .iter()
        .filter(|(id, _)| before_heal(*id))
        .all(|(_, d)| *d == 0));
    let nudges = sent_and_delivered(&fast.history, NodeId(1), |m| matches!(m, Msg::Nudge));
    assert!(
        nudges.iter().any(|(id, d)| before_heal(*id) && *d == 1),
        "{nudges:?}"
    );
}

/// A message that arrives while its receiver is down is lost; one that arrives after
/// the restart reaches the new incarnation. n1 is down from 3 to 20: A's Prepare (due
/// at 5) is lost, and n1 still learns in the end.
#[test]
fn crashed_node_receives_nothing() {
    let n1 = NodeId(1);
    let scenario = fixed_latency_lab(vec![
        at(3, Fault::Crash { node: n1 }),
        at(20, Fault::Restart { node: n1 }),
    ]);
    let (fast, _) = fast_checked("crashed_node_receives_nothing", &scenario);
    let down = |t: u64| (3..20).contains(&t);
    assert!(!fast
        .history
        .events
        .iter()
        .any(|e| e.node == Some(n1) && down(e.at_ms)));
    assert!(learned(&fast.history).contains_key(&n1));
}

/// The fault layer as the shell uses it: with every message duplicated (phase 1 lasts
/// to 300 ms), each send is recorded `Sent` then `Duplicated` and delivered twice under
/// the same id; with every message dropped, nothing is delivered until the liveness
/// phase clears the rates.
#[test]
fn fault_layer_duplicates_and_drops() {
    let dup = fixed_latency_lab(vec![
        at(
            0,
            Fault::LinkFaults {
                link: None,
                faults: LinkFaults {
                    duplicate_probability: 1.0,
                    ..LinkFaults::default()
                },
            },
        ),
        at(300, Fault::Heal),
    ]);
    let (fast, verdict) = fast_checked("fault_layer_duplicates_and_drops", &dup);
    assert!(
        verdict.reached.contains(&"duplicate_delivered"),
        "{:?}",
        verdict.reached
    );
    let first_prepares = sent_and_delivered(
        &fast.history,
        NodeId(4),
        |m| matches!(m, Msg::Prepare { ballot } if ballot.round == 1),
    );
    assert_eq!(first_prepares.len(), 3);
    assert!(
        first_prepares.iter().all(|(_, d)| *d == 2),
        "{first_prepares:?}"
    );

    let drop = fixed_latency_lab(vec![
        at(
            0,
            Fault::LinkFaults {
                link: None,
                faults: LinkFaults {
                    drop_probability: 1.0,
                    ..LinkFaults::default()
                },
            },
        ),
        at(300, Fault::Heal),
    ]);
    let (fast, _) = fast_checked("fault_layer_duplicates_and_drops", &drop);
    let phase2_at = fast
        .history
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseStarted { .. }))
        .nth(1)
        .expect("liveness phase")
        .at_ms;
    assert!(fast
        .history
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Delivered { .. }))
        .all(|e| e.at_ms > phase2_at));
    assert_eq!(learned(&fast.history).len(), 3);
}

/// A copy the fault layer holds back dies with its sender, as the shell's delay task
/// does: A's first Prepares are each delayed by up to 200 ms, A crashes at 5 ms, and no
/// copy whose delay had not ended by then is ever delivered, though every such delay
/// ends well before the liveness phase. A's restart there is a new incarnation with new
/// message ids, and its value is still chosen.
#[test]
fn delayed_copies_die_with_their_sender() {
    let a = NodeId(4);
    let scenario = fixed_latency_lab(vec![
        at(
            0,
            Fault::LinkFaults {
                link: None,
                faults: LinkFaults {
                    delay_ms_max: 200,
                    ..LinkFaults::default()
                },
            },
        ),
        at(5, Fault::Crash { node: a }),
        at(300, Fault::Heal),
    ]);
    let (fast, _) = fast_checked("delayed_copies_die_with_their_sender", &scenario);
    let late: Vec<u64> = fast
        .history
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Delayed {
                msg_id, delay_ms, ..
            } if e.node == Some(a) && e.at_ms + delay_ms > 5 => Some(msg_id),
            _ => None,
        })
        .collect();
    assert!(!late.is_empty(), "some copy is held past the crash");
    let delivered = sent_and_delivered(&fast.history, a, |_| true);
    for id in late {
        assert!(
            delivered.contains(&(id, 0)),
            "#{id} delivered after its sender died"
        );
    }
    assert_eq!(
        learned(&fast.history)[&NodeId(1)],
        vec![Value::new("Value_A")]
    );
}
