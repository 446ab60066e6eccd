//! Checkpoints of a depth-first search, so a search longer than one process (a job
//! that is preempted, a session that ends, a Ctrl-C) goes on where it stopped instead
//! of starting over: `check-model --dfs --checkpoint FILE` saves, `--resume` goes on.
//!
//! A depth-first search is wholly its visited set, its path and its counters: each
//! state on the path is the one its parent's chosen step reaches, so the path is saved
//! as the steps each state had to try and how many it had tried, and rebuilt on resume
//! by replaying them from the scope's start (the cores are deterministic). The visited
//! set is saved entry by entry, as it is kept. Each rebuilt state's fingerprint must
//! equal the saved one: a build that fingerprints states differently (another protocol
//! version, another model) is refused instead of resuming into a set that no longer
//! means what it says.
//!
//! The file: a magic line, a format version, a JSON header ([`Header`]: the scope, the
//! counters, the path), the visited set's entries as little-endian words, and a
//! checksum of everything before it. It is written to a temporary name beside the file
//! and renamed over it, so a process killed while writing leaves the previous
//! checkpoint whole.

use super::fingerprint::{Fingerprinter, Visited};
use crate::fault::ScriptStep;
use serde::{Deserialize, Serialize};
use std::hash::Hasher;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"gauntlet model checkpoint\n";
const VERSION: u32 = 1;
/// A header longer than this is not a checkpoint's (it holds one path of at most
/// [`super::fingerprint::DEPTH_MAX`] states and their steps).
const HEADER_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// The buffer between the visited set and the file, each way.
const IO_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// Where and how often a depth-first search saves itself, and whether it starts from
/// the saved file. Not part of the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpointing {
    pub path: PathBuf,
    /// A checkpoint is written after every this many new states (and whenever the
    /// search stops before the end: a bound, or an interruption).
    pub every_states: u64,
    /// Start from `path` instead of from the scope's start.
    pub resume: bool,
}

/// What a checkpoint was written for: a resume must search the same scope.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    pub protocol: String,
    /// The scenario (cluster, parameters, workload, seed, bugs, liveness bound).
    pub scenario: serde_json::Value,
    /// The bounds that make the scope ([`super::Bounds`]'s display: budgets, depth,
    /// liveness, symmetry, successor order).
    pub bounds: String,
    /// The steps the search starts after.
    pub start: Vec<ScriptStep>,
}

/// The search's counters ([`super::Outcome`]'s), carried over a resume.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub states: u64,
    pub transitions: u64,
    pub depth: u32,
    pub depth_cut: u64,
    pub reexpanded: u64,
    pub liveness_checked: u64,
    pub healed: u64,
    pub peak_bytes: u64,
}

impl Counters {
    pub fn of(outcome: &super::Outcome) -> Self {
        Counters {
            states: outcome.states,
            transitions: outcome.transitions,
            depth: outcome.depth,
            depth_cut: outcome.depth_cut,
            reexpanded: outcome.reexpanded,
            liveness_checked: outcome.liveness_checked,
            healed: outcome.healed,
            peak_bytes: outcome.peak_bytes,
        }
    }

    /// Carry the counters into a resumed search's `outcome`, which then counts on
    /// from them (and reports progress from here, not from 0).
    pub fn restore(&self, outcome: &mut super::Outcome) {
        outcome.states = self.states;
        outcome.transitions = self.transitions;
        outcome.depth = self.depth;
        outcome.depth_cut = self.depth_cut;
        outcome.reexpanded = self.reexpanded;
        outcome.liveness_checked = self.liveness_checked;
        outcome.healed = self.healed;
        outcome.peak_bytes = self.peak_bytes;
        outcome.reported = self.states;
        outcome.resumed_states = self.states;
    }
}

/// One state of the depth-first path: the steps it tries, in order, how many it has
/// taken (the last taken leads to the next frame), and its fingerprint.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct SavedFrame {
    pub steps: Vec<ScriptStep>,
    pub next: usize,
    pub key: u64,
}

/// Everything a checkpoint holds but the visited set's entries, which follow it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub scope: Scope,
    pub counters: Counters,
    /// With a seeded successor order: the position of its stream (a `u128` in
    /// decimal, as JSON numbers are not that wide everywhere).
    pub order_stream_word_pos: Option<String>,
    pub frames: Vec<SavedFrame>,
    /// How many visited-set entries follow the header.
    pub entries: u64,
}

/// The temporary name a checkpoint is written under before it replaces `path`.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Write `header` and `visited` to `path` (through a temporary file renamed over it).
pub(crate) fn save(path: &Path, header: &Header, visited: &Visited) -> Result<(), String> {
    let partial = partial_path(path);
    let fail =
        |e: std::io::Error| format!("{}: cannot write the checkpoint: {e}", partial.display());
    let file = std::fs::File::create(&partial).map_err(fail)?;
    let mut out = BufWriter::with_capacity(IO_BUFFER_BYTES, file);
    let json = serde_json::to_vec(header).expect("a header serializes");
    let mut sum = Fingerprinter::default();
    sum.write(&json);
    out.write_all(MAGIC).map_err(fail)?;
    out.write_all(&VERSION.to_le_bytes()).map_err(fail)?;
    out.write_all(&(json.len() as u64).to_le_bytes())
        .map_err(fail)?;
    out.write_all(&json).map_err(fail)?;
    let mut written = 0u64;
    for entry in visited.entries() {
        sum.write_u64(entry);
        out.write_all(&entry.to_le_bytes()).map_err(fail)?;
        written = written.checked_add(1).expect("fewer than 2^64 entries");
    }
    assert_eq!(written, header.entries, "the header counts the entries");
    out.write_all(&sum.finish().to_le_bytes()).map_err(fail)?;
    let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
    file.sync_all().map_err(fail)?;
    drop(file);
    std::fs::rename(&partial, path).map_err(|e| {
        format!(
            "{}: cannot rename the checkpoint over {}: {e}",
            partial.display(),
            path.display()
        )
    })?;
    // The rename is durable once the directory is synced; a failure to sync it (some
    // file systems refuse to open a directory) leaves a file that is whole either way.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Read the checkpoint at `path`, written for the scope `wanted`: its header, and its
/// visited set in a table with room for at least `reserve` states. Every malformation
/// is an error naming the file and what is wrong; `table_bytes_max` refuses a table
/// larger than the memory bound before it is allocated.
pub(crate) fn load(
    path: &Path,
    wanted: &Scope,
    reserve: usize,
    table_bytes_max: u64,
) -> Result<(Header, Visited), String> {
    let at = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{at}: cannot open: {e}"))?;
    let mut input = BufReader::with_capacity(IO_BUFFER_BYTES, file);
    let mut magic = Vec::with_capacity(MAGIC.len());
    (&mut input)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(|e| format!("{at}: {e}"))?;
    if magic != MAGIC {
        return Err(format!(
            "{at}: not a gauntlet model checkpoint (its first line)"
        ));
    }
    // `what` is only formatted into an error: a checkpoint holds a billion entries.
    let mut read = |buf: &mut [u8], what: &str| {
        input
            .read_exact(buf)
            .map_err(|e| format!("{at}: {what}: {e} (the file is cut short or unreadable)"))
    };
    let mut word4 = [0u8; 4];
    read(&mut word4, "version")?;
    let version = u32::from_le_bytes(word4);
    if version != VERSION {
        return Err(format!(
            "{at}: field version: {version}, and this build reads version {VERSION}"
        ));
    }
    let mut word = [0u8; 8];
    read(&mut word, "header length")?;
    let header_len = u64::from_le_bytes(word);
    if header_len > HEADER_BYTES_MAX {
        return Err(format!(
            "{at}: field header length: {header_len} bytes, more than {HEADER_BYTES_MAX}"
        ));
    }
    let mut json = vec![0u8; header_len as usize];
    read(&mut json, "header")?;
    let header: Header = serde_json::from_slice(&json).map_err(|e| format!("{at}: header: {e}"))?;
    same_scope(path, &header.scope, wanted)?;
    let mut sum = Fingerprinter::default();
    sum.write(&json);
    let states = usize::try_from(header.entries)
        .map_err(|_| format!("{at}: field entries: {} is too many", header.entries))?;
    let table_bytes = Visited::bytes_for(states.max(reserve));
    if table_bytes > table_bytes_max {
        return Err(format!(
            "{at}: its visited set of {} states needs a table of {} MB, more than the \
             memory bound of {} MB (raise --memory-mb)",
            header.entries,
            table_bytes / (1024 * 1024),
            table_bytes_max / (1024 * 1024)
        ));
    }
    let mut visited = Visited::with_capacity(states.max(reserve));
    for i in 0..header.entries {
        read(&mut word, "visited-set entries")
            .map_err(|e| format!("{e}, at entry {i} of {}", header.entries))?;
        let entry = u64::from_le_bytes(word);
        sum.write_u64(entry);
        if !visited.restore(entry) {
            return Err(format!(
                "{at}: visited-set entry {i} repeats a fingerprint (the file is damaged)"
            ));
        }
    }
    read(&mut word, "checksum")?;
    if u64::from_le_bytes(word) != sum.finish() {
        return Err(format!(
            "{at}: field checksum: it does not match the contents (the file is damaged)"
        ));
    }
    let mut rest = [0u8; 1];
    if input.read(&mut rest).map_err(|e| format!("{at}: {e}"))? != 0 {
        return Err(format!(
            "{at}: bytes after the checksum (not a checkpoint's)"
        ));
    }
    Ok((header, visited))
}

/// An error naming the first part of the scope `saved` (read from `path`) that differs
/// from `wanted`, if any.
fn same_scope(path: &Path, saved: &Scope, wanted: &Scope) -> Result<(), String> {
    let differs = |field: &str, theirs: &str, ours: &str| {
        Err(format!(
            "{}: field scope.{field}: the checkpoint was written for {theirs}, and this \
             command's is {ours}; resume with the scope it was written for, or start \
             afresh without --resume",
            path.display()
        ))
    };
    if saved.protocol != wanted.protocol {
        return differs("protocol", &saved.protocol, &wanted.protocol);
    }
    if saved.bounds != wanted.bounds {
        return differs("bounds", &saved.bounds, &wanted.bounds);
    }
    if saved.start != wanted.start {
        return differs(
            "start",
            &format!("a start of {} steps", saved.start.len()),
            &format!("a start of {} steps", wanted.start.len()),
        );
    }
    if saved.scenario != wanted.scenario {
        let field = match (&saved.scenario, &wanted.scenario) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
                .iter()
                .find(|(k, v)| b.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .or_else(|| b.keys().find(|k| !a.contains_key(*k)).cloned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        return differs(&format!("scenario.{field}"), "another scenario", "this one");
    }
    Ok(())
}
