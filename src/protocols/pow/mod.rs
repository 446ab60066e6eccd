//! A proof-of-work chain on a P2P overlay, through the contract: Nakamoto consensus
//! (fork choice by cumulative work, confirmations by depth) over an overlay the nodes
//! build themselves (bootstrap nodes, peer exchange, flooding or gossip), checked by
//! the Bitcoin backbone properties (docs/chains.md).
//!
//! - [`block`]: blocks, sealing and the target check, transactions and their coins.
//! - [`node`]: the core (mining, block tree, reorgs, mempool, orphans, peers, sync).
//! - [`check`]: the chain's own judges; the chain shape's generic ones come with them.
//! - [`bugs`]: the planted bugs.
//!
//! The harness connects every pair of nodes; the overlay decides who talks to whom.
//! Every node is a decider: after the heal all honest nodes must converge.

pub mod block;
pub mod bugs;
pub mod check;
pub mod node;
#[cfg(test)]
mod strategy_tests;
#[cfg(test)]
mod tests;

pub use node::{Config, Msg, PowEvent, PowNode, PowState, Timer};

use crate::history::{Event, EventKind};
use crate::ids::NodeId;
use crate::protocol::{Draft, Judge, PlantedBug, Protocol, RunSetup, Settle};
use crate::rng::Draw;
use crate::scenario::{Cluster, Proposal, Scenario, ScenarioError};
use crate::value::Value;
use bugs::Bugs;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The proof-of-work chain, as a protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pow;

impl Pow {
    /// The protocol's name in scenarios and on the command line.
    pub const NAME: &'static str = "pow";
}

/// One miner: its hash share (a weight) and the difficulty of its blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Miner {
    pub node: NodeId,
    pub share: u64,
    pub bits: u8,
}

/// The chain's section of a scenario. Every field has a default, so a scenario may
/// give only what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowParams {
    /// Mean time between blocks of all miners together, at `bits_min`.
    pub block_interval_ms: u64,
    /// The miners; empty: every node, share 1, at `bits_min`.
    pub miners: Vec<Miner>,
    /// The least difficulty a block may have.
    pub bits_min: u8,
    /// The nodes everybody dials first; empty: the first node.
    pub bootstrap: Vec<NodeId>,
    /// Connections a node dials and keeps (Bitcoin: 8).
    pub outbound_max: usize,
    /// Connections a node accepts from nodes that dialled it (Bitcoin: up to 117).
    pub inbound_max: usize,
    /// 0: flood blocks and transactions to every peer; k: gossip to k random peers.
    pub fanout: usize,
    pub ping_ms: u64,
    pub peer_timeout_ms: u64,
    pub redial_ms: u64,
    /// K of confirmation safety (and of the confirmed blocks the chain shape judges).
    pub confirm_depth: u64,
    /// k of the common prefix judged after the heal.
    pub prefix_depth: u64,
    /// Chain quality over each decider's last this many blocks...
    pub quality_window: u64,
    /// ...of which honest miners made at least this percentage.
    pub quality_percent_min: u64,
}

impl Default for PowParams {
    fn default() -> Self {
        PowParams {
            block_interval_ms: 100,
            miners: Vec::new(),
            bits_min: 1,
            bootstrap: Vec::new(),
            outbound_max: 8,
            inbound_max: 117,
            fanout: 0,
            ping_ms: 100,
            peer_timeout_ms: 350,
            redial_ms: 200,
            confirm_depth: 6,
            prefix_depth: 2,
            quality_window: 20,
            quality_percent_min: 5,
        }
    }
}

/// Bounds on the timing a scenario may set.
pub const TIMING_MS_MAX: u64 = 600_000;

impl PowParams {
    /// The miners, with the empty list's meaning made explicit.
    pub fn miners_of(&self, cluster: &[NodeId]) -> Vec<Miner> {
        if self.miners.is_empty() {
            cluster
                .iter()
                .map(|&node| Miner {
                    node,
                    share: 1,
                    bits: self.bits_min,
                })
                .collect()
        } else {
            self.miners.clone()
        }
    }

    /// The bootstrap nodes, with the empty list's meaning made explicit.
    pub fn bootstrap_of(&self, cluster: &[NodeId]) -> Vec<NodeId> {
        if self.bootstrap.is_empty() {
            cluster.first().copied().into_iter().collect()
        } else {
            self.bootstrap.clone()
        }
    }
}

impl Protocol for Pow {
    type Core = PowNode;
    type Params = PowParams;

    fn name(&self) -> &'static str {
        Pow::NAME
    }

    /// 3 to 8 nodes, two bootstrap nodes from 4 on; block intervals of 50, 100 or 200
    /// ms, shares of 1 to 3, and in half the runs miners of up to 2 bits more
    /// difficulty (so work and height disagree); flooding or gossip to 2 or 3 peers;
    /// 2, 3 or 8 outbound peer slots (117 inbound, as Bitcoin);
    /// about 60% of nodes get a client transaction, their coins drawn from half as
    /// many, so double-spend attempts are common. K is large enough that no partition
    /// the generator can draw reverts a confirmation (about 1.5 times the blocks the
    /// safety phase can hold, plus 8); docs/chains.md shows a small K broken.
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<PowParams> {
        let n = [3u16, 4, 4, 5, 6, 8][rng.between(0, 5) as usize];
        let cluster = Cluster::of_size(n);
        let ids = cluster.ids();
        let horizon_ms = rng.between(200, 2_500);
        let block_interval_ms = [50, 100, 200][rng.between(0, 2) as usize];
        let varied_bits = rng.chance(0.5);
        let miners: Vec<Miner> = ids
            .iter()
            .map(|&node| Miner {
                node,
                share: rng.between(1, 3),
                bits: if varied_bits {
                    1 + rng.between(0, 2) as u8
                } else {
                    1
                },
            })
            .collect();
        let coins = (u64::from(n) / 2).max(1);
        let mut workload = Vec::new();
        for &id in &ids {
            if rng.chance(0.6) {
                workload.push(Proposal {
                    proposer: id,
                    value: Value::new(format!("c{}:{id}", rng.between(1, coins))),
                    at_ms: rng.between(0, horizon_ms / 2),
                });
            }
        }
        let fanout = if rng.chance(0.5) {
            0
        } else {
            rng.between(2, 3) as usize
        };
        // The safety phase lasts at most 1.5 horizons (a restart comes back up to half
        // a horizon after its crash); blocks in it average that over the interval.
        let blocks_max = (horizon_ms * 3 / 2).div_ceil(block_interval_ms);
        let bootstrap = if n >= 4 {
            vec![ids[0], ids[1]]
        } else {
            vec![ids[0]]
        };
        let params = PowParams {
            block_interval_ms,
            miners,
            bits_min: 1,
            bootstrap,
            fanout,
            ping_ms: [50, 100][rng.between(0, 1) as usize],
            confirm_depth: blocks_max * 3 / 2 + 8,
            ..PowParams::default()
        };
        // Two outbound slots already keep 8 nodes in one overlay: a group of nodes
        // whose slots are all spent on each other needs 2 * 2 + 1 = 5 of them, and
        // the other 3 cannot then all be full; inbound slots do not bind here.
        let params = PowParams {
            peer_timeout_ms: params.ping_ms * 7 / 2,
            redial_ms: params.ping_ms * 2,
            outbound_max: [2, 3, 8][rng.between(0, 2) as usize],
            ..params
        };
        Draft {
            cluster,
            workload,
            params,
            horizon_ms,
            liveness_bound_ms: 30_000,
        }
    }

    fn nodes_min(&self) -> usize {
        2
    }

    /// Timing in range, miners and bootstrap nodes in the cluster, difficulties in
    /// `bits_min..=BITS_MAX`, transactions that parse.
    fn check_params(&self, p: &PowParams, scenario: &Scenario) -> Result<(), ScenarioError> {
        let err =
            |field: &str, why: String| Err(ScenarioError::new(format!("params.{field}"), why));
        for (field, ms) in [
            ("block_interval_ms", p.block_interval_ms),
            ("ping_ms", p.ping_ms),
            ("peer_timeout_ms", p.peer_timeout_ms),
            ("redial_ms", p.redial_ms),
        ] {
            if ms == 0 || ms > TIMING_MS_MAX {
                return err(field, format!("{ms} is not in 1..={TIMING_MS_MAX}"));
            }
        }
        if p.bits_min == 0 || p.bits_min > block::BITS_MAX {
            return err(
                "bits_min",
                format!("{} is not in 1..={}", p.bits_min, block::BITS_MAX),
            );
        }
        for (field, slots) in [
            ("outbound_max", p.outbound_max),
            ("inbound_max", p.inbound_max),
        ] {
            if slots == 0 || slots > crate::scenario::NODES_MAX {
                return err(
                    field,
                    format!("{slots} is not in 1..={}", crate::scenario::NODES_MAX),
                );
            }
        }
        if p.confirm_depth == 0 {
            return err("confirm_depth", "must be at least 1".into());
        }
        if p.quality_percent_min > 100 {
            return err(
                "quality_percent_min",
                format!("{} is over 100", p.quality_percent_min),
            );
        }
        let ids = scenario.cluster.ids();
        for (i, m) in p.miners.iter().enumerate() {
            if !ids.contains(&m.node) {
                return err(
                    &format!("miners[{i}].node"),
                    format!("{} is not in the cluster", m.node),
                );
            }
            if m.bits < p.bits_min || m.bits > block::BITS_MAX {
                return err(
                    &format!("miners[{i}].bits"),
                    format!("{} is not in {}..={}", m.bits, p.bits_min, block::BITS_MAX),
                );
            }
            if m.share > 1_000_000 {
                return err(
                    &format!("miners[{i}].share"),
                    format!("{} is over 1000000", m.share),
                );
            }
        }
        if p.miners_of(&ids).iter().all(|m| m.share == 0) {
            return err("miners", "no miner has a share".into());
        }
        for (i, b) in p.bootstrap.iter().enumerate() {
            if !ids.contains(b) {
                return err(
                    &format!("bootstrap[{i}]"),
                    format!("{b} is not in the cluster"),
                );
            }
        }
        for (i, w) in scenario.workload.iter().enumerate() {
            if block::coin(&w.value).is_none() {
                return Err(ScenarioError::new(
                    format!("workload[{i}].value"),
                    format!(
                        "{} is not a transaction `c<digits>:<payee>` of at most {} bytes",
                        w.value,
                        block::TX_BYTES_MAX
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Without a node: its miner entry and bootstrap place go too (the last bootstrap
    /// node or the last miner cannot go).
    fn without_node(&self, params: &PowParams, id: NodeId) -> Option<PowParams> {
        let mut p = params.clone();
        if !p.bootstrap.is_empty() {
            p.bootstrap.retain(|b| *b != id);
            if p.bootstrap.is_empty() {
                return None;
            }
        }
        if !p.miners.is_empty() {
            p.miners.retain(|m| m.node != id);
            if p.miners.iter().all(|m| m.share == 0) {
                return None;
            }
        }
        Some(p)
    }

    fn core(&self, setup: &RunSetup<Pow>, id: NodeId) -> PowNode {
        let p = &setup.params;
        let ids = setup.scenario.cluster.ids();
        let miners: BTreeMap<NodeId, (u64, u8)> = p
            .miners_of(&ids)
            .into_iter()
            .map(|m| (m.node, (m.share, m.bits)))
            .collect();
        let share_total = miners.values().map(|m| m.0).sum::<u64>().max(1);
        let bugs = Bugs::switched_on(setup);
        let config = Config {
            addresses: ids.iter().copied().collect(),
            bootstrap: p.bootstrap_of(&ids),
            miners,
            share_total,
            bits_min: p.bits_min,
            block_interval_ms: p.block_interval_ms,
            outbound_max: p.outbound_max,
            inbound_max: p.inbound_max,
            fanout: p.fanout,
            ping_ms: p.ping_ms,
            peer_timeout_ms: p.peer_timeout_ms,
            redial_ms: p.redial_ms,
            confirm_depth: p.confirm_depth,
            bugs,
        };
        PowNode::new(id, Arc::new(config))
    }

    /// Every honest node must converge.
    fn deciders(&self, setup: &RunSetup<Pow>) -> Vec<NodeId> {
        let byzantine = setup.scenario.faults.byzantine_nodes();
        setup
            .scenario
            .cluster
            .ids()
            .into_iter()
            .filter(|n| !byzantine.contains(n))
            .collect()
    }

    /// One Byzantine node from 4 nodes on (two bootstrap nodes keep one honest).
    fn byzantine_max(&self, cluster_size: usize) -> usize {
        usize::from(cluster_size >= 4)
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &node::KINDS
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &bugs::BUGS
    }

    /// `selfish_miner` (`node::Selfish`).
    fn strategies(&self) -> &'static [&'static str] {
        &node::STRATEGIES
    }

    fn strategy_core(&self, setup: &RunSetup<Pow>, id: NodeId, name: &str) -> Option<PowNode> {
        (name == node::STRATEGIES[0]).then(|| self.core(setup, id).selfish())
    }

    fn settle(&self, setup: &RunSetup<Pow>) -> Box<dyn Settle<PowNode>> {
        Box::new(Converged::new(
            self.deciders(setup),
            setup.scenario.faults.byzantine_nodes(),
        ))
    }

    fn properties(&self) -> Vec<Judge<Pow>> {
        check::judges()
    }
}

/// Settled in the liveness phase once every honest decider has the same tip, above
/// the highest block confirmed before the heal, holding every client transaction
/// given to an honest node (or a spend of its coin), and the peer tables link them
/// all.
#[derive(Debug, Default)]
pub struct Converged {
    deciders: Vec<NodeId>,
    byzantine: BTreeSet<NodeId>,
    tips: BTreeMap<NodeId, Vec<Value>>,
    tables: BTreeMap<NodeId, Vec<NodeId>>,
    /// Block -> the coins its transactions spend.
    coins: BTreeMap<Value, Vec<String>>,
    submitted: BTreeSet<String>,
    floor: u64,
    liveness: bool,
    scanned: usize,
    settled: bool,
}

impl Converged {
    pub fn new(deciders: Vec<NodeId>, byzantine: BTreeSet<NodeId>) -> Self {
        Converged {
            deciders,
            byzantine,
            ..Converged::default()
        }
    }

    fn check(&self) -> bool {
        if !self.liveness {
            return false;
        }
        let Some(first) = self.deciders.first().and_then(|d| self.tips.get(d)) else {
            return false;
        };
        if self
            .deciders
            .iter()
            .any(|d| self.tips.get(d) != Some(first))
        {
            return false;
        }
        if (first.len() as u64) <= self.floor + 1 {
            return false;
        }
        let spent: BTreeSet<&str> = first
            .iter()
            .filter_map(|b| self.coins.get(b))
            .flatten()
            .map(|c| c.as_str())
            .collect();
        if self.submitted.iter().any(|c| !spent.contains(c.as_str())) {
            return false;
        }
        let mut links: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
        for (&a, peers) in &self.tables {
            for &b in peers {
                links.entry(a).or_default().insert(b);
                links.entry(b).or_default().insert(a);
            }
        }
        let mut reached: BTreeSet<NodeId> = self.deciders.iter().take(1).copied().collect();
        let mut todo: Vec<NodeId> = reached.iter().copied().collect();
        while let Some(a) = todo.pop() {
            for &b in links.get(&a).into_iter().flatten() {
                if reached.insert(b) {
                    todo.push(b);
                }
            }
        }
        self.deciders.iter().all(|d| reached.contains(d))
    }
}

impl Settle<PowNode> for Converged {
    fn observe(&mut self, events: &[Event<PowNode>]) {
        let from = self.scanned.min(events.len());
        if from == events.len() {
            return;
        }
        for e in &events[from..] {
            if let EventKind::PhaseStarted {
                phase: crate::history::Phase::Liveness,
            } = e.kind
            {
                self.liveness = true;
            }
            let Some(node) = e.node else { continue };
            if let EventKind::Protocol(PowEvent::Found { block, txs, .. }) = &e.kind {
                let coins = txs
                    .iter()
                    .filter_map(block::coin)
                    .map(str::to_string)
                    .collect();
                self.coins.entry(block.clone()).or_insert(coins);
            }
            if self.byzantine.contains(&node) {
                continue;
            }
            match &e.kind {
                EventKind::Started { .. } => {
                    self.tables.insert(node, Vec::new());
                }
                EventKind::ClientRequest { value } => {
                    if let Some(c) = block::coin(value) {
                        self.submitted.insert(c.to_string());
                    }
                }
                EventKind::Protocol(PowEvent::Tip { chain, .. }) => {
                    self.tips.insert(node, chain.clone());
                }
                EventKind::Protocol(PowEvent::PeerTable { outbound, inbound }) => {
                    let mut peers = outbound.clone();
                    peers.extend(inbound.iter().copied());
                    self.tables.insert(node, peers);
                }
                EventKind::Protocol(PowEvent::Confirmed { height, .. }) if !self.liveness => {
                    self.floor = self.floor.max(*height);
                }
                _ => {}
            }
        }
        self.scanned = events.len();
        self.settled = self.check();
    }

    fn settled(&self) -> bool {
        self.settled
    }

    fn reason(&self) -> &'static str {
        "every honest node has the same tip, holding every transaction"
    }
}
