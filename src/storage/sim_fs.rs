//! [`Storage`] on turmoil's simulated filesystem. Each host has its own namespace; a
//! crash discards whatever was not fsynced, exactly what this implementation must
//! survive.

use super::record::{decode_record, encode_record};
use super::{Result, Storage, StorageError};
use std::io::Write;
use std::path::{Path, PathBuf};
use turmoil::fs::shim::std::fs;

pub struct SimFileStorage {
    dir: PathBuf,
    /// The last `store_unsynced` snapshot not yet superseded by a `store`: the page
    /// cache. It lives in this value, which lives in the node's incarnation, so a crash
    /// drops it and recovery reads the synced file.
    unsynced: Option<Vec<u8>>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl SimFileStorage {
    /// Open (creating durably if needed) the data directory `dir`, which must be absolute.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        if !fs::exists(&dir) {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            let parent = dir.parent().unwrap_or(Path::new("/"));
            fs::sync_dir(parent).map_err(io_err(parent))?;
        }
        Ok(SimFileStorage {
            dir,
            unsynced: None,
        })
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Write `contents` to `name` atomically and durably: temp file, fsync, rename,
    /// fsync the directory.
    fn replace_durably(&self, name: &str, contents: &[u8]) -> Result<()> {
        let tmp = self.dir.join(format!("{name}.tmp"));
        let path = self.dir.join(name);
        let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        file.write_all(contents).map_err(io_err(&tmp))?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        fs::sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        Ok(())
    }
}

impl Storage for SimFileStorage {
    fn load(&mut self) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = &self.unsynced {
            return Ok(Some(bytes.clone()));
        }
        let path = self.state_path();
        if !fs::exists(&path) {
            return Ok(None);
        }
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let payload = decode_record(&bytes).map_err(|reason| StorageError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        Ok(Some(payload.to_vec()))
    }

    fn store(&mut self, snapshot: &[u8]) -> Result<()> {
        self.replace_durably("state", &encode_record(snapshot))?;
        self.unsynced = None;
        Ok(())
    }

    /// Held in memory (the page cache) rather than written to turmoil's fs. turmoil
    /// 0.7.2 does discard unsynced writes on `Sim::crash`, but a file created without
    /// fsync gets a durable directory entry from any later directory fsync (the
    /// `chosen_value` file's), so a crash can leave a zero-length state file: true to
    /// POSIX, but it turns the lost write into an unreadable disk (a harness error)
    /// instead of the lost promise the planted bug is about. The fast lane's disk model
    /// does the same as this.
    fn store_unsynced(&mut self, snapshot: &[u8]) -> Result<()> {
        assert!(
            snapshot.len() <= super::RECORD_BYTES_MAX,
            "snapshot over {} bytes",
            super::RECORD_BYTES_MAX
        );
        self.unsynced = Some(snapshot.to_vec());
        Ok(())
    }

    fn write_plain(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.replace_durably(name, contents)
    }
}
