//! Shrinking a failing scenario: greedily take the first smaller candidate that still
//! fails the same way, until no candidate does or the step budget runs out. Each step is
//! one deterministic run, so shrinking the same failure twice gives the same result.
//! Every candidate is one the protocol accepts ([`crate::protocol::prepare`]: its
//! minimum cluster, its own parameters), so the shrinker never offers a scenario the
//! protocol cannot run.

use crate::fault::{schedule_candidates, without_node};
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

/// Smaller variants of `s`, biggest reductions first: schedule reductions, then
/// dropping nodes (the protocol says how its parameters lose one, and whether they
/// can: [`Protocol::without_node`]), then earlier client requests. Candidates the
/// protocol does not accept are filtered out.
pub fn candidates<P: Protocol + ?Sized>(protocol: &P, s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    for faults in schedule_candidates(&s.faults) {
        out.push(Scenario {
            faults,
            ..s.clone()
        });
    }
    if let Ok(setup) = prepare(protocol, s) {
        for id in s.cluster.ids() {
            let Some(params) = protocol.without_node(&setup.params, id) else {
                continue;
            };
            let mut smaller = s.clone();
            smaller.cluster.nodes.retain(|n| n.id != id);
            smaller.workload.retain(|p| p.proposer != id);
            smaller.faults = without_node(&s.faults, id);
            smaller.params = serde_json::to_value(&params).expect("params serialize");
            out.push(smaller);
        }
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
pub fn shrink<P: Protocol + ?Sized>(
    protocol: &P,
    scenario: &Scenario,
    budget: usize,
    mut still_fails: impl FnMut(&Scenario) -> bool,
) -> Shrunk {
    let mut current = scenario.clone();
    let mut steps = 0;
    let mut accepted = 0;
    'outer: loop {
        for candidate in candidates(protocol, &current) {
            if steps >= budget {
                return Shrunk {
                    scenario: current,
                    steps,
                    accepted,
                    stopped_early: true,
                };
            }
            steps += 1;
            if still_fails(&candidate) {
                current = candidate;
                accepted += 1;
                continue 'outer;
            }
        }
        break;
    }
    Shrunk {
        scenario: current,
        steps,
        accepted,
        stopped_early: false,
    }
}
