//! The record of a run: typed events with simulated time and node, in the order they
//! happened. Nodes and the runner append; checkers only read. The canonical text
//! rendering (one line per event) is what trace snapshots hold and what the digest
//! hashes, so two runs with equal digests printed the same trace.

mod render;

pub use render::render_event;

use crate::fault::LinkFaults;
use crate::ids::NodeId;
use crate::paxos::{DurableState, Msg, Note, Value};
use serde::{Deserialize, Serialize};

/// Which half of a run an event belongs to (ARCHITECTURE.md principle 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Faults are injected; only safety is judged.
    Safety,
    /// Faults healed; every learner must learn within the bound.
    Liveness,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    // ---- harness events (node: None) ----
    PhaseStarted {
        phase: Phase,
    },
    Partitioned {
        groups: Vec<Vec<NodeId>>,
    },
    PartitionedOneWay {
        from: Vec<NodeId>,
        to: Vec<NodeId>,
    },
    Healed,
    LinkFaultsSet {
        link: Option<(NodeId, NodeId)>,
        drop_probability: f64,
        duplicate_probability: f64,
        delay_ms_max: u64,
    },
    /// Targeted rates for some message kinds until `until_ms`
    /// ([`crate::fault::Fault::MessageFaults`]).
    MessageFaultsSet {
        kinds: Vec<String>,
        link: Option<(NodeId, NodeId)>,
        drop_probability: f64,
        duplicate_probability: f64,
        delay_ms_max: u64,
        until_ms: u64,
    },
    /// A protocol-timed crash was armed ([`crate::fault::Fault::CrashAfterSend`]).
    CrashArmed {
        node: NodeId,
        kind: String,
        nth: u32,
        down_ms: Option<u64>,
    },
    Crashed {
        node: NodeId,
    },
    Restarted {
        node: NodeId,
    },
    RunEnded {
        reason: String,
    },
    // ---- node events ----
    /// The node's software (re)started with the state storage recovered.
    Started {
        incarnation: u32,
        recovered: Option<DurableState>,
    },
    /// A client request reached this node's proposer.
    ClientRequest {
        value: Value,
    },
    Sent {
        to: NodeId,
        msg_id: u64,
        msg: Msg,
    },
    /// The fault layer dropped this send.
    Dropped {
        to: NodeId,
        msg_id: u64,
    },
    /// The fault layer sent this message twice.
    Duplicated {
        to: NodeId,
        msg_id: u64,
    },
    /// The fault layer held this send back by `delay_ms` on top of network latency.
    Delayed {
        to: NodeId,
        msg_id: u64,
        delay_ms: u64,
    },
    Delivered {
        from: NodeId,
        msg_id: u64,
        msg: Msg,
    },
    /// A datagram that did not decode; counted and dropped.
    Malformed {
        bytes: usize,
        error: String,
    },
    Persisted {
        state: DurableState,
    },
    /// A snapshot written without fsync (only a planted bug does this): a crash
    /// before the next `Persisted` loses it.
    WrittenUnsynced {
        state: DurableState,
    },
    /// A protocol event from the core (promise, acceptance, learned value, ...).
    Protocol(Note),
    // ---- events of plug-in protocols (crate::protocol), every protocol but Paxos ----
    /// A node proposed `value`: the generic event validity is judged from.
    Proposed {
        value: Value,
    },
    /// A node decided `value`, for good: the generic event agreement, integrity and
    /// liveness are judged from. Recorded once per node, never again after a restart.
    Decided {
        value: Value,
    },
    /// A plug-in node (re)started; `recovered` is its recovered state as the protocol
    /// displays it (`None`: a fresh disk).
    NodeStarted {
        incarnation: u32,
        recovered: Option<String>,
    },
    /// A plug-in protocol's message, sent; `msg` as the protocol displays it.
    MsgSent {
        to: NodeId,
        msg_id: u64,
        msg: String,
    },
    /// A plug-in protocol's message, received.
    MsgDelivered {
        from: NodeId,
        msg_id: u64,
        msg: String,
    },
    /// A plug-in node wrote and fsynced its state (as the protocol displays it).
    StatePersisted {
        state: String,
    },
    /// Anything else a plug-in protocol wants in the trace (an adoption, a new round).
    Note {
        text: String,
    },
}

impl EventKind {
    /// The value this event says a node proposed, in any protocol: the generic
    /// checkers' view. Paxos records its proposals as client requests and `Proposed`
    /// notes; plug-in protocols record client requests and [`EventKind::Proposed`].
    pub fn proposed_value(&self) -> Option<&Value> {
        match self {
            EventKind::Proposed { value }
            | EventKind::ClientRequest { value }
            | EventKind::Protocol(Note::Proposed { value }) => Some(value),
            _ => None,
        }
    }

    /// The value this event says a node decided, in any protocol: a Paxos learner's
    /// `Learned` note, or a plug-in protocol's [`EventKind::Decided`].
    pub fn decided_value(&self) -> Option<&Value> {
        match self {
            EventKind::Decided { value } | EventKind::Protocol(Note::Learned { value, .. }) => {
                Some(value)
            }
            _ => None,
        }
    }

    /// The record of targeted rates for `kinds` on `link` (or every link) until `until_ms`.
    pub fn message_faults_set(
        kinds: &[String],
        link: Option<(NodeId, NodeId)>,
        rates: &LinkFaults,
        until_ms: u64,
    ) -> Self {
        EventKind::MessageFaultsSet {
            kinds: kinds.to_vec(),
            link,
            drop_probability: rates.drop_probability,
            duplicate_probability: rates.duplicate_probability,
            delay_ms_max: rates.delay_ms_max,
            until_ms,
        }
    }

    /// The record of setting per-message fault rates on `link` (or every link).
    pub fn link_faults_set(link: Option<(NodeId, NodeId)>, rates: &LinkFaults) -> Self {
        EventKind::LinkFaultsSet {
            link,
            drop_probability: rates.drop_probability,
            duplicate_probability: rates.duplicate_probability,
            delay_ms_max: rates.delay_ms_max,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated milliseconds since the run started.
    pub at_ms: u64,
    /// The node that did it; `None` for the harness (faults, phases).
    pub node: Option<NodeId>,
    pub kind: EventKind,
}

/// An append-only list of events, with their index as a stable reference for witnesses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
}

impl History {
    pub fn push(&mut self, at_ms: u64, node: Option<NodeId>, kind: EventKind) {
        self.events.push(Event { at_ms, node, kind });
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The canonical text rendering, one line per event, numbered.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, e) in self.events.iter().enumerate() {
            out.push_str(&format!("{i:>5} {}\n", render_event(e)));
        }
        out
    }

    /// JSON lines: one event per line.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).expect("events serialize"));
            out.push('\n');
        }
        out
    }

    /// A 64-bit FNV-1a hash of the canonical rendering: equal digests mean equal
    /// traces. FNV is hand-rolled so the digest never changes with a Rust release.
    pub fn digest(&self) -> u64 {
        let mut hash = Fnv1a::new();
        for e in &self.events {
            hash.write(render_event(e).as_bytes());
            hash.write(b"\n");
        }
        hash.finish()
    }

    /// The first index at which two histories differ, with both renderings (`None`
    /// past the end of the shorter one). `None` overall if they are identical.
    pub fn first_divergence(
        &self,
        other: &History,
    ) -> Option<(usize, Option<String>, Option<String>)> {
        let n = self.len().max(other.len());
        (0..n).find_map(|i| {
            let a = self.events.get(i).map(render_event);
            let b = other.events.get(i).map(render_event);
            (a != b).then_some((i, a, b))
        })
    }
}

struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
