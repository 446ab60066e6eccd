//! Judges for a replicated log (Multi-Paxos, Raft, Viewstamped Replication): clients
//! submit requests, and every node decides one value per slot. Users of such a log
//! rely on four promises: replicas agree slot by slot, they execute only what clients
//! sent, each request once, and once the faults heal every replica catches up with no
//! hole in its log.

use super::{capped, Observation, ShapeView, Value, Window};
use crate::ids::NodeId;
use crate::protocol::{node_list, Expectation, Property, Violation};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

pub const SLOT_AGREEMENT: Property = Property {
    name: "slot_agreement",
    expectation: Expectation::Always,
    description: "no two honest nodes decide different values for one slot",
};

pub const SLOT_VALIDITY: Property = Property {
    name: "slot_validity",
    expectation: Expectation::Always,
    description: "every decided value was submitted by a client",
};

pub const SLOT_INTEGRITY: Property = Property {
    name: "slot_integrity",
    expectation: Expectation::Always,
    description: "an honest node decides each slot once, and each request in one slot only",
};

pub const LOG_LIVENESS: Property = Property {
    name: "log_liveness",
    expectation: Expectation::Eventually,
    description: "by the end, every decider decided every submitted request, in a log without gaps",
};

/// The properties [`judge_log`] judges: safety, then liveness.
pub const LOG_PROPERTIES: [&Property; 4] = [
    &SLOT_AGREEMENT,
    &SLOT_VALIDITY,
    &SLOT_INTEGRITY,
    &LOG_LIVENESS,
];

/// One honest node's decision of one slot.
#[derive(Debug, Clone, Copy)]
struct Decision<'a> {
    index: usize,
    at_ms: u64,
    node: NodeId,
    slot: u64,
    value: &'a Value,
}

/// Runs every log judge over one run: safety violations first, in history order,
/// then liveness.
pub fn judge_log(view: &ShapeView) -> Vec<Violation> {
    let decided = decisions(view);
    let mut out = slot_agreement(&decided);
    out.extend(slot_validity(view, &decided));
    out.extend(slot_integrity(&decided));
    out.extend(log_liveness(view, &decided));
    out
}

/// Every honest decision, in history order.
fn decisions(view: &ShapeView) -> Vec<Decision<'_>> {
    view.honest()
        .filter_map(|r| match &r.observation {
            Observation::SlotDecided { slot, value } => Some(Decision {
                index: r.index,
                at_ms: r.at_ms,
                node: r.node,
                slot: *slot,
                value,
            }),
            _ => None,
        })
        .collect()
}

/// Every request a client submitted anywhere: the harness records submissions, so
/// one made at a Byzantine node is still a client's (what validity allows).
fn submitted_by_clients(view: &ShapeView) -> BTreeSet<&Value> {
    view.records
        .iter()
        .filter(|r| r.from_harness)
        .filter_map(|r| match &r.observation {
            Observation::Submitted { request } => Some(request),
            _ => None,
        })
        .collect()
}

/// Every request submitted at an honest node (what liveness owes: a Byzantine proxy
/// may never pass its client's request on).
fn submitted(view: &ShapeView) -> BTreeSet<&Value> {
    view.honest()
        .filter_map(|r| match &r.observation {
            Observation::Submitted { request } => Some(request),
            _ => None,
        })
        .collect()
}

/// Each node's first decision of a slot is its decision; it is compared with the
/// slot's first decision anywhere. Only the first conflict per slot is reported
/// (the rest is consequence), witnessed by both decisions. A node's later decisions
/// of the same slot are [`SLOT_INTEGRITY`]'s business.
fn slot_agreement(decided: &[Decision]) -> Vec<Violation> {
    let mut first_of_slot: BTreeMap<u64, Decision> = BTreeMap::new();
    let mut seen: BTreeSet<(NodeId, u64)> = BTreeSet::new();
    let mut conflicted: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    for &d in decided {
        if !seen.insert((d.node, d.slot)) {
            continue;
        }
        let first = *first_of_slot.entry(d.slot).or_insert(d);
        if first.value != d.value && conflicted.insert(d.slot) {
            out.push(Violation::new(
                &SLOT_AGREEMENT,
                d.at_ms,
                vec![first.node, d.node],
                vec![first.index, d.index],
                format!(
                    "slot {}: {} decided {} at {}ms, {} decided {} at {}ms",
                    d.slot, first.node, first.value, first.at_ms, d.node, d.value, d.at_ms
                ),
            ));
        }
    }
    out
}

/// Every decided value was submitted somewhere in the run (a submission recorded
/// after the decision still counts: the property is about values from nowhere, not
/// timing). One violation per offending value, witnessed by its first decision.
fn slot_validity(view: &ShapeView, decided: &[Decision]) -> Vec<Violation> {
    let submitted = submitted_by_clients(view);
    let mut reported: BTreeSet<&Value> = BTreeSet::new();
    let mut out = Vec::new();
    for d in decided {
        if submitted.contains(d.value) || !reported.insert(d.value) {
            continue;
        }
        out.push(Violation::new(
            &SLOT_VALIDITY,
            d.at_ms,
            vec![d.node],
            vec![d.index],
            format!(
                "{} decided {} for slot {}, which no client submitted",
                d.node, d.value, d.slot
            ),
        ));
    }
    out
}

/// A node decides a slot once (a second decision is a breach even of the same value:
/// deciding is final, and announcing it again means the node lost track), and never
/// decides one request in two slots (it would execute it twice). Each later decision
/// is reported against the node's first, in history order.
fn slot_integrity(decided: &[Decision]) -> Vec<Violation> {
    let mut by_slot: BTreeMap<(NodeId, u64), Decision> = BTreeMap::new();
    let mut by_value: BTreeMap<(NodeId, &Value), Decision> = BTreeMap::new();
    let mut out = Vec::new();
    for &d in decided {
        if let Some(&first) = by_slot.get(&(d.node, d.slot)) {
            out.push(integrity_breach(
                first,
                d,
                format!("decided slot {} twice", d.slot),
            ));
            continue;
        }
        by_slot.insert((d.node, d.slot), d);
        match by_value.get(&(d.node, d.value)) {
            Some(&first) => out.push(integrity_breach(
                first,
                d,
                format!("decided {} in two slots", d.value),
            )),
            None => {
                by_value.insert((d.node, d.value), d);
            }
        }
    }
    out
}

/// A [`SLOT_INTEGRITY`] violation: `what` the node did, from `first` to `then`.
fn integrity_breach(first: Decision, then: Decision, what: String) -> Violation {
    Violation::new(
        &SLOT_INTEGRITY,
        then.at_ms,
        vec![then.node],
        vec![first.index, then.index],
        format!(
            "{} {what}: slot {} = {} at {}ms, then slot {} = {} at {}ms",
            then.node, first.slot, first.value, first.at_ms, then.slot, then.value, then.at_ms
        ),
    )
}

/// In a run that reached its liveness phase, by the end every honest decider decided
/// every request submitted at an honest node (in any slot, during the faults or
/// after), and its decided slots are `0..=h` with no hole below its highest slot `h`
/// (a replica cannot execute past a hole). Deciders may end at different `h`: the
/// requests they must hold bound how far behind they may be.
///
/// At most two violations, one per clause, dated at the end and witnessed by the
/// liveness phase's start and the run's end.
fn log_liveness(view: &ShapeView, decided: &[Decision]) -> Vec<Violation> {
    let Some(window) = Window::of(view) else {
        return Vec::new();
    };
    let deciders = view.honest_deciders();
    let mut out = Vec::new();
    out.extend(missing_requests(view, decided, &deciders, &window));
    out.extend(log_gaps(decided, &deciders, &window));
    out
}

/// The submitted requests that some decider never decided.
fn missing_requests(
    view: &ShapeView,
    decided: &[Decision],
    deciders: &BTreeSet<NodeId>,
    window: &Window,
) -> Option<Violation> {
    let held: BTreeSet<(NodeId, &Value)> = decided.iter().map(|d| (d.node, d.value)).collect();
    let requests = submitted(view);
    let mut lacking_nodes: BTreeSet<NodeId> = BTreeSet::new();
    let mut lines: Vec<String> = Vec::new();
    for request in &requests {
        let lacking: Vec<NodeId> = deciders
            .iter()
            .filter(|&&n| !held.contains(&(n, *request)))
            .copied()
            .collect();
        if !lacking.is_empty() {
            lines.push(format!("{request} missing at {}", node_list(&lacking)));
            lacking_nodes.extend(lacking);
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(Violation::new(
        &LOG_LIVENESS,
        window.end_ms,
        lacking_nodes.into_iter().collect(),
        window.witness.clone(),
        format!(
            "{} of {} submitted requests not decided by every decider: {} ({})",
            lines.len(),
            requests.len(),
            capped(lines),
            window.describe()
        ),
    ))
}

/// The deciders whose decided slots have a hole below their highest.
fn log_gaps(
    decided: &[Decision],
    deciders: &BTreeSet<NodeId>,
    window: &Window,
) -> Option<Violation> {
    let mut slots: BTreeMap<NodeId, BTreeSet<u64>> = BTreeMap::new();
    for d in decided.iter().filter(|d| deciders.contains(&d.node)) {
        slots.entry(d.node).or_default().insert(d.slot);
    }
    let mut nodes: Vec<NodeId> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for (node, held) in &slots {
        let holes = gaps(held);
        let (Some(top), false) = (held.last(), holes.is_empty()) else {
            continue;
        };
        let holes = capped(holes.iter().map(render_range));
        lines.push(format!("{node} lacks slots {holes} below its slot {top}"));
        nodes.push(*node);
    }
    if lines.is_empty() {
        return None;
    }
    Some(Violation::new(
        &LOG_LIVENESS,
        window.end_ms,
        nodes,
        window.witness.clone(),
        format!(
            "decided logs with holes: {} ({})",
            lines.join("; "),
            window.describe()
        ),
    ))
}

/// The slots missing below the highest of `slots`, as ranges, lowest first. Bounded
/// by the number of decided slots, not by their values, however large a buggy
/// protocol's slot numbers are.
fn gaps(slots: &BTreeSet<u64>) -> Vec<RangeInclusive<u64>> {
    let mut out = Vec::new();
    let mut next: u64 = 0;
    for &slot in slots {
        if slot > next {
            out.push(next..=slot - 1);
        }
        match slot.checked_add(1) {
            Some(after) => next = after,
            None => break,
        }
    }
    out
}

/// `3` or `3-5`.
fn render_range(range: &RangeInclusive<u64>) -> String {
    if range.start() == range.end() {
        range.start().to_string()
    } else {
        format!("{}-{}", range.start(), range.end())
    }
}

#[cfg(test)]
mod tests;

/// The log shape's judges for a protocol's property list: each reads the run through
/// [`super::ShapeView::of`] and reports its own property.
pub fn judges<P: crate::protocol::Protocol + ?Sized>() -> Vec<crate::protocol::Judge<P>> {
    fn only<P: crate::protocol::Protocol + ?Sized>(
        j: &crate::protocol::Judging<P>,
        property: &Property,
    ) -> Vec<Violation> {
        judge_log(&super::ShapeView::judging(j))
            .into_iter()
            .filter(|v| v.property == property.name)
            .collect()
    }
    use crate::protocol::Judge;
    vec![
        Judge::violations(&SLOT_AGREEMENT, |j| only(j, &SLOT_AGREEMENT)).witnessed(),
        Judge::violations(&SLOT_VALIDITY, |j| only(j, &SLOT_VALIDITY)),
        Judge::violations(&SLOT_INTEGRITY, |j| only(j, &SLOT_INTEGRITY)).witnessed(),
        Judge::violations(&LOG_LIVENESS, |j| only(j, &LOG_LIVENESS)),
    ]
}
