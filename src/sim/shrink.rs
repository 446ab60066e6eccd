//! Shrinking a failing scenario: greedily take the first smaller candidate that still
//! fails the same way, until no candidate does or the step budget runs out. Each step is
//! one deterministic run, so shrinking the same failure twice gives the same result.
//! Every candidate is one the protocol accepts ([`crate::protocol::prepare`]: its
//! minimum cluster, its own parameters), so the shrinker never offers a scenario the
//! protocol cannot run.

use crate::fault::{cluster_candidates, schedule_candidates};
use crate::protocol::{prepare, Protocol};
use crate::scenario::Scenario;

/// How much a scenario weighs, for before/after reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub fault_events: usize,
    pub nodes: usize,
    pub proposals: usize,
}

impl Size {
    pub fn of(s: &Scenario) -> Size {
        Size {
            fault_events: s.faults.events.len(),
            nodes: s.cluster.nodes.len(),
            proposals: s.workload.len(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shrunk {
    pub scenario: Scenario,
    /// Candidate runs tried.
    pub steps: usize,
    /// Candidates accepted (each made the scenario smaller).
    pub accepted: usize,
    /// True if the budget ran out before no candidate was left to try.
    pub stopped_early: bool,
}

/// Smaller variants of `s`, biggest reductions first: smaller clusters (the
/// protocol's cuts, merges, a client request fewer, a role fewer, each under several
/// seeds: [`cluster_candidates`]), then the fine candidates ([`fine_candidates`]).
/// Candidates the protocol does not accept are filtered out.
pub fn candidates<P: Protocol + ?Sized>(protocol: &P, s: &Scenario) -> Vec<Scenario> {
    let mut out = cluster_candidates(protocol, s);
    out.extend(fine_candidates(protocol, s));
    out
}

/// The same cluster, made smaller in its details: schedule reductions (events out,
/// rates lower, windows shorter, times earlier), then earlier client requests.
pub fn fine_candidates<P: Protocol + ?Sized>(protocol: &P, s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    for faults in schedule_candidates(&s.faults) {
        out.push(Scenario {
            faults,
            ..s.clone()
        });
    }
    for (i, p) in s.workload.iter().enumerate() {
        if p.at_ms > 0 {
            let mut earlier = s.clone();
            earlier.workload[i].at_ms = p.at_ms / 2;
            out.push(earlier);
        }
    }
    out.retain(|c| c != s && prepare(protocol, c).is_ok());
    out
}

/// Shrink `scenario` while `still_fails` holds, trying at most `budget` candidates.
///
/// In rounds: first the cluster is cut down as far as it goes (each cut under several
/// seeds, biggest cut first), then the details as far as they go; if the details
/// changed, the cluster is tried again (a fault event gone may free a node). Each step
/// keeps the first candidate that still fails, so the same failure always shrinks to
/// the same scenario.
pub fn shrink<P: Protocol + ?Sized>(
    protocol: &P,
    scenario: &Scenario,
    budget: usize,
    mut still_fails: impl FnMut(&Scenario) -> bool,
) -> Shrunk {
    let mut walk = Walk {
        current: scenario.clone(),
        steps: 0,
        accepted: 0,
        budget,
    };
    loop {
        let cut = walk.fixpoint(&mut still_fails, |s| cluster_candidates(protocol, s));
        let Some(_) = cut else {
            return walk.done(true);
        };
        let Some(fine) = walk.fixpoint(&mut still_fails, |s| fine_candidates(protocol, s)) else {
            return walk.done(true);
        };
        if fine == 0 {
            return walk.done(false);
        }
    }
}

/// The shrinker's state: the smallest failing scenario so far and what it cost.
struct Walk {
    current: Scenario,
    steps: usize,
    accepted: usize,
    budget: usize,
}

impl Walk {
    /// Keep taking the first failing candidate of `candidates(current)` until none
    /// fails: how many were taken, or `None` if the budget ran out.
    fn fixpoint(
        &mut self,
        still_fails: &mut impl FnMut(&Scenario) -> bool,
        candidates: impl Fn(&Scenario) -> Vec<Scenario>,
    ) -> Option<usize> {
        let mut taken = 0;
        'outer: loop {
            for candidate in candidates(&self.current) {
                if self.steps >= self.budget {
                    return None;
                }
                self.steps += 1;
                if still_fails(&candidate) {
                    self.current = candidate;
                    self.accepted += 1;
                    taken += 1;
                    continue 'outer;
                }
            }
            return Some(taken);
        }
    }

    fn done(self, stopped_early: bool) -> Shrunk {
        Shrunk {
            scenario: self.current,
            steps: self.steps,
            accepted: self.accepted,
            stopped_early,
        }
    }
}
