//! Durable state: the [`Storage`] trait and its file implementation, one discipline
//! ([`FileStorage`]) over turmoil's simulated filesystem and over the real one.
//!
//! A node's durable state is one small snapshot. It is written whole to a temporary
//! file, fsynced, renamed over the live file and the directory fsynced, so a crash at
//! any point leaves either the old or the new snapshot, never a mix. Every record
//! carries a checksum; a record that fails it makes recovery refuse with an error
//! naming the file, because rejoining with amnesia would break Paxos's safety.

mod file;
mod record;
mod sim_fs;
mod std_fs;

pub use file::{FileStorage, Fs};
pub use record::{
    decode_log, decode_record, encode_log_record, encode_record, DecodedLog, RECORD_BYTES_MAX,
};
pub use sim_fs::{SimFileStorage, SimFs};
pub use std_fs::{read_text_bounded, StdFileStorage, StdFs};

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt record: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Where a node keeps what must survive a crash.
pub trait Storage {
    /// The last snapshot stored, or `None` on a fresh disk.
    fn load(&mut self) -> Result<Option<Vec<u8>>>;
    /// Replace the snapshot. Durable when this returns `Ok`.
    fn store(&mut self, snapshot: &[u8]) -> Result<()>;
    /// Overwrite the snapshot without fsync: it sits in the machine's page cache until
    /// a later [`Storage::store`], so a crash of the machine may lose it (a killed
    /// process does not). That is the filesystem's own semantics, nothing more: what a
    /// simulated crash does to such a write is the simulation's business, modelled by
    /// the `crate::fault::FaultyStorage` decorator, not by the storage.
    fn write_unsynced(&mut self, snapshot: &[u8]) -> Result<()>;
    /// Write a plain, human-readable file beside the state (the learner's chosen
    /// value, as the lab's servers write it), durably.
    fn write_plain(&mut self, name: &str, contents: &[u8]) -> Result<()>;

    /// The durable log's entries, oldest first; empty on a fresh disk. A last entry
    /// torn by a crash mid-append is cut off; damage before it is an error.
    fn log_load(&mut self) -> Result<Vec<Vec<u8>>>;
    /// Append `entries` at the end of the log and fsync it (which makes every earlier
    /// unsynced append durable too). Costs what the entries cost, not the log.
    fn log_append(&mut self, entries: &[Vec<u8>]) -> Result<()>;
    /// Append without fsync: the page cache holds the entries until the next synced
    /// log write (see [`Storage::write_unsynced`] for what a crash does).
    fn log_append_unsynced(&mut self, entries: &[Vec<u8>]) -> Result<()>;
    /// Keep the first `len` entries and drop the rest, durably.
    fn log_truncate(&mut self, len: u64) -> Result<()>;
}
