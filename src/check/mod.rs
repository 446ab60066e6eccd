//! Checkers: named properties judged over a recorded [`History`], which they only read
//! (ARCHITECTURE.md principle 5). A broken property is a [`Violation`] value, not an
//! `Err` (principle 9): a run that breaks agreement is a successful discovery, and the
//! caller decides what to do with it (save, shrink, replay).
//!
//! Three kinds of property, as in the architecture:
//! - `Always` (safety, [`safety`]): must hold at every point of every run.
//! - `Eventually` (liveness, [`liveness`]): must hold by the end of the liveness phase.
//! - `Sometimes` (coverage, [`coverage`]): should be reached by *some* run of a
//!   campaign, so that "no violation" is not vacuous (a campaign that never made two
//!   proposers compete has not tested agreement at all).
//!
//! Every checker is a pure function of the history and the [`Roster`], iterates in
//! history order and keeps only `BTreeMap`/`BTreeSet`, so a verdict is as deterministic
//! as the history it reads.

mod coverage;
pub mod generic;
mod liveness;
mod safety;
pub mod shapes;
#[cfg(test)]
mod tests;

pub use coverage::{coverage, Coverage, CoverageCounts};
pub use liveness::check_liveness;
pub use safety::check_safety;

use crate::history::{render_event, History};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a property is judged (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Expectation {
    /// Safety: must never be broken, at any point of any run.
    Always,
    /// Liveness: must hold by the end of the liveness phase.
    Eventually,
    /// Coverage: some run of a campaign must reach it.
    Sometimes,
}

/// A named property. Names are stable strings because they appear in violations,
/// corpus files and campaign summaries; renaming one breaks saved expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub expectation: Expectation,
    pub description: &'static str,
}

pub const AGREEMENT: Property = Property {
    name: "agreement",
    expectation: Expectation::Always,
    description: "at most one value is chosen",
};

pub const VALIDITY: Property = Property {
    name: "validity",
    expectation: Expectation::Always,
    description: "every chosen or learned value was proposed",
};

pub const LEARNER_INTEGRITY: Property = Property {
    name: "learner_integrity",
    expectation: Expectation::Always,
    description: "a learner learns only a chosen value, and never twice",
};

pub const LIVENESS: Property = Property {
    name: "liveness",
    expectation: Expectation::Eventually,
    description: "every learner learns, and every proposer with a client value finishes, in the liveness phase",
};

pub const COMPETING_BALLOTS: Property = Property {
    name: "competing_ballots",
    expectation: Expectation::Sometimes,
    description: "an acceptor promised ballots of two different proposers",
};

pub const ADOPTED_FOREIGN_VALUE: Property = Property {
    name: "adopted_foreign_value",
    expectation: Expectation::Sometimes,
    description: "a proposer adopted a value accepted at an earlier ballot",
};

pub const RESTART_BETWEEN_PROMISE_AND_ACCEPT: Property = Property {
    name: "restart_between_promise_and_accept",
    expectation: Expectation::Sometimes,
    description: "an acceptor promised, crashed, and later accepted",
};

pub const DUPLICATE_DELIVERED: Property = Property {
    name: "duplicate_delivered",
    expectation: Expectation::Sometimes,
    description: "a node received the same message twice",
};

pub const MAJORITY_ISOLATED: Property = Property {
    name: "majority_isolated",
    expectation: Expectation::Sometimes,
    description: "a partition cut a majority of acceptors off from some proposer",
};

pub const VALUE_CHOSEN: Property = Property {
    name: "value_chosen",
    expectation: Expectation::Sometimes,
    description: "some value was chosen",
};

/// The generic form of learner integrity, for protocols judged by
/// [`generic::check_generic`]: deciding is final.
pub const DECISION_INTEGRITY: Property = Property {
    name: "decision_integrity",
    expectation: Expectation::Always,
    description: "a node decides at most once",
};

/// The properties a single failing run can break without any bound on time.
pub const SAFETY_PROPERTIES: [&Property; 3] = [&AGREEMENT, &VALIDITY, &LEARNER_INTEGRITY];

/// The coverage properties, in the order [`Coverage::reached`] lists them.
pub const COVERAGE_PROPERTIES: [&Property; 6] = [
    &COMPETING_BALLOTS,
    &ADOPTED_FOREIGN_VALUE,
    &RESTART_BETWEEN_PROMISE_AND_ACCEPT,
    &DUPLICATE_DELIVERED,
    &MAJORITY_ISOLATED,
    &VALUE_CHOSEN,
];

/// Every property the Paxos checkers judge: safety, then liveness, then coverage.
pub const ALL_PROPERTIES: [&Property; 10] = [
    &AGREEMENT,
    &VALIDITY,
    &LEARNER_INTEGRITY,
    &LIVENESS,
    &COMPETING_BALLOTS,
    &ADOPTED_FOREIGN_VALUE,
    &RESTART_BETWEEN_PROMISE_AND_ACCEPT,
    &DUPLICATE_DELIVERED,
    &MAJORITY_ISOLATED,
    &VALUE_CHOSEN,
];

/// Who plays which role. The history alone cannot say this (an acceptor that never
/// recorded anything is still part of every majority), so the runner hands it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub acceptors: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    pub proposers: Vec<NodeId>,
}

/// One broken property, with the events that prove it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The [`Property::name`] that was broken.
    pub property: &'static str,
    pub expectation: Expectation,
    /// Simulated time at which the property became broken.
    pub at_ms: u64,
    /// The nodes involved, sorted and deduplicated.
    pub nodes: Vec<NodeId>,
    /// Indices into `history.events`, sorted ascending and deduplicated: the smallest
    /// set of events a reader needs to see the breach.
    pub witness: Vec<usize>,
    pub message: String,
}

impl Violation {
    /// Builds a violation of `property`, normalising `nodes` and `witness` (sorted,
    /// deduplicated) so that equal breaches compare equal however they were found.
    pub(crate) fn new(
        property: &Property,
        at_ms: u64,
        mut nodes: Vec<NodeId>,
        mut witness: Vec<usize>,
        message: String,
    ) -> Self {
        nodes.sort_unstable();
        nodes.dedup();
        witness.sort_unstable();
        witness.dedup();
        Violation {
            property: property.name,
            expectation: property.expectation,
            at_ms,
            nodes,
            witness,
            message,
        }
    }

    /// The witness events in the canonical trace format, each prefixed by its index so
    /// it can be found in the full rendering ([`History::render`]).
    ///
    /// Panics if a witness index is past the end of `history`: the violation was then
    /// rendered against a different history than the one it was found in, which means
    /// a replay diverged, and silently printing something else would hide that.
    pub fn render_witness(&self, history: &History) -> String {
        let mut out = String::new();
        for &i in &self.witness {
            let event = history.events.get(i).unwrap_or_else(|| {
                panic!(
                    "witness index {i} of {} violation is past the end of a history of {} events",
                    self.property,
                    history.len()
                )
            });
            out.push_str(&format!("{i:>5} {}\n", render_event(event)));
        }
        out
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}) broken at {}ms on {}: {}",
            self.property,
            self.expectation,
            self.at_ms,
            node_list(&self.nodes),
            self.message
        )
    }
}

/// Everything the checkers say about one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// Safety violations first (agreement, validity, learner integrity), then liveness.
    pub violations: Vec<Violation>,
    pub coverage: Coverage,
}

impl Verdict {
    /// No `Always` property was broken.
    pub fn safety_ok(&self) -> bool {
        !self
            .violations
            .iter()
            .any(|v| v.expectation == Expectation::Always)
    }

    /// No `Eventually` property was broken.
    pub fn liveness_ok(&self) -> bool {
        !self
            .violations
            .iter()
            .any(|v| v.expectation == Expectation::Eventually)
    }

    /// Both safety and liveness held. Coverage never fails a run: it is judged over a
    /// whole campaign ([`CoverageCounts::all_reached`]).
    pub fn is_ok(&self) -> bool {
        self.safety_ok() && self.liveness_ok()
    }
}

/// Runs every checker over one run's history.
pub fn check_run(history: &History, roster: &Roster) -> Verdict {
    let mut violations = check_safety(history, roster);
    violations.extend(check_liveness(history, roster));
    Verdict {
        violations,
        coverage: coverage(history, roster),
    }
}

/// `[n1,n2]`, the same list format as the trace rendering.
pub(crate) fn node_list(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("[{}]", names.join(","))
}
