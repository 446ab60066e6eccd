//! The proposer: runs ballots until a majority of acceptors accepts one.

use super::msg::{Ballot, Msg, Value};
use super::node::{Note, Output, Timer, TimingConfig};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a proposer must not forget across a restart: the last round it used (so it
/// never reuses a ballot) and the value its client asked it to propose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProposerState {
    pub round: u64,
    pub value: Option<Value>,
}

/// How a proposer runs its ballots: all false for correct Paxos; each flag plants a
/// proposer bug ([`crate::protocols::paxos::Bug`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProposerRules {
    /// Always propose the client's value (`ProposerIgnoresAcceptedValue`).
    pub ignore_accepted: bool,
    /// Adopt the first reported value, not the highest-ballot one
    /// (`ProposerAdoptsFirstValue`).
    pub adopt_first: bool,
    /// Ballots carry no proposer id (`BallotsNotUnique`).
    pub anonymous_ballots: bool,
    /// Nacks are ignored and a retry reuses the ballot (`ProposerIgnoresNacks`).
    pub ignore_nacks: bool,
}

/// The proposer id an anonymous ballot carries (`BallotsNotUnique`): no real node.
const NO_PROPOSER: NodeId = NodeId(0);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Phase {
    /// No client value yet, or gave up after the configured attempts.
    Idle,
    /// Phase 1: collecting promises (and what each acceptor accepted last).
    Preparing {
        ballot: Ballot,
        promises: BTreeMap<NodeId, Option<(Ballot, Value)>>,
        /// The first accepted proposal a promise reported, in arrival order: only
        /// consulted under `ProposerRules::adopt_first`.
        first_reported: Option<(Ballot, Value)>,
    },
    /// Phase 2: collecting acceptances of `value` at `ballot`.
    Accepting {
        ballot: Ballot,
        value: Value,
        accepted_by: BTreeSet<NodeId>,
    },
    /// Waiting out a randomized backoff before the next ballot.
    Backoff,
    /// A majority accepted `value` at `ballot`: the value is chosen.
    Decided { ballot: Ballot, value: Value },
}

/// Hashed whole for the exhaustive lane's fingerprints.
#[derive(Debug, Clone, Hash)]
pub struct Proposer {
    pub(super) id: NodeId,
    pub state: ProposerState,
    pub(super) phase: Phase,
    /// Highest round seen in any nack, so the next ballot jumps past it.
    pub(super) round_seen_max: u64,
    pub(super) attempts: u32,
    pub(super) rules: ProposerRules,
}

impl Proposer {
    pub fn new(id: NodeId, state: ProposerState) -> Self {
        Self::with_rules(id, state, ProposerRules::default())
    }

    /// A proposer with planted bugs switched on (see [`ProposerRules`]).
    pub fn with_rules(id: NodeId, state: ProposerState, rules: ProposerRules) -> Self {
        Proposer {
            id,
            state,
            phase: Phase::Idle,
            round_seen_max: 0,
            attempts: 0,
            rules,
        }
    }

    pub fn decided(&self) -> Option<(Ballot, &Value)> {
        match &self.phase {
            Phase::Decided { ballot, value } => Some((*ballot, value)),
            _ => None,
        }
    }

    fn current_ballot(&self) -> Option<Ballot> {
        match &self.phase {
            Phase::Preparing { ballot, .. } | Phase::Accepting { ballot, .. } => Some(*ballot),
            _ => None,
        }
    }

    /// A client asks to propose `value`. A proposer proposes one value in its life.
    /// A request that comes again (a client re-sends it to a restarted node) is
    /// answered with the decision if this life already reached one: a restarted
    /// proposer that is its own only acceptor re-runs its saved round and decides
    /// while it starts, before the re-sent request arrives, and a request never
    /// answered would leave the client waiting for ever. Otherwise it is already being
    /// worked on, and the decision (or giving up) to come answers it.
    pub fn on_client_request(
        &mut self,
        value: Value,
        acceptors: &[NodeId],
        timing: &TimingConfig,
        out: &mut Vec<Output>,
    ) {
        if self.state.value.is_some() {
            if let Phase::Decided { ballot, value } = &self.phase {
                out.push(Output::Event(Note::Decided {
                    ballot: *ballot,
                    value: value.clone(),
                }));
            }
            return;
        }
        self.state.value = Some(value.clone());
        out.push(Output::Event(Note::Proposed { value }));
        self.start_ballot(acceptors, timing, out);
    }

    /// After a restart, a proposer with a client value resumes with a fresh ballot.
    pub fn on_start(&mut self, acceptors: &[NodeId], timing: &TimingConfig, out: &mut Vec<Output>) {
        if self.state.value.is_some() {
            self.start_ballot(acceptors, timing, out);
        }
    }

    /// Phase 1a with a ballot higher than any this proposer used or saw rejected.
    /// The new round is persisted before the prepare goes out: `Node` persists any
    /// change of durable state ahead of the outputs that follow from it.
    fn start_ballot(&mut self, acceptors: &[NodeId], timing: &TimingConfig, out: &mut Vec<Output>) {
        if let Some(max) = timing.attempts_max {
            if self.attempts >= max {
                self.give_up(out);
                return;
            }
        }
        if !(self.rules.ignore_nacks && self.state.round > 0) {
            let Some(round) = self.next_round() else {
                self.give_up(out);
                return;
            };
            self.state.round = round;
        }
        self.attempts = self.attempts.saturating_add(1);
        let owner = if self.rules.anonymous_ballots {
            NO_PROPOSER
        } else {
            self.id
        };
        let ballot = Ballot::new(self.state.round, owner);
        self.phase = Phase::Preparing {
            ballot,
            promises: BTreeMap::new(),
            first_reported: None,
        };
        for &to in acceptors {
            out.push(Output::Send {
                to,
                msg: Msg::Prepare { ballot },
            });
        }
        out.push(Output::SetTimer {
            timer: Timer::PhaseTimeout { ballot },
            delay_ms_min: timing.phase_timeout_ms,
            delay_ms_max: timing.phase_timeout_ms,
        });
    }

    pub fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
        acceptors: &[NodeId],
        quorum: usize,
        out: &mut Vec<Output>,
    ) {
        let Phase::Preparing {
            ballot: current,
            promises,
            first_reported,
        } = &mut self.phase
        else {
            return;
        };
        if *current != ballot {
            return;
        }
        if first_reported.is_none() {
            first_reported.clone_from(&accepted);
        }
        promises.insert(from, accepted);
        if promises.len() < quorum {
            return;
        }
        // Adopt the value of the highest-ballot proposal any promiser accepted; only
        // if none accepted anything may the proposer use its own value.
        let highest = if self.rules.ignore_accepted {
            None
        } else if self.rules.adopt_first {
            first_reported.clone()
        } else {
            promises
                .values()
                .flatten()
                .max_by(|a, b| a.0.cmp(&b.0))
                .cloned()
        };
        let own = self
            .state
            .value
            .clone()
            .expect("a proposer runs ballots only once it has a client value");
        let value = match highest {
            Some((from_ballot, value)) => {
                if value != own {
                    out.push(Output::Event(Note::Adopted {
                        ballot,
                        value: value.clone(),
                        from_ballot,
                    }));
                }
                value
            }
            None => own,
        };
        for &to in acceptors {
            out.push(Output::Send {
                to,
                msg: Msg::Accept {
                    ballot,
                    value: value.clone(),
                },
            });
        }
        self.phase = Phase::Accepting {
            ballot,
            value,
            accepted_by: BTreeSet::new(),
        };
    }

    pub fn on_accepted(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        value: &Value,
        majority: usize,
        out: &mut Vec<Output>,
    ) {
        let Phase::Accepting {
            ballot: current,
            value: proposed,
            accepted_by,
        } = &mut self.phase
        else {
            return;
        };
        if *current != ballot {
            return;
        }
        if proposed != value {
            // Impossible while ballots are unique; ignored rather than trusted so that
            // a broken peer cannot make this proposer decide a value it never sent.
            return;
        }
        accepted_by.insert(from);
        if accepted_by.len() >= majority {
            let value = proposed.clone();
            out.push(Output::Event(Note::Decided {
                ballot,
                value: value.clone(),
            }));
            self.phase = Phase::Decided { ballot, value };
        }
    }

    pub fn on_nack(
        &mut self,
        ballot: Ballot,
        promised: Ballot,
        timing: &TimingConfig,
        out: &mut Vec<Output>,
    ) {
        if self.rules.ignore_nacks {
            return;
        }
        self.round_seen_max = self.round_seen_max.max(promised.round);
        if self.current_ballot() == Some(ballot) {
            self.back_off(timing, out);
        }
    }

    pub fn on_phase_timeout(
        &mut self,
        ballot: Ballot,
        timing: &TimingConfig,
        out: &mut Vec<Output>,
    ) {
        if self.current_ballot() == Some(ballot) {
            self.back_off(timing, out);
        }
    }

    pub fn on_retry(&mut self, acceptors: &[NodeId], timing: &TimingConfig, out: &mut Vec<Output>) {
        if self.phase == Phase::Backoff {
            self.start_ballot(acceptors, timing, out);
        }
    }

    /// A learner has not learned. A proposer that already saw its value chosen runs one
    /// more ballot: it will adopt the chosen value and re-drive acceptances to every
    /// learner. A proposer still working ignores the nudge (its own ballots will do).
    pub fn on_nudge(&mut self, acceptors: &[NodeId], timing: &TimingConfig, out: &mut Vec<Output>) {
        if matches!(self.phase, Phase::Decided { .. }) {
            // `attempts_max` bounds the ballots spent reaching one decision; re-driving a
            // decided value starts a fresh budget, or a few nudges would make a proposer
            // give up and leave the learner waiting forever.
            self.attempts = 0;
            self.start_ballot(acceptors, timing, out);
        }
    }

    /// The round after every round this proposer used or saw, or `None` when that
    /// would pass [`Ballot::ROUND_MAX`]: the rounds are spent (only a forged or
    /// corrupted promise gets there), and wrapping to 0 would reuse ballots.
    fn next_round(&self) -> Option<u64> {
        self.state
            .round
            .max(self.round_seen_max)
            .checked_add(1)
            .filter(|&r| r <= Ballot::ROUND_MAX)
    }

    /// Stop running ballots: out of attempts, or out of rounds.
    fn give_up(&mut self, out: &mut Vec<Output>) {
        out.push(Output::Event(Note::GaveUp {
            attempts: self.attempts,
        }));
        self.phase = Phase::Idle;
    }

    /// The randomized pause before the next ballot: the core states the range, the
    /// shell draws from the node's own seeded RNG.
    fn back_off(&mut self, timing: &TimingConfig, out: &mut Vec<Output>) {
        let next_round = if self.rules.ignore_nacks {
            self.state.round
        } else {
            match self.next_round() {
                Some(round) => round,
                None => return self.give_up(out),
            }
        };
        self.phase = Phase::Backoff;
        out.push(Output::Event(Note::BackingOff { next_round }));
        out.push(Output::SetTimer {
            timer: Timer::Retry,
            delay_ms_min: timing.backoff_ms_min,
            delay_ms_max: timing.backoff_ms_max,
        });
    }
}
