//! Seeds and per-subsystem random streams (docs/architecture.md, principle 2).
//!
//! One root seed; each subsystem draws from its own ChaCha8 stream of that seed, so
//! changing how many numbers one subsystem draws never reshuffles another. turmoil
//! gets a plain `u64` (it uses a different rand version internally).

use crate::ids::NodeId;
pub use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// The independent random streams of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Generating the scenario from a seed: cluster, workload, fault schedule.
    Scenario,
    /// The fault layer's draws for messages `node` sends (drop, duplicate, delay).
    /// One stream per sender, so the order in which *different* nodes act within a
    /// millisecond never changes anybody's draws: what makes the two worlds agree.
    Faults { node: NodeId },
    /// The network latency of each datagram `node` sends, per sender for the same
    /// reason.
    Latency { node: NodeId },
    /// One incarnation of one node (timer jitter); a restart gets a fresh stream.
    Node { node: NodeId, incarnation: u32 },
    /// The fault layer's draws for messages the twin of `node` sends
    /// (`crate::fault::Fault::Twin`): its own, so the order in which a node and its
    /// twin act within a millisecond never changes a draw.
    TwinFaults { node: NodeId },
    /// The network latency of each datagram the twin of `node` sends.
    TwinLatency { node: NodeId },
    /// turmoil's own seed (nothing in a run depends on it: gauntlet's network is its
    /// own, but turmoil wants one).
    Turmoil,
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Scenario => 1,
            Stream::Turmoil => 3,
            Stream::Faults { node } => (2 << 40) | node.0 as u64,
            Stream::Latency { node } => (3 << 40) | node.0 as u64,
            Stream::TwinFaults { node } => (4 << 40) | node.0 as u64,
            Stream::TwinLatency { node } => (5 << 40) | node.0 as u64,
            Stream::Node { node, incarnation } => {
                (1 << 40) | ((node.0 as u64) << 20) | incarnation as u64
            }
        }
    }
}

/// The RNG for `stream` of the run with root `seed`.
pub fn stream_rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream.id());
    rng
}

/// The seed handed to turmoil's builder.
pub fn turmoil_seed(seed: u64) -> u64 {
    stream_rng(seed, Stream::Turmoil).next_u64()
}

/// The seed of run `index` of a campaign with base seed `base`: a SplitMix64 step, so
/// neighbouring runs get unrelated seeds and any run replays alone with `--seed`.
pub fn run_seed(base: u64, index: u64) -> u64 {
    let mut z = base.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Small helpers over any `rand_core` RNG, so no code needs the `rand` crate.
pub trait Draw {
    /// Uniform in `lo..=hi` (Lemire's multiply-shift; the bias is below 2^-32).
    fn between(&mut self, lo: u64, hi: u64) -> u64;
    /// True with probability `p` (clamped to 0..=1).
    fn chance(&mut self, p: f64) -> bool;
    /// A float uniform in `0..1`.
    fn unit(&mut self) -> f64;
    /// Put `items` in a uniformly drawn order (Fisher-Yates, one `between` draw per
    /// item but the first), the same order for the same stream.
    fn shuffle<T>(&mut self, items: &mut [T]);
}

impl<R: Rng + ?Sized> Draw for R {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let x = self.next_u64() as u128 * (span as u128 + 1);
        lo + (x >> 64) as u64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p.clamp(0.0, 1.0)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.between(0, i as u64) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streams are independent: drawing from one does not change another, and the
    /// same (seed, stream) always gives the same numbers.
    #[test]
    fn streams_are_independent_and_repeatable() {
        let mut a = stream_rng(7, Stream::Faults { node: NodeId(1) });
        let mut b = stream_rng(7, Stream::Scenario);
        let first_b = b.next_u64();
        for _ in 0..100 {
            a.next_u64();
        }
        let mut b2 = stream_rng(7, Stream::Scenario);
        assert_eq!(b2.next_u64(), first_b);
        assert_ne!(
            stream_rng(7, Stream::Faults { node: NodeId(1) }).next_u64(),
            first_b
        );
        let ids = [
            Stream::Faults { node: NodeId(1) },
            Stream::Faults { node: NodeId(2) },
            Stream::Latency { node: NodeId(1) },
            Stream::Latency { node: NodeId(2) },
        ];
        for (i, x) in ids.iter().enumerate() {
            for y in &ids[i + 1..] {
                assert_ne!(stream_rng(7, *x).next_u64(), stream_rng(7, *y).next_u64());
            }
        }
        let n1 = Stream::Node {
            node: NodeId(1),
            incarnation: 0,
        };
        let n1b = Stream::Node {
            node: NodeId(1),
            incarnation: 1,
        };
        assert_ne!(stream_rng(7, n1).next_u64(), stream_rng(7, n1b).next_u64());
    }

    /// `between` stays in range, hits both ends, and `run_seed` spreads indices.
    #[test]
    fn draws_stay_in_range() {
        let mut r = stream_rng(1, Stream::Scenario);
        let draws: Vec<u64> = (0..2000).map(|_| r.between(3, 5)).collect();
        assert!(draws.iter().all(|d| (3..=5).contains(d)));
        assert!(draws.contains(&3) && draws.contains(&5));
        assert_ne!(run_seed(0, 1), run_seed(0, 2));
    }
}
