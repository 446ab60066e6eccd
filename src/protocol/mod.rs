//! The contract (docs/architecture.md, "The contract"): what a protocol supplies so
//! gauntlet can test it, and nothing more. Every built-in protocol (`crate::protocols`)
//! and every user's protocol comes through this door, and gets the same harness: both
//! lanes, real mode, explore, hunt, shrink, replay, the corpus and the command line.
//!
//! A protocol supplies
//! - a sans-IO [`Core`]: its messages, durable state, timers and trace events, and a
//!   `step` from one input to a list of outputs. No I/O, no clock, no randomness;
//! - a [`Protocol`]: its name, its own scenario section ([`Protocol::Params`]), how to
//!   draw a cluster and workload from a seed ([`Protocol::draft`]), how to build each
//!   node's core, which nodes must decide, its message kinds (for targeted faults),
//!   its planted bugs, and its properties ([`Judge`]s over the history).
//!
//! The harness supplies everything else: the one node shell, the worlds, the fault
//! schedule and decorators, the phases, the seeds, the judges of each decision shape
//! ([`Observation`]), exploration, shrinking, the corpus and the traces.

pub mod cuts;
mod judge;
pub mod kit;
mod peers;
pub mod session;
mod setup;
pub mod shapes;
pub mod symmetry;

pub use cuts::Cut;
pub use judge::{
    node_list, Evidence, Expectation, Judge, JudgeFn, Judging, Property, Verdict, Violation,
};
pub use peers::Peers;
pub(crate) use setup::planted_bug_table;
pub use setup::{find_bug, prepare, BugSet, PlantedBug, PlantedBugKind, RunSetup};
pub use symmetry::{Rename, Renaming, Symmetry};

use crate::history::{Event, Payload, Trace};
use crate::ids::NodeId;
use crate::scenario::{Cluster, Proposal, Scenario, ScenarioError};
use crate::value::Value;
use derive_where::derive_where;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::{self, Debug};
use std::hash::Hasher;

/// A protocol's node as a pure state machine: input in, outputs out, no I/O (principle
/// 1). Time and randomness reach it only through the [`Context`] of each step, and its
/// incarnation in [`CoreInput::Start`], all from the run's seed, so a core never keeps
/// its own clock or boot counter and every run stays replayable.
pub trait Core: Clone + 'static {
    /// The messages nodes exchange. `Display` is how a trace shows one.
    type Msg: Payload + Send;
    /// What the node keeps on disk. `Display` is how a trace shows it.
    type State: Payload + Send;
    /// The protocol's own trace events (a promise, an adoption, a decision).
    type Event: Payload + Send;
    /// The timers the core asks for.
    type Timer: Clone + Debug + 'static;
    /// The entries of the node's durable log ([`CoreOutput::Append`]), for a protocol
    /// that keeps one (Raft, PBFT, a chain); [`NoLog`] for one that keeps only its
    /// small `State`.
    type Entry: Payload + Send;

    /// The largest encoded message this protocol sends, envelope included: 1,024 bytes
    /// unless the protocol says more, up to [`MESSAGE_BYTES_LIMIT`] (65,443). A message over it
    /// ends the run with an error naming the node and the message kind: that is a
    /// broken core or a wrong limit, not a network fault.
    const MESSAGE_BYTES_MAX: usize = 1_024;

    /// The most bytes any message of this core encodes to, envelope included, when its
    /// codec bounds it (`None`: unbounded, the default). The fast lane does not encode
    /// messages, so without a bound it encodes each one only to check its size; a
    /// bound within [`Core::MESSAGE_BYTES_MAX`] spares that (a third of a fast Paxos
    /// run). The node shell always checks what it really sends, so a wrong bound
    /// shows as the lanes disagreeing; back it with a test of the largest messages.
    const MESSAGE_BYTES_BOUND: Option<usize> = None;

    /// Feed one input; append what the node wants done to `out`, in order. `cx` says
    /// the node's time and lends it its own random stream.
    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    );

    /// The kind of `msg`: a short label that targeted faults name and filter on (list
    /// every label in [`Protocol::message_kinds`]).
    fn msg_kind(_msg: &Self::Msg) -> &'static str {
        "msg"
    }

    /// What `event` means to the judges of the protocol's decision shape: a value
    /// proposed or decided, a log slot decided, a chain tip or a finalized block.
    /// `None` for everything else (the default).
    fn observe(_event: &Self::Event) -> Option<Observation> {
        None
    }

    /// The value this durable state says the node decided, if the protocol can tell
    /// (default: it cannot). A node killed between persisting its decision and
    /// recording it still knows the decision: with this, the generic liveness judge
    /// counts a restart that recovered one, and real mode restores the node's
    /// `chosen_value` file from its state.
    fn decided_in(_state: &Self::State) -> Option<Value> {
        None
    }

    /// For the exhaustive lane (`gauntlet check-model`, `crate::model`): feed into
    /// `state` everything in this core's memory that can change what it does next
    /// (its fixed configuration may be left out), and return `true`. The model treats
    /// two nodes that feed the same bytes as one state, so leaving out something that
    /// matters hides behaviour from it. The default feeds nothing and returns `false`:
    /// the protocol cannot be model-checked, and `check-model` says so.
    fn fingerprint(&self, _state: &mut dyn Hasher) -> bool {
        false
    }

    /// A pending timer's part of a state's fingerprint (see [`Core::fingerprint`]).
    /// Default: its `Debug` text; a protocol may hash it directly, which is faster.
    fn fingerprint_timer(timer: &Self::Timer, state: &mut dyn Hasher) {
        state.write(format!("{timer:?}").as_bytes());
    }

    /// For guided search (`explore --guided`, `crate::explore::guided`): an abstract
    /// coverage signature of a finished run, as hashed facts about what the protocol's
    /// correctness argument cares about (for Paxos: how each acceptance compares with
    /// the promises its acceptor made in earlier lives). A run that shows a fact no
    /// earlier run of the campaign showed is kept and mutated, so facts should be few
    /// (hundreds, not one per ballot number) and should separate the runs a bug needs
    /// from the ones it does not. A non-empty signature replaces the generic one
    /// (which event kind followed which, per node). Default: no facts (the generic
    /// signature is used).
    fn signature(_history: &crate::history::History<Self>) -> Vec<u64> {
        Vec::new()
    }

    /// For guided search's protocol-timed moves (`crate::explore::guided`): the moment
    /// `event` marks, if it is one the protocol's safety argument turns on. The
    /// harness aims faults at the moments a run showed (a crash right after a vote, a
    /// partition right after a quorum formed, a duplicate of the message that completed
    /// it) without knowing what they mean. Default: none (the harness still aims at
    /// sends and persists, which it sees itself).
    fn moment(_event: &Self::Event) -> Option<Moment> {
        None
    }

    /// What this node, turned Byzantine, could send instead of `msg`: small
    /// mutations that make sense for its kind (view + 1, sequence number + 1, another
    /// value, a message it should not send at all), as ByzzFuzz draws them. A
    /// `crate::fault::Fault::Mutate` picks one by number. The core may sign a
    /// mutation with its own key, never with another node's: that keeps "nothing a
    /// faulty node does can produce an honest node's signature". Default: none (the
    /// message goes out unchanged).
    fn mutations(&self, _msg: &Self::Msg) -> Vec<Self::Msg> {
        Vec::new()
    }

    /// The message's bytes on the wire (after the harness's envelope). Default: JSON.
    fn encode_msg(msg: &Self::Msg, out: &mut Vec<u8>) {
        serde_json::to_writer(out, msg).expect("messages serialize");
    }

    /// The message from its bytes; any malformed input is an `Err`, never a panic.
    /// Default: JSON.
    fn decode_msg(bytes: &[u8]) -> Result<Self::Msg, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

impl<C: Core> Trace for C {
    type Msg = C::Msg;
    type State = C::State;
    type Event = C::Event;
    type Entry = C::Entry;
}

/// The largest message any protocol may send: what one UDP datagram carries over IPv4
/// (65,507 bytes: 65,535 less the IP and UDP headers) less the 64-byte ed25519
/// signature real mode adds, so real mode can send every message the simulation does.
pub const MESSAGE_BYTES_LIMIT: usize = 65_443;

/// What the shell hands a core with each input, the same in every world: the node's
/// clock and its own random stream (drawn from the run's seed, per node and
/// incarnation). The shell draws timer delays from the same stream, in output order.
pub struct Context<'a> {
    /// Milliseconds since the run started (real mode: since the process started).
    pub now_ms: u64,
    /// This incarnation's random stream. Draw with [`crate::rng::Draw`].
    pub rng: &'a mut ChaCha8Rng,
}

/// The [`Core::Entry`] of a core without a durable log: it has no values, so such a
/// core cannot append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoLog {}

impl fmt::Display for NoLog {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

/// An input to a [`Core`].
#[derive_where(Clone, Debug, PartialEq; C::Msg, C::State, C::Timer, C::Entry)]
pub enum CoreInput<C: Core> {
    /// The node (re)starts: `incarnation` 0 on its first start and one more on each
    /// restart, with what its storage recovered: the last persisted state (`None`: a
    /// fresh disk) and the durable log, oldest entry first.
    Start {
        incarnation: u32,
        recovered: Option<C::State>,
        log: Vec<C::Entry>,
    },
    /// A client asks this node to propose `value`.
    ClientRequest {
        value: Value,
    },
    Receive {
        from: NodeId,
        msg: C::Msg,
    },
    TimerFired {
        timer: C::Timer,
    },
}

impl<C: Core> CoreInput<C> {
    /// A start of incarnation 0 with `recovered` and an empty log: what a unit test of
    /// a core without a log usually feeds first.
    pub fn start(recovered: Option<C::State>) -> Self {
        CoreInput::Start {
            incarnation: 0,
            recovered,
            log: Vec::new(),
        }
    }
}

/// What a [`Core`] asks its shell to do, executed in order.
#[derive_where(Clone, Debug, PartialEq; C::Msg, C::State, C::Timer, C::Event, C::Entry)]
pub enum CoreOutput<C: Core> {
    /// Send `msg` to `to` through the fault layer (a core handles messages to itself
    /// internally; the shell sends these over the network like any other).
    Send { to: NodeId, msg: C::Msg },
    /// Write and fsync this state before executing the outputs after it.
    Persist(C::State),
    /// Write this state without fsync: a crash before a later `Persist` loses it.
    /// Correct protocols never ask for this; planted bugs do.
    PersistUnsynced(C::State),
    /// Append `entries` to the durable log, written and fsynced (with every earlier
    /// log write) before the outputs after it. The cost is the entries', not the log's.
    Append(Vec<C::Entry>),
    /// Append without fsync: a crash before the next synced log write loses these
    /// entries (and any unsynced truncation before them). Planted bugs ask for this.
    AppendUnsynced(Vec<C::Entry>),
    /// Keep the first `len` entries of the log and drop the rest (a follower's
    /// conflicting suffix), durably before the outputs after it.
    Truncate { len: u64 },
    /// Fire `timer` after a delay drawn uniformly from the range by the node's stream,
    /// and never sooner than the next millisecond (a 0 ms delay means 1 ms).
    SetTimer {
        timer: C::Timer,
        delay_ms_min: u64,
        delay_ms_max: u64,
    },
    /// A protocol event for the history ([`Core::observe`] says what judges read).
    Event(C::Event),
}

/// A moment of a run that a protocol names for guided search ([`Core::moment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Moment {
    /// The node bound itself (a promise, a vote, an acceptance): other nodes will
    /// count on it, so crashing or restarting right after it is where forgetting hurts.
    Vote,
    /// The node just heard from a quorum and acted on it (phase 2 begun, a value
    /// chosen or learned): partitions and duplicates right around it are the races
    /// quorum arithmetic must survive.
    Quorum,
}

/// What a protocol event means to the generic judges, by decision shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Single value: the node proposed `0` (a client request counts too).
    Proposed(Value),
    /// Single value: the node decided `0`, for good (once per node, ever).
    Decided(Value),
    /// Single value: the client request this node took got its answer, `0` (a Paxos
    /// proposer that saw its ballot accepted by a majority). Real mode's `propose`
    /// waits for this or a decision.
    Answered(Value),
    /// Log: a client submitted `request` at this node.
    Submitted { request: Value },
    /// Log: the node decided `value` for `slot` (once per node per slot, for good).
    SlotDecided { slot: u64, value: Value },
    /// Chain: the node's best chain changed; block ids from genesis to tip.
    Tip { chain: Vec<Value> },
    /// Chain: the node finalized `block` at `height` (never to be reverted).
    Finalized { height: u64, block: Value },
}

/// The trace events of a simple single-value protocol: enough for the generic
/// judges, with free-text notes for everything else. A protocol with richer events
/// defines its own enum and maps it in [`Core::observe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BasicEvent {
    Proposed(Value),
    Decided(Value),
    Note(String),
}

impl fmt::Display for BasicEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BasicEvent::Proposed(value) => write!(f, "propose {value}"),
            BasicEvent::Decided(value) => write!(f, "DECIDE {value}"),
            BasicEvent::Note(text) => f.write_str(text),
        }
    }
}

impl BasicEvent {
    /// The [`Core::observe`] of a core whose events are `BasicEvent`s.
    pub fn observe(&self) -> Option<Observation> {
        match self {
            BasicEvent::Proposed(value) => Some(Observation::Proposed(value.clone())),
            BasicEvent::Decided(value) => Some(Observation::Decided(value.clone())),
            BasicEvent::Note(_) => None,
        }
    }
}

/// What a protocol draws for one campaign seed; the harness adds the fault schedule
/// (aimed at `horizon_ms`) and assembles the [`Scenario`].
#[derive(Debug, Clone)]
pub struct Draft<Params> {
    pub cluster: Cluster,
    pub workload: Vec<Proposal>,
    pub params: Params,
    /// Faults are placed within `0..=horizon_ms`: where the protocol decides.
    pub horizon_ms: u64,
    pub liveness_bound_ms: u64,
}

/// A protocol gauntlet can test. See the module docs for who supplies what.
pub trait Protocol: Send + Sync + 'static {
    type Core: Core;
    /// The protocol's own section of a scenario (`Scenario::params`): roles, timing,
    /// sizes. `Default` is what a scenario without the section gets.
    type Params: Clone + Debug + Default + Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The protocol's name: 1 to 32 bytes of `a-z`, `0-9` and `_` (checked by the
    /// registry when the protocol is registered).
    fn name(&self) -> &'static str;

    /// The cluster, workload and parameters of campaign run `seed`, drawn from `rng`
    /// (the scenario stream; the harness draws the fault schedule after this).
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<Self::Params>;

    /// The smallest cluster this protocol can run; the shrinker never offers a smaller
    /// one. Default 1.
    fn nodes_min(&self) -> usize {
        1
    }

    /// Check the protocol's own section against the rest of the scenario; the error
    /// names the field (`params.timing.backoff_ms_min`). Default: anything parses.
    fn check_params(
        &self,
        _params: &Self::Params,
        _scenario: &Scenario,
    ) -> Result<(), ScenarioError> {
        Ok(())
    }

    /// The parameters of the same scenario without node `id`, for the shrinker;
    /// `None` if the protocol cannot lose that node (the last acceptor). Default: the
    /// same parameters.
    fn without_node(&self, params: &Self::Params, _id: NodeId) -> Option<Self::Params> {
        Some(params.clone())
    }

    /// Smaller clusters for the shrinker, biggest cut first: each names the nodes that
    /// leave together and the parameters without them. The harness drops the client
    /// requests and fault events that name a removed node and runs
    /// [`Protocol::check_params`] on what is left, so a cut the protocol refuses never
    /// runs. Default: runs of nodes, half the cluster down to one node, each through
    /// [`Protocol::without_node`] ([`cuts::runs_of_nodes`]). A protocol with sizes it
    /// alone accepts (PBFT's `n = 3f + 1`) lists exactly those.
    fn cluster_cuts(&self, params: &Self::Params, scenario: &Scenario) -> Vec<Cut<Self::Params>> {
        cuts::runs_of_nodes(self, params, scenario)
    }

    /// The parameters when node `from` folds into node `into`, for the shrinker: `into`
    /// takes over `from`'s roles and its client request (the harness moves the request
    /// only to a node that has none: a node takes one), and `from` leaves. `None`, the
    /// default, where the protocol has no such merge (every node plays the same part).
    fn merged(&self, _params: &Self::Params, _from: NodeId, _into: NodeId) -> Option<Self::Params> {
        None
    }

    /// Simpler parameters for the same cluster and workload (`scenario`), for the
    /// shrinker, simplest first: a role fewer, a smaller fault parameter.
    /// [`Protocol::check_params`] still judges each. Default: none.
    fn smaller_params(&self, _params: &Self::Params, _scenario: &Scenario) -> Vec<Self::Params> {
        Vec::new()
    }

    /// The parameters of a real cluster (`gauntlet init-cluster`): `servers` run all
    /// the time (`gauntlet node`) and `clients` run only while a client waits for its
    /// answer (`gauntlet propose`). Real mode writes them into `cluster.toml`, so a
    /// protocol with roles says here who plays which. Default: the default parameters.
    fn cluster_params(&self, _servers: &[NodeId], _clients: &[NodeId]) -> Self::Params {
        Self::Params::default()
    }

    /// The core node `id` starts with, for every incarnation (fresh each start).
    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> Self::Core;

    /// The nodes that must decide once the faults heal.
    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId>;

    /// The labels of this protocol's message kinds ([`Core::msg_kind`]), which
    /// targeted faults name and scenario validation checks. Default: none.
    fn message_kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// How many Byzantine nodes a cluster of `cluster_size` tolerates: the generator
    /// draws Byzantine faults (`crate::fault::Fault::Silent`, `Mutate`) for up to this
    /// many nodes, and none at all for a protocol that tolerates none (the default),
    /// whose schedules stay what they were.
    fn byzantine_max(&self, _cluster_size: usize) -> usize {
        0
    }

    /// Up to how many Byzantine nodes the generator draws for a scenario with `params`
    /// in a cluster of `cluster_size`. Default: [`Protocol::byzantine_max`]. A protocol
    /// that draws more (the Byzantine generals' `generals_3m`, OM(m) at `n = 3m`, to
    /// show the bound is tight) gets scenarios marked
    /// `Scenario::byzantine_beyond_tolerance`, the one opt-in for running past a bound.
    fn byzantine_to_draw(&self, _params: &Self::Params, cluster_size: usize) -> usize {
        self.byzantine_max(cluster_size)
    }

    /// The names of the adversaries this protocol supplies for
    /// `crate::fault::Fault::Strategy` (a PBFT primary that equivocates, a selfish
    /// miner): 1 to 32 bytes of `a-z`, `0-9` and `_`, each built by
    /// [`Protocol::strategy_core`]. A scenario naming another is refused, and the
    /// generator draws them only for a protocol that tolerates Byzantine nodes.
    /// Default: none.
    fn strategies(&self) -> &'static [&'static str] {
        &[]
    }

    /// The core node `id` runs while the adversary `strategy` (one of
    /// [`Protocol::strategies`]) holds it: the same core type, with the node's
    /// identity and keys (it may sign with its own key only, never another node's),
    /// fresh for every incarnation as [`Protocol::core`] is. `None` for a name the
    /// protocol does not supply (the default), which `prepare` refuses before a run.
    fn strategy_core(
        &self,
        _setup: &RunSetup<Self>,
        _id: NodeId,
        _strategy: &str,
    ) -> Option<Self::Core> {
        None
    }

    /// The planted bugs this protocol carries (off unless a scenario names them).
    fn bugs(&self) -> &'static [PlantedBug] {
        &[]
    }

    /// When a run in its liveness phase is over before its bound. Default: once
    /// every decider has decided.
    fn settle(&self, setup: &RunSetup<Self>) -> Box<dyn Settle<Self::Core>> {
        Box::new(AllDecided::new(&self.deciders(setup)))
    }

    /// The properties judged on every run: safety, liveness and coverage, by name.
    /// Default: the single-value shape's generic judges ([`shapes::value::judges`]).
    fn properties(&self) -> Vec<Judge<Self>> {
        shapes::value::judges()
    }

    /// The nodes of `setup`'s scope that are interchangeable, and how to rename ids in
    /// this protocol's values ([`symmetry`] says what that vouches for). The
    /// exhaustive lane then visits one state of each renaming. Default: none.
    fn symmetry(&self, _setup: &RunSetup<Self>) -> Option<Symmetry<Self::Core>> {
        None
    }
}

/// Reads a run's history as it grows and says when the run may stop early.
pub trait Settle<C: Core> {
    /// Read the events appended since the last call (`events` is the whole history).
    fn observe(&mut self, events: &[Event<C>]);
    /// Whether nothing more is owed: the run may end (in its liveness phase).
    fn settled(&self) -> bool;
    /// The reason the trace's last line gives for a settled run.
    fn reason(&self) -> &'static str;
}

/// The default [`Settle`]: every decider has recorded a decision.
#[derive(Debug, Default)]
pub struct AllDecided {
    waiting: BTreeSet<NodeId>,
    scanned: usize,
}

impl AllDecided {
    pub fn new(deciders: &[NodeId]) -> Self {
        AllDecided {
            waiting: deciders.iter().copied().collect(),
            scanned: 0,
        }
    }
}

impl<C: Core> Settle<C> for AllDecided {
    fn observe(&mut self, events: &[Event<C>]) {
        for e in &events[self.scanned.min(events.len())..] {
            if let (Some(node), crate::history::EventKind::Protocol(event)) = (e.node, &e.kind) {
                if matches!(C::observe(event), Some(Observation::Decided(_))) {
                    self.waiting.remove(&node);
                }
            }
        }
        self.scanned = events.len();
    }

    fn settled(&self) -> bool {
        self.waiting.is_empty()
    }

    fn reason(&self) -> &'static str {
        "every decider decided"
    }
}
