//! A [`Scenario`] is everything a run needs besides code: cluster, protocol timing,
//! network latency, workload and fault schedule, plus the seed of its random streams.
//! Plain serde data, so it can be printed, saved, edited and replayed.

use super::rng::{stream_rng, Draw, Stream};
use crate::fault::{generate_schedule, FaultSchedule, GeneratorLimits};
use crate::ids::NodeId;
use crate::paxos::{Bugs, Membership, MsgKind, Roles, TimingConfig, Value, VALUE_BYTES_MAX};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Cluster size limit: beyond the 9 acceptors, 5 proposers and 9 learners, and
/// beyond the 51 nodes of the scaling benchmark (`benches/lanes.rs`), with headroom.
pub const NODES_MAX: usize = 64;
/// No scenario may simulate more than this (phase 1 plus the liveness bound).
pub const SIM_MS_MAX: u64 = 120_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub id: NodeId,
    pub roles: Roles,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub nodes: Vec<NodeSpec>,
}

impl Cluster {
    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.id).collect()
    }
    fn with(&self, f: impl Fn(&Roles) -> bool) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|n| f(&n.roles))
            .map(|n| n.id)
            .collect()
    }
    pub fn membership(&self) -> Membership {
        Membership {
            acceptors: self.with(|r| r.acceptor),
            learners: self.with(|r| r.learner),
            proposers: self.with(|r| r.proposer),
        }
    }
    pub fn roles(&self, id: NodeId) -> Option<Roles> {
        self.nodes.iter().find(|n| n.id == id).map(|n| n.roles)
    }
}

/// One client request: `proposer` is asked to propose `value` at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub proposer: NodeId,
    pub value: Value,
    pub at_ms: u64,
}

/// One-way latency of every datagram, drawn by turmoil within this range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub latency_ms_min: u64,
    pub latency_ms_max: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency_ms_min: 1,
            latency_ms_max: 10,
        }
    }
}

/// The protocol a scenario runs when its file names none: every scenario saved before
/// protocols were pluggable is a Paxos scenario.
pub const DEFAULT_PROTOCOL: &str = "paxos";
/// Longest protocol name.
pub const PROTOCOL_NAME_BYTES_MAX: usize = 32;

fn default_protocol() -> String {
    DEFAULT_PROTOCOL.to_string()
}

fn is_default_protocol(name: &str) -> bool {
    name == DEFAULT_PROTOCOL
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Root seed of the run's random streams (network faults, node jitter, turmoil).
    pub seed: u64,
    /// The protocol under test, by its `crate::protocol::Protocol::name`. Omitted from
    /// the JSON when it is Paxos, so Paxos scenarios read and print as they always did.
    #[serde(
        default = "default_protocol",
        skip_serializing_if = "is_default_protocol"
    )]
    pub protocol: String,
    pub cluster: Cluster,
    #[serde(default)]
    pub timing: TimingConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    pub workload: Vec<Proposal>,
    #[serde(default)]
    pub faults: FaultSchedule,
    /// After phase 1 ends and faults heal, every learner must learn within this.
    pub liveness_bound_ms: u64,
    /// Planted bugs switched on for this run; empty (correct Paxos) by default.
    #[serde(default, skip_serializing_if = "Bugs::is_empty")]
    pub bugs: Bugs,
}

/// A scenario that cannot run, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct ScenarioError {
    pub field: String,
    pub reason: String,
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError {
        field: field.into(),
        reason: reason.into(),
    }
}

impl Scenario {
    /// The classic lab cluster: servers n1..n3 are acceptors and learners; n4 is
    /// client A proposing `Value_A`, n5 is client B proposing `Value_B`. No faults.
    pub fn lab(seed: u64, workload: &[(char, u64)]) -> Scenario {
        let server = Roles {
            acceptor: true,
            learner: true,
            proposer: false,
        };
        let client = Roles {
            proposer: true,
            ..Roles::default()
        };
        let mut nodes: Vec<NodeSpec> = (1..=3)
            .map(|i| NodeSpec {
                id: NodeId(i),
                roles: server,
            })
            .collect();
        nodes.push(NodeSpec {
            id: NodeId(4),
            roles: client,
        });
        nodes.push(NodeSpec {
            id: NodeId(5),
            roles: client,
        });
        let workload = workload
            .iter()
            .map(|&(who, at_ms)| Proposal {
                proposer: if who == 'A' { NodeId(4) } else { NodeId(5) },
                value: Value::new(format!("Value_{who}")),
                at_ms,
            })
            .collect();
        Scenario {
            seed,
            protocol: default_protocol(),
            cluster: Cluster { nodes },
            timing: TimingConfig::default(),
            network: NetworkConfig::default(),
            workload,
            faults: FaultSchedule::default(),
            liveness_bound_ms: 10_000,
            bugs: Bugs::default(),
        }
    }

    /// A random scenario from a seed, with the full fault mix and swarm variation:
    /// cluster shape, workload timing and every fault kind's presence and rate vary.
    pub fn generate(seed: u64) -> Scenario {
        let mut rng = stream_rng(seed, Stream::Scenario);
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
            nodes.push(NodeSpec {
                id: NodeId(i),
                roles: Roles {
                    acceptor: true,
                    learner: true,
                    // A proposer may live on the first server, as in many deployments.
                    proposer: colocate && i == 1,
                },
            });
        }
        let client_count = if colocate { proposers - 1 } else { proposers };
        for i in 0..client_count {
            nodes.push(NodeSpec {
                id: NodeId(servers + 1 + i),
                roles: Roles {
                    proposer: true,
                    ..Roles::default()
                },
            });
        }
        for i in 0..extra_learners {
            nodes.push(NodeSpec {
                id: NodeId(servers + 1 + client_count + i),
                roles: Roles {
                    learner: true,
                    ..Roles::default()
                },
            });
        }
        Self::draw_on(seed, &mut rng, Cluster { nodes })
    }

    /// The scenario of `seed` on a given cluster: workload, horizon and fault schedule
    /// drawn as [`Scenario::generate`] draws them (the benchmarks pin their cluster this
    /// way and get the generator's full fault mix on it).
    pub fn generate_on(seed: u64, cluster: Cluster) -> Scenario {
        Self::draw_on(seed, &mut stream_rng(seed, Stream::Scenario), cluster)
    }

    /// Everything of a generated scenario after its cluster, from `rng`.
    fn draw_on(seed: u64, rng: &mut ChaCha8Rng, cluster: Cluster) -> Scenario {
        let horizon_ms = rng.between(300, 3_000);
        // Swarm over the workload too: in a burst every client asks within a few
        // milliseconds of the others, so ballots race while messages are in flight;
        // otherwise requests are spread out, so later proposers meet accepted values.
        let burst_at_ms = rng
            .chance(0.4)
            .then(|| [0, rng.between(0, horizon_ms / 2)][rng.between(0, 1) as usize]);
        let workload = cluster
            .membership()
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
            .collect::<Vec<Proposal>>();
        let request_times: Vec<u64> = workload.iter().map(|p| p.at_ms).collect();
        let faults = generate_schedule(
            rng,
            &cluster.ids(),
            &MsgKind::NAMES,
            &request_times,
            GeneratorLimits {
                horizon_ms,
                events_max: 12,
            },
        );
        Scenario {
            seed,
            protocol: default_protocol(),
            cluster,
            timing: TimingConfig::default(),
            network: NetworkConfig::default(),
            workload,
            faults,
            liveness_bound_ms: 10_000,
            bugs: Bugs::default(),
        }
    }

    /// When phase 1 (faults) ends: after the last fault and the last client request.
    pub fn safety_phase_end_ms(&self) -> u64 {
        let last_request = self.workload.iter().map(|p| p.at_ms).max().unwrap_or(0);
        self.faults.end_ms().max(last_request)
    }

    /// Check every limit and reference; the error names the field. Any well-formed
    /// protocol name passes (a plug-in protocol's scenario is valid too); whether the
    /// name is a built-in protocol is `crate::protocol::Builtin::of`'s question.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let name_ok = !self.protocol.is_empty()
            && self.protocol.len() <= PROTOCOL_NAME_BYTES_MAX
            && self
                .protocol
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(err(
                "protocol",
                format!(
                    "`{}` is not a protocol name (1 to {PROTOCOL_NAME_BYTES_MAX} of a-z, 0-9, _)",
                    self.protocol
                ),
            ));
        }
        let ids = self.cluster.ids();
        if ids.is_empty() || ids.len() > NODES_MAX {
            return Err(err(
                "cluster.nodes",
                format!("{} nodes; need 1..={NODES_MAX}", ids.len()),
            ));
        }
        for (i, n) in self.cluster.nodes.iter().enumerate() {
            if n.id.0 == 0 {
                return Err(err(format!("cluster.nodes[{i}].id"), "node ids start at 1"));
            }
            if ids[..i].contains(&n.id) {
                return Err(err(
                    format!("cluster.nodes[{i}].id"),
                    format!("{} appears twice", n.id),
                ));
            }
        }
        let m = self.cluster.membership();
        if m.acceptors.is_empty() {
            return Err(err("cluster.nodes", "no node is an acceptor"));
        }
        if m.learners.is_empty() {
            return Err(err("cluster.nodes", "no node is a learner"));
        }
        for (i, p) in self.workload.iter().enumerate() {
            if !m.proposers.contains(&p.proposer) {
                return Err(err(
                    format!("workload[{i}].proposer"),
                    format!("{} is not a proposer", p.proposer),
                ));
            }
            if p.value.0.len() > VALUE_BYTES_MAX {
                return Err(err(
                    format!("workload[{i}].value"),
                    format!("longer than {VALUE_BYTES_MAX} bytes"),
                ));
            }
        }
        self.faults
            .validate(&ids)
            .and_then(
                |()| match crate::protocol::Builtin::from_name(&self.protocol) {
                    Some(protocol) => self.faults.validate_kinds(protocol.message_kinds()),
                    // A plug-in protocol's labels are its own business: its run ignores any
                    // label its core never sends.
                    None => Ok(()),
                },
            )
            .map_err(|(field, reason)| err(field, reason))?;
        let t = &self.timing;
        if t.backoff_ms_min > t.backoff_ms_max {
            return Err(err(
                "timing.backoff_ms_min",
                "exceeds timing.backoff_ms_max",
            ));
        }
        if t.phase_timeout_ms == 0 || t.learner_poll_ms == 0 {
            return Err(err("timing", "timeouts must be at least 1 ms"));
        }
        if self.network.latency_ms_min > self.network.latency_ms_max {
            return Err(err(
                "network.latency_ms_min",
                "exceeds network.latency_ms_max",
            ));
        }
        if self.safety_phase_end_ms() + self.liveness_bound_ms > SIM_MS_MAX {
            return Err(err(
                "liveness_bound_ms",
                format!("phase 1 plus the liveness bound exceeds {SIM_MS_MAX} ms"),
            ));
        }
        Ok(())
    }
}

/// A proptest strategy for scenarios with the full fault mix: the cluster and workload
/// come from a seed, the fault schedule from [`crate::fault::strategy::schedule`], so
/// shrinking works on the schedule (events removed, rates lowered, times earlier)
/// before it touches the seed.
pub fn scenario_strategy() -> impl proptest::strategy::Strategy<Value = Scenario> {
    use proptest::prelude::*;
    any::<u64>().prop_flat_map(|seed| {
        let base = Scenario::generate(seed);
        let kinds = MsgKind::NAMES.iter().map(|k| k.to_string()).collect();
        crate::fault::strategy::schedule(base.cluster.ids(), kinds, 3_000, 12).prop_map(
            move |faults| Scenario {
                faults,
                ..base.clone()
            },
        )
    })
}
