//! The single-value shape: agreement, validity, decision integrity and liveness over
//! the values nodes proposed and decided ([`Observation::Proposed`],
//! [`Observation::Decided`]; a client request counts as a proposal).

use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::protocol::node_list;
use crate::protocol::{
    Core, Expectation, Judge, Judging, Observation, Property, Protocol, Violation,
};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const AGREEMENT: Property = Property {
    name: "agreement",
    expectation: Expectation::Always,
    description: "at most one value is decided",
};

pub const VALIDITY: Property = Property {
    name: "validity",
    expectation: Expectation::Always,
    description: "every decided value was proposed",
};

pub const DECISION_INTEGRITY: Property = Property {
    name: "decision_integrity",
    expectation: Expectation::Always,
    description: "a node decides at most once",
};

pub const LIVENESS: Property = Property {
    name: "liveness",
    expectation: Expectation::Eventually,
    description: "every decider decides in the liveness phase",
};

pub const VALUE_CHOSEN: Property = Property {
    name: "value_chosen",
    expectation: Expectation::Sometimes,
    description: "some value was decided",
};

pub const DUPLICATE_DELIVERED: Property = Property {
    name: "duplicate_delivered",
    expectation: Expectation::Sometimes,
    description: "a node received the same message twice",
};

/// The shape's judges: safety, liveness, then coverage.
pub fn judges<P: Protocol + ?Sized>() -> Vec<Judge<P>> {
    vec![
        Judge::violations(&AGREEMENT, |j| agreement(j.history)).witnessed(),
        Judge::violations(&VALIDITY, |j| validity(j.history)),
        Judge::violations(&DECISION_INTEGRITY, |j| integrity(j.history)).witnessed(),
        Judge::violations(&LIVENESS, |j| liveness(j.history, j.deciders)),
        Judge::reached(&VALUE_CHOSEN, |j| !decisions(j.history).is_empty()),
        Judge::reached(&DUPLICATE_DELIVERED, |j: &Judging<P>| {
            duplicate_delivered(j.history)
        }),
    ]
}

/// Every decision in the history: (event index, node, value), in history order.
pub fn decisions<C: Core>(history: &History<C>) -> Vec<(usize, NodeId, Value)> {
    history
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match (&e.kind, e.node) {
            (EventKind::Protocol(event), Some(node)) => match C::observe(event) {
                Some(Observation::Decided(value)) => Some((i, node, value)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Every value proposed in the run: client requests and proposals the protocol
/// recorded.
pub fn proposals<C: Core>(history: &History<C>) -> BTreeSet<Value> {
    history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ClientRequest { value } => Some(value.clone()),
            EventKind::Protocol(event) => match C::observe(event) {
                Some(Observation::Proposed(value)) => Some(value),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// At most one value is decided, across all nodes. Only the first conflict is
/// reported (everything after it is consequence); its witness is the first decision
/// of each of the two values.
pub fn agreement<C: Core>(history: &History<C>) -> Vec<Violation> {
    let decided = decisions(history);
    let Some((i, a, first)) = decided.first().cloned() else {
        return vec![];
    };
    let Some((j, b, second)) = decided.iter().find(|(_, _, v)| *v != first).cloned() else {
        return vec![];
    };
    vec![Violation::new(
        &AGREEMENT,
        history.events[j].at_ms,
        vec![a, b],
        vec![i, j],
        format!(
            "two values decided: {first} by {a} at {}ms, {second} by {b} at {}ms",
            history.events[i].at_ms, history.events[j].at_ms
        ),
    )]
}

/// Every decided value was proposed somewhere in the run (a proposal recorded after
/// the decision still counts: the property is about values from nowhere, not timing).
/// One violation per offending value, witnessed by its first decision.
pub fn validity<C: Core>(history: &History<C>) -> Vec<Violation> {
    let proposed = proposals(history);
    let mut reported: BTreeSet<Value> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, node, value) in decisions(history) {
        if proposed.contains(&value) || !reported.insert(value.clone()) {
            continue;
        }
        out.push(Violation::new(
            &VALIDITY,
            history.events[i].at_ms,
            vec![node],
            vec![i],
            format!("{node} decided {value}, which no node proposed"),
        ));
    }
    out
}

/// A node decides at most once: a second decision, of any value, is a breach (a
/// protocol persists its decision and does not announce it again after a restart).
/// Each later decision is reported against the node's first.
pub fn integrity<C: Core>(history: &History<C>) -> Vec<Violation> {
    let mut first: BTreeMap<NodeId, (usize, Value)> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, node, value) in decisions(history) {
        match first.get(&node) {
            None => {
                first.insert(node, (i, value));
            }
            Some((j, earlier)) => out.push(Violation::new(
                &DECISION_INTEGRITY,
                history.events[i].at_ms,
                vec![node],
                vec![*j, i],
                format!("{node} decided twice: {earlier} then {value}"),
            )),
        }
    }
    out
}

/// Every decider has decided by the end of a run that reached its liveness phase (a
/// decision made during the faults counts, and so does one a restart recovered from
/// disk, [`Core::decided_in`]). Dated at the run's end, witnessed by the
/// liveness phase's start and the run's end.
pub fn liveness<C: Core>(history: &History<C>, deciders: &[NodeId]) -> Vec<Violation> {
    let Some(phase_index) = history.liveness_start() else {
        return vec![];
    };
    let mut done: BTreeSet<NodeId> = decisions(history).iter().map(|&(_, n, _)| n).collect();
    // A restart that recovered a decision knows it, recorded or not (a real process
    // can be killed between persisting a decision and recording it).
    done.extend(history.events.iter().filter_map(|e| match &e.kind {
        EventKind::Started {
            recovered: Some(state),
            ..
        } if C::decided_in(state).is_some() => e.node,
        _ => None,
    }));
    let deciders: BTreeSet<NodeId> = deciders.iter().copied().collect();
    let missing: Vec<NodeId> = deciders.difference(&done).copied().collect();
    if missing.is_empty() {
        return vec![];
    }
    let phase_ms = history.events[phase_index].at_ms;
    let end_ms = history.events.last().map_or(phase_ms, |e| e.at_ms);
    let mut witness = vec![phase_index];
    witness.extend(history.run_end());
    vec![Violation::new(
        &LIVENESS,
        end_ms,
        missing.clone(),
        witness,
        format!(
            "{} of {} deciders did not decide within the liveness bound: {} (liveness phase from {phase_ms}ms to {end_ms}ms)",
            missing.len(),
            deciders.len(),
            node_list(&missing)
        ),
    )]
}

/// Some node received the same (sender, message id) twice.
pub fn duplicate_delivered<C: Core>(history: &History<C>) -> bool {
    let mut seen: BTreeSet<(NodeId, NodeId, u64)> = BTreeSet::new();
    history.events.iter().any(|e| match (&e.kind, e.node) {
        (EventKind::Delivered { from, msg_id, .. }, Some(to)) => !seen.insert((to, *from, *msg_id)),
        _ => false,
    })
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
