//! Checkers must be able to fail on real runs, not only on hand-built histories (those
//! are in `src/protocols/paxos/check/tests.rs`): take a genuine lab trace, tamper with
//! it the way a broken node would, and the right property must fire, through the
//! harness's judging (`gauntlet::check::judge`), with the tampered event as witness.

use crate::support::run_typed;
use gauntlet::check::{judge, Verdict};
use gauntlet::explore::Lane;
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::protocol::RunSetup;
use gauntlet::protocols::paxos::{lab, Ballot, Node, Note, Paxos};
use gauntlet::value::Value;

/// The lab run "A, then B a second later" (turmoil lane), which passes every property.
fn lab_run() -> (RunSetup<Paxos>, History<Node>) {
    let run = run_typed(&Paxos, Lane::Turmoil, &lab(42, &[('A', 0), ('B', 1_000)]));
    assert!(run.verdict.is_ok(), "{:?}", run.verdict.violations);
    (run.setup, run.report.history)
}

fn judged(setup: &RunSetup<Paxos>, history: &History<Node>) -> Verdict {
    judge(&Paxos, setup, history)
}

/// A learner that "learns" a value nobody proposed breaks validity and learner
/// integrity; the forged event is in the witness.
#[test]
fn forged_learn_is_caught() {
    let (setup, mut history) = lab_run();
    history.push(
        5_000,
        Some(NodeId(3)),
        EventKind::Protocol(Note::Learned {
            ballot: Ballot::new(9, NodeId(4)),
            value: Value::new("Value_Z"),
        }),
    );
    let forged = history.len() - 1;
    let verdict = judged(&setup, &history);
    for property in ["validity", "learner_integrity"] {
        let v = verdict
            .violations
            .iter()
            .find(|v| v.property == property)
            .unwrap_or_else(|| panic!("{property} not reported: {:?}", verdict.violations));
        assert!(
            v.witness.contains(&forged),
            "{property} witness {:?}",
            v.witness
        );
    }
}

/// Two acceptors accepting another value at a higher ballot makes two values chosen:
/// agreement fires and names both values.
#[test]
fn second_chosen_value_breaks_agreement() {
    let (setup, mut history) = lab_run();
    for n in [1, 2] {
        history.push(
            6_000,
            Some(NodeId(n)),
            EventKind::Protocol(Note::Accepted {
                ballot: Ballot::new(9, NodeId(5)),
                value: Value::new("Value_B"),
            }),
        );
    }
    let verdict = judged(&setup, &history);
    let v = verdict
        .violations
        .iter()
        .find(|v| v.property == "agreement")
        .expect("agreement reported");
    assert!(
        v.message.contains("Value_A") && v.message.contains("Value_B"),
        "{}",
        v.message
    );
    assert!(v.witness.contains(&(history.len() - 1)));
}

/// Removing every learn from a run that entered the liveness phase breaks liveness,
/// naming all three learners.
#[test]
fn missing_learns_break_liveness() {
    let (setup, mut history) = lab_run();
    history
        .events
        .retain(|e| !matches!(e.kind, EventKind::Protocol(Note::Learned { .. })));
    let verdict = judged(&setup, &history);
    let v = verdict
        .violations
        .iter()
        .find(|v| v.property == "liveness")
        .expect("liveness reported");
    assert_eq!(v.nodes, vec![NodeId(1), NodeId(2), NodeId(3)]);
}
