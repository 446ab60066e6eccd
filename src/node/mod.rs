//! The one async node shell, for every protocol: it drives a sans-IO `Core` over a
//! `Transport` and a `Storage`, executes the core's outputs in order (persist, write
//! and fsync, before anything after it), runs the timers and the client request, and
//! records everything in the history. Faults are not its business: in a simulation
//! they wrap its transport and storage (`crate::fault::FaultyTransport`,
//! `crate::fault::FaultyStorage`). It holds no
//! protocol rule; the same shell runs under turmoil and, with other `Transport` and
//! `Storage` impls, on real sockets.

mod shell;

pub use shell::{
    decode as decode_datagram, encode as encode_datagram, message_too_big, run_core,
    run_core_scripted, CoreNode, Cue, Cues,
};

use crate::history::{EventKind, Trace};
use crate::ids::NodeId;
use crate::storage::StorageError;
use rand_chacha::ChaCha8Rng;
use std::rc::Rc;
use thiserror::Error;

/// Most timers a node may have pending; a core asking for more is a bug.
pub const TIMERS_MAX: usize = 1_024;

/// The plain file beside a node's state where a value it decided is written (the
/// lab's servers write the chosen value there; real mode reads it back).
pub const CHOSEN_VALUE_FILE: &str = "chosen_value";

#[derive(Debug, Error)]
pub enum NodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("recovered state does not parse: {0}")]
    BadSnapshot(serde_json::Error),
    #[error("recovered log entry {index} does not parse: {error}")]
    BadLogEntry {
        index: usize,
        error: serde_json::Error,
    },
    /// A core built a message over its protocol's limit.
    #[error("{0}")]
    MessageTooBig(String),
    #[error("transport: {0}")]
    Transport(#[from] std::io::Error),
}

/// Where a node's events go, stamped with its clock.
pub trait Recorder<T: Trace> {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind<T>);
}

/// What a node shell runs against besides its transport and storage.
pub struct NodeEnv<T: Trace> {
    /// Milliseconds since the run (or process) started.
    pub clock: Rc<dyn Fn() -> u64>,
    pub recorder: Rc<dyn Recorder<T>>,
    /// This incarnation's own random stream: timer jitter, and the core's own draws
    /// (`crate::protocol::Context::rng`).
    pub rng: ChaCha8Rng,
    /// 0 for the first start, then one more per restart. Message ids carry it, so ids
    /// stay unique across restarts.
    pub incarnation: u32,
}
