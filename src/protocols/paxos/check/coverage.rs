//! The `Sometimes` properties: interesting states a campaign must reach so that a pass
//! means something. A single run is never failed for missing one; a campaign counts
//! them by name (`crate::check::CoverageCounts`) and reports the states no run reached.
//!
//! Each flag is chosen because a known Paxos bug only shows when it is reached: two
//! proposers competing (agreement), a proposer adopting an earlier value (the phase-1
//! rule), an acceptor losing its memory between promise and accept (durability), a
//! duplicated message (idempotence), a majority cut off from a proposer (quorum logic).

use super::History;
use super::Roster;
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::protocols::paxos::{majority, Note};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn competing_ballots(history: &History) -> bool {
    let mut proposers: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
    for e in &history.events {
        if let (Some(node), EventKind::Protocol(Note::Promised { ballot })) = (e.node, &e.kind) {
            let seen = proposers.entry(node).or_default();
            seen.insert(ballot.proposer);
            if seen.len() > 1 {
                return true;
            }
        }
    }
    false
}

/// Promised → Crashed(that node) → Accepted at that node, in history order. The crash
/// is what matters: an acceptor that accepts after a restart must have honoured the
/// promise it made before, which only its disk can tell it.
pub(super) fn restart_between_promise_and_accept(history: &History) -> bool {
    #[derive(PartialEq)]
    enum Stage {
        Promised,
        CrashedAfterPromise,
    }
    let mut stage: BTreeMap<NodeId, Stage> = BTreeMap::new();
    for e in &history.events {
        match (&e.kind, e.node) {
            (EventKind::Protocol(Note::Promised { .. }), Some(node)) => {
                stage.entry(node).or_insert(Stage::Promised);
            }
            (EventKind::Crashed { node }, _) => {
                if let Some(s) = stage.get_mut(node) {
                    *s = Stage::CrashedAfterPromise;
                }
            }
            (EventKind::Protocol(Note::Accepted { .. }), Some(node))
                if stage.get(&node) == Some(&Stage::CrashedAfterPromise) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// Each delivery as one integer (receiver, sender, message id), sorted, then any equal
/// neighbours: one allocation and a sort of plain integers, where a set costs an
/// allocation per delivery. This runs after every run of a campaign, so that matters.
pub(super) fn duplicate_delivered(history: &History) -> bool {
    let mut deliveries: Vec<u128> = history
        .events
        .iter()
        .filter_map(|e| match (&e.kind, e.node) {
            (EventKind::Delivered { from, msg_id, .. }, Some(to)) => {
                Some((to.0 as u128) << 80 | (from.0 as u128) << 64 | *msg_id as u128)
            }
            _ => None,
        })
        .collect();
    deliveries.sort_unstable();
    deliveries.windows(2).any(|w| w[0] == w[1])
}

pub(super) fn majority_isolated(history: &History, roster: &Roster) -> bool {
    let acceptors: BTreeSet<NodeId> = roster.acceptors.iter().copied().collect();
    let needed = majority(acceptors.len());
    history.events.iter().any(|e| {
        let EventKind::Partitioned { groups } = &e.kind else {
            return false;
        };
        groups.iter().any(|group| {
            let members: BTreeSet<NodeId> = group.iter().copied().collect();
            let held = members.intersection(&acceptors).count();
            held >= needed && roster.proposers.iter().any(|p| !members.contains(p))
        })
    })
}
