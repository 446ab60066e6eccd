//! Planted bugs: classic Paxos mistakes, compiled in, off by default, switched on at run
//! time (`gauntlet explore --bug NAME`). Each lives in the core where such a bug would
//! really be. They exist to prove the harness finds real bugs, and to give the failure
//! workflow (save, shrink, replay, keep) something real to work on.

use crate::protocol::{planted_bug_table, BugSet, PlantedBug, PlantedBugKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One planted bug. The catalog follows the classic ways Basic Paxos goes wrong; the
/// comment on each variant says where it lives and what it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bug {
    /// Node (persistence): a change of the acceptor's state is written but never
    /// fsynced before the reply goes out, so a crash loses the promise or acceptance.
    AcceptorSkipsFsync,
    /// Acceptor: the promise lives in memory only (the snapshot omits it), so a
    /// restarted acceptor promises and accepts ballots below its old promise.
    AcceptorForgetsPromise,
    /// Acceptor accepts a ballot lower than its promise.
    AcceptorAcceptsBelowPromise,
    /// Acceptor compares prepares by round only: a prepare whose round equals its
    /// promise's, from a different proposer, is promised (and replaces the promise).
    AcceptorPromisesEqualRound,
    /// Proposer sends its own value even when a promise carries an accepted value.
    ProposerIgnoresAcceptedValue,
    /// Proposer adopts the value of the first promise that carries one, not the value
    /// of the highest-ballot acceptance among the majority.
    ProposerAdoptsFirstValue,
    /// Proposer starts phase 2 one promise short of a majority (off-by-one quorum;
    /// with an even number of acceptors that is exactly half).
    ProposerQuorumOneShort,
    /// Ballots are the round alone, with no proposer id, so two proposers run the
    /// same ballot with different values.
    BallotsNotUnique,
    /// Learner counts every accepted message, so a duplicate from one acceptor counts
    /// twice toward a majority.
    LearnerCountsDuplicates,
    /// Learner tallies acceptances per value, so acceptances of one value at different
    /// ballots count toward one quorum.
    LearnerMixesBallots,
    /// Proposer does not persist its round counter, so after a restart it reuses a
    /// ballot it already ran, possibly with a different value.
    ProposerForgetsRound,
    /// Proposer ignores nacks and retries with the same ballot forever: never unsafe,
    /// but a proposer outbid once never finishes (only liveness catches it).
    ProposerIgnoresNacks,
    /// Acceptor: the accepted proposal lives in memory only, so a restarted acceptor
    /// reports nothing accepted and a chosen value can be overwritten.
    AcceptorForgetsAccepted,
    /// Learner learns from one acceptor short of a majority.
    LearnerQuorumOneShort,
}

impl Bug {
    pub const ALL: [Bug; 14] = [
        Bug::AcceptorSkipsFsync,
        Bug::AcceptorForgetsPromise,
        Bug::AcceptorAcceptsBelowPromise,
        Bug::AcceptorPromisesEqualRound,
        Bug::ProposerIgnoresAcceptedValue,
        Bug::ProposerAdoptsFirstValue,
        Bug::ProposerQuorumOneShort,
        Bug::BallotsNotUnique,
        Bug::LearnerCountsDuplicates,
        Bug::LearnerMixesBallots,
        Bug::ProposerForgetsRound,
        Bug::ProposerIgnoresNacks,
        Bug::AcceptorForgetsAccepted,
        Bug::LearnerQuorumOneShort,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Bug::AcceptorSkipsFsync => "acceptor_skips_fsync",
            Bug::AcceptorForgetsPromise => "acceptor_forgets_promise",
            Bug::AcceptorAcceptsBelowPromise => "acceptor_accepts_below_promise",
            Bug::AcceptorPromisesEqualRound => "acceptor_promises_equal_round",
            Bug::ProposerIgnoresAcceptedValue => "proposer_ignores_accepted_value",
            Bug::ProposerAdoptsFirstValue => "proposer_adopts_first_value",
            Bug::ProposerQuorumOneShort => "proposer_quorum_one_short",
            Bug::BallotsNotUnique => "ballots_not_unique",
            Bug::LearnerCountsDuplicates => "learner_counts_duplicates",
            Bug::LearnerMixesBallots => "learner_mixes_ballots",
            Bug::ProposerForgetsRound => "proposer_forgets_round",
            Bug::ProposerIgnoresNacks => "proposer_ignores_nacks",
            Bug::AcceptorForgetsAccepted => "acceptor_forgets_accepted",
            Bug::LearnerQuorumOneShort => "learner_quorum_one_short",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Bug::AcceptorSkipsFsync => {
                "acceptor replies before its state is fsynced, so a crash loses its promise"
            }
            Bug::AcceptorForgetsPromise => {
                "acceptor keeps its promise in memory only and forgets it on restart"
            }
            Bug::AcceptorAcceptsBelowPromise => "acceptor accepts a ballot lower than its promise",
            Bug::AcceptorPromisesEqualRound => {
                "acceptor promises a prepare of its promise's round from a different proposer"
            }
            Bug::ProposerIgnoresAcceptedValue => {
                "proposer sends its own value even when a promise carries an accepted value"
            }
            Bug::ProposerAdoptsFirstValue => {
                "proposer adopts the value of the first promise, not the highest-ballot one"
            }
            Bug::ProposerQuorumOneShort => {
                "proposer starts phase 2 one promise short of a majority"
            }
            Bug::BallotsNotUnique => "ballots are the round only, with no proposer id",
            Bug::LearnerCountsDuplicates => {
                "learner counts a duplicated accepted message from one acceptor twice"
            }
            Bug::LearnerMixesBallots => {
                "learner counts acceptances from different ballots toward one quorum"
            }
            Bug::ProposerForgetsRound => {
                "proposer does not persist its round, so it reuses a ballot after a restart"
            }
            Bug::ProposerIgnoresNacks => {
                "proposer ignores nacks and retries the same ballot forever (liveness only)"
            }
            Bug::AcceptorForgetsAccepted => {
                "acceptor keeps its accepted value in memory only and forgets it on restart"
            }
            Bug::LearnerQuorumOneShort => "learner learns from one acceptor short of a majority",
        }
    }

    /// The catalog entry: the name scenarios say and the one-line description.
    pub const fn planted(self) -> PlantedBug {
        PlantedBug {
            name: self.name(),
            description: self.description(),
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Bug::ALL.into_iter().find(|b| b.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
            format!("unknown bug {s:?}; known: {}", names.join(", "))
        })
    }
}

/// The catalog, in [`Bug::ALL`]'s order (what [`crate::protocol::Protocol::bugs`] lends).
pub static BUGS: [PlantedBug; 14] = planted_bug_table!(Bug, 14);

impl PlantedBugKind for Bug {
    const ALL: &'static [Bug] = &Bug::ALL;
    fn planted(self) -> PlantedBug {
        Bug::planted(self)
    }
}

/// The bugs switched on for a run. Empty (correct Paxos) by default.
pub type Bugs = BugSet<Bug>;
