//! The naive vote's rules, one at a time, on the bare core: no shell, no network.
//! Each test feeds inputs to `NaiveNode::step` and reads the outputs.

use super::*;
use crate::fault::generate_scenario;
use crate::protocol::{prepare, BasicEvent, Core, CoreInput, CoreOutput};
use crate::value::Value;

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn members(count: u16) -> Vec<NodeId> {
    (1..=count).map(NodeId).collect()
}

/// What one step asked for, in a form tests can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Send(NodeId, Vote),
    Persist(NaiveState),
    PersistUnsynced(NaiveState),
    Timer(u64),
    Proposed(Value),
    Decided(Value),
    Note,
}

fn step(node: &mut NaiveNode, input: CoreInput<NaiveNode>) -> Vec<Out> {
    let mut out = Vec::new();
    let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
    let mut cx = crate::protocol::Context {
        now_ms: 0,
        rng: &mut rng,
    };
    node.step(&mut cx, input, &mut out);
    out.into_iter()
        .map(|o| match o {
            CoreOutput::Send { to, msg } => Out::Send(to, msg),
            CoreOutput::Persist(s) => Out::Persist(s),
            CoreOutput::PersistUnsynced(s) => Out::PersistUnsynced(s),
            CoreOutput::Append(_) | CoreOutput::AppendUnsynced(_) | CoreOutput::Truncate { .. } => {
                unreachable!("the naive vote keeps no log")
            }
            CoreOutput::SetTimer {
                delay_ms_min,
                delay_ms_max,
                ..
            } => {
                assert_eq!(delay_ms_min, delay_ms_max, "rounds have a fixed length");
                Out::Timer(delay_ms_min)
            }
            CoreOutput::Event(BasicEvent::Proposed(v)) => Out::Proposed(v),
            CoreOutput::Event(BasicEvent::Decided(v)) => Out::Decided(v),
            CoreOutput::Event(BasicEvent::Note(_)) => Out::Note,
        })
        .collect()
}

/// A started node `id` of a `count`-node cluster that proposed `value`.
fn node_with(id: u16, count: u16, value: &str) -> NaiveNode {
    let mut node = NaiveNode::new(n(id), &members(count));
    step(&mut node, CoreInput::start(None));
    step(&mut node, CoreInput::ClientRequest { value: v(value) });
    node
}

fn hear(node: &mut NaiveNode, from: u16, value: &str, votes: u32) {
    let msg = Vote {
        round: 1,
        value: v(value),
        votes,
    };
    let out = step(node, CoreInput::Receive { from: n(from), msg });
    assert!(out.is_empty(), "hearing a vote only stores it: {out:?}");
}

fn close_round(node: &mut NaiveNode) -> Vec<Out> {
    step(node, CoreInput::TimerFired { timer: RoundEnd })
}

fn decided_in(out: &[Out]) -> Option<&Value> {
    out.iter().find_map(|o| match o {
        Out::Decided(v) => Some(v),
        _ => None,
    })
}

/// A fresh node starts its round timer and persists nothing; a proposal is recorded,
/// held with 1 vote and persisted.
#[test]
fn a_proposal_is_held_with_one_vote_and_persisted() {
    let mut node = NaiveNode::new(n(1), &members(3));
    let out = step(&mut node, CoreInput::start(None));
    assert_eq!(out, vec![Out::Timer(ROUND_MS)]);
    let out = step(
        &mut node,
        CoreInput::ClientRequest {
            value: v("Value_A"),
        },
    );
    assert_eq!(
        out,
        vec![
            Out::Persist(NaiveState {
                value: Some(v("Value_A")),
                decided: None,
            }),
            Out::Proposed(v("Value_A")),
        ]
    );
    assert_eq!(
        node.held(),
        Some(&Candidate {
            value: v("Value_A"),
            votes: 1
        })
    );
}

/// The highest value wins, and between equal values more votes win: that is
/// `Candidate`'s order, which adoption uses.
#[test]
fn higher_value_wins_and_votes_break_ties() {
    let c = |value: &str, votes| Candidate {
        value: v(value),
        votes,
    };
    assert!(c("Value_B", 1) > c("Value_A", 9));
    assert!(c("Value_B", 3) > c("Value_B", 1));
    let mut node = node_with(1, 5, "Value_A");
    hear(&mut node, 2, "Value_B", 1);
    hear(&mut node, 3, "Value_B", 3);
    hear(&mut node, 4, "Value_A", 4);
    close_round(&mut node);
    assert_eq!(node.held().map(|c| &c.value), Some(&v("Value_B")));
}

/// A node holding a higher value keeps it: a lower proposal or a lower vote does not
/// move it (the proposal is still recorded, so validity knows it was proposed).
#[test]
fn a_lower_value_never_replaces_a_higher_one() {
    let mut node = node_with(1, 3, "Value_C");
    let out = step(
        &mut node,
        CoreInput::ClientRequest {
            value: v("Value_A"),
        },
    );
    assert_eq!(out, vec![Out::Proposed(v("Value_A"))]);
    hear(&mut node, 2, "Value_B", 2);
    close_round(&mut node);
    assert_eq!(node.held().map(|c| &c.value), Some(&v("Value_C")));
}

/// Votes are the node itself plus every peer heard this round with the same value;
/// a majority decides. The decision is persisted before it is announced and before
/// the next round's votes go out, which carry the count and the next round number.
#[test]
fn a_majority_of_votes_decides_after_persisting() {
    let mut node = node_with(1, 5, "Value_A");
    hear(&mut node, 2, "Value_B", 1);
    hear(&mut node, 3, "Value_B", 1);
    let out = close_round(&mut node);
    // Adopted B; votes = self + n2 + n3 = 3 of 5: a majority.
    let persist = out.iter().position(|o| matches!(o, Out::Persist(_)));
    let decide = out.iter().position(|o| matches!(o, Out::Decided(_)));
    let first_send = out.iter().position(|o| matches!(o, Out::Send(..)));
    assert_eq!(decided_in(&out), Some(&v("Value_B")));
    assert!(persist < decide && decide < first_send, "{out:?}");
    assert_eq!(
        out[persist.unwrap()],
        Out::Persist(NaiveState {
            value: Some(v("Value_B")),
            decided: Some(v("Value_B")),
        })
    );
    let sends: Vec<&Out> = out.iter().filter(|o| matches!(o, Out::Send(..))).collect();
    assert_eq!(sends.len(), 4, "one vote to each other node");
    assert!(sends.iter().all(|o| matches!(o,
        Out::Send(to, Vote { round: 1, value, votes: 3 }) if *to != n(1) && *value == v("Value_B"))));
    assert_eq!(out.last(), Some(&Out::Timer(ROUND_MS)));
}

/// Without a majority nobody decides: a node that heard nothing has 1 vote of 3, and
/// the votes it heard last round do not carry over to the next.
#[test]
fn no_majority_no_decision_and_rounds_start_empty() {
    let mut node = node_with(1, 3, "Value_A");
    let out = close_round(&mut node);
    assert_eq!(decided_in(&out), None);
    assert_eq!(node.held().map(|c| c.votes), Some(1));
    let mut node = node_with(1, 5, "Value_A");
    hear(&mut node, 2, "Value_A", 1);
    assert_eq!(decided_in(&close_round(&mut node)), None, "2 of 5");
    hear(&mut node, 3, "Value_A", 1);
    assert_eq!(
        decided_in(&close_round(&mut node)),
        None,
        "n2 not heard again"
    );
}

/// A decision is final: a decided node neither adopts a higher vote nor takes a
/// higher proposal, never decides again, and keeps broadcasting its decision.
#[test]
fn a_decision_is_final() {
    let mut node = node_with(1, 3, "Value_A");
    hear(&mut node, 2, "Value_A", 1);
    assert_eq!(decided_in(&close_round(&mut node)), Some(&v("Value_A")));
    hear(&mut node, 2, "Value_Z", 1);
    hear(&mut node, 3, "Value_Z", 1);
    let out = close_round(&mut node);
    assert_eq!(decided_in(&out), None);
    assert!(out
        .iter()
        .any(|o| matches!(o, Out::Send(_, vote) if vote.value == v("Value_A"))));
    let out = step(
        &mut node,
        CoreInput::ClientRequest {
            value: v("Value_Z"),
        },
    );
    assert_eq!(out, vec![Out::Proposed(v("Value_Z"))]);
    assert_eq!(node.decided(), Some(&v("Value_A")));
}

/// A restart recovers the held value and the decision from disk, writes nothing, and
/// does not announce the decision again.
#[test]
fn a_restart_recovers_without_deciding_again() {
    let mut node = NaiveNode::new(n(2), &members(3));
    let recovered = NaiveState {
        value: Some(v("Value_B")),
        decided: Some(v("Value_B")),
    };
    let out = step(&mut node, CoreInput::start(Some(recovered.clone())));
    assert_eq!(out, vec![Out::Timer(ROUND_MS)]);
    assert_eq!(node.state(), recovered);
    hear(&mut node, 1, "Value_B", 1);
    assert_eq!(decided_in(&close_round(&mut node)), None);
}

/// Votes from outside the cluster are ignored: they cannot make a majority.
#[test]
fn strangers_do_not_vote() {
    let mut node = node_with(1, 3, "Value_A");
    hear(&mut node, 9, "Value_A", 1);
    assert_eq!(decided_in(&close_round(&mut node)), None);
    assert_eq!(node.held().map(|c| c.votes), Some(1));
}

/// The generator follows the notes: every node proposes at the start, the scenario
/// names this protocol and is valid (for the harness and for the protocol), and a
/// seed always gives the same scenario.
#[test]
fn generated_scenarios_propose_everything_at_once() {
    for seed in 0..200 {
        let s = generate_scenario(&Naive, seed);
        assert_eq!(s, generate_scenario(&Naive, seed));
        assert_eq!(s.protocol, "naive");
        assert_eq!(s.validate(), Ok(()));
        if let Err(e) = prepare(&Naive, &s) {
            panic!("seed {seed}: {e}");
        }
        assert_eq!(s.workload.len(), s.cluster.nodes.len());
        assert!(s.workload.iter().all(|p| p.at_ms == 0));
    }
}
