//! [`Storage`](super::Storage) on turmoil's simulated filesystem. Each host has its own
//! namespace; a crash discards whatever was not fsynced, exactly what the discipline in
//! [`super::file`] must survive.

use super::file::{FileStorage, Fs};
use std::io::{self, Write};
use std::path::Path;
use turmoil::fs::shim::std::fs;

/// turmoil's per-host simulated filesystem.
pub struct SimFs;

/// Storage on the simulated filesystem; `open` takes an absolute path.
pub type SimFileStorage = FileStorage<SimFs>;

impl Fs for SimFs {
    fn exists(path: &Path) -> io::Result<bool> {
        Ok(fs::exists(path))
    }
    fn create_dir_all(path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }
    fn read(path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }
    fn write_synced(path: &Path, contents: &[u8]) -> io::Result<()> {
        let mut file = fs::File::create(path)?;
        file.write_all(contents)?;
        file.sync_all()
    }
    fn rename(from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn sync_dir(path: &Path) -> io::Result<()> {
        fs::sync_dir(path)
    }
}
