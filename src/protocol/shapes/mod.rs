//! The decision shapes and their generic judges. A protocol maps its own trace events
//! to [`Observation`]s ([`Core::observe`]); these judges read that view and say what
//! every protocol of the shape promises its users, whatever its messages or state, so
//! one judge serves every protocol of the shape, and a protocol cannot weaken its own
//! judge by choosing what to check.
//!
//! - [`value`]: one value decided (Paxos, the naive vote).
//! - [`log`]: a decision per slot ([`judge_log`]; PBFT, Raft-like logs).
//! - [`chain`]: each node's best chain, whose blocks become final ([`judge_chain`];
//!   proof of work, proof of stake).
//!
//! Judges read honest nodes only: a node a fault made Byzantine is left out. As for
//! every judge, a verdict is as deterministic as its input: records are read in
//! history order and only `BTreeMap`/`BTreeSet` are kept.

pub mod chain;
pub mod log;
#[cfg(test)]
mod tests;
pub mod value;

pub use self::chain::{
    judge_chain, CHAIN_GROWTH, CHAIN_PROPERTIES, COMMON_PREFIX, FINALITY_AGREEMENT,
    FINALITY_INTEGRITY,
};
pub use self::log::{
    judge_log, LOG_LIVENESS, LOG_PROPERTIES, SLOT_AGREEMENT, SLOT_INTEGRITY, SLOT_VALIDITY,
};

use super::{Core, Observation};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
pub use crate::value::Value;
use std::collections::BTreeSet;
use std::fmt;

/// A block's id on a chain (a hash rendered as a short string). An alias of [`Value`]
/// because the judges only compare and print both, never look inside.
pub type BlockId = Value;

/// What a shape's judges read of one run: the protocol's decision view of the node
/// events, in history order, plus the harness's phase markers.
///
/// The indices are the history's, so a violation's witness points at real events that
/// `Violation::render_witness` can print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShapeView {
    /// The node events the shape cares about, in history order (indices never
    /// decrease; one event may yield several records with the same index).
    pub records: Vec<Record>,
    /// History index and time of the liveness phase's start (`None`: the run never
    /// healed; liveness is not judged).
    pub liveness_from: Option<(usize, u64)>,
    /// History index and time of the run's last event (its end).
    pub end: Option<(usize, u64)>,
    /// Nodes a fault made Byzantine: never judged, their records ignored. A Byzantine
    /// node may record anything (a decision, a submission it invented), so reading it
    /// would let it both fire and silence the judges.
    pub byzantine: BTreeSet<NodeId>,
    /// Nodes that must decide (log) or converge (chain) once the faults heal.
    pub deciders: Vec<NodeId>,
}

/// One node event, as the shape sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Index of the event in the history: what a violation's witness lists.
    pub index: usize,
    /// Simulated time of the event.
    pub at_ms: u64,
    /// The node the event happened at.
    pub node: NodeId,
    pub observation: Observation,
    /// Recorded by the harness, not the node's core (a client request the scenario's
    /// workload made): true even at a Byzantine node, which cannot forge it.
    pub from_harness: bool,
}

impl ShapeView {
    /// The view of a run's history: every protocol event the core observes, every
    /// client request (as a log submission), the liveness phase's start and the
    /// run's end. No node is Byzantine yet (the Byzantine faults will mark them).
    pub fn of<C: Core>(history: &History<C>, deciders: &[NodeId]) -> ShapeView {
        let mut records = Vec::new();
        for (index, e) in history.events.iter().enumerate() {
            let Some(node) = e.node else { continue };
            let (observation, from_harness) = match &e.kind {
                EventKind::ClientRequest { value } => (
                    Observation::Submitted {
                        request: value.clone(),
                    },
                    true,
                ),
                EventKind::Protocol(event) => match C::observe(event) {
                    Some(observation) => (observation, false),
                    None => continue,
                },
                _ => continue,
            };
            records.push(Record {
                index,
                at_ms: e.at_ms,
                node,
                observation,
                from_harness,
            });
        }
        let at = |i: usize| (i, history.events[i].at_ms);
        ShapeView {
            records,
            liveness_from: history.liveness_start().map(at),
            end: history.events.len().checked_sub(1).map(at),
            byzantine: BTreeSet::new(),
            deciders: deciders.to_vec(),
        }
    }

    /// The view of the run a judge reads: [`ShapeView::of`] its history and deciders,
    /// with every node a Byzantine fault of its scenario names
    /// (`crate::fault::FaultSchedule::byzantine_nodes`) left out.
    pub fn judging<P: crate::protocol::Protocol + ?Sized>(
        j: &crate::protocol::Judging<P>,
    ) -> ShapeView {
        let mut view = ShapeView::of(j.history, j.deciders);
        view.byzantine = j.setup.scenario.faults.byzantine_nodes();
        view
    }

    /// The records of honest nodes, in history order: the only ones any judge reads.
    fn honest(&self) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(|r| !self.byzantine.contains(&r.node))
    }

    /// The deciders that are honest, sorted and deduplicated.
    fn honest_deciders(&self) -> BTreeSet<NodeId> {
        self.deciders
            .iter()
            .filter(|n| !self.byzantine.contains(n))
            .copied()
            .collect()
    }
}

/// Where a liveness judgement stands: from the liveness phase's start to the run's
/// end. Every `Eventually` violation is dated at the end and witnessed by both.
struct Window {
    from_index: usize,
    from_ms: u64,
    end_ms: u64,
    witness: Vec<usize>,
}

impl Window {
    /// `None` when the run never reached its liveness phase: nothing is judged then.
    /// A view without an end is judged at the phase's start.
    fn of(view: &ShapeView) -> Option<Window> {
        let (from_index, from_ms) = view.liveness_from?;
        let (end_index, end_ms) = view.end.unwrap_or((from_index, from_ms));
        Some(Window {
            from_index,
            from_ms,
            end_ms,
            witness: vec![from_index, end_index],
        })
    }

    /// `liveness phase from 50ms to 120ms`, the tail of every liveness message.
    fn describe(&self) -> String {
        format!(
            "liveness phase from {}ms to {}ms",
            self.from_ms, self.end_ms
        )
    }
}

/// How many items a message lists before it says "and N more": a run that leaves
/// thousands of requests undecided must still print a readable violation.
const LIST_MAX: usize = 5;

/// `a, b, c, d, e and 3 more`: the first [`LIST_MAX`] items, then a count of the rest.
fn capped<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut more: u64 = 0;
    for item in items {
        if shown.len() < LIST_MAX {
            shown.push(item.to_string());
        } else {
            more = more.checked_add(1).expect("fewer than 2^64 items");
        }
    }
    let list = shown.join(", ");
    if more == 0 {
        list
    } else {
        format!("{list} and {more} more")
    }
}
