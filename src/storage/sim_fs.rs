//! [`Storage`](super::Storage) on turmoil's simulated filesystem. Each host has its own
//! namespace; a crash discards whatever was not fsynced, exactly what the discipline in
//! [`super::file`] must survive. The turmoil world puts `crate::fault::FaultyStorage`
//! in front of it, which holds unsynced writes in memory (see there why).

use super::file::{fs_ops_from_module, FileStorage, Fs};
use std::io;
use std::path::Path;
use turmoil::fs::shim::std::fs;

/// turmoil's per-host simulated filesystem.
pub struct SimFs;

/// Storage on the simulated filesystem; `open` takes an absolute path.
pub type SimFileStorage = FileStorage<SimFs>;

impl Fs for SimFs {
    fs_ops_from_module!(fs);

    fn exists(path: &Path) -> io::Result<bool> {
        Ok(fs::exists(path))
    }
    fn sync_dir(path: &Path) -> io::Result<()> {
        fs::sync_dir(path)
    }
}
