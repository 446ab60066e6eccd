//! When a run is settled, read from its history the same way in both lanes: every
//! learner learned, and every proposer holding a client value finished its ballots
//! (decided or gave up), so a late proposer's adoption shows in the trace.

use super::Node;
use super::Note;
use crate::history::{Event, EventKind};
use crate::ids::NodeId;
use crate::protocol::Settle;
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct SettleTracker {
    learners: BTreeSet<NodeId>,
    learned: BTreeSet<NodeId>,
    busy_proposers: BTreeSet<NodeId>,
    /// Events already read.
    scanned: usize,
}

impl SettleTracker {
    pub fn new(learners: &[NodeId]) -> Self {
        SettleTracker {
            learners: learners.iter().copied().collect(),
            ..SettleTracker::default()
        }
    }

    /// Read the events appended since the last call.
    pub fn observe(&mut self, events: &[Event<Node>]) {
        for e in &events[self.scanned.min(events.len())..] {
            let Some(node) = e.node else { continue };
            match &e.kind {
                EventKind::Protocol(Note::Learned { .. }) => {
                    self.learned.insert(node);
                }
                EventKind::ClientRequest { .. } => {
                    self.busy_proposers.insert(node);
                }
                EventKind::Started { recovered, .. }
                    if recovered
                        .as_ref()
                        .and_then(|s| s.proposer.as_ref())
                        .is_some_and(|p| p.value.is_some()) =>
                {
                    self.busy_proposers.insert(node);
                }
                EventKind::Protocol(Note::Decided { .. } | Note::GaveUp { .. }) => {
                    self.busy_proposers.remove(&node);
                }
                _ => {}
            }
        }
        self.scanned = events.len();
    }

    pub fn settled(&self) -> bool {
        self.learned.is_superset(&self.learners) && self.busy_proposers.is_empty()
    }
}

impl Settle<Node> for SettleTracker {
    fn observe(&mut self, events: &[Event<Node>]) {
        SettleTracker::observe(self, events)
    }

    fn settled(&self) -> bool {
        SettleTracker::settled(self)
    }

    fn reason(&self) -> &'static str {
        "every learner learned"
    }
}
