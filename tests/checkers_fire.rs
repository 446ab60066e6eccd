//! Checkers must be able to fail on real runs, not only on hand-built histories (those
//! are in `src/check/tests.rs`): take a genuine lab trace, tamper with it the way a
//! broken node would, and the right property must fire with the tampered event as
//! witness.

use gauntlet::check::{check_run, Roster};
use gauntlet::history::EventKind;
use gauntlet::ids::NodeId;
use gauntlet::paxos::{Ballot, Note, Value};
use gauntlet::sim::{run, Scenario};

fn lab_run() -> (gauntlet::history::History, Roster) {
    let scenario = Scenario::lab(42, &[('A', 0), ('B', 1_000)]);
    let m = scenario.cluster.membership();
    let roster = Roster {
        acceptors: m.acceptors,
        learners: m.learners,
        proposers: m.proposers,
    };
    (run(&scenario).history, roster)
}

/// A learner that "learns" a value nobody proposed breaks validity and learner
/// integrity; the forged event is in the witness.
#[test]
fn forged_learn_is_caught() {
    let (mut history, roster) = lab_run();
    assert!(check_run(&history, &roster).is_ok());
    history.push(
        5_000,
        Some(NodeId(3)),
        EventKind::Protocol(Note::Learned {
            ballot: Ballot::new(9, NodeId(4)),
            value: Value::new("Value_Z"),
        }),
    );
    let forged = history.len() - 1;
    let verdict = check_run(&history, &roster);
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
/// agreement fires and names both quorums.
#[test]
fn second_chosen_value_breaks_agreement() {
    let (mut history, roster) = lab_run();
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
    let verdict = check_run(&history, &roster);
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
    let (mut history, roster) = lab_run();
    history
        .events
        .retain(|e| !matches!(e.kind, EventKind::Protocol(Note::Learned { .. })));
    let verdict = check_run(&history, &roster);
    let v = verdict
        .violations
        .iter()
        .find(|v| v.property == "liveness")
        .expect("liveness reported");
    assert_eq!(v.nodes, vec![NodeId(1), NodeId(2), NodeId(3)]);
}
