//! The per-message fault layer. turmoil can partition links and hold messages, but it
//! cannot duplicate a datagram, and its `fail_rate` takes a whole link down rather than
//! losing single messages; this layer decides each message's fate from the network's
//! own seeded stream.

use super::LinkFaults;
use crate::ids::NodeId;
use crate::sim::rng::Draw;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// What happens to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    /// Deliver one copy per entry, each after that many extra milliseconds (0: at once).
    /// Two entries mean the message is duplicated.
    Deliver {
        delays_ms: Vec<u64>,
    },
}

pub struct FaultLayer {
    global: LinkFaults,
    links: BTreeMap<(NodeId, NodeId), LinkFaults>,
    rng: ChaCha8Rng,
}

impl FaultLayer {
    pub fn new(rng: ChaCha8Rng) -> Self {
        FaultLayer {
            global: LinkFaults::default(),
            links: BTreeMap::new(),
            rng,
        }
    }

    /// Set the rates on one directed link, or on all links (clearing per-link ones).
    pub fn set(&mut self, link: Option<(NodeId, NodeId)>, faults: LinkFaults) {
        match link {
            Some(pair) => {
                self.links.insert(pair, faults);
            }
            None => {
                self.links.clear();
                self.global = faults;
            }
        }
    }

    /// No more faults: the liveness phase.
    pub fn clear(&mut self) {
        self.set(None, LinkFaults::default());
    }

    /// Decide the fate of a message from `from` to `to`. Always draws the same four
    /// numbers, whatever the rates, so changing one rate (as shrinking does) does not
    /// shift the draws of every later message.
    pub fn verdict(&mut self, from: NodeId, to: NodeId) -> Verdict {
        let f = self.links.get(&(from, to)).copied().unwrap_or(self.global);
        let drop_roll = self.rng.unit();
        let dup_roll = self.rng.unit();
        let delay_a = self.rng.between(0, f.delay_ms_max);
        let delay_b = self.rng.between(0, f.delay_ms_max);
        if drop_roll < f.drop_probability {
            return Verdict::Drop;
        }
        let mut delays_ms = vec![delay_a];
        if dup_roll < f.duplicate_probability {
            delays_ms.push(delay_b);
        }
        Verdict::Deliver { delays_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{stream_rng, Stream};

    fn layer() -> FaultLayer {
        FaultLayer::new(stream_rng(5, Stream::Network))
    }

    /// With no faults every message is delivered once, at once.
    #[test]
    fn quiet_layer_delivers_everything_once() {
        let mut l = layer();
        for _ in 0..100 {
            assert_eq!(
                l.verdict(NodeId(1), NodeId(2)),
                Verdict::Deliver { delays_ms: vec![0] }
            );
        }
    }

    /// Rates are honoured roughly, per link overrides global, and clear() heals.
    #[test]
    fn rates_apply_per_link_and_clear_heals() {
        let mut l = layer();
        l.set(
            None,
            LinkFaults {
                drop_probability: 1.0,
                ..Default::default()
            },
        );
        l.set(
            Some((NodeId(1), NodeId(2))),
            LinkFaults {
                duplicate_probability: 1.0,
                delay_ms_max: 5,
                ..Default::default()
            },
        );
        assert_eq!(l.verdict(NodeId(2), NodeId(1)), Verdict::Drop);
        match l.verdict(NodeId(1), NodeId(2)) {
            Verdict::Deliver { delays_ms } => {
                assert_eq!(delays_ms.len(), 2);
                assert!(delays_ms.iter().all(|d| *d <= 5));
            }
            v => panic!("expected a duplicate, got {v:?}"),
        }
        l.set(
            None,
            LinkFaults {
                drop_probability: 0.3,
                ..Default::default()
            },
        );
        let dropped = (0..10_000)
            .filter(|_| l.verdict(NodeId(1), NodeId(3)) == Verdict::Drop)
            .count();
        assert!(
            (2_500..3_500).contains(&dropped),
            "dropped {dropped} of 10000 at p=0.3"
        );
        l.clear();
        assert_eq!(
            l.verdict(NodeId(1), NodeId(3)),
            Verdict::Deliver { delays_ms: vec![0] }
        );
    }
}
