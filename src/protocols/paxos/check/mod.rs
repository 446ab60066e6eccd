//! Paxos's own judges, stronger than the single-value shape's generic ones: they
//! compute *chosen* from the acceptors' `Accepted` notes (a majority at one ballot),
//! so agreement breaks the moment two values are chosen, even if no learner learned
//! either, and a learner is held to learning only a chosen value.
//!
//! Three kinds, as everywhere: `Always` ([`safety`]), `Eventually` ([`liveness`]),
//! `Sometimes` ([`coverage`]).

mod coverage;
mod liveness;
mod safety;
#[cfg(test)]
mod tests;

pub use liveness::check_liveness;
pub use safety::check_safety;

use super::{Node, Paxos};
use crate::ids::NodeId;
pub(crate) use crate::protocol::node_list;
use crate::protocol::{Expectation, Judge, Judging, Property, Violation};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// A Paxos run's history.
pub type History = crate::history::History<Node>;

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

pub const DUPLICATE_DELIVERED: Property = crate::protocol::shapes::value::DUPLICATE_DELIVERED;

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

/// Who plays which role. The history alone cannot say this (an acceptor that never
/// recorded anything is still part of every majority), so the judges read it from the
/// scenario's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub acceptors: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    pub proposers: Vec<NodeId>,
}

fn roster(j: &Judging<Paxos>) -> Roster {
    let p = &j.setup.params;
    Roster {
        acceptors: p.acceptors.clone(),
        learners: p.learners.clone(),
        proposers: p.proposers.clone(),
    }
}

/// What the Paxos judges read in common: the roster, and the values chosen, which
/// agreement, validity, learner integrity and `value_chosen` all rest on. Derived once
/// per run ([`Judging::shared`]) rather than once by each of those judges.
struct Facts {
    roster: Roster,
    choices: Vec<safety::Choice>,
}

fn facts(j: &Judging<Paxos>) -> Rc<Facts> {
    j.shared(|j| {
        let roster = roster(j);
        let choices = safety::choices(j.history, &roster);
        Facts { roster, choices }
    })
}

/// Every Paxos property: safety, then liveness, then coverage.
pub fn judges() -> Vec<Judge<Paxos>> {
    vec![
        Judge::violations(&AGREEMENT, |j| {
            safety::agreement(&facts(j).choices).into_iter().collect()
        })
        .witnessed(),
        Judge::violations(&VALIDITY, |j| {
            safety::validity(j.history, &facts(j).choices)
        }),
        Judge::violations(&LEARNER_INTEGRITY, |j| {
            safety::learner_integrity(j.history, &facts(j).choices)
        }),
        Judge::violations(&LIVENESS, |j| check_liveness(j.history, &facts(j).roster)),
        Judge::reached(&COMPETING_BALLOTS, |j| {
            coverage::competing_ballots(j.history)
        }),
        Judge::reached(&ADOPTED_FOREIGN_VALUE, |j| {
            j.history.events.iter().any(|e| {
                matches!(
                    e.kind,
                    crate::history::EventKind::Protocol(super::Note::Adopted { .. })
                )
            })
        }),
        Judge::reached(&RESTART_BETWEEN_PROMISE_AND_ACCEPT, |j| {
            coverage::restart_between_promise_and_accept(j.history)
        }),
        Judge::reached(&DUPLICATE_DELIVERED, |j| {
            coverage::duplicate_delivered(j.history)
        }),
        Judge::reached(&MAJORITY_ISOLATED, |j| {
            coverage::majority_isolated(j.history, &facts(j).roster)
        }),
        Judge::reached(&VALUE_CHOSEN, |j| !facts(j).choices.is_empty()),
    ]
}

/// Every safety and liveness violation of one run, as the judges report them.
pub fn check_run(history: &History, roster: &Roster) -> Vec<Violation> {
    let mut violations = check_safety(history, roster);
    violations.extend(check_liveness(history, roster));
    violations
}
