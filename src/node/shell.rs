//! [`run_core`]: one incarnation of any protocol's node, as an async task.

use super::{NodeEnv, NodeError, CHOSEN_VALUE_FILE, TIMERS_MAX};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::{begin, split, Header, Transport};
use crate::protocol::{Context, Core, CoreInput, CoreOutput, Observation, MESSAGE_BYTES_LIMIT};
use crate::rng::Draw;
use crate::storage::Storage;
use crate::value::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a script tells a node to do now ([`run_core_scripted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Fire the timer this incarnation set `timer_seq`-th (from 1).
    FireTimer { timer_seq: u64 },
    /// Take the client request, if it has not arrived in this incarnation yet.
    ClientRequest,
}

/// One node of a [`Core`] protocol: everything it needs to start, the same for every
/// incarnation (the world clones it for each start, so each starts with a fresh core).
#[derive(Debug, Clone)]
pub struct CoreNode<C> {
    pub id: NodeId,
    /// The core before [`CoreInput::Start`].
    pub core: C,
    /// The client request this node receives, and when (re-armed on every restart).
    pub client_request: Option<(u64, Value)>,
}

/// Encode `msg` as a datagram from `from`. A core that builds a message over its
/// [`Core::MESSAGE_BYTES_MAX`] is broken (or its limit is wrong), not the network: an
/// error that ends the run, naming the node and the message kind.
pub fn encode<C: Core>(from: NodeId, msg_id: u64, msg: &C::Msg) -> Result<Vec<u8>, NodeError> {
    const {
        assert!(
            C::MESSAGE_BYTES_MAX <= MESSAGE_BYTES_LIMIT,
            "Core::MESSAGE_BYTES_MAX is over MESSAGE_BYTES_LIMIT"
        )
    };
    let mut out = Vec::with_capacity(64);
    begin(&mut out, Header { from, msg_id });
    C::encode_msg(msg, &mut out);
    if out.len() > C::MESSAGE_BYTES_MAX {
        return Err(NodeError::MessageTooBig(message_too_big::<C>(
            from,
            msg,
            out.len(),
        )));
    }
    Ok(out)
}

/// The one text of an oversize message, so both lanes end such a run alike.
pub fn message_too_big<C: Core>(from: NodeId, msg: &C::Msg, bytes: usize) -> String {
    format!(
        "{from} built a {} message of {bytes} bytes; its protocol's limit \
         (Core::MESSAGE_BYTES_MAX) is {} bytes",
        C::msg_kind(msg),
        C::MESSAGE_BYTES_MAX
    )
}

/// Decode a datagram: its sender, id and message, or why not.
pub fn decode<C: Core>(bytes: &[u8]) -> Result<(NodeId, u64, C::Msg), String> {
    let (header, payload) = split(bytes, C::MESSAGE_BYTES_MAX).map_err(|e| e.to_string())?;
    let msg = C::decode_msg(payload)?;
    Ok((header.from, header.msg_id, msg))
}

struct Shell<C: Core, T: Transport + 'static, S: Storage> {
    id: NodeId,
    core: C,
    transport: T,
    storage: S,
    env: NodeEnv<C>,
    timers: BTreeMap<(u64, u64), C::Timer>,
    timer_seq: u64,
    msg_seq: u64,
    outputs: Vec<CoreOutput<C>>,
    /// What a node with an armed replay remembers (`crate::fault::Fault::Replay`).
    memory: crate::fault::ReplayMemory<C::Msg>,
}

/// Run one incarnation of a [`Core`] node until it is crashed (the future is dropped)
/// or fails.
pub async fn run_core<C: Core, T: Transport + 'static, S: Storage>(
    node: CoreNode<C>,
    transport: T,
    storage: S,
    env: NodeEnv<C>,
) -> Result<(), NodeError> {
    run_core_cued(node, transport, storage, env, None).await
}

/// Where a scripted node's cues come from: the next one, if any
/// ([`run_core_scripted`]).
pub type Cues = std::rc::Rc<dyn Fn() -> Option<Cue>>;

/// [`run_core`] following a script ([`crate::fault::Fault::Script`]): the node's
/// timers fire and its client request arrives only when `cues` says (a cue that names
/// no pending timer, or comes with no request pending, does nothing), never by time,
/// and it takes a datagram only when its transport has one due (the scripted network
/// holds each until its delivery step). The node waits on its transport alone, whose
/// `ready` must also wake it for a cue. Everything else (recovery, the core's steps,
/// sends, persists, events) is the same code as any run's.
pub async fn run_core_scripted<C: Core, T: Transport + 'static, S: Storage>(
    node: CoreNode<C>,
    transport: T,
    storage: S,
    env: NodeEnv<C>,
    cues: Cues,
) -> Result<(), NodeError> {
    run_core_cued(node, transport, storage, env, Some(cues)).await
}

async fn run_core_cued<C: Core, T: Transport + 'static, S: Storage>(
    node: CoreNode<C>,
    transport: T,
    mut storage: S,
    env: NodeEnv<C>,
    cues: Option<Cues>,
) -> Result<(), NodeError> {
    let recovered: Option<C::State> = match storage.load()? {
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(NodeError::BadSnapshot)?),
        None => None,
    };
    let log = storage
        .log_load()?
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            serde_json::from_slice(bytes).map_err(|error| NodeError::BadLogEntry { index, error })
        })
        .collect::<Result<Vec<C::Entry>, _>>()?;
    let CoreNode {
        id,
        core,
        client_request,
    } = node;
    let mut shell = Shell {
        id,
        core,
        transport,
        storage,
        timers: BTreeMap::new(),
        timer_seq: 0,
        msg_seq: (env.incarnation as u64) << 32,
        env,
        outputs: Vec::new(),
        memory: crate::fault::ReplayMemory::default(),
    };
    let incarnation = shell.env.incarnation;
    shell.record(EventKind::Started {
        incarnation,
        recovered: recovered.clone(),
    });
    if !log.is_empty() {
        shell.record(EventKind::LogRecovered {
            len: log.len() as u64,
        });
    }
    shell
        .step(CoreInput::Start {
            incarnation,
            recovered,
            log,
        })
        .await?;

    let mut pending_request = client_request;
    // One byte more than the limit, so an oversize datagram shows as one.
    let mut buf = vec![0u8; C::MESSAGE_BYTES_MAX + 1];
    if let Some(cues) = cues {
        loop {
            match cues() {
                Some(Cue::ClientRequest) => {
                    if let Some((_, value)) = pending_request.take() {
                        shell.record(EventKind::ClientRequest {
                            value: value.clone(),
                        });
                        shell.step(CoreInput::ClientRequest { value }).await?;
                    }
                }
                Some(Cue::FireTimer { timer_seq }) => {
                    let key = shell.timers.keys().find(|k| k.1 == timer_seq).copied();
                    if let Some(timer) = key.and_then(|key| shell.timers.remove(&key)) {
                        shell.step(CoreInput::TimerFired { timer }).await?;
                    }
                }
                None if shell.receive(&mut buf).await? => {}
                None => shell.transport.ready().await?,
            }
        }
    }
    loop {
        // Everything due now, in one order whatever woke the node: the client request,
        // then the timers (by due time, then the order they were set), then the
        // datagrams. The fast world orders a node's work within a millisecond the same.
        let now = shell.now();
        if pending_request.as_ref().is_some_and(|(at, _)| *at <= now) {
            let (_, value) = pending_request.take().expect("checked above");
            shell.record(EventKind::ClientRequest {
                value: value.clone(),
            });
            shell.step(CoreInput::ClientRequest { value }).await?;
            continue;
        }
        if let Some(key) = shell.timers.keys().next().copied().filter(|k| k.0 <= now) {
            let timer = shell.timers.remove(&key).expect("key just seen");
            shell.step(CoreInput::TimerFired { timer }).await?;
            continue;
        }
        if shell.receive(&mut buf).await? {
            continue;
        }
        // Nothing is due: wait for the next timer or request, or a datagram.
        let next_timer = shell.timers.keys().next().map(|&(at, _)| at);
        let request_at = pending_request.as_ref().map(|(at, _)| *at);
        let wake_at = match (next_timer, request_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep_ms = wake_at.map_or(0, |at| at.saturating_sub(now));
        tokio::select! {
            biased;
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms)), if wake_at.is_some() => {}
            ready = shell.transport.ready() => ready?,
        }
    }
}

impl<C: Core, T: Transport + 'static, S: Storage> Shell<C, T, S> {
    fn now(&self) -> u64 {
        (self.env.clock)()
    }

    fn record(&self, kind: EventKind<C>) {
        self.env.recorder.record(self.now(), Some(self.id), kind);
    }

    /// Take one datagram due now, if there is one, and step the core with it. Whether
    /// there was one.
    async fn receive(&mut self, buf: &mut [u8]) -> Result<bool, NodeError> {
        let Some(len) = self.transport.try_recv(buf)? else {
            return Ok(false);
        };
        match decode::<C>(&buf[..len]) {
            Ok((from, msg_id, msg)) => {
                self.record(EventKind::Delivered {
                    from,
                    msg_id,
                    msg: msg.clone(),
                });
                if self.transport.remembers() {
                    self.memory.remember(&msg);
                }
                self.step(CoreInput::Receive { from, msg }).await?;
            }
            Err(error) => self.record(EventKind::Malformed { bytes: len, error }),
        }
        Ok(true)
    }

    /// Step the core and execute its outputs in order.
    async fn step(&mut self, input: CoreInput<C>) -> Result<(), NodeError> {
        let mut outputs = std::mem::take(&mut self.outputs);
        let mut cx = Context {
            now_ms: (self.env.clock)(),
            rng: &mut self.env.rng,
        };
        self.core.step(&mut cx, input, &mut outputs);
        for output in outputs.drain(..) {
            match output {
                CoreOutput::Persist(state) => {
                    let bytes = serde_json::to_vec(&state).expect("state serializes");
                    self.storage.store(&bytes)?;
                    self.record(EventKind::Persisted { state });
                }
                CoreOutput::PersistUnsynced(state) => {
                    let bytes = serde_json::to_vec(&state).expect("state serializes");
                    self.storage.write_unsynced(&bytes)?;
                    self.record(EventKind::WrittenUnsynced { state });
                }
                CoreOutput::Append(entries) => {
                    self.storage.log_append(&encode_entries::<C>(&entries))?;
                    self.record(EventKind::Appended { entries });
                }
                CoreOutput::AppendUnsynced(entries) => {
                    self.storage
                        .log_append_unsynced(&encode_entries::<C>(&entries))?;
                    self.record(EventKind::AppendedUnsynced { entries });
                }
                CoreOutput::Truncate { len } => {
                    self.storage.log_truncate(len)?;
                    self.record(EventKind::Truncated { len });
                }
                CoreOutput::Send { to, msg } => self.send(to, msg).await?,
                CoreOutput::SetTimer {
                    timer,
                    delay_ms_min,
                    delay_ms_max,
                } => {
                    // A timer fires no earlier than the next millisecond, so what a node
                    // does within one millisecond is fixed when that millisecond begins.
                    let delay = self.env.rng.between(delay_ms_min, delay_ms_max).max(1);
                    self.timer_seq += 1;
                    self.timers
                        .insert((self.now() + delay, self.timer_seq), timer);
                    assert!(
                        self.timers.len() <= TIMERS_MAX,
                        "{} asked for over {TIMERS_MAX} timers",
                        self.id
                    );
                }
                CoreOutput::Event(event) => {
                    if let Some(Observation::Decided(value)) = C::observe(&event) {
                        self.storage
                            .write_plain(CHOSEN_VALUE_FILE, value.as_str().as_bytes())?;
                    }
                    self.record(EventKind::Protocol(event));
                }
            }
        }
        self.outputs = outputs;
        Ok(())
    }

    /// Record the send and hand the datagram to the transport (in a simulation, the
    /// fault layer's decorator decides what becomes of it). A failed send is a lost
    /// message, as UDP's are: not an error. An oversize message is one, before it is
    /// recorded as sent.
    async fn send(&mut self, to: NodeId, mut msg: C::Msg) -> Result<(), NodeError> {
        // A Byzantine replay takes the send's place; otherwise a mutation may.
        if let Some(nth) = self.transport.replay(to, C::msg_kind(&msg)) {
            if let Some(old) = self.memory.recall(nth) {
                msg = old;
                self.record(EventKind::Replayed { to, nth });
            }
        } else if let Some(mutation) = self.transport.mutation(to, C::msg_kind(&msg)) {
            let options = self.core.mutations(&msg);
            if !options.is_empty() {
                msg = options[mutation as usize % options.len()].clone();
                self.record(EventKind::Mutated { to, mutation });
            }
        }
        if self.transport.remembers() {
            self.memory.remember(&msg);
        }
        self.msg_seq += 1;
        let msg_id = self.msg_seq;
        let datagram = encode::<C>(self.id, msg_id, &msg)?;
        self.record(EventKind::Sent { to, msg_id, msg });
        let _ = self.transport.send(to, &datagram).await;
        Ok(())
    }
}

/// Log entries as the storage keeps them: one JSON document each.
fn encode_entries<C: Core>(entries: &[C::Entry]) -> Vec<Vec<u8>> {
    entries
        .iter()
        .map(|entry| serde_json::to_vec(entry).expect("log entries serialize"))
        .collect()
}
