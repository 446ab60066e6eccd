//! Hand-built histories for the single-value shape's generic judges, each small enough
//! to check by eye: every property fires on its breach with the right witness, and
//! stays quiet on a correct run. The histories are over a tiny core whose events are
//! [`BasicEvent`]s, judged by the shape's property list ([`judges`]), as the harness
//! judges any protocol that keeps the default [`Protocol::properties`].

use super::*;
use crate::history::{Event, Phase};
use crate::protocol::{
    prepare, BasicEvent, Context, CoreInput, CoreOutput, Draft, NoLog, Peers, RunSetup, Verdict,
};
use crate::scenario::{Cluster, Scenario};
use rand_chacha::ChaCha8Rng;

/// A core that does nothing: it only gives the history its types (messages and
/// state are plain text, events are [`BasicEvent`]s).
#[derive(Debug, Clone)]
struct Tiny;

impl Core for Tiny {
    type Msg = String;
    type State = String;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = NoLog;

    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        _input: CoreInput<Self>,
        _out: &mut Vec<CoreOutput<Self>>,
    ) {
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    /// A state `decided=V` holds the decision `V`.
    fn decided_in(state: &String) -> Option<Value> {
        state.strip_prefix("decided=").map(Value::new)
    }
}

/// Three peers running [`Tiny`], judged by the default property list.
struct TinyProtocol;

impl Protocol for TinyProtocol {
    type Core = Tiny;
    type Params = ();

    fn name(&self) -> &'static str {
        "tiny"
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        Peers {
            sizes: &[3],
            horizon_ms: (100, 100),
            propose_at_start: true,
            liveness_bound_ms: 1_000,
        }
        .draft(rng, ())
    }

    fn core(&self, _setup: &RunSetup<Self>, _id: NodeId) -> Tiny {
        Tiny
    }

    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        setup.scenario.cluster.ids()
    }
}

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

/// One event: `node` 0 means the harness.
fn ev(at_ms: u64, node: u16, kind: EventKind<Tiny>) -> Event<Tiny> {
    Event {
        at_ms,
        node: (node != 0).then_some(NodeId(node)),
        kind,
    }
}

fn proposed(value: &str) -> EventKind<Tiny> {
    EventKind::Protocol(BasicEvent::Proposed(v(value)))
}

fn decided(value: &str) -> EventKind<Tiny> {
    EventKind::Protocol(BasicEvent::Decided(v(value)))
}

fn phase(phase: Phase) -> EventKind<Tiny> {
    EventKind::PhaseStarted { phase }
}

fn end() -> EventKind<Tiny> {
    EventKind::RunEnded {
        reason: "bound".into(),
    }
}

const DECIDERS: [NodeId; 3] = [NodeId(1), NodeId(2), NodeId(3)];

/// Three nodes propose A, B, B; all decide B; the liveness phase runs to its end.
fn correct() -> Vec<Event<Tiny>> {
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

/// A run of [`TinyProtocol`] on nodes n1..n3, no faults, no workload.
fn setup() -> RunSetup<TinyProtocol> {
    let scenario = Scenario {
        liveness_bound_ms: 1_000,
        ..Scenario::quiet("tiny", Cluster::of_size(3), 1)
    };
    prepare(&TinyProtocol, &scenario).expect("a valid scenario")
}

/// Every judge of the shape over `events`, with n1..n3 as deciders.
fn check(events: Vec<Event<Tiny>>) -> Verdict {
    let history = History::from_events(events);
    let setup = setup();
    assert_eq!(TinyProtocol.deciders(&setup), DECIDERS);
    let judging = Judging::new(&history, &setup, &DECIDERS);
    Verdict::of(&TinyProtocol.properties(), &judging)
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

/// The shape's property list: unique names, safety then liveness then coverage,
/// and it is what a protocol that lists no properties of its own is judged by.
#[test]
fn the_property_list_is_ordered_and_is_the_default() {
    let names: Vec<&str> = judges::<TinyProtocol>()
        .iter()
        .map(|j| j.property.name)
        .collect();
    assert_eq!(
        names,
        [
            "agreement",
            "validity",
            "decision_integrity",
            "liveness",
            "value_chosen",
            "duplicate_delivered"
        ]
    );
    let expectations: Vec<Expectation> = judges::<TinyProtocol>()
        .iter()
        .map(|j| j.property.expectation)
        .collect();
    assert!(expectations.is_sorted(), "{expectations:?}");
    let default: Vec<&str> = TinyProtocol
        .properties()
        .iter()
        .map(|j| j.property.name)
        .collect();
    assert_eq!(default, names);
}

/// A correct run breaks nothing and reaches `value_chosen`, and only that.
#[test]
fn correct_run_passes() {
    let verdict = check(correct());
    assert_eq!(verdict.violations, vec![]);
    assert!(verdict.is_ok());
    assert_eq!(verdict.reached, vec!["value_chosen"]);
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
    assert_eq!(x.expectation, Expectation::Always);
    assert_eq!(verdict.violations.len(), 1, "nothing else broke");
    assert!(!verdict.safety_ok());
    assert!(verdict.liveness_ok());
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
    assert_eq!(x.nodes, vec![n(1)]);
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
    assert_eq!(x.at_ms, 160);
    assert_eq!(verdict.violations.len(), 1, "nothing else broke");
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
    assert_eq!(x.at_ms, 300);
    assert_eq!(x.expectation, Expectation::Eventually);
    assert!(verdict.safety_ok() && !verdict.liveness_ok());
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

/// A node killed between persisting its decision and recording it (possible for a real
/// process) still knows the decision: a restart that recovered it counts for liveness
/// ([`Core::decided_in`]); a restart that recovered something else does not.
#[test]
fn a_recovered_decision_counts_for_liveness() {
    let mut events = correct();
    events.remove(6);
    let restart = |state: &str| {
        ev(
            250,
            3,
            EventKind::Started {
                incarnation: 1,
                recovered: Some(state.to_string()),
            },
        )
    };
    let mut recovered = events.clone();
    recovered.insert(7, restart("decided=Value_B"));
    assert!(check(recovered).violations.is_empty());
    let mut other = events;
    other.insert(7, restart("value=Value_B"));
    assert_eq!(only(&check(other), "liveness").nodes, vec![n(3)]);
}

/// Only decisions are decisions: a proposal or a note from a node that never decided
/// does not count for liveness, and none of them reaches `value_chosen`.
#[test]
fn proposals_and_notes_are_not_decisions() {
    let events = vec![
        ev(0, 1, proposed("Value_A")),
        ev(
            1,
            2,
            EventKind::Protocol(BasicEvent::Note("DECIDE Value_A".into())),
        ),
        ev(2, 0, phase(Phase::Liveness)),
        ev(3, 0, end()),
    ];
    assert_eq!(decisions(&History::from_events(events.clone())), vec![]);
    let verdict = check(events);
    assert_eq!(only(&verdict, "liveness").nodes, DECIDERS);
    assert_eq!(verdict.reached, Vec::<&str>::new());
}

/// A message delivered twice (same sender and id) is the `duplicate_delivered`
/// coverage state, for plug-in messages too; the same id from another sender is
/// another message.
#[test]
fn duplicate_plug_in_delivery_is_covered() {
    let recv = |from: u16| {
        ev(
            5,
            2,
            EventKind::Delivered {
                from: n(from),
                msg_id: 7,
                msg: "Vote".into(),
            },
        )
    };
    let mut events = correct();
    events.push(recv(1));
    events.push(recv(3));
    assert!(!check(events.clone())
        .reached
        .contains(&"duplicate_delivered"));
    events.push(recv(1));
    assert_eq!(
        check(events).reached,
        vec!["value_chosen", "duplicate_delivered"]
    );
}
