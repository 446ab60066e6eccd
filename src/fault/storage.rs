//! [`FaultyStorage`]: the disk faults of a simulated machine, as a decorator around any
//! [`Storage`]. Today it carries one: a crash loses every write that was never fsynced
//! (`Storage::write_unsynced`, `Storage::log_append_unsynced`), because a simulated crash is a whole machine's and the
//! page cache goes with it. The storage underneath stays a plain filesystem discipline
//! with no fault logic in it; disk faults to come (corrupted or lost sectors, a full
//! disk) belong here too.
//!
//! The unsynced snapshot is held in this decorator's memory, which lives and dies with
//! the node's incarnation, rather than written to turmoil's filesystem: turmoil 0.7.2
//! does discard unsynced writes on a crash, but a file created without fsync gets a
//! durable directory entry from any later directory fsync (such as the `chosen_value`
//! file's), so a crash could leave a zero-length state file. That is true to POSIX,
//! but it would turn the lost write into an unreadable disk (a harness error) instead
//! of the lost promise a missing fsync is about. The fast world's disk model does the
//! same as this decorator.

use crate::storage::{Result, Storage};

/// A [`Storage`] whose unsynced writes a crash loses: wrap a node's storage in one per
/// incarnation, and drop it with the node.
pub struct FaultyStorage<S> {
    inner: S,
    /// The last unsynced snapshot not yet superseded by a durable one.
    page_cache: Option<Vec<u8>>,
    /// Log entries appended without fsync since the last synced log write: the next
    /// one writes them first, a crash loses them.
    log_page_cache: Vec<Vec<u8>>,
}

impl<S: Storage> FaultyStorage<S> {
    pub fn new(inner: S) -> Self {
        FaultyStorage {
            inner,
            page_cache: None,
            log_page_cache: Vec::new(),
        }
    }

    /// Write the log's unsynced entries through, as the fsync of a later log write
    /// makes them durable.
    fn flush_log(&mut self) -> Result<()> {
        if !self.log_page_cache.is_empty() {
            let pending = std::mem::take(&mut self.log_page_cache);
            self.inner.log_append(&pending)?;
        }
        Ok(())
    }
}

impl<S: Storage> Storage for FaultyStorage<S> {
    /// What the running machine reads: the page cache's snapshot if there is one.
    fn load(&mut self) -> Result<Option<Vec<u8>>> {
        match &self.page_cache {
            Some(bytes) => Ok(Some(bytes.clone())),
            None => self.inner.load(),
        }
    }

    fn store(&mut self, snapshot: &[u8]) -> Result<()> {
        self.inner.store(snapshot)?;
        self.page_cache = None;
        Ok(())
    }

    fn write_unsynced(&mut self, snapshot: &[u8]) -> Result<()> {
        assert!(
            snapshot.len() <= crate::storage::RECORD_BYTES_MAX,
            "snapshot over {} bytes",
            crate::storage::RECORD_BYTES_MAX
        );
        self.page_cache = Some(snapshot.to_vec());
        Ok(())
    }

    fn write_plain(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.inner.write_plain(name, contents)
    }

    fn log_load(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut log = self.inner.log_load()?;
        log.extend(self.log_page_cache.iter().cloned());
        Ok(log)
    }

    fn log_append(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        self.flush_log()?;
        self.inner.log_append(entries)
    }

    fn log_append_unsynced(&mut self, entries: &[Vec<u8>]) -> Result<()> {
        self.log_page_cache.extend(entries.iter().cloned());
        Ok(())
    }

    fn log_truncate(&mut self, len: u64) -> Result<()> {
        self.flush_log()?;
        self.inner.log_truncate(len)
    }
}
