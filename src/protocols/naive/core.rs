//! The naive vote as a sans-IO state machine (see the module docs of `crate::naive`
//! for the rules and why they are unsafe).

use crate::ids::NodeId;
use crate::protocol::{BasicEvent, Context, Core, CoreInput, CoreOutput, NoLog, Observation};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Length of a round: every node closes its round and broadcasts this often.
pub const ROUND_MS: u64 = 50;
/// The one kind of message the naive vote sends (the fault layer's label for it).
pub const VOTE_KIND: &str = "vote";

/// The only message: "in round `round` I hold `value`, and last round `votes` nodes
/// (me included) held it".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub round: u64,
    pub value: Value,
    pub votes: u32,
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Vote(r={}, v={}, votes={})",
            self.round, self.value, self.votes
        )
    }
}

/// What a node keeps on disk: the value it holds and its decision. The round and the
/// vote count are recomputed every round, so they are not worth a write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaiveState {
    pub value: Option<Value>,
    pub decided: Option<Value>,
}

impl fmt::Display for NaiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "value={} decided={}",
            show(&self.value),
            show(&self.decided)
        )
    }
}

/// The one timer: the end of the current round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoundEnd;

/// A value with the votes it carries. The derived order is the protocol's rule:
/// the higher value wins, and between equal values the one with more votes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Candidate {
    pub value: Value,
    pub votes: u32,
}

/// The smallest number of nodes that is more than half of `cluster_size`.
pub fn majority(cluster_size: usize) -> usize {
    cluster_size / 2 + 1
}

/// One node of the naive vote.
#[derive(Debug, Clone)]
pub struct NaiveNode {
    id: NodeId,
    /// Every other node of the cluster.
    peers: Vec<NodeId>,
    cluster_size: usize,
    round: u64,
    /// The value this node holds, with the votes it counted for it last round.
    held: Option<Candidate>,
    decided: Option<Value>,
    /// The best vote heard from each peer in the current round.
    heard: BTreeMap<NodeId, Candidate>,
}

impl NaiveNode {
    /// Node `id` of a cluster of `members` (which includes `id`).
    pub fn new(id: NodeId, members: &[NodeId]) -> Self {
        assert!(members.contains(&id), "{id} is not among its own members");
        NaiveNode {
            id,
            peers: members.iter().copied().filter(|&n| n != id).collect(),
            cluster_size: members.len(),
            round: 0,
            held: None,
            decided: None,
            heard: BTreeMap::new(),
        }
    }

    pub fn state(&self) -> NaiveState {
        NaiveState {
            value: self.held.as_ref().map(|c| c.value.clone()),
            decided: self.decided.clone(),
        }
    }

    pub fn held(&self) -> Option<&Candidate> {
        self.held.as_ref()
    }

    pub fn decided(&self) -> Option<&Value> {
        self.decided.as_ref()
    }

    /// Close the current round: adopt the winning vote, count the votes for the value
    /// held, decide on a majority, then open the next round by broadcasting.
    fn close_round(&mut self, out: &mut Vec<CoreOutput<Self>>) {
        let heard = std::mem::take(&mut self.heard);
        if self.decided.is_none() {
            let best = heard
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .filter(|(_, c)| self.held.as_ref().is_none_or(|own| *c > own));
            if let Some((&from, c)) = best {
                if self.held.as_ref().map(|h| &h.value) != Some(&c.value) {
                    let over = self
                        .held
                        .as_ref()
                        .map_or("nothing".to_string(), |h| h.value.to_string());
                    out.push(CoreOutput::Event(BasicEvent::Note(format!(
                        "adopt {} (votes={}) from {from} over {over}",
                        c.value, c.votes
                    ))));
                }
                self.held = Some(c.clone());
            }
        }
        if let Some(held) = &mut self.held {
            let backers: Vec<NodeId> = heard
                .iter()
                .filter(|(_, c)| c.value == held.value)
                .map(|(&n, _)| n)
                .collect();
            held.votes = 1 + backers.len() as u32;
            let needed = majority(self.cluster_size);
            if self.decided.is_none() && held.votes as usize >= needed {
                let mut names: Vec<String> = backers.iter().map(|n| n.to_string()).collect();
                names.insert(0, format!("{} (self)", self.id));
                out.push(CoreOutput::Event(BasicEvent::Note(format!(
                    "round {}: {} held by {} of {} nodes [{}], majority is {needed}",
                    self.round,
                    held.value,
                    held.votes,
                    self.cluster_size,
                    names.join(",")
                ))));
                self.decided = Some(held.value.clone());
                out.push(CoreOutput::Event(BasicEvent::Decided(held.value.clone())));
            }
        }
        self.round += 1;
        if let Some(held) = &self.held {
            for &to in &self.peers {
                out.push(CoreOutput::Send {
                    to,
                    msg: Vote {
                        round: self.round,
                        value: held.value.clone(),
                        votes: held.votes,
                    },
                });
            }
        }
        out.push(CoreOutput::SetTimer {
            timer: RoundEnd,
            delay_ms_min: ROUND_MS,
            delay_ms_max: ROUND_MS,
        });
    }
}

impl Core for NaiveNode {
    type Msg = Vote;
    type State = NaiveState;
    type Event = BasicEvent;
    type Timer = RoundEnd;
    type Entry = NoLog;

    fn msg_kind(_msg: &Vote) -> &'static str {
        VOTE_KIND
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    /// The round, the value held, the decision and this round's votes heard (the
    /// node's id and peers are fixed).
    fn fingerprint(&self, mut state: &mut dyn std::hash::Hasher) -> bool {
        use std::hash::Hash;
        (self.round, &self.held, &self.decided, &self.heard).hash(&mut state);
        true
    }

    fn fingerprint_timer(timer: &RoundEnd, mut state: &mut dyn std::hash::Hasher) {
        std::hash::Hash::hash(timer, &mut state);
    }

    /// A decision is persisted before it is announced.
    fn decided_in(state: &NaiveState) -> Option<Value> {
        state.decided.clone()
    }

    /// Every change of [`NaiveState`] is persisted ahead of the outputs it caused, so
    /// a decision is on disk before it is announced or broadcast.
    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let mut before = self.state();
        let mut effects = Vec::new();
        match input {
            CoreInput::Start { recovered, .. } => {
                let recovered = recovered.unwrap_or_default();
                self.held = recovered.value.map(|value| Candidate { value, votes: 1 });
                self.decided = recovered.decided;
                before = self.state();
                effects.push(CoreOutput::SetTimer {
                    timer: RoundEnd,
                    delay_ms_min: ROUND_MS,
                    delay_ms_max: ROUND_MS,
                });
            }
            CoreInput::ClientRequest { value } => {
                effects.push(CoreOutput::Event(BasicEvent::Proposed(value.clone())));
                let mine = Candidate { value, votes: 1 };
                // A decision is final; otherwise the proposal competes like any vote.
                if self.decided.is_none() && self.held.as_ref().is_none_or(|h| mine > *h) {
                    self.held = Some(mine);
                }
            }
            CoreInput::Receive { from, msg } => {
                if self.peers.contains(&from) {
                    let c = Candidate {
                        value: msg.value,
                        votes: msg.votes,
                    };
                    let best = self.heard.entry(from).or_insert_with(|| c.clone());
                    if c > *best {
                        *best = c;
                    }
                }
            }
            CoreInput::TimerFired { timer: RoundEnd } => self.close_round(&mut effects),
        }
        let after = self.state();
        if after != before {
            out.push(CoreOutput::Persist(after));
        }
        out.append(&mut effects);
    }
}
