//! The shell for plug-in protocols: drives any sans-IO core that implements [`Core`]
//! over a [`Transport`] and a [`Storage`], the way the Paxos shell drives
//! `paxos::Node`. It runs the timers and the client request, executes the core's
//! outputs in order (persist, write and fsync, before anything after it), sends through
//! the fault layer, and records everything in the history with the plug-in event kinds
//! (`NodeStarted`, `MsgSent`, `MsgDelivered`, `StatePersisted`, `Proposed`, `Decided`,
//! `Note`). A protocol that plugs in through `crate::protocol` writes only its core.
//!
//! Wire format: `tag 0xC0 u8 | from u16 | msg_id u64 | the message as JSON`, big-endian,
//! at most [`DATAGRAM_BYTES_MAX`] bytes. A datagram that does not decode is recorded as
//! `Malformed` and dropped, as in the Paxos shell.

use super::{send_with_verdict, NodeEnv, NodeError, TIMERS_MAX};
use crate::fault::Verdict;
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::{Transport, DATAGRAM_BYTES_MAX};
use crate::paxos::Value;
use crate::sim::rng::Draw;
use crate::storage::Storage;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// A protocol's node as a pure state machine: input in, outputs out, no I/O, no clock,
/// no randomness (ARCHITECTURE.md principle 1).
pub trait Core {
    /// The messages nodes exchange. `Display` is how a trace shows one.
    type Msg: Clone + Serialize + DeserializeOwned + fmt::Display;
    /// What the node keeps on disk. `Display` is how a trace shows it.
    type State: Clone + Serialize + DeserializeOwned + fmt::Display;
    /// The timers the core asks for.
    type Timer: Clone;

    /// Feed one input; append what the node wants done to `out`, in order.
    fn step(&mut self, input: CoreInput<Self>, out: &mut Vec<CoreOutput<Self>>);

    /// The kind of `msg`, a short label the fault layer's targeted faults filter on
    /// (list the labels in the scenario generator, e.g. `Peers::message_kinds`).
    fn msg_kind(_msg: &Self::Msg) -> &'static str {
        "msg"
    }
}

/// An input to a [`Core`].
pub enum CoreInput<C: Core + ?Sized> {
    /// The node (re)starts with what its storage recovered (`None`: a fresh disk).
    Start {
        recovered: Option<C::State>,
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

/// What a [`Core`] asks its shell to do.
pub enum CoreOutput<C: Core + ?Sized> {
    /// Send `msg` to `to` through the fault layer (a core handles messages to itself
    /// internally; the shell sends these over the network like any other).
    Send { to: NodeId, msg: C::Msg },
    /// Write and fsync this state before executing the outputs after it.
    Persist(C::State),
    /// Fire `timer` after a delay drawn uniformly from the range by the node's stream.
    SetTimer {
        timer: C::Timer,
        delay_ms_min: u64,
        delay_ms_max: u64,
    },
    /// The node proposes `value` (the generic checkers' validity reads this).
    Proposed(Value),
    /// The node decided `value` for good: emit once per node, ever, and persist the
    /// decision first, so a restart does not decide again.
    Decided(Value),
    /// A line for the trace.
    Note(String),
}

/// One node of a [`Core`] protocol: everything it needs to start, the same for every
/// incarnation (the runner clones it for each start, so each starts with a fresh core).
#[derive(Debug, Clone)]
pub struct CoreNode<C> {
    pub id: NodeId,
    /// The core before [`CoreInput::Start`].
    pub core: C,
    /// The client request this node receives, and when (re-armed on every restart).
    pub client_request: Option<(u64, Value)>,
}

const WIRE_TAG: u8 = 0xC0;
const HEADER_BYTES: usize = 11;

fn encode<M: Serialize>(from: NodeId, msg_id: u64, msg: &M) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(WIRE_TAG);
    out.extend_from_slice(&from.0.to_be_bytes());
    out.extend_from_slice(&msg_id.to_be_bytes());
    serde_json::to_writer(&mut out, msg).expect("messages serialize");
    // A core that builds a message too big for a datagram is broken, not the network.
    assert!(
        out.len() <= DATAGRAM_BYTES_MAX,
        "{from} built a {}-byte message; the limit is {DATAGRAM_BYTES_MAX}",
        out.len()
    );
    out
}

fn decode<M: DeserializeOwned>(bytes: &[u8]) -> Result<(NodeId, u64, M), String> {
    if bytes.len() > DATAGRAM_BYTES_MAX {
        return Err(format!(
            "datagram of {} bytes exceeds the {DATAGRAM_BYTES_MAX}-byte limit",
            bytes.len()
        ));
    }
    if bytes.len() < HEADER_BYTES {
        return Err(format!("{} bytes is shorter than the header", bytes.len()));
    }
    if bytes[0] != WIRE_TAG {
        return Err(format!("tag {:#04x} is not {WIRE_TAG:#04x}", bytes[0]));
    }
    let from = NodeId(u16::from_be_bytes([bytes[1], bytes[2]]));
    let msg_id = u64::from_be_bytes(bytes[3..11].try_into().expect("8 bytes"));
    let msg = serde_json::from_slice(&bytes[HEADER_BYTES..]).map_err(|e| e.to_string())?;
    Ok((from, msg_id, msg))
}

struct Shell<C: Core, T: Transport + 'static, S: Storage> {
    id: NodeId,
    core: C,
    transport: Rc<T>,
    storage: S,
    env: NodeEnv,
    timers: BTreeMap<(u64, u64), C::Timer>,
    timer_seq: u64,
    msg_seq: u64,
}

/// Run one incarnation of a [`Core`] node until it is crashed (the future is dropped)
/// or fails.
pub async fn run_core<C: Core, T: Transport + 'static, S: Storage>(
    node: CoreNode<C>,
    transport: T,
    mut storage: S,
    env: NodeEnv,
) -> Result<(), NodeError> {
    let recovered: Option<C::State> = match storage.load()? {
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(NodeError::BadSnapshot)?),
        None => None,
    };
    let CoreNode {
        id,
        core,
        client_request,
    } = node;
    let mut shell = Shell {
        id,
        core,
        transport: Rc::new(transport),
        storage,
        timers: BTreeMap::new(),
        timer_seq: 0,
        msg_seq: (env.incarnation as u64) << 32,
        env,
    };
    shell.record(EventKind::NodeStarted {
        incarnation: shell.env.incarnation,
        recovered: recovered.as_ref().map(|s| s.to_string()),
    });
    shell.step(CoreInput::Start { recovered }).await?;

    let mut pending_request = client_request;
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
                    shell.step(CoreInput::ClientRequest { value }).await?;
                } else if let Some(key) = shell.timers.keys().next().copied().filter(|k| k.0 <= now) {
                    let timer = shell.timers.remove(&key).expect("key just seen");
                    shell.step(CoreInput::TimerFired { timer }).await?;
                }
            }
            received = shell.transport.recv(&mut buf) => {
                let len = received?;
                match decode::<C::Msg>(&buf[..len]) {
                    Ok((from, msg_id, msg)) => {
                        shell.record(EventKind::MsgDelivered { from, msg_id, msg: msg.to_string() });
                        shell.step(CoreInput::Receive { from, msg }).await?;
                    }
                    Err(error) => shell.record(EventKind::Malformed { bytes: len, error }),
                }
            }
        }
    }
}

impl<C: Core, T: Transport + 'static, S: Storage> Shell<C, T, S> {
    fn now(&self) -> u64 {
        (self.env.clock)()
    }

    fn record(&self, kind: EventKind) {
        self.env.recorder.record(self.now(), Some(self.id), kind);
    }

    /// Step the core and execute its outputs in order.
    async fn step(&mut self, input: CoreInput<C>) -> Result<(), NodeError> {
        let mut outputs = Vec::new();
        self.core.step(input, &mut outputs);
        for output in outputs {
            match output {
                CoreOutput::Persist(state) => {
                    let bytes = serde_json::to_vec(&state).expect("state serializes");
                    self.storage.store(&bytes)?;
                    self.record(EventKind::StatePersisted {
                        state: state.to_string(),
                    });
                }
                CoreOutput::Send { to, msg } => self.send(to, msg).await,
                CoreOutput::SetTimer {
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
                CoreOutput::Proposed(value) => self.record(EventKind::Proposed { value }),
                CoreOutput::Decided(value) => self.record(EventKind::Decided { value }),
                CoreOutput::Note(text) => self.record(EventKind::Note { text }),
            }
        }
        Ok(())
    }

    /// Send through the fault layer: dropped, delivered once or twice, maybe late.
    async fn send(&mut self, to: NodeId, msg: C::Msg) {
        self.msg_seq += 1;
        let msg_id = self.msg_seq;
        self.record(EventKind::MsgSent {
            to,
            msg_id,
            msg: msg.to_string(),
        });
        let verdict = match &self.env.faults {
            Some(layer) => {
                let now_ms = self.now();
                layer
                    .borrow_mut()
                    .verdict(self.id, to, C::msg_kind(&msg), now_ms)
            }
            None => Verdict::Deliver { delays_ms: vec![0] },
        };
        let from = self.id;
        let datagram = || encode(from, msg_id, &msg);
        send_with_verdict(&self.transport, to, msg_id, verdict, datagram, &|kind| {
            self.record(kind)
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message round-trips through the generic wire format; every malformed
    /// datagram (cut, wrong tag, bad JSON, oversized) is an error, never a panic.
    #[test]
    fn wire_round_trips_and_refuses_garbage() {
        let bytes = encode(NodeId(3), 7, &("Value_A".to_string(), 2u32));
        let (from, id, msg): (NodeId, u64, (String, u32)) = decode(&bytes).unwrap();
        assert_eq!((from, id, msg), (NodeId(3), 7, ("Value_A".into(), 2)));
        for cut in 0..bytes.len() {
            assert!(decode::<(String, u32)>(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut wrong_tag = bytes.clone();
        wrong_tag[0] = 1;
        assert!(decode::<(String, u32)>(&wrong_tag).is_err());
        let oversized = vec![WIRE_TAG; DATAGRAM_BYTES_MAX + 1];
        assert!(decode::<(String, u32)>(&oversized)
            .unwrap_err()
            .contains("exceeds"));
    }
}
