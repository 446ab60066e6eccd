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
        Ok(SimFileStorage { dir })
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
        self.replace_durably("state", &encode_record(snapshot))
    }

    /// turmoil keeps an unsynced write pending and discards it when the host crashes
    /// (`Sim::crash`), so recovery reads the last synced snapshot. turmoil overlays
    /// pending writes by path, so a `load` in the same incarnation after a later
    /// `store` could still see these bytes; nodes load only when they start, after a
    /// crash has discarded them.
    fn store_unsynced(&mut self, snapshot: &[u8]) -> Result<()> {
        let path = self.state_path();
        fs::write(&path, encode_record(snapshot)).map_err(io_err(&path))
    }

    fn write_plain(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.replace_durably(name, contents)
    }
}
