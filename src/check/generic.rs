//! Checkers for any protocol, over the generic view of a history: the values nodes
//! proposed ([`EventKind::proposed_value`]) and the values they decided
//! ([`EventKind::decided_value`]). They judge what every consensus protocol promises
//! its users, whatever its messages: one decision, a proposed one, made once, by every
//! node that must decide once the faults heal.
//!
//! For Paxos the view maps a learner's `Learned` note to "decided", so these checkers
//! also run over Paxos histories; Paxos's own checkers ([`super::check_safety`]) are
//! stronger there, because they compute *chosen* from the acceptors' notes.

use super::{
    node_list, Coverage, Property, Verdict, Violation, AGREEMENT, DECISION_INTEGRITY,
    DUPLICATE_DELIVERED, LIVENESS, VALIDITY, VALUE_CHOSEN,
};
use crate::history::{EventKind, History, Phase};
use crate::ids::NodeId;
use crate::paxos::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The properties [`check_generic`] judges: safety, liveness, then coverage.
pub const GENERIC_PROPERTIES: [&Property; 6] = [
    &AGREEMENT,
    &VALIDITY,
    &DECISION_INTEGRITY,
    &LIVENESS,
    &VALUE_CHOSEN,
    &DUPLICATE_DELIVERED,
];

/// Every decision in the history: (event index, node, value), in history order.
fn decisions(history: &History) -> Vec<(usize, NodeId, &Value)> {
    history
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.node?, e.kind.decided_value()?)))
        .collect()
}

/// Runs every generic checker over one run. `deciders` are the nodes that must decide
/// (liveness); agreement, validity and integrity judge every node's decisions.
pub fn check_generic(history: &History, deciders: &[NodeId]) -> Verdict {
    let decided = decisions(history);
    let mut violations = Vec::new();
    violations.extend(agreement(history, &decided));
    violations.extend(validity(history, &decided));
    violations.extend(integrity(history, &decided));
    violations.extend(liveness(history, &decided, deciders));
    Verdict {
        violations,
        coverage: Coverage {
            value_chosen: !decided.is_empty(),
            duplicate_delivered: duplicate_delivered(history),
            ..Coverage::default()
        },
    }
}

/// At most one value is decided, across all nodes. Only the first conflict is
/// reported (everything after it is consequence); its witness is the first decision
/// of each of the two values.
fn agreement(history: &History, decided: &[(usize, NodeId, &Value)]) -> Option<Violation> {
    let &(i, a, first) = decided.first()?;
    let &(j, b, second) = decided.iter().find(|(_, _, v)| *v != first)?;
    Some(Violation::new(
        &AGREEMENT,
        history.events[j].at_ms,
        vec![a, b],
        vec![i, j],
        format!(
            "two values decided: {first} by {a} at {}ms, {second} by {b} at {}ms",
            history.events[i].at_ms, history.events[j].at_ms
        ),
    ))
}

/// Every decided value was proposed somewhere in the run (a proposal recorded after
/// the decision still counts: the property is about values from nowhere, not timing).
/// One violation per offending value, witnessed by its first decision.
fn validity(history: &History, decided: &[(usize, NodeId, &Value)]) -> Vec<Violation> {
    let proposed: BTreeSet<&Value> = history
        .events
        .iter()
        .filter_map(|e| e.kind.proposed_value())
        .collect();
    let mut reported: BTreeSet<&Value> = BTreeSet::new();
    let mut out = Vec::new();
    for &(i, node, value) in decided {
        if proposed.contains(value) || !reported.insert(value) {
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
fn integrity(history: &History, decided: &[(usize, NodeId, &Value)]) -> Vec<Violation> {
    let mut first: BTreeMap<NodeId, (usize, &Value)> = BTreeMap::new();
    let mut out = Vec::new();
    for &(i, node, value) in decided {
        match first.get(&node) {
            None => {
                first.insert(node, (i, value));
            }
            Some(&(j, earlier)) => out.push(Violation::new(
                &DECISION_INTEGRITY,
                history.events[i].at_ms,
                vec![node],
                vec![j, i],
                format!("{node} decided twice: {earlier} then {value}"),
            )),
        }
    }
    out
}

/// Every decider has decided by the end of a run that reached its liveness phase
/// (a decision made during the faults counts). Dated at the run's end, witnessed by
/// the liveness phase's start and the run's end, like Paxos's liveness.
fn liveness(
    history: &History,
    decided: &[(usize, NodeId, &Value)],
    deciders: &[NodeId],
) -> Option<Violation> {
    let phase_index = history.events.iter().position(|e| {
        matches!(
            e.kind,
            EventKind::PhaseStarted {
                phase: Phase::Liveness
            }
        )
    })?;
    let done: BTreeSet<NodeId> = decided.iter().map(|&(_, n, _)| n).collect();
    let deciders: BTreeSet<NodeId> = deciders.iter().copied().collect();
    let missing: Vec<NodeId> = deciders.difference(&done).copied().collect();
    if missing.is_empty() {
        return None;
    }
    let phase_ms = history.events[phase_index].at_ms;
    let end_ms = history.events.last().map_or(phase_ms, |e| e.at_ms);
    let mut witness = vec![phase_index];
    witness.extend(
        history
            .events
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::RunEnded { .. })),
    );
    Some(Violation::new(
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
    ))
}

/// Some node received the same (sender, message id) twice, in either event form.
fn duplicate_delivered(history: &History) -> bool {
    let mut seen: BTreeSet<(NodeId, NodeId, u64)> = BTreeSet::new();
    history.events.iter().any(|e| match (&e.kind, e.node) {
        (
            EventKind::Delivered { from, msg_id, .. }
            | EventKind::MsgDelivered { from, msg_id, .. },
            Some(to),
        ) => !seen.insert((to, *from, *msg_id)),
        _ => false,
    })
}

#[cfg(test)]
mod tests;
