//! Smaller clusters for the scenario shrinker (`crate::sim::shrink`): nodes out, a
//! proposer folded into another node, a client request fewer, a role fewer. The
//! protocol says which of these it accepts, through the contract
//! ([`Protocol::cluster_cuts`], [`Protocol::merged`], [`Protocol::smaller_params`]);
//! this module applies them to a whole scenario (a removed node's client requests and
//! every fault event naming it go too) and keeps only what
//! [`crate::protocol::prepare`] accepts.
//!
//! A smaller cluster changes every delivery time, since each sender draws its
//! messages' fates and latencies from its own stream in send order: removing an
//! acceptor moves every message after a proposer's first broadcast. A failure that
//! hung on one race almost never survives that with its old seed, so each cut is also
//! tried under [`CUT_SEEDS`] - 1 other seeds (a seed has no size; the shrunk scenario
//! still has to fail the same property, and the same seed always gives the same run).

use super::{with_node_moved, without_node};
use crate::ids::NodeId;
use crate::protocol::{prepare, Cut, Protocol};
use crate::rng::run_seed;
use crate::scenario::Scenario;

/// How many seeds each smaller cluster is tried under: the scenario's own, then
/// `run_seed(seed, 1..CUT_SEEDS)`. Measured on the kept Paxos failures
/// (docs/bugs.md, "Shrinking to the smallest cluster"): the hardest race
/// (`acceptor_forgets_promise`) fails on about 2 % of seeds at 3 acceptors.
pub const CUT_SEEDS: u64 = 32;

/// Every smaller-cluster candidate of `s`: the shapes (the protocol's cluster cuts,
/// biggest first, then merges, then one client request fewer, then the protocol's
/// simpler parameters), each under its own seed, then each under the next seed, and so
/// on. Only shapes the protocol accepts are returned.
pub fn cluster_candidates<P: Protocol + ?Sized>(protocol: &P, s: &Scenario) -> Vec<Scenario> {
    let Ok(setup) = prepare(protocol, s) else {
        return Vec::new();
    };
    let params = &setup.params;
    let mut shapes: Vec<Scenario> = Vec::new();
    for cut in protocol.cluster_cuts(params, s) {
        shapes.push(apply_cut(s, &cut));
    }
    shapes.extend(merges(protocol, params, s));
    shapes.extend(fewer_requests(s));
    for smaller in protocol.smaller_params(params, s) {
        shapes.push(Scenario {
            params: serde_json::to_value(&smaller).expect("params serialize"),
            ..s.clone()
        });
    }
    let mut valid: Vec<Scenario> = Vec::new();
    for shape in shapes {
        if shape != *s && !valid.contains(&shape) && prepare(protocol, &shape).is_ok() {
            valid.push(shape);
        }
    }
    // Seed by seed, every shape under each: a shape that fails under some seed is
    // found after a few tries of each shape, not after every seed of every bigger cut
    // the bug cannot live in.
    (0..CUT_SEEDS)
        .flat_map(|i| valid.iter().map(move |shape| with_seed(shape, s.seed, i)))
        .collect()
}

/// `shape` under seed number `i` of [`CUT_SEEDS`]: its own seed for 0, else
/// `run_seed(seed, i)`.
pub fn with_seed(shape: &Scenario, seed: u64, i: u64) -> Scenario {
    Scenario {
        seed: if i == 0 {
            shape.seed
        } else {
            run_seed(seed, i)
        },
        ..shape.clone()
    }
}

/// `s` without the cut's nodes: out of the cluster, their client requests dropped,
/// every fault event naming only them dropped (groups and lists lose them), and the
/// protocol's parameters as the cut gives them.
pub fn apply_cut<Params: serde::Serialize>(s: &Scenario, cut: &Cut<Params>) -> Scenario {
    let mut out = s.clone();
    out.cluster.nodes.retain(|n| !cut.remove.contains(&n.id));
    out.workload.retain(|p| !cut.remove.contains(&p.proposer));
    for id in &cut.remove {
        out.faults = without_node(&out.faults, *id);
    }
    out.params = serde_json::to_value(&cut.params).expect("params serialize");
    out
}

/// Each node folded into each other node that has no client request, where the
/// protocol has a merge ([`Protocol::merged`]): the folded node's requests move to the
/// node that takes it in; its crashes move there too ([`with_node_moved`]), and then,
/// as a second shape, go altogether.
fn merges<P: Protocol + ?Sized>(protocol: &P, params: &P::Params, s: &Scenario) -> Vec<Scenario> {
    let ids = s.cluster.ids();
    let has_request = |id: NodeId| s.workload.iter().any(|p| p.proposer == id);
    let mut out = Vec::new();
    for &from in &ids {
        for &into in &ids {
            if from == into || has_request(into) {
                continue;
            }
            let Some(merged) = protocol.merged(params, from, into) else {
                continue;
            };
            let mut dropped = apply_cut(
                s,
                &Cut {
                    remove: vec![from],
                    params: merged,
                },
            );
            dropped.workload = s.workload.clone();
            for p in &mut dropped.workload {
                if p.proposer == from {
                    p.proposer = into;
                }
            }
            let moved = Scenario {
                faults: with_node_moved(&s.faults, from, into),
                ..dropped.clone()
            };
            out.push(moved);
            out.push(dropped);
        }
    }
    out
}

/// `s` with one client request fewer, each in turn (the last first: it is the one
/// most often added to reach a state the others already reach).
fn fewer_requests(s: &Scenario) -> Vec<Scenario> {
    (0..s.workload.len())
        .rev()
        .map(|i| {
            let mut fewer = s.clone();
            fewer.workload.remove(i);
            fewer
        })
        .collect()
}

#[cfg(test)]
mod tests;
