//! A real node's data directory, owned: its durable records name the node and the
//! cluster they belong to, an exclusive lock keeps a second process out, and a start
//! refuses a directory that shows an earlier life but lacks its state (amnesia breaks
//! Paxos's promises as surely as a damaged record does).
//!
//! - The state record is `owner line \n protocol state`; [`OwnedStorage`] writes the
//!   owner line and checks it on load, so the node shell and the protocol see only
//!   their own bytes, and a state copied from another node or cluster is refused.
//! - The incarnation record names the node and the cluster, counts starts, and says
//!   whether this node ever stored a state (`state_stored`), so a state file that
//!   vanished is told from one that never was.

use crate::ids::NodeId;
use crate::storage::{Result as StorageResult, StdFileStorage, Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::Path;

/// The record in the data directory that counts this node's starts.
pub const INCARNATION_FILE: &str = "incarnation";
/// The file the running node holds an exclusive lock on.
pub const LOCK_FILE: &str = "lock";
/// The state record's file (written by the storage).
pub const STATE_FILE: &str = "state";

/// Whose a durable record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub node: NodeId,
    pub cluster: String,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of cluster {}", self.node, self.cluster)
    }
}

/// What the incarnation record holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncarnationRecord {
    pub node: NodeId,
    pub cluster: String,
    pub incarnation: u32,
    /// Whether this node has stored a state in this directory (in any life).
    pub state_stored: bool,
}

/// The real node's storage: [`StdFileStorage`] with the owner line on the state, and
/// the incarnation record marked the first time a state is stored.
pub struct OwnedStorage {
    inner: StdFileStorage,
    owner: Owner,
    /// This start's incarnation record, rewritten with `state_stored` on the first
    /// store if it did not say so yet.
    record: IncarnationRecord,
    /// The data directory's lock, held as long as the storage lives.
    _lock: Option<File>,
}

impl OwnedStorage {
    pub fn new(inner: StdFileStorage, owner: Owner, record: IncarnationRecord, lock: File) -> Self {
        OwnedStorage {
            inner,
            owner,
            record,
            _lock: Some(lock),
        }
    }

    pub fn dir(&self) -> &Path {
        self.inner.dir()
    }

    fn wrap(&self, snapshot: &[u8]) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(&self.owner).expect("owners serialize");
        bytes.push(b'\n');
        bytes.extend_from_slice(snapshot);
        bytes
    }

    fn mark_stored(&mut self) -> StorageResult<()> {
        if !self.record.state_stored {
            self.record.state_stored = true;
            store_incarnation(&self.inner, &self.record)?;
        }
        Ok(())
    }
}

/// Split a stored state into its owner and the protocol's bytes, refusing another
/// node's or cluster's.
pub fn unwrap_state<'a>(
    path: &Path,
    expected: &Owner,
    stored: &'a [u8],
) -> StorageResult<&'a [u8]> {
    let corrupt = |reason: String| StorageError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let cut = stored
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt("no owner line: not a state this gauntlet wrote".into()))?;
    let owner: Owner = serde_json::from_slice(&stored[..cut])
        .map_err(|e| corrupt(format!("the owner line does not parse ({e})")))?;
    if &owner != expected {
        return Err(corrupt(format!(
            "this state belongs to {owner}, not {expected}"
        )));
    }
    Ok(&stored[cut + 1..])
}

impl Storage for OwnedStorage {
    fn load(&mut self) -> StorageResult<Option<Vec<u8>>> {
        let Some(stored) = self.inner.load()? else {
            return Ok(None);
        };
        let path = self.inner.dir().join(STATE_FILE);
        Ok(Some(unwrap_state(&path, &self.owner, &stored)?.to_vec()))
    }

    fn store(&mut self, snapshot: &[u8]) -> StorageResult<()> {
        let bytes = self.wrap(snapshot);
        self.inner.store(&bytes)?;
        self.mark_stored()
    }

    fn write_unsynced(&mut self, snapshot: &[u8]) -> StorageResult<()> {
        let bytes = self.wrap(snapshot);
        self.inner.write_unsynced(&bytes)?;
        self.mark_stored()
    }

    fn write_plain(&mut self, name: &str, contents: &[u8]) -> StorageResult<()> {
        self.inner.write_plain(name, contents)
    }

    // The log is the core's own records beside the state, as they are: the state's
    // owner line and the incarnation record name the node whose directory it is.
    fn log_load(&mut self) -> StorageResult<Vec<Vec<u8>>> {
        self.inner.log_load()
    }

    fn log_append(&mut self, entries: &[Vec<u8>]) -> StorageResult<()> {
        self.inner.log_append(entries)
    }

    fn log_append_unsynced(&mut self, entries: &[Vec<u8>]) -> StorageResult<()> {
        self.inner.log_append_unsynced(entries)
    }

    fn log_truncate(&mut self, len: u64) -> StorageResult<()> {
        self.inner.log_truncate(len)
    }
}

/// Durably write the incarnation record.
pub fn store_incarnation(
    storage: &StdFileStorage,
    record: &IncarnationRecord,
) -> StorageResult<()> {
    let bytes = serde_json::to_vec(record).expect("records serialize");
    storage.store_record(INCARNATION_FILE, &bytes)
}
