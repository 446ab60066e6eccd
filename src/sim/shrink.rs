//! Shrinking a failing scenario: greedily take the first smaller candidate that still
//! fails the same way, until no candidate does or the step budget runs out. Each step is
//! one deterministic run, so shrinking the same failure twice gives the same result.
//! Every candidate is one the protocol accepts ([`crate::protocol::prepare`]: its
//! minimum cluster, its own parameters), so the shrinker never offers a scenario the
//! protocol cannot run.
//!
//! The last step is in time: a safety failure's run need not go on past its violation,
//! so the shrinker stops it there ([`Scenario::stop_at_ms`], [`stop_candidates`]). A
//! stopped run owes no liveness (its Eventually properties are not judged), so a
//! liveness failure never survives a stop and keeps its whole run.

use super::{run_setup, Lane};
use crate::check::judge;
use crate::fault::{cluster_candidates, schedule_candidates};
use crate::protocol::{prepare, Expectation, Protocol};
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
pub fn shrink<P: Protocol>(
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
        // A smaller cluster runs under other seeds, whose violation may come later than
        // a stop the scenario already has: it is tried without the stop, and the last
        // step puts one back.
        let cut = walk.fixpoint(&mut still_fails, |s| {
            let mut out = cluster_candidates(protocol, s);
            for c in &mut out {
                c.stop_at_ms = None;
            }
            out
        });
        let Some(_) = cut else {
            return walk.done(true);
        };
        let Some(fine) = walk.fixpoint(&mut still_fails, |s| fine_candidates(protocol, s)) else {
            return walk.done(true);
        };
        if fine == 0 {
            break;
        }
    }
    // Finding when the violations happened takes one run of the current scenario.
    if walk.steps >= walk.budget {
        return walk.done(true);
    }
    walk.steps += 1;
    // One pass, earliest stop first: the first that still fails is the shortest run.
    for candidate in stop_candidates(protocol, &walk.current) {
        if walk.steps >= walk.budget {
            return walk.done(true);
        }
        walk.steps += 1;
        if still_fails(&candidate) {
            walk.current = candidate;
            walk.accepted += 1;
            break;
        }
    }
    walk.done(false)
}

/// `s` stopped just past each of its safety violations ([`Scenario::stop_at_ms`]),
/// earliest first: a run that ends one millisecond after its violation still holds it
/// (the run is the same up to then). Each stop comes twice: first with the fault
/// events and client requests at or after it left out (they never happen: phase 1
/// ends by the stop, and the scenario reads shorter), then with them as they were.
/// Only stops that end the run earlier than it ends now; none for a run without a
/// safety violation. Judged in the fast lane, whose trace the turmoil lane's equals.
pub fn stop_candidates<P: Protocol>(protocol: &P, s: &Scenario) -> Vec<Scenario> {
    let Ok(setup) = prepare(protocol, s) else {
        return Vec::new();
    };
    let report = run_setup(protocol, &setup, Lane::Fast);
    let verdict = judge(protocol, &setup, &report.history);
    let mut stops: Vec<u64> = verdict
        .violations
        .iter()
        .filter(|v| v.expectation == Expectation::Always)
        .filter_map(|v| v.at_ms.checked_add(1))
        .filter(|&stop_ms| stop_ms < report.sim_ms)
        .collect();
    stops.sort_unstable();
    stops.dedup();
    let mut out = Vec::new();
    for stop_ms in stops {
        let stopped = Scenario {
            stop_at_ms: Some(stop_ms),
            ..s.clone()
        };
        let mut trimmed = stopped.clone();
        trimmed.faults.events.retain(|e| e.at_ms < stop_ms);
        trimmed.workload.retain(|p| p.at_ms < stop_ms);
        out.push(trimmed);
        out.push(stopped);
    }
    out.retain(|c| c != s && prepare(protocol, c).is_ok());
    out.dedup();
    out
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
