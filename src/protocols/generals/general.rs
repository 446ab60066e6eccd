//! One general of OM(m) as a sans-IO state machine: the commander sends its order in
//! round 0; in each round `k` in `1..=m` every lieutenant relays, to every other
//! lieutenant, what it took in round `k - 1`; after round `m` each lieutenant decides
//! by the recursive majority of Lamport, Shostak and Pease (1982), a missing order
//! counting as the default, [`RETREAT`]. See the module docs of `super` for the
//! rounds, the synchrony bound and the planted bugs.

mod strategy;

pub use strategy::STRATEGIES;

use crate::ids::NodeId;
use crate::protocol::{BasicEvent, Context, Core, CoreInput, CoreOutput, NoLog, Observation};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// The order to attack.
pub const ATTACK: &str = "attack";
/// The order to retreat, and the default a lieutenant takes for an order it never got.
pub const RETREAT: &str = "retreat";
/// The most rounds of relaying a scenario may ask for (`params.m`).
pub const M_MAX: u32 = 3;
/// The message kinds, by round: the commander's order, then each relay round.
pub const KINDS: [&str; 1 + M_MAX as usize] = ["order", "relay_1", "relay_2", "relay_3"];

/// Whether `order` is one of the two orders.
pub fn is_order(order: &Value) -> bool {
    order.as_str() == ATTACK || order.as_str() == RETREAT
}

/// The other order.
pub fn other(order: &Value) -> Value {
    Value::new(if order.as_str() == ATTACK {
        RETREAT
    } else {
        ATTACK
    })
}

/// A chain of generals: the commander, then each lieutenant that relayed the order, the
/// last one being the general that sent it. In round `k` a path has `k + 1` generals.
pub type Path = Vec<NodeId>;

/// One relayed order: "the generals of `path`, in turn, said `order`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: Path,
    pub order: Value,
}

/// Everything one general sends another in one round: the commander's order (round 0)
/// or a lieutenant's relays (round `k`, every path of `k + 1` generals ending with the
/// sender). One message per round keeps a lie whole: a receiver takes a general's
/// first message of a round and ignores its re-sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orders {
    pub round: u32,
    pub entries: Vec<Entry>,
}

impl fmt::Display for Orders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Orders(r={}", self.round)?;
        for e in &self.entries {
            let path: Vec<String> = e.path.iter().map(|n| n.to_string()).collect();
            write!(f, ", {}={}", path.join(">"), e.order)?;
        }
        f.write_str(")")
    }
}

/// What a general keeps on disk: its own order (the commander), every order it took
/// (by path), which general's message of which round it took, and its decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralState {
    pub order: Option<Value>,
    pub received: Vec<Entry>,
    pub taken: Vec<(NodeId, u32)>,
    pub decided: Option<Value>,
}

impl fmt::Display for GeneralState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "order={} received={} decided={}",
            show(&self.order),
            self.received.len(),
            show(&self.decided)
        )
    }
}

/// The one timer: every `resend_ms` in round 0 the commander (re)sends its order; at
/// the start of each later round a lieutenant relays, and after the last it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tick;

/// What every general of a run shares: who commands, the rounds, the timing, the bugs.
#[derive(Debug, Clone)]
pub struct Config {
    pub commander: NodeId,
    /// Every general, the commander first.
    pub members: Vec<NodeId>,
    /// OM(m): the rounds of relaying.
    pub m: u32,
    pub round_ms: u64,
    pub resend_ms: u64,
    /// Planted bug `majority_without_default`.
    pub no_default: bool,
    /// Planted bug `trusts_the_path`.
    pub trusts_the_path: bool,
}

/// One general.
#[derive(Debug, Clone)]
pub struct General {
    id: NodeId,
    config: Arc<Config>,
    order: Option<Value>,
    received: BTreeMap<Path, Value>,
    taken: BTreeSet<(NodeId, u32)>,
    decided: Option<Value>,
    /// The adversary `two_faced` (`crate::fault::Fault::Strategy`): its sends to the
    /// second half of their receivers carry every order turned.
    two_faced: bool,
}

impl General {
    pub fn new(id: NodeId, config: Arc<Config>) -> Self {
        assert!(config.members.contains(&id), "{id} is not a general");
        General {
            id,
            config,
            order: None,
            received: BTreeMap::new(),
            taken: BTreeSet::new(),
            decided: None,
            two_faced: false,
        }
    }

    /// This general as the traitor `two_faced` (its identity unchanged).
    pub fn two_faced(mut self) -> Self {
        self.two_faced = true;
        self
    }

    fn is_commander(&self) -> bool {
        self.id == self.config.commander
    }

    pub fn state(&self) -> GeneralState {
        GeneralState {
            order: self.order.clone(),
            received: self
                .received
                .iter()
                .map(|(path, order)| Entry {
                    path: path.clone(),
                    order: order.clone(),
                })
                .collect(),
            taken: self.taken.iter().copied().collect(),
            decided: self.decided.clone(),
        }
    }

    pub fn decided(&self) -> Option<&Value> {
        self.decided.as_ref()
    }

    /// The round under way at `now_ms`.
    fn round_at(&self, now_ms: u64) -> u64 {
        now_ms / self.config.round_ms
    }

    /// The lieutenants: every general but the commander.
    fn lieutenants(&self) -> impl Iterator<Item = NodeId> + '_ {
        let commander = self.config.commander;
        self.config
            .members
            .iter()
            .copied()
            .filter(move |&n| n != commander)
    }

    /// Every path of `len` distinct generals starting with the commander and avoiding
    /// `avoid`: the paths whose orders a lieutenant holds after round `len - 1`.
    fn paths(&self, len: usize, avoid: &[NodeId]) -> Vec<Path> {
        let mut out = vec![vec![self.config.commander]];
        for _ in 1..len {
            let mut next = Vec::new();
            for p in &out {
                for l in self.lieutenants() {
                    if !p.contains(&l) && !avoid.contains(&l) {
                        let mut q = p.clone();
                        q.push(l);
                        next.push(q);
                    }
                }
            }
            out = next;
        }
        out
    }

    /// The order taken for `path`: what arrived, or the default for a missing one
    /// (with the planted bug, nothing).
    fn value(&self, path: &Path) -> Option<Value> {
        match self.received.get(path) {
            Some(order) => Some(order.clone()),
            None if self.config.no_default => None,
            None => Some(Value::new(RETREAT)),
        }
    }

    /// This lieutenant's message of round `round` to lieutenant `to`: for every path of
    /// `round` generals that names neither of them, the order taken for it, with this
    /// lieutenant added to the path.
    fn relay(&self, round: u32, to: NodeId) -> Orders {
        let entries = self
            .paths(round as usize, &[self.id, to])
            .into_iter()
            .filter_map(|path| {
                let order = self.value(&path)?;
                let mut path = path;
                path.push(self.id);
                Some(Entry { path, order })
            })
            .collect();
        Orders { round, entries }
    }

    /// OM's decision for the sub-protocol whose commander ended `path`: the order
    /// taken for `path` itself and, unless it was the last round, the decisions of
    /// every sub-protocol one general deeper, by majority (no majority: the default).
    fn resolve(&self, path: &Path) -> Option<Value> {
        let mut votes = vec![self.value(path)];
        if path.len() <= self.config.m as usize {
            for l in self.lieutenants() {
                if l != self.id && !path.contains(&l) {
                    let mut deeper = path.clone();
                    deeper.push(l);
                    votes.push(self.resolve(&deeper));
                }
            }
        }
        majority(&votes, self.config.no_default)
    }

    /// Send what this general owes in the round under way, or decide after the last
    /// (a two-faced traitor turns the orders it sends to half its receivers).
    fn tick(&mut self, now_ms: u64, out: &mut Vec<CoreOutput<Self>>) {
        let first = out.len();
        self.tick_honestly(now_ms, out);
        if self.two_faced {
            self.turn_half(&mut out[first..]);
        }
    }

    fn tick_honestly(&mut self, now_ms: u64, out: &mut Vec<CoreOutput<Self>>) {
        let round = self.round_at(now_ms);
        let last = u64::from(self.config.m);
        if round > last {
            if !self.is_commander() && self.decided.is_none() {
                let decision = self
                    .resolve(&vec![self.config.commander])
                    .unwrap_or_else(|| Value::new(RETREAT));
                self.decided = Some(decision.clone());
                out.push(CoreOutput::Persist(self.state()));
                out.push(CoreOutput::Event(BasicEvent::Decided(decision)));
            }
            return;
        }
        if self.is_commander() {
            if let (0, Some(order)) = (round, &self.order) {
                for to in self.lieutenants() {
                    out.push(CoreOutput::Send {
                        to,
                        msg: Orders {
                            round: 0,
                            entries: vec![Entry {
                                path: vec![self.id],
                                order: order.clone(),
                            }],
                        },
                    });
                }
            }
        } else if round >= 1 {
            let peers: Vec<NodeId> = self.lieutenants().filter(|&l| l != self.id).collect();
            for to in peers {
                let msg = self.relay(round as u32, to);
                out.push(CoreOutput::Send { to, msg });
            }
        }
        // Round 0 may still be under the schedule's faults, so the commander re-sends
        // its order; from round 1 on the network is quiet (`check_params` holds every
        // fault to round 0), and one message per round arrives.
        let next = if self.is_commander() && round == 0 {
            self.config.resend_ms - now_ms % self.config.resend_ms
        } else {
            self.config.round_ms - now_ms % self.config.round_ms
        };
        out.push(CoreOutput::SetTimer {
            timer: Tick,
            delay_ms_min: next,
            delay_ms_max: next,
        });
    }

    /// Take `msg` from `from` if it is that general's first message of the round under
    /// way; keep each entry that is well formed and new. Returns a note on a refusal.
    fn receive(&mut self, now_ms: u64, from: NodeId, msg: Orders) -> Option<String> {
        if self.is_commander() {
            return None;
        }
        let round = self.round_at(now_ms);
        if u64::from(msg.round) != round || msg.round > self.config.m {
            return Some(format!(
                "ignore {from}'s round {} orders in round {round}",
                msg.round
            ));
        }
        if (msg.round == 0) != (from == self.config.commander) {
            return Some(format!("ignore round {} orders from {from}", msg.round));
        }
        if !self.taken.insert((from, msg.round)) {
            return None;
        }
        let mut refused = 0;
        for Entry { path, order } in msg.entries {
            let distinct: BTreeSet<&NodeId> = path.iter().collect();
            let well_formed = path.len() == msg.round as usize + 1
                && path[0] == self.config.commander
                && distinct.len() == path.len()
                && path.iter().all(|n| self.config.members.contains(n))
                && !path.contains(&self.id)
                && (self.config.trusts_the_path || path.last() == Some(&from))
                && is_order(&order);
            if !well_formed {
                refused += 1;
                continue;
            }
            self.received.entry(path).or_insert(order);
        }
        (refused > 0).then(|| format!("refuse {refused} malformed entries from {from}"))
    }
}

/// The majority of `votes`. Correct: more than half of them, else the default (a
/// missing vote is already the default). With the planted bug, missing votes are left
/// out, and a tie goes to the first vote present (the general's own order).
pub fn majority(votes: &[Option<Value>], no_default: bool) -> Option<Value> {
    let mut counts: BTreeMap<&Value, usize> = BTreeMap::new();
    for v in votes.iter().flatten() {
        *counts.entry(v).or_default() += 1;
    }
    if no_default {
        let most = counts.values().copied().max()?;
        let leaders: Vec<&Value> = counts
            .iter()
            .filter(|(_, &c)| c == most)
            .map(|(v, _)| *v)
            .collect();
        if leaders.len() == 1 {
            return Some(leaders[0].clone());
        }
        return votes.iter().flatten().next().cloned();
    }
    let winner = counts
        .into_iter()
        .find(|(_, c)| 2 * c > votes.len())
        .map(|(v, _)| v.clone());
    Some(winner.unwrap_or_else(|| Value::new(RETREAT)))
}

impl Core for General {
    type Msg = Orders;
    type State = GeneralState;
    type Event = BasicEvent;
    type Timer = Tick;
    type Entry = NoLog;

    /// OM(3) at 10 generals relays 42 orders per message.
    const MESSAGE_BYTES_MAX: usize = 8_192;

    fn msg_kind(msg: &Orders) -> &'static str {
        KINDS.get(msg.round as usize).copied().unwrap_or("relay_3")
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    fn decided_in(state: &GeneralState) -> Option<Value> {
        state.decided.clone()
    }

    /// A traitor's lies about one message: every order turned to the other one; the
    /// message emptied (it says nothing); one order turned (when there are several);
    /// and one order passed off as another lieutenant's relay (a forgery that honest
    /// lieutenants refuse, because a path must end with its sender).
    fn mutations(&self, msg: &Orders) -> Vec<Orders> {
        let with = |entries: Vec<Entry>| Orders {
            round: msg.round,
            entries,
        };
        let mut out = vec![
            with(
                msg.entries
                    .iter()
                    .map(|e| Entry {
                        path: e.path.clone(),
                        order: other(&e.order),
                    })
                    .collect(),
            ),
            with(Vec::new()),
        ];
        if msg.entries.len() > 1 {
            for i in 0..msg.entries.len() {
                let mut entries = msg.entries.clone();
                entries[i].order = other(&entries[i].order);
                out.push(with(entries));
            }
        }
        for e in &msg.entries {
            let Some((_, head)) = e.path.split_last() else {
                continue;
            };
            for l in self.lieutenants() {
                if l != self.id && !head.contains(&l) && e.path.len() > 1 {
                    let mut path = head.to_vec();
                    path.push(l);
                    out.push(with(vec![Entry {
                        path,
                        order: other(&e.order),
                    }]));
                }
            }
        }
        out
    }

    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        match input {
            CoreInput::Start { recovered, .. } => {
                let recovered = recovered.unwrap_or_default();
                self.order = recovered.order;
                self.received = recovered
                    .received
                    .into_iter()
                    .map(|e| (e.path, e.order))
                    .collect();
                self.taken = recovered.taken.into_iter().collect();
                self.decided = recovered.decided;
                self.tick(cx.now_ms, out);
            }
            CoreInput::ClientRequest { value } => {
                out.push(CoreOutput::Event(BasicEvent::Proposed(value.clone())));
                if self.is_commander() && self.order.is_none() && is_order(&value) {
                    self.order = Some(value);
                    out.push(CoreOutput::Persist(self.state()));
                    // Send now; the timer already set re-sends within the round.
                    let mut sends = Vec::new();
                    self.tick(cx.now_ms, &mut sends);
                    out.extend(
                        sends
                            .into_iter()
                            .filter(|o| matches!(o, CoreOutput::Send { .. })),
                    );
                }
            }
            CoreInput::Receive { from, msg } => {
                let before = (self.received.len(), self.taken.len());
                let note = self.receive(cx.now_ms, from, msg);
                if (self.received.len(), self.taken.len()) != before {
                    out.push(CoreOutput::Persist(self.state()));
                }
                if let Some(note) = note {
                    out.push(CoreOutput::Event(BasicEvent::Note(note)));
                }
            }
            CoreInput::TimerFired { timer: Tick } => self.tick(cx.now_ms, out),
        }
    }
}
