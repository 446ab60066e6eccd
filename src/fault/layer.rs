//! The per-message fault layer. turmoil can partition links and hold messages, but it
//! cannot duplicate a datagram, and its `fail_rate` takes a whole link down rather than
//! losing single messages; this layer decides each message's fate from the network's
//! own seeded stream.

use super::LinkFaults;
use crate::ids::NodeId;
use crate::rng::Draw;
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
    rng: ChaCha8Rng,
}

/// Most targeted rules and armed triggers the layer holds; a schedule has at most
/// [`super::EVENTS_MAX`] events, so this is never reached by a valid one.
const RULES_MAX: usize = super::EVENTS_MAX;

impl FaultLayer {
    pub fn new(rng: ChaCha8Rng) -> Self {
        FaultLayer {
            global: LinkFaults::default(),
            links: BTreeMap::new(),
            targeted: Vec::new(),
            triggers: Vec::new(),
            fired: Vec::new(),
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

    /// No more faults: the liveness phase. Rates, targeted rules, armed triggers and
    /// crash requests not yet taken are all dropped.
    pub fn clear(&mut self) {
        self.set(None, LinkFaults::default());
        self.targeted.clear();
        self.triggers.clear();
        self.fired.clear();
    }

    /// Decide the fate of a message of kind `kind` from `from` to `to`, sent at
    /// `now_ms`, and count it toward `from`'s crash triggers. Always draws the same four
    /// numbers, whatever the rates, so changing one rate (as shrinking does) does not
    /// shift the draws of every later message.
    pub fn verdict(&mut self, from: NodeId, to: NodeId, kind: &str, now_ms: u64) -> Verdict {
        self.count_send(from, kind);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream_rng, Stream};

    fn layer() -> FaultLayer {
        FaultLayer::new(stream_rng(5, Stream::Network))
    }

    /// With no faults every message is delivered once, at once.
    #[test]
    fn quiet_layer_delivers_everything_once() {
        let mut l = layer();
        for _ in 0..100 {
            assert_eq!(
                l.verdict(NodeId(1), NodeId(2), "M", 0),
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
        assert_eq!(l.verdict(NodeId(2), NodeId(1), "M", 0), Verdict::Drop);
        match l.verdict(NodeId(1), NodeId(2), "M", 0) {
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
            .filter(|_| l.verdict(NodeId(1), NodeId(3), "M", 0) == Verdict::Drop)
            .count();
        assert!(
            (2_500..3_500).contains(&dropped),
            "dropped {dropped} of 10000 at p=0.3"
        );
        l.clear();
        assert_eq!(
            l.verdict(NodeId(1), NodeId(3), "M", 0),
            Verdict::Deliver { delays_ms: vec![0] }
        );
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
        let twice =
            |v: Verdict| matches!(v, Verdict::Deliver { delays_ms } if delays_ms.len() == 2);
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
        assert_eq!(
            l.verdict(NodeId(1), NodeId(2), "Accepted", 10),
            Verdict::Deliver { delays_ms: vec![0] }
        );
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
}
