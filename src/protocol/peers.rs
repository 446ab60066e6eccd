//! Drafts for protocols whose nodes are all alike (peers), the usual shape of a
//! plug-in protocol: the protocol picks the cluster sizes and the time scale, the
//! harness draws the rest and the fault schedule from the seed.

use super::Draft;
use crate::rng::Draw;
use crate::scenario::{Cluster, Proposal};
use crate::value::Value;
use rand_chacha::ChaCha8Rng;

/// The shape of a drafted cluster of peers: every node proposes one value,
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
}

impl Peers {
    /// The draft of one campaign run, drawn from `rng`, with `params`.
    pub fn draft<Params>(&self, rng: &mut ChaCha8Rng, params: Params) -> Draft<Params> {
        assert!(!self.sizes.is_empty() && self.sizes.iter().all(|&s| s >= 2));
        let count = self.sizes[rng.between(0, self.sizes.len() as u64 - 1) as usize];
        let cluster = Cluster::of_size(count);
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
        Draft {
            cluster,
            workload,
            params,
            horizon_ms,
            liveness_bound_ms: self.liveness_bound_ms,
        }
    }
}
