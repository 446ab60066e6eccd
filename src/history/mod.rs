//! The record of a run: typed events with simulated time and node, in the order they
//! happened. Nodes and the director append; judges only read. The canonical text
//! rendering (one line per event) is what trace snapshots hold and what the digest
//! hashes, so two runs with equal digests printed the same trace.
//!
//! A history is generic over the protocol's [`Trace`] types: its messages, durable
//! state and trace events are recorded as the protocol's own typed values, so nothing
//! is formatted while a run runs (text is rendered only when asked), and the harness
//! needs no knowledge of any protocol to record, render, serialize or hash them.

mod render;

pub use render::{render_body, render_event};

use crate::fault::LinkFaults;
use crate::ids::NodeId;
use crate::value::Value;
use derive_where::derive_where;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::{Debug, Display};

/// What a protocol's messages, durable state and trace events must be for the history
/// to record them: comparable, printable (`Display` is the trace's form), and serde
/// data (JSON lines of real-mode histories).
pub trait Payload:
    Clone + Debug + PartialEq + Display + Serialize + DeserializeOwned + 'static
{
}

impl<T> Payload for T where
    T: Clone + Debug + PartialEq + Display + Serialize + DeserializeOwned + 'static
{
}

/// The protocol types a history records. Every `crate::protocol::Core` is one (a
/// blanket impl there), so a protocol never implements this by hand.
pub trait Trace: 'static {
    type Msg: Payload;
    type State: Payload;
    type Event: Payload;
    type Entry: Payload;
}

/// Which half of a run an event belongs to (principle 4: safety, then liveness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Faults are injected; only safety is judged.
    Safety,
    /// Faults healed; every decider must decide within the bound.
    Liveness,
}

/// What happened.
#[derive_where(Clone, Debug, PartialEq)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum EventKind<T: Trace> {
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
    /// The next datagram `from` sends `to` will be lost
    /// ([`crate::fault::Fault::BreakConnection`]).
    BreakArmed {
        from: NodeId,
        to: NodeId,
    },
    /// A Byzantine node turned silent ([`crate::fault::Fault::Silent`]).
    SilentSet {
        node: NodeId,
    },
    /// A Byzantine mutation was armed ([`crate::fault::Fault::Mutate`]).
    MutationArmed {
        node: NodeId,
        kind: String,
        receivers: Vec<NodeId>,
        count: u32,
        mutation: u32,
        /// Sends let through unchanged first (0: none; then left out of JSON).
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        skip: u32,
    },
    /// A Byzantine replay was armed ([`crate::fault::Fault::Replay`]).
    ReplayArmed {
        node: NodeId,
        kind: String,
        receivers: Vec<NodeId>,
        count: u32,
        nth: u32,
    },
    /// A twin of `node` runs, or moved, on the side of `group`
    /// ([`crate::fault::Fault::Twin`]).
    TwinSet {
        node: NodeId,
        group: Vec<NodeId>,
    },
    /// The adversary `strategy` took `node` over until `until_ms` (`None`: to the end
    /// of the run); its next incarnation runs it ([`crate::fault::Fault::Strategy`]).
    StrategySet {
        node: NodeId,
        strategy: String,
        until_ms: Option<u64>,
    },
    /// `node`'s adversary window ended; its next incarnation runs its honest core.
    StrategyEnded {
        node: NodeId,
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
    /// The run's history reached its detail limit ([`History::thin`]): from here on
    /// sends, deliveries, drops, duplicates, delays and persists are no longer
    /// recorded; every other event still is, so the judges' verdicts are unchanged.
    HistoryThinned {
        /// Events recorded when the limit was reached.
        events: u64,
    },
    // ---- node events ----
    /// The node's software (re)started with the state its storage recovered.
    Started {
        incarnation: u32,
        recovered: Option<T::State>,
    },
    /// A client asked this node to propose `value`.
    ClientRequest {
        value: Value,
    },
    Sent {
        to: NodeId,
        msg_id: u64,
        msg: T::Msg,
    },
    /// The node's next send, to `to`, goes out as its core's mutation number
    /// `mutation` of the message (a Byzantine fault); the `Sent` after it shows what
    /// went out.
    Mutated {
        to: NodeId,
        mutation: u32,
    },
    /// The node's next send, to `to`, goes out as the `nth` latest message it
    /// remembers sending or receiving (a Byzantine replay); the `Sent` after it shows
    /// what went out.
    Replayed {
        to: NodeId,
        nth: u32,
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
        msg: T::Msg,
    },
    /// A datagram that did not decode; counted and dropped.
    Malformed {
        bytes: usize,
        error: String,
    },
    /// The node wrote and fsynced this state.
    Persisted {
        state: T::State,
    },
    /// The node wrote this state without fsync (only a planted bug does this): a crash
    /// before the next `Persisted` loses it.
    WrittenUnsynced {
        state: T::State,
    },
    /// The node found a durable log of `len` entries when it started (recorded right
    /// after `Started`, and only for a non-empty log).
    LogRecovered {
        len: u64,
    },
    /// The node appended these entries to its log, fsynced.
    Appended {
        entries: Vec<T::Entry>,
    },
    /// The node appended these entries without fsync (only a planted bug does this):
    /// a crash before the next synced log write loses them.
    AppendedUnsynced {
        entries: Vec<T::Entry>,
    },
    /// The node cut its log to its first `len` entries, durably.
    Truncated {
        len: u64,
    },
    /// An event of the protocol's own (a promise, an adoption, a decision, ...).
    Protocol(T::Event),
    /// What the twin of the event's node did ([`crate::fault::Fault::Twin`]): any node
    /// event, kept apart from the original instance's so judges and settle rules,
    /// which read the plain kinds, never take the twin's word for the node's (the node
    /// is Byzantine), and the trace shows it as `n1'`.
    Twin(Box<EventKind<T>>),
}

impl<T: Trace> EventKind<T> {
    /// Whether a twin did this ([`EventKind::Twin`]).
    pub fn is_twin(&self) -> bool {
        matches!(self, EventKind::Twin(_))
    }

    /// Whether this is message or storage detail that a thinned history stops
    /// recording: what the safety and liveness judges do not read (they read the
    /// protocol's own events, client requests, crashes, restarts and phases), and what
    /// makes a message storm's history large (each records a whole message or state).
    /// What does read it sees only the part before the thinning: Sometimes coverage of
    /// deliveries (`shapes::value::duplicate_delivered`), Paxos's guided-search
    /// signature, the guided moments, and the HTML diagram's arrows.
    pub fn is_detail(&self) -> bool {
        match self {
            EventKind::Sent { .. }
            | EventKind::Delivered { .. }
            | EventKind::Dropped { .. }
            | EventKind::Duplicated { .. }
            | EventKind::Delayed { .. }
            | EventKind::Persisted { .. }
            | EventKind::WrittenUnsynced { .. } => true,
            EventKind::Twin(inner) => inner.is_detail(),
            _ => false,
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

#[derive_where(Clone, Debug, PartialEq)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Event<T: Trace> {
    /// Simulated milliseconds since the run started.
    pub at_ms: u64,
    /// The node that did it; `None` for the harness (faults, phases).
    pub node: Option<NodeId>,
    pub kind: EventKind<T>,
}

/// An append-only list of events, with their index as a stable reference for witnesses.
#[derive_where(Clone, Debug, PartialEq, Default)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct History<T: Trace> {
    pub events: Vec<Event<T>>,
    /// Whether detail events are dropped rather than recorded ([`History::thin`]).
    /// Not part of the record: a thinned history says so with its `HistoryThinned`.
    #[derive_where(skip)]
    #[serde(skip)]
    thinned: bool,
}

impl<T: Trace> History<T> {
    pub fn with_capacity(events: usize) -> Self {
        History {
            events: Vec::with_capacity(events),
            thinned: false,
        }
    }

    /// A history of these events, not thinned.
    pub fn from_events(events: Vec<Event<T>>) -> Self {
        History {
            events,
            thinned: false,
        }
    }

    /// Append an event; once the history is thinned, a detail event
    /// ([`EventKind::is_detail`]) is dropped instead.
    pub fn push(&mut self, at_ms: u64, node: Option<NodeId>, kind: EventKind<T>) {
        if self.thinned && kind.is_detail() {
            return;
        }
        self.events.push(Event { at_ms, node, kind });
    }

    /// Record `HistoryThinned` at `at_ms` and stop recording detail events. The
    /// simulation director calls this at a millisecond's boundary once a run's history
    /// passes its detail limit, so both lanes thin at the same event: a message storm
    /// then costs memory for its protocol events only, and is still judged exactly.
    pub fn thin(&mut self, at_ms: u64) {
        if !self.thinned {
            let events = self.events.len() as u64;
            self.push(at_ms, None, EventKind::HistoryThinned { events });
            self.thinned = true;
        }
    }

    /// Whether [`History::thin`] was called.
    pub fn is_thinned(&self) -> bool {
        self.thinned
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
        other: &History<T>,
    ) -> Option<(usize, Option<String>, Option<String>)> {
        let n = self.len().max(other.len());
        (0..n).find_map(|i| {
            let a = self.events.get(i).map(render_event);
            let b = other.events.get(i).map(render_event);
            (a != b).then_some((i, a, b))
        })
    }

    /// The index of the event that started the liveness phase, if the run reached it.
    pub fn liveness_start(&self) -> Option<usize> {
        self.events.iter().position(|e| {
            matches!(
                e.kind,
                EventKind::PhaseStarted {
                    phase: Phase::Liveness
                }
            )
        })
    }

    /// The index of the run's `RunEnded` event, if it has one.
    pub fn run_end(&self) -> Option<usize> {
        self.events
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::RunEnded { .. }))
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

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// A protocol's trace types as plain strings, for tests of what reads a history
/// without a protocol (the history itself, the diagram).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Text;

#[cfg(test)]
impl Trace for Text {
    type Msg = String;
    type State = String;
    type Event = String;
    type Entry = String;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thinned history drops sends, deliveries and persists (a twin's too) but keeps
    /// every other event, says where it was thinned, and thins only once; two
    /// histories that differ only in whether they were thinned compare by their
    /// events.
    #[test]
    fn a_thinned_history_keeps_all_but_the_detail() {
        let sent = || EventKind::Sent {
            to: NodeId(2),
            msg_id: 1,
            msg: "m".to_string(),
        };
        let mut h: History<Text> = History::default();
        h.push(0, Some(NodeId(1)), sent());
        h.thin(1);
        h.thin(2);
        assert!(h.is_thinned());
        h.push(3, Some(NodeId(1)), sent());
        h.push(3, Some(NodeId(1)), EventKind::Twin(Box::new(sent())));
        h.push(
            3,
            Some(NodeId(1)),
            EventKind::Persisted {
                state: "s".to_string(),
            },
        );
        h.push(
            3,
            Some(NodeId(1)),
            EventKind::Protocol("decide".to_string()),
        );
        h.push(4, None, EventKind::Crashed { node: NodeId(1) });
        let kinds: Vec<String> = h.events.iter().map(render_event).collect();
        assert_eq!(kinds.len(), 4, "{kinds:#?}");
        assert!(
            kinds[1].contains("history thinned after 1 events"),
            "{kinds:#?}"
        );
        assert!(kinds[2].contains("decide"), "{kinds:#?}");
        let mut unthinned = History::from_events(h.events.clone());
        assert_eq!(unthinned, h);
        unthinned.push(5, Some(NodeId(1)), sent());
        assert_eq!(unthinned.len(), 5, "a history not thinned records detail");
    }
}
