//! Durable storage under turmoil's simulated filesystem behaves as the fault model
//! promises: what `store` returned for survives a crash, and a corrupt record makes
//! recovery refuse with the file named instead of starting with amnesia.

use gauntlet::fault::FaultyStorage;
use gauntlet::storage::{SimFileStorage, Storage, StorageError};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use turmoil::fs::shim::std::fs;

/// A node stores a snapshot, then writes another record without fsync; after a crash
/// and restart it loads exactly the synced snapshot.
#[test]
fn synced_snapshot_survives_crash_unsynced_write_does_not() {
    let loaded: Rc<RefCell<Vec<Option<Vec<u8>>>>> = Rc::default();
    let mut sim = turmoil::Builder::new().rng_seed(1).build();
    let seen = Rc::clone(&loaded);
    sim.host("n1", move || {
        let seen = Rc::clone(&seen);
        async move {
            let mut storage = SimFileStorage::open("/data")?;
            let first = storage.load()?;
            let boot = seen.borrow().len();
            seen.borrow_mut().push(first);
            if boot == 0 {
                storage.store(b"promised=5")?;
                // An unsynced overwrite of the live file: lost on crash.
                fs::write("/data/state", b"garbage not synced")?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    for _ in 0..5 {
        sim.step().unwrap();
    }
    sim.crash("n1");
    sim.step().unwrap();
    sim.bounce("n1");
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let loaded = loaded.borrow();
    assert_eq!(loaded.len(), 2, "booted twice");
    assert_eq!(loaded[0], None, "fresh disk");
    assert_eq!(loaded[1].as_deref(), Some(&b"promised=5"[..]));
}

/// A record whose bytes were damaged on disk is refused: the error names the file.
#[test]
fn corrupt_record_is_refused_with_the_file_named() {
    let outcome: Rc<RefCell<Option<String>>> = Rc::default();
    let mut sim = turmoil::Builder::new().rng_seed(2).build();
    let out = Rc::clone(&outcome);
    sim.client("n1", async move {
        let mut storage = SimFileStorage::open("/data")?;
        storage.store(b"accepted=3:Value_A")?;
        let mut bytes = fs::read("/data/state")?;
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        fs::write("/data/state", &bytes)?;
        let err = storage.load().expect_err("a flipped bit must be detected");
        assert!(matches!(err, StorageError::Corrupt { .. }));
        *out.borrow_mut() = Some(err.to_string());
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    });
    sim.run().unwrap();
    let message = outcome.borrow().clone().expect("client ran");
    assert!(
        message.contains("/data/state") && message.contains("checksum"),
        "{message}"
    );
}

/// A write never fsynced (`write_unsynced`, what the planted bug
/// `acceptor_skips_fsync` makes) is lost by a simulated crash, through the
/// `FaultyStorage` decorator the turmoil world puts in front of every node's disk, while
/// a later `store` makes the newest snapshot durable: boot 0 stores A durably and B
/// unsynced, and reads B back while it runs; boot 1 must find A. Boot 1 then writes C
/// unsynced and D durably; boot 2 must find D.
#[test]
fn unsynced_store_is_lost_by_a_crash_and_a_later_store_is_not() {
    let loaded: Rc<RefCell<Vec<Option<Vec<u8>>>>> = Rc::default();
    let mut sim = turmoil::Builder::new().rng_seed(3).build();
    let seen = Rc::clone(&loaded);
    sim.host("n1", move || {
        let seen = Rc::clone(&seen);
        async move {
            let mut storage = FaultyStorage::new(SimFileStorage::open("/data")?);
            let boot = seen.borrow().len();
            seen.borrow_mut().push(storage.load()?);
            if boot == 0 {
                storage.store(b"A")?;
                storage.write_unsynced(b"B")?;
                assert_eq!(storage.load()?.as_deref(), Some(&b"B"[..]), "read while up");
            } else if boot == 1 {
                storage.write_unsynced(b"C")?;
                storage.store(b"D")?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    for _ in 0..2 {
        for _ in 0..5 {
            sim.step().unwrap();
        }
        sim.crash("n1");
        sim.step().unwrap();
        sim.bounce("n1");
    }
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let loaded = loaded.borrow();
    assert_eq!(loaded.len(), 3, "booted three times");
    assert_eq!(loaded[1].as_deref(), Some(&b"A"[..]));
    assert_eq!(loaded[2].as_deref(), Some(&b"D"[..]));
}
