//! The `Sometimes` properties: interesting states a campaign must reach so that a pass
//! means something. A single run is never failed for missing one; a campaign sums them
//! in [`CoverageCounts`] and reports the states no run reached.
//!
//! Each flag is chosen because a known Paxos bug only shows when it is reached: two
//! proposers competing (agreement), a proposer adopting an earlier value (the phase-1
//! rule), an acceptor losing its memory between promise and accept (durability), a
//! duplicated message (idempotence), a majority cut off from a proposer (quorum logic).

use super::{safety, Roster, COVERAGE_PROPERTIES};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::paxos::{majority, Note};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Which coverage properties one run reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Some acceptor promised ballots of two different proposers.
    pub competing_ballots: bool,
    /// Some proposer adopted a value accepted at an earlier ballot.
    pub adopted_foreign_value: bool,
    /// Some acceptor promised, then crashed, then (after its restart) accepted.
    pub restart_between_promise_and_accept: bool,
    /// Some node received the same (sender, message id) twice.
    pub duplicate_delivered: bool,
    /// Some partition put a majority of acceptors in a group without some proposer.
    pub majority_isolated: bool,
    /// Some value was chosen.
    pub value_chosen: bool,
}

impl Coverage {
    /// (name, reached) for every coverage property, in [`COVERAGE_PROPERTIES`] order.
    pub fn reached(&self) -> Vec<(&'static str, bool)> {
        let flags = [
            self.competing_ballots,
            self.adopted_foreign_value,
            self.restart_between_promise_and_accept,
            self.duplicate_delivered,
            self.majority_isolated,
            self.value_chosen,
        ];
        COVERAGE_PROPERTIES
            .iter()
            .zip(flags)
            .map(|(p, reached)| (p.name, reached))
            .collect()
    }
}

/// Campaign totals: in how many runs each coverage property was reached, in
/// [`COVERAGE_PROPERTIES`] order (so a new flag needs no change here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CoverageCounts {
    /// Runs added so far, so a count can be read as "k of n runs".
    pub runs: u64,
    counts: [u64; COVERAGE_PROPERTIES.len()],
}

impl CoverageCounts {
    /// Adds one run's coverage.
    pub fn add(&mut self, c: &Coverage) {
        self.runs += 1;
        for (count, (_, reached)) in self.counts.iter_mut().zip(c.reached()) {
            *count += u64::from(reached);
        }
    }

    /// Runs that reached the coverage property `name` (0 for an unknown name).
    pub fn get(&self, name: &str) -> u64 {
        self.entries()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, count)| count)
    }

    /// (name, runs that reached it), in [`COVERAGE_PROPERTIES`] order.
    pub fn entries(&self) -> Vec<(&'static str, u64)> {
        COVERAGE_PROPERTIES
            .iter()
            .zip(self.counts)
            .map(|(p, n)| (p.name, n))
            .collect()
    }

    /// Every coverage property was reached by at least one run. False for an empty
    /// campaign: zero runs prove nothing.
    pub fn all_reached(&self) -> bool {
        self.entries().iter().all(|&(_, n)| n > 0)
    }
}

/// Computes one run's coverage.
///
/// Flags about acceptor behaviour (promises, accepts) trust the node that recorded the
/// note: only acceptors record `Promised`/`Accepted`, so the roster is not consulted for
/// them. The roster matters where counting does (majorities, and who is a proposer).
pub fn coverage(history: &History, roster: &Roster) -> Coverage {
    Coverage {
        competing_ballots: competing_ballots(history),
        adopted_foreign_value: history
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Protocol(Note::Adopted { .. }))),
        restart_between_promise_and_accept: restart_between_promise_and_accept(history),
        duplicate_delivered: duplicate_delivered(history),
        majority_isolated: majority_isolated(history, roster),
        value_chosen: !safety::choices(history, roster).is_empty(),
    }
}

fn competing_ballots(history: &History) -> bool {
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
fn restart_between_promise_and_accept(history: &History) -> bool {
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
fn duplicate_delivered(history: &History) -> bool {
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

fn majority_isolated(history: &History, roster: &Roster) -> bool {
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
