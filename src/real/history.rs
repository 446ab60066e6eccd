//! Real-mode histories: each node process appends its events to `history.jsonl` in its
//! data directory, and `gauntlet check` merges the files of a cluster into one
//! [`History`] for the same checkers the simulation uses.
//!
//! File format (JSON lines):
//! - a header line at every start of the process: `{"gauntlet_history":1,"node":1,
//!   "incarnation":0,"roster":{..},"bugs":[..],"wall_ms":..}`: who wrote the lines
//!   that follow and the cluster as that node saw it (the checkers need the roster: an
//!   acceptor that recorded nothing still counts in every majority);
//! - one line per event: the simulation's event (`at_ms`, `node`, `kind`) plus `seq`,
//!   the node's own sequence number (`incarnation << 32` + n, so it keeps increasing
//!   across restarts, like message ids), and `wall_ms`, the wall clock when recorded.
//!
//! Clocks of different processes do not agree, so the per-node sequence is the only
//! order the merge trusts; wall time is a label used to interleave nodes, and `at_ms`
//! is the node's time since its process started.
//!
//! Each line is written with one `write` call and no user-space buffer: a `kill -9`
//! loses no recorded event (the page cache survives the process), which is what lets
//! the nemesis judge a cluster that was killed at random.

use crate::check::Roster;
use crate::history::{render_event, Event, EventKind, History, Phase};
use crate::ids::NodeId;
use crate::node::Recorder;
use crate::paxos::{Bugs, Note, Value};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio::sync::Notify;

/// The history file's name inside a data directory.
pub const HISTORY_FILE: &str = "history.jsonl";
/// The header's format version.
pub const HISTORY_FORMAT: u32 = 1;
/// Events one incarnation records before it stops recording (and says so in the file).
pub const EVENTS_PER_INCARNATION_MAX: u64 = 1_000_000;
/// Largest history file `gauntlet check` reads.
pub const HISTORY_FILE_BYTES_MAX: u64 = 512 * 1024 * 1024;
/// Most history files one check merges (one per node).
pub const HISTORY_FILES_MAX: usize = crate::sim::NODES_MAX;

/// The line that opens each incarnation's part of a history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryHeader {
    /// Format version; its presence marks the line as a header.
    pub gauntlet_history: u32,
    pub node: NodeId,
    pub incarnation: u32,
    pub roster: Roster,
    #[serde(default)]
    pub bugs: Bugs,
    /// Wall clock at the process start (a label).
    pub wall_ms: u64,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// Per-node sequence number, increasing across restarts.
    pub seq: u64,
    /// Wall clock when recorded, in ms since the Unix epoch: a label for merging only.
    pub wall_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// The reason the history was cut, recorded as the incarnation's last event.
fn cut_reason() -> String {
    format!(
        "history limit of {EVENTS_PER_INCARNATION_MAX} events reached; later events not recorded"
    )
}

/// The [`Recorder`] of a node process: appends JSON lines to the history file, logs the
/// lab's events through `tracing`, and tells the runner when this node's proposer saw
/// a value chosen.
pub struct FileRecorder {
    path: PathBuf,
    file: RefCell<File>,
    node: NodeId,
    /// Wall clock at the process start; `at_ms` is added to it for the label.
    wall_start_ms: u64,
    seq_base: u64,
    recorded: Cell<u64>,
    malformed: Cell<u64>,
    decided: RefCell<Option<Value>>,
    failure: RefCell<Option<io::Error>>,
    /// Woken when `decided` or `failure` is set.
    pub wake: Notify,
}

impl FileRecorder {
    /// Open `dir/history.jsonl` for appending and write this incarnation's header.
    pub fn open(
        dir: &Path,
        node: NodeId,
        incarnation: u32,
        roster: Roster,
        bugs: Bugs,
        wall_start_ms: u64,
    ) -> io::Result<Self> {
        let path = dir.join(HISTORY_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let recorder = FileRecorder {
            path,
            file: RefCell::new(file),
            node,
            wall_start_ms,
            seq_base: (incarnation as u64) << 32,
            recorded: Cell::new(0),
            malformed: Cell::new(0),
            decided: RefCell::new(None),
            failure: RefCell::new(None),
            wake: Notify::new(),
        };
        let header = HistoryHeader {
            gauntlet_history: HISTORY_FORMAT,
            node,
            incarnation,
            roster,
            bugs,
            wall_ms: wall_start_ms,
        };
        recorder.write_line(&serde_json::to_string(&header).expect("headers serialize"))?;
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

    /// The value this node's proposer saw chosen, if it has.
    pub fn decided(&self) -> Option<Value> {
        self.decided.borrow().clone()
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
}

/// Log an event the way the lab's servers did: one line per protocol step.
fn log_event(event: &Event) {
    let line = render_event(event);
    match &event.kind {
        EventKind::Protocol(Note::GaveUp { .. }) | EventKind::Malformed { .. } => {
            tracing::warn!("{line}")
        }
        EventKind::Protocol(Note::BackingOff { .. })
        | EventKind::Sent { .. }
        | EventKind::Delivered { .. }
        | EventKind::Persisted { .. } => tracing::debug!("{line}"),
        _ => tracing::info!("{line}"),
    }
}

impl Recorder for FileRecorder {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind) {
        if self.failure.borrow().is_some() {
            return;
        }
        let n = self.recorded.get();
        if n >= EVENTS_PER_INCARNATION_MAX {
            return;
        }
        let kind = if n + 1 == EVENTS_PER_INCARNATION_MAX {
            tracing::warn!("{}: {}", self.path.display(), cut_reason());
            EventKind::RunEnded {
                reason: cut_reason(),
            }
        } else {
            kind
        };
        if let (Some(me), EventKind::Protocol(Note::Decided { value, .. })) = (node, &kind) {
            if me == self.node && self.decided.borrow().is_none() {
                *self.decided.borrow_mut() = Some(value.clone());
                self.wake.notify_one();
            }
        }
        if matches!(kind, EventKind::Malformed { .. }) {
            self.malformed.set(self.malformed.get() + 1);
        }
        let line = HistoryLine {
            seq: self.seq_base + n,
            wall_ms: self.wall_start_ms + at_ms,
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

/// One node's history file, parsed and checked for internal consistency.
#[derive(Debug, Clone)]
pub struct NodeHistory {
    pub path: PathBuf,
    pub node: NodeId,
    pub roster: Roster,
    pub bugs: Bugs,
    /// Events in the order the node recorded them, with their line numbers.
    pub lines: Vec<(usize, HistoryLine)>,
    /// Number of starts (header lines).
    pub incarnations: usize,
}

/// Read and validate one node's history file.
pub fn read_history(path: &Path) -> Result<NodeHistory, BadHistory> {
    let bad = |line: Option<usize>, reason: String| BadHistory {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| bad(None, e.to_string()))?
        .len();
    if len > HISTORY_FILE_BYTES_MAX {
        return Err(bad(
            None,
            format!("{len} bytes is over the {HISTORY_FILE_BYTES_MAX}-byte limit"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(None, e.to_string()))?;
    let mut header: Option<HistoryHeader> = None;
    let mut incarnations = 0;
    let mut lines = Vec::new();
    let mut last_seq: Option<u64> = None;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| bad(Some(no), format!("not a JSON line: {e}")))?;
        if value.get("gauntlet_history").is_some() {
            let h: HistoryHeader = parse_line(raw).map_err(|e| bad(Some(no), e))?;
            if h.gauntlet_history != HISTORY_FORMAT {
                return Err(bad(
                    Some(no),
                    format!(
                        "history format {} is not {HISTORY_FORMAT}",
                        h.gauntlet_history
                    ),
                ));
            }
            if let Some(first) = &header {
                if h.node != first.node || h.roster != first.roster {
                    return Err(bad(
                        Some(no),
                        format!(
                            "this start of {} with roster {:?} does not match the first start ({} with {:?})",
                            h.node, h.roster, first.node, first.roster
                        ),
                    ));
                }
            }
            let seq_floor = (h.incarnation as u64) << 32;
            if last_seq.is_some_and(|s| s >= seq_floor) {
                return Err(bad(
                    Some(no),
                    format!(
                        "incarnation {} starts below an earlier event's sequence number",
                        h.incarnation
                    ),
                ));
            }
            incarnations += 1;
            header.get_or_insert(h);
            continue;
        }
        let Some(h) = &header else {
            return Err(bad(
                Some(no),
                "an event before any header line (is this a gauntlet node's history.jsonl?)".into(),
            ));
        };
        let line: HistoryLine = parse_line(raw).map_err(|e| bad(Some(no), e))?;
        if line.event.node != Some(h.node) {
            return Err(bad(
                Some(no),
                format!("an event of {:?} in {}'s history", line.event.node, h.node),
            ));
        }
        if last_seq.is_some_and(|s| line.seq <= s) {
            return Err(bad(
                Some(no),
                format!("sequence number {} does not increase", line.seq),
            ));
        }
        if let EventKind::RunEnded { reason } = &line.event.kind {
            return Err(bad(
                Some(no),
                format!(
                    "{}'s history was cut: {reason}; it cannot be judged",
                    h.node
                ),
            ));
        }
        last_seq = Some(line.seq);
        lines.push((no, line));
    }
    let Some(h) = header else {
        return Err(bad(None, "empty: no header line".into()));
    };
    Ok(NodeHistory {
        path: path.to_path_buf(),
        node: h.node,
        roster: h.roster,
        bugs: h.bugs,
        lines,
        incarnations,
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
#[derive(Debug, Clone)]
pub struct Merged {
    /// Phase markers, then every node's events interleaved by wall clock (each node's
    /// own order kept), `at_ms` counted from the earliest event; the liveness phase
    /// starts at the last (re)start of any node and the run ends after the last event.
    pub history: History,
    pub roster: Roster,
    /// The nodes a history file was given for.
    pub nodes: Vec<NodeId>,
    /// Roster members with no history file: the checkers treat them as silent.
    pub missing: Vec<NodeId>,
}

/// Merge per-node histories. Every file must describe the same roster, and each node
/// may appear in only one file.
pub fn merge(histories: &[NodeHistory]) -> Result<Merged, BadHistory> {
    let first = histories.first().ok_or_else(|| BadHistory {
        path: PathBuf::from("(no files)"),
        line: None,
        reason: "give at least one history file".into(),
    })?;
    let mut owner: BTreeMap<NodeId, &Path> = BTreeMap::new();
    for h in histories {
        if h.roster != first.roster {
            return Err(BadHistory {
                path: h.path.clone(),
                line: None,
                reason: format!(
                    "roster {:?} differs from {:?} in {}",
                    h.roster,
                    first.roster,
                    first.path.display()
                ),
            });
        }
        if let Some(other) = owner.insert(h.node, &h.path) {
            return Err(BadHistory {
                path: h.path.clone(),
                line: None,
                reason: format!("{} already has a history: {}", h.node, other.display()),
            });
        }
    }
    let t0 = histories
        .iter()
        .filter_map(|h| h.lines.first().map(|(_, l)| l.wall_ms))
        .min()
        .unwrap_or(0);
    // K-way merge: repeatedly take the head with the smallest (wall_ms, node); each
    // node's own order is never changed, whatever its clock did.
    let mut heads = vec![0usize; histories.len()];
    let mut history = History::default();
    history.push(
        0,
        None,
        EventKind::PhaseStarted {
            phase: Phase::Safety,
        },
    );
    let mut last_start: Option<usize> = None;
    loop {
        let next = histories
            .iter()
            .enumerate()
            .filter_map(|(k, h)| h.lines.get(heads[k]).map(|(_, l)| (l.wall_ms, h.node, k)))
            .min();
        let Some((_, _, k)) = next else { break };
        let line = &histories[k].lines[heads[k]].1;
        heads[k] += 1;
        if matches!(line.event.kind, EventKind::Started { .. }) {
            last_start = Some(history.len());
        }
        history.push(
            line.wall_ms.saturating_sub(t0),
            line.event.node,
            line.event.kind.clone(),
        );
    }
    let end_ms = history.events.last().map_or(0, |e| e.at_ms);
    let liveness_at = last_start.map_or(history.len(), |i| i + 1);
    let liveness_ms = history.events[liveness_at - 1].at_ms;
    history.events.insert(
        liveness_at,
        Event {
            at_ms: liveness_ms,
            node: None,
            kind: EventKind::PhaseStarted {
                phase: Phase::Liveness,
            },
        },
    );
    history.push(
        end_ms,
        None,
        EventKind::RunEnded {
            reason: "end of the recorded histories".into(),
        },
    );
    let nodes: Vec<NodeId> = owner.keys().copied().collect();
    let r = &first.roster;
    let mut missing: Vec<NodeId> = r
        .acceptors
        .iter()
        .chain(&r.learners)
        .chain(&r.proposers)
        .filter(|n| !owner.contains_key(n))
        .copied()
        .collect();
    missing.sort_unstable();
    missing.dedup();
    Ok(Merged {
        history,
        roster: first.roster.clone(),
        nodes,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_run, AGREEMENT};
    use crate::paxos::Ballot;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gauntlet-real-history-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn roster() -> Roster {
        Roster {
            acceptors: vec![NodeId(1), NodeId(2), NodeId(3)],
            learners: vec![NodeId(1), NodeId(2), NodeId(3)],
            proposers: vec![NodeId(4)],
        }
    }

    /// Record as node `id` in `dir/n<id>/` with incarnation `inc` from wall `wall_ms`.
    fn recorder(dir: &Path, id: u16, inc: u32, wall_ms: u64) -> FileRecorder {
        let d = dir.join(format!("n{id}"));
        std::fs::create_dir_all(&d).unwrap();
        FileRecorder::open(&d, NodeId(id), inc, roster(), Bugs::default(), wall_ms).unwrap()
    }

    fn accepted(value: &str, round: u64) -> EventKind {
        EventKind::Protocol(Note::Accepted {
            ballot: Ballot::new(round, NodeId(4)),
            value: Value::new(value),
        })
    }

    fn started(incarnation: u32) -> EventKind {
        EventKind::Started {
            incarnation,
            recovered: None,
        }
    }

    /// What a recorder writes reads back: headers of two incarnations, sequence numbers
    /// carrying the incarnation, events in order. Merging orders nodes by wall clock
    /// without reordering any node's own events, puts the liveness phase after the
    /// last start, and the checkers see a violation written by separate processes.
    #[test]
    fn recorded_histories_read_back_merge_and_judge() {
        let dir = temp_dir("merge");
        for (id, value) in [(1, "A"), (2, "A"), (3, "B")] {
            let r = recorder(&dir, id, 0, 1_000 + id as u64);
            r.record(0, Some(NodeId(id)), started(0));
            r.record(5, Some(NodeId(id)), accepted(value, 1));
        }
        // n2 restarts later and accepts B at a higher ballot: B is chosen too.
        let r = recorder(&dir, 2, 1, 2_000);
        r.record(0, Some(NodeId(2)), started(1));
        r.record(1, Some(NodeId(2)), accepted("B", 2));
        let r = recorder(&dir, 3, 1, 2_000);
        r.record(3, Some(NodeId(3)), accepted("B", 2));
        assert_eq!(r.recorded(), 1);

        let files: Vec<NodeHistory> = (1..=3)
            .map(|id| read_history(&dir.join(format!("n{id}")).join(HISTORY_FILE)).unwrap())
            .collect();
        assert_eq!(files[1].incarnations, 2);
        let seqs: Vec<u64> = files[1].lines.iter().map(|(_, l)| l.seq).collect();
        assert_eq!(seqs, vec![0, 1, 1 << 32, (1 << 32) + 1]);

        let merged = merge(&files).unwrap();
        assert_eq!(merged.missing, vec![NodeId(4)]);
        let rendered = merged.history.render();
        let order: Vec<String> = rendered
            .lines()
            .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(order[0], "-- == phase Safety ==");
        assert_eq!(
            order.last().map(String::as_str),
            Some("-- == end: end of the recorded histories ==")
        );
        let liveness = order
            .iter()
            .position(|l| l.contains("phase Liveness"))
            .unwrap();
        let last_start = order.iter().rposition(|l| l.contains("start #")).unwrap();
        assert_eq!(liveness, last_start + 1, "{rendered}");
        // Wall clock decides across nodes: n1's events (wall 1001..) come first.
        assert!(order[1].starts_with("n1 start"), "{rendered}");
        let verdict = check_run(&merged.history, &merged.roster);
        assert!(
            verdict
                .violations
                .iter()
                .any(|v| v.property == AGREEMENT.name),
            "{:?}\n{rendered}",
            verdict.violations
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Each way a history file can be wrong is refused with the file and line named.
    #[test]
    fn bad_history_files_are_refused_with_file_and_line() {
        let dir = temp_dir("bad");
        let header = |node: u16, inc: u32| {
            serde_json::to_string(&HistoryHeader {
                gauntlet_history: HISTORY_FORMAT,
                node: NodeId(node),
                incarnation: inc,
                roster: roster(),
                bugs: Bugs::default(),
                wall_ms: 0,
            })
            .unwrap()
        };
        let event = |seq: u64, node: u16| {
            serde_json::to_string(&HistoryLine {
                seq,
                wall_ms: 0,
                event: Event {
                    at_ms: 0,
                    node: Some(NodeId(node)),
                    kind: started(0),
                },
            })
            .unwrap()
        };
        let cases = [
            (String::new(), "no header", None),
            (event(0, 1), "before any header", Some(1)),
            (
                format!("{}\nnot json", header(1, 0)),
                "not a JSON line",
                Some(2),
            ),
            (
                format!("{}\n{}\n{}", header(1, 0), event(1, 1), event(1, 1)),
                "does not increase",
                Some(3),
            ),
            (
                format!("{}\n{}", header(1, 0), event(0, 2)),
                "history",
                Some(2),
            ),
            (
                format!("{}\n{}\n{}", header(1, 0), event(5, 1), header(1, 0)),
                "incarnation 0 starts below",
                Some(3),
            ),
            (
                format!(
                    "{}\n{}",
                    header(1, 0),
                    r#"{"seq":0,"wall_ms":0,"at_ms":0,"node":1,"kind":{"Nope":{}}}"#
                ),
                "Nope",
                Some(2),
            ),
            (
                format!(
                    "{}\n{}",
                    header(1, 0),
                    r#"{"seq":0,"wall_ms":0,"at_ms":0,"node":1,"kind":{"RunEnded":{"reason":"cut"}}}"#
                ),
                "was cut",
                Some(2),
            ),
        ];
        for (i, (text, needle, line)) in cases.into_iter().enumerate() {
            let path = dir.join(format!("case{i}.jsonl"));
            std::fs::write(&path, &text).unwrap();
            let e = read_history(&path).expect_err(&text);
            assert_eq!(e.line, line, "{e}");
            let shown = e.to_string();
            assert!(
                shown.starts_with(&*path.to_string_lossy()) && shown.contains(needle),
                "{needle} not in {shown}"
            );
        }
        // Two files for one node, and files that disagree on the roster.
        let path = dir.join("n1.jsonl");
        std::fs::write(&path, header(1, 0)).unwrap();
        let one = read_history(&path).unwrap();
        let e = merge(&[one.clone(), one.clone()]).unwrap_err();
        assert!(e.to_string().contains("already has a history"), "{e}");
        let mut other = one.clone();
        other.node = NodeId(2);
        other.roster.proposers.push(NodeId(5));
        let e = merge(&[one, other]).unwrap_err();
        assert!(e.to_string().contains("roster"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
