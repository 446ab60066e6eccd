//! The `Always` properties: agreement, validity, learner integrity.
//!
//! All three rest on one notion, *chosen*, computed here from the acceptors' own
//! `Accepted` notes rather than from what learners or proposers claim: those claims are
//! exactly what is being checked, so they cannot also be the ground truth.

use super::History;
use super::{node_list, Roster, Violation, AGREEMENT, LEARNER_INTEGRITY, VALIDITY};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::protocols::paxos::{majority, Ballot, Note, Value};

/// A value becoming chosen: a majority of distinct roster acceptors accepted `value` at
/// `ballot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub ballot: Ballot,
    pub value: Value,
    /// Index of the `Accepted` event that completed the majority.
    pub at_index: usize,
    pub at_ms: u64,
    /// The quorum: the acceptors counted when the majority completed, sorted.
    pub acceptors: Vec<NodeId>,
    /// Each quorum member's first `Accepted` event for this (ballot, value), sorted.
    pub accepted_events: Vec<usize>,
}

/// Every (ballot, value) that became chosen, in the order it became chosen.
///
/// Only nodes listed in `roster.acceptors` count, and each acceptor counts once per
/// (ballot, value) however many times it recorded the acceptance (a restarted acceptor
/// re-accepting, or a duplicated Accept, must not inflate a quorum). A (ballot, value)
/// is reported once, at the event that completed its majority; later acceptances of
/// the same pair add nothing.
pub(crate) fn choices(history: &History, roster: &Roster) -> Vec<Choice> {
    // Small vectors searched in order, not trees: a scope has a handful of acceptors
    // and (ballot, value) pairs, and the exhaustive lane judges a history after most
    // of the steps it takes, so these few allocations are what judging costs.
    let mut acceptors: Vec<NodeId> = roster.acceptors.clone();
    acceptors.sort_unstable();
    acceptors.dedup();
    let needed = majority(acceptors.len());
    // (ballot, value) -> (acceptor, index of its first Accepted event), by acceptor.
    type Voters = Vec<(NodeId, usize)>;
    let mut tallies: Vec<((Ballot, &Value), Voters)> = Vec::new();
    let mut out = Vec::new();
    for (i, e) in history.events.iter().enumerate() {
        let (Some(node), EventKind::Protocol(Note::Accepted { ballot, value })) = (e.node, &e.kind)
        else {
            continue;
        };
        if acceptors.binary_search(&node).is_err() {
            continue;
        }
        let at = match tallies
            .iter()
            .position(|(k, _)| k.0 == *ballot && k.1 == value)
        {
            Some(at) => at,
            None => {
                tallies.push(((*ballot, value), Vec::new()));
                tallies.len() - 1
            }
        };
        let voters = &mut tallies[at].1;
        let Err(slot) = voters.binary_search_by_key(&node, |v| v.0) else {
            continue;
        };
        voters.insert(slot, (node, i));
        if voters.len() == needed {
            out.push(Choice {
                ballot: *ballot,
                value: value.clone(),
                at_index: i,
                at_ms: e.at_ms,
                acceptors: voters.iter().map(|v| v.0).collect(),
                accepted_events: voters.iter().map(|v| v.1).collect(),
            });
        }
    }
    out
}

/// Runs the three safety checkers: agreement, then validity, then learner integrity,
/// each reporting in history order.
pub fn check_safety(history: &History, roster: &Roster) -> Vec<Violation> {
    let choices = choices(history, roster);
    let mut out = Vec::new();
    out.extend(agreement(&choices));
    out.extend(validity(history, &choices));
    out.extend(learner_integrity(history, &choices));
    out
}

fn describe(c: &Choice) -> String {
    format!("{} at {} by {}", c.value, c.ballot, node_list(&c.acceptors))
}

/// At most one value is chosen. Choosing the same value at several ballots is normal
/// Paxos (a later proposer re-drives the adopted value); two different values is the
/// breach. Only the first conflict is reported: everything after it is consequence.
pub(super) fn agreement(choices: &[Choice]) -> Option<Violation> {
    let first = choices.first()?;
    let second = choices.iter().find(|c| c.value != first.value)?;
    let nodes = first
        .acceptors
        .iter()
        .chain(&second.acceptors)
        .copied()
        .collect();
    let witness = first
        .accepted_events
        .iter()
        .chain(&second.accepted_events)
        .copied()
        .collect();
    Some(Violation::new(
        &AGREEMENT,
        second.at_ms,
        nodes,
        witness,
        format!(
            "two values chosen: {}, {}",
            describe(first),
            describe(second)
        ),
    ))
}

/// Every chosen or learned value was proposed (by a proposer's `Proposed` note or a
/// client request anywhere in the run: a proposal recorded after the choice still
/// counts, since event order across nodes is only as good as the simulated clock and
/// the property is about values appearing from nowhere, not about timing).
///
/// One violation per offending value, so a corrupted value that is chosen and then
/// learned by every learner reads as one problem. Its witness is the quorum that first
/// chose it (if it was chosen) and the first event that learned it (if any).
pub(super) fn validity(history: &History, choices: &[Choice]) -> Vec<Violation> {
    // A handful of values: a vector searched in order (see `choices`).
    let mut proposed: Vec<&Value> = Vec::new();
    for e in &history.events {
        if let EventKind::Protocol(Note::Proposed { value }) | EventKind::ClientRequest { value } =
            &e.kind
        {
            if !proposed.contains(&value) {
                proposed.push(value);
            }
        }
    }

    // Offending values in the order they first appear (chosen or learned).
    struct Offence<'a> {
        value: &'a Value,
        first_index: usize,
        choice: Option<&'a Choice>,
        learned: Option<(usize, NodeId, u64)>,
    }
    let mut offences: Vec<Offence> = Vec::new();
    for c in choices {
        if proposed.contains(&&c.value) || offences.iter().any(|o| o.value == &c.value) {
            continue;
        }
        offences.push(Offence {
            value: &c.value,
            first_index: c.at_index,
            choice: Some(c),
            learned: None,
        });
    }
    for (i, e) in history.events.iter().enumerate() {
        let (Some(node), EventKind::Protocol(Note::Learned { value, .. })) = (e.node, &e.kind)
        else {
            continue;
        };
        if proposed.contains(&value) {
            continue;
        }
        match offences.iter_mut().find(|o| o.value == value) {
            Some(o) => {
                if o.learned.is_none() {
                    o.learned = Some((i, node, e.at_ms));
                    o.first_index = o.first_index.min(i);
                }
            }
            None => offences.push(Offence {
                value,
                first_index: i,
                choice: None,
                learned: Some((i, node, e.at_ms)),
            }),
        }
    }
    offences.sort_by_key(|o| o.first_index);

    offences
        .into_iter()
        .map(|o| {
            let mut nodes = Vec::new();
            let mut witness = Vec::new();
            let mut what = Vec::new();
            if let Some(c) = o.choice {
                nodes.extend(&c.acceptors);
                witness.extend(&c.accepted_events);
                what.push(format!(
                    "chosen at {} by {}",
                    c.ballot,
                    node_list(&c.acceptors)
                ));
            }
            if let Some((i, node, _)) = o.learned {
                nodes.push(node);
                witness.push(i);
                what.push(format!("learned by {node}"));
            }
            let at_ms = history.events[o.first_index].at_ms;
            Violation::new(
                &VALIDITY,
                at_ms,
                nodes,
                witness,
                format!("{} was {} but never proposed", o.value, what.join(" and ")),
            )
        })
        .collect()
}

/// What a node already knows it learned, when it records a `Learned` note.
enum Prior {
    /// An earlier `Learned` event (its index).
    Learned(usize),
    /// A `Started` event (its index) whose recovered learner state held a value.
    Recovered(usize, Value),
}

/// A learner learns only a chosen value, and learns at most once.
///
/// "Chosen" is judged at the end of the history: a learner can legitimately record its
/// `Learned` note before the acceptor-side `Accepted` notes that justify it appear in
/// the history (messages outrun the notes of other nodes), so only a value that *never*
/// gathers a majority is a breach.
///
/// Learning twice is a breach whatever the values: the learner core stops after its
/// first learn, so a second `Learned` means its state was lost or corrupted. A restart
/// whose recovered state already holds a learned value counts as a prior learn only if
/// the node has no earlier `Learned` event (otherwise that event is the prior learn and
/// the plain "twice" rule applies); after such a recovery only a `Learned` of a
/// *different* value is reported, since re-announcing the recovered value is harmless.
/// This keeps the rule simple at the cost of not flagging a same-value re-learn that
/// follows a recovery with no `Learned` event in the history.
pub(super) fn learner_integrity(history: &History, choices: &[Choice]) -> Vec<Violation> {
    let chosen: Vec<&Value> = choices.iter().map(|c| &c.value).collect();
    // Per learner, what it already knows it learned (a vector: a handful of nodes).
    let mut prior: Vec<(NodeId, Prior)> = Vec::new();
    let mut out = Vec::new();
    for (i, e) in history.events.iter().enumerate() {
        let Some(node) = e.node else { continue };
        match &e.kind {
            EventKind::Started {
                recovered: Some(state),
                ..
            } => {
                let learned = state.learner.as_ref().and_then(|l| l.learned.clone());
                if let Some(v) = learned {
                    if !prior.iter().any(|(n, _)| *n == node) {
                        prior.push((node, Prior::Recovered(i, v)));
                    }
                }
            }
            EventKind::Protocol(Note::Learned { ballot, value }) => {
                if !chosen.contains(&value) {
                    out.push(Violation::new(
                        &LEARNER_INTEGRITY,
                        e.at_ms,
                        vec![node],
                        vec![i],
                        format!("{node} learned {value} (at {ballot}) which no majority accepted"),
                    ));
                }
                let known = prior.iter().position(|(n, _)| *n == node);
                match known.map(|k| &prior[k].1) {
                    Some(Prior::Learned(j)) => {
                        let earlier = learned_value(history, *j);
                        out.push(Violation::new(
                            &LEARNER_INTEGRITY,
                            e.at_ms,
                            vec![node],
                            vec![*j, i],
                            format!("{node} learned twice: {earlier} then {value}"),
                        ));
                    }
                    Some(Prior::Recovered(j, recovered)) if recovered != value => {
                        out.push(Violation::new(
                            &LEARNER_INTEGRITY,
                            e.at_ms,
                            vec![node],
                            vec![*j, i],
                            format!(
                                "{node} learned twice: recovered {recovered} from disk, then learned {value}"
                            ),
                        ));
                    }
                    _ => {}
                }
                // The first learn stays the reference, so a third learn is reported
                // against the first, not against the second breach.
                match known {
                    Some(k) => {
                        if !matches!(prior[k].1, Prior::Learned(_)) {
                            prior[k].1 = Prior::Learned(i);
                        }
                    }
                    None => prior.push((node, Prior::Learned(i))),
                }
            }
            _ => {}
        }
    }
    out
}

fn learned_value(history: &History, i: usize) -> &Value {
    match &history.events[i].kind {
        EventKind::Protocol(Note::Learned { value, .. }) => value,
        other => panic!("event {i} was recorded as a Learned note but is {other:?}"),
    }
}
