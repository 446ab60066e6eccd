//! Judging runs: every property a protocol lists ([`crate::protocol::Judge`]) over one
//! run's history, which judges only read (principle 5), and coverage counted by
//! property name across a campaign ([`CoverageCounts`]), so each protocol brings its
//! own Sometimes properties and the campaign table shows them.
//!
//! The generic judges of each decision shape live with the contract
//! (`crate::protocol::shapes`); protocol-specific judges live with their protocol.

pub use crate::protocol::{Expectation, Property, Verdict, Violation};

use crate::history::History;
use crate::protocol::{Judging, Protocol, RunSetup};
use std::collections::BTreeMap;

/// Judge one run of `protocol` by every property it lists.
pub fn judge<P: Protocol + ?Sized>(
    protocol: &P,
    setup: &RunSetup<P>,
    history: &History<P::Core>,
) -> Verdict {
    let deciders = protocol.deciders(setup);
    let judging = Judging::new(history, setup, &deciders);
    Verdict::of(&protocol.properties(), &judging)
}

/// How many runs of a campaign reached each Sometimes property, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageCounts {
    counts: BTreeMap<&'static str, u64>,
}

impl CoverageCounts {
    /// Counts for these Sometimes properties, all at zero (so a property no run
    /// reached still shows, as 0).
    pub fn for_properties(properties: &[&'static Property]) -> Self {
        CoverageCounts {
            counts: properties
                .iter()
                .filter(|p| p.expectation == Expectation::Sometimes)
                .map(|p| (p.name, 0))
                .collect(),
        }
    }

    /// Count the states one run reached.
    pub fn add(&mut self, verdict: &Verdict) {
        for name in &verdict.reached {
            let count = self.counts.entry(name).or_insert(0);
            *count = count.checked_add(1).expect("coverage count overflows u64");
        }
    }

    /// Add another campaign's (or shard's) counts.
    pub fn merge(&mut self, other: &CoverageCounts) {
        for (name, n) in &other.counts {
            let count = self.counts.entry(name).or_insert(0);
            *count = count.checked_add(*n).expect("coverage count overflows u64");
        }
    }

    pub fn get(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// Every property with its count, by name.
    pub fn entries(&self) -> Vec<(&'static str, u64)> {
        self.counts.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Every coverage property was reached by at least one run.
    pub fn all_reached(&self) -> bool {
        self.counts.values().all(|&n| n > 0)
    }
}
