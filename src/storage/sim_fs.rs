//! [`Storage`](super::Storage) on turmoil's simulated filesystem. Each host has its own
//! namespace; a crash discards whatever was not fsynced, exactly what the discipline in
//! [`super::file`] must survive.

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

    /// A simulated crash is a machine crash: the page cache goes with it. (turmoil
    /// 0.7.2 does discard unsynced writes on `Sim::crash`, but a file created without
    /// fsync gets a durable directory entry from any later directory fsync, such as the
    /// `chosen_value` file's, so a crash could leave a zero-length state file: true to
    /// POSIX, but it turns the lost write into an unreadable disk (a harness error)
    /// instead of the lost promise the planted bug is about. So the unsynced snapshot
    /// is held in memory instead; the fast lane's disk model does the same.)
    const UNSYNCED_DIES_WITH_PROCESS: bool = true;

    fn exists(path: &Path) -> io::Result<bool> {
        Ok(fs::exists(path))
    }
    fn sync_dir(path: &Path) -> io::Result<()> {
        fs::sync_dir(path)
    }
}
