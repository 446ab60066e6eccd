//! One real node process: the unchanged node shell ([`run_node`]) on a real UDP socket
//! ([`UdpTransport`]) and a real data directory ([`StdFileStorage`]), with a clock that
//! counts milliseconds since the process started, a history file, logs, and a clean
//! stop on SIGTERM or Ctrl-C. `gauntlet propose` is the same runner on a proposer node,
//! handed the client's value at once and stopped when its proposer sees a value chosen.

use super::config::{ClusterConfig, ConfigError};
use super::history::FileRecorder;
use crate::ids::NodeId;
use crate::net::UdpTransport;
use crate::node::{run_node, NodeEnv, NodeError, NodeSetup};
use crate::paxos::{Bugs, DurableState, Value};
use crate::rng::{stream_rng, Stream};
use crate::storage::{StdFileStorage, Storage, StorageError};
use std::io;
use std::net::UdpSocket as StdUdpSocket;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;
use thiserror::Error;

/// The root seed of every real node's random stream: each node and incarnation still
/// gets its own stream ([`Stream::Node`]), so backoffs of different nodes and of
/// successive restarts differ, and the incarnation counter makes restarts distinct.
pub const REAL_SEED: u64 = 0x6761_756e_746c_6574;

/// The plain file a learner writes the chosen value to (the node shell's name for it).
pub const CHOSEN_VALUE_FILE: &str = "chosen_value";

/// The record in the data directory that counts this node's starts.
pub const INCARNATION_FILE: &str = "incarnation";

/// Why a real node could not run.
#[derive(Debug, Error)]
pub enum RealError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A command line that names something the config lacks.
    #[error("{0}")]
    Usage(String),
    /// The data directory holds a damaged record: refusing to start is what keeps a
    /// node from rejoining with amnesia.
    #[error("refusing to start: {0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("node failed: {0}")]
    Node(#[from] NodeError),
}

impl RealError {
    /// Bad input (config, command line, damaged data dir) rather than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RealError::Config(_) | RealError::Usage(_) | RealError::Refused(_)
        )
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RealError {
    let what = what.into();
    move |source| RealError::Io { what, source }
}

fn storage_err(e: StorageError) -> RealError {
    match e {
        StorageError::Corrupt { .. } => RealError::Refused(e.to_string()),
        StorageError::Io { .. } => RealError::Io {
            what: "data directory".into(),
            source: io::Error::other(e.to_string()),
        },
    }
}

/// What to run.
pub struct NodeOptions {
    pub config: ClusterConfig,
    pub id: NodeId,
    /// Default: [`ClusterConfig::default_data_dir`].
    pub data_dir: Option<PathBuf>,
    pub bugs: Bugs,
    /// `propose` mode: the client's value, handed to the proposer at once; the runner
    /// stops when the proposer sees a value chosen.
    pub propose: Option<Value>,
    /// Give up after this long (propose mode).
    pub timeout: Option<Duration>,
    /// A socket already bound to the node's address (propose picks a free proposer by
    /// binding); bound here otherwise.
    pub socket: Option<StdUdpSocket>,
}

/// How a node process ended, when it ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// SIGTERM or Ctrl-C.
    Signal(&'static str),
    /// Propose mode: this value was chosen (maybe another proposer's).
    Decided(Value),
    /// Propose mode: nothing was chosen in time.
    TimedOut(Duration),
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Signal(name) => write!(f, "on {name}"),
            Stopped::Decided(value) => write!(f, "{value} was chosen"),
            Stopped::TimedOut(after) => write!(f, "nothing chosen within {after:?}"),
        }
    }
}

/// Bind `id`'s address from the config.
pub fn bind_node_socket(config: &ClusterConfig, id: NodeId) -> Result<StdUdpSocket, RealError> {
    let node = config
        .node(id)
        .ok_or_else(|| RealError::Usage(unknown_id(config, id)))?;
    StdUdpSocket::bind(node.address).map_err(io_err(format!(
        "cannot bind {id}'s address {} (from {}); is {id} already running?",
        node.address,
        config.path.display()
    )))
}

fn unknown_id(config: &ClusterConfig, id: NodeId) -> String {
    let ids: Vec<String> = config.nodes.iter().map(|n| n.id.0.to_string()).collect();
    format!(
        "{}: no node with id {} (ids: {})",
        config.path.display(),
        id.0,
        ids.join(", ")
    )
}

/// What the incarnation record holds: whose data directory this is, and how many
/// times that node started.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IncarnationRecord {
    node: NodeId,
    incarnation: u32,
}

/// The next incarnation of node `id`, whose data directory `storage` is: one more than
/// the last start's (0 on a fresh disk). Message ids and history sequence numbers carry
/// it, so they never repeat across restarts. A directory that belongs to another node
/// is refused: its acceptor state is not this node's promise.
fn next_incarnation(storage: &StdFileStorage, id: NodeId) -> Result<u32, RealError> {
    let path = storage.dir().join(INCARNATION_FILE);
    let Some(bytes) = storage.load_record(INCARNATION_FILE).map_err(storage_err)? else {
        return Ok(0);
    };
    let record: IncarnationRecord = serde_json::from_slice(&bytes).map_err(|e| {
        RealError::Refused(format!(
            "{}: not an incarnation record ({e}): {:?}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    if record.node != id {
        return Err(RealError::Refused(format!(
            "{}: this data directory belongs to {}, not {id}",
            path.display(),
            record.node
        )));
    }
    record.incarnation.checked_add(1).ok_or_else(|| {
        RealError::Refused(format!(
            "{}: the incarnation counter is exhausted",
            path.display()
        ))
    })
}

/// Durably record that node `id` started as `incarnation`, before it sends anything.
fn store_incarnation(
    storage: &StdFileStorage,
    id: NodeId,
    incarnation: u32,
) -> Result<(), RealError> {
    let record = IncarnationRecord {
        node: id,
        incarnation,
    };
    let bytes = serde_json::to_vec(&record).expect("records serialize");
    storage
        .store_record(INCARNATION_FILE, &bytes)
        .map_err(storage_err)
}

/// Run one node process until a signal (or, in propose mode, a decision or the
/// timeout). Builds its own single-threaded runtime: the shell is `!Send`.
pub fn run(opts: NodeOptions) -> Result<Stopped, RealError> {
    // Real mode needs a real clock: the node's `at_ms` is time since this process
    // started, and the history's `wall_ms` label is the wall clock (read once here).
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    #[allow(clippy::disallowed_methods)]
    let wall_start_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let clock = Rc::new(move || started.elapsed().as_millis() as u64);

    let config = &opts.config;
    let id = opts.id;
    let node = config
        .node(id)
        .ok_or_else(|| RealError::Usage(unknown_id(config, id)))?
        .clone();
    if opts.propose.is_some() && !node.roles.proposer {
        return Err(RealError::Usage(format!(
            "{}: {id} is not a proposer",
            config.path.display()
        )));
    }
    let socket = match opts.socket {
        Some(s) => s,
        None => bind_node_socket(config, id)?,
    };
    socket
        .set_nonblocking(true)
        .map_err(io_err("socket setup"))?;

    let data_dir = opts
        .data_dir
        .clone()
        .unwrap_or_else(|| config.default_data_dir(id));
    let mut storage = StdFileStorage::open(&data_dir).map_err(storage_err)?;
    // Refuse a damaged disk (or another node's) before anything is written: the shell
    // would refuse a damaged state too, but only after this start had been recorded.
    let incarnation = next_incarnation(&storage, id)?;
    let recovered: Option<DurableState> = match storage.load().map_err(storage_err)? {
        None => None,
        Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
            RealError::Refused(format!(
                "{}: recovered state does not parse: {e}",
                data_dir.join("state").display()
            ))
        })?),
    };
    if let (Some(asked), Some(old)) = (
        &opts.propose,
        recovered
            .as_ref()
            .and_then(|s| s.proposer.as_ref())
            .and_then(|p| p.value.as_ref()),
    ) {
        if asked != old {
            tracing::warn!(
                "{id} already proposed {old} in an earlier run (data dir {}); a Paxos \
                 proposer proposes one value in its life, so it resumes with {old}",
                data_dir.display()
            );
        }
    }
    // A kill -9 can land after the learner persisted its learn and before the shell
    // wrote chosen_value; the restarted learner will not learn again, so the file is
    // restored here from the durable state.
    if let Some(learned) = recovered
        .as_ref()
        .and_then(|s| s.learner.as_ref())
        .and_then(|l| l.learned.as_ref())
    {
        let path = data_dir.join(CHOSEN_VALUE_FILE);
        if std::fs::read(&path).ok().as_deref() != Some(learned.0.as_bytes()) {
            storage
                .write_plain(CHOSEN_VALUE_FILE, learned.0.as_bytes())
                .map_err(storage_err)?;
            tracing::info!("{id} restored {} from its state", path.display());
        }
    }
    store_incarnation(&storage, id, incarnation)?;
    let recorder = Rc::new(
        FileRecorder::open(
            &data_dir,
            id,
            incarnation,
            config.roster(),
            opts.bugs.clone(),
            wall_start_ms,
        )
        .map_err(io_err(format!(
            "{}: cannot open the history",
            data_dir.display()
        )))?,
    );
    let setup = NodeSetup {
        id,
        roles: node.roles,
        members: config.membership(),
        timing: config.timing.clone(),
        client_request: opts.propose.clone().map(|v| (0, v)),
        bugs: opts.bugs.clone(),
    };
    let env = NodeEnv {
        clock,
        recorder: recorder.clone(),
        faults: None,
        rng: stream_rng(
            REAL_SEED,
            Stream::Node {
                node: id,
                incarnation,
            },
        ),
        incarnation,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err("tokio runtime"))?;
    let local = tokio::task::LocalSet::new();
    let propose_mode = opts.propose.is_some();
    local.block_on(&runtime, async move {
        let socket = tokio::net::UdpSocket::from_std(socket).map_err(io_err("socket setup"))?;
        let transport = UdpTransport::new(socket, config.address_book());
        let counters = transport.counters_handle();
        tracing::info!(
            "{id} up: listening on {}, roles {}, data dir {}, incarnation {incarnation}, history {}",
            node.address,
            roles_text(node.roles),
            data_dir.display(),
            recorder.path().display()
        );
        #[cfg(unix)]
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(io_err("SIGTERM handler"))?;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let deadline = tokio::time::sleep(opts.timeout.unwrap_or(Duration::ZERO));
        tokio::pin!(deadline);
        let shell = run_node(setup, transport, storage, env);
        tokio::pin!(shell);
        let stopped = loop {
            #[cfg(unix)]
            let term = sigterm.recv();
            #[cfg(not(unix))]
            let term = std::future::pending::<Option<()>>();
            tokio::select! {
                biased;
                _ = term => break Stopped::Signal("SIGTERM"),
                _ = &mut ctrl_c => break Stopped::Signal("Ctrl-C"),
                result = &mut shell => {
                    result?;
                    panic!("{id}'s shell returned Ok, but it runs until it fails or is dropped");
                }
                _ = recorder.wake.notified() => {
                    if let Some(e) = recorder.take_failure() {
                        return Err(RealError::Io {
                            what: format!("{}: recording failed", recorder.path().display()),
                            source: e,
                        });
                    }
                    if let (true, Some(value)) = (propose_mode, recorder.decided()) {
                        break Stopped::Decided(value);
                    }
                }
                _ = &mut deadline, if opts.timeout.is_some() => {
                    break Stopped::TimedOut(opts.timeout.unwrap_or_default());
                }
            }
        };
        let c = counters.get();
        tracing::info!(
            "{id} stopping ({stopped}): {} events recorded this run; malformed datagrams \
             dropped: {} (oversized: {}); transient socket errors: {}",
            recorder.recorded(),
            recorder.malformed(),
            c.oversized_received,
            c.transient_errors
        );
        Ok(stopped)
    })
}

/// `acceptor+learner`: roles as the config names them.
fn roles_text(roles: crate::paxos::Roles) -> String {
    let names: Vec<&str> = [
        (roles.acceptor, "acceptor"),
        (roles.learner, "learner"),
        (roles.proposer, "proposer"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    names.join("+")
}

/// The value a proposer's data directory says it already proposed, if it can be read
/// (a damaged directory says nothing here; starting the node will refuse it).
fn proposed_value(dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(dir.join("state")).ok()?;
    let payload = crate::storage::decode_record(&bytes).ok()?;
    let state: DurableState = serde_json::from_slice(payload).ok()?;
    state.proposer?.value
}

/// Pick a proposer for a client that gave no `--id`, and bind its address: the first
/// free one that already proposed `value` (a client retrying), else the first free one
/// that proposed nothing yet, else any free one. A Paxos proposer proposes one value in
/// its life, so a second client with another value gets a proposer of its own.
pub fn pick_proposer(
    config: &ClusterConfig,
    value: &Value,
    data_dir: Option<&Path>,
) -> Result<(NodeId, StdUdpSocket), RealError> {
    let proposers = config.membership().proposers;
    let rank = |&p: &NodeId| {
        let dir = data_dir.map_or_else(|| config.default_data_dir(p), Path::to_path_buf);
        match proposed_value(&dir) {
            Some(v) if &v == value => 0,
            None => 1,
            Some(_) => 2,
        }
    };
    let mut ranked = proposers.clone();
    ranked.sort_by_key(|p| (rank(p), *p));
    ranked
        .iter()
        .find_map(|&p| bind_node_socket(config, p).ok().map(|s| (p, s)))
        .ok_or_else(|| {
            let names: Vec<String> = proposers.iter().map(|p| p.to_string()).collect();
            RealError::Usage(format!(
                "{}: no proposer is free (all of {} are in use); pass --id",
                config.path.display(),
                names.join(", ")
            ))
        })
}
