//! The lab's scenarios (3 servers that accept and learn, clients A and B) as
//! deterministic simulations, with insta snapshots of their full traces. The snapshots
//! are the reviewed record of what each scenario does; the asserts pin the winner.

use crate::support::assert_typed_holds;
use gauntlet::explore::Lane;
use gauntlet::history::EventKind;
use gauntlet::protocols::paxos::{self, Note, Paxos};
use gauntlet::value::Value;

/// Run a lab scenario in the turmoil lane; return the value every learner learned
/// (asserting they agree and that all three servers learned) and the trace.
fn lab(workload: &[(char, u64)]) -> (Value, String) {
    let scenario = paxos::lab(42, workload);
    let run = assert_typed_holds("lab", &Paxos, Lane::Turmoil, &scenario);
    let history = &run.report.history;
    let learned: Vec<(u16, Value)> = history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Protocol(Note::Learned { value, .. }) => {
                Some((e.node.unwrap().0, value.clone()))
            }
            _ => None,
        })
        .collect();
    let mut learners: Vec<u16> = learned.iter().map(|(n, _)| *n).collect();
    learners.sort();
    assert_eq!(learners, vec![1, 2, 3], "every server learns exactly once");
    let value = learned[0].1.clone();
    assert!(
        learned.iter().all(|(_, v)| *v == value),
        "learners disagree: {learned:?}"
    );
    (value, history.render())
}

/// Lab 1: only client A proposes, so `Value_A` is chosen.
#[test]
fn lab_1_only_a_proposes() {
    let (value, trace) = lab(&[('A', 0)]);
    assert_eq!(value, Value::new("Value_A"));
    insta::assert_snapshot!("lab_1_only_a_proposes", trace);
}

/// Lab 2: A proposes, B one second later. B's ballot finds `Value_A` accepted and
/// adopts it, so `Value_A` stays chosen.
#[test]
fn lab_2_a_then_b() {
    let (value, trace) = lab(&[('A', 0), ('B', 1_000)]);
    assert_eq!(value, Value::new("Value_A"));
    assert!(
        trace.contains("n5 adopt Value_A"),
        "B adopts A's value:\n{trace}"
    );
    insta::assert_snapshot!("lab_2_a_then_b", trace);
}

/// Lab 3: B first, A one second later: `Value_B`.
#[test]
fn lab_3_b_then_a() {
    let (value, trace) = lab(&[('B', 0), ('A', 1_000)]);
    assert_eq!(value, Value::new("Value_B"));
    assert!(
        trace.contains("n4 adopt Value_B"),
        "A adopts B's value:\n{trace}"
    );
    insta::assert_snapshot!("lab_3_b_then_a", trace);
}

/// Lab 4: both propose at once. Exactly one value is chosen and every learner learns
/// it (which one depends on the seeded latencies; the snapshot pins it for seed 42).
#[test]
fn lab_4_both_at_once() {
    let (value, trace) = lab(&[('A', 0), ('B', 0)]);
    assert!(value == Value::new("Value_A") || value == Value::new("Value_B"));
    insta::assert_snapshot!("lab_4_both_at_once", trace);
}
