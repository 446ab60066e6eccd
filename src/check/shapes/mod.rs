//! Judges for two decision shapes beyond the single value of [`super::generic`]: a
//! replicated log ([`judge_log`]: one decision per slot) and a chain ([`judge_chain`]:
//! each node's best chain, whose blocks become final).
//!
//! A judge is a pure function of a [`ShapeView`], which a protocol builds from its
//! history. The view holds only what the protocol promises its users (what was
//! submitted, decided, finalized, which chain a node follows), never its messages or
//! state, so one judge serves every protocol of that shape, and a protocol cannot
//! weaken its own judge by choosing what to check.
//!
//! As for every checker, a verdict is as deterministic as its input: the judges read
//! records in history order and keep only `BTreeMap`/`BTreeSet`.

mod chain;
mod log;
#[cfg(test)]
mod tests;

pub use self::chain::{
    judge_chain, CHAIN_GROWTH, CHAIN_PROPERTIES, COMMON_PREFIX, FINALITY_AGREEMENT,
    FINALITY_INTEGRITY,
};
pub use self::log::{
    judge_log, LOG_LIVENESS, LOG_PROPERTIES, SLOT_AGREEMENT, SLOT_INTEGRITY, SLOT_VALIDITY,
};

use crate::ids::NodeId;
/// The value type, imported here and only here: it is due to move out of `paxos`, and
/// the judges and their tests name it through this re-export.
pub use crate::paxos::Value;
use std::collections::BTreeSet;
use std::fmt;

/// A block's id on a chain (a hash rendered as a short string). An alias of [`Value`]
/// because the judges only compare and print both, never look inside.
pub type BlockId = Value;

/// What a shape's judges read of one run: the protocol's decision view of the node
/// events, in history order, plus the harness's phase markers.
///
/// The indices are the history's, so a [`super::Violation`]'s witness points at real
/// events that [`super::Violation::render_witness`] can print.
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
}

/// What a node reported, in the vocabulary of one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Log: a client submitted `request` at this node.
    Submitted { request: Value },
    /// Log: the node decided `value` for `slot` (once per node per slot, for good).
    /// Slots count from 0.
    SlotDecided { slot: u64, value: Value },
    /// Chain: the node's best chain changed; `chain` lists block ids from genesis
    /// (height 0) to tip.
    Tip { chain: Vec<BlockId> },
    /// Chain: the node finalized `block` at `height` (never to be reverted).
    Finalized { height: u64, block: BlockId },
}

impl ShapeView {
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
