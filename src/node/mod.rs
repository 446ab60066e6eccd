//! The async node shell: drives a Paxos [`Node`] core over a [`Transport`] and a
//! [`Storage`]. It executes what the core asks for, in order (persist before the reply
//! that reveals it), runs the timers, and records everything in the history. It holds
//! no protocol rule; the same shell runs under turmoil and, with other `Transport` and
//! `Storage` impls, on real sockets.

/// The same shell for any protocol's sans-IO [`Core`] (the plug-in contract's node).
mod generic;
/// The send path every shell shares.
mod send;

pub use generic::{run_core, Core, CoreInput, CoreNode, CoreOutput};
pub use send::send_with_verdict;

use crate::fault::{FaultLayer, Verdict};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::{decode, encode, Envelope, Transport, DATAGRAM_BYTES_MAX};
use crate::paxos::{
    Bugs, DurableState, Input, Membership, Node, Note, Output, Roles, Timer, TimingConfig, Value,
};
use crate::sim::rng::Draw;
use crate::storage::{Storage, StorageError};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use thiserror::Error;

/// Most timers a node may have pending; a core asking for more is a bug.
pub const TIMERS_MAX: usize = 1_024;

#[derive(Debug, Error)]
pub enum NodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("recovered state does not parse: {0}")]
    BadSnapshot(serde_json::Error),
    #[error("transport: {0}")]
    Transport(#[from] std::io::Error),
}

/// Everything a node needs to know to start, the same for every incarnation.
#[derive(Debug, Clone)]
pub struct NodeSetup {
    pub id: NodeId,
    pub roles: Roles,
    pub members: Membership,
    pub timing: TimingConfig,
    /// The client request this node's proposer receives, and when.
    pub client_request: Option<(u64, Value)>,
    /// Planted bugs switched on (none for correct Paxos).
    pub bugs: Bugs,
}

/// Where a node's events go, stamped with its clock.
pub trait Recorder {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind);
}

/// What a node shell runs against besides its transport and storage.
pub struct NodeEnv {
    /// Milliseconds since the run (or process) started.
    pub clock: Rc<dyn Fn() -> u64>,
    pub recorder: Rc<dyn Recorder>,
    /// The per-message fault layer; `None` on a real network.
    pub faults: Option<Rc<RefCell<FaultLayer>>>,
    /// This incarnation's own random stream (backoff jitter).
    pub rng: ChaCha8Rng,
    /// 0 for the first start, then one more per restart. Message ids carry it, so ids
    /// stay unique across restarts.
    pub incarnation: u32,
}

struct Shell<T: Transport + 'static, S: Storage> {
    id: NodeId,
    transport: Rc<T>,
    storage: S,
    env: NodeEnv,
    timers: BTreeMap<(u64, u64), Timer>,
    timer_seq: u64,
    msg_seq: u64,
}

/// Run one incarnation of a node until it is crashed (the future is dropped) or fails.
pub async fn run_node<T: Transport + 'static, S: Storage>(
    setup: NodeSetup,
    transport: T,
    mut storage: S,
    env: NodeEnv,
) -> Result<(), NodeError> {
    let recovered: Option<DurableState> = match storage.load()? {
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(NodeError::BadSnapshot)?),
        None => None,
    };
    let mut node = Node::with_bugs(
        setup.id,
        setup.roles,
        setup.members.clone(),
        setup.timing.clone(),
        setup.bugs.clone(),
    );
    let mut shell = Shell {
        id: setup.id,
        transport: Rc::new(transport),
        storage,
        timers: BTreeMap::new(),
        timer_seq: 0,
        msg_seq: (env.incarnation as u64) << 32,
        env,
    };
    shell.record(EventKind::Started {
        incarnation: shell.env.incarnation,
        recovered: recovered.clone(),
    });
    shell.step(&mut node, Input::Start { recovered }).await?;

    let mut pending_request = setup.client_request.clone();
    let mut buf = vec![0u8; DATAGRAM_BYTES_MAX + 1];
    loop {
        let now = shell.now();
        let next_timer = shell.timers.keys().next().map(|&(at, _)| at);
        let request_at = pending_request.as_ref().map(|(at, _)| *at);
        let wake_at = match (next_timer, request_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep_ms = wake_at.map_or(0, |at| at.saturating_sub(now));
        tokio::select! {
            biased;
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms)), if wake_at.is_some() => {
                let now = shell.now();
                if request_at.is_some_and(|at| at <= now) {
                    let (_, value) = pending_request.take().expect("checked above");
                    shell.record(EventKind::ClientRequest { value: value.clone() });
                    shell.step(&mut node, Input::ClientRequest { value }).await?;
                } else if let Some((&key, _)) = shell.timers.iter().next().filter(|(k, _)| k.0 <= now) {
                    let timer = shell.timers.remove(&key).expect("key just seen");
                    shell.step(&mut node, Input::TimerFired { timer }).await?;
                }
            }
            received = shell.transport.recv(&mut buf) => {
                let len = received?;
                match decode(&buf[..len]) {
                    Ok(Envelope { from, msg_id, msg }) => {
                        shell.record(EventKind::Delivered { from, msg_id, msg: msg.clone() });
                        shell.step(&mut node, Input::Receive { from, msg }).await?;
                    }
                    Err(e) => shell.record(EventKind::Malformed { bytes: len, error: e.to_string() }),
                }
            }
        }
    }
}

impl<T: Transport + 'static, S: Storage> Shell<T, S> {
    fn now(&self) -> u64 {
        (self.env.clock)()
    }

    fn record(&self, kind: EventKind) {
        self.env.recorder.record(self.now(), Some(self.id), kind);
    }

    /// Step the core and execute its outputs in order.
    async fn step(&mut self, node: &mut Node, input: Input) -> Result<(), NodeError> {
        let mut outputs = Vec::new();
        node.step(input, &mut outputs);
        for output in outputs {
            match output {
                Output::Persist(state) => {
                    let bytes = serde_json::to_vec(&state).expect("state serializes");
                    self.storage.store(&bytes)?;
                    self.record(EventKind::Persisted { state });
                }
                Output::WriteUnsynced(state) => {
                    let bytes = serde_json::to_vec(&state).expect("state serializes");
                    self.storage.store_unsynced(&bytes)?;
                    self.record(EventKind::WrittenUnsynced { state });
                }
                Output::Send { to, msg } => self.send(to, msg).await,
                Output::SetTimer {
                    timer,
                    delay_ms_min,
                    delay_ms_max,
                } => {
                    let delay = self.env.rng.between(delay_ms_min, delay_ms_max);
                    self.timer_seq += 1;
                    self.timers
                        .insert((self.now() + delay, self.timer_seq), timer);
                    assert!(
                        self.timers.len() <= TIMERS_MAX,
                        "{} asked for over {TIMERS_MAX} timers",
                        self.id
                    );
                }
                Output::Note(note) => {
                    if let Note::Learned { value, .. } = &note {
                        // The lab's servers write the chosen value to a plain file.
                        self.storage
                            .write_plain("chosen_value", value.0.as_bytes())?;
                    }
                    self.record(EventKind::Protocol(note));
                }
            }
        }
        Ok(())
    }

    /// Send through the fault layer: dropped, delivered once or twice, maybe late.
    async fn send(&mut self, to: NodeId, msg: crate::paxos::Msg) {
        self.msg_seq += 1;
        let msg_id = self.msg_seq;
        self.record(EventKind::Sent {
            to,
            msg_id,
            msg: msg.clone(),
        });
        let verdict = match &self.env.faults {
            Some(layer) => layer
                .borrow_mut()
                .verdict(self.id, to, msg.kind_name(), self.now()),
            None => Verdict::Deliver { delays_ms: vec![0] },
        };
        let from = self.id;
        let datagram = || encode(&Envelope { from, msg_id, msg });
        send_with_verdict(&self.transport, to, msg_id, verdict, datagram, &|kind| {
            self.record(kind)
        })
        .await;
    }
}
