//! A [`Scenario`] is everything a run needs besides code: the nodes, the network's
//! latency, the workload, the fault schedule, the bounds, and a section the protocol
//! owns (`params`: roles, timing, sizes, whatever that protocol needs). Plain serde
//! data, so it can be printed, saved, edited and replayed.
//!
//! The harness validates its own fields here ([`Scenario::validate`]); the protocol
//! validates `params` and `bugs` (`crate::protocol::Protocol::check_scenario`). Either
//! error names the field.

use crate::fault::FaultSchedule;
use crate::ids::NodeId;
use crate::value::{Value, VALUE_BYTES_MAX};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Cluster size limit: the 500-node chains of `gauntlet experiment propagation`, with
/// a little headroom (real mode, which shares it, spawns one process per node).
pub const NODES_MAX: usize = 512;
/// No scenario may simulate more than this (phase 1 plus the liveness bound).
pub const SIM_MS_MAX: u64 = 120_000;
/// Longest protocol name.
pub const PROTOCOL_NAME_BYTES_MAX: usize = 32;
/// Most client requests one scenario holds.
pub const WORKLOAD_MAX: usize = 1_024;

/// One node of the cluster. What it does is the protocol's business (its `params`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub id: NodeId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub nodes: Vec<NodeSpec>,
}

impl Cluster {
    /// A cluster of nodes `n1..=n<count>`.
    pub fn of_size(count: u16) -> Cluster {
        Cluster {
            nodes: (1..=count).map(|i| NodeSpec { id: NodeId(i) }).collect(),
        }
    }

    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// One client request: node `proposer` is asked to propose `value` at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub proposer: NodeId,
    pub value: Value,
    pub at_ms: u64,
}

/// One-way latency of every datagram, drawn within this range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

fn is_null(value: &serde_json::Value) -> bool {
    value.is_null()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Root seed of the run's random streams (network faults, node jitter, latency).
    pub seed: u64,
    /// The protocol under test, by its `crate::protocol::Protocol::name`.
    pub protocol: String,
    pub cluster: Cluster,
    #[serde(default)]
    pub network: NetworkConfig,
    pub workload: Vec<Proposal>,
    #[serde(default)]
    pub faults: FaultSchedule,
    /// After phase 1 ends and faults heal, every decider must decide within this.
    pub liveness_bound_ms: u64,
    /// The protocol's own section (its `Protocol::Params`, as JSON): roles, timing,
    /// sizes. `null` means the protocol's defaults.
    #[serde(default, skip_serializing_if = "is_null")]
    pub params: serde_json::Value,
    /// Planted bugs switched on for this run, by the names the protocol lists; empty
    /// (the correct protocol) by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<String>,
    /// The scenario means to run the protocol past its fault bound: more Byzantine
    /// nodes than the cluster tolerates (`gauntlet experiment tight-bound` shows the
    /// bound is tight this way), or a cluster too small for the protocol's own fault
    /// parameter (the generals' OM(m) with fewer than `3m + 1`). Off by default, and then
    /// such a scenario is refused (naming the field): the one explicit opt-in for every
    /// protocol, never a silent default. The judges still leave Byzantine nodes out;
    /// liveness is not owed beyond the tolerance, so only safety verdicts mean much.
    #[serde(default, skip_serializing_if = "is_false")]
    pub byzantine_beyond_tolerance: bool,
    /// End the run at this simulated time (ms since the start), in whichever phase it
    /// is and whatever the protocol still owes. A safety failure needs its run only
    /// up to its violation, so the shrinker sets this just past it and the kept trace
    /// stops there. A run with a stop owes no liveness: its Eventually properties are
    /// not judged (a stopped run did not have the time liveness is owed), so a
    /// scenario with a stop can fail a safety property only. Absent (`None`, the
    /// default): the run ends when the protocol settles or at the liveness bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_at_ms: Option<u64>,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

/// A scenario that cannot run, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct ScenarioError {
    pub field: String,
    pub reason: String,
}

impl ScenarioError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ScenarioError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::new(field, reason)
}

/// Whether `name` may name a protocol: 1 to [`PROTOCOL_NAME_BYTES_MAX`] bytes of
/// `a-z`, `0-9` and `_`.
pub fn is_protocol_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= PROTOCOL_NAME_BYTES_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Scenario {
    /// `protocol` on `cluster` under `seed`, and nothing else: no client requests,
    /// no faults, the default network, the protocol's default parameters, no planted
    /// bugs, no liveness time, no stop, within the fault bound. The base every place
    /// that builds a scenario in code fills in with struct update syntax, so each
    /// says only what it sets, and a new field gets its default here once.
    pub fn quiet(protocol: impl Into<String>, cluster: Cluster, seed: u64) -> Self {
        Scenario {
            seed,
            protocol: protocol.into(),
            cluster,
            network: NetworkConfig::default(),
            workload: Vec::new(),
            faults: FaultSchedule::default(),
            liveness_bound_ms: 0,
            params: serde_json::Value::Null,
            bugs: Vec::new(),
            byzantine_beyond_tolerance: false,
            stop_at_ms: None,
        }
    }

    /// When phase 1 (faults) ends: after the last fault and the last client request.
    pub fn safety_phase_end_ms(&self) -> u64 {
        let last_request = self.workload.iter().map(|p| p.at_ms).max().unwrap_or(0);
        self.faults.end_ms().max(last_request)
    }

    /// The client request node `id` receives, and when (the first one listed).
    pub fn request_of(&self, id: NodeId) -> Option<(u64, Value)> {
        self.workload
            .iter()
            .find(|p| p.proposer == id)
            .map(|p| (p.at_ms, p.value.clone()))
    }

    /// Check the harness's fields: every limit and reference. The protocol checks its
    /// own section and the message kinds its faults name.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if !is_protocol_name(&self.protocol) {
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
        if self.workload.len() > WORKLOAD_MAX {
            return Err(err(
                "workload",
                format!("{} requests; at most {WORKLOAD_MAX}", self.workload.len()),
            ));
        }
        for (i, p) in self.workload.iter().enumerate() {
            if !ids.contains(&p.proposer) {
                return Err(err(
                    format!("workload[{i}].proposer"),
                    format!("{} is not a node of the cluster", p.proposer),
                ));
            }
            if p.at_ms > SIM_MS_MAX {
                return Err(err(
                    format!("workload[{i}].at_ms"),
                    format!("{} is past the longest run ({SIM_MS_MAX} ms)", p.at_ms),
                ));
            }
            if p.value.len() > VALUE_BYTES_MAX {
                return Err(err(
                    format!("workload[{i}].value"),
                    format!("longer than {VALUE_BYTES_MAX} bytes"),
                ));
            }
        }
        self.faults
            .validate(&ids)
            .map_err(|(field, reason)| err(field, reason))?;
        if self.network.latency_ms_min > self.network.latency_ms_max {
            return Err(err(
                "network.latency_ms_min",
                "exceeds network.latency_ms_max",
            ));
        }
        if self.network.latency_ms_max > crate::fault::DELAY_MS_MAX {
            return Err(err(
                "network.latency_ms_max",
                format!("over {} ms", crate::fault::DELAY_MS_MAX),
            ));
        }
        // Checked, not saturated: a sum that does not fit is as far past the limit as
        // any, and says so rather than passing as a small number.
        let run_ms = self
            .safety_phase_end_ms()
            .checked_add(self.liveness_bound_ms);
        if run_ms.is_none_or(|ms| ms > SIM_MS_MAX) {
            return Err(err(
                "liveness_bound_ms",
                format!("phase 1 plus the liveness bound exceeds {SIM_MS_MAX} ms"),
            ));
        }
        if let Some(stop_ms) = self.stop_at_ms {
            if stop_ms == 0 || stop_ms > SIM_MS_MAX {
                return Err(err(
                    "stop_at_ms",
                    format!(
                        "{stop_ms} ms; need 1..={SIM_MS_MAX} (a run stopped at 0 ms runs nothing)"
                    ),
                ));
            }
        }
        Ok(())
    }
}
