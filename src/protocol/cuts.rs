//! What a protocol tells the shrinker about making its cluster smaller
//! ([`super::Protocol::cluster_cuts`], [`super::Protocol::merged`],
//! [`super::Protocol::smaller_params`]): which nodes may leave together, and what its
//! parameters look like without them. The harness does the rest (client requests and
//! fault events that name a removed node) and runs `check_params` on every candidate, so
//! a cut the protocol refuses never runs.

use super::Protocol;
use crate::ids::NodeId;
use crate::scenario::Scenario;

/// A smaller cluster: the nodes to take out together, and the protocol's parameters
/// without them.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut<Params> {
    pub remove: Vec<NodeId>,
    pub params: Params,
}

/// The default [`Protocol::cluster_cuts`]: runs of the cluster's nodes, in id order,
/// as many as may go at once, then half that, down to single nodes, each through
/// [`Protocol::without_node`] (a run with a node the protocol cannot lose is skipped).
/// The commander of the generals, the last acceptor of Paxos and so on stay where the
/// protocol says so; `check_params` refuses what is left if it is too small.
pub fn runs_of_nodes<P: Protocol + ?Sized>(
    protocol: &P,
    params: &P::Params,
    scenario: &Scenario,
) -> Vec<Cut<P::Params>> {
    let ids = scenario.cluster.ids();
    let removable = ids.len().saturating_sub(protocol.nodes_min());
    let mut out = Vec::new();
    let mut chunk = removable.max(1);
    loop {
        // Runs of exactly `chunk` nodes, the last one flush with the end, so every
        // cut of this round is as big as the others.
        let mut starts: Vec<usize> = (0..ids.len()).step_by(chunk).collect();
        starts.retain(|&start| start + chunk <= ids.len());
        if !ids.len().is_multiple_of(chunk) && ids.len() >= chunk {
            starts.push(ids.len() - chunk);
        }
        for start in starts {
            if chunk > removable {
                continue;
            }
            if let Some(cut) = cut_nodes(protocol, params, &ids[start..start + chunk]) {
                out.push(cut);
            }
        }
        if chunk <= 1 {
            break;
        }
        chunk = chunk.div_ceil(2).min(chunk - 1);
    }
    out
}

/// `remove` taken out one by one through [`Protocol::without_node`]; `None` if the
/// protocol refuses any of them.
pub fn cut_nodes<P: Protocol + ?Sized>(
    protocol: &P,
    params: &P::Params,
    remove: &[NodeId],
) -> Option<Cut<P::Params>> {
    let mut left = params.clone();
    for id in remove {
        left = protocol.without_node(&left, *id)?;
    }
    Some(Cut {
        remove: remove.to_vec(),
        params: left,
    })
}
