//! One Paxos node: any combination of acceptor, proposer and learner roles, driven as a
//! single state machine. This is where messages are routed to roles and where durable
//! state is snapshotted, so the shell that runs a node knows no protocol rule.

use super::acceptor::{Acceptor, AcceptorState};
use super::bugs::{Bug, Bugs};
use super::learner::{Learner, LearnerState, TallyRules};
use super::majority;
use super::msg::{Ballot, Msg, Value};
use super::proposer::{Proposer, ProposerRules, ProposerState};
use crate::ids::NodeId;
use crate::protocol::{Context, Core, CoreInput, CoreOutput, NoLog, Observation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which roles a node plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub acceptor: bool,
    pub proposer: bool,
    pub learner: bool,
}

/// Protocol timing, in simulated (or real) milliseconds. Defaults suit a network whose
/// one-way latency is a few milliseconds. A missing field takes its default and an
/// unknown one is refused, so a hand-edited `cluster.toml` may set one field and a
/// misspelt one is named rather than ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingConfig {
    /// How long a proposer waits for a quorum in either phase before backing off.
    pub phase_timeout_ms: u64,
    /// Range of the randomized backoff before the next ballot.
    pub backoff_ms_min: u64,
    pub backoff_ms_max: u64,
    /// Ballots a proposer may start before giving up; `None` retries forever.
    pub attempts_max: Option<u32>,
    /// How often a learner that has not learned nudges the proposers.
    pub learner_poll_ms: u64,
    /// Whether a learner's poll also asks the acceptors, which answer with what they
    /// accepted, so a learner that missed the decision learns it with no new ballot.
    /// Real clusters want it (`init-cluster` writes it on): there a client's proposer
    /// exits once its value is chosen, and a learner that was down then would nudge
    /// no one. Off by default, so simulated runs, whose proposers live to the end and
    /// re-drive a decision on a nudge, keep their traces (and the extra ballots that
    /// expose planted bugs).
    #[serde(skip_serializing_if = "is_false")]
    pub learner_asks_acceptors: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            phase_timeout_ms: 100,
            backoff_ms_min: 10,
            backoff_ms_max: 80,
            attempts_max: None,
            learner_poll_ms: 200,
            learner_asks_acceptors: false,
        }
    }
}

/// Everything a node persists, as one snapshot: the shell writes and fsyncs it before
/// executing any output that follows it. Its parts are read through `Deref`.
///
/// Shared, not copied: one snapshot is the node's disk, the history's `Persisted`
/// event and a restart's recovered state at once, so a clone costs a reference count
/// and a history event holding one stays small (every event of a run is moved as it
/// is recorded). Serialized as its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DurableState(Arc<DurableParts>);

/// What [`DurableState`] holds: each role's durable part, for the roles a node plays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableParts {
    pub acceptor: Option<AcceptorState>,
    pub proposer: Option<ProposerState>,
    pub learner: Option<LearnerState>,
}

impl DurableState {
    pub fn new(parts: DurableParts) -> Self {
        DurableState(Arc::new(parts))
    }
}

impl From<DurableParts> for DurableState {
    fn from(parts: DurableParts) -> Self {
        DurableState::new(parts)
    }
}

impl std::ops::Deref for DurableState {
    type Target = DurableParts;

    fn deref(&self) -> &DurableParts {
        &self.0
    }
}

/// An acceptor's durable part, borrowed: (promised, accepted).
type AcceptorView<'a> = (Option<Ballot>, Option<&'a (Ballot, Value)>);

/// A [`DurableState`] borrowed from a node's roles, with the planted bugs' omissions
/// applied: the acceptor's (promised, accepted), the proposer's (round, value), the
/// learner's learned value.
struct DurableView<'a> {
    acceptor: Option<AcceptorView<'a>>,
    proposer: Option<(u64, Option<&'a Value>)>,
    learner: Option<Option<&'a Value>>,
}

impl DurableView<'_> {
    fn to_state(&self) -> DurableState {
        DurableState::new(DurableParts {
            acceptor: self.acceptor.map(|(promised, accepted)| AcceptorState {
                promised,
                accepted: accepted.cloned(),
            }),
            proposer: self.proposer.map(|(round, value)| ProposerState {
                round,
                value: value.cloned(),
            }),
            learner: self.learner.map(|learned| LearnerState {
                learned: learned.cloned(),
            }),
        })
    }

    /// Whether `state` is this snapshot.
    fn is(&self, state: &DurableState) -> bool {
        let acceptor = match (self.acceptor, &state.acceptor) {
            (Some((promised, accepted)), Some(a)) => {
                promised == a.promised && accepted == a.accepted.as_ref()
            }
            (mine, theirs) => mine.is_none() && theirs.is_none(),
        };
        let proposer = match (self.proposer, &state.proposer) {
            (Some((round, value)), Some(p)) => round == p.round && value == p.value.as_ref(),
            (mine, theirs) => mine.is_none() && theirs.is_none(),
        };
        let learner = match (self.learner, &state.learner) {
            (Some(learned), Some(l)) => learned == l.learned.as_ref(),
            (mine, theirs) => mine.is_none() && theirs.is_none(),
        };
        acceptor && proposer && learner
    }
}

/// Timers a node asks its shell to set. A timer that fires after it stopped mattering
/// (a ballot already abandoned) is ignored by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    PhaseTimeout { ballot: Ballot },
    Retry,
    LearnerPoll,
}

/// An input to a node: the contract's input with Paxos's types.
pub type Input = CoreInput<Node>;

/// What a node asks its shell to do, in order: the contract's output with Paxos's
/// types. Correct Paxos never asks for `PersistUnsynced`; only
/// `Bug::AcceptorSkipsFsync` does.
pub type Output = CoreOutput<Node>;

/// Protocol events the history records and the checkers read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// A proposer took a client's value.
    Proposed { value: Value },
    /// An acceptor promised `ballot` (persisted before the promise went out).
    Promised { ballot: Ballot },
    /// An acceptor accepted `value` at `ballot`. Agreement is judged from these.
    Accepted { ballot: Ballot, value: Value },
    /// An acceptor refused `ballot` because it promised `promised`.
    Rejected { ballot: Ballot, promised: Ballot },
    /// A proposer adopted another proposer's value, accepted earlier at `from_ballot`.
    Adopted {
        ballot: Ballot,
        value: Value,
        from_ballot: Ballot,
    },
    /// A proposer saw a majority accept `value` at `ballot`.
    Decided { ballot: Ballot, value: Value },
    /// A proposer abandoned its ballot and will retry after a backoff.
    BackingOff { next_round: u64 },
    /// A proposer hit `TimingConfig::attempts_max`.
    GaveUp { attempts: u32 },
    /// A learner learned `value` from a majority at `ballot`.
    Learned { ballot: Ballot, value: Value },
}

/// One Paxos node.
#[derive(Debug, Clone)]
pub struct Node {
    id: NodeId,
    // The membership and bugs never change after construction: shared, so that a
    // copy of a node (the exhaustive lane copies the node it steps, once per
    // successor state) allocates nothing for them.
    acceptors: Arc<[NodeId]>,
    learners: Arc<[NodeId]>,
    proposers: Arc<[NodeId]>,
    timing: TimingConfig,
    bugs: Arc<Bugs>,
    pub(super) acceptor: Option<Acceptor>,
    pub(super) proposer: Option<Proposer>,
    pub(super) learner: Option<Learner>,
    /// [`Node::durable`] as of the end of the last step (or the restore): what a step
    /// compares against to tell whether it must persist, without a second snapshot.
    last_durable: DurableState,
    /// A step's effects, kept between steps so a step allocates nothing for them.
    effects: Vec<Output>,
    /// What a message to itself causes, likewise kept.
    self_effects: Vec<Output>,
}

/// The cluster as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub acceptors: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    pub proposers: Vec<NodeId>,
}

impl Node {
    /// A node with `roles` in a cluster of the given members; state is empty until
    /// [`Input::Start`] hands it what storage recovered.
    pub fn new(id: NodeId, roles: Roles, members: Membership, timing: TimingConfig) -> Self {
        Self::with_bugs(id, roles, members, timing, Bugs::default())
    }

    /// A node with planted bugs switched on (see [`Bug`]).
    pub fn with_bugs(
        id: NodeId,
        roles: Roles,
        members: Membership,
        timing: TimingConfig,
        bugs: Bugs,
    ) -> Self {
        assert!(
            !members.acceptors.is_empty(),
            "a Paxos cluster needs acceptors"
        );
        Node {
            id,
            acceptors: members.acceptors.into(),
            learners: members.learners.into(),
            proposers: members.proposers.into(),
            timing,
            bugs: Arc::new(bugs),
            acceptor: roles.acceptor.then(Acceptor::default),
            proposer: roles
                .proposer
                .then(|| Proposer::new(id, ProposerState::default())),
            learner: roles.learner.then(Learner::default),
            last_durable: DurableState::default(),
            effects: Vec::new(),
            self_effects: Vec::new(),
        }
        .with_proposer_rules()
        .with_snapshot()
    }

    /// Take the snapshot a first step compares against.
    fn with_snapshot(mut self) -> Self {
        self.last_durable = self.durable();
        self
    }

    /// Install the proposer bugs switched on (a fresh or restored proposer).
    fn with_proposer_rules(mut self) -> Self {
        let rules = self.proposer_rules();
        if let Some(p) = &mut self.proposer {
            *p = Proposer::with_rules(self.id, p.state.clone(), rules);
        }
        self
    }

    fn proposer_rules(&self) -> ProposerRules {
        ProposerRules {
            ignore_accepted: self.bugs.has(Bug::ProposerIgnoresAcceptedValue),
            adopt_first: self.bugs.has(Bug::ProposerAdoptsFirstValue),
            anonymous_ballots: self.bugs.has(Bug::BallotsNotUnique),
            ignore_nacks: self.bugs.has(Bug::ProposerIgnoresNacks),
        }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The durable part of this node's state: what it writes to disk. Planted bugs
    /// that forget state on restart leave the forgotten field out of the snapshot.
    pub fn durable(&self) -> DurableState {
        self.durable_view().to_state()
    }

    /// [`Node::durable`] by reference: every step compares it with the last snapshot,
    /// and most steps change nothing durable, so it is built only when it differs.
    fn durable_view(&self) -> DurableView<'_> {
        DurableView {
            acceptor: self.acceptor.as_ref().map(|a| {
                let promised = a.state.promised;
                let accepted = a.state.accepted.as_ref();
                (
                    promised.filter(|_| !self.bugs.has(Bug::AcceptorForgetsPromise)),
                    accepted.filter(|_| !self.bugs.has(Bug::AcceptorForgetsAccepted)),
                )
            }),
            proposer: self.proposer.as_ref().map(|p| {
                let round = if self.bugs.has(Bug::ProposerForgetsRound) {
                    0
                } else {
                    p.state.round
                };
                (round, p.state.value.as_ref())
            }),
            learner: self.learner.as_ref().map(|l| l.state.learned.as_ref()),
        }
    }

    pub fn learned(&self) -> Option<&Value> {
        self.learner.as_ref().and_then(|l| l.state.learned.as_ref())
    }

    pub fn is_learner(&self) -> bool {
        self.learner.is_some()
    }

    /// Feed one input; append what the node wants done to `out`, in order. A change of
    /// durable state is emitted as [`Output::Persist`] ahead of every output it caused,
    /// so nothing that reveals the new state leaves before it is on disk.
    pub fn step(&mut self, input: Input, out: &mut Vec<Output>) {
        if let Input::Start { recovered, .. } = &input {
            // What storage recovered is already durable: restore it before taking the
            // snapshot to compare against, so a restart does not rewrite it.
            self.restore(recovered.clone().unwrap_or_default());
            self.last_durable = self.durable();
        }
        let mut effects = std::mem::take(&mut self.effects);
        self.dispatch(input, &mut effects);
        // Messages a node sends itself (an acceptor to its co-located learner) are
        // delivered at once, inside the same step, and never touch the network.
        let mut i = 0;
        while i < effects.len() {
            if let Output::Send { to, msg } = &effects[i] {
                if *to == self.id {
                    let msg = msg.clone();
                    effects.remove(i);
                    let mut more = std::mem::take(&mut self.self_effects);
                    self.dispatch(Input::Receive { from: self.id, msg }, &mut more);
                    effects.splice(i..i, more.drain(..));
                    self.self_effects = more;
                    continue;
                }
            }
            i += 1;
        }
        if !self.durable_view().is(&self.last_durable) {
            let after = self.durable();
            let unsynced = self.bugs.has(Bug::AcceptorSkipsFsync)
                && after.acceptor != self.last_durable.acceptor;
            self.last_durable = after.clone();
            if unsynced {
                out.push(Output::PersistUnsynced(after));
            } else {
                out.push(Output::Persist(after));
            }
        }
        out.append(&mut effects);
        self.effects = effects;
    }

    /// Replace every role's state with `recovered` (roles missing there start empty).
    fn restore(&mut self, recovered: DurableState) {
        let recovered = Arc::unwrap_or_clone(recovered.0);
        if let Some(a) = &mut self.acceptor {
            *a = Acceptor::recover(recovered.acceptor.unwrap_or_default());
        }
        if let Some(l) = &mut self.learner {
            *l = Learner::recover(recovered.learner.unwrap_or_default());
        }
        let rules = self.proposer_rules();
        if let Some(p) = &mut self.proposer {
            *p = Proposer::with_rules(self.id, recovered.proposer.unwrap_or_default(), rules);
        }
    }

    fn dispatch(&mut self, input: Input, out: &mut Vec<Output>) {
        let majority = majority(self.acceptors.len());
        // A quorum one short of a majority (never below one), for the off-by-one bugs.
        let one_short = majority.saturating_sub(1).max(1);
        let promise_quorum = if self.bugs.has(Bug::ProposerQuorumOneShort) {
            one_short
        } else {
            majority
        };
        let learn_quorum = if self.bugs.has(Bug::LearnerQuorumOneShort) {
            one_short
        } else {
            majority
        };
        match input {
            Input::Start { .. } => {
                // State was restored by `step`; resume each role's work.
                if let Some(l) = &mut self.learner {
                    l.on_start(self.timing.learner_poll_ms, out);
                }
                if let Some(p) = &mut self.proposer {
                    p.on_start(&self.acceptors, &self.timing, out);
                }
            }
            Input::ClientRequest { value } => {
                if let Some(p) = &mut self.proposer {
                    p.on_client_request(value, &self.acceptors, &self.timing, out);
                }
            }
            Input::TimerFired { timer } => match timer {
                Timer::PhaseTimeout { ballot } => {
                    if let Some(p) = &mut self.proposer {
                        p.on_phase_timeout(ballot, &self.timing, out);
                    }
                }
                Timer::Retry => {
                    if let Some(p) = &mut self.proposer {
                        p.on_retry(&self.acceptors, &self.timing, out);
                    }
                }
                Timer::LearnerPoll => {
                    if let Some(l) = &mut self.learner {
                        let poll_ms = self.timing.learner_poll_ms;
                        let asked: &[NodeId] = if self.timing.learner_asks_acceptors {
                            &self.acceptors
                        } else {
                            &[]
                        };
                        l.on_poll(&self.proposers, asked, poll_ms, out);
                    }
                }
            },
            // A round no proposer could step past is malformed: ignored, never promised.
            Input::Receive { msg, .. } if !msg.ballots_valid() => {}
            Input::Receive { from, msg } => match msg {
                // Replies only acceptors may give are ignored from anyone else: a forged
                // promise must not complete a quorum, nor a forged nack inflate rounds.
                Msg::Promise { .. } | Msg::Nack { .. } | Msg::Accepted { .. }
                    if !self.acceptors.contains(&from) => {}
                Msg::Prepare { ballot } => {
                    if let Some(a) = &mut self.acceptor {
                        let round_only = self.bugs.has(Bug::AcceptorPromisesEqualRound);
                        a.on_prepare(from, ballot, round_only, out);
                    }
                }
                Msg::Accept { ballot, value } => {
                    if let Some(a) = &mut self.acceptor {
                        let lenient = self.bugs.has(Bug::AcceptorAcceptsBelowPromise);
                        a.on_accept(from, ballot, value, &self.learners, lenient, out);
                    }
                }
                Msg::Promise { ballot, accepted } => {
                    if let Some(p) = &mut self.proposer {
                        p.on_promise(from, ballot, accepted, &self.acceptors, promise_quorum, out);
                    }
                }
                Msg::Nack { ballot, promised } => {
                    if let Some(p) = &mut self.proposer {
                        p.on_nack(ballot, promised, &self.timing, out);
                    }
                }
                Msg::Accepted { ballot, value } => {
                    if let Some(p) = &mut self.proposer {
                        p.on_accepted(from, ballot, &value, majority, out);
                    }
                    if let Some(l) = &mut self.learner {
                        let rules = TallyRules {
                            count_duplicates: self.bugs.has(Bug::LearnerCountsDuplicates),
                            mix_ballots: self.bugs.has(Bug::LearnerMixesBallots),
                        };
                        l.on_accepted(from, ballot, value, learn_quorum, rules, out);
                    }
                }
                Msg::Nudge => {
                    if let Some(a) = self
                        .acceptor
                        .as_ref()
                        .filter(|_| self.timing.learner_asks_acceptors)
                    {
                        a.on_nudge(from, out);
                    }
                    if let Some(p) = &mut self.proposer {
                        p.on_nudge(&self.acceptors, &self.timing, out);
                    }
                }
            },
        }
    }
}

impl Core for Node {
    type Msg = Msg;
    type State = DurableState;
    type Event = Note;
    type Timer = Timer;
    type Entry = NoLog;

    /// The envelope, a tag, at most two ballots (10 bytes each) and a presence byte,
    /// and a value with its 2-byte length: under 300 bytes, well within the default
    /// limit, so the fast lane need not encode each message to check it
    /// (`codec::tests::largest_messages_fit_the_bound`).
    const MESSAGE_BYTES_BOUND: Option<usize> =
        Some(crate::net::HEADER_BYTES + 1 + 2 * 10 + 1 + 2 + crate::value::VALUE_BYTES_MAX);

    /// Paxos draws nothing and reads no clock: its timers' jitter is the shell's.
    fn signature(history: &crate::history::History<Self>) -> Vec<u64> {
        super::signature::signature(history)
    }

    fn step(&mut self, _cx: &mut Context<'_>, input: Input, out: &mut Vec<Output>) {
        Node::step(self, input, out)
    }

    fn msg_kind(msg: &Msg) -> &'static str {
        msg.kind_name()
    }

    /// Each role's memory; ids, membership, timing and bugs are fixed for a node, and
    /// the last snapshot is the roles' durable part again.
    fn fingerprint(&self, mut state: &mut dyn std::hash::Hasher) -> bool {
        use std::hash::Hash;
        self.acceptor.as_ref().map(|a| &a.state).hash(&mut state);
        self.proposer.hash(&mut state);
        self.learner.hash(&mut state);
        true
    }

    fn fingerprint_timer(timer: &Timer, mut state: &mut dyn std::hash::Hasher) {
        std::hash::Hash::hash(timer, &mut state);
    }

    /// A proposer's `Proposed` note is a proposal and a learner's `Learned` note a
    /// decision, for the single-value judges.
    fn observe(note: &Note) -> Option<Observation> {
        match note {
            Note::Proposed { value } => Some(Observation::Proposed(value.clone())),
            Note::Learned { value, .. } => Some(Observation::Decided(value.clone())),
            Note::Decided { value, .. } => Some(Observation::Answered(value.clone())),
            _ => None,
        }
    }

    /// Promises and acceptances are the votes; an adoption (phase 1's quorum), a
    /// decision and a learn are quorums completed.
    fn moment(note: &Note) -> Option<crate::protocol::Moment> {
        use crate::protocol::Moment;
        match note {
            Note::Promised { .. } | Note::Accepted { .. } => Some(Moment::Vote),
            Note::Adopted { .. } | Note::Decided { .. } | Note::Learned { .. } => {
                Some(Moment::Quorum)
            }
            _ => None,
        }
    }

    /// A learner's learned value survives in its durable state.
    fn decided_in(state: &DurableState) -> Option<Value> {
        state.learner.as_ref().and_then(|l| l.learned.clone())
    }

    fn encode_msg(msg: &Msg, out: &mut Vec<u8>) {
        super::codec::encode_msg(msg, out)
    }

    fn decode_msg(bytes: &[u8]) -> Result<Msg, String> {
        super::codec::decode_msg(bytes).map_err(|e| e.to_string())
    }
}

impl std::fmt::Display for DurableState {
    /// The trace's form: each role's part, `promised=1.4 accepted=1.4:Value_A round=2
    /// value=Value_B learned=-`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(a) = &self.acceptor {
            let promised = a.promised.map_or("-".into(), |b| b.to_string());
            let accepted = a
                .accepted
                .as_ref()
                .map_or("-".into(), |(b, v)| format!("{b}:{v}"));
            parts.push(format!("promised={promised} accepted={accepted}"));
        }
        if let Some(p) = &self.proposer {
            let value = p.value.as_ref().map_or("-".into(), |v| v.to_string());
            parts.push(format!("round={} value={value}", p.round));
        }
        if let Some(l) = &self.learner {
            let learned = l.learned.as_ref().map_or("-".into(), |v| v.to_string());
            parts.push(format!("learned={learned}"));
        }
        f.write_str(&parts.join(" "))
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Proposed { value } => write!(f, "propose {value}"),
            Note::Promised { ballot } => write!(f, "promise {ballot}"),
            Note::Accepted { ballot, value } => write!(f, "accept {ballot}:{value}"),
            Note::Rejected { ballot, promised } => {
                write!(f, "reject {ballot} (promised {promised})")
            }
            Note::Adopted {
                ballot,
                value,
                from_ballot,
            } => write!(f, "adopt {value} from {from_ballot} for {ballot}"),
            Note::Decided { ballot, value } => write!(f, "decided {value} at {ballot}"),
            Note::BackingOff { next_round } => write!(f, "back off, next round {next_round}"),
            Note::GaveUp { attempts } => write!(f, "give up after {attempts} ballots"),
            Note::Learned { ballot, value } => write!(f, "LEARN {value} (at {ballot})"),
        }
    }
}
