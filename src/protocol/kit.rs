//! The adapter kit: what every adapter of a third-party consensus library writes, once,
//! so that a user's adapter is about their library (docs/raft-rs.md measures it on
//! raft-rs). Each piece is small and independent:
//!
//! - [`Foreign`]: a library's own message (or entry) type as a gauntlet payload: shown
//!   in traces through its `Debug`, stored through the library's byte codec
//!   ([`Codec`]), sent as those bytes ([`encode_foreign`], [`decode_foreign`]).
//! - [`kind_label`]: a message kind label from an enum's `Debug` name (a protobuf
//!   message type, a Rust enum), for [`super::Core::msg_kind`].
//! - [`Persisted`]: the durable snapshot as last written, so a core persists only
//!   when it changed (libraries hand out their hard state on every step).
//! - [`LogMirror`]: a library's "write these entries from position i" as gauntlet's
//!   durable log outputs (truncate the conflicting suffix, then append).
//! - [`RequestLog`]: the replicated state machine of the log shape: distinct client
//!   requests in commit order, each announced once in the next slot, rebuilt silently
//!   after a restart; [`LogEvent`] its trace events; [`AllRequestsDecided`] ends a
//!   log run once it is done.
//! - [`LibraryCell`]: the library's node object, built at `Start`, in a core that must
//!   be `Clone` while the library's node is not.
//! - [`catch_library_panic`] and [`panic_judge`]: a library that detects its own
//!   corruption panics (raft-rs's `fatal!`); the adapter turns that into a trace event
//!   and the judge into a violation, instead of a harness crash.

use super::{
    Core, CoreOutput, Expectation, Judge, Judging, Observation, Property, Protocol, Settle,
    Violation,
};
use crate::history::{Event, EventKind};
use crate::ids::NodeId;
use crate::value::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug, Write as _};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

// ---- Foreign payloads ----------------------------------------------------------------

/// A library type's own byte encoding (protobuf, bincode, ...), named by a local type
/// of the adapter (`struct Protobuf; impl Codec<Message> for Protobuf`), so an adapter
/// can give a foreign type a codec without a newtype around it. `decode` must return
/// an error, never panic, on any bytes.
pub trait Codec<T> {
    fn encode(value: &T, out: &mut Vec<u8>);
    fn decode(bytes: &[u8]) -> Result<T, String>;
}

/// A library's type as a gauntlet payload ([`crate::history::Payload`]): `Display`
/// is its `Debug` on one line, and serde goes through codec `C` (a hex string in
/// JSON), so a foreign type that has neither `Display` nor serde needs neither.
pub struct Foreign<T, C>(pub T, PhantomData<fn() -> C>);

impl<T, C> Foreign<T, C> {
    pub fn new(value: T) -> Self {
        Foreign(value, PhantomData)
    }
}

impl<T: Clone, C> Clone for Foreign<T, C> {
    fn clone(&self) -> Self {
        Foreign::new(self.0.clone())
    }
}

impl<T: PartialEq, C> PartialEq for Foreign<T, C> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Debug, C> Debug for Foreign<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Debug, C> fmt::Display for Foreign<T, C> {
    /// The `Debug` rendering with every run of whitespace made one space, so a
    /// multi-line `Debug` still fits one trace line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:?}", self.0);
        let mut words = text.split_whitespace();
        if let Some(first) = words.next() {
            f.write_str(first)?;
        }
        for word in words {
            f.write_char(' ')?;
            f.write_str(word)?;
        }
        Ok(())
    }
}

impl<T, C: Codec<T>> Serialize for Foreign<T, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        C::encode(&self.0, &mut bytes);
        serializer.serialize_str(&to_hex(&bytes))
    }
}

impl<'de, T, C: Codec<T>> Deserialize<'de> for Foreign<T, C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = from_hex(&text).map_err(serde::de::Error::custom)?;
        C::decode(&bytes)
            .map(Foreign::new)
            .map_err(serde::de::Error::custom)
    }
}

/// [`super::Core::encode_msg`] for a [`Foreign`] message: the library's own bytes, not
/// the hex of the history's JSON.
pub fn encode_foreign<T, C: Codec<T>>(msg: &Foreign<T, C>, out: &mut Vec<u8>) {
    C::encode(&msg.0, out);
}

/// [`super::Core::decode_msg`] for a [`Foreign`] message.
pub fn decode_foreign<T, C: Codec<T>>(bytes: &[u8]) -> Result<Foreign<T, C>, String> {
    C::decode(bytes).map(Foreign::new)
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd hex length {}", text.len()));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(format!("`{}` is not a lowercase hex digit", c as char)),
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Ok(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

// ---- Message kinds -------------------------------------------------------------------

/// The label [`kind_label`] gives a value whose `Debug` name is not in its list.
pub const OTHER_KIND: &str = "other";

/// The entry of `kinds` that `value`'s `Debug` rendering starts with as a whole word
/// (`MsgAppend` for a protobuf enum, `Forward` for `Forward(..)` or `Forward { .. }`),
/// or [`OTHER_KIND`]. Only the leading word is formatted, so this is cheap enough for
/// every send. List `kinds` (and `OTHER_KIND` if it can occur) in
/// [`super::Protocol::message_kinds`].
pub fn kind_label(value: &impl Debug, kinds: &'static [&'static str]) -> &'static str {
    let mut word = LeadingWord::default();
    // The writer refuses everything after the first word, which ends formatting early
    // with an error that says nothing but "done".
    let _ = write!(word, "{value:?}");
    let word = &word.buf[..word.len];
    kinds
        .iter()
        .copied()
        .find(|k| k.as_bytes() == word)
        .unwrap_or(OTHER_KIND)
}

/// Longest leading word [`kind_label`] reads; longer names are [`OTHER_KIND`].
const KIND_BYTES_MAX: usize = 48;

/// A `fmt::Write` that keeps the leading identifier of what is written and stops.
struct LeadingWord {
    buf: [u8; KIND_BYTES_MAX],
    len: usize,
    done: bool,
}

impl Default for LeadingWord {
    fn default() -> Self {
        LeadingWord {
            buf: [0; KIND_BYTES_MAX],
            len: 0,
            done: false,
        }
    }
}

impl fmt::Write for LeadingWord {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            let part_of_word = b.is_ascii_alphanumeric() || b == b'_';
            if self.done || !part_of_word || self.len == KIND_BYTES_MAX {
                if part_of_word && !self.done {
                    self.len = 0; // too long to be a listed kind
                }
                self.done = true;
                return Err(fmt::Error);
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

// ---- Durable state -------------------------------------------------------------------

/// The core's durable state as last written: [`Persisted::persist`] emits a write only
/// when the state changed. Libraries hand out their hard state on every step; writing
/// it each time would fsync for nothing and fill the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Persisted<S> {
    written: S,
}

impl<S: Clone + PartialEq> Persisted<S> {
    /// What the core starts from: the recovered state, or `fresh` on an empty disk
    /// (not written until it changes).
    pub fn recovered(recovered: Option<S>, fresh: S) -> Self {
        Persisted {
            written: recovered.unwrap_or(fresh),
        }
    }

    /// The state as last written (or recovered).
    pub fn get(&self) -> &S {
        &self.written
    }

    /// Write `next` (fsynced before the outputs after it) if it differs from what is
    /// on disk; true if it did.
    pub fn persist<C: Core<State = S>>(&mut self, next: S, out: &mut Vec<CoreOutput<C>>) -> bool {
        self.write(next, out, true)
    }

    /// Write `next` without fsync if it differs (planted bugs only).
    pub fn persist_unsynced<C: Core<State = S>>(
        &mut self,
        next: S,
        out: &mut Vec<CoreOutput<C>>,
    ) -> bool {
        self.write(next, out, false)
    }

    fn write<C: Core<State = S>>(
        &mut self,
        next: S,
        out: &mut Vec<CoreOutput<C>>,
        synced: bool,
    ) -> bool {
        if next == self.written {
            return false;
        }
        self.written = next.clone();
        out.push(if synced {
            CoreOutput::Persist(next)
        } else {
            CoreOutput::PersistUnsynced(next)
        });
        true
    }
}

/// The length of the node's durable log, so a library's "entries from position `i`"
/// (Raft's `Ready::entries`, which may overwrite a conflicting suffix) becomes
/// gauntlet's outputs: truncate to `i`, then append.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogMirror {
    len: u64,
}

impl LogMirror {
    /// The mirror of a recovered log of `len` entries.
    pub fn recovered(len: usize) -> Self {
        LogMirror { len: len as u64 }
    }

    /// Entries in the durable log.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Make positions `first..first + entries.len()` hold `entries`, dropping
    /// everything after them; `synced: false` appends without fsync (planted bugs).
    /// Panics if `first` is past the end: a gap means the adapter lost track.
    pub fn write<C: Core>(
        &mut self,
        first: u64,
        entries: Vec<C::Entry>,
        synced: bool,
        out: &mut Vec<CoreOutput<C>>,
    ) {
        assert!(
            first <= self.len,
            "log write at position {first} past the end of a log of {}",
            self.len
        );
        if entries.is_empty() {
            return;
        }
        if first < self.len {
            out.push(CoreOutput::Truncate { len: first });
        }
        let count = entries.len() as u64;
        out.push(if synced {
            CoreOutput::Append(entries)
        } else {
            CoreOutput::AppendUnsynced(entries)
        });
        self.len = first.checked_add(count).expect("log length fits u64");
    }
}

// ---- The log shape's state machine ---------------------------------------------------

/// The replicated state machine of a log-shaped adapter: the distinct client requests
/// in the order the library committed them. A client (or the adapter) may submit a
/// request twice, so the library may commit it twice; the state machine applies it
/// once, in the next slot, which is what [`super::shapes::log`]'s judges read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLog {
    decided: BTreeSet<Value>,
    slots: u64,
}

impl RequestLog {
    /// Apply a committed request: the [`Observation::SlotDecided`] to announce, or
    /// `None` for a request applied before. After a restart, feed the committed prefix
    /// again and drop what this returns: it was announced in an earlier life.
    pub fn apply(&mut self, request: Value) -> Option<Observation> {
        if !self.decided.insert(request.clone()) {
            return None;
        }
        let slot = self.slots;
        self.slots = slot.checked_add(1).expect("fewer than 2^64 slots");
        Some(Observation::SlotDecided {
            slot,
            value: request,
        })
    }

    /// Whether `request` was applied.
    pub fn contains(&self, request: &Value) -> bool {
        self.decided.contains(request)
    }

    /// Slots decided so far.
    pub fn slots(&self) -> u64 {
        self.slots
    }
}

/// The trace events of a log-shaped adapter, like [`super::BasicEvent`] for the value
/// shape: enough for the log judges and [`panic_judge`], with free-text notes for
/// everything else (a new leader, a step down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogEvent {
    /// The state machine applied `value` in `slot` (once per node per slot).
    Decided {
        slot: u64,
        value: Value,
    },
    /// The library panicked ([`catch_library_panic`]); the node halts.
    Panicked(String),
    Note(String),
}

impl fmt::Display for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogEvent::Decided { slot, value } => write!(f, "DECIDE slot {slot} = {value}"),
            LogEvent::Panicked(message) => write!(f, "PANIC {message}"),
            LogEvent::Note(text) => f.write_str(text),
        }
    }
}

impl LogEvent {
    /// The [`Core::observe`] of a core whose events are `LogEvent`s.
    pub fn observe(&self) -> Option<Observation> {
        match self {
            LogEvent::Decided { slot, value } => Some(Observation::SlotDecided {
                slot: *slot,
                value: value.clone(),
            }),
            LogEvent::Panicked(_) | LogEvent::Note(_) => None,
        }
    }

    /// The event that announces `observation` if it is a slot decision.
    pub fn decided(observation: Observation) -> Option<LogEvent> {
        match observation {
            Observation::SlotDecided { slot, value } => Some(LogEvent::Decided { slot, value }),
            _ => None,
        }
    }
}

impl PanicEvent for LogEvent {
    fn panic_message(&self) -> Option<&str> {
        match self {
            LogEvent::Panicked(message) => Some(message),
            LogEvent::Decided { .. } | LogEvent::Note(_) => None,
        }
    }
}

/// A [`CoreOutput::SetTimer`] firing after `delay_ms.0..=delay_ms.1` milliseconds.
pub fn set_timer<C: Core>(timer: C::Timer, delay_ms: (u64, u64)) -> CoreOutput<C> {
    CoreOutput::SetTimer {
        timer,
        delay_ms_min: delay_ms.0,
        delay_ms_max: delay_ms.1,
    }
}

/// The [`Settle`] of a log-shaped protocol: every decider decided every request a
/// client submitted (`Protocol::settle`; the default waits for single-value decisions).
#[derive(Debug, Default)]
pub struct AllRequestsDecided {
    deciders: BTreeSet<NodeId>,
    submitted: BTreeSet<Value>,
    decided: BTreeMap<NodeId, BTreeSet<Value>>,
    scanned: usize,
}

impl AllRequestsDecided {
    pub fn new(deciders: &[NodeId]) -> Self {
        AllRequestsDecided {
            deciders: deciders.iter().copied().collect(),
            ..AllRequestsDecided::default()
        }
    }
}

impl<C: Core> Settle<C> for AllRequestsDecided {
    fn observe(&mut self, events: &[Event<C>]) {
        for e in &events[self.scanned.min(events.len())..] {
            let Some(node) = e.node else { continue };
            match &e.kind {
                EventKind::ClientRequest { value } => {
                    self.submitted.insert(value.clone());
                }
                EventKind::Protocol(event) => {
                    if let Some(Observation::SlotDecided { value, .. }) = C::observe(event) {
                        self.decided.entry(node).or_default().insert(value);
                    }
                }
                _ => {}
            }
        }
        self.scanned = events.len();
    }

    fn settled(&self) -> bool {
        self.deciders.iter().all(|node| {
            self.decided
                .get(node)
                .is_some_and(|held| self.submitted.is_subset(held))
        })
    }

    fn reason(&self) -> &'static str {
        "every decider decided every submitted request"
    }
}

// ---- The library's node object -------------------------------------------------------

/// The library's node object (Raft's `RawNode`), built when the core starts. A
/// [`Core`] must be `Clone` (the harness clones the unstarted core for each
/// incarnation) while most libraries' nodes are not: this cell clones only while
/// empty, and a clone of a started one panics rather than share or drop its state.
pub struct LibraryCell<T>(Option<T>);

impl<T> LibraryCell<T> {
    pub fn empty() -> Self {
        LibraryCell(None)
    }

    /// Put the node built at `Start` in (replacing any earlier one).
    pub fn start(&mut self, node: T) -> &mut T {
        self.0.insert(node)
    }

    /// The node, once started.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_mut()
    }

    /// Drop the node: the core stays unstarted (a library that panicked).
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

impl<T> Default for LibraryCell<T> {
    fn default() -> Self {
        LibraryCell::empty()
    }
}

impl<T> Clone for LibraryCell<T> {
    fn clone(&self) -> Self {
        assert!(
            self.0.is_none(),
            "a started library node cannot be cloned: clone the core before Start"
        );
        LibraryCell(None)
    }
}

impl<T> Debug for LibraryCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "LibraryCell(started)"
        } else {
            "LibraryCell(empty)"
        })
    }
}

// ---- Library panics ------------------------------------------------------------------

thread_local! {
    /// Whether this thread is inside [`catch_library_panic`]: its panics are findings,
    /// reported as events, so the panic hook keeps quiet about them.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Run `f` (a call into the library); a panic in it becomes `Err(message)`. Libraries
/// check their own invariants and panic when one breaks (raft-rs: "to_commit 5 is out
/// of range [last_index 3]" after a lost log write): for gauntlet that is a finding to
/// record ([`panic_judge`]), not a crash of the harness. The first call installs a
/// panic hook that stays quiet for these panics and hands every other panic to the
/// hook that was there before.
pub fn catch_library_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

/// A protocol event that may report a library panic ([`catch_library_panic`]).
pub trait PanicEvent {
    /// The panic's message, if this event reports one.
    fn panic_message(&self) -> Option<&str>;
}

pub const LIBRARY_NEVER_PANICS: Property = Property {
    name: "library_never_panics",
    expectation: Expectation::Always,
    description: "the library never detects a broken invariant of its own (it panics when it does)",
};

/// The judge of [`LIBRARY_NEVER_PANICS`]: one violation per reported panic, witnessed
/// by its event.
pub fn panic_judge<P>() -> Judge<P>
where
    P: Protocol + ?Sized,
    <P::Core as Core>::Event: PanicEvent,
{
    fn judge<P>(j: &Judging<P>) -> Vec<Violation>
    where
        P: Protocol + ?Sized,
        <P::Core as Core>::Event: PanicEvent,
    {
        let mut out = Vec::new();
        for (index, e) in j.history.events.iter().enumerate() {
            let (Some(node), EventKind::Protocol(event)) = (e.node, &e.kind) else {
                continue;
            };
            if let Some(message) = event.panic_message() {
                out.push(Violation::new(
                    &LIBRARY_NEVER_PANICS,
                    e.at_ms,
                    vec![node],
                    vec![index],
                    format!("{node}'s library panicked: {message}"),
                ));
            }
        }
        out
    }
    Judge::violations(&LIBRARY_NEVER_PANICS, judge::<P>).witnessed()
}

#[cfg(test)]
mod tests;
