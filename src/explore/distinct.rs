//! Distinct failures: a campaign against a bug that breaks most runs finds the same
//! failure thousands of times. Two failing runs are the same failure when they break
//! the same first property with witnesses of the same shape (the kinds of the witness
//! events, without times, nodes, ids or values: `agreement: accept, accept`). A
//! campaign keeps, of each distinct failure, the first run that showed it and the
//! smallest (fewest trace events), and by default stops after a few of them.

use super::Judged;
use crate::sim::RunEnd;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Witness events a class key reads (a liveness witness can be long).
const SHAPES_MAX: usize = 16;

/// The class of a failing run: `property: shape, shape, ...`; a harness error is its
/// own class.
pub fn class_of(judged: &Judged) -> String {
    match judged.verdict.violations.first() {
        Some(v) => {
            let shapes: std::collections::BTreeSet<String> = v
                .witness
                .iter()
                .take(SHAPES_MAX)
                .filter_map(|&i| judged.trace.event_shape(i))
                .collect();
            let shapes: Vec<String> = shapes.into_iter().collect();
            format!("{}: {}", v.property, shapes.join(", "))
        }
        None => match &judged.end {
            RunEnd::HarnessError(_) => "harness error".into(),
            _ => "no failure".into(),
        },
    }
}

/// One distinct failure of a campaign, with the runs kept for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distinct {
    /// [`class_of`] its runs.
    pub class: String,
    /// The first property its runs break (or `harness error`).
    pub property: String,
    /// The first failing run of this class (campaign index and seed).
    pub first: KeptRun,
    /// The failing run of this class with the fewest trace events (the earliest of
    /// equals): the one to shrink and read first.
    pub smallest: KeptRun,
    /// Failing runs of this class in the campaign.
    pub failing_runs: u64,
    /// For a fast-lane campaign: whether the turmoil lane (the reference) reproduced
    /// the first run's property. Checked once per distinct failure.
    pub reproduced_in_turmoil: Option<bool>,
}

/// A failing run a campaign keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptRun {
    pub index: u64,
    pub seed: u64,
    /// Trace events of the run.
    pub events: u64,
    /// Where its scenario was saved, if it was.
    pub file: Option<PathBuf>,
}

impl Distinct {
    /// Fold another campaign part's (a shard's) record of the same class into this
    /// one: the earlier first, the smaller smallest (then the earlier), the runs added.
    pub fn merge(&mut self, other: &Distinct) {
        if other.first.index < self.first.index {
            self.first = other.first.clone();
            self.reproduced_in_turmoil = other.reproduced_in_turmoil;
        }
        if (other.smallest.events, other.smallest.index)
            < (self.smallest.events, self.smallest.index)
        {
            self.smallest = other.smallest.clone();
        }
        self.failing_runs = self.failing_runs.saturating_add(other.failing_runs);
    }
}
