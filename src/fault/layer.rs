//! The per-message layer of the simulated network: it decides each message's fate
//! (dropped, delivered once or twice, held back) and each copy's network latency, from
//! seeded streams of the *sender's* own (`Stream::Faults`, `Stream::Latency`), so the
//! order in which different nodes act within one millisecond never changes a draw.
//! Both worlds ask it once per send, so the same scenario gives the same delivery
//! schedule in both.

use super::LinkFaults;
use crate::ids::NodeId;
use crate::rng::{stream_rng, Draw, Stream};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// What happens to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    /// Deliver each copy. Two copies mean the message is duplicated.
    Deliver {
        copies: Copies,
    },
}

/// The one or two copies of a delivered message, held inline: a verdict is made for
/// every message sent, so it must not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copies {
    first: Copy,
    second: Option<Copy>,
}

impl Copies {
    pub fn one(copy: Copy) -> Self {
        Copies {
            first: copy,
            second: None,
        }
    }

    pub fn two(first: Copy, second: Copy) -> Self {
        Copies {
            first,
            second: Some(second),
        }
    }

    pub fn len(&self) -> usize {
        1 + usize::from(self.second.is_some())
    }

    /// Never: a delivered message has a copy.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = Copy> {
        std::iter::once(self.first).chain(self.second)
    }
}

impl IntoIterator for Copies {
    type Item = Copy;
    type IntoIter = std::iter::Chain<std::iter::Once<Copy>, std::option::IntoIter<Copy>>;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(self.first).chain(self.second)
    }
}

/// One copy of a message on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    /// Held back by the sender this long before it enters the network (0: at once).
    pub delay_ms: u64,
    /// Then in flight this long: it arrives `delay_ms + latency_ms` after the send.
    pub latency_ms: u64,
}

impl Verdict {
    /// One copy, at once, with no latency: a real network's verdict (it has its own).
    pub fn deliver_now() -> Verdict {
        Verdict::Deliver {
            copies: Copies::one(Copy {
                delay_ms: 0,
                latency_ms: 0,
            }),
        }
    }
}

/// One sender's streams.
struct SenderStreams {
    faults: ChaCha8Rng,
    latency: ChaCha8Rng,
}

/// Targeted rates (a [`super::Fault::MessageFaults`]) while its window lasts.
#[derive(Debug, Clone)]
struct Targeted {
    kinds: Vec<String>,
    link: Option<(NodeId, NodeId)>,
    faults: LinkFaults,
    until_ms: u64,
}

/// An armed [`super::Fault::CrashAfterSend`]: sends of `kind` by `node` still to go.
#[derive(Debug, Clone)]
struct Trigger {
    node: NodeId,
    kind: String,
    remaining: u32,
    down_ms: Option<u64>,
}

/// A crash a trigger asks for: the runner crashes `node` at the start of the next
/// millisecond and restarts it `down_ms` later (`None`: at the liveness phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashRequest {
    pub node: NodeId,
    pub down_ms: Option<u64>,
}

/// Restarts that protocol-timed crashes asked for, waiting for their time. Both lanes'
/// runners keep one, so a triggered crash and its restart mean the same in each.
#[derive(Debug, Default)]
pub struct PendingRestarts {
    /// `(at_ms, node)` in the order requested.
    due: Vec<(u64, NodeId)>,
}

impl PendingRestarts {
    pub fn push(&mut self, at_ms: u64, node: NodeId) {
        assert!(
            self.due.len() < RULES_MAX,
            "over {RULES_MAX} pending restarts"
        );
        self.due.push((at_ms, node));
    }

    /// The nodes whose restart is due at `now_ms`, earliest first (ties in request order).
    pub fn take_due(&mut self, now_ms: u64) -> Vec<NodeId> {
        let mut due: Vec<(u64, NodeId)> = Vec::new();
        self.due.retain(|&(at, node)| {
            if at <= now_ms {
                due.push((at, node));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|&(at, _)| at);
        due.into_iter().map(|(_, node)| node).collect()
    }

    /// When the next restart is due.
    pub fn next_ms(&self) -> Option<u64> {
        self.due.iter().map(|&(at, _)| at).min()
    }

    /// The liveness phase restarts every crashed node itself.
    pub fn clear(&mut self) {
        self.due.clear();
    }
}

pub struct FaultLayer {
    global: LinkFaults,
    links: BTreeMap<(NodeId, NodeId), LinkFaults>,
    /// In the order set: the last active match wins.
    targeted: Vec<Targeted>,
    triggers: Vec<Trigger>,
    fired: Vec<CrashRequest>,
    seed: u64,
    latency_ms_min: u64,
    latency_ms_max: u64,
    /// Each sender's streams, made on its first send; `true` marks a node's twin
    /// ([`super::Fault::Twin`]), which has streams of its own.
    senders: BTreeMap<(NodeId, bool), SenderStreams>,
    /// Directed links whose next datagram is lost ([`super::Fault::BreakConnection`]).
    lose_next: std::collections::BTreeSet<(NodeId, NodeId)>,
    /// Byzantine nodes that send nothing ([`super::Fault::Silent`]).
    silent: std::collections::BTreeSet<NodeId>,
    /// Armed mutations ([`super::Fault::Mutate`]), in the order armed: the first that
    /// matches a send and still has a count for its receiver applies.
    mutations: Vec<Mutation>,
    /// Armed replays ([`super::Fault::Replay`]), in the order armed; `mutation` holds
    /// the replay's `nth`.
    replays: Vec<Mutation>,
}

/// An armed [`super::Fault::Mutate`]: how many sends of `kind` from `node` to each
/// receiver are still to be mutated.
#[derive(Debug, Clone)]
struct Mutation {
    node: NodeId,
    kind: String,
    remaining: BTreeMap<NodeId, u32>,
    /// Sends of `kind` to each receiver still to let through unchanged first.
    skipping: BTreeMap<NodeId, u32>,
    mutation: u32,
}

/// Most targeted rules and armed triggers the layer holds; a schedule has at most
/// [`super::EVENTS_MAX`] events, so this is never reached by a valid one.
const RULES_MAX: usize = super::EVENTS_MAX;

impl FaultLayer {
    /// The layer of a run with root `seed`, whose datagrams take
    /// `latency_ms_min..=latency_ms_max` in flight (turmoil 0.7's curve: see
    /// [`latency_ms`]).
    pub fn new(seed: u64, latency_ms_min: u64, latency_ms_max: u64) -> Self {
        assert!(
            latency_ms_min <= latency_ms_max,
            "latency range {latency_ms_min}..={latency_ms_max}"
        );
        FaultLayer {
            global: LinkFaults::default(),
            links: BTreeMap::new(),
            targeted: Vec::new(),
            triggers: Vec::new(),
            fired: Vec::new(),
            seed,
            latency_ms_min,
            latency_ms_max,
            senders: BTreeMap::new(),
            lose_next: std::collections::BTreeSet::new(),
            silent: std::collections::BTreeSet::new(),
            mutations: Vec::new(),
            replays: Vec::new(),
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

    /// Give messages of `kinds` on `link` (or every link) these rates until `until_ms`.
    pub fn set_targeted(
        &mut self,
        kinds: &[String],
        link: Option<(NodeId, NodeId)>,
        faults: LinkFaults,
        until_ms: u64,
    ) {
        assert!(
            self.targeted.len() < RULES_MAX,
            "over {RULES_MAX} targeted rules"
        );
        self.targeted.push(Targeted {
            kinds: kinds.to_vec(),
            link,
            faults,
            until_ms,
        });
    }

    /// Crash `node` right after its `nth` send of `kind` from now on.
    pub fn arm_crash(&mut self, node: NodeId, kind: &str, nth: u32, down_ms: Option<u64>) {
        assert!(nth > 0, "a crash trigger waits for at least one send");
        assert!(
            self.triggers.len() < RULES_MAX,
            "over {RULES_MAX} crash triggers"
        );
        self.triggers.push(Trigger {
            node,
            kind: kind.to_string(),
            remaining: nth,
            down_ms,
        });
    }

    /// The crashes triggers asked for since the last call, in the order they fired.
    pub fn take_crash_requests(&mut self) -> Vec<CrashRequest> {
        std::mem::take(&mut self.fired)
    }

    /// Whether a crash request waits to be taken.
    pub fn crash_requested(&self) -> bool {
        !self.fired.is_empty()
    }

    /// `node` sends nothing from now on ([`super::Fault::Silent`]).
    pub fn set_silent(&mut self, node: NodeId) {
        self.silent.insert(node);
    }

    /// Mutate `node`'s next `count` sends of `kind` to each of `receivers`, after
    /// letting `skip` through unchanged ([`super::Fault::Mutate`]).
    pub fn arm_mutation(
        &mut self,
        node: NodeId,
        kind: &str,
        receivers: &[NodeId],
        count: u32,
        mutation: u32,
        skip: u32,
    ) {
        assert!(
            self.mutations.len() < RULES_MAX,
            "over {RULES_MAX} armed mutations"
        );
        self.mutations.push(Mutation {
            node,
            kind: kind.to_string(),
            remaining: receivers.iter().map(|&r| (r, count)).collect(),
            skipping: receivers.iter().map(|&r| (r, skip)).collect(),
            mutation,
        });
    }

    /// The mutation to apply to `from`'s send of a `kind` message to `to`, if one is
    /// armed (and count it). Draws nothing: both lanes ask once per send, in the
    /// sender's send order, so they mutate the same messages.
    pub fn mutation(&mut self, from: NodeId, to: NodeId, kind: &str) -> Option<u32> {
        self.mutations
            .iter_mut()
            .filter(|m| m.node == from && m.kind == kind)
            .find_map(|m| {
                if m.remaining.get(&to).is_none_or(|left| *left == 0) {
                    return None;
                }
                // A send let through unchanged counts toward the skip (and is not
                // offered to a later armed mutation: it is this one's round).
                if let Some(skipping) = m.skipping.get_mut(&to).filter(|s| **s > 0) {
                    *skipping -= 1;
                    return Some(None);
                }
                let left = m.remaining.get_mut(&to)?;
                *left -= 1;
                Some(Some(m.mutation))
            })
            .flatten()
    }

    /// Replace `node`'s next `count` sends of `kind` to each of `receivers` by its
    /// `nth` latest remembered message ([`super::Fault::Replay`]).
    pub fn arm_replay(
        &mut self,
        node: NodeId,
        kind: &str,
        receivers: &[NodeId],
        count: u32,
        nth: u32,
    ) {
        assert!(
            self.replays.len() < RULES_MAX,
            "over {RULES_MAX} armed replays"
        );
        self.replays.push(Mutation {
            node,
            kind: kind.to_string(),
            remaining: receivers.iter().map(|&r| (r, count)).collect(),
            skipping: BTreeMap::new(),
            mutation: nth,
        });
    }

    /// The replay (its `nth`) to apply to `from`'s send of a `kind` message to `to`,
    /// if one is armed (and count it). Draws nothing, like [`FaultLayer::mutation`].
    pub fn replay(&mut self, from: NodeId, to: NodeId, kind: &str) -> Option<u32> {
        self.replays
            .iter_mut()
            .filter(|m| m.node == from && m.kind == kind)
            .find_map(|m| {
                let left = m.remaining.get_mut(&to).filter(|left| **left > 0)?;
                *left -= 1;
                Some(m.mutation)
            })
    }

    /// Whether `node` has a replay armed, so must remember what it sends and receives.
    pub fn remembers(&self, node: NodeId) -> bool {
        self.replays.iter().any(|m| m.node == node)
    }

    /// No more faults: the liveness phase. Rates, targeted rules, armed triggers and
    /// crash requests not yet taken are all dropped. Byzantine nodes stay Byzantine
    /// (silent, their mutations and replays armed): the liveness the protocol owes with at most
    /// `f` of them does not wait for them to turn honest.
    pub fn clear(&mut self) {
        self.set(None, LinkFaults::default());
        self.targeted.clear();
        self.triggers.clear();
        self.fired.clear();
    }

    /// Decide the fate of a message of kind `kind` from `from` to `to`, sent at
    /// `now_ms`, and count it toward `from`'s crash triggers. Always draws the same four
    /// numbers from `from`'s fault stream and two from its latency stream, whatever the
    /// rates, so changing one rate (as shrinking does) does not shift the draws of
    /// every later message.
    /// Lose the next datagram `from` sends `to` ([`super::Fault::BreakConnection`]).
    pub fn arm_break(&mut self, from: NodeId, to: NodeId) {
        self.lose_next.insert((from, to));
    }

    pub fn verdict(&mut self, from: NodeId, to: NodeId, kind: &str, now_ms: u64) -> Verdict {
        self.count_send(from, kind);
        self.decide(from, false, to, kind, now_ms)
    }

    /// [`FaultLayer::verdict`] for a send by the twin of `from` ([`super::Fault::Twin`]):
    /// the same rates as `from`'s own sends, drawn from the twin's own streams, and no
    /// crash trigger counts it (a crash fault names the original instance).
    pub fn verdict_of_twin(
        &mut self,
        from: NodeId,
        to: NodeId,
        kind: &str,
        now_ms: u64,
    ) -> Verdict {
        self.decide(from, true, to, kind, now_ms)
    }

    fn decide(&mut self, from: NodeId, twin: bool, to: NodeId, kind: &str, now_ms: u64) -> Verdict {
        let f = self
            .targeted
            .iter()
            .rev()
            .find(|t| {
                now_ms < t.until_ms
                    && t.link.is_none_or(|l| l == (from, to))
                    && t.kinds.iter().any(|k| k == kind)
            })
            .map(|t| t.faults)
            .or_else(|| self.links.get(&(from, to)).copied())
            .unwrap_or(self.global);
        let (seed, min, max) = (self.seed, self.latency_ms_min, self.latency_ms_max);
        let streams = self
            .senders
            .entry((from, twin))
            .or_insert_with(|| match twin {
                false => SenderStreams {
                    faults: stream_rng(seed, Stream::Faults { node: from }),
                    latency: stream_rng(seed, Stream::Latency { node: from }),
                },
                true => SenderStreams {
                    faults: stream_rng(seed, Stream::TwinFaults { node: from }),
                    latency: stream_rng(seed, Stream::TwinLatency { node: from }),
                },
            });
        let drop_roll = streams.faults.unit();
        let dup_roll = streams.faults.unit();
        let delay_a = streams.faults.between(0, f.delay_ms_max);
        let delay_b = streams.faults.between(0, f.delay_ms_max);
        // Both latencies are drawn whatever the verdict; the logarithm that shapes a
        // draw into a latency is taken only for a copy that is sent.
        let latency_a = streams.latency.unit();
        let latency_b = streams.latency.unit();
        // After the draws, so an armed break shifts no later message's fate.
        // A connection break waits for the original's send only: the twin's sends
        // must not race it for the one datagram it loses.
        if (!twin && self.lose_next.remove(&(from, to)))
            || drop_roll < f.drop_probability
            || self.silent.contains(&from)
        {
            return Verdict::Drop;
        }
        let first = Copy {
            delay_ms: delay_a,
            latency_ms: latency_of(latency_a, min, max),
        };
        let copies = if dup_roll < f.duplicate_probability {
            let second = Copy {
                delay_ms: delay_b,
                latency_ms: latency_of(latency_b, min, max),
            };
            Copies::two(first, second)
        } else {
            Copies::one(first)
        };
        Verdict::Deliver { copies }
    }

    fn count_send(&mut self, from: NodeId, kind: &str) {
        let mut i = 0;
        while i < self.triggers.len() {
            let t = &mut self.triggers[i];
            if t.node == from && t.kind == kind {
                t.remaining -= 1;
                if t.remaining == 0 {
                    let t = self.triggers.remove(i);
                    self.fired.push(CrashRequest {
                        node: t.node,
                        down_ms: t.down_ms,
                    });
                    continue;
                }
            }
            i += 1;
        }
    }
}

/// The rate of turmoil 0.7's default latency distribution, `Exp(5)`.
const LATENCY_EXP_RATE: f64 = 5.0;

/// One datagram's latency on turmoil 0.7's curve (`Link::delay` in its `top.rs`):
/// `min + range * X` with `X ~ Exp(LATENCY_EXP_RATE)`, truncated to whole milliseconds,
/// at most `max`, so latencies cluster near the minimum. `X` is drawn as `-ln(U) /
/// rate` with `U` uniform in `(0, 1]`.
pub fn latency_ms(rng: &mut ChaCha8Rng, min_ms: u64, max_ms: u64) -> u64 {
    latency_of(rng.unit(), min_ms, max_ms)
}

/// [`latency_ms`] of the draw `unit` (uniform in `0..1`).
fn latency_of(unit: f64, min_ms: u64, max_ms: u64) -> u64 {
    let range_ms = (max_ms - min_ms) as f64;
    let u = 1.0 - unit;
    let x = -u.ln() / LATENCY_EXP_RATE;
    // `as` saturates, so even `u` at its smallest cannot overflow.
    min_ms.saturating_add((range_ms * x) as u64).min(max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> FaultLayer {
        FaultLayer::new(5, 1, 1)
    }

    fn once() -> Verdict {
        Verdict::Deliver {
            copies: Copies::one(Copy {
                delay_ms: 0,
                latency_ms: 1,
            }),
        }
    }

    /// With no faults every message is delivered once, at once.
    #[test]
    fn quiet_layer_delivers_everything_once() {
        let mut l = layer();
        for _ in 0..100 {
            assert_eq!(l.verdict(NodeId(1), NodeId(2), "M", 0), once());
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
        assert_eq!(l.verdict(NodeId(2), NodeId(1), "M", 0), Verdict::Drop);
        match l.verdict(NodeId(1), NodeId(2), "M", 0) {
            Verdict::Deliver { copies } => {
                assert_eq!(copies.len(), 2);
                assert!(copies.iter().all(|c| c.delay_ms <= 5 && c.latency_ms == 1));
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
            .filter(|_| l.verdict(NodeId(1), NodeId(3), "M", 0) == Verdict::Drop)
            .count();
        assert!(
            (2_500..3_500).contains(&dropped),
            "dropped {dropped} of 10000 at p=0.3"
        );
        l.clear();
        assert_eq!(l.verdict(NodeId(1), NodeId(3), "M", 0), once());
    }

    /// A targeted rule hits only its message kinds (and link), only inside its window,
    /// and overrides the link's own rates; `clear` removes it.
    #[test]
    fn targeted_rules_hit_their_kinds_inside_their_window() {
        let mut l = layer();
        let dup = LinkFaults {
            duplicate_probability: 1.0,
            ..Default::default()
        };
        l.set(
            None,
            LinkFaults {
                drop_probability: 1.0,
                ..Default::default()
            },
        );
        l.set_targeted(
            &["Accepted".to_string()],
            Some((NodeId(1), NodeId(2))),
            dup,
            50,
        );
        let twice = |v: Verdict| matches!(v, Verdict::Deliver { copies } if copies.len() == 2);
        assert!(twice(l.verdict(NodeId(1), NodeId(2), "Accepted", 10)));
        assert!(twice(l.verdict(NodeId(1), NodeId(2), "Accepted", 49)));
        // Outside the window, another kind, or another link: the global drop.
        assert_eq!(
            l.verdict(NodeId(1), NodeId(2), "Accepted", 50),
            Verdict::Drop
        );
        assert_eq!(
            l.verdict(NodeId(1), NodeId(2), "Promise", 10),
            Verdict::Drop
        );
        assert_eq!(
            l.verdict(NodeId(2), NodeId(1), "Accepted", 10),
            Verdict::Drop
        );
        l.clear();
        assert_eq!(l.verdict(NodeId(1), NodeId(2), "Accepted", 10), once());
    }

    /// A crash trigger fires on its node's n-th send of its kind (counted from arming),
    /// once; sends of other kinds or by other nodes do not count; `clear` disarms.
    #[test]
    fn crash_triggers_fire_on_the_nth_send_of_their_kind() {
        let mut l = layer();
        l.arm_crash(NodeId(3), "Promise", 2, Some(5));
        l.verdict(NodeId(3), NodeId(1), "Promise", 0);
        l.verdict(NodeId(3), NodeId(1), "Accepted", 0);
        l.verdict(NodeId(2), NodeId(1), "Promise", 0);
        assert!(!l.crash_requested());
        l.verdict(NodeId(3), NodeId(2), "Promise", 1);
        assert_eq!(
            l.take_crash_requests(),
            vec![CrashRequest {
                node: NodeId(3),
                down_ms: Some(5)
            }]
        );
        l.verdict(NodeId(3), NodeId(2), "Promise", 2);
        assert!(!l.crash_requested(), "a trigger fires once");
        l.arm_crash(NodeId(3), "Promise", 1, None);
        l.clear();
        l.verdict(NodeId(3), NodeId(2), "Promise", 3);
        assert!(!l.crash_requested(), "clear disarms");
    }

    /// Pending restarts come out when due, earliest first, and not before.
    #[test]
    fn pending_restarts_come_out_when_due() {
        let mut r = PendingRestarts::default();
        r.push(30, NodeId(2));
        r.push(10, NodeId(1));
        assert_eq!(r.next_ms(), Some(10));
        assert_eq!(r.take_due(9), vec![]);
        assert_eq!(r.take_due(30), vec![NodeId(1), NodeId(2)]);
        assert_eq!(r.next_ms(), None);
    }

    /// The latency follows turmoil's curve: for 1..=10 ms, the chance of `min + k` is
    /// `e^(-5k/9) - e^(-5(k+1)/9)` for k < 9, and `e^-5` at the cap. 100,000 draws are
    /// compared with those chances (each within 1% absolute), and every draw stays in
    /// range.
    #[test]
    fn latency_matches_turmoils_truncated_exponential() {
        let mut rng = crate::rng::stream_rng(11, crate::rng::Stream::Latency { node: NodeId(1) });
        let draws = 100_000;
        let mut counts = [0u64; 10];
        for _ in 0..draws {
            let ms = latency_ms(&mut rng, 1, 10);
            assert!((1..=10).contains(&ms), "latency {ms} out of 1..=10");
            counts[(ms - 1) as usize] += 1;
        }
        for (k, &count) in counts.iter().enumerate() {
            let expected = if k < 9 {
                (-5.0 * k as f64 / 9.0).exp() - (-5.0 * (k + 1) as f64 / 9.0).exp()
            } else {
                (-5.0f64).exp()
            };
            let seen = count as f64 / draws as f64;
            assert!(
                (seen - expected).abs() < 0.01,
                "P(latency = {} ms) is {seen:.4}, turmoil's is {expected:.4}",
                k + 1
            );
        }
        assert_eq!(
            latency_ms(&mut rng, 4, 4),
            4,
            "an empty range gives its bound"
        );
    }

    /// A sender's draws depend on its own messages only: another node sending in
    /// between (in either order) changes nothing, which is what lets both worlds order
    /// different nodes' work within a millisecond as they like.
    #[test]
    fn draws_are_per_sender() {
        let rates = LinkFaults {
            drop_probability: 0.3,
            duplicate_probability: 0.3,
            delay_ms_max: 20,
        };
        let run = |interleave: bool| {
            let mut l = FaultLayer::new(9, 1, 10);
            l.set(None, rates);
            let mut mine = Vec::new();
            for i in 0..200 {
                if interleave && i % 3 == 0 {
                    l.verdict(NodeId(2), NodeId(1), "M", i);
                }
                mine.push(l.verdict(NodeId(1), NodeId(2), "M", i));
            }
            mine
        };
        assert_eq!(run(false), run(true));
    }
}
