//! Hand-built histories for the generic checkers, each small enough to check by eye:
//! every property fires on its breach with the right witness, and stays quiet on a
//! correct run.

use super::*;
use crate::history::Event;
use crate::paxos::{Ballot, Note};

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

/// One event: `node` 0 means the harness.
fn ev(at_ms: u64, node: u16, kind: EventKind) -> Event {
    Event {
        at_ms,
        node: (node != 0).then_some(NodeId(node)),
        kind,
    }
}

fn proposed(value: &str) -> EventKind {
    EventKind::Proposed { value: v(value) }
}

fn decided(value: &str) -> EventKind {
    EventKind::Decided { value: v(value) }
}

fn phase(phase: Phase) -> EventKind {
    EventKind::PhaseStarted { phase }
}

fn end() -> EventKind {
    EventKind::RunEnded {
        reason: "bound".into(),
    }
}

const DECIDERS: [NodeId; 3] = [NodeId(1), NodeId(2), NodeId(3)];

/// Three nodes propose A, B, B; all decide B; the liveness phase runs to its end.
fn correct() -> Vec<Event> {
    vec![
        ev(0, 0, phase(Phase::Safety)),
        ev(0, 1, proposed("Value_A")),
        ev(0, 2, proposed("Value_B")),
        ev(0, 3, proposed("Value_B")),
        ev(100, 1, decided("Value_B")),
        ev(100, 2, decided("Value_B")),
        ev(150, 3, decided("Value_B")),
        ev(200, 0, phase(Phase::Liveness)),
        ev(300, 0, end()),
    ]
}

fn check(events: Vec<Event>) -> Verdict {
    check_generic(&History { events }, &DECIDERS)
}

fn only<'a>(verdict: &'a Verdict, property: &str) -> &'a Violation {
    let found: Vec<&Violation> = verdict
        .violations
        .iter()
        .filter(|x| x.property == property)
        .collect();
    assert_eq!(found.len(), 1, "{property}: {:?}", verdict.violations);
    found[0]
}

/// A correct run breaks nothing and reaches `value_chosen`.
#[test]
fn correct_run_passes() {
    let verdict = check(correct());
    assert_eq!(verdict.violations, vec![]);
    assert!(verdict.coverage.value_chosen);
    assert!(!verdict.coverage.duplicate_delivered);
}

/// Two values decided: agreement names both nodes, with the first decision of each
/// value as witness, dated at the second.
#[test]
fn two_decided_values_break_agreement() {
    let mut events = correct();
    events[5] = ev(120, 2, decided("Value_A"));
    let verdict = check(events);
    let x = only(&verdict, "agreement");
    assert_eq!(x.witness, vec![4, 5]);
    assert_eq!(x.nodes, vec![n(1), n(2)]);
    assert_eq!(x.at_ms, 120);
    assert_eq!(verdict.violations.len(), 1, "nothing else broke");
}

/// A decided value nobody proposed breaks validity, reported once per value with its
/// first decision; a client request counts as a proposal.
#[test]
fn a_value_from_nowhere_breaks_validity() {
    let mut events = correct();
    events.push(ev(
        5,
        3,
        EventKind::ClientRequest {
            value: v("Value_C"),
        },
    ));
    events[4] = ev(100, 1, decided("Value_Z"));
    events[5] = ev(100, 2, decided("Value_Z"));
    events[6] = ev(150, 3, decided("Value_C"));
    let verdict = check(events);
    let x = only(&verdict, "validity");
    assert_eq!(x.witness, vec![4]);
    assert!(x.message.contains("Value_Z"), "{}", x.message);
}

/// Deciding twice breaks decision integrity, even with the same value: the witness is
/// the first and the second decision.
#[test]
fn deciding_twice_breaks_integrity() {
    let mut events = correct();
    events.insert(7, ev(160, 2, decided("Value_B")));
    let verdict = check(events);
    let x = only(&verdict, "decision_integrity");
    assert_eq!(x.witness, vec![5, 7]);
    assert_eq!(x.nodes, vec![n(2)]);
}

/// A decider that never decides breaks liveness in a run with a liveness phase, and
/// only there: a run cut short in its safety phase is not judged.
#[test]
fn a_silent_decider_breaks_liveness() {
    let mut events = correct();
    events.remove(6);
    let verdict = check(events.clone());
    let x = only(&verdict, "liveness");
    assert_eq!(x.nodes, vec![n(3)]);
    assert_eq!(x.witness, vec![6, 7]);
    events.retain(|e| {
        !matches!(
            e.kind,
            EventKind::PhaseStarted {
                phase: Phase::Liveness
            }
        )
    });
    assert!(check(events).violations.is_empty());
}

/// Paxos histories read the same way: a `Learned` note is a decision, a `Proposed`
/// note a proposal, so two learners learning different values break generic
/// agreement.
#[test]
fn paxos_notes_are_read_as_proposals_and_decisions() {
    let b = Ballot::new(1, n(4));
    let events = vec![
        ev(
            0,
            4,
            EventKind::Protocol(Note::Proposed {
                value: v("Value_A"),
            }),
        ),
        ev(
            0,
            5,
            EventKind::Protocol(Note::Proposed {
                value: v("Value_B"),
            }),
        ),
        ev(
            9,
            1,
            EventKind::Protocol(Note::Learned {
                ballot: b,
                value: v("Value_A"),
            }),
        ),
        ev(
            9,
            2,
            EventKind::Protocol(Note::Learned {
                ballot: b,
                value: v("Value_B"),
            }),
        ),
    ];
    let verdict = check(events);
    assert_eq!(only(&verdict, "agreement").witness, vec![2, 3]);
    assert!(verdict.violations.iter().all(|x| x.property == "agreement"));
}

/// A message delivered twice (same sender and id) is the `duplicate_delivered`
/// coverage state, for plug-in messages too.
#[test]
fn duplicate_plug_in_delivery_is_covered() {
    let recv = || {
        ev(
            5,
            2,
            EventKind::MsgDelivered {
                from: n(1),
                msg_id: 7,
                msg: "Vote".into(),
            },
        )
    };
    let mut events = correct();
    events.push(recv());
    assert!(!check(events.clone()).coverage.duplicate_delivered);
    events.push(recv());
    assert!(check(events).coverage.duplicate_delivered);
}
