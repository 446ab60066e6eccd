//! One state of a whole cluster as the exhaustive lane sees it, and the one executor of
//! its steps ([`ScriptStep`]), shared by the search and by the fast lane's replay of a
//! saved script, so a counterexample replays exactly the path that was found.
//!
//! The semantics mirror the fast world (`crate::sim::fast`), output by output: a
//! `Persist` is durable at once, a `PersistUnsynced` or `AppendUnsynced` is visible to
//! the running node and lost with a crash, a synced log write makes earlier unsynced
//! entries durable first, a restart is a new incarnation that recovers the synced state
//! and log and gets its client request again. Events are recorded in the same kinds
//! and per-node order as the fast world, so the judges read the same history.
//!
//! What the model does differently, on purpose:
//! - **Time is logical.** Step *k* of a path happens at *k* ms (the cluster starts at
//!   0 ms); that is the `now_ms` a core sees and the time events carry. The absolute
//!   clock is not part of a state: the model assumes a core's behaviour depends on the
//!   clock only through what it stores (which its fingerprint covers) and its timers.
//! - **Timers fire in any order.** A set timer may fire at any later step; its delay
//!   is still drawn from the node's stream (so the stream advances as in the other
//!   lanes) and orders timers only in the liveness phase ([`Model::finish`]).
//! - **Messages wait in a multiset**, in any order, for as long as it takes; one to a
//!   crashed node waits for its restart (a datagram delayed that long), since UDP may
//!   deliver it late. Drops and duplicates are explicit, bounded steps.
//! - **Client requests** (each node's first in the workload) arrive at any step after
//!   the node starts, and again after each restart, as in the other lanes.
//! - **Each node's random stream is part of its state**: the same
//!   `Stream::Node { node, incarnation }` as the other lanes, at the position the node
//!   drew it to.

use super::fingerprint::{feed_serialized, of_tokens, Fingerprinter};
use crate::fault::ScriptStep;
use crate::history::{Event, EventKind, Phase};
use crate::ids::NodeId;
use crate::net::{begin, Header};
use crate::node::{message_too_big, TIMERS_MAX};
use crate::protocol::{Context, Core, CoreInput, CoreOutput, Protocol, Rename, Renaming, RunSetup};
use crate::rng::{stream_rng, ChaCha8Rng, Draw, Stream};
use crate::value::Value;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Most messages in flight at once; beyond it the search stops with an error.
pub const IN_FLIGHT_MAX: usize = 4_096;

/// What a path has spent of each bounded action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Spent {
    pub drops: u32,
    pub duplicates: u32,
    pub crashes: u32,
    pub timeouts: u32,
}

/// A timer a running node set and that has not fired.
#[derive(Clone)]
struct PendingTimer<C: Core> {
    /// The order it was set in, within the incarnation (from 1): how a script names it.
    seq: u64,
    timer: C::Timer,
    /// Its fingerprint.
    key: u64,
    /// When it would fire by its drawn delay: the liveness phase fires timers in this
    /// order; the search ignores it.
    due_ms: u64,
}

/// A running incarnation.
#[derive(Clone)]
struct Up<C: Core> {
    incarnation: u32,
    core: C,
    /// Where the node's stream is ([`Stream::Node`] of this incarnation): the stream
    /// is rebuilt at this position for each step, which keeps a state small.
    rng_pos: u128,
    msg_seq: u64,
    timer_seq: u64,
    timers: Vec<PendingTimer<C>>,
    /// The node's client request has not arrived in this incarnation yet.
    request_pending: bool,
}

/// One node: its software (if running) and its disk.
#[derive(Clone)]
pub(crate) struct NodeState<C: Core> {
    up: Option<Up<C>>,
    incarnation_next: u32,
    disk: Option<C::State>,
    unsynced: Option<C::State>,
    log_disk: Vec<C::Entry>,
    log_unsynced: Vec<C::Entry>,
    /// The fingerprint of the disk (all four fields above), kept as they change.
    disk_key: u64,
    /// The node's whole fingerprint, kept current by every step that touches it.
    key: u64,
    /// With symmetry ([`Sym`]): the disk's fingerprint with ids renamed by each
    /// permutation, in [`Sym::perms`] order; empty without.
    disk_keys_sym: Box<[u64]>,
    /// With symmetry: the node's fingerprint renamed by each permutation, the
    /// identity's included (computed as the others are, not as `key` is).
    keys_sym: Box<[u64]>,
}

/// A message in flight.
#[derive(Clone)]
pub(crate) struct Packet<C: Core> {
    from: usize,
    to: usize,
    msg_id: u64,
    msg: C::Msg,
    /// Fingerprint of (from, to, the message's encoding): what the multiset is sorted
    /// and fingerprinted by (message ids are not part of a state).
    key: u64,
    /// The order it was put in flight: the liveness phase delivers in this order.
    sent_seq: u64,
    /// With symmetry: `key` of the packet renamed by each permutation (its ends moved,
    /// its message renamed).
    keys_sym: Box<[u64]>,
}

/// The whole cluster: nodes (shared between states until a step changes one), the
/// network as a multiset of packets sorted by fingerprint, the budgets spent, and the
/// protocol events recorded so far as a set (see [`State::fingerprint`]). Shared parts
/// are behind `Arc`, not `Rc`, so a state may move between threads: another checker
/// (stateright, in benches/model.rs) explores these states on its worker threads.
#[derive(Clone)]
pub struct State<C: Core> {
    nodes: Vec<Arc<NodeState<C>>>,
    net: Vec<Arc<Packet<C>>>,
    pub(crate) spent: Spent,
    /// Fingerprints of every (node, incarnation, protocol event) recorded on the path,
    /// sorted.
    events_seen: Arc<Vec<u64>>,
    /// The sum (wrapping) of the mixed keys of `events_seen`: a hash of the set kept
    /// as it grows, so a fingerprint costs one word for it, not one per event.
    events_sum: u64,
    /// The sum (wrapping) of the mixed keys of the packets in flight, kept as they
    /// come and go: the multiset's hash.
    net_sum: u64,
    /// With symmetry, for each permutation: the sum (wrapping) of the mixed keys of
    /// `events_seen`'s events renamed, a hash of the set kept as it grows (an event
    /// new to the path is new to each renaming of it, so each sum adds each event
    /// once).
    events_seen_sym: Box<[u64]>,
    /// With symmetry, for each permutation: the sum (wrapping) of the mixed renamed
    /// keys of the packets in flight, a hash of the multiset kept as packets come
    /// and go.
    net_sym: Box<[u64]>,
    /// Logical time: the number of steps taken.
    pub(crate) now_ms: u64,
    sent_seq: u64,
}

impl<C: Core> State<C> {
    /// How many distinct (node, incarnation, protocol event) the path recorded.
    pub fn events_seen(&self) -> usize {
        self.events_seen.len()
    }

    /// The state's fingerprint: every node's (software, random stream position,
    /// pending timers, client request, disk), the in-flight multiset, the budgets
    /// spent, and the set of (node, incarnation, protocol event) recorded on the way. The last makes two
    /// paths one state only if they also told the judges the same things (a value
    /// chosen at an earlier ballot and since overwritten in every acceptor is still in
    /// the history the judges read); the order of those events is not part of it.
    /// The multiset and the set enter as the sums of their members' mixed keys, kept
    /// as members come and go, so a fingerprint costs a word per node, not a word per
    /// message and per event too (equal sets, equal sums; unequal ones collide with
    /// about the chance of any two 64-bit fingerprints).
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fingerprinter::default();
        for node in &self.nodes {
            h.write_u64(node.key);
        }
        h.write_usize(self.net.len());
        h.write_u64(self.net_sum);
        self.spent.hash(&mut h);
        h.write_usize(self.events_seen.len());
        h.write_u64(self.events_sum);
        h.finish()
    }
}

/// Whether two steps, both enabled in a state, are independent: taken in either order
/// they reach states with the same fingerprint, and neither disables the other. The
/// relation a partial-order reduction would rest on (docs/model-checking.md says why
/// none is built yet); the unit test `independent_steps_commute` checks it on every
/// pair of every state of a small scope.
///
/// Two steps are independent when they act on different nodes and do not spend the
/// same budget. A step acts on one node: the receiver of a delivery, drop or
/// duplicate (the packet is in flight to it), the node of a timer, client request,
/// crash or restart. Why that suffices:
/// - Each step changes only its own node's slot (core, stream position, timers, disk,
///   incarnation); the other's node is untouched, so its step sees the same input.
/// - Both may add packets to the network, and a delivery or drop removes its own
///   packet (one addressed to its node, so not the other's): the network is a
///   multiset fingerprinted in sorted order, and additions and distinct removals
///   commute. Message ids and send order differ between the orders, but neither is
///   part of a state.
/// - Both may add events to the events-seen set: union commutes.
/// - Budgets: drops, duplicates, timer firings and crashes each spend a shared
///   counter, so two steps of one kind may disable each other at the bound; steps of
///   different kinds touch different counters (deliveries, requests and restarts
///   none).
/// - Neither disables the other: a step on node X cannot remove a packet to Y, stop
///   Y, clear Y's timers or request, or spend the other's budget.
#[cfg_attr(not(test), allow(dead_code))] // Only the unit test uses it until a reduction does.
pub(crate) fn independent(a: &ScriptStep, b: &ScriptStep) -> bool {
    fn node_of(step: &ScriptStep) -> NodeId {
        match step {
            ScriptStep::Deliver { to, .. }
            | ScriptStep::Drop { to, .. }
            | ScriptStep::Duplicate { to, .. } => *to,
            ScriptStep::FireTimer { node, .. }
            | ScriptStep::ClientRequest { node }
            | ScriptStep::Crash { node }
            | ScriptStep::Restart { node } => *node,
        }
    }
    fn budget_of(step: &ScriptStep) -> Option<u8> {
        match step {
            ScriptStep::Drop { .. } => Some(0),
            ScriptStep::Duplicate { .. } => Some(1),
            ScriptStep::FireTimer { .. } => Some(2),
            ScriptStep::Crash { .. } => Some(3),
            _ => None,
        }
    }
    node_of(a) != node_of(b) && (budget_of(a).is_none() || budget_of(a) != budget_of(b))
}

/// Which stream a cached [`ChaCha8Rng`] is, and where.
#[derive(Clone, Copy, PartialEq, Eq)]
struct StreamKey {
    seed: u64,
    node: NodeId,
    incarnation: u32,
    pos: u128,
}

impl StreamKey {
    /// Its slot in [`STREAMS`]: one per node id (an incarnation or position that
    /// differs replaces it).
    fn slot(&self) -> usize {
        usize::from(self.node.0) % STREAMS_SLOTS
    }
}

const STREAMS_SLOTS: usize = 64;

thread_local! {
    /// The streams this thread's steps last used, one per node: a step rebuilds its
    /// node's stream at the node's position ([`Up::rng_pos`]), which costs a ChaCha
    /// block (and the seeding) each time; most steps of a search take a node whose
    /// position has not moved since its last step (Paxos draws only timer delays),
    /// so a copy of the stream that step left is the same stream at the same place.
    /// Keyed by everything that fixes the stream's output (seed, node, incarnation,
    /// position), so a hit is exactly the stream `stream_rng` would build.
    static STREAMS: std::cell::RefCell<Vec<Option<(StreamKey, ChaCha8Rng)>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// The buffers a send encodes its message into, and its renamings (see
    /// [`Model::send`]).
    static WIRE: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The fingerprint of a packet from node index `from` to `to` with `bytes` (the
/// message's encoding without its envelope).
fn packet_key(from: usize, to: usize, bytes: &[u8]) -> u64 {
    let mut h = Fingerprinter::default();
    h.write_usize(from);
    h.write_usize(to);
    h.write(bytes);
    h.finish()
}

/// Why a step could not run: the run (or search) ends with this harness error.
pub type StepError = String;

/// A cluster of `protocol` as a state machine over [`ScriptStep`]s.
pub(crate) struct Model<'a, P: Protocol> {
    pub protocol: &'a P,
    pub setup: &'a RunSetup<P>,
    ids: Vec<NodeId>,
    index: BTreeMap<NodeId, usize>,
    /// The core every incarnation of each node starts as.
    cores: Vec<P::Core>,
    /// Each node's client request (its first in the workload).
    requests: Vec<Option<Value>>,
    seed: u64,
    /// The symmetry the search reduces by, if any ([`Model::with_symmetry`]).
    sym: Option<Sym<P::Core>>,
}

type Events<P> = Vec<Event<<P as Protocol>::Core>>;

/// Most permutations a symmetry may have (6! = 720: one group of six, or groups of
/// three and four with 144): each state's key is computed once per permutation.
pub const PERMUTATIONS_MAX: usize = 720;

/// One permutation of the interchangeable nodes, by node index.
struct Perm {
    renaming: Renaming,
    /// Node index `i` goes to index `to[i]`.
    to: Vec<usize>,
    /// The node at index `j` of the renamed state is node `from[j]`.
    from: Vec<usize>,
}

/// A symmetry of the scope: the interchangeable groups the search reduces by and every
/// permutation they allow, the identity first. A state's key in the visited set is the
/// least over the permutations of the fingerprint of the state renamed
/// ([`Model::key`]), so states that differ only by a renaming are one state; the
/// search still walks real states and real paths, so a counterexample is a path that
/// was taken.
pub(crate) struct Sym<C: Core> {
    pub groups: Vec<Vec<NodeId>>,
    perms: Vec<Perm>,
    rename: Box<dyn Rename<C>>,
}

/// A key spread over all 64 bits (SplitMix64's finish), for the sums that hash a
/// set or multiset of keys in any order: summing raw keys would let structured keys
/// cancel.
fn mix(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of a protocol event `id` recorded in `incarnation`, as the events-seen set
/// keeps it.
fn event_key<E: serde::Serialize>(id: NodeId, incarnation: u32, event: &E) -> u64 {
    let mut h = Fingerprinter::default();
    h.write_u16(id.0);
    h.write_u32(incarnation);
    feed_serialized(&mut h, event);
    h.finish()
}

/// Every permutation of `items`, in no particular order (all are used).
fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for (i, &first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

impl<'a, P: Protocol> Model<'a, P> {
    pub fn new(protocol: &'a P, setup: &'a RunSetup<P>) -> Self {
        let ids = setup.scenario.cluster.ids();
        Model {
            protocol,
            setup,
            index: ids.iter().enumerate().map(|(i, &id)| (id, i)).collect(),
            cores: ids.iter().map(|&id| protocol.core(setup, id)).collect(),
            requests: ids
                .iter()
                .map(|&id| setup.scenario.request_of(id).map(|(_, v)| v))
                .collect(),
            seed: setup.scenario.seed,
            ids,
            sym: None,
        }
    }

    /// The model reduced by the protocol's symmetry ([`Protocol::symmetry`]), its groups
    /// refined by what the scope treats differently: nodes that may crash and nodes that
    /// may not, nodes whose timers may fire and nodes whose may not, and different client
    /// requests are never swapped. No change if the protocol declares none or no group
    /// of two is left. An error past [`PERMUTATIONS_MAX`] permutations.
    pub fn with_symmetry(
        mut self,
        crash_nodes: &[NodeId],
        timer_nodes: &[NodeId],
    ) -> Result<Self, StepError> {
        let Some(symmetry) = self.protocol.symmetry(self.setup) else {
            return Ok(self);
        };
        let mut groups: Vec<Vec<NodeId>> = Vec::new();
        for group in &symmetry.groups {
            // (may crash, timers may fire, client request): nodes alike in all three.
            type Class<'v> = (bool, bool, Option<&'v Value>);
            let mut parts: Vec<(Class, Vec<NodeId>)> = Vec::new();
            for id in group {
                let Some(&i) = self.index.get(id) else {
                    return Err(format!(
                        "{}'s symmetry names {id}, which is not in the cluster",
                        self.protocol.name()
                    ));
                };
                if groups.iter().flatten().any(|g| g == id)
                    || parts.iter().any(|(_, p)| p.contains(id))
                {
                    return Err(format!(
                        "{}'s symmetry names {id} twice",
                        self.protocol.name()
                    ));
                }
                let class = (
                    crash_nodes.is_empty() || crash_nodes.contains(id),
                    timer_nodes.is_empty() || timer_nodes.contains(id),
                    self.requests[i].as_ref(),
                );
                match parts.iter_mut().find(|(c, _)| *c == class) {
                    Some((_, members)) => members.push(*id),
                    None => parts.push((class, vec![*id])),
                }
            }
            groups.extend(parts.into_iter().map(|(_, g)| g).filter(|g| g.len() > 1));
        }
        if groups.is_empty() {
            return Ok(self);
        }
        let count = groups
            .iter()
            .try_fold(1usize, |n, g| {
                (1..=g.len()).try_fold(n, |n, k| n.checked_mul(k))
            })
            .filter(|&n| n <= PERMUTATIONS_MAX);
        if count.is_none() {
            return Err(format!(
                "symmetry: the groups {groups:?} have over {PERMUTATIONS_MAX} permutations; \
                 use --no-symmetry"
            ));
        }
        // Every combination of one permutation per group, the identity first.
        let n = self.ids.len();
        let mut perms: Vec<Vec<usize>> = vec![(0..n).collect()];
        for group in &groups {
            let members: Vec<usize> = group.iter().map(|id| self.index[id]).collect();
            let mut next = Vec::new();
            for to in &perms {
                for image in permutations(&members) {
                    let mut to = to.clone();
                    for (k, &m) in members.iter().enumerate() {
                        to[m] = image[k];
                    }
                    next.push(to);
                }
            }
            perms = next;
        }
        self.sym = Some(Sym {
            groups,
            perms: perms
                .into_iter()
                .map(|to| {
                    let mut from = vec![0; n];
                    for (i, &j) in to.iter().enumerate() {
                        from[j] = i;
                    }
                    let pairs: Vec<(NodeId, NodeId)> = to
                        .iter()
                        .enumerate()
                        .map(|(i, &j)| (self.ids[i], self.ids[j]))
                        .collect();
                    Perm {
                        renaming: Renaming::new(&pairs).expect("a permutation of the cluster"),
                        to,
                        from,
                    }
                })
                .collect(),
            rename: symmetry.rename,
        });
        Ok(self)
    }

    /// The interchangeable groups the search reduces by (empty: no symmetry).
    pub fn symmetry_groups(&self) -> &[Vec<NodeId>] {
        self.sym.as_ref().map_or(&[], |s| &s.groups)
    }

    /// The state's key in the visited set: its fingerprint, or with symmetry the least
    /// fingerprint of its renamings (the same for every state of one renaming class).
    pub fn key(&self, state: &State<P::Core>) -> u64 {
        let Some(sym) = &self.sym else {
            return state.fingerprint();
        };
        let mut best = u64::MAX;
        for (p, perm) in sym.perms.iter().enumerate() {
            let mut h = Fingerprinter::default();
            for &i in &perm.from {
                h.write_u64(state.nodes[i].keys_sym[p]);
            }
            h.write_usize(state.net.len());
            h.write_u64(state.net_sym[p]);
            state.spent.hash(&mut h);
            h.write_usize(state.events_seen.len());
            h.write_u64(state.events_seen_sym[p]);
            best = best.min(h.finish());
        }
        best
    }

    /// The cluster at 0 ms: the safety phase begins and every node starts on an
    /// empty disk, in node order.
    pub fn initial(&self, events: &mut Events<P>) -> Result<State<P::Core>, StepError> {
        let mut state = State {
            nodes: (0..self.ids.len())
                .map(|_| {
                    Arc::new(NodeState {
                        up: None,
                        incarnation_next: 0,
                        disk: None,
                        unsynced: None,
                        log_disk: Vec::new(),
                        log_unsynced: Vec::new(),
                        disk_key: 0,
                        key: 0,
                        disk_keys_sym: Box::new([]),
                        keys_sym: Box::new([]),
                    })
                })
                .collect(),
            net: Vec::new(),
            spent: Spent::default(),
            events_seen: Arc::new(Vec::new()),
            events_sum: 0,
            net_sum: 0,
            events_seen_sym: vec![0; self.sym.as_ref().map_or(0, |s| s.perms.len())].into(),
            net_sym: vec![0; self.sym.as_ref().map_or(0, |s| s.perms.len())].into(),
            now_ms: 0,
            sent_seq: 0,
        };
        events.push(Event {
            at_ms: 0,
            node: None,
            kind: EventKind::PhaseStarted {
                phase: Phase::Safety,
            },
        });
        for node in 0..self.ids.len() {
            self.start(&mut state, node, events)?;
        }
        Ok(state)
    }

    /// Every step enabled in `state` within `bounds`, in a fixed order: deliveries,
    /// drops and duplicates of each distinct message in flight (identical copies are
    /// one choice), timers (of `timer_nodes` only, unless it is empty), client
    /// requests, crashes (of `crash_nodes` only, unless it is empty), restarts.
    pub fn enabled(
        &self,
        state: &State<P::Core>,
        bounds: &Spent,
        (crash_nodes, timer_nodes): (&[NodeId], &[NodeId]),
        out: &mut Vec<ScriptStep>,
    ) {
        out.clear();
        let mut last_key = None;
        for p in &state.net {
            if last_key == Some(p.key) {
                continue;
            }
            last_key = Some(p.key);
            let (from, to, msg_id) = (self.ids[p.from], self.ids[p.to], p.msg_id);
            if state.nodes[p.to].up.is_some() {
                out.push(ScriptStep::Deliver { from, to, msg_id });
            }
            if state.spent.drops < bounds.drops {
                out.push(ScriptStep::Drop { from, to, msg_id });
            }
            if state.spent.duplicates < bounds.duplicates {
                out.push(ScriptStep::Duplicate { from, to, msg_id });
            }
        }
        for (i, node) in state.nodes.iter().enumerate() {
            let id = self.ids[i];
            match &node.up {
                Some(up) => {
                    if state.spent.timeouts < bounds.timeouts
                        && (timer_nodes.is_empty() || timer_nodes.contains(&id))
                    {
                        let mut keys: Vec<u64> = Vec::new();
                        for t in &up.timers {
                            if !keys.contains(&t.key) {
                                keys.push(t.key);
                                out.push(ScriptStep::FireTimer {
                                    node: id,
                                    timer_seq: t.seq,
                                });
                            }
                        }
                    }
                    if up.request_pending {
                        out.push(ScriptStep::ClientRequest { node: id });
                    }
                    if state.spent.crashes < bounds.crashes
                        && (crash_nodes.is_empty() || crash_nodes.contains(&id))
                    {
                        out.push(ScriptStep::Crash { node: id });
                    }
                }
                None => out.push(ScriptStep::Restart { node: id }),
            }
        }
    }

    /// Take one step at the next millisecond, recording its events. `Ok(false)`: the
    /// step does not apply here (nothing changed but the clock).
    pub fn apply(
        &self,
        state: &mut State<P::Core>,
        step: &ScriptStep,
        events: &mut Events<P>,
    ) -> Result<bool, StepError> {
        state.now_ms += 1;
        let node_of = |id: &NodeId| self.index.get(id).copied();
        match step {
            ScriptStep::Deliver { from, to, msg_id }
            | ScriptStep::Drop { from, to, msg_id }
            | ScriptStep::Duplicate { from, to, msg_id } => {
                let (Some(f), Some(t)) = (node_of(from), node_of(to)) else {
                    return Ok(false);
                };
                let Some(at) = state
                    .net
                    .iter()
                    .position(|p| p.from == f && p.to == t && p.msg_id == *msg_id)
                else {
                    return Ok(false);
                };
                match step {
                    ScriptStep::Deliver { .. } => {
                        if state.nodes[t].up.is_none() {
                            return Ok(false);
                        }
                        // The packet is shared with the parent state as a rule: only
                        // its message is copied (not its renamed keys).
                        let msg = Self::take_in_flight(state, at).msg.clone();
                        self.record(
                            state,
                            t,
                            events,
                            EventKind::Delivered {
                                from: *from,
                                msg_id: *msg_id,
                                msg: msg.clone(),
                            },
                        );
                        self.step(state, t, CoreInput::Receive { from: *from, msg }, events)?;
                    }
                    ScriptStep::Drop { .. } => {
                        Self::take_in_flight(state, at);
                        state.spent.drops += 1;
                        self.record(
                            state,
                            f,
                            events,
                            EventKind::Dropped {
                                to: *to,
                                msg_id: *msg_id,
                            },
                        );
                    }
                    _ => {
                        let mut copy = Packet::clone(&state.net[at]);
                        copy.sent_seq = state.sent_seq;
                        state.sent_seq += 1;
                        state.spent.duplicates += 1;
                        self.put_in_flight(state, Arc::new(copy))?;
                        self.record(
                            state,
                            f,
                            events,
                            EventKind::Duplicated {
                                to: *to,
                                msg_id: *msg_id,
                            },
                        );
                    }
                }
            }
            ScriptStep::FireTimer { node, timer_seq } => {
                let Some(n) = node_of(node) else {
                    return Ok(false);
                };
                let Some(up) = &state.nodes[n].up else {
                    return Ok(false);
                };
                let Some(at) = up.timers.iter().position(|t| t.seq == *timer_seq) else {
                    return Ok(false);
                };
                let node_state = Arc::make_mut(&mut state.nodes[n]);
                let up = node_state.up.as_mut().expect("running");
                let fired = up.timers.remove(at);
                state.spent.timeouts += 1;
                self.step(
                    state,
                    n,
                    CoreInput::TimerFired { timer: fired.timer },
                    events,
                )?;
            }
            ScriptStep::ClientRequest { node } => {
                let Some(n) = node_of(node) else {
                    return Ok(false);
                };
                if !state.nodes[n]
                    .up
                    .as_ref()
                    .is_some_and(|u| u.request_pending)
                {
                    return Ok(false);
                }
                let value = self.requests[n]
                    .clone()
                    .expect("pending only with a request");
                let node_state = Arc::make_mut(&mut state.nodes[n]);
                node_state.up.as_mut().expect("running").request_pending = false;
                self.record(
                    state,
                    n,
                    events,
                    EventKind::ClientRequest {
                        value: value.clone(),
                    },
                );
                self.step(state, n, CoreInput::ClientRequest { value }, events)?;
            }
            ScriptStep::Crash { node } => {
                let Some(n) = node_of(node) else {
                    return Ok(false);
                };
                if state.nodes[n].up.is_none() {
                    return Ok(false);
                }
                state.spent.crashes += 1;
                events.push(Event {
                    at_ms: state.now_ms,
                    node: None,
                    kind: EventKind::Crashed { node: *node },
                });
                let node_state = Arc::make_mut(&mut state.nodes[n]);
                node_state.up = None;
                node_state.unsynced = None;
                node_state.log_unsynced.clear();
                self.rekey_disk(node_state);
                self.rekey(node_state)?;
            }
            ScriptStep::Restart { node } => {
                let Some(n) = node_of(node) else {
                    return Ok(false);
                };
                if state.nodes[n].up.is_some() {
                    return Ok(false);
                }
                events.push(Event {
                    at_ms: state.now_ms,
                    node: None,
                    kind: EventKind::Restarted { node: *node },
                });
                self.start(state, n, events)?;
            }
        }
        Ok(true)
    }

    /// The liveness phase, as the director plays it in the other lanes: every link is
    /// whole and no budget applies; every crashed node restarts (one per step); then,
    /// one step at a time, a pending client request, else the message in flight
    /// longest, else the timer due first; until the protocol's settle rule holds or
    /// `steps_max` steps have passed. `history` is the path's history so far (the settle
    /// rule reads all of it); the phase's events are appended to it. Whether it settled.
    pub fn finish(
        &self,
        state: &mut State<P::Core>,
        history: &mut Events<P>,
        steps_max: u64,
    ) -> Result<bool, StepError> {
        self.finish_taking(state, history, steps_max, &mut |_| {})
    }

    /// [`Model::finish`], telling `taken` every fair step it takes, in order (not the
    /// restarts before them, which follow from the state: every crashed node, in node
    /// order): what the turmoil lane's replay of a script plays after the script's
    /// restarts (`crate::sim::run_turmoil_scripted`).
    pub fn finish_taking(
        &self,
        state: &mut State<P::Core>,
        history: &mut Events<P>,
        steps_max: u64,
        taken: &mut dyn FnMut(&ScriptStep),
    ) -> Result<bool, StepError> {
        let mut settle = self.protocol.settle(self.setup);
        state.now_ms += 1;
        for kind in [
            EventKind::PhaseStarted {
                phase: Phase::Liveness,
            },
            EventKind::Healed,
        ] {
            history.push(Event {
                at_ms: state.now_ms,
                node: None,
                kind,
            });
        }
        let end_ms = state.now_ms.saturating_add(steps_max);
        for n in 0..self.ids.len() {
            if state.nodes[n].up.is_none() {
                self.apply(state, &ScriptStep::Restart { node: self.ids[n] }, history)?;
            }
        }
        let settled = loop {
            settle.observe(history);
            if settle.settled() {
                break true;
            }
            if state.now_ms >= end_ms {
                break false;
            }
            let Some(step) = self.fair_step(state) else {
                break false;
            };
            taken(&step);
            self.apply(state, &step, history)?;
        };
        let reason = if settled {
            settle.reason().to_string()
        } else {
            format!("liveness bound of {steps_max} steps reached")
        };
        history.push(Event {
            at_ms: state.now_ms,
            node: None,
            kind: EventKind::RunEnded { reason },
        });
        Ok(settled)
    }

    /// The liveness phase's next step (see [`Model::finish`]).
    fn fair_step(&self, state: &State<P::Core>) -> Option<ScriptStep> {
        for (i, node) in state.nodes.iter().enumerate() {
            if node.up.as_ref().is_some_and(|u| u.request_pending) {
                return Some(ScriptStep::ClientRequest { node: self.ids[i] });
            }
        }
        if let Some(p) = state
            .net
            .iter()
            .filter(|p| state.nodes[p.to].up.is_some())
            .min_by_key(|p| p.sent_seq)
        {
            return Some(ScriptStep::Deliver {
                from: self.ids[p.from],
                to: self.ids[p.to],
                msg_id: p.msg_id,
            });
        }
        state
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.up.as_ref().map(|u| (i, u)))
            .flat_map(|(i, u)| u.timers.iter().map(move |t| (t.due_ms, i, t.seq)))
            .min()
            .map(|(_, i, seq)| ScriptStep::FireTimer {
                node: self.ids[i],
                timer_seq: seq,
            })
    }

    fn record(
        &self,
        state: &mut State<P::Core>,
        node: usize,
        events: &mut Events<P>,
        kind: EventKind<P::Core>,
    ) {
        if let EventKind::Protocol(event) = &kind {
            let incarnation = state.nodes[node].incarnation_next;
            let key = event_key(self.ids[node], incarnation, event);
            if let Err(at) = state.events_seen.binary_search(&key) {
                // Shared with the parent state as a rule: copied once, with room for
                // the new key (make_mut's exact copy would grow again to insert).
                match Arc::get_mut(&mut state.events_seen) {
                    Some(seen) => seen.insert(at, key),
                    None => {
                        let old = &state.events_seen;
                        let mut seen = Vec::with_capacity(old.len() + 1);
                        seen.extend_from_slice(&old[..at]);
                        seen.push(key);
                        seen.extend_from_slice(&old[at..]);
                        state.events_seen = Arc::new(seen);
                    }
                }
                state.events_sum = state.events_sum.wrapping_add(mix(key));
                // New to the path, so new to every renaming of it too.
                if let Some(sym) = &self.sym {
                    for (perm, sum) in sym.perms.iter().zip(state.events_seen_sym.iter_mut()) {
                        let r = &perm.renaming;
                        let id = r.apply(self.ids[node]);
                        let key = match sym.rename.event(event, r) {
                            Some(renamed) => event_key(id, incarnation, &renamed),
                            None => event_key(id, incarnation, event),
                        };
                        *sum = sum.wrapping_add(mix(key));
                    }
                }
            }
        }
        events.push(Event {
            at_ms: state.now_ms,
            node: Some(self.ids[node]),
            kind,
        });
    }

    /// Spawn the node's next incarnation and feed it its start.
    fn start(
        &self,
        state: &mut State<P::Core>,
        node: usize,
        events: &mut Events<P>,
    ) -> Result<(), StepError> {
        let id = self.ids[node];
        let slot = Arc::make_mut(&mut state.nodes[node]);
        let incarnation = slot.incarnation_next;
        slot.incarnation_next = incarnation
            .checked_add(1)
            .ok_or_else(|| format!("{id} restarted more than {} times", u32::MAX))?;
        let recovered = slot.unsynced.clone().or_else(|| slot.disk.clone());
        let mut log = slot.log_disk.clone();
        log.extend(slot.log_unsynced.iter().cloned());
        slot.up = Some(Up {
            incarnation,
            core: self.cores[node].clone(),
            rng_pos: 0,
            msg_seq: (incarnation as u64) << 32,
            timer_seq: 0,
            timers: Vec::new(),
            request_pending: self.requests[node].is_some(),
        });
        self.record(
            state,
            node,
            events,
            EventKind::Started {
                incarnation,
                recovered: recovered.clone(),
            },
        );
        if !log.is_empty() {
            let len = log.len() as u64;
            self.record(state, node, events, EventKind::LogRecovered { len });
        }
        self.step(
            state,
            node,
            CoreInput::Start {
                incarnation,
                recovered,
                log,
            },
            events,
        )
    }

    /// Step the node's core and execute its outputs in order, as the fast world does.
    fn step(
        &self,
        state: &mut State<P::Core>,
        node: usize,
        input: CoreInput<P::Core>,
        events: &mut Events<P>,
    ) -> Result<(), StepError> {
        let id = self.ids[node];
        let now_ms = state.now_ms;
        let mut outputs = Vec::new();
        let mut rng;
        {
            let slot = Arc::make_mut(&mut state.nodes[node]);
            let up = slot.up.as_mut().expect("only a running node is stepped");
            rng = self.rng(node, up.incarnation, up.rng_pos);
            let mut cx = Context {
                now_ms,
                rng: &mut rng,
            };
            up.core.step(&mut cx, input, &mut outputs);
        }
        let mut disk_changed = false;
        for output in outputs {
            match output {
                CoreOutput::Persist(s) => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    slot.disk = Some(s.clone());
                    slot.unsynced = None;
                    disk_changed = true;
                    self.record(state, node, events, EventKind::Persisted { state: s });
                }
                CoreOutput::PersistUnsynced(s) => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    slot.unsynced = Some(s.clone());
                    disk_changed = true;
                    self.record(state, node, events, EventKind::WrittenUnsynced { state: s });
                }
                CoreOutput::Append(entries) => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    let mut pending = std::mem::take(&mut slot.log_unsynced);
                    slot.log_disk.append(&mut pending);
                    slot.log_disk.extend(entries.iter().cloned());
                    disk_changed = true;
                    self.record(state, node, events, EventKind::Appended { entries });
                }
                CoreOutput::AppendUnsynced(entries) => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    slot.log_unsynced.extend(entries.iter().cloned());
                    disk_changed = true;
                    self.record(state, node, events, EventKind::AppendedUnsynced { entries });
                }
                CoreOutput::Truncate { len } => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    let mut pending = std::mem::take(&mut slot.log_unsynced);
                    slot.log_disk.append(&mut pending);
                    slot.log_disk
                        .truncate(usize::try_from(len).unwrap_or(usize::MAX));
                    disk_changed = true;
                    self.record(state, node, events, EventKind::Truncated { len });
                }
                CoreOutput::Send { to, msg } => self.send(state, node, to, msg, events)?,
                CoreOutput::SetTimer {
                    timer,
                    delay_ms_min,
                    delay_ms_max,
                } => {
                    let slot = Arc::make_mut(&mut state.nodes[node]);
                    let up = slot.up.as_mut().expect("running");
                    let delay_ms = rng.between(delay_ms_min, delay_ms_max).max(1);
                    up.timer_seq += 1;
                    let mut h = Fingerprinter::default();
                    P::Core::fingerprint_timer(&timer, &mut h);
                    up.timers.push(PendingTimer {
                        seq: up.timer_seq,
                        timer,
                        key: h.finish(),
                        due_ms: now_ms.saturating_add(delay_ms),
                    });
                    if up.timers.len() > TIMERS_MAX {
                        return Err(format!("{id} asked for over {TIMERS_MAX} timers"));
                    }
                }
                CoreOutput::Event(event) => {
                    self.record(state, node, events, EventKind::Protocol(event))
                }
            }
        }
        let slot = Arc::make_mut(&mut state.nodes[node]);
        let up = slot.up.as_mut().expect("running");
        let rng_pos = rng.get_word_pos();
        if rng_pos != up.rng_pos {
            up.rng_pos = rng_pos;
            Self::keep_stream(
                StreamKey {
                    seed: self.seed,
                    node: id,
                    incarnation: up.incarnation,
                    pos: rng_pos,
                },
                &rng,
            );
        }
        if disk_changed {
            self.rekey_disk(slot);
        }
        self.rekey(slot)
    }

    /// Put a sent message in flight (unless its receiver is no node: UDP loses it).
    fn send(
        &self,
        state: &mut State<P::Core>,
        node: usize,
        to: NodeId,
        msg: <P::Core as Core>::Msg,
        events: &mut Events<P>,
    ) -> Result<(), StepError> {
        let from = self.ids[node];
        let slot = Arc::make_mut(&mut state.nodes[node]);
        let up = slot.up.as_mut().expect("running");
        up.msg_seq += 1;
        let msg_id = up.msg_seq;
        // The encoding is only hashed: it is written into per-thread buffers, so a
        // send allocates nothing for it.
        let (key, keys_sym) = WIRE
            .with(|buffers| {
                let (wire, renamed_wire) = &mut *buffers.borrow_mut();
                wire.clear();
                begin(wire, Header { from, msg_id });
                let header_len = wire.len();
                P::Core::encode_msg(&msg, wire);
                if wire.len() > P::Core::MESSAGE_BYTES_MAX {
                    return Err(message_too_big::<P::Core>(from, &msg, wire.len()));
                }
                let Some(&t) = self.index.get(&to) else {
                    return Ok(None);
                };
                let keys_sym = match &self.sym {
                    None => Box::default(),
                    Some(sym) => sym
                        .perms
                        .iter()
                        .map(|perm| match sym.rename.msg(&msg, &perm.renaming) {
                            None => packet_key(perm.to[node], perm.to[t], &wire[header_len..]),
                            Some(renamed) => {
                                renamed_wire.clear();
                                P::Core::encode_msg(&renamed, renamed_wire);
                                packet_key(perm.to[node], perm.to[t], renamed_wire)
                            }
                        })
                        .collect(),
                };
                Ok(Some((packet_key(node, t, &wire[header_len..]), keys_sym)))
            })?
            .unzip();
        self.record(
            state,
            node,
            events,
            EventKind::Sent {
                to,
                msg_id,
                msg: msg.clone(),
            },
        );
        let (Some(&t), Some(key), Some(keys_sym)) = (self.index.get(&to), key, keys_sym) else {
            return Ok(());
        };
        let packet = Arc::new(Packet {
            from: node,
            to: t,
            msg_id,
            msg,
            key,
            sent_seq: state.sent_seq,
            keys_sym,
        });
        state.sent_seq += 1;
        self.put_in_flight(state, packet)
    }

    /// Remove the packet at `at` from the network (and from the renamed sums).
    fn take_in_flight(state: &mut State<P::Core>, at: usize) -> Arc<Packet<P::Core>> {
        let packet = state.net.remove(at);
        state.net_sum = state.net_sum.wrapping_sub(mix(packet.key));
        for (sum, key) in state.net_sym.iter_mut().zip(packet.keys_sym.iter()) {
            *sum = sum.wrapping_sub(mix(*key));
        }
        packet
    }

    fn put_in_flight(
        &self,
        state: &mut State<P::Core>,
        packet: Arc<Packet<P::Core>>,
    ) -> Result<(), StepError> {
        if state.net.len() >= IN_FLIGHT_MAX {
            return Err(format!("over {IN_FLIGHT_MAX} messages in flight"));
        }
        let at = state
            .net
            .partition_point(|p| (p.key, p.sent_seq) < (packet.key, packet.sent_seq));
        state.net_sum = state.net_sum.wrapping_add(mix(packet.key));
        for (sum, key) in state.net_sym.iter_mut().zip(packet.keys_sym.iter()) {
            *sum = sum.wrapping_add(mix(*key));
        }
        state.net.insert(at, packet);
        Ok(())
    }

    /// Node `node`'s stream of `incarnation`, at `pos`: from [`STREAMS`] if this
    /// thread built it (or left it there) before, else built.
    pub(crate) fn rng(&self, node: usize, incarnation: u32, pos: u128) -> ChaCha8Rng {
        let key = StreamKey {
            seed: self.seed,
            node: self.ids[node],
            incarnation,
            pos,
        };
        if let Some(rng) = STREAMS.with(|cache| {
            let cache = cache.borrow();
            match cache.get(key.slot()) {
                Some(Some((k, rng))) if *k == key => Some(rng.clone()),
                _ => None,
            }
        }) {
            return rng;
        }
        let mut rng = stream_rng(
            self.seed,
            Stream::Node {
                node: self.ids[node],
                incarnation,
            },
        );
        if pos != 0 {
            rng.set_word_pos(pos);
        }
        Self::keep_stream(key, &rng);
        rng
    }

    /// Leave a stream in [`STREAMS`] for the next step of its node at that position.
    fn keep_stream(key: StreamKey, rng: &ChaCha8Rng) {
        STREAMS.with(|cache| {
            let mut cache = cache.borrow_mut();
            let slot = key.slot();
            if cache.len() <= slot {
                cache.resize(slot + 1, None);
            }
            cache[slot] = Some((key, rng.clone()));
        });
    }

    fn rekey_disk(&self, slot: &mut NodeState<P::Core>) {
        slot.disk_key = of_tokens(&(
            &slot.disk,
            &slot.unsynced,
            &slot.log_disk,
            &slot.log_unsynced,
        ));
        let Some(sym) = &self.sym else {
            return;
        };
        let rename = &sym.rename;
        slot.disk_keys_sym = sym
            .perms
            .iter()
            .map(|perm| {
                let r = &perm.renaming;
                let state = |s: &Option<<P::Core as Core>::State>| {
                    s.as_ref().and_then(|s| rename.state(s, r))
                };
                let log = |l: &[<P::Core as Core>::Entry]| {
                    l.iter().any(|e| rename.entry(e, r).is_some()).then(|| {
                        l.iter()
                            .map(|e| rename.entry(e, r).unwrap_or_else(|| e.clone()))
                            .collect::<Vec<_>>()
                    })
                };
                let (disk, unsynced) = (state(&slot.disk), state(&slot.unsynced));
                let (log_disk, log_unsynced) = (log(&slot.log_disk), log(&slot.log_unsynced));
                if disk.is_none()
                    && unsynced.is_none()
                    && log_disk.is_none()
                    && log_unsynced.is_none()
                {
                    return slot.disk_key;
                }
                of_tokens(&(
                    disk.as_ref().or(slot.disk.as_ref()),
                    unsynced.as_ref().or(slot.unsynced.as_ref()),
                    log_disk.as_ref().unwrap_or(&slot.log_disk),
                    log_unsynced.as_ref().unwrap_or(&slot.log_unsynced),
                ))
            })
            .collect();
    }

    /// Recompute the node's fingerprint; an error if its core cannot give one.
    fn rekey(&self, slot: &mut NodeState<P::Core>) -> Result<(), StepError> {
        let mut h = Fingerprinter::default();
        h.write_u64(slot.disk_key);
        h.write_u32(slot.incarnation_next);
        match &slot.up {
            None => h.write_u8(0),
            Some(up) => {
                h.write_u8(1);
                h.write_u32(up.incarnation);
                if !up.core.fingerprint(&mut h) {
                    return Err(format!(
                        "{} cannot be model checked: its core does not implement \
                         Core::fingerprint (see docs/model-checking.md)",
                        self.protocol.name()
                    ));
                }
                h.write(&up.rng_pos.to_le_bytes());
                let mut keys: Vec<u64> = up.timers.iter().map(|t| t.key).collect();
                keys.sort_unstable();
                h.write_usize(keys.len());
                for k in keys {
                    h.write_u64(k);
                }
                h.write_u8(up.request_pending as u8);
            }
        }
        slot.key = h.finish();
        if let Some(sym) = &self.sym {
            if slot.disk_keys_sym.len() != sym.perms.len() {
                self.rekey_disk(slot);
            }
            slot.keys_sym = sym
                .perms
                .iter()
                .zip(slot.disk_keys_sym.iter())
                .map(|(perm, &disk_key)| {
                    let r = &perm.renaming;
                    let mut h = Fingerprinter::default();
                    h.write_u64(disk_key);
                    h.write_u32(slot.incarnation_next);
                    match &slot.up {
                        None => h.write_u8(0),
                        Some(up) => {
                            h.write_u8(1);
                            h.write_u32(up.incarnation);
                            sym.rename.fingerprint_core(&up.core, r, &mut h);
                            h.write(&up.rng_pos.to_le_bytes());
                            let mut keys: Vec<u64> = up
                                .timers
                                .iter()
                                .map(|t| match sym.rename.timer(&t.timer, r) {
                                    None => t.key,
                                    Some(renamed) => {
                                        let mut h = Fingerprinter::default();
                                        P::Core::fingerprint_timer(&renamed, &mut h);
                                        h.finish()
                                    }
                                })
                                .collect();
                            keys.sort_unstable();
                            h.write_usize(keys.len());
                            for k in keys {
                                h.write_u64(k);
                            }
                            h.write_u8(up.request_pending as u8);
                        }
                    }
                    h.finish()
                })
                .collect();
        }
        Ok(())
    }
}
