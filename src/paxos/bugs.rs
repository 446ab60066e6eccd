//! Planted bugs: classic Paxos mistakes, compiled in, off by default, switched on at run
//! time (`gauntlet explore --bug NAME`). Each lives in the core where such a bug would
//! really be. They exist to prove the harness finds real bugs, and to give the failure
//! workflow (save, shrink, replay, keep) something real to work on.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bug {
    /// Learner counts every accepted message, so a duplicate from one acceptor counts
    /// twice toward a majority.
    LearnerCountsDuplicates,
    /// Acceptor accepts a ballot lower than its promise.
    AcceptorAcceptsBelowPromise,
}

impl Bug {
    pub const ALL: [Bug; 2] = [
        Bug::LearnerCountsDuplicates,
        Bug::AcceptorAcceptsBelowPromise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::LearnerCountsDuplicates => "learner_counts_duplicates",
            Bug::AcceptorAcceptsBelowPromise => "acceptor_accepts_below_promise",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Bug::LearnerCountsDuplicates => {
                "learner counts a duplicated accepted message from one acceptor twice"
            }
            Bug::AcceptorAcceptsBelowPromise => "acceptor accepts a ballot lower than its promise",
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

/// The bugs switched on for a run. Empty (correct Paxos) by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bugs(pub BTreeSet<Bug>);

impl Bugs {
    pub fn has(&self, bug: Bug) -> bool {
        self.0.contains(&bug)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
