//! Real-mode histories: each node process appends its events to `history.jsonl` in its
//! data directory, and `gauntlet check` merges the files of a cluster into one
//! [`History`] for the protocol's judges, the same ones a simulated run gets.
//!
//! File format (JSON lines):
//! - a header line at every start of the process ([`HistoryHeader`]): who wrote the
//!   lines that follow, the protocol, and the cluster and parameters as that node saw
//!   them. `check` rebuilds the run's setup from it, so it needs no `cluster.toml`, and
//!   a node that recorded nothing still counts (an acceptor in every majority);
//! - one line per event ([`HistoryLine`]): the simulation's event (`at_ms`, `node`,
//!   `kind`, the protocol's own types) plus `seq`, the node's own sequence number
//!   (`incarnation << 32` + n, so it keeps increasing across restarts, like message
//!   ids), and `wall_ms`, the wall clock when recorded.
//!
//! Clocks of different processes do not agree, so the per-node sequence is the only
//! order the merge trusts; wall time is a label used to interleave nodes, and `at_ms`
//! is the node's time since its process started.
//!
//! Each line is written with one `write` call and no user-space buffer: a `kill -9`
//! loses no recorded event (the page cache survives the process), which is what lets
//! the nemesis judge a cluster that was killed at random.

use crate::history::{render_event, Event, EventKind, History, Phase, Trace};
use crate::ids::NodeId;
use crate::node::Recorder;
use crate::protocol::{Core, Observation};
use crate::scenario::NODES_MAX;
use crate::value::Value;
use derive_where::derive_where;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio::sync::Notify;

/// The history file's name inside a data directory.
pub const HISTORY_FILE: &str = "history.jsonl";
/// The header's format version (2: any protocol, its cluster and parameters).
pub const HISTORY_FORMAT: u32 = 2;
/// Events one incarnation records before it stops recording (and says so in the file).
pub const EVENTS_PER_INCARNATION_MAX: u64 = 1_000_000;
/// Largest history file `gauntlet check` reads.
pub const HISTORY_FILE_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// Longest header line read to learn a history's protocol.
pub const HEADER_BYTES_MAX: u64 = 64 * 1024;
/// Most history files one check merges (one per node).
pub const HISTORY_FILES_MAX: usize = NODES_MAX;

/// The line that opens each incarnation's part of a history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryHeader {
    /// Format version; its presence marks the line as a header.
    pub gauntlet_history: u32,
    /// The protocol the node ran, by its registered name.
    pub protocol: String,
    pub node: NodeId,
    pub incarnation: u32,
    /// Every node of the cluster, as this node's `cluster.toml` listed them.
    pub cluster: Vec<NodeId>,
    /// The protocol's parameters (`cluster.toml`'s `[params]`).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// Planted bugs switched on in this incarnation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<String>,
    /// Wall clock at the process start (a label).
    pub wall_ms: u64,
}

impl HistoryHeader {
    /// Whether two headers describe the same run: protocol, cluster and parameters.
    /// Bugs may differ (a node restarted with a bug switched on is still this run).
    pub fn same_run(&self, other: &HistoryHeader) -> bool {
        self.protocol == other.protocol
            && self.cluster == other.cluster
            && self.params == other.params
    }

    fn describe(&self) -> String {
        format!(
            "{} of {} on [{}] with params {}",
            self.node,
            self.protocol,
            node_names(&self.cluster),
            self.params
        )
    }
}

fn node_names(ids: &[NodeId]) -> String {
    let names: Vec<String> = ids.iter().map(|n| n.to_string()).collect();
    names.join(",")
}

/// One recorded event.
#[derive_where(Clone, Debug, PartialEq)]
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct HistoryLine<T: Trace> {
    /// Per-node sequence number, increasing across restarts.
    pub seq: u64,
    /// Wall clock when recorded, in ms since the Unix epoch: a label for merging only.
    pub wall_ms: u64,
    #[serde(flatten)]
    pub event: Event<T>,
}

/// The reason the history was cut, recorded as the incarnation's last event.
fn cut_reason() -> String {
    format!(
        "history limit of {EVENTS_PER_INCARNATION_MAX} events reached; later events not recorded"
    )
}

/// Malformed datagrams recorded (a history line and a log line each) per second of
/// the node's clock; the rest are counted only, so a flood cannot fill the disk.
pub const MALFORMED_LINES_PER_S_MAX: u64 = 10;

/// The [`Recorder`] of a node process: appends JSON lines to the history file, logs
/// each event through `tracing`, and tells the runner when an event of its own node
/// observes an answer ([`Observation::Answered`] or [`Observation::Decided`]).
pub struct FileRecorder<C: Core> {
    path: PathBuf,
    file: RefCell<File>,
    node: NodeId,
    /// Wall clock at the process start; `at_ms` is added to it for the label.
    wall_start_ms: u64,
    seq_base: u64,
    recorded: Cell<u64>,
    malformed: Cell<u64>,
    /// The second (of the node's clock) the last malformed line was recorded in, and
    /// how many were recorded in it.
    malformed_window: Cell<(u64, u64)>,
    /// Malformed datagrams over [`MALFORMED_LINES_PER_S_MAX`]: counted, not recorded.
    malformed_unrecorded: Cell<u64>,
    answer: RefCell<Option<Value>>,
    failure: RefCell<Option<io::Error>>,
    /// Woken when `answer` or `failure` is set.
    pub wake: Notify,
    core: std::marker::PhantomData<C>,
}

impl<C: Core> FileRecorder<C> {
    /// Open `dir/history.jsonl` for appending and write this incarnation's header
    /// (its `node` and `incarnation` are the ones this recorder records for).
    pub fn open(dir: &Path, header: &HistoryHeader) -> io::Result<Self> {
        let path = dir.join(HISTORY_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let recorder = FileRecorder {
            path,
            file: RefCell::new(file),
            node: header.node,
            wall_start_ms: header.wall_ms,
            seq_base: (header.incarnation as u64) << 32,
            recorded: Cell::new(0),
            malformed: Cell::new(0),
            malformed_window: Cell::new((0, 0)),
            malformed_unrecorded: Cell::new(0),
            answer: RefCell::new(None),
            failure: RefCell::new(None),
            wake: Notify::new(),
            core: std::marker::PhantomData,
        };
        recorder.write_line(&serde_json::to_string(header).expect("headers serialize"))?;
        Ok(recorder)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events recorded by this incarnation.
    pub fn recorded(&self) -> u64 {
        self.recorded.get()
    }

    /// Malformed datagrams this incarnation recorded (and the shell dropped).
    pub fn malformed(&self) -> u64 {
        self.malformed.get()
    }

    /// Malformed datagrams dropped without a history or log line (over the rate limit).
    pub fn malformed_unrecorded(&self) -> u64 {
        self.malformed_unrecorded.get()
    }

    /// Whether a malformed datagram at `at_ms` gets its lines: at most
    /// [`MALFORMED_LINES_PER_S_MAX`] per second. The first line of a new second says
    /// how many went unrecorded so far.
    fn malformed_within_rate(&self, at_ms: u64) -> bool {
        let second = at_ms / 1000;
        let (window, count) = self.malformed_window.get();
        let count = if window == second { count } else { 0 };
        if count >= MALFORMED_LINES_PER_S_MAX {
            self.malformed_unrecorded
                .set(self.malformed_unrecorded.get().saturating_add(1));
            return false;
        }
        if count == 0 && self.malformed_unrecorded.get() > 0 {
            tracing::warn!(
                "{} malformed datagrams dropped so far without a line (over {} a second)",
                self.malformed_unrecorded.get(),
                MALFORMED_LINES_PER_S_MAX
            );
        }
        self.malformed_window.set((second, count + 1));
        true
    }

    /// The first answer this node observed, if it has.
    pub fn answer(&self) -> Option<Value> {
        self.answer.borrow().clone()
    }

    /// The first write error, if writing the history failed.
    pub fn take_failure(&self) -> Option<io::Error> {
        self.failure.borrow_mut().take()
    }

    fn write_line(&self, line: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        // One write of the whole line (append mode): never half a line on disk.
        self.file.borrow_mut().write_all(&bytes)
    }

    fn fail(&self, e: io::Error) {
        tracing::error!("{}: cannot record: {e}", self.path.display());
        self.failure.borrow_mut().get_or_insert(e);
        self.wake.notify_one();
    }

    /// Note an answer of this node's (the first one counts) and wake the runner.
    fn note_answer(&self, node: Option<NodeId>, kind: &EventKind<C>) {
        let EventKind::Protocol(event) = kind else {
            return;
        };
        if node != Some(self.node) || self.answer.borrow().is_some() {
            return;
        }
        if let Some(Observation::Answered(v) | Observation::Decided(v)) = C::observe(event) {
            *self.answer.borrow_mut() = Some(v);
            self.wake.notify_one();
        }
    }
}

/// Log an event as a trace line: messages and persists at debug, a malformed
/// datagram as a warning, everything else (starts, requests, the protocol's own
/// events) at info.
fn log_event<T: Trace>(event: &Event<T>) {
    let line = render_event(event);
    match &event.kind {
        EventKind::Malformed { .. } => tracing::warn!("{line}"),
        EventKind::Sent { .. }
        | EventKind::Delivered { .. }
        | EventKind::Persisted { .. }
        | EventKind::WrittenUnsynced { .. } => tracing::debug!("{line}"),
        _ => tracing::info!("{line}"),
    }
}

impl<C: Core> Recorder<C> for FileRecorder<C> {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind<C>) {
        if self.failure.borrow().is_some() {
            return;
        }
        let n = self.recorded.get();
        if n >= EVENTS_PER_INCARNATION_MAX {
            return;
        }
        if matches!(kind, EventKind::Malformed { .. }) {
            self.malformed.set(self.malformed.get().saturating_add(1));
            if !self.malformed_within_rate(at_ms) {
                return;
            }
        }
        let kind = if n + 1 == EVENTS_PER_INCARNATION_MAX {
            tracing::warn!("{}: {}", self.path.display(), cut_reason());
            EventKind::RunEnded {
                reason: cut_reason(),
            }
        } else {
            kind
        };
        self.note_answer(node, &kind);
        let line = HistoryLine {
            seq: self.seq_base + n,
            wall_ms: self.wall_start_ms.saturating_add(at_ms),
            event: Event { at_ms, node, kind },
        };
        log_event(&line.event);
        self.recorded.set(n + 1);
        let text = serde_json::to_string(&line).expect("events serialize");
        if let Err(e) = self.write_line(&text) {
            self.fail(e);
        }
    }
}

/// A history file (or a set of them) that cannot be judged, with the file and line.
#[derive(Debug, Error)]
#[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct BadHistory {
    pub path: PathBuf,
    /// 1-based line number, when one line is at fault.
    pub line: Option<usize>,
    pub reason: String,
}

impl BadHistory {
    fn new(path: &Path, line: Option<usize>, reason: impl Into<String>) -> Self {
        BadHistory {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

/// One node's history file, parsed and checked for internal consistency.
#[derive_where(Clone, Debug)]
pub struct NodeHistory<T: Trace> {
    pub path: PathBuf,
    /// The first start's header (every later one describes the same run).
    pub header: HistoryHeader,
    /// Every planted bug any start switched on.
    pub bugs: BTreeSet<String>,
    /// Events in the order the node recorded them, with their line numbers.
    pub lines: Vec<(usize, HistoryLine<T>)>,
    /// Number of starts (header lines).
    pub incarnations: usize,
}

/// The protocol a history file was written by: its first line's `protocol`, read
/// without reading the rest (`check` picks the protocol by it).
pub fn history_protocol(path: &Path) -> Result<String, BadHistory> {
    let file = File::open(path).map_err(|e| BadHistory::new(path, None, e.to_string()))?;
    let mut first = String::new();
    io::BufReader::new(file.take(HEADER_BYTES_MAX))
        .read_line(&mut first)
        .map_err(|e| BadHistory::new(path, None, e.to_string()))?;
    let header: HistoryHeader =
        parse_line(&first).map_err(|e| BadHistory::new(path, Some(1), header_error(&e)))?;
    Ok(header.protocol)
}

fn header_error(e: &str) -> String {
    format!("not a gauntlet history header ({e}); is this a node's history.jsonl?")
}

/// Read and validate one node's history file, written by a node of `protocol`.
pub fn read_history<C: Core>(path: &Path, protocol: &str) -> Result<NodeHistory<C>, BadHistory> {
    let bad = |line: Option<usize>, reason: String| BadHistory::new(path, line, reason);
    let text = crate::storage::read_text_bounded(path, HISTORY_FILE_BYTES_MAX)
        .map_err(|e| bad(None, e.to_string()))?;
    let mut reader = Reader::<C> {
        protocol,
        header: None,
        bugs: BTreeSet::new(),
        incarnations: 0,
        lines: Vec::new(),
        last_seq: None,
    };
    for (i, raw) in text.lines().enumerate() {
        if !raw.trim().is_empty() {
            reader.line(i + 1, raw).map_err(|e| bad(Some(i + 1), e))?;
        }
    }
    let Some(header) = reader.header else {
        return Err(bad(None, "empty: no header line".into()));
    };
    Ok(NodeHistory {
        path: path.to_path_buf(),
        header,
        bugs: reader.bugs,
        lines: reader.lines,
        incarnations: reader.incarnations,
    })
}

/// The state of reading one history file, line by line.
struct Reader<'a, C: Core> {
    protocol: &'a str,
    header: Option<HistoryHeader>,
    bugs: BTreeSet<String>,
    incarnations: usize,
    lines: Vec<(usize, HistoryLine<C>)>,
    last_seq: Option<u64>,
}

impl<C: Core> Reader<'_, C> {
    /// Take line `no`; the error says what is wrong with it.
    fn line(&mut self, no: usize, raw: &str) -> Result<(), String> {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| format!("not a JSON line: {e}"))?;
        if value.get("gauntlet_history").is_some() {
            return self.header_line(raw);
        }
        let Some(h) = &self.header else {
            return Err(
                "an event before any header line (is this a gauntlet node's history.jsonl?)".into(),
            );
        };
        let line: HistoryLine<C> = parse_history_line(raw)?;
        if line.event.node != Some(h.node) {
            return Err(format!(
                "an event of {:?} in {}'s history",
                line.event.node, h.node
            ));
        }
        if self.last_seq.is_some_and(|s| line.seq <= s) {
            return Err(format!("sequence number {} does not increase", line.seq));
        }
        if let EventKind::RunEnded { reason } = &line.event.kind {
            return Err(format!(
                "{}'s history was cut: {reason}; it cannot be judged",
                h.node
            ));
        }
        self.last_seq = Some(line.seq);
        self.lines.push((no, line));
        Ok(())
    }

    fn header_line(&mut self, raw: &str) -> Result<(), String> {
        let h: HistoryHeader = parse_line(raw)?;
        if h.gauntlet_history != HISTORY_FORMAT {
            return Err(format!(
                "history format {} is not {HISTORY_FORMAT} (written by another gauntlet version)",
                h.gauntlet_history
            ));
        }
        if h.protocol != self.protocol {
            return Err(format!(
                "a history of {}, judged as {}",
                h.protocol, self.protocol
            ));
        }
        if !h.cluster.contains(&h.node) {
            return Err(format!("{} is not in its own cluster", h.node));
        }
        if let Some(first) = &self.header {
            if h.node != first.node || !h.same_run(first) {
                return Err(format!(
                    "this start ({}) does not match the first start ({})",
                    h.describe(),
                    first.describe()
                ));
            }
        }
        let seq_floor = (h.incarnation as u64) << 32;
        if self.last_seq.is_some_and(|s| s >= seq_floor) {
            return Err(format!(
                "incarnation {} starts below an earlier event's sequence number",
                h.incarnation
            ));
        }
        self.incarnations = self
            .incarnations
            .checked_add(1)
            .expect("headers are fewer than lines");
        self.bugs.extend(h.bugs.iter().cloned());
        self.header.get_or_insert(h);
        Ok(())
    }
}

/// Read an event line. [`HistoryLine::event`] is flattened, and serde reads a
/// flattened field through a buffer that no longer knows JSON writes integer map keys
/// as strings: a state holding a `BTreeMap<u64, _>` (PBFT's log) was written fine and
/// refused on reading. So the line's own fields are taken off first, and the event is
/// read from the rest, as text, like any other value.
fn parse_history_line<T: Trace>(raw: &str) -> Result<HistoryLine<T>, String> {
    let mut fields: serde_json::Map<String, serde_json::Value> =
        parse_line(raw).map_err(|e| format!("not an event line: {e}"))?;
    let mut number = |name: &str| {
        fields
            .remove(name)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| format!("field {name}: missing, or not an unsigned integer"))
    };
    let seq = number("seq")?;
    let wall_ms = number("wall_ms")?;
    let rest = serde_json::Value::Object(fields).to_string();
    let event: Event<T> = parse_line(&rest)?;
    Ok(HistoryLine {
        seq,
        wall_ms,
        event,
    })
}

/// Deserialize one line, naming the field at fault.
fn parse_line<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("field {path}: {}", e.inner())
        }
    })
}

/// Several nodes' histories merged into one.
#[derive_where(Clone, Debug)]
pub struct Merged<T: Trace> {
    /// Phase markers, then every node's events interleaved by wall clock (each node's
    /// own order kept), `at_ms` counted from the earliest event; the liveness phase
    /// starts at the last (re)start of any node and the run ends after the last event.
    pub history: History<T>,
    /// The run every file describes (the first file's header).
    pub header: HistoryHeader,
    /// Every planted bug any node ran with.
    pub bugs: Vec<String>,
    /// The nodes a history file was given for.
    pub nodes: Vec<NodeId>,
    /// Cluster members with no history file that some given history received a
    /// message from: they ran, and what they did is unknown.
    pub missing: Vec<NodeId>,
    /// Cluster members with no history file that no given history received anything
    /// from. Whatever they did (if they ran at all) reached no one, so they are judged
    /// as nodes that never ran: silent.
    pub unheard: Vec<NodeId>,
}

/// Merge per-node histories. Every file must describe the same run (protocol, cluster,
/// parameters), and each node may appear in only one file.
pub fn merge<T: Trace>(histories: &[NodeHistory<T>]) -> Result<Merged<T>, BadHistory> {
    let first = histories.first().ok_or_else(|| {
        BadHistory::new(
            Path::new("(no files)"),
            None,
            "give at least one history file",
        )
    })?;
    let mut owner: BTreeMap<NodeId, &Path> = BTreeMap::new();
    for h in histories {
        if !h.header.same_run(&first.header) {
            return Err(BadHistory::new(
                &h.path,
                None,
                format!(
                    "{} differs from {} in {}",
                    h.header.describe(),
                    first.header.describe(),
                    first.path.display()
                ),
            ));
        }
        if let Some(other) = owner.insert(h.header.node, &h.path) {
            let reason = format!(
                "{} already has a history: {}",
                h.header.node,
                other.display()
            );
            return Err(BadHistory::new(&h.path, None, reason));
        }
    }
    let history = interleave(histories);
    let nodes: Vec<NodeId> = owner.keys().copied().collect();
    let heard_from: BTreeSet<NodeId> = history
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Delivered { from, .. } => Some(*from),
            _ => None,
        })
        .collect();
    let (missing, unheard): (Vec<NodeId>, Vec<NodeId>) = first
        .header
        .cluster
        .iter()
        .filter(|n| !owner.contains_key(n))
        .partition(|n| heard_from.contains(n));
    let bugs: BTreeSet<String> = histories
        .iter()
        .flat_map(|h| h.bugs.iter().cloned())
        .collect();
    Ok(Merged {
        history,
        header: first.header.clone(),
        bugs: bugs.into_iter().collect(),
        nodes,
        missing,
        unheard,
    })
}

/// Every node's events in one history, by wall clock, between the phase markers.
fn interleave<T: Trace>(histories: &[NodeHistory<T>]) -> History<T> {
    let t0 = histories
        .iter()
        .filter_map(|h| h.lines.first().map(|(_, l)| l.wall_ms))
        .min()
        .unwrap_or(0);
    let mut history = History::default();
    let safety = EventKind::PhaseStarted {
        phase: Phase::Safety,
    };
    history.push(0, None, safety);
    // K-way merge: repeatedly take the head with the smallest (wall_ms, node); each
    // node's own order is never changed, whatever its clock did.
    let mut heads = vec![0usize; histories.len()];
    let mut last_start: Option<usize> = None;
    loop {
        let next = histories
            .iter()
            .enumerate()
            .filter_map(|(k, h)| {
                let (_, l) = h.lines.get(heads[k])?;
                Some((l.wall_ms, h.header.node, k))
            })
            .min();
        let Some((_, _, k)) = next else { break };
        let line = &histories[k].lines[heads[k]].1;
        heads[k] += 1;
        if matches!(line.event.kind, EventKind::Started { .. }) {
            last_start = Some(history.len());
        }
        let at_ms = line.wall_ms.saturating_sub(t0);
        history.push(at_ms, line.event.node, line.event.kind.clone());
    }
    let end_ms = history.events.last().map_or(0, |e| e.at_ms);
    let liveness_at = last_start.map_or(history.len(), |i| i + 1);
    let liveness = Event {
        at_ms: history.events[liveness_at - 1].at_ms,
        node: None,
        kind: EventKind::PhaseStarted {
            phase: Phase::Liveness,
        },
    };
    history.events.insert(liveness_at, liveness);
    let reason = "end of the recorded histories".to_string();
    history.push(end_ms, None, EventKind::RunEnded { reason });
    history
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
