//! PBFT (Castro and Liskov, "Practical Byzantine Fault Tolerance", OSDI 1999) through
//! the contract: `n` replicas tolerate `f = (n - 1) / 3` faulty ones. Clients' requests
//! (the scenario's workload: each client asks one replica, its proxy, which forwards the
//! request to every replica and counts `f + 1` matching replies) are ordered by the
//! view's primary with pre-prepare, prepare and commit quorums of `2f + 1`, executed in
//! order, and survive view changes through prepared certificates and new views.
//!
//! - [`replica`]: the core (normal case, view change with growing timeouts,
//!   catch-up, durable state).
//! - [`msg`]: the messages, digests and the simulation's signature scheme (its module
//!   docs say exactly what is trusted and why that keeps "nothing a faulty node does
//!   can produce an honest node's signature").
//! - [`bugs`]: the planted bugs.
//! - [`check`]: PBFT's own judges; the log shape's generic judges come first.
//!
//! The decision shape is a log: a replica's `k`-th executed request is its slot `k`.

pub mod bugs;
pub mod check;
pub mod msg;
pub mod replica;
#[cfg(test)]
mod strategy_tests;
#[cfg(test)]
mod tests;

pub use replica::{Config, PbftEvent, PbftState, Replica, Timer, Timing};

use crate::history::{Event, EventKind};
use crate::ids::NodeId;
use crate::protocol::{Cut, Draft, Judge, PlantedBug, Protocol, RunSetup, Settle};
use crate::rng::Draw;
use crate::scenario::{Cluster, Proposal, Scenario, ScenarioError};
use crate::value::Value;
use bugs::Bugs;
use msg::Keys;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// PBFT, as a protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pbft;

impl Pbft {
    /// The protocol's name in scenarios and on the command line.
    pub const NAME: &'static str = "pbft";
}

/// PBFT's section of a scenario: its timing, and its client nodes. Every other node
/// is a replica.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbftParams {
    #[serde(default)]
    pub timing: Timing,
    /// Client nodes, not replicas: real mode's `gauntlet propose` runs one, which
    /// sends its request to every replica and waits for `f + 1` matching replies.
    /// Empty in simulation, where each client asks one replica, its proxy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<NodeId>,
}

/// The timing `init-cluster` writes for real processes: a first view-change timeout
/// well above a loaded machine's scheduling delays, so a view changes because a
/// primary is gone, not because a process was slow to run.
pub const REAL_TIMING: Timing = Timing {
    view_timeout_ms: 500,
    status_ms: 100,
    retry_ms: 300,
};

/// The smallest cluster: `3f + 1` with `f = 1`.
pub const REPLICAS_MIN: usize = 4;
/// The longest timeout or period a scenario may set.
pub const TIMING_MS_MAX: u64 = 10_000;

impl Protocol for Pbft {
    type Core = Replica;
    type Params = PbftParams;

    fn name(&self) -> &'static str {
        Pbft::NAME
    }

    /// `n = 3f + 1` replicas (4 most often, then 7 and 10), each with a client
    /// request half the time (at least one), in a burst or spread over the first half
    /// of the horizon; the first view-change timeout drawn from 2, 15, 30 or 60 ms (2 ms
    /// is shorter than any view change: only a timeout that grows gets past it).
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<PbftParams> {
        let n = [4u16, 4, 4, 4, 7, 7, 10][rng.between(0, 6) as usize];
        let cluster = Cluster::of_size(n);
        let horizon_ms = rng.between(200, 1_500);
        let burst_at_ms = rng
            .chance(0.4)
            .then(|| [0, rng.between(0, horizon_ms / 2)][rng.between(0, 1) as usize]);
        let mut workload = Vec::new();
        for id in cluster.ids() {
            // Half the replicas have a client; the last one does if no other has.
            let last_chance = id == NodeId(n) && workload.is_empty();
            if !rng.chance(0.5) && !last_chance {
                continue;
            }
            let at_ms = match burst_at_ms {
                Some(at_ms) => at_ms + rng.between(0, 5),
                None if rng.chance(0.3) => 0,
                None => rng.between(0, horizon_ms / 2),
            };
            workload.push(Proposal {
                proposer: id,
                value: Value::new(format!("Req_{id}")),
                at_ms,
            });
        }
        let timing = Timing {
            view_timeout_ms: [2, 15, 30, 60][rng.between(0, 3) as usize],
            ..Timing::default()
        };
        Draft {
            cluster,
            workload,
            params: PbftParams {
                timing,
                clients: Vec::new(),
            },
            horizon_ms,
            liveness_bound_ms: 10_000,
        }
    }

    fn nodes_min(&self) -> usize {
        REPLICAS_MIN
    }

    /// Servers are replicas; clients are client nodes (`params.clients`).
    fn cluster_params(&self, _servers: &[NodeId], clients: &[NodeId]) -> PbftParams {
        PbftParams {
            timing: REAL_TIMING,
            clients: clients.to_vec(),
        }
    }

    /// Timing in `1..=10,000` ms; requests unique (a request is its own identity: the
    /// same value twice would be one request), at most one per replica.
    fn check_params(&self, params: &PbftParams, scenario: &Scenario) -> Result<(), ScenarioError> {
        let t = &params.timing;
        for (field, ms) in [
            ("view_timeout_ms", t.view_timeout_ms),
            ("status_ms", t.status_ms),
            ("retry_ms", t.retry_ms),
        ] {
            if ms == 0 || ms > TIMING_MS_MAX {
                return Err(ScenarioError::new(
                    format!("params.timing.{field}"),
                    format!("{ms} is not in 1..={TIMING_MS_MAX}"),
                ));
            }
        }
        let members = scenario.cluster.ids();
        for (i, c) in params.clients.iter().enumerate() {
            if !members.contains(c) || params.clients[..i].contains(c) {
                return Err(ScenarioError::new(
                    format!("params.clients[{i}]"),
                    format!("{c} is not a node of the cluster, or is listed twice"),
                ));
            }
        }
        let replicas = members.len() - params.clients.len();
        if replicas < REPLICAS_MIN {
            return Err(ScenarioError::new(
                "params.clients",
                format!(
                    "{replicas} replicas are left besides the clients; PBFT needs {REPLICAS_MIN}"
                ),
            ));
        }
        for (i, p) in scenario.workload.iter().enumerate() {
            let earlier = &scenario.workload[..i];
            if earlier.iter().any(|q| q.value == p.value) {
                return Err(ScenarioError::new(
                    format!("workload[{i}].value"),
                    format!("{} is requested twice; a PBFT request is unique", p.value),
                ));
            }
            if earlier.iter().any(|q| q.proposer == p.proposer) {
                return Err(ScenarioError::new(
                    format!("workload[{i}].proposer"),
                    format!("{} has a request already; one per replica", p.proposer),
                ));
            }
        }
        Ok(())
    }

    /// Only `n = 3f + 1` replicas, so a smaller cluster is a smaller `f`: every run of
    /// consecutive replicas whose removal leaves `3f' + 1` (10 to 7 or 4, 7 to 4),
    /// fewest replicas left first and the last replicas first, then each client node
    /// alone. A size between (5, 6) would tolerate no more than the size below it.
    fn cluster_cuts(&self, params: &PbftParams, scenario: &Scenario) -> Vec<Cut<PbftParams>> {
        let replicas: Vec<NodeId> = scenario
            .cluster
            .ids()
            .into_iter()
            .filter(|id| !params.clients.contains(id))
            .collect();
        let mut out = Vec::new();
        let mut left = REPLICAS_MIN;
        while left < replicas.len() {
            let cut = replicas.len() - left;
            for start in (0..=left).rev() {
                out.push(Cut {
                    remove: replicas[start..start + cut].to_vec(),
                    params: params.clone(),
                });
            }
            left += 3;
        }
        for &client in &params.clients {
            let mut fewer = params.clone();
            fewer.clients.retain(|&c| c != client);
            out.push(Cut {
                remove: vec![client],
                params: fewer,
            });
        }
        out
    }

    fn core(&self, setup: &RunSetup<Pbft>, id: NodeId) -> Replica {
        let bugs = Bugs::switched_on(setup);
        let requests: BTreeMap<Value, NodeId> = setup
            .scenario
            .workload
            .iter()
            .map(|p| (p.value.clone(), p.proposer))
            .collect();
        let clients: BTreeSet<NodeId> = setup.params.clients.iter().copied().collect();
        let config = Config {
            members: replicas(setup),
            clients,
            keys: Keys::new(setup.scenario.seed),
            timing: setup.params.timing.clone(),
            requests,
            bugs,
        };
        Replica::new(id, Arc::new(config))
    }

    /// Every honest replica executes every request.
    fn deciders(&self, setup: &RunSetup<Pbft>) -> Vec<NodeId> {
        let byzantine = setup.scenario.faults.byzantine_nodes();
        replicas(setup)
            .into_iter()
            .filter(|n| !byzantine.contains(n))
            .collect()
    }

    /// `f = (n - 1) / 3`.
    fn byzantine_max(&self, cluster_size: usize) -> usize {
        cluster_size.saturating_sub(1) / 3
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &msg::KINDS
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &bugs::BUGS
    }

    /// `equivocating_primary` (`replica::Strategy`).
    fn strategies(&self) -> &'static [&'static str] {
        &replica::STRATEGIES
    }

    fn strategy_core(&self, setup: &RunSetup<Pbft>, id: NodeId, name: &str) -> Option<Replica> {
        let strategy = replica::Strategy::named(name)?;
        Some(self.core(setup, id).with_strategy(strategy))
    }

    fn settle(&self, setup: &RunSetup<Pbft>) -> Box<dyn Settle<Replica>> {
        Box::new(AllExecuted {
            deciders: self.deciders(setup).into_iter().collect(),
            ..AllExecuted::default()
        })
    }

    fn properties(&self) -> Vec<Judge<Pbft>> {
        check::judges()
    }
}

/// The replicas: every node but the client nodes, in id order.
fn replicas(setup: &RunSetup<Pbft>) -> Vec<NodeId> {
    let clients = &setup.params.clients;
    let mut ids = setup.scenario.cluster.ids();
    ids.retain(|id| !clients.contains(id));
    ids
}

/// Settled once every decider executed every request a client submitted.
#[derive(Debug, Default)]
pub struct AllExecuted {
    deciders: BTreeSet<NodeId>,
    submitted: BTreeSet<Value>,
    executed: BTreeSet<(NodeId, Value)>,
    scanned: usize,
}

impl Settle<Replica> for AllExecuted {
    fn observe(&mut self, events: &[Event<Replica>]) {
        for e in &events[self.scanned.min(events.len())..] {
            let Some(node) = e.node else { continue };
            match &e.kind {
                EventKind::ClientRequest { value } => {
                    self.submitted.insert(value.clone());
                }
                EventKind::Protocol(PbftEvent::Executed { request, .. }) => {
                    self.executed.insert((node, request.clone()));
                }
                _ => {}
            }
        }
        self.scanned = events.len();
    }

    fn settled(&self) -> bool {
        self.deciders.iter().all(|&n| {
            self.submitted
                .iter()
                .all(|r| self.executed.contains(&(n, r.clone())))
        })
    }

    fn reason(&self) -> &'static str {
        "every replica executed every request"
    }
}
