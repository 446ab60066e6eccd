//! Hand-built log views, each small enough to check by eye: every log property fires
//! on its breach, with the right nodes and witness, and stays quiet on a correct run.

use super::super::tests::{n, names, only, rec, v};
use super::*;
use crate::protocol::shapes::Record;

fn submit(index: usize, node: u16, request: &str) -> Record {
    rec(
        index,
        node,
        Observation::Submitted {
            request: v(request),
        },
    )
}

fn decide(index: usize, node: u16, slot: u64, value: &str) -> Record {
    rec(
        index,
        node,
        Observation::SlotDecided {
            slot,
            value: v(value),
        },
    )
}

/// Clients submit r1 at n1 and r2 at n2; all three nodes decide slot 0 = r1 during
/// the faults and slot 1 = r2 in the liveness phase (which starts at index 5); the
/// run ends at index 9.
fn correct() -> ShapeView {
    ShapeView {
        records: vec![
            submit(0, 1, "r1"),
            submit(1, 2, "r2"),
            decide(2, 1, 0, "r1"),
            decide(3, 2, 0, "r1"),
            decide(4, 3, 0, "r1"),
            decide(6, 1, 1, "r2"),
            decide(7, 2, 1, "r2"),
            decide(8, 3, 1, "r2"),
        ],
        liveness_from: Some((5, 50)),
        end: Some((9, 90)),
        byzantine: BTreeSet::new(),
        deciders: vec![n(1), n(2), n(3)],
    }
}

/// `correct()` without its liveness phase: only `Always` properties are judged.
fn safety_only() -> ShapeView {
    ShapeView {
        liveness_from: None,
        ..correct()
    }
}

/// A correct run breaks nothing.
#[test]
fn correct_log_passes() {
    assert_eq!(judge_log(&correct()), vec![]);
}

/// Two nodes deciding another value for slot 0 than n1 break slot agreement once
/// for the slot: the witness is n1's decision and the first conflicting one.
#[test]
fn two_values_in_one_slot_break_slot_agreement() {
    let mut view = safety_only();
    view.records.insert(5, submit(5, 3, "r3"));
    view.records[3] = decide(3, 2, 0, "r3");
    view.records[4] = decide(4, 3, 0, "r3");
    let found = judge_log(&view);
    let x = only(&found, "slot_agreement");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1), n(2)], vec![2, 3])
    );
    assert_eq!(x.at_ms, 30);
    assert_eq!(names(&found), vec!["slot_agreement"], "nothing else broke");
}

/// A value no client submitted breaks slot validity, once per value, witnessed by
/// its first decision.
#[test]
fn a_value_from_nowhere_breaks_slot_validity() {
    let mut view = safety_only();
    view.records.retain(|r| r.index != 1);
    for (i, node) in [(6, 1), (7, 2), (8, 3)] {
        view.records.retain(|r| r.index != i);
        view.records.push(decide(i, node, 1, "ghost"));
    }
    let found = judge_log(&view);
    let x = only(&found, "slot_validity");
    assert_eq!((x.nodes.clone(), x.witness.clone()), (vec![n(1)], vec![6]));
    assert!(x.message.contains("ghost"), "{}", x.message);
    assert_eq!(names(&found), vec!["slot_validity"], "nothing else broke");
}

/// Deciding a slot a second time breaks slot integrity even with the same value:
/// the witness is the node's first and second decision of the slot.
#[test]
fn deciding_a_slot_twice_breaks_slot_integrity() {
    let mut view = correct();
    view.records.push(decide(9, 2, 1, "r2"));
    view.end = Some((10, 100));
    let found = judge_log(&view);
    let x = only(&found, "slot_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(2)], vec![7, 9])
    );
    assert!(x.message.contains("twice"), "{}", x.message);
    assert_eq!(names(&found), vec!["slot_integrity"], "nothing else broke");
}

/// Re-deciding a slot with another value is the node's own breach: slot integrity
/// fires, slot agreement (which compares nodes' first decisions) does not. Log
/// liveness fires too, rightly: n1 and n3 never decide r3.
#[test]
fn redeciding_a_slot_otherwise_breaks_integrity_not_agreement() {
    let mut view = correct();
    view.records.push(submit(9, 1, "r3"));
    view.records.push(decide(10, 2, 1, "r3"));
    view.end = Some((11, 110));
    let found = judge_log(&view);
    let x = only(&found, "slot_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(2)], vec![7, 10])
    );
    assert_eq!(names(&found), vec!["slot_integrity", "log_liveness"]);
}

/// Deciding one request in two slots (executing it twice) breaks slot integrity:
/// the witness is both decisions. The node's log stays gap-free and agreement has
/// no rival for slot 2, so nothing else fires.
#[test]
fn a_request_in_two_slots_breaks_slot_integrity() {
    let mut view = correct();
    view.records.push(decide(9, 3, 2, "r1"));
    view.end = Some((10, 100));
    let found = judge_log(&view);
    let x = only(&found, "slot_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(3)], vec![4, 9])
    );
    assert!(x.message.contains("two slots"), "{}", x.message);
    assert_eq!(names(&found), vec!["slot_integrity"], "nothing else broke");
}

/// A decider that never decides a submitted request breaks log liveness, witnessed
/// by the liveness phase's start and the run's end, dated at the end.
#[test]
fn an_undecided_request_breaks_log_liveness() {
    let mut view = correct();
    view.records.retain(|r| r.index != 8);
    let found = judge_log(&view);
    let x = only(&found, "log_liveness");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(3)], vec![5, 9])
    );
    assert_eq!(x.at_ms, 90);
    assert!(x.message.contains("r2 missing at [n3]"), "{}", x.message);
    assert_eq!(names(&found), vec!["log_liveness"], "nothing else broke");
}

/// A decider holding every request but with a hole in its log (slot 2 without slot
/// 1) breaks log liveness, and the message names the missing slot.
#[test]
fn a_hole_in_a_log_breaks_log_liveness() {
    let mut view = correct();
    view.records[7] = decide(8, 3, 2, "r2");
    let found = judge_log(&view);
    let x = only(&found, "log_liveness");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(3)], vec![5, 9])
    );
    assert!(
        x.message.contains("n3 lacks slots 1 below its slot 2"),
        "{}",
        x.message
    );
    assert_eq!(names(&found), vec!["log_liveness"], "nothing else broke");
}

/// Holes print as ranges, and a long list of undecided requests prints five and
/// counts the rest.
#[test]
fn long_liveness_lists_are_capped() {
    let mut view = correct();
    view.records[7] = decide(8, 3, 4, "r2");
    for i in 0..8 {
        view.records.push(submit(10 + i, 1, &format!("q{i}")));
    }
    view.end = Some((20, 200));
    let found = judge_log(&view);
    assert_eq!(names(&found), vec!["log_liveness", "log_liveness"]);
    assert!(
        found[0]
            .message
            .contains("q4 missing at [n1,n2,n3] and 3 more"),
        "{}",
        found[0].message
    );
    assert!(
        found[1]
            .message
            .contains("n3 lacks slots 1-3 below its slot 4"),
        "{}",
        found[1].message
    );
}

/// A Byzantine node's records are ignored: its conflicting, invented and repeated
/// decisions fire nothing, and it need not decide, though it is listed as a decider.
#[test]
fn a_byzantine_node_is_not_judged() {
    let mut view = correct();
    view.byzantine.insert(n(3));
    view.records.retain(|r| r.node != n(3));
    view.records.push(decide(4, 3, 0, "forged"));
    view.records.push(decide(8, 3, 0, "r2"));
    view.records.push(submit(8, 3, "r9"));
    view.records.sort_by_key(|r| r.index);
    assert_eq!(judge_log(&view), vec![]);
}

/// Without a liveness phase, a decider that decided nothing breaks nothing; the
/// same run with a liveness phase breaks log liveness.
#[test]
fn no_liveness_phase_means_no_liveness_judgement() {
    let mut view = correct();
    view.records.retain(|r| r.node != n(3));
    assert_eq!(names(&judge_log(&view)), vec!["log_liveness"]);
    view.liveness_from = None;
    assert_eq!(judge_log(&view), vec![]);
}

/// The listed properties are the four the judge reports, with stable names.
#[test]
fn log_properties_are_listed() {
    let listed: Vec<&str> = LOG_PROPERTIES.iter().map(|p| p.name).collect();
    assert_eq!(
        listed,
        vec![
            "slot_agreement",
            "slot_validity",
            "slot_integrity",
            "log_liveness"
        ]
    );
}
