//! The fast world (docs/architecture.md, "One network, two worlds"): a
//! single-threaded discrete-event simulator that drives the same sans-IO cores as the
//! turmoil world, with no tokio, no turmoil and no codec. One calendar of timed actions
//! ([`Calendar`]: node starts, client requests, timer firings, held-back copies entering
//! the network, datagram deliveries); the director applies faults and phases at the start of each
//! simulated millisecond, then [`World::run_due`] runs that millisecond's actions in
//! the node shell's order ([`Action::order`]).
//!
//! What it shares with the turmoil world, so both give a scenario the same trace:
//! - **The network.** One [`FaultLayer`] (per-sender streams for each message's fate
//!   and each copy's latency) and one [`Wires`] (links and their cut counts): a copy
//!   enters the network on an uncut link, after its extra delay if the sender's
//!   incarnation still runs, and is delivered at entry + latency if its link was not
//!   cut since and its receiver runs.
//! - **Recording.** The same events in the same per-node order: `Started`, then the
//!   start step's outputs; `ClientRequest` before its step; `Delivered` before its
//!   step; `Persisted` after the (synchronous, durable) store; `Sent`, then `Dropped`
//!   or (`Duplicated`, then one `Delayed` per held-back copy).
//! - **Message ids** `(incarnation << 32) + n`; **timers** drawn from the node's
//!   incarnation stream, at least 1 ms.
//! - **Crash.** The node stops at once; its timers, pending request and held-back copies
//!   are discarded; its disk is the last `Persist`; a `PersistUnsynced` since then
//!   (planted bugs only) is lost, as in `SimFileStorage`.
//! - **Restart.** A new incarnation (one more than the last spawned, counting a start a
//!   crash at the same instant pre-empted), `Started` with the recovered state, and the
//!   client request again, at once if its time has passed.
//!
//! What differs, none of it semantic: messages are passed as values (no codec, so no
//! `Malformed`), the disk is an in-memory `Option<State>` per node, and more than
//! [`EVENT_QUEUE_MAX`] pending actions or [`TIMERS_MAX`] timers end the run as a
//! `HarnessError`.

use super::calendar::Calendar;
use super::director::{direct, RunReport, World};
use super::wires::Wires;
use crate::fault::{Copy, FaultLayer, Verdict};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::net::{begin, Header};
use crate::node::{message_too_big, CoreNode, TIMERS_MAX};
use crate::protocol::{Context, Core, CoreInput, CoreOutput, Protocol, RunSetup, Settle};
use crate::rng::{stream_rng, Draw, Stream};
use crate::value::Value;
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Most events the queue may hold at once; beyond it the run ends as a harness error.
pub const EVENT_QUEUE_MAX: usize = 1_000_000;

/// Events the history has room for from the start.
const HISTORY_EVENTS_RESERVED: usize = 512;

/// Something that happens to one node at a simulated time.
enum Action<C: Core> {
    /// Incarnation `incarnation` of node `node` (an index) begins to run.
    Start { node: usize, incarnation: u32 },
    /// The node's client request arrives (in this incarnation).
    ClientRequest { node: usize, incarnation: u32 },
    TimerFired {
        node: usize,
        incarnation: u32,
        timer: C::Timer,
        /// The order it was set in, within its incarnation (ties at one instant).
        seq: u64,
    },
    /// A copy the fault layer held back is handed to the network now.
    DelayEnds {
        from: usize,
        incarnation: u32,
        to: usize,
        msg_id: u64,
        msg: C::Msg,
        copy: Copy,
        copy_index: u8,
    },
    /// A datagram reaches `to`, if its link was not cut since it entered the network.
    Deliver {
        from: usize,
        to: usize,
        msg_id: u64,
        msg: C::Msg,
        entry_ms: u64,
        copy_index: u8,
        cut_count: u64,
    },
}

impl<C: Core> Action<C> {
    /// The order of actions due at the same millisecond, as the node shell takes
    /// them: by node; for one node its start, then its client request, then its
    /// timers (in the order set), then its datagrams (by sender, message id, when
    /// they entered the network, copy). A held-back copy entering the network draws
    /// nothing and orders nothing: it goes last.
    fn order(&self) -> (usize, u8, u64, u64, u64, u8) {
        match *self {
            Action::Start { node, .. } => (node, 0, 0, 0, 0, 0),
            Action::ClientRequest { node, .. } => (node, 1, 0, 0, 0, 0),
            Action::TimerFired { node, seq, .. } => (node, 2, seq, 0, 0, 0),
            Action::Deliver {
                from,
                to,
                msg_id,
                entry_ms,
                copy_index,
                ..
            } => (to, 3, from as u64, msg_id, entry_ms, copy_index),
            Action::DelayEnds {
                from,
                msg_id,
                copy_index,
                ..
            } => (from, 4, msg_id, 0, 0, copy_index),
        }
    }
}

/// Whether a node's software runs.
enum Life<C> {
    /// Crashed (or never started).
    Down,
    /// Spawned; its `Start` event is queued.
    Spawned { incarnation: u32 },
    Up {
        incarnation: u32,
        core: Box<C>,
        rng: Box<ChaCha8Rng>,
        msg_seq: u64,
        timer_seq: u64,
        timers_pending: usize,
    },
}

struct Slot<C: Core> {
    /// The node as every incarnation starts it.
    node: CoreNode<C>,
    /// What the last `Persist` stored (fsynced: survives any crash).
    disk: Option<C::State>,
    /// A state written without fsync since then (`PersistUnsynced`): what a read sees
    /// while the node runs, and what a crash discards, as turmoil's fs does.
    unsynced: Option<C::State>,
    /// The log as fsynced (`Append`, `Truncate`): survives any crash.
    log_disk: Vec<C::Entry>,
    /// Entries appended without fsync since the last synced log write
    /// (`AppendUnsynced`): the next synced one writes them first, a crash loses them.
    log_unsynced: Vec<C::Entry>,
    /// The incarnation the next spawn gets.
    incarnation_next: u32,
    life: Life<C>,
    /// What the running incarnation remembers for a replay (`Fault::Replay`), as the
    /// shell does; a restart forgets it.
    memory: crate::fault::ReplayMemory<C::Msg>,
}

/// The fast world: the calendar of actions, the nodes and their disks, the links.
struct Fast<C: Core> {
    seed: u64,
    now_ms: u64,
    /// Pending actions by millisecond, each millisecond's in the order scheduled.
    queue: Calendar<Action<C>>,
    /// The nodes (by position in the cluster), then their twins
    /// ([`crate::fault::Fault::Twin`], one slot per twin the schedule names).
    slots: Vec<Slot<C>>,
    /// The nodes' positions (the originals').
    index: BTreeMap<NodeId, usize>,
    /// How many nodes the cluster has: slots from here on are twins.
    nodes: usize,
    /// The twin slot of each node that has one, by the node's position.
    twin_of: Vec<Option<usize>>,
    /// Whether each twin slot's twin has started (by slot; false for the originals).
    twin_started: Vec<bool>,
    history: History<C>,
    faults: RefCell<FaultLayer>,
    wires: Wires,
    /// The first harness error, which ends the run.
    error: Option<String>,
    /// A step's outputs, kept between steps so a step allocates nothing for them.
    outputs: Vec<CoreOutput<C>>,
    /// The actions due in one millisecond, kept between milliseconds likewise.
    batch: Vec<Action<C>>,
    /// Where a sent message is encoded to check its size, as the shell does.
    wire: Vec<u8>,
    /// The honest and adversary cores of the nodes a `Fault::Strategy` names.
    cores: super::adversary::Cores<C>,
}

/// Run a prepared scenario of `protocol` in the fast lane to its end.
pub fn run_fast<P: Protocol>(protocol: &P, setup: &RunSetup<P>) -> RunReport<P::Core> {
    let scenario = &setup.scenario;
    let seed = scenario.seed;
    let ids = scenario.cluster.ids();
    let twins = scenario.faults.twins();
    let slot = |id: NodeId, incarnation_next: u32| Slot {
        node: CoreNode {
            id,
            core: protocol.core(setup, id),
            client_request: scenario.request_of(id),
        },
        disk: None,
        unsynced: None,
        log_disk: Vec::new(),
        log_unsynced: Vec::new(),
        incarnation_next,
        life: Life::Down,
        memory: crate::fault::ReplayMemory::default(),
    };
    let mut slots: Vec<Slot<P::Core>> = ids.iter().map(|&id| slot(id, 0)).collect();
    let n = slots.len();
    let mut twin_of = vec![None; if twins.is_empty() { 0 } else { n }];
    for &twin in &twins {
        if let Some(i) = ids.iter().position(|&id| id == twin) {
            twin_of[i] = Some(slots.len());
            slots.push(slot(twin, super::TWIN_INCARNATION));
        }
    }
    let twin_started = vec![false; slots.len()];
    let network = &scenario.network;
    let mut world = Fast {
        seed,
        now_ms: 0,
        queue: Calendar::new(),
        index: ids.iter().enumerate().map(|(i, &id)| (id, i)).collect(),
        slots,
        nodes: n,
        twin_of,
        twin_started,
        // Room for a typical run's events, so the history is not copied while it grows.
        history: History::with_capacity(HISTORY_EVENTS_RESERVED),
        faults: RefCell::new(FaultLayer::new(
            seed,
            network.latency_ms_min,
            network.latency_ms_max,
        )),
        // In slot order, so the fast world asks for links by its nodes' positions.
        wires: Wires::with_twins(&ids, twins.len()),
        error: None,
        outputs: Vec::new(),
        batch: Vec::new(),
        wire: Vec::new(),
        cores: super::adversary::Cores::build(protocol, setup),
    };
    // turmoil spawns every host's software when the simulation is built.
    for node in 0..n {
        world.spawn(node);
    }
    let mut settle = protocol.settle(setup);
    direct(world, scenario, settle.as_mut())
}

impl<C: Core> World<C> for Fast<C> {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn record(&mut self, kind: EventKind<C>) {
        self.history.push(self.now_ms, None, kind);
    }

    fn observe(&self, settle: &mut dyn Settle<C>) {
        settle.observe(&self.history.events);
    }

    fn fault_layer(&self) -> &RefCell<FaultLayer> {
        &self.faults
    }

    fn partition(&mut self, a: NodeId, b: NodeId) {
        self.wires.cut(a, b);
        self.wires.cut(b, a);
    }

    fn partition_one_way(&mut self, from: NodeId, to: NodeId) {
        self.wires.cut(from, to);
    }

    fn repair_all(&mut self) {
        self.wires.repair_all();
    }

    fn crash(&mut self, node: NodeId) {
        if let Some(&i) = self.index.get(&node) {
            self.slots[i].life = Life::Down;
            self.slots[i].unsynced = None;
            self.slots[i].log_unsynced.clear();
        }
    }

    fn restart(&mut self, node: NodeId) {
        if let Some(&i) = self.index.get(&node) {
            self.spawn(i);
        }
    }

    /// The twin's disk is a copy of its node's durable one (what the turmoil world
    /// reads back from the history: `super::twin::durable_of`).
    fn start_twin(&mut self, node: NodeId) {
        let Some(&i) = self.index.get(&node) else {
            return;
        };
        let Some(t) = self.twin_of.get(i).copied().flatten() else {
            return;
        };
        self.slots[t].disk = self.slots[i].disk.clone();
        self.slots[t].log_disk = self.slots[i].log_disk.clone();
        self.twin_started[t] = true;
        self.spawn(t);
    }

    fn set_core(&mut self, node: NodeId, strategy: Option<&str>) {
        if let (Some(&i), Some(core)) = (self.index.get(&node), self.cores.core(node, strategy)) {
            self.slots[i].node.core = core;
        }
    }

    fn place_twin(&mut self, node: NodeId, peer: NodeId, up: bool) {
        let twin = self
            .index
            .get(&node)
            .and_then(|&i| self.twin_of.get(i).copied().flatten());
        if let (Some(t), Some(&p)) = (twin, self.index.get(&peer)) {
            self.wires.set_both_at(t, p, up);
        }
    }

    /// Every action due now, in the shell's order ([`Action::order`]). Nothing an
    /// action does schedules another for the same millisecond (timers and latencies
    /// are at least 1 ms; a restart's start is scheduled by the director, before).
    fn run_due(&mut self) -> Result<(), String> {
        let now_ms = self.now_ms;
        let mut batch = std::mem::take(&mut self.batch);
        // In the order scheduled, which the stable sort keeps for equal keys, as the
        // heap's (time, sequence) order did.
        self.queue.take_due(&mut batch);
        batch.sort_by_key(Action::order);
        for action in batch.drain(..) {
            self.execute(action);
            if self.error.is_none() && self.queue.len() > EVENT_QUEUE_MAX {
                self.error = Some(format!(
                    "event queue exceeded {EVENT_QUEUE_MAX} entries at {now_ms} ms"
                ));
            }
            if self.error.is_some() {
                break;
            }
        }
        batch.clear();
        self.batch = batch;
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn jump(&mut self, next_ms: u64) {
        let mut next_ms = next_ms;
        if let Some(due_ms) = self.queue.next_ms() {
            next_ms = next_ms.min(due_ms);
        }
        self.now_ms = next_ms.max(self.now_ms + 1);
        self.queue.advance(self.now_ms);
    }

    fn history_events(&self) -> usize {
        self.history.len()
    }

    fn thin_history(&mut self) {
        self.history.thin(self.now_ms);
    }

    fn into_history(self) -> History<C> {
        self.history
    }
}

impl<C: Core> Fast<C> {
    fn schedule(&mut self, at_ms: u64, action: Action<C>) {
        self.queue.push(at_ms, action);
    }

    fn record_node(&mut self, node: usize, kind: EventKind<C>) {
        let id = self.slots[node].node.id;
        let kind = if node < self.nodes {
            kind
        } else {
            EventKind::Twin(Box::new(kind))
        };
        self.history.push(self.now_ms, Some(id), kind);
    }

    /// The twin slot of the node at position `node`, if its twin runs.
    fn running_twin(&self, node: usize) -> Option<usize> {
        self.twin_of
            .get(node)
            .copied()
            .flatten()
            .filter(|&t| self.twin_started[t])
    }

    /// Spawn the node's next incarnation; it starts when its `Start` event runs.
    fn spawn(&mut self, node: usize) {
        let slot = &mut self.slots[node];
        let incarnation = slot.incarnation_next;
        slot.incarnation_next += 1;
        slot.life = Life::Spawned { incarnation };
        self.schedule(self.now_ms, Action::Start { node, incarnation });
    }

    /// The running incarnation of `node`, if any.
    fn running(&self, node: usize) -> Option<u32> {
        match self.slots[node].life {
            Life::Up { incarnation, .. } => Some(incarnation),
            _ => None,
        }
    }

    fn execute(&mut self, action: Action<C>) {
        match action {
            Action::Start { node, incarnation } => {
                if !matches!(self.slots[node].life, Life::Spawned { incarnation: i } if i == incarnation)
                {
                    return; // crashed before it ran
                }
                let seed = self.seed;
                let slot = &mut self.slots[node];
                let recovered = slot.unsynced.clone().or_else(|| slot.disk.clone());
                let mut log = slot.log_disk.clone();
                log.extend(slot.log_unsynced.iter().cloned());
                let id = slot.node.id;
                slot.memory = crate::fault::ReplayMemory::default();
                slot.life = Life::Up {
                    incarnation,
                    core: Box::new(slot.node.core.clone()),
                    rng: Box::new(stream_rng(
                        seed,
                        Stream::Node {
                            node: id,
                            incarnation,
                        },
                    )),
                    msg_seq: (incarnation as u64) << 32,
                    timer_seq: 0,
                    timers_pending: 0,
                };
                let request_at = slot.node.client_request.as_ref().map(|(at, _)| *at);
                self.record_node(
                    node,
                    EventKind::Started {
                        incarnation,
                        recovered: recovered.clone(),
                    },
                );
                if !log.is_empty() {
                    let len = log.len() as u64;
                    self.record_node(node, EventKind::LogRecovered { len });
                }
                self.step(
                    node,
                    CoreInput::Start {
                        incarnation,
                        recovered,
                        log,
                    },
                );
                match request_at {
                    // A request already due comes right after the start, as the shell
                    // takes it at once.
                    Some(at_ms) if at_ms <= self.now_ms => {
                        self.execute(Action::ClientRequest { node, incarnation })
                    }
                    Some(at_ms) => {
                        self.schedule(at_ms, Action::ClientRequest { node, incarnation })
                    }
                    None => {}
                }
            }
            Action::ClientRequest { node, incarnation } => {
                if self.running(node) != Some(incarnation) {
                    return;
                }
                let value: Value = self.slots[node]
                    .node
                    .client_request
                    .as_ref()
                    .map(|(_, v)| v.clone())
                    .expect("scheduled only for a node with a request");
                self.record_node(
                    node,
                    EventKind::ClientRequest {
                        value: value.clone(),
                    },
                );
                self.step(node, CoreInput::ClientRequest { value });
            }
            Action::TimerFired {
                node,
                incarnation,
                timer,
                ..
            } => {
                if self.running(node) != Some(incarnation) {
                    return;
                }
                if let Life::Up { timers_pending, .. } = &mut self.slots[node].life {
                    *timers_pending -= 1;
                }
                self.step(node, CoreInput::TimerFired { timer });
            }
            Action::DelayEnds {
                from,
                incarnation,
                to,
                msg_id,
                msg,
                copy,
                copy_index,
            } => {
                if self.running(from) == Some(incarnation) {
                    self.enter_network(from, to, msg_id, msg, copy.latency_ms, copy_index);
                }
            }
            Action::Deliver {
                from,
                to,
                msg_id,
                msg,
                cut_count,
                ..
            } => {
                if !self.wires.intact_at(from, to, cut_count) || self.running(to).is_none() {
                    return; // cut in flight, or nobody listening
                }
                let from = self.slots[from].node.id;
                self.record_node(
                    to,
                    EventKind::Delivered {
                        from,
                        msg_id,
                        msg: msg.clone(),
                    },
                );
                let to_id = self.slots[to].node.id;
                if to < self.nodes && self.faults.get_mut().remembers(to_id) {
                    self.slots[to].memory.remember(&msg);
                }
                self.step(to, CoreInput::Receive { from, msg });
            }
        }
    }

    /// Step the node's core and execute its outputs in order, as the shell does.
    fn step(&mut self, node: usize, input: CoreInput<C>) {
        let mut outputs = std::mem::take(&mut self.outputs);
        match &mut self.slots[node].life {
            Life::Up { core, rng, .. } => {
                let mut cx = Context {
                    now_ms: self.now_ms,
                    rng,
                };
                core.step(&mut cx, input, &mut outputs)
            }
            _ => unreachable!("only a running node is stepped"),
        }
        for output in outputs.drain(..) {
            match output {
                CoreOutput::Persist(state) => {
                    self.slots[node].disk = Some(state.clone());
                    self.slots[node].unsynced = None;
                    self.record_node(node, EventKind::Persisted { state });
                }
                CoreOutput::PersistUnsynced(state) => {
                    self.slots[node].unsynced = Some(state.clone());
                    self.record_node(node, EventKind::WrittenUnsynced { state });
                }
                CoreOutput::Append(entries) => {
                    let slot = &mut self.slots[node];
                    slot.log_disk.append(&mut slot.log_unsynced);
                    slot.log_disk.extend(entries.iter().cloned());
                    self.record_node(node, EventKind::Appended { entries });
                }
                CoreOutput::AppendUnsynced(entries) => {
                    let slot = &mut self.slots[node];
                    slot.log_unsynced.extend(entries.iter().cloned());
                    self.record_node(node, EventKind::AppendedUnsynced { entries });
                }
                CoreOutput::Truncate { len } => {
                    let slot = &mut self.slots[node];
                    slot.log_disk.append(&mut slot.log_unsynced);
                    slot.log_disk
                        .truncate(usize::try_from(len).unwrap_or(usize::MAX));
                    self.record_node(node, EventKind::Truncated { len });
                }
                CoreOutput::Send { to, msg } => {
                    self.send(node, to, msg);
                    if self.error.is_some() {
                        break; // the node's shell stops at an oversize message
                    }
                }
                CoreOutput::SetTimer {
                    timer,
                    delay_ms_min,
                    delay_ms_max,
                } => self.set_timer(node, timer, delay_ms_min, delay_ms_max),
                CoreOutput::Event(event) => self.record_node(node, EventKind::Protocol(event)),
            }
        }
        self.outputs = outputs;
    }

    fn set_timer(&mut self, node: usize, timer: C::Timer, delay_ms_min: u64, delay_ms_max: u64) {
        let Life::Up {
            incarnation,
            rng,
            timer_seq,
            timers_pending,
            ..
        } = &mut self.slots[node].life
        else {
            unreachable!("only a running node is stepped")
        };
        // Never sooner than the next millisecond, as in the shell.
        let delay_ms = rng.between(delay_ms_min, delay_ms_max).max(1);
        *timers_pending += 1;
        *timer_seq += 1;
        let (incarnation, pending, seq) = (*incarnation, *timers_pending, *timer_seq);
        if pending > TIMERS_MAX && self.error.is_none() {
            self.error = Some(format!(
                "{} asked for over {TIMERS_MAX} timers",
                self.slots[node].node.id
            ));
        }
        self.schedule(
            self.now_ms + delay_ms,
            Action::TimerFired {
                node,
                incarnation,
                timer,
                seq,
            },
        );
    }

    /// Send through the fault layer: dropped, or handed to the network once or twice,
    /// each copy at once or after its extra delay.
    fn send(&mut self, from: usize, to_id: NodeId, mut msg: C::Msg) {
        let from_id = self.slots[from].node.id;
        let twin = from >= self.nodes;
        // A Byzantine replay or mutation, as the shell applies it (before the send is
        // counted). A twin is Byzantine by being there: nothing else is armed for it.
        if twin {
        } else if let Some(nth) = self
            .faults
            .get_mut()
            .replay(from_id, to_id, C::msg_kind(&msg))
        {
            if let Some(old) = self.slots[from].memory.recall(nth) {
                msg = old;
                self.record_node(from, EventKind::Replayed { to: to_id, nth });
            }
        } else if let Some(mutation) =
            self.faults
                .get_mut()
                .mutation(from_id, to_id, C::msg_kind(&msg))
        {
            if let Life::Up { core, .. } = &self.slots[from].life {
                let options = core.mutations(&msg);
                if !options.is_empty() {
                    msg = options[mutation as usize % options.len()].clone();
                    self.record_node(
                        from,
                        EventKind::Mutated {
                            to: to_id,
                            mutation,
                        },
                    );
                }
            }
        }
        if !twin && self.faults.get_mut().remembers(from_id) {
            self.slots[from].memory.remember(&msg);
        }
        let Life::Up {
            incarnation,
            msg_seq,
            ..
        } = &mut self.slots[from].life
        else {
            unreachable!("only a running node sends")
        };
        *msg_seq += 1;
        let (msg_id, incarnation) = (*msg_seq, *incarnation);
        let from_id = self.slots[from].node.id;
        // The size the shell would encode, and its verdict on an oversize message,
        // unless the core's codec bounds every message within its limit.
        let bounded = C::MESSAGE_BYTES_BOUND.is_some_and(|bound| bound <= C::MESSAGE_BYTES_MAX);
        if !bounded && !self.fits(from_id, msg_id, &msg) {
            return;
        }
        let layer = self.faults.get_mut();
        let verdict = if twin {
            layer.verdict_of_twin(from_id, to_id, C::msg_kind(&msg), self.now_ms)
        } else {
            layer.verdict(from_id, to_id, C::msg_kind(&msg), self.now_ms)
        };
        self.record_node(
            from,
            EventKind::Sent {
                to: to_id,
                msg_id,
                msg: msg.clone(),
            },
        );
        let copies = match verdict {
            Verdict::Drop => {
                self.record_node(from, EventKind::Dropped { to: to_id, msg_id });
                return;
            }
            Verdict::Deliver { copies } => copies,
        };
        if copies.len() > 1 {
            self.record_node(from, EventKind::Duplicated { to: to_id, msg_id });
        }
        let Some(&to) = self.index.get(&to_id) else {
            return; // no such host: UDP loses it
        };
        let count = copies.len();
        let mut msg = Some(msg);
        for (i, copy) in copies.into_iter().enumerate() {
            // The last copy takes the message itself; only a duplicate needs a clone.
            let msg = if i + 1 == count {
                msg.take().expect("the last copy takes it")
            } else {
                msg.clone().expect("not taken yet")
            };
            let copy_index = i as u8;
            if copy.delay_ms == 0 {
                self.enter_network(from, to, msg_id, msg, copy.latency_ms, copy_index);
            } else {
                self.record_node(
                    from,
                    EventKind::Delayed {
                        to: to_id,
                        msg_id,
                        delay_ms: copy.delay_ms,
                    },
                );
                self.schedule(
                    self.now_ms + copy.delay_ms,
                    Action::DelayEnds {
                        from,
                        incarnation,
                        to,
                        msg_id,
                        msg,
                        copy,
                        copy_index,
                    },
                );
            }
        }
    }

    /// Whether `msg`, encoded as the shell would, fits the core's limit; if not, the
    /// run ends as the shell ends it.
    fn fits(&mut self, from_id: NodeId, msg_id: u64, msg: &C::Msg) -> bool {
        begin(
            &mut self.wire,
            Header {
                from: from_id,
                msg_id,
            },
        );
        C::encode_msg(msg, &mut self.wire);
        let fits = self.wire.len() <= C::MESSAGE_BYTES_MAX;
        if !fits && self.error.is_none() {
            self.error = Some(message_too_big::<C>(from_id, msg, self.wire.len()));
        }
        fits
    }

    /// A datagram to the node at position `to` enters the network: it goes to the node
    /// and, if one runs, to its twin, each on its own link (see
    /// [`Fast::enter_endpoint`]).
    fn enter_network(
        &mut self,
        from: usize,
        to: usize,
        msg_id: u64,
        msg: C::Msg,
        latency_ms: u64,
        copy_index: u8,
    ) {
        if let Some(twin) = self.running_twin(to) {
            let copy = msg.clone();
            self.enter_endpoint(from, to, msg_id, copy, latency_ms, copy_index);
            self.enter_endpoint(from, twin, msg_id, msg, latency_ms, copy_index);
        } else {
            self.enter_endpoint(from, to, msg_id, msg, latency_ms, copy_index);
        }
    }

    /// A datagram enters the network for one endpoint: lost if its link is cut, else
    /// delivered after the latency the fault layer drew for it.
    fn enter_endpoint(
        &mut self,
        from: usize,
        to: usize,
        msg_id: u64,
        msg: C::Msg,
        latency_ms: u64,
        copy_index: u8,
    ) {
        let Some(cut_count) = self.wires.enter_at(from, to) else {
            return;
        };
        self.schedule(
            self.now_ms + latency_ms,
            Action::Deliver {
                from,
                to,
                msg_id,
                msg,
                entry_ms: self.now_ms,
                copy_index,
                cut_count,
            },
        );
    }
}
