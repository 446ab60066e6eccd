//! [`Storage`](super::Storage) on the real filesystem, for real mode: the same record
//! format and the same write-tmp, fsync, rename, fsync-dir order as the simulation
//! (both are [`FileStorage`]), with `std::fs` underneath.

use super::file::{fs_ops_from_module, FileStorage, Fs};
use std::fs;
use std::io;
use std::path::Path;

/// The operating system's filesystem.
pub struct StdFs;

/// Storage in a real data directory.
pub type StdFileStorage = FileStorage<StdFs>;

impl Fs for StdFs {
    // A process killed with kill -9 leaves its unsynced writes in the operating
    // system's page cache, where the next incarnation reads them: only a power loss
    // would lose them, and real mode does not cut power. So real processes cannot
    // catch a missing fsync; the simulation can (`crate::fault::FaultyStorage`).
    fs_ops_from_module!(fs);

    fn exists(path: &Path) -> io::Result<bool> {
        path.try_exists()
    }
    /// On Unix a directory opened read-only can be fsynced, which makes the entries
    /// just created or renamed in it durable.
    fn sync_dir(path: &Path) -> io::Result<()> {
        fs::File::open(path)?.sync_all()
    }
}

/// Read the text of `path`, refusing it past `bytes_max` bytes. The limit is applied
/// while reading, not from the file's reported length, so a stream (`/dev/zero`, a
/// pipe) is refused at the limit instead of read without end. The error says which
/// limit; the caller names the file.
pub fn read_text_bounded(path: &Path, bytes_max: u64) -> io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(bytes_max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > bytes_max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("over the {bytes_max}-byte limit"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{encode_record, Storage, StorageError};

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gauntlet-std-fs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// A stored snapshot reads back after reopening; no temporary file is left behind.
    #[test]
    fn store_then_reopen_loads_the_snapshot() {
        let dir = temp_dir("roundtrip");
        let mut s = StdFileStorage::open(&dir).unwrap();
        assert_eq!(s.load().unwrap(), None);
        s.store(b"one").unwrap();
        s.store(b"two").unwrap();
        s.write_plain("chosen_value", b"Value_A").unwrap();
        let mut again = StdFileStorage::open(&dir).unwrap();
        assert_eq!(again.load().unwrap(), Some(b"two".to_vec()));
        assert_eq!(fs::read(dir.join("chosen_value")).unwrap(), b"Value_A");
        assert!(!dir.join("state.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A truncated record is refused with an error naming the state file.
    #[test]
    fn truncated_record_is_refused_naming_the_file() {
        let dir = temp_dir("truncated");
        fs::create_dir_all(&dir).unwrap();
        let rec = encode_record(b"{\"acceptor\":null}");
        fs::write(dir.join("state"), &rec[..rec.len() - 3]).unwrap();
        let err = StdFileStorage::open(&dir).unwrap().load().unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert!(err
            .to_string()
            .contains(&*dir.join("state").to_string_lossy()));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The log reads back what was appended, across reopening; a truncation cuts at an
    /// entry boundary and later appends follow it; an unsynced append is read back by
    /// the running process (a killed real process keeps its page cache).
    #[test]
    fn log_appends_truncates_and_reopens() {
        let dir = temp_dir("log");
        let mut s = StdFileStorage::open(&dir).unwrap();
        assert!(s.log_load().unwrap().is_empty());
        s.log_append(&[b"a".to_vec(), b"bb".to_vec()]).unwrap();
        s.log_append_unsynced(&[b"ccc".to_vec()]).unwrap();
        s.log_truncate(2).unwrap();
        s.log_append(&[b"d".to_vec()]).unwrap();
        let mut again = StdFileStorage::open(&dir).unwrap();
        assert_eq!(
            again.log_load().unwrap(),
            vec![b"a".to_vec(), b"bb".to_vec(), b"d".to_vec()]
        );
        again.log_truncate(0).unwrap();
        again.log_append(&[b"e".to_vec()]).unwrap();
        assert_eq!(
            StdFileStorage::open(&dir).unwrap().log_load().unwrap(),
            vec![b"e".to_vec()]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Half an entry at the end of the log (a crash mid-append) is cut off at the next
    /// start, and the next append lands right after the last whole entry.
    #[test]
    fn torn_last_entry_is_cut_off() {
        let dir = temp_dir("torn-log");
        let mut s = StdFileStorage::open(&dir).unwrap();
        s.log_append(&[b"kept".to_vec()]).unwrap();
        let whole = fs::read(dir.join("log")).unwrap();
        let mut torn = Vec::new();
        crate::storage::encode_log_record(b"torn entry", &mut torn);
        fs::write(
            dir.join("log"),
            [&whole[..], &torn[..torn.len() - 4]].concat(),
        )
        .unwrap();
        let mut again = StdFileStorage::open(&dir).unwrap();
        assert_eq!(again.log_load().unwrap(), vec![b"kept".to_vec()]);
        assert_eq!(fs::read(dir.join("log")).unwrap(), whole);
        again.log_append(&[b"next".to_vec()]).unwrap();
        assert_eq!(
            StdFileStorage::open(&dir).unwrap().log_load().unwrap(),
            vec![b"kept".to_vec(), b"next".to_vec()]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A damaged entry before the last is refused with an error naming the log file,
    /// never skipped.
    #[test]
    fn damaged_log_entry_is_refused_naming_the_file() {
        let dir = temp_dir("damaged-log");
        let mut s = StdFileStorage::open(&dir).unwrap();
        s.log_append(&[b"first".to_vec(), b"second".to_vec()])
            .unwrap();
        let mut bytes = fs::read(dir.join("log")).unwrap();
        bytes[18] ^= 0x40; // inside the first entry's payload
        fs::write(dir.join("log"), bytes).unwrap();
        let err = StdFileStorage::open(&dir).unwrap().log_load().unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&*dir.join("log").to_string_lossy()),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
