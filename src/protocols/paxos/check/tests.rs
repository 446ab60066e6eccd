//! Hand-built histories, each small enough to check by eye, that pin down what every
//! Paxos judge reports and, as importantly, what it does not; coverage is read by
//! property name, as a campaign counts it.

use super::*;
use crate::check::{judge, CoverageCounts};
use crate::history::Phase;
use crate::protocol::{prepare, JudgeFn, Protocol, RunSetup, Verdict};
use crate::protocols::paxos::{
    lab, Ballot, DurableParts, DurableState, LearnerState, Msg, Note, PaxosParams, TimingConfig,
    Value,
};
use crate::scenario::Cluster;

type Event = crate::history::Event<Node>;
type EventKind = crate::history::EventKind<Node>;

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn nodes(ids: &[u16]) -> Vec<NodeId> {
    ids.iter().map(|&i| NodeId(i)).collect()
}

fn b(round: u64, proposer: u16) -> Ballot {
    Ballot::new(round, NodeId(proposer))
}

fn v(s: &str) -> Value {
    Value::new(s)
}

/// One event: `node` 0 means the harness (`None`).
fn ev(at_ms: u64, node: u16, kind: EventKind) -> Event {
    Event {
        at_ms,
        node: (node != 0).then_some(NodeId(node)),
        kind,
    }
}

fn hist(events: Vec<Event>) -> History {
    History::from_events(events)
}

fn proposed(value: &str) -> EventKind {
    EventKind::Protocol(Note::Proposed { value: v(value) })
}

fn promised(ballot: Ballot) -> EventKind {
    EventKind::Protocol(Note::Promised { ballot })
}

fn accepted(ballot: Ballot, value: &str) -> EventKind {
    EventKind::Protocol(Note::Accepted {
        ballot,
        value: v(value),
    })
}

fn learned(ballot: Ballot, value: &str) -> EventKind {
    EventKind::Protocol(Note::Learned {
        ballot,
        value: v(value),
    })
}

fn decided(ballot: Ballot, value: &str) -> EventKind {
    EventKind::Protocol(Note::Decided {
        ballot,
        value: v(value),
    })
}

fn phase(phase: Phase) -> EventKind {
    EventKind::PhaseStarted { phase }
}

fn run_ended() -> EventKind {
    EventKind::RunEnded {
        reason: "liveness bound".into(),
    }
}

/// 3 acceptors (n1..n3, also the learners), 2 proposers (n1, n2).
fn roster3() -> Roster {
    Roster {
        acceptors: nodes(&[1, 2, 3]),
        learners: nodes(&[1, 2, 3]),
        proposers: nodes(&[1, 2]),
    }
}

/// A failure-free run: n1 proposes A, every acceptor promises and accepts, every
/// learner learns, both proposers decide, the liveness phase runs to its end.
fn correct_history() -> History {
    hist(vec![
        ev(0, 0, phase(Phase::Safety)),
        ev(
            0,
            1,
            EventKind::ClientRequest {
                value: v("Value_A"),
            },
        ),
        ev(1, 1, proposed("Value_A")),
        ev(
            3,
            2,
            EventKind::ClientRequest {
                value: v("Value_B"),
            },
        ),
        ev(4, 2, proposed("Value_B")),
        ev(5, 1, promised(b(1, 1))),
        ev(5, 2, promised(b(1, 1))),
        ev(6, 3, promised(b(1, 1))),
        ev(10, 1, accepted(b(1, 1), "Value_A")),
        ev(11, 2, accepted(b(1, 1), "Value_A")),
        ev(12, 3, accepted(b(1, 1), "Value_A")),
        ev(15, 1, learned(b(1, 1), "Value_A")),
        ev(15, 2, learned(b(1, 1), "Value_A")),
        ev(16, 3, learned(b(1, 1), "Value_A")),
        ev(17, 1, decided(b(1, 1), "Value_A")),
        ev(18, 2, decided(b(1, 1), "Value_A")),
        ev(1200, 0, phase(Phase::Liveness)),
        ev(11200, 0, run_ended()),
    ])
}

/// A prepared Paxos run on nodes n1..n<highest id>, whose roles are `roster`'s (the
/// judges read the roster from the scenario's parameters).
fn setup(roster: &Roster) -> RunSetup<Paxos> {
    let highest = roster
        .acceptors
        .iter()
        .chain(&roster.learners)
        .chain(&roster.proposers)
        .map(|id| id.0)
        .max()
        .expect("a roster with nodes");
    let params = PaxosParams {
        acceptors: roster.acceptors.clone(),
        proposers: roster.proposers.clone(),
        learners: roster.learners.clone(),
        timing: TimingConfig::default(),
    };
    let mut scenario = lab(1, &[]);
    scenario.cluster = Cluster::of_size(highest);
    scenario.params = serde_json::to_value(&params).expect("params serialize");
    let setup = prepare(&Paxos, &scenario).expect("a valid Paxos scenario");
    let history = History::default();
    let judging = Judging::new(&history, &setup, &[]);
    assert_eq!(super::roster(&judging), *roster);
    setup
}

/// Every Paxos property over `h`, as the harness judges a run.
fn verdict(h: &History, roster: &Roster) -> Verdict {
    judge(&Paxos, &setup(roster), h)
}

/// Whether `h` reached the coverage property `property`, by its name in the verdict.
fn covers(h: &History, roster: &Roster, property: &Property) -> bool {
    assert_eq!(property.expectation, Expectation::Sometimes);
    verdict(h, roster).reached.contains(&property.name)
}

fn by_property<'a>(vs: &'a [Violation], property: &str) -> Vec<&'a Violation> {
    vs.iter().filter(|x| x.property == property).collect()
}

// ---------------------------------------------------------------- 1. correct run

/// A correct run (3 acceptors, 2 proposers, one value chosen, every learner learned,
/// liveness phase present) produces no violation and reports that a value was chosen:
/// the judges do not cry wolf on the normal case, and reach no other coverage state.
#[test]
fn correct_history_has_no_violations() {
    let h = correct_history();
    assert_eq!(check_run(&h, &roster3()), Vec::<Violation>::new());
    let verdict = verdict(&h, &roster3());
    assert_eq!(verdict.violations, Vec::<Violation>::new());
    assert!(verdict.safety_ok() && verdict.liveness_ok() && verdict.is_ok());
    assert_eq!(verdict.reached, vec![VALUE_CHOSEN.name]);
}

/// A learner may record `Learned` before the acceptors' `Accepted` notes appear in the
/// history (its messages outran the others' notes); integrity judges "chosen" at the
/// end of the run, so this is not a violation.
#[test]
fn learned_before_accepted_notes_recorded_is_fine() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),
        ev(5, 3, learned(b(1, 1), "Value_A")),
        ev(6, 1, accepted(b(1, 1), "Value_A")),
        ev(6, 2, accepted(b(1, 1), "Value_A")),
    ]);
    assert_eq!(check_safety(&h, &roster3()), vec![]);
}

// ---------------------------------------------------------------- 2. agreement

/// Two different values chosen (and a third after them) yield exactly one agreement
/// violation: the first conflict, dated when the second value became chosen, whose
/// witness is exactly the Accepted events of both quorums and whose nodes are their
/// acceptors. Choosing the same value again at a later ballot is not a conflict.
#[test]
fn two_chosen_values_break_agreement_once() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),           // 0
        ev(2, 2, proposed("Value_B")),           // 1
        ev(3, 3, proposed("Value_C")),           // 2
        ev(10, 1, accepted(b(1, 4), "Value_A")), // 3
        ev(11, 3, accepted(b(2, 5), "Value_B")), // 4
        ev(12, 2, accepted(b(1, 4), "Value_A")), // 5: A chosen at 1.4
        ev(13, 1, accepted(b(1, 4), "Value_A")), // 6: duplicate, not in quorum
        ev(14, 2, accepted(b(3, 4), "Value_A")), // 7
        ev(15, 3, accepted(b(3, 4), "Value_A")), // 8: A chosen again at 3.4
        ev(20, 2, accepted(b(2, 5), "Value_B")), // 9: B chosen at 2.5
        ev(30, 1, accepted(b(4, 4), "Value_C")), // 10
        ev(31, 3, accepted(b(4, 4), "Value_C")), // 11: C chosen at 4.4
    ]);
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    let x = &vs[0];
    assert_eq!(x.property, "agreement");
    assert_eq!(x.expectation, Expectation::Always);
    assert_eq!(x.at_ms, 20);
    assert_eq!(x.witness, vec![3, 4, 5, 9]);
    assert_eq!(x.nodes, nodes(&[1, 2, 3]));
    assert_eq!(
        x.message,
        "two values chosen: Value_A at 1.4 by [n1,n2], Value_B at 2.5 by [n2,n3]"
    );
    assert_eq!(
        check_run(&h, &roster3()),
        vs,
        "no liveness phase, nothing more"
    );
    let verdict = verdict(&h, &roster3());
    assert_eq!(verdict.violations, vs);
    assert!(!verdict.safety_ok());
    assert!(!verdict.is_ok());
}

// ---------------------------------------------------------------- 3. validity

/// A value nobody proposed that is chosen and then learned is one validity violation
/// (one per value), witnessed by the quorum that chose it and the learn; it is not also
/// an integrity violation, because it was chosen.
#[test]
fn unproposed_value_chosen_and_learned_breaks_validity() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),           // 0
        ev(10, 1, accepted(b(1, 1), "Value_X")), // 1
        ev(11, 2, accepted(b(1, 1), "Value_X")), // 2: X chosen
        ev(12, 3, accepted(b(1, 1), "Value_X")), // 3
        ev(15, 3, learned(b(1, 1), "Value_X")),  // 4
        ev(16, 1, learned(b(1, 1), "Value_X")),  // 5
    ]);
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    let x = &vs[0];
    assert_eq!(x.property, "validity");
    assert_eq!(x.witness, vec![1, 2, 4]);
    assert_eq!(x.nodes, nodes(&[1, 2, 3]));
    assert_eq!(x.at_ms, 11);
    assert!(x.message.contains("Value_X"), "{}", x.message);
    assert!(x.message.contains("never proposed"), "{}", x.message);
}

/// A client request counts as proposing a value: the same chosen value is valid when a
/// client asked for it, even if no proposer recorded `Proposed`.
#[test]
fn client_request_counts_as_proposal() {
    let h = hist(vec![
        ev(
            0,
            1,
            EventKind::ClientRequest {
                value: v("Value_X"),
            },
        ),
        ev(10, 1, accepted(b(1, 1), "Value_X")),
        ev(11, 2, accepted(b(1, 1), "Value_X")),
        ev(15, 3, learned(b(1, 1), "Value_X")),
    ]);
    assert_eq!(check_safety(&h, &roster3()), vec![]);
}

/// A learned value that was neither proposed nor chosen breaks validity (witness: the
/// learn) and learner integrity (it was never chosen): both properties see it.
#[test]
fn unproposed_learned_value_breaks_validity_and_integrity() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),          // 0
        ev(15, 2, learned(b(1, 1), "Value_Y")), // 1
    ]);
    let vs = check_safety(&h, &roster3());
    let validity = by_property(&vs, "validity");
    assert_eq!(validity.len(), 1, "{vs:#?}");
    assert_eq!(validity[0].witness, vec![1]);
    assert_eq!(validity[0].nodes, nodes(&[2]));
    assert_eq!(by_property(&vs, "learner_integrity").len(), 1, "{vs:#?}");
}

// ---------------------------------------------------------------- 4. integrity

/// A learner with two `Learned` events breaks integrity even when both name the chosen
/// value; the witness is both learns.
#[test]
fn learning_twice_breaks_integrity() {
    let mut h = correct_history();
    h.push(20, Some(n(2)), learned(b(1, 1), "Value_A")); // index 18; first learn is 12
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].property, "learner_integrity");
    assert_eq!(vs[0].witness, vec![12, 18]);
    assert_eq!(vs[0].nodes, nodes(&[2]));
    assert_eq!(vs[0].at_ms, 20);
    assert!(vs[0].message.contains("twice"), "{}", vs[0].message);
}

/// Learning a value that only a minority accepted breaks integrity, witnessed by the
/// learn alone (validity holds: the value was proposed).
#[test]
fn learning_an_unchosen_value_breaks_integrity() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_Z")),           // 0
        ev(10, 1, accepted(b(1, 1), "Value_Z")), // 1
        ev(15, 3, learned(b(1, 1), "Value_Z")),  // 2
    ]);
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].property, "learner_integrity");
    assert_eq!(vs[0].witness, vec![2]);
    assert_eq!(vs[0].nodes, nodes(&[3]));
    assert!(
        vs[0].message.contains("learned Value_Z") && vs[0].message.contains("no majority accepted"),
        "{}",
        vs[0].message
    );
}

/// A learner restarted with a learned value on disk (and no `Learned` event in the
/// history) that then learns a different value has learned twice; re-learning the same
/// value after such a recovery is not flagged (documented edge case).
#[test]
fn recovered_learned_value_counts_as_prior_learn() {
    let recovered = |value: &str| EventKind::Started {
        incarnation: 1,
        recovered: Some(DurableState::new(DurableParts {
            learner: Some(LearnerState {
                learned: Some(v(value)),
            }),
            ..DurableParts::default()
        })),
    };
    let base = vec![
        ev(1, 1, proposed("Value_A")),           // 0
        ev(2, 2, proposed("Value_B")),           // 1
        ev(10, 1, accepted(b(1, 1), "Value_A")), // 2
        ev(11, 2, accepted(b(1, 1), "Value_A")), // 3
        ev(12, 2, accepted(b(2, 2), "Value_B")), // 4
        ev(13, 3, accepted(b(2, 2), "Value_B")), // 5 (agreement broken, not under test)
        ev(50, 3, recovered("Value_A")),         // 6
    ];
    let mut different = base.clone();
    different.push(ev(60, 3, learned(b(2, 2), "Value_B"))); // 7
    let vs = check_safety(&hist(different), &roster3());
    let integrity = by_property(&vs, "learner_integrity");
    assert_eq!(integrity.len(), 1, "{vs:#?}");
    assert_eq!(integrity[0].witness, vec![6, 7]);

    let mut same = base;
    same.push(ev(60, 3, learned(b(1, 1), "Value_A")));
    let vs = check_safety(&hist(same), &roster3());
    assert_eq!(
        by_property(&vs, "learner_integrity"),
        Vec::<&Violation>::new()
    );
}

// ---------------------------------------------------------------- 5. liveness

/// After a liveness phase, learners without any `Learned` note are named in one
/// violation dated at the run's end, witnessed by the phase start and the run end; the
/// same history without a liveness phase (a run cut short) is not judged at all.
#[test]
fn missing_learn_after_liveness_phase_breaks_liveness() {
    let events = vec![
        ev(1, 1, proposed("Value_A")),           // 0
        ev(10, 1, accepted(b(1, 1), "Value_A")), // 1
        ev(11, 2, accepted(b(1, 1), "Value_A")), // 2
        ev(15, 1, learned(b(1, 1), "Value_A")),  // 3
        ev(1200, 0, phase(Phase::Liveness)),     // 4
        ev(11200, 0, run_ended()),               // 5
    ];
    assert_eq!(
        check_run(&hist(events.clone()), &roster3()),
        check_liveness(&hist(events.clone()), &roster3())
    );
    let verdict = verdict(&hist(events.clone()), &roster3());
    assert_eq!(verdict.violations.len(), 1, "{:#?}", verdict.violations);
    let x = &verdict.violations[0];
    assert_eq!(x.property, "liveness");
    assert_eq!(x.expectation, Expectation::Eventually);
    assert_eq!(x.nodes, nodes(&[2, 3]));
    assert_eq!(x.witness, vec![4, 5]);
    assert_eq!(x.at_ms, 11200);
    assert_eq!(
        x.message,
        "2 of 3 learners did not learn within the liveness bound: [n2,n3] (liveness phase from 1200ms to 11200ms)"
    );
    assert!(verdict.safety_ok());
    assert!(!verdict.liveness_ok());
    assert!(!verdict.is_ok());

    let cut_short: Vec<Event> = events
        .into_iter()
        .filter(|e| !matches!(e.kind, EventKind::PhaseStarted { .. }))
        .collect();
    assert_eq!(check_liveness(&hist(cut_short), &roster3()), vec![]);
}

/// A learner whose only trace of learning is a restart that recovered the learned value
/// (killed after persisting it, before recording the note) has learned: no liveness
/// violation. A recovered state without a learned value does not count.
#[test]
fn recovered_learned_value_counts_for_liveness() {
    let started = |learned: Option<&str>| EventKind::Started {
        incarnation: 1,
        recovered: Some(DurableState::new(DurableParts {
            learner: Some(LearnerState {
                learned: learned.map(v),
            }),
            ..DurableParts::default()
        })),
    };
    let mut events = vec![
        ev(1, 1, proposed("Value_A")),
        ev(10, 1, accepted(b(1, 1), "Value_A")),
        ev(11, 2, accepted(b(1, 1), "Value_A")),
        ev(15, 1, learned(b(1, 1), "Value_A")),
        ev(16, 3, learned(b(1, 1), "Value_A")),
        ev(40, 2, started(Some("Value_A"))),
        ev(1200, 0, phase(Phase::Liveness)),
        ev(11200, 0, run_ended()),
    ];
    assert_eq!(check_liveness(&hist(events.clone()), &roster3()), vec![]);
    events[5] = ev(40, 2, started(None));
    let vs = check_liveness(&hist(events), &roster3());
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].nodes, nodes(&[2]));
}

/// A proposer that took a client value and never decided (nor gave up) by the end of
/// the liveness phase breaks liveness even though every learner learned: its client
/// never got an answer. Deciding, or giving up, clears it; a restart that recovers the
/// client value makes it owe a decision again.
#[test]
fn proposer_that_never_finishes_breaks_liveness() {
    let mut h = correct_history();
    // Drop n2's decision (index 15).
    h.events.remove(15);
    let vs = check_liveness(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].nodes, nodes(&[2]));
    assert!(
        vs[0]
            .message
            .starts_with("proposers with a client value that never finished: [n2]"),
        "{}",
        vs[0].message
    );
    let mut gave_up = h.clone();
    gave_up.events.insert(
        15,
        ev(18, 2, EventKind::Protocol(Note::GaveUp { attempts: 3 })),
    );
    assert_eq!(check_liveness(&gave_up, &roster3()), vec![]);
    let mut restarted = correct_history();
    let recovered =
        crate::protocols::paxos::DurableState::new(crate::protocols::paxos::DurableParts {
            proposer: Some(crate::protocols::paxos::ProposerState {
                round: 1,
                value: Some(v("Value_A")),
            }),
            ..Default::default()
        });
    restarted.events.insert(
        16,
        ev(
            30,
            1,
            EventKind::Started {
                incarnation: 1,
                recovered: Some(recovered),
            },
        ),
    );
    let vs = check_liveness(&restarted, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].nodes, nodes(&[1]));
}

// ---------------------------------------------------------------- 6. even majorities

/// With 4 acceptors a majority is 3: a value accepted by 2 is not chosen (so learning it
/// breaks integrity and `value_chosen` stays false), and accepted by 3 it is chosen.
#[test]
fn four_acceptors_need_three() {
    let roster = Roster {
        acceptors: nodes(&[1, 2, 3, 4]),
        learners: nodes(&[5]),
        proposers: nodes(&[1]),
    };
    let mut h = hist(vec![
        ev(1, 1, proposed("Value_A")),
        ev(10, 1, accepted(b(1, 1), "Value_A")),
        ev(11, 2, accepted(b(1, 1), "Value_A")),
        ev(15, 5, learned(b(1, 1), "Value_A")),
    ]);
    let vs = check_safety(&h, &roster);
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].property, "learner_integrity");
    assert!(!covers(&h, &roster, &VALUE_CHOSEN));

    h.push(16, Some(n(3)), accepted(b(1, 1), "Value_A"));
    assert_eq!(check_safety(&h, &roster), vec![]);
    assert!(covers(&h, &roster, &VALUE_CHOSEN));
}

/// Two disjoint halves of 4 acceptors accepting different values do not break
/// agreement: neither half is a majority. (An off-by-one majority would report one.)
#[test]
fn four_acceptors_two_halves_are_not_two_choices() {
    let roster = Roster {
        acceptors: nodes(&[1, 2, 3, 4]),
        learners: vec![],
        proposers: nodes(&[1, 2]),
    };
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),
        ev(2, 2, proposed("Value_B")),
        ev(10, 1, accepted(b(1, 1), "Value_A")),
        ev(11, 2, accepted(b(1, 1), "Value_A")),
        ev(12, 3, accepted(b(1, 2), "Value_B")),
        ev(13, 4, accepted(b(1, 2), "Value_B")),
    ]);
    assert_eq!(check_safety(&h, &roster), vec![]);
}

// ---------------------------------------------------------------- 7. duplicates

/// The same acceptor recording the same acceptance twice, or a node outside the
/// roster's acceptors recording one, does not count toward a majority.
#[test]
fn duplicate_or_foreign_accepted_does_not_count() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_A")),
        ev(10, 1, accepted(b(1, 1), "Value_A")),
        ev(11, 1, accepted(b(1, 1), "Value_A")),
        ev(12, 9, accepted(b(1, 1), "Value_A")),
        ev(15, 2, learned(b(1, 1), "Value_A")),
    ]);
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1, "{vs:#?}");
    assert_eq!(vs[0].property, "learner_integrity");
    assert_eq!(vs[0].witness, vec![4]);
    assert!(!covers(&h, &roster3(), &VALUE_CHOSEN));
}

// ---------------------------------------------------------------- 8. coverage

/// `competing_ballots` needs one acceptor promising ballots of two different
/// proposers; two rounds of one proposer, or two proposers at different acceptors,
/// do not count.
#[test]
fn coverage_competing_ballots() {
    let r = roster3();
    let yes = hist(vec![
        ev(1, 1, promised(b(1, 1))),
        ev(2, 1, promised(b(1, 2))),
    ]);
    assert!(covers(&yes, &r, &COMPETING_BALLOTS));
    let same_proposer = hist(vec![
        ev(1, 1, promised(b(1, 1))),
        ev(2, 1, promised(b(2, 1))),
    ]);
    assert!(!covers(&same_proposer, &r, &COMPETING_BALLOTS));
    let different_acceptors = hist(vec![
        ev(1, 1, promised(b(1, 1))),
        ev(2, 2, promised(b(1, 2))),
    ]);
    assert!(!covers(&different_acceptors, &r, &COMPETING_BALLOTS));
}

/// `adopted_foreign_value` is set by an `Adopted` note and by nothing else.
#[test]
fn coverage_adopted_foreign_value() {
    let r = roster3();
    let yes = hist(vec![ev(
        1,
        2,
        EventKind::Protocol(Note::Adopted {
            ballot: b(2, 2),
            value: v("Value_A"),
            from_ballot: b(1, 1),
        }),
    )]);
    assert!(covers(&yes, &r, &ADOPTED_FOREIGN_VALUE));
    assert!(!covers(&correct_history(), &r, &ADOPTED_FOREIGN_VALUE));
}

/// `restart_between_promise_and_accept` needs Promised, then a crash of that same
/// node, then an Accepted by it, in that order.
#[test]
fn coverage_restart_between_promise_and_accept() {
    let r = roster3();
    let crash = |node: u16| EventKind::Crashed { node: n(node) };
    let yes = hist(vec![
        ev(1, 1, promised(b(1, 1))),
        ev(2, 0, crash(1)),
        ev(3, 0, EventKind::Restarted { node: n(1) }),
        ev(4, 1, accepted(b(1, 1), "Value_A")),
    ]);
    assert!(covers(&yes, &r, &RESTART_BETWEEN_PROMISE_AND_ACCEPT));
    let crash_before_promise = hist(vec![
        ev(1, 0, crash(1)),
        ev(2, 1, promised(b(1, 1))),
        ev(3, 1, accepted(b(1, 1), "Value_A")),
    ]);
    assert!(!covers(
        &crash_before_promise,
        &r,
        &RESTART_BETWEEN_PROMISE_AND_ACCEPT
    ));
    let other_node_crashed = hist(vec![
        ev(1, 1, promised(b(1, 1))),
        ev(2, 0, crash(2)),
        ev(3, 1, accepted(b(1, 1), "Value_A")),
    ]);
    assert!(!covers(
        &other_node_crashed,
        &r,
        &RESTART_BETWEEN_PROMISE_AND_ACCEPT
    ));
}

/// `duplicate_delivered` needs the same (receiver, sender, msg id) delivered twice; the
/// same id from another sender or to another receiver is a different message.
#[test]
fn coverage_duplicate_delivered() {
    let r = roster3();
    let recv = |from: u16, msg_id: u64| EventKind::Delivered {
        from: n(from),
        msg_id,
        msg: Msg::Nudge,
    };
    let yes = hist(vec![ev(1, 1, recv(2, 7)), ev(2, 1, recv(2, 7))]);
    assert!(covers(&yes, &r, &DUPLICATE_DELIVERED));
    let other_sender = hist(vec![ev(1, 1, recv(2, 7)), ev(2, 1, recv(3, 7))]);
    assert!(!covers(&other_sender, &r, &DUPLICATE_DELIVERED));
    let other_receiver = hist(vec![ev(1, 1, recv(2, 7)), ev(2, 3, recv(2, 7))]);
    assert!(!covers(&other_receiver, &r, &DUPLICATE_DELIVERED));
}

/// `majority_isolated` needs a partition group holding a majority of acceptors while
/// some proposer is outside it.
#[test]
fn coverage_majority_isolated() {
    let r = Roster {
        acceptors: nodes(&[1, 2, 3]),
        learners: nodes(&[1, 2, 3]),
        proposers: nodes(&[1]),
    };
    let split = |groups: &[&[u16]]| {
        hist(vec![ev(
            1,
            0,
            EventKind::Partitioned {
                groups: groups.iter().map(|g| nodes(g)).collect(),
            },
        )])
    };
    assert!(covers(&split(&[&[1], &[2, 3]]), &r, &MAJORITY_ISOLATED));
    assert!(!covers(&split(&[&[1, 2], &[3]]), &r, &MAJORITY_ISOLATED));
}

/// `value_chosen` follows the majority rule: set by a full quorum, not by a minority.
#[test]
fn coverage_value_chosen() {
    let r = roster3();
    assert!(covers(&correct_history(), &r, &VALUE_CHOSEN));
    let minority = hist(vec![ev(10, 1, accepted(b(1, 1), "Value_A"))]);
    assert!(!covers(&minority, &r, &VALUE_CHOSEN));
}

// ---------------------------------------------------------------- reporting

/// Campaign totals count runs per coverage property, by name: every Paxos coverage
/// property starts at zero (so one that no run reached still shows), safety and
/// liveness properties are not counted, "all reached" holds only once every one was
/// reached by some run, and merging shards adds their counts.
#[test]
fn coverage_counts_accumulate() {
    let properties: Vec<&'static Property> = judges().iter().map(|j| j.property).collect();
    let mut sometimes: Vec<&'static str> = properties
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
        .map(|p| p.name)
        .collect();
    sometimes.sort_unstable();
    let mut counts = CoverageCounts::for_properties(&properties);
    let zeros: Vec<(&str, u64)> = sometimes.iter().map(|&name| (name, 0)).collect();
    assert_eq!(counts.entries(), zeros);
    assert!(!counts.all_reached());

    counts.add(&verdict(&correct_history(), &roster3()));
    assert_eq!(counts.get(VALUE_CHOSEN.name), 1);
    assert_eq!(counts.get(COMPETING_BALLOTS.name), 0);
    assert!(!counts.all_reached());
    counts.add(&Verdict {
        violations: vec![],
        reached: sometimes.clone(),
    });
    assert!(counts.all_reached());
    assert_eq!(counts.get(VALUE_CHOSEN.name), 2);
    assert_eq!(counts.get(MAJORITY_ISOLATED.name), 1);
    assert_eq!(counts.get(AGREEMENT.name), 0);
    assert_eq!(counts.entries().len(), sometimes.len());

    let mut merged = CoverageCounts::for_properties(&properties);
    merged.merge(&counts);
    merged.merge(&counts);
    assert_eq!(merged.get(VALUE_CHOSEN.name), 4);
    assert_eq!(merged.get(COMPETING_BALLOTS.name), 2);
}

/// The property list: names unique, safety first, then liveness, then coverage, each
/// judged by its kind of judge (violations for Always and Eventually, reached for
/// Sometimes), and the list is what `Paxos` is judged by.
#[test]
fn property_list_is_consistent() {
    let judges = judges();
    let names: Vec<&str> = judges.iter().map(|j| j.property.name).collect();
    assert_eq!(
        names,
        [
            "agreement",
            "validity",
            "learner_integrity",
            "liveness",
            "competing_ballots",
            "adopted_foreign_value",
            "restart_between_promise_and_accept",
            "duplicate_delivered",
            "majority_isolated",
            "value_chosen",
        ]
    );
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
    let expectations: Vec<Expectation> = judges.iter().map(|j| j.property.expectation).collect();
    assert!(expectations.is_sorted(), "{expectations:?}");
    assert_eq!(LIVENESS.expectation, Expectation::Eventually);
    for j in &judges {
        let sometimes = j.property.expectation == Expectation::Sometimes;
        match j.judge {
            JudgeFn::Violations(_) => assert!(!sometimes, "{}", j.property.name),
            JudgeFn::Reached(_) => assert!(sometimes, "{}", j.property.name),
        }
    }
    let listed: Vec<&str> = Paxos.properties().iter().map(|j| j.property.name).collect();
    assert_eq!(listed, names);
}

/// A violation prints as one line naming property, time, nodes and message, and its
/// witness renders as the indexed trace lines of exactly the witness events.
#[test]
fn violation_display_and_witness_rendering() {
    let h = hist(vec![
        ev(1, 1, proposed("Value_Z")),
        ev(10, 1, accepted(b(1, 1), "Value_Z")),
        ev(15, 3, learned(b(1, 1), "Value_Z")),
    ]);
    let vs = check_safety(&h, &roster3());
    assert_eq!(vs.len(), 1);
    let line = vs[0].to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("learner_integrity"), "{line}");
    assert!(line.contains("15ms") && line.contains("[n3]"), "{line}");
    let rendered = vs[0].render_witness(&h);
    assert_eq!(
        rendered,
        format!("    2 {}\n", crate::history::render_event(&h.events[2]))
    );
    assert!(rendered.contains("LEARN Value_Z"), "{rendered}");
}

// ---------------------------------------------------------------- the generic judges

/// The single-value shape's generic judges read a Paxos history through `Node`'s
/// `Core::observe`: a learner's `Learned` note is a decision and a proposer's
/// `Proposed` note a proposal, while an acceptor's `Accepted` and a proposer's
/// `Decided` are neither. So two learners learning different values break generic
/// agreement (witness: the two learns), a learner that never learned breaks generic
/// liveness once a liveness phase ran, and a learned value nobody proposed breaks
/// generic validity (witness: that learn).
#[test]
fn generic_judges_read_paxos_notes() {
    use crate::protocol::shapes::value;
    // The lab cluster: n1..n3 accept and learn, n4 and n5 propose.
    let roster = Roster {
        acceptors: nodes(&[1, 2, 3]),
        learners: nodes(&[1, 2, 3]),
        proposers: nodes(&[4, 5]),
    };
    let mut h = hist(vec![
        ev(0, 4, proposed("Value_A")),          // 0
        ev(0, 5, proposed("Value_B")),          // 1
        ev(8, 1, accepted(b(1, 4), "Value_A")), // 2
        ev(9, 1, learned(b(1, 4), "Value_A")),  // 3
        ev(9, 2, learned(b(2, 5), "Value_B")),  // 4
        ev(10, 4, decided(b(1, 4), "Value_A")), // 5
        ev(1200, 0, phase(Phase::Liveness)),    // 6
        ev(11200, 0, run_ended()),              // 7
    ]);
    assert_eq!(
        value::decisions(&h),
        vec![(3, n(1), v("Value_A")), (4, n(2), v("Value_B"))]
    );
    assert_eq!(
        value::proposals(&h).into_iter().collect::<Vec<_>>(),
        vec![v("Value_A"), v("Value_B")]
    );

    let setup = setup(&roster);
    let deciders = Paxos.deciders(&setup);
    let generic = |h: &History| {
        Verdict::of(
            &value::judges::<Paxos>(),
            &Judging::new(h, &setup, &deciders),
        )
    };
    let verdict = generic(&h);
    let properties: Vec<&str> = verdict.violations.iter().map(|x| x.property).collect();
    assert_eq!(
        properties,
        ["agreement", "liveness"],
        "{:#?}",
        verdict.violations
    );
    let agreement = &verdict.violations[0];
    assert_eq!(agreement.witness, vec![3, 4]);
    assert_eq!(agreement.nodes, nodes(&[1, 2]));
    assert_eq!(agreement.at_ms, 9);
    let liveness = &verdict.violations[1];
    assert_eq!(liveness.nodes, nodes(&[3]));
    assert_eq!(liveness.witness, vec![6, 7]);
    assert_eq!(verdict.reached, vec![value::VALUE_CHOSEN.name]);

    h.events[4] = ev(9, 2, learned(b(2, 5), "Value_X"));
    let verdict = generic(&h);
    let validity: Vec<&Violation> = by_property(&verdict.violations, "validity");
    assert_eq!(validity.len(), 1, "{:#?}", verdict.violations);
    assert_eq!(validity[0].witness, vec![4]);
    assert_eq!(validity[0].nodes, nodes(&[2]));
    assert!(
        validity[0].message.contains("Value_X"),
        "{}",
        validity[0].message
    );
}
