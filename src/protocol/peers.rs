//! Generated scenarios for protocols whose nodes are all alike (peers), the usual shape
//! of a plug-in protocol: the protocol picks the cluster sizes and the time scale, the
//! harness draws the rest and the fault schedule from the seed.

use crate::fault::{generate_schedule, GeneratorLimits};
use crate::ids::NodeId;
use crate::paxos::{Bugs, Roles, TimingConfig, Value};
use crate::sim::rng::{stream_rng, Draw, Stream};
use crate::sim::{Cluster, NetworkConfig, NodeSpec, Proposal, Scenario};

/// Most fault events a generated peer scenario holds (as for Paxos).
const FAULT_EVENTS_MAX: usize = 12;

/// The shape of a generated cluster of peers: every node plays every role (so the
/// scenario validates; a peer protocol reads no roles) and proposes one value,
/// `Value_<letter>`, drawn from the first `size` letters, so two nodes may propose the
/// same value.
#[derive(Debug, Clone, Copy)]
pub struct Peers {
    /// Cluster sizes, drawn uniformly (repeat a size to favour it).
    pub sizes: &'static [u16],
    /// The fault schedule's horizon is drawn from `horizon_ms.0..=horizon_ms.1`: put
    /// it where the protocol makes its decisions, or the faults test nothing.
    pub horizon_ms: (u64, u64),
    /// Every node proposes at time 0; otherwise each at a random time within the
    /// first half of the horizon (30% of them at 0).
    pub propose_at_start: bool,
    /// The simulated time the liveness phase allows after the faults heal.
    pub liveness_bound_ms: u64,
    /// The protocol's message kinds, as its core's `Core::msg_kind` names them: the
    /// generator aims targeted faults (drop, duplicate, delay one kind of message in a
    /// time window) at these. Empty: no targeted faults.
    pub message_kinds: &'static [&'static str],
}

impl Peers {
    /// The scenario of campaign run `seed` for protocol `protocol`.
    pub fn generate(&self, protocol: &str, seed: u64) -> Scenario {
        assert!(!self.sizes.is_empty() && self.sizes.iter().all(|&s| s >= 2));
        let mut rng = stream_rng(seed, Stream::Scenario);
        let count = self.sizes[rng.between(0, self.sizes.len() as u64 - 1) as usize];
        let every_role = Roles {
            acceptor: true,
            proposer: true,
            learner: true,
        };
        let cluster = Cluster {
            nodes: (1..=count)
                .map(|i| NodeSpec {
                    id: NodeId(i),
                    roles: every_role,
                })
                .collect(),
        };
        let horizon_ms = rng.between(self.horizon_ms.0.max(1), self.horizon_ms.1);
        let workload: Vec<Proposal> = cluster
            .ids()
            .into_iter()
            .map(|proposer| {
                let letter = (b'A' + rng.between(0, count as u64 - 1) as u8) as char;
                let at_ms = if self.propose_at_start || rng.chance(0.3) {
                    0
                } else {
                    rng.between(0, horizon_ms / 2)
                };
                Proposal {
                    proposer,
                    value: Value::new(format!("Value_{letter}")),
                    at_ms,
                }
            })
            .collect();
        let request_times: Vec<u64> = workload.iter().map(|p| p.at_ms).collect();
        let faults = generate_schedule(
            &mut rng,
            &cluster.ids(),
            self.message_kinds,
            &request_times,
            GeneratorLimits {
                horizon_ms,
                events_max: FAULT_EVENTS_MAX,
            },
        );
        Scenario {
            seed,
            protocol: protocol.to_string(),
            cluster,
            timing: TimingConfig::default(),
            network: NetworkConfig::default(),
            workload,
            faults,
            liveness_bound_ms: self.liveness_bound_ms,
            bugs: Bugs::default(),
        }
    }
}
