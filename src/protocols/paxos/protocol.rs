//! Basic Paxos through the contract: its parameters (who plays which role, and the
//! timing), its scenario draft, its planted bugs, its settle rule and its judges.

use super::check::judges;
use super::settle::SettleTracker;
use super::{Bugs, Membership, MsgKind, Node, Roles, TimingConfig};
use crate::ids::NodeId;
use crate::protocol::{Draft, Judge, PlantedBug, Protocol, RunSetup, Settle};
use crate::rng::Draw;
use crate::scenario::{Cluster, NodeSpec, Proposal, Scenario, ScenarioError};
use crate::value::Value;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Basic Paxos (`crate::protocols::paxos`): the reference protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paxos;

impl Paxos {
    /// The protocol's name in scenarios and on the command line.
    pub const NAME: &'static str = "paxos";
}

/// Paxos's section of a scenario: which nodes play which role, and the timing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaxosParams {
    pub acceptors: Vec<NodeId>,
    pub proposers: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    #[serde(default)]
    pub timing: TimingConfig,
}

impl PaxosParams {
    /// The roles of node `id`.
    pub fn roles(&self, id: NodeId) -> Roles {
        Roles {
            acceptor: self.acceptors.contains(&id),
            proposer: self.proposers.contains(&id),
            learner: self.learners.contains(&id),
        }
    }

    pub fn membership(&self) -> Membership {
        Membership {
            acceptors: self.acceptors.clone(),
            learners: self.learners.clone(),
            proposers: self.proposers.clone(),
        }
    }

    /// Parameters giving each node of `nodes` its roles.
    pub fn from_roles(nodes: &[(NodeId, Roles)]) -> Self {
        let with = |f: fn(&Roles) -> bool| -> Vec<NodeId> {
            nodes
                .iter()
                .filter(|(_, r)| f(r))
                .map(|(id, _)| *id)
                .collect()
        };
        PaxosParams {
            acceptors: with(|r| r.acceptor),
            proposers: with(|r| r.proposer),
            learners: with(|r| r.learner),
            timing: TimingConfig::default(),
        }
    }
}

impl Protocol for Paxos {
    type Core = Node;
    type Params = PaxosParams;

    fn name(&self) -> &'static str {
        Paxos::NAME
    }

    /// Swarm over the cluster shape (3 to 9 servers, 1 to 5 proposers, sometimes a
    /// proposer on a server, sometimes extra learners) and the workload (a burst
    /// where every client asks within a few milliseconds, or spread requests).
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<PaxosParams> {
        // Small clusters are where bugs are cheapest to see; larger and even ones
        // still come up often.
        let servers = [3, 3, 3, 4, 5, 5, 6, 7, 9][rng.between(0, 8) as usize] as u16;
        let proposers = [1, 2, 2, 2, 3, 3, 4, 5][rng.between(0, 7) as usize] as u16;
        let extra_learners = if rng.chance(0.2) {
            rng.between(1, 2) as u16
        } else {
            0
        };
        let colocate = rng.chance(0.2);
        let mut nodes = Vec::new();
        for i in 1..=servers {
            let roles = Roles {
                acceptor: true,
                learner: true,
                // A proposer may live on the first server, as in many deployments.
                proposer: colocate && i == 1,
            };
            nodes.push((NodeId(i), roles));
        }
        let client_count = if colocate { proposers - 1 } else { proposers };
        for i in 0..client_count {
            let roles = Roles {
                proposer: true,
                ..Roles::default()
            };
            nodes.push((NodeId(servers + 1 + i), roles));
        }
        for i in 0..extra_learners {
            let roles = Roles {
                learner: true,
                ..Roles::default()
            };
            nodes.push((NodeId(servers + 1 + client_count + i), roles));
        }
        draft_on(rng, &nodes)
    }

    fn nodes_min(&self) -> usize {
        1
    }

    fn check_params(&self, params: &PaxosParams, scenario: &Scenario) -> Result<(), ScenarioError> {
        let ids = scenario.cluster.ids();
        for (field, list) in [
            ("acceptors", &params.acceptors),
            ("proposers", &params.proposers),
            ("learners", &params.learners),
        ] {
            for (i, id) in list.iter().enumerate() {
                if !ids.contains(id) {
                    return Err(ScenarioError::new(
                        format!("params.{field}[{i}]"),
                        format!("{id} is not a node of the cluster"),
                    ));
                }
                if list[..i].contains(id) {
                    return Err(ScenarioError::new(
                        format!("params.{field}[{i}]"),
                        format!("{id} appears twice"),
                    ));
                }
            }
        }
        if params.acceptors.is_empty() {
            return Err(ScenarioError::new(
                "params.acceptors",
                "no node is an acceptor",
            ));
        }
        if params.learners.is_empty() {
            return Err(ScenarioError::new(
                "params.learners",
                "no node is a learner",
            ));
        }
        for (i, p) in scenario.workload.iter().enumerate() {
            if !params.proposers.contains(&p.proposer) {
                return Err(ScenarioError::new(
                    format!("workload[{i}].proposer"),
                    format!("{} is not a proposer", p.proposer),
                ));
            }
        }
        let t = &params.timing;
        if t.backoff_ms_min > t.backoff_ms_max {
            return Err(ScenarioError::new(
                "params.timing.backoff_ms_min",
                "exceeds params.timing.backoff_ms_max",
            ));
        }
        if t.phase_timeout_ms == 0 || t.learner_poll_ms == 0 {
            return Err(ScenarioError::new(
                "params.timing",
                "timeouts must be at least 1 ms",
            ));
        }
        for (field, ms) in [
            ("phase_timeout_ms", t.phase_timeout_ms),
            ("backoff_ms_max", t.backoff_ms_max),
            ("learner_poll_ms", t.learner_poll_ms),
        ] {
            if ms > crate::scenario::SIM_MS_MAX {
                return Err(ScenarioError::new(
                    format!("params.timing.{field}"),
                    format!("over {} ms", crate::scenario::SIM_MS_MAX),
                ));
            }
        }
        Ok(())
    }

    /// A node leaves every role list; the last acceptor or the last learner cannot
    /// leave (the scenario would not be Paxos any more).
    fn without_node(&self, params: &PaxosParams, id: NodeId) -> Option<PaxosParams> {
        let last = |list: &[NodeId]| list == [id];
        if last(&params.acceptors) || last(&params.learners) || last(&params.proposers) {
            return None;
        }
        let mut out = params.clone();
        out.acceptors.retain(|&n| n != id);
        out.proposers.retain(|&n| n != id);
        out.learners.retain(|&n| n != id);
        Some(out)
    }

    /// A proposer that plays no other role folds into another node (a client moved
    /// onto a server, as deployments that colocate them do): that node becomes a
    /// proposer if it was not one, so the node count drops by one with as many
    /// proposers racing.
    fn merged(&self, params: &PaxosParams, from: NodeId, into: NodeId) -> Option<PaxosParams> {
        let roles = params.roles(from);
        if !roles.proposer || roles.acceptor || roles.learner {
            return None;
        }
        let mut out = params.clone();
        if params.roles(into).proposer {
            out.proposers.retain(|&p| p != from);
        } else {
            for p in &mut out.proposers {
                if *p == from {
                    *p = into;
                }
            }
        }
        Some(out)
    }

    /// A role fewer: a proposer without a client request stops proposing (it would
    /// only wait), then one learner fewer, the last first (the last learner stays):
    /// fewer learners send and hear fewer messages, and `learner_integrity` needs only
    /// one to break.
    fn smaller_params(&self, params: &PaxosParams, scenario: &Scenario) -> Vec<PaxosParams> {
        let mut out = Vec::new();
        for (i, &p) in params.proposers.iter().enumerate() {
            if params.proposers.len() > 1 && scenario.request_of(p).is_none() {
                let mut idle_gone = params.clone();
                idle_gone.proposers.remove(i);
                out.push(idle_gone);
            }
        }
        if params.learners.len() > 1 {
            for i in (0..params.learners.len()).rev() {
                let mut fewer = params.clone();
                fewer.learners.remove(i);
                out.push(fewer);
            }
        }
        out
    }

    /// Servers accept and learn; clients propose.
    fn cluster_params(&self, servers: &[NodeId], clients: &[NodeId]) -> PaxosParams {
        PaxosParams {
            acceptors: servers.to_vec(),
            proposers: clients.to_vec(),
            learners: servers.to_vec(),
            // A real cluster's proposers exit once their value is chosen: learners
            // catch up from the acceptors.
            timing: TimingConfig {
                learner_asks_acceptors: true,
                ..TimingConfig::default()
            },
        }
    }

    fn core(&self, setup: &RunSetup<Paxos>, id: NodeId) -> Node {
        let params = &setup.params;
        let bugs = Bugs::switched_on(setup);
        Node::with_bugs(
            id,
            params.roles(id),
            params.membership(),
            params.timing.clone(),
            bugs,
        )
    }

    /// Every learner must learn.
    fn deciders(&self, setup: &RunSetup<Paxos>) -> Vec<NodeId> {
        setup.params.learners.clone()
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &MsgKind::NAMES
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &super::bugs::BUGS
    }

    /// Every learner learned and every proposer with a client value finished.
    fn settle(&self, setup: &RunSetup<Paxos>) -> Box<dyn Settle<Node>> {
        Box::new(SettleTracker::new(&setup.params.learners))
    }

    fn properties(&self) -> Vec<Judge<Paxos>> {
        judges()
    }

    /// Nodes that propose nothing and play the same roles are interchangeable
    /// (`super::symmetry` says why, and under which bugs there is no symmetry).
    fn symmetry(&self, setup: &RunSetup<Paxos>) -> Option<crate::protocol::Symmetry<Node>> {
        super::symmetry::symmetry(setup)
    }
}

/// Everything of a drafted run after its roles, from `rng`: horizon and workload. The
/// benchmarks pin their cluster this way and get the generator's full fault mix on it
/// (`crate::fault::scenario_from_draft`).
pub fn draft_on(rng: &mut ChaCha8Rng, nodes: &[(NodeId, Roles)]) -> Draft<PaxosParams> {
    let params = PaxosParams::from_roles(nodes);
    let cluster = Cluster {
        nodes: nodes.iter().map(|&(id, _)| NodeSpec { id }).collect(),
    };
    let horizon_ms = rng.between(300, 3_000);
    // Swarm over the workload too: in a burst every client asks within a few
    // milliseconds of the others, so ballots race while messages are in flight;
    // otherwise requests are spread out, so later proposers meet accepted values.
    let burst_at_ms = rng
        .chance(0.4)
        .then(|| [0, rng.between(0, horizon_ms / 2)][rng.between(0, 1) as usize]);
    let workload = params
        .proposers
        .iter()
        .enumerate()
        .map(|(i, &p)| Proposal {
            proposer: p,
            value: Value::new(format!("Value_{}", (b'A' + i as u8) as char)),
            at_ms: match burst_at_ms {
                Some(at_ms) => at_ms + rng.between(0, 5),
                None if rng.chance(0.3) => 0,
                None => rng.between(0, horizon_ms / 2),
            },
        })
        .collect();
    Draft {
        cluster,
        workload,
        params,
        horizon_ms,
        liveness_bound_ms: 10_000,
    }
}

/// `servers` nodes n1.. that accept and learn, then `clients` nodes that only propose:
/// the lab's shape, the benchmarks' and real mode's.
pub fn servers_and_clients(servers: u16, clients: u16) -> Vec<(NodeId, Roles)> {
    let server = Roles {
        acceptor: true,
        learner: true,
        proposer: false,
    };
    let client = Roles {
        proposer: true,
        ..Roles::default()
    };
    (1..=servers + clients)
        .map(|i| (NodeId(i), if i <= servers { server } else { client }))
        .collect()
}

/// The classic lab cluster: servers n1..n3 are acceptors and learners; n4 is client A
/// proposing `Value_A`, n5 is client B proposing `Value_B`, at the given times. No
/// faults.
pub fn lab(seed: u64, workload: &[(char, u64)]) -> Scenario {
    let params = PaxosParams::from_roles(&servers_and_clients(3, 2));
    Scenario {
        workload: workload
            .iter()
            .map(|&(who, at_ms)| Proposal {
                proposer: if who == 'A' { NodeId(4) } else { NodeId(5) },
                value: Value::new(format!("Value_{who}")),
                at_ms,
            })
            .collect(),
        liveness_bound_ms: 10_000,
        params: serde_json::to_value(&params).expect("params serialize"),
        ..Scenario::quiet(Paxos::NAME, Cluster::of_size(5), seed)
    }
}
