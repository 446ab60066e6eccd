//! The learner: learns a value once a majority of distinct acceptors report accepting
//! the same ballot with it.

use super::msg::{Ballot, Msg, Value};
use super::node::{Note, Output, Timer};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How many distinct (ballot, value) tallies a learner keeps. Older ballots are dropped
/// first; a ballot that old can no longer gather a majority in practice, and the limit
/// keeps a flood of forged or stale messages from growing memory without bound.
pub const TALLIES_MAX: usize = 256;

/// How a learner tallies acceptances: all false for correct Paxos; each flag plants a
/// learner bug ([`crate::protocols::paxos::Bug`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TallyRules {
    /// Count every message, duplicates included (`LearnerCountsDuplicates`).
    pub count_duplicates: bool,
    /// One tally per value whatever the ballot (`LearnerMixesBallots`).
    pub mix_ballots: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LearnerState {
    pub learned: Option<Value>,
}

/// Hashed whole (tallies included) for the exhaustive lane's fingerprints.
#[derive(Debug, Clone, Default, Hash)]
pub struct Learner {
    pub state: LearnerState,
    /// Acceptors that reported each (ballot, value). A set, so a duplicated message
    /// from the same acceptor is never counted twice.
    pub(super) tallies: BTreeMap<(Ballot, Value), BTreeSet<NodeId>>,
    /// Messages per (ballot, value), duplicates included: only consulted under the
    /// planted bug [`crate::protocols::paxos::Bug::LearnerCountsDuplicates`].
    pub(super) raw_counts: BTreeMap<(Ballot, Value), usize>,
}

impl Learner {
    pub fn recover(state: LearnerState) -> Self {
        Learner {
            state,
            ..Learner::default()
        }
    }

    /// An acceptor reports accepting `value` at `ballot`; learn once `quorum` distinct
    /// acceptors reported the same pair. `rules` carries the planted learner bugs.
    pub fn on_accepted(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        value: Value,
        quorum: usize,
        rules: TallyRules,
        out: &mut Vec<Output>,
    ) {
        if self.state.learned.is_some() {
            return;
        }
        // Under `Bug::LearnerMixesBallots` every ballot shares one tally per value.
        let key = if rules.mix_ballots {
            (Ballot::default(), value.clone())
        } else {
            (ballot, value.clone())
        };
        let voters = self.tallies.entry(key.clone()).or_default();
        voters.insert(from);
        let mut count = voters.len();
        if rules.count_duplicates {
            let raw = self.raw_counts.entry(key).or_default();
            *raw += 1;
            count = *raw;
        }
        if self.tallies.len() > TALLIES_MAX {
            self.tallies.pop_first();
        }
        if self.raw_counts.len() > TALLIES_MAX {
            self.raw_counts.pop_first();
        }
        if count >= quorum {
            self.state.learned = Some(value.clone());
            self.tallies.clear();
            self.raw_counts.clear();
            out.push(Output::Event(Note::Learned { ballot, value }));
        }
    }

    /// A learner that has not learned yet starts polling.
    pub fn on_start(&mut self, poll_ms: u64, out: &mut Vec<Output>) {
        if self.state.learned.is_none() {
            out.push(Output::SetTimer {
                timer: Timer::LearnerPoll,
                delay_ms_min: poll_ms,
                delay_ms_max: poll_ms,
            });
        }
    }

    /// Until it learns, a learner periodically nudges the proposers, so that a value
    /// chosen while its acceptances were lost gets re-driven to it, and the acceptors,
    /// which answer with what they accepted: a learner that was down through the
    /// decision (in real mode the proposers may be gone by then) learns from a
    /// majority's answers without any new ballot.
    pub fn on_poll(
        &mut self,
        proposers: &[NodeId],
        acceptors: &[NodeId],
        poll_ms: u64,
        out: &mut Vec<Output>,
    ) {
        if self.state.learned.is_some() {
            return;
        }
        let also_acceptors = acceptors.iter().filter(|a| !proposers.contains(a));
        for &to in proposers.iter().chain(also_acceptors) {
            out.push(Output::Send {
                to,
                msg: Msg::Nudge,
            });
        }
        out.push(Output::SetTimer {
            timer: Timer::LearnerPoll,
            delay_ms_min: poll_ms,
            delay_ms_max: poll_ms,
        });
    }
}
