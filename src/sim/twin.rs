//! What a twin ([`crate::fault::Fault::Twin`]) starts from, the same in both worlds:
//! the state and log its node had made durable when the twin appeared, read back from
//! the run's history (a fsynced `Persisted` survives anything; log entries written
//! without fsync become durable with the next synced log write, and a crash loses
//! them), so no world has to reach into another host's disk.

use crate::history::{Event, EventKind};
use crate::ids::NodeId;
use crate::protocol::Core;

/// The incarnation number a twin runs as: far above any restart count a run can reach
/// (a schedule has at most `crate::fault::EVENTS_MAX` events), below the 2^20 the node
/// streams leave for incarnations (`crate::rng::Stream::Node`), so the twin's timer
/// stream and message ids (`incarnation << 32`) are its own.
pub const TWIN_INCARNATION: u32 = 1 << 19;

/// The durable state and log of `node` after `events` (the original instance's own
/// events, and the harness's crashes of it).
pub(crate) fn durable_of<C: Core>(
    events: &[Event<C>],
    node: NodeId,
) -> (Option<C::State>, Vec<C::Entry>) {
    let mut state = None;
    let mut log: Vec<C::Entry> = Vec::new();
    let mut unsynced: Vec<C::Entry> = Vec::new();
    for e in events {
        match (&e.node, &e.kind) {
            // A crash loses the unsynced entries, and so does an adversary's
            // takeover or its end, which restart the node.
            (
                None,
                EventKind::Crashed { node: n }
                | EventKind::StrategySet { node: n, .. }
                | EventKind::StrategyEnded { node: n },
            ) if *n == node => unsynced.clear(),
            (Some(n), kind) if *n == node => match kind {
                EventKind::Persisted { state: s } => state = Some(s.clone()),
                EventKind::Appended { entries } => {
                    log.append(&mut unsynced);
                    log.extend(entries.iter().cloned());
                }
                EventKind::AppendedUnsynced { entries } => {
                    unsynced.extend(entries.iter().cloned());
                }
                EventKind::Truncated { len } => {
                    log.append(&mut unsynced);
                    log.truncate(usize::try_from(*len).unwrap_or(usize::MAX));
                }
                _ => {}
            },
            _ => {}
        }
    }
    (state, log)
}
