//! The durable-file discipline, written once for every filesystem: a snapshot is written
//! whole to a temporary file, fsynced, renamed over the live file, and the directory is
//! fsynced, so a crash at any point leaves the old or the new file, never a mix. Each
//! filesystem (turmoil's simulated one, the real one) supplies the few primitive
//! operations through [`Fs`]; the order of those operations, the record format and the
//! refusal of corrupt records live here, so simulation and real mode cannot drift apart.

use super::record::{
    decode_log, decode_record, encode_log_record, encode_record, LOG_HEADER_BYTES,
};
use super::{Result, Storage, StorageError};
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The primitive operations [`FileStorage`] needs from a filesystem.
pub trait Fs {
    fn exists(path: &Path) -> io::Result<bool>;
    fn create_dir_all(path: &Path) -> io::Result<()>;
    fn read(path: &Path) -> io::Result<Vec<u8>>;
    /// Create (or truncate) `path`, write `contents` and fsync the file.
    fn write_synced(path: &Path, contents: &[u8]) -> io::Result<()>;
    fn rename(from: &Path, to: &Path) -> io::Result<()>;
    /// Fsync a directory, making the renames and creations inside it durable.
    fn sync_dir(path: &Path) -> io::Result<()>;
    /// Create (or truncate) `path` and write `contents`, without fsync.
    fn write_unsynced(path: &Path, contents: &[u8]) -> io::Result<()>;
    /// Append `contents` to `path` (creating it), and fsync the file if `sync`.
    fn append(path: &Path, contents: &[u8], sync: bool) -> io::Result<()>;
    /// Cut `path` to its first `len` bytes and fsync it.
    fn truncate_synced(path: &Path, len: u64) -> io::Result<()>;
}

/// The [`Fs`] operations a `std::fs`-shaped module provides under the same names
/// (turmoil's shim mirrors `std::fs`), so each filesystem writes only what differs.
macro_rules! fs_ops_from_module {
    ($fs:ident) => {
        fn create_dir_all(path: &std::path::Path) -> std::io::Result<()> {
            $fs::create_dir_all(path)
        }
        fn read(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
            $fs::read(path)
        }
        fn write_synced(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
            let mut file = $fs::File::create(path)?;
            std::io::Write::write_all(&mut file, contents)?;
            file.sync_all()
        }
        fn rename(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
            $fs::rename(from, to)
        }
        fn write_unsynced(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
            $fs::write(path, contents)
        }
        fn append(path: &std::path::Path, contents: &[u8], sync: bool) -> std::io::Result<()> {
            let mut file = $fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            std::io::Write::write_all(&mut file, contents)?;
            if sync {
                file.sync_all()?;
            }
            Ok(())
        }
        fn truncate_synced(path: &std::path::Path, len: u64) -> std::io::Result<()> {
            let file = $fs::OpenOptions::new().write(true).open(path)?;
            file.set_len(len)?;
            file.sync_all()
        }
    };
}
pub(super) use fs_ops_from_module;

/// [`Storage`] in one directory of the filesystem `F`: the snapshot lives in the record
/// file `state`, the log in `log` (one record per entry, appended), plain files (the
/// chosen value) beside them.
pub struct FileStorage<F: Fs> {
    dir: PathBuf,
    /// Where each log entry's record ends in the `log` file, once the log was read:
    /// what a truncation cuts at, without reading the file again.
    log_ends: Option<Vec<u64>>,
    fs: PhantomData<F>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file holding the node's snapshot.
const STATE_FILE: &str = "state";

/// The file holding the node's log.
const LOG_FILE: &str = "log";

impl<F: Fs> FileStorage<F> {
    /// Open (creating durably if needed) the data directory `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        if !F::exists(&dir).map_err(io_err(&dir))? {
            F::create_dir_all(&dir).map_err(io_err(&dir))?;
            let parent = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                Some(_) => Path::new("."),
                None => Path::new("/"),
            };
            F::sync_dir(parent).map_err(io_err(parent))?;
        }
        Ok(FileStorage {
            dir,
            log_ends: None,
            fs: PhantomData,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checksummed record stored under `name`, or `None` if there is none. A record
    /// that fails its checks is an error naming the file, never an empty result: a node
    /// that took a damaged disk for a fresh one would rejoin with amnesia.
    pub fn load_record(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.dir.join(name);
        if !F::exists(&path).map_err(io_err(&path))? {
            return Ok(None);
        }
        let bytes = F::read(&path).map_err(io_err(&path))?;
        let payload = decode_record(&bytes).map_err(|reason| StorageError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        Ok(Some(payload.to_vec()))
    }

    /// Replace the record `name` with `payload`, atomically and durably.
    pub fn store_record(&self, name: &str, payload: &[u8]) -> Result<()> {
        self.replace_durably(name, &encode_record(payload))
    }

    /// Write `contents` to `name` atomically and durably: temp file, fsync, rename,
    /// fsync the directory.
    fn replace_durably(&self, name: &str, contents: &[u8]) -> Result<()> {
        let tmp = self.dir.join(format!("{name}.tmp"));
        let path = self.dir.join(name);
        F::write_synced(&tmp, contents).map_err(io_err(&tmp))?;
        F::rename(&tmp, &path).map_err(io_err(&path))?;
        F::sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        Ok(())
    }
}

impl<F: Fs> Storage for FileStorage<F> {
    fn load(&mut self) -> Result<Option<Vec<u8>>> {
        self.load_record(STATE_FILE)
    }

    fn store(&mut self, snapshot: &[u8]) -> Result<()> {
        self.store_record(STATE_FILE, snapshot)
    }

    /// Overwrite the record in place, unsynced: the page cache holds it.
    fn write_unsynced(&mut self, snapshot: &[u8]) -> Result<()> {
        assert!(
            snapshot.len() <= super::RECORD_BYTES_MAX,
            "snapshot over {} bytes",
            super::RECORD_BYTES_MAX
        );
        let path = self.dir.join(STATE_FILE);
        F::write_unsynced(&path, &encode_record(snapshot)).map_err(io_err(&path))
    }

    fn write_plain(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.replace_durably(name, contents)
    }

    fn log_load(&mut self) -> Result<Vec<Vec<u8>>> {
        let path = self.dir.join(LOG_FILE);
        if !F::exists(&path).map_err(io_err(&path))? {
            self.log_ends = Some(Vec::new());
            return Ok(Vec::new());
        }
        let bytes = F::read(&path).map_err(io_err(&path))?;
        let log = decode_log(&bytes).map_err(|reason| StorageError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        if log.whole_bytes < bytes.len() {
            // A torn last append: cut it off before anything is appended after it.
            F::truncate_synced(&path, log.whole_bytes as u64).map_err(io_err(&path))?;
        }
        let mut ends = Vec::with_capacity(log.payloads.len());
        let mut end = 0u64;
        for payload in &log.payloads {
            end += (LOG_HEADER_BYTES + payload.len()) as u64;
            ends.push(end);
        }
        self.log_ends = Some(ends);
        Ok(log.payloads.into_iter().map(<[u8]>::to_vec).collect())
    }

    fn log_append(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        self.append_log(entries, true)
    }

    fn log_append_unsynced(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        self.append_log(entries, false)
    }

    fn log_truncate(&mut self, len: u64) -> Result<()> {
        self.ensure_log_read()?;
        let ends = self.log_ends.as_mut().expect("read above");
        let Ok(keep) = usize::try_from(len) else {
            return Ok(()); // longer than any log: nothing to cut
        };
        if keep >= ends.len() {
            return Ok(());
        }
        let cut_at = keep.checked_sub(1).map_or(0, |last| ends[last]);
        ends.truncate(keep);
        let path = self.dir.join(LOG_FILE);
        F::truncate_synced(&path, cut_at).map_err(io_err(&path))
    }
}

impl<F: Fs> FileStorage<F> {
    /// Read the log's record boundaries if nothing has yet (a truncation or append
    /// before `log_load`).
    fn ensure_log_read(&mut self) -> Result<()> {
        if self.log_ends.is_none() {
            self.log_load()?;
        }
        Ok(())
    }

    /// Append one record per entry in a single write, creating the file durably.
    fn append_log(&mut self, entries: &[Vec<u8>], sync: bool) -> Result<()> {
        self.ensure_log_read()?;
        let path = self.dir.join(LOG_FILE);
        let created = !F::exists(&path).map_err(io_err(&path))?;
        let ends = self.log_ends.as_mut().expect("read above");
        let mut end = ends.last().copied().unwrap_or(0);
        let mut bytes = Vec::new();
        for entry in entries {
            encode_log_record(entry, &mut bytes);
            end += (LOG_HEADER_BYTES + entry.len()) as u64;
            ends.push(end);
        }
        F::append(&path, &bytes, sync).map_err(io_err(&path))?;
        if created && sync {
            F::sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        }
        Ok(())
    }
}
