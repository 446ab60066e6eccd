//! What the chain experiments share: a fault-free, long `pow` scenario of a given
//! shape, run in the fast lane, and the facts read from its history (every block's
//! `FOUND`, every node's `accept` time, the block messages sent, the final chain).
//!
//! A run lasts about `blocks` block intervals: the workload's one client transaction
//! comes at that time, so phase 1 ends there, and the liveness phase ends as soon as
//! every node has the same tip holding it. Experiments count what the history shows,
//! not what was asked for (mining is a Poisson process).

use crate::history::EventKind;
use crate::ids::NodeId;
use crate::protocol::prepare;
use crate::protocols::pow::{Msg, Pow, PowEvent, PowParams};
use crate::scenario::{Cluster, NetworkConfig, Proposal, Scenario};
use crate::sim::{run_setup, Lane, RunEnd};
use crate::value::Value;
use std::collections::BTreeMap;

/// The shape of one chain run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub nodes: u16,
    pub block_interval_ms: u64,
    /// One-way latency of every datagram, drawn in this range (equal: a fixed delay).
    pub latency_ms: (u64, u64),
    /// 0: flooding; k: gossip to k random peers.
    pub fanout: usize,
    /// Outbound and inbound peer slots of every node.
    pub outbound_max: usize,
    pub inbound_max: usize,
    /// Every node is a bootstrap node (the overlay is complete from the first
    /// round trip), or only the first `n` are.
    pub bootstrap: usize,
    pub ping_ms: u64,
    /// Block intervals the run lasts (phase 1).
    pub blocks: u64,
}

/// One block as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub block: Value,
    pub height: u64,
    pub miner: NodeId,
    pub at_ms: u64,
}

/// What one run showed.
#[derive(Debug, Clone, Default)]
pub struct ChainRun {
    /// Every block mined, in history order.
    pub found: Vec<Found>,
    /// Block -> the time each node accepted it from a peer (the miner's own is its
    /// `FOUND` time).
    pub accepted: BTreeMap<Value, Vec<u64>>,
    /// The first node's final chain, genesis first.
    pub chain: Vec<Value>,
    /// Block messages (`block` and `blocks`) sent, with the time of each.
    pub block_sends_at_ms: Vec<u64>,
    /// Every message sent, by the time of each.
    pub sends_at_ms: Vec<u64>,
    pub settled: bool,
    pub sim_ms: u64,
}

/// The scenario of `shape` with root seed `seed`.
pub fn scenario(shape: &Shape, seed: u64) -> Scenario {
    let cluster = Cluster::of_size(shape.nodes);
    let ids = cluster.ids();
    let horizon_ms = shape.blocks.saturating_mul(shape.block_interval_ms);
    let params = PowParams {
        block_interval_ms: shape.block_interval_ms,
        bootstrap: ids.iter().take(shape.bootstrap.max(1)).copied().collect(),
        outbound_max: shape.outbound_max,
        inbound_max: shape.inbound_max,
        fanout: shape.fanout,
        ping_ms: shape.ping_ms,
        peer_timeout_ms: shape.ping_ms * 7 / 2,
        redial_ms: shape.ping_ms * 2,
        ..PowParams::default()
    };
    Scenario {
        network: NetworkConfig {
            latency_ms_min: shape.latency_ms.0,
            latency_ms_max: shape.latency_ms.1,
        },
        workload: vec![Proposal {
            proposer: ids[0],
            value: Value::new("c1:n1"),
            at_ms: horizon_ms,
        }],
        // Twenty block intervals to converge after phase 1, or what is left of the
        // longest run a scenario may ask for.
        liveness_bound_ms: (20 * shape.block_interval_ms)
            .min(crate::scenario::SIM_MS_MAX.saturating_sub(horizon_ms)),
        params: serde_json::to_value(params).expect("params serialize"),
        ..Scenario::quiet(Pow::NAME, cluster, seed)
    }
}

/// Run `shape` with seed `seed` in the fast lane and read its history.
pub fn run(shape: &Shape, seed: u64) -> Result<ChainRun, String> {
    let scenario = scenario(shape, seed);
    let setup = prepare(&Pow, &scenario).map_err(|e| e.to_string())?;
    let report = run_setup(&Pow, &setup, Lane::Fast);
    if let RunEnd::HarnessError(e) = &report.end {
        return Err(format!("seed {seed}: harness error: {e}"));
    }
    let first = scenario.cluster.ids()[0];
    let mut out = ChainRun {
        settled: report.end == RunEnd::Settled,
        sim_ms: report.sim_ms,
        ..ChainRun::default()
    };
    for e in &report.history.events {
        match &e.kind {
            EventKind::Protocol(PowEvent::Found {
                block,
                height,
                miner,
                ..
            }) => {
                out.found.push(Found {
                    block: block.clone(),
                    height: *height,
                    miner: *miner,
                    at_ms: e.at_ms,
                });
                out.accepted.entry(block.clone()).or_default().push(e.at_ms);
            }
            EventKind::Protocol(PowEvent::Accepted { block, .. }) => {
                out.accepted.entry(block.clone()).or_default().push(e.at_ms);
            }
            EventKind::Protocol(PowEvent::Tip { chain, .. }) if e.node == Some(first) => {
                out.chain.clone_from(chain);
            }
            EventKind::Sent { msg, .. } => {
                out.sends_at_ms.push(e.at_ms);
                if matches!(msg, Msg::Block(_) | Msg::Blocks(_)) {
                    out.block_sends_at_ms.push(e.at_ms);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
