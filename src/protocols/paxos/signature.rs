//! Paxos's coverage signature for guided search (`explore --guided`,
//! [`crate::protocol::Core::signature`]): the order relations between ballots that
//! Paxos's correctness argument is about, as each node sees them.
//!
//! The generic signature (which event kind followed which, per node) cannot tell a
//! run in which an acceptor accepted *below* a ballot it promised before a restart from
//! one in which it accepted above it: both are `recv Accept` then `accepted`. The hard
//! planted bugs live exactly there, so the signature names those relations:
//! - an acceptor's promise or acceptance against what it promised and accepted in
//!   earlier lives (below, equal, above; same value or not), and whether it restarted
//!   in between (`acceptor_forgets_promise`, `acceptor_forgets_accepted`);
//! - a proposer's ballot after a restart against the ballots it used before
//!   (`proposer_forgets_round`), and whether its phase 2 sends its own value or an
//!   adopted one, adopted from which ballot (`proposer_adopts_first_value`);
//! - how many ballots and values a learner heard acceptances of before it learned
//!   (`learner_mixes_ballots`, `learner_counts_duplicates`);
//! - a message that arrives after its sender restarted, or after its receiver did,
//!   by kind: what was in flight at a crash racing what the node does after it
//!   (`proposer_forgets_round`: a promise meant for the proposer's earlier life
//!   counted for the ballot it reuses).
//!
//! Each relation is a small enum, so the signature has a few hundred possible
//! features; a run that shows one no earlier run showed is kept and mutated.

use super::{Ballot, Msg, Node, Note};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::value::Value;
use hashbrown::HashMap;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// How a ballot compares with an earlier one, if there was one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rel {
    None,
    Below,
    Equal,
    Above,
}

fn rel(ballot: Ballot, earlier: Option<Ballot>) -> Rel {
    match earlier.map(|e| ballot.cmp(&e)) {
        None => Rel::None,
        Some(Ordering::Less) => Rel::Below,
        Some(Ordering::Equal) => Rel::Equal,
        Some(Ordering::Greater) => Rel::Above,
    }
}

/// 1, 2, or 3 and more.
fn few(n: usize) -> u8 {
    n.min(3) as u8
}

/// One abstract fact about a run. Hashed into a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fact {
    /// An acceptor promised: against its highest promise of earlier lives and of
    /// this life, and whether it restarted since its last promise.
    Promise {
        to_earlier_lives: Rel,
        to_this_life: Rel,
        restarted_since: bool,
    },
    /// An acceptor accepted: against its highest promise of earlier lives and of this
    /// one, against what it had accepted (same value or not), restarted since.
    Accept {
        to_promise_earlier_lives: Rel,
        to_promise_this_life: Rel,
        to_accepted: Rel,
        same_value: Option<bool>,
        restarted_since_promise: bool,
    },
    /// A proposer sent a prepare: against the highest ballot it used in earlier lives
    /// and in this one, and how many lives it has had.
    Prepare {
        to_earlier_lives: Rel,
        to_this_life: Rel,
        lives: u8,
    },
    /// A proposer sent phase 2: its own value or not, adopted from whose ballot,
    /// whether the ballot was one it had used in an earlier life, and how many of the
    /// promises it heard for the ballot were sent to an earlier life of it (and of
    /// those, how many carried an accepted value): a phase 1 that a reply meant for
    /// the proposer's previous life helped complete.
    Phase2 {
        own_value: bool,
        adopted_from_own: Option<bool>,
        reused_ballot: bool,
        stale_promises: u8,
        stale_carrying: u8,
    },
    /// A proposer heard a promise carrying an accepted value: how many distinct
    /// accepted ballots and values it has heard in this phase 1.
    PromiseCarried { ballots: u8, values: u8 },
    /// A learner heard an acceptance: how many ballots the value has been heard at,
    /// how many values, and how many copies from the same acceptor at one ballot.
    Heard {
        ballots_of_value: u8,
        values: u8,
        repeats: u8,
        /// Distinct acceptors heard for the value over all ballots, and at its best
        /// single ballot: a quorum that exists only across ballots is one step from
        /// a learner that mixes them.
        acceptors_of_value: u8,
        acceptors_at_best_ballot: u8,
    },
    /// A node received a message its sender sent in an earlier life (the sender has
    /// restarted since): what it did before a crash still arrives after it, racing
    /// what it does now (an accept of a ballot a restarted proposer runs again).
    FromEarlierLife { kind: &'static str },
    /// A node received a message sent to it before it last restarted: a reply meant
    /// for its earlier life (a promise for a ballot it runs again) reaching this one.
    ToEarlierLife { kind: &'static str },
    /// A learner learned: the same counts at that moment, and whether it restarted.
    Learned {
        ballots_of_value: u8,
        values: u8,
        restarted: bool,
    },
}

/// The distinct facts of a run, in the order first shown. A run shows thousands of
/// facts but only a few dozen distinct ones, so each is kept (and later hashed) once.
#[derive(Default)]
struct Facts(Vec<Fact>);

impl Facts {
    fn push(&mut self, fact: Fact) {
        if !self.0.contains(&fact) {
            self.0.push(fact);
        }
    }
}

/// What a learner heard of one value.
struct HeardValue {
    value: Value,
    /// The ballots it was heard at, each with the acceptors heard at it.
    ballots: Vec<(Ballot, Vec<NodeId>)>,
    /// The distinct acceptors heard for it over all ballots.
    acceptors: Vec<NodeId>,
    /// The most acceptors heard for it at one ballot.
    acceptors_at_best_ballot: usize,
}

/// What one node has shown so far.
#[derive(Default)]
struct Seen {
    lives: usize,
    /// Highest promise (acceptor) or prepare ballot (proposer) in earlier lives, and
    /// in this life.
    promised_before: Option<Ballot>,
    promised_now: Option<Ballot>,
    restarted_since_promise: bool,
    accepted: Option<(Ballot, Value)>,
    prepared_before: Option<Ballot>,
    prepared_now: Option<Ballot>,
    /// Ballots this proposer used in earlier lives.
    used_before: BTreeSet<Ballot>,
    proposed: Option<Value>,
    adopted_from: Option<Ballot>,
    /// Accepted (ballot, value) pairs heard in the current phase 1 (proposer), and how
    /// many distinct ballots and values among them.
    carried: Vec<(Ballot, Value)>,
    carried_ballots: usize,
    carried_values: usize,
    /// Promises for the current ballot heard in this life that were sent to an
    /// earlier life (proposer), and how many of them carried an accepted value.
    stale_promises: usize,
    stale_carrying: usize,
    /// Acceptances heard (learner), by value in the order first heard.
    heard: Vec<HeardValue>,
    /// Acceptances heard (learner): copies by (acceptor, ballot).
    copies: HashMap<(NodeId, Ballot), usize, Quick>,
}

impl Seen {
    fn counts(&self, value: &Value) -> (u8, u8) {
        let ballots = self
            .heard
            .iter()
            .find(|h| &h.value == value)
            .map_or(0, |h| h.ballots.len());
        (few(ballots), few(self.heard.len()))
    }
}

/// Each node's [`Seen`], by node id (ids are small and dense).
#[derive(Default)]
struct Nodes(Vec<Seen>);

impl Nodes {
    fn get(&mut self, node: NodeId) -> &mut Seen {
        let i = usize::from(node.0);
        if self.0.len() <= i {
            self.0.resize_with(i + 1, Seen::default);
        }
        &mut self.0[i]
    }

    /// How many times `node` has restarted (0 if it has shown nothing yet).
    fn lives(&self, node: NodeId) -> usize {
        self.0.get(usize::from(node.0)).map_or(0, |s| s.lives)
    }
}

/// A hasher for the signature's own small keys (node ids, ballots, message ids):
/// the maps live for one call, are only looked up (never iterated, so their order
/// cannot reach a feature) and hold no untrusted input, so a fixed multiply-and-rotate
/// fold is enough, and several times cheaper than SipHash.
#[derive(Default, Clone, Copy)]
struct QuickHasher(u64);

impl Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        // The product's high bits are its best mixed: fold them into the low ones,
        // which pick the bucket.
        self.0 ^ (self.0 >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type Quick = BuildHasherDefault<QuickHasher>;

/// Most messages in flight the signature follows (a bound on its memory; a run with
/// more simply shows fewer `ToEarlierLife` facts).
const IN_FLIGHT_MAX: usize = 100_000;

/// The run's Paxos signature: one hashed feature per distinct fact.
pub fn signature(history: &History<Node>) -> Vec<u64> {
    let mut nodes = Nodes::default();
    let mut facts = Facts::default();
    // Messages in flight: (sender, message id) -> the receiver's lives when sent.
    let mut sent_to_life: HashMap<(NodeId, u64), usize, Quick> = HashMap::default();
    for event in &history.events {
        match &event.kind {
            EventKind::Restarted { node } => {
                let seen = nodes.get(*node);
                seen.lives += 1;
                seen.promised_before = seen.promised_before.max(seen.promised_now.take());
                seen.prepared_before = seen.prepared_before.max(seen.prepared_now.take());
                seen.stale_promises = 0;
                seen.stale_carrying = 0;
                seen.restarted_since_promise = true;
            }
            EventKind::Protocol(note) => {
                let Some(node) = event.node else { continue };
                note_fact(nodes.get(node), note, &mut facts);
            }
            EventKind::Sent { msg, to, msg_id } => {
                let Some(node) = event.node else { continue };
                if sent_to_life.len() < IN_FLIGHT_MAX {
                    sent_to_life.insert((node, *msg_id), nodes.lives(*to));
                }
                sent_fact(nodes.get(node), msg, &mut facts);
            }
            EventKind::Delivered { from, msg, msg_id } => {
                let Some(node) = event.node else { continue };
                // A message id carries its sender's incarnation in its high half.
                if msg_id >> 32 < nodes.lives(*from) as u64 {
                    facts.push(Fact::FromEarlierLife {
                        kind: msg.kind_name(),
                    });
                }
                let lives = nodes.lives(node);
                let stale = sent_to_life
                    .remove(&(*from, *msg_id))
                    .is_some_and(|at| at < lives);
                if stale {
                    facts.push(Fact::ToEarlierLife {
                        kind: msg.kind_name(),
                    });
                }
                delivered_fact(nodes.get(node), *from, msg, stale, &mut facts);
            }
            _ => {}
        }
    }
    let mut features: Vec<u64> = facts
        .0
        .iter()
        .map(|fact| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            ("paxos", fact).hash(&mut h);
            h.finish()
        })
        .collect();
    features.sort_unstable();
    features.dedup();
    features
}

fn note_fact(seen: &mut Seen, note: &Note, facts: &mut Facts) {
    match note {
        Note::Proposed { value } => seen.proposed = Some(value.clone()),
        Note::Promised { ballot } => {
            facts.push(Fact::Promise {
                to_earlier_lives: rel(*ballot, seen.promised_before),
                to_this_life: rel(*ballot, seen.promised_now),
                restarted_since: seen.restarted_since_promise,
            });
            seen.promised_now = seen.promised_now.max(Some(*ballot));
            seen.restarted_since_promise = false;
        }
        Note::Accepted { ballot, value } => {
            facts.push(Fact::Accept {
                to_promise_earlier_lives: rel(*ballot, seen.promised_before),
                to_promise_this_life: rel(*ballot, seen.promised_now),
                to_accepted: rel(*ballot, seen.accepted.as_ref().map(|a| a.0)),
                same_value: seen.accepted.as_ref().map(|a| &a.1 == value),
                restarted_since_promise: seen.restarted_since_promise,
            });
            seen.accepted = Some((*ballot, value.clone()));
        }
        Note::Adopted { from_ballot, .. } => seen.adopted_from = Some(*from_ballot),
        Note::Learned { value, .. } => {
            let (ballots_of_value, values) = seen.counts(value);
            facts.push(Fact::Learned {
                ballots_of_value,
                values,
                restarted: seen.lives > 0,
            });
        }
        _ => {}
    }
}

fn sent_fact(seen: &mut Seen, msg: &Msg, facts: &mut Facts) {
    match msg {
        Msg::Prepare { ballot } if seen.prepared_now != Some(*ballot) => {
            facts.push(Fact::Prepare {
                to_earlier_lives: rel(*ballot, seen.prepared_before),
                to_this_life: rel(*ballot, seen.prepared_now),
                lives: few(seen.lives),
            });
            if let Some(now) = seen.prepared_now {
                seen.used_before.insert(now);
            }
            seen.prepared_now = Some(*ballot);
            seen.carried.clear();
            seen.carried_ballots = 0;
            seen.carried_values = 0;
            seen.stale_promises = 0;
            seen.stale_carrying = 0;
            seen.adopted_from = None;
        }
        Msg::Accept { ballot, value } => {
            let own_value = seen.proposed.as_ref() == Some(value);
            let fact = Fact::Phase2 {
                own_value,
                adopted_from_own: seen.adopted_from.map(|b| Some(b.proposer) == own(seen)),
                reused_ballot: seen.used_before.contains(ballot)
                    || seen.prepared_before.is_some_and(|b| b >= *ballot),
                stale_promises: few(seen.stale_promises),
                stale_carrying: few(seen.stale_carrying),
            };
            facts.push(fact);
        }
        _ => {}
    }
}

/// The proposer id in this node's ballots, if it has prepared one.
fn own(seen: &Seen) -> Option<NodeId> {
    seen.prepared_now
        .or(seen.prepared_before)
        .map(|b| b.proposer)
}

fn delivered_fact(seen: &mut Seen, from: NodeId, msg: &Msg, stale: bool, facts: &mut Facts) {
    if let Msg::Promise { ballot, accepted } = msg {
        if stale && seen.prepared_now == Some(*ballot) {
            seen.stale_promises += 1;
            seen.stale_carrying += usize::from(accepted.is_some());
        }
    }
    match msg {
        Msg::Promise {
            accepted: Some((ballot, value)),
            ..
        } => {
            if !seen.carried.iter().any(|(b, v)| b == ballot && v == value) {
                seen.carried_ballots += usize::from(!seen.carried.iter().any(|c| c.0 == *ballot));
                seen.carried_values += usize::from(!seen.carried.iter().any(|c| &c.1 == value));
                seen.carried.push((*ballot, value.clone()));
            }
            facts.push(Fact::PromiseCarried {
                ballots: few(seen.carried_ballots),
                values: few(seen.carried_values),
            });
        }
        Msg::Accepted { ballot, value } => {
            let at = match seen.heard.iter().position(|h| &h.value == value) {
                Some(at) => at,
                None => {
                    seen.heard.push(HeardValue {
                        value: value.clone(),
                        ballots: Vec::new(),
                        acceptors: Vec::new(),
                        acceptors_at_best_ballot: 0,
                    });
                    seen.heard.len() - 1
                }
            };
            let heard = &mut seen.heard[at];
            let at_ballot = match heard.ballots.iter().position(|(b, _)| b == ballot) {
                Some(i) => i,
                None => {
                    heard.ballots.push((*ballot, Vec::new()));
                    heard.ballots.len() - 1
                }
            };
            let acceptors = &mut heard.ballots[at_ballot].1;
            if !acceptors.contains(&from) {
                acceptors.push(from);
                heard.acceptors_at_best_ballot =
                    heard.acceptors_at_best_ballot.max(acceptors.len());
                if !heard.acceptors.contains(&from) {
                    heard.acceptors.push(from);
                }
            }
            let (ballots_of_value, acceptors_of_value, best) = (
                few(heard.ballots.len()),
                few(heard.acceptors.len()),
                few(heard.acceptors_at_best_ballot),
            );
            let copies = seen.copies.entry((from, *ballot)).or_default();
            *copies += 1;
            facts.push(Fact::Heard {
                ballots_of_value,
                values: few(seen.heard.len()),
                repeats: few(*copies),
                acceptors_of_value,
                acceptors_at_best_ballot: best,
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(round: u64, proposer: u16) -> Ballot {
        Ballot::new(round, NodeId(proposer))
    }

    /// An acceptor's life: promise `promised`, restart, then accept `accepted`.
    fn promise_restart_accept(promised: Ballot, accepted: Ballot) -> History<Node> {
        let a = Some(NodeId(1));
        let mut h = History::default();
        h.push(
            1,
            a,
            EventKind::Protocol(Note::Promised { ballot: promised }),
        );
        h.push(2, None, EventKind::Restarted { node: NodeId(1) });
        let value = Value::new("v");
        h.push(
            3,
            a,
            EventKind::Protocol(Note::Accepted {
                ballot: accepted,
                value,
            }),
        );
        h
    }

    /// What the signature is for: an acceptor that accepts below the promise it made
    /// before a restart (what `acceptor_forgets_promise` makes possible) shows a fact
    /// that accepting above it does not, so guided search keeps such a run; and the
    /// same run gives the same features every time.
    #[test]
    fn accepting_below_an_earlier_lifes_promise_is_a_fact_of_its_own() {
        let below = signature(&promise_restart_accept(b(5, 2), b(3, 3)));
        let above = signature(&promise_restart_accept(b(5, 2), b(6, 3)));
        let below_again = signature(&promise_restart_accept(b(7, 2), b(4, 3)));
        assert_eq!(below.len(), 2, "a promise and an acceptance: {below:?}");
        assert_ne!(below, above);
        assert_eq!(
            below, below_again,
            "relations, not ballot numbers, are the facts"
        );
    }

    /// An accept that arrives after its proposer restarted (sent in its earlier life,
    /// as its message id says) shows a fact that one from its current life does not.
    #[test]
    fn a_message_from_an_earlier_life_is_a_fact_of_its_own() {
        let run = |msg_id: u64| {
            let mut h: History<Node> = History::default();
            h.push(1, None, EventKind::Restarted { node: NodeId(4) });
            let msg = Msg::Accept {
                ballot: b(1, 4),
                value: Value::new("v"),
            };
            h.push(
                2,
                Some(NodeId(1)),
                EventKind::Delivered {
                    from: NodeId(4),
                    msg_id,
                    msg,
                },
            );
            signature(&h)
        };
        let current_life = (1 << 32) | 1;
        assert_eq!(run(current_life), Vec::<u64>::new());
        assert_eq!(run(1).len(), 1, "the earlier life's accept is one fact");
    }

    /// A promise sent to a proposer before it restarted and delivered after (a reply
    /// meant for its earlier life) shows a fact that one sent after the restart does
    /// not.
    #[test]
    fn a_reply_to_an_earlier_life_is_a_fact_of_its_own() {
        let run = |restart_before_send: bool| {
            let mut h: History<Node> = History::default();
            let restart = EventKind::Restarted { node: NodeId(4) };
            let msg = Msg::Promise {
                ballot: b(1, 4),
                accepted: None,
            };
            if restart_before_send {
                h.push(1, None, restart.clone());
            }
            let sent = EventKind::Sent {
                to: NodeId(4),
                msg_id: 7,
                msg: msg.clone(),
            };
            h.push(2, Some(NodeId(1)), sent);
            if !restart_before_send {
                h.push(3, None, restart);
            }
            let delivered = EventKind::Delivered {
                from: NodeId(1),
                msg_id: 7,
                msg,
            };
            h.push(4, Some(NodeId(4)), delivered);
            signature(&h)
        };
        assert_eq!(run(true), Vec::<u64>::new());
        assert_eq!(run(false).len(), 1, "the stale promise is one fact");
    }

    /// A proposer that prepares after a restart with a ballot it used before (what
    /// `proposer_forgets_round` does) shows a fact that a higher ballot does not.
    #[test]
    fn a_ballot_reused_after_a_restart_is_a_fact_of_its_own() {
        let run = |second: Ballot| {
            let p = Some(NodeId(4));
            let mut h: History<Node> = History::default();
            let prepare = |ballot| EventKind::Sent {
                to: NodeId(1),
                msg_id: 0,
                msg: Msg::Prepare { ballot },
            };
            h.push(1, p, prepare(b(1, 4)));
            h.push(2, None, EventKind::Restarted { node: NodeId(4) });
            h.push(3, p, prepare(second));
            signature(&h)
        };
        assert_ne!(run(b(1, 4)), run(b(2, 4)));
    }

    /// A proposer whose phase 2 follows a promise for its ballot sent to its earlier
    /// life (a restart between the promise's send and its delivery) shows a fact that
    /// the same run does not when the stale promise was for another ballot (so it does
    /// not count): the step toward `proposer_forgets_round`, which needs such promises
    /// to complete the quorum of a ballot it reuses. With or without an accepted value
    /// in the promise.
    #[test]
    fn a_phase_2_helped_by_a_stale_promise_is_a_fact_of_its_own() {
        let run = |ballot: Ballot, carried: bool| {
            let p = Some(NodeId(4));
            let mut h: History<Node> = History::default();
            let promise = Msg::Promise {
                ballot: b(1, 4),
                accepted: carried.then(|| (b(1, 2), Value::new("w"))),
            };
            let sent = EventKind::Sent {
                to: NodeId(4),
                msg_id: 7,
                msg: promise.clone(),
            };
            h.push(1, Some(NodeId(1)), sent);
            h.push(2, None, EventKind::Restarted { node: NodeId(4) });
            let prepare = EventKind::Sent {
                to: NodeId(1),
                msg_id: 1 << 32,
                msg: Msg::Prepare { ballot },
            };
            h.push(3, p, prepare);
            let delivered = EventKind::Delivered {
                from: NodeId(1),
                msg_id: 7,
                msg: promise,
            };
            h.push(4, p, delivered);
            let accept = EventKind::Sent {
                to: NodeId(1),
                msg_id: (1 << 32) | 1,
                msg: Msg::Accept {
                    ballot,
                    value: Value::new("v"),
                },
            };
            h.push(5, p, accept);
            signature(&h)
        };
        for carried in [false, true] {
            let counted = run(b(1, 4), carried);
            let other_ballot = run(b(2, 4), carried);
            assert_eq!(counted.len(), other_ballot.len(), "{counted:?}");
            assert_ne!(counted, other_ballot, "carried: {carried}");
        }
        assert_ne!(run(b(1, 4), false), run(b(1, 4), true));
    }
}
