//! One real node process of any protocol: the node shell ([`run_core`]) on a real UDP
//! socket ([`UdpTransport`]) and a real data directory ([`StdFileStorage`]), with a
//! clock that counts milliseconds since the process started, a history file, logs, and
//! a clean stop on SIGTERM or Ctrl-C. `gauntlet propose` is the same runner handed the
//! client's value at once, stopped when its own node observes an answer.

use super::config::{ClusterConfig, ConfigError, REAL_SEED};
use super::history::{FileRecorder, HistoryHeader, HISTORY_FORMAT};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::UdpTransport;
use crate::node::{run_core, CoreNode, NodeEnv, NodeError, Recorder};
use crate::protocol::{Core, Protocol, RunSetup};
use crate::rng::{stream_rng, Stream};
use crate::storage::{StdFileStorage, Storage, StorageError};
use crate::value::Value;
use std::io;
use std::net::UdpSocket as StdUdpSocket;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;
use thiserror::Error;

pub use super::owned::INCARNATION_FILE;
use super::owned::{
    store_incarnation, unwrap_state, IncarnationRecord, OwnedStorage, Owner, LOCK_FILE, STATE_FILE,
};

/// The plain file holding the first value a client asked this node to propose: what
/// `propose` without `--id` looks for when a client retries (and a Paxos proposer
/// proposes one value in its life, so another client should pick another node).
pub const PROPOSED_VALUE_FILE: &str = "proposed_value";

/// Why a real node could not run.
#[derive(Debug, Error)]
pub enum RealError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A command line that names something the config or the protocol lacks.
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

/// `gauntlet node`: one node of the cluster, until a signal.
#[derive(Debug)]
pub struct NodeOptions {
    pub config: ClusterConfig,
    pub id: NodeId,
    /// Default: [`ClusterConfig::default_data_dir`].
    pub data_dir: Option<PathBuf>,
    /// Planted bugs by name (checked against the protocol's list).
    pub bugs: Vec<String>,
    /// Create the data directory if it does not exist (a new node). Without it a
    /// missing directory is refused: a mistyped path must not start a node afresh.
    pub init: bool,
}

/// `gauntlet propose`: a node that takes client requests, handed `value` at once,
/// until it observes an answer or `timeout` passes.
#[derive(Debug)]
pub struct ProposeOptions {
    pub config: ClusterConfig,
    /// Which node to be; `None`: pick a free one ([`pick_client_node`]).
    pub id: Option<NodeId>,
    /// Default: [`ClusterConfig::default_data_dir`].
    pub data_dir: Option<PathBuf>,
    pub bugs: Vec<String>,
    pub value: String,
    pub timeout: Duration,
}

/// How a node process ended, when it ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// SIGTERM or Ctrl-C.
    Signal(&'static str),
    /// Propose mode: the node observed this answer (maybe another client's value).
    Answered(Value),
    /// Propose mode: no answer in time.
    TimedOut(Duration),
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Signal(name) => write!(f, "on {name}"),
            Stopped::Answered(value) => write!(f, "answered {value}"),
            Stopped::TimedOut(after) => write!(f, "no answer within {after:?}"),
        }
    }
}

/// Everything one run of the runner needs, checked.
/// A kill between persisting a decision and writing `chosen_value` leaves the file
/// behind the state; the state is the truth, so the file is restored from it
/// ([`Core::decided_in`]) before the node starts.
pub(crate) fn restore_chosen_value<C: Core>(
    storage: &mut StdFileStorage,
    state: &C::State,
) -> Result<(), RealError> {
    let Some(decided) = C::decided_in(state) else {
        return Ok(());
    };
    let path = storage.dir().join(crate::node::CHOSEN_VALUE_FILE);
    if std::fs::read(&path).ok().as_deref() != Some(decided.as_str().as_bytes()) {
        storage
            .write_plain(crate::node::CHOSEN_VALUE_FILE, decided.as_str().as_bytes())
            .map_err(storage_err)?;
    }
    Ok(())
}

struct Run<'a, P: Protocol> {
    protocol: &'a P,
    config: &'a ClusterConfig,
    setup: RunSetup<P>,
    id: NodeId,
    data_dir: PathBuf,
    bugs: Vec<String>,
    /// Propose mode: the client's value and how long to wait for an answer.
    propose: Option<(Value, Duration)>,
    /// Whether a missing data directory may be created.
    init: bool,
}

/// Check `bugs` against the protocol's planted bugs: an unknown name is a usage error
/// listing the known ones.
pub fn check_bugs<P: Protocol>(protocol: &P, bugs: &[String]) -> Result<(), RealError> {
    for bug in bugs {
        crate::protocol::find_bug(protocol.name(), protocol.bugs(), bug)
            .map_err(|reason| RealError::Usage(format!("--bug: {reason}")))?;
    }
    Ok(())
}

/// Run `gauntlet node`.
pub fn run_node<P: Protocol>(protocol: &P, opts: NodeOptions) -> Result<Stopped, RealError> {
    check_bugs(protocol, &opts.bugs)?;
    let setup = opts.config.setup(protocol, &opts.bugs)?;
    known_id(&opts.config, opts.id)?;
    let run = Run {
        protocol,
        config: &opts.config,
        setup,
        id: opts.id,
        data_dir: data_dir(&opts.config, opts.id, opts.data_dir.as_deref()),
        bugs: opts.bugs.clone(),
        propose: None,
        init: opts.init,
    };
    let socket = bind_node_socket(&opts.config, opts.id)?;
    run.serve(socket)
}

/// Run `gauntlet propose`.
pub fn run_propose<P: Protocol>(protocol: &P, opts: ProposeOptions) -> Result<Stopped, RealError> {
    check_bugs(protocol, &opts.bugs)?;
    let setup = opts.config.setup(protocol, &opts.bugs)?;
    let value = client_value(&opts.value)?;
    let config = &opts.config;
    // Without --id, pick a free node (binding its address is what tells, and the bound
    // socket is handed on so no one can take it in between).
    let (id, socket) = match opts.id {
        Some(id) => {
            known_id(config, id)?;
            config.takes_requests(protocol, id).map_err(|e| {
                RealError::Usage(format!("{}: --id {}: {e}", config.path.display(), id.0))
            })?;
            (id, bind_node_socket(config, id)?)
        }
        None => pick_client_node(protocol, config, &value, opts.data_dir.as_deref())?,
    };
    let run = Run {
        protocol,
        config,
        setup,
        id,
        data_dir: data_dir(config, id, opts.data_dir.as_deref()),
        bugs: opts.bugs.clone(),
        propose: Some((value, opts.timeout)),
        // A client node's directory holds its proposer's memory too, but a client is
        // started afresh by design: its first `propose` creates it.
        init: true,
    };
    run.serve(socket)
}

/// A client's value: 1 to [`crate::value::VALUE_BYTES_MAX`] bytes.
fn client_value(text: &str) -> Result<Value, RealError> {
    if text.is_empty() || text.len() > crate::value::VALUE_BYTES_MAX {
        return Err(RealError::Usage(format!(
            "--value: {} bytes; a value has 1 to {} bytes",
            text.len(),
            crate::value::VALUE_BYTES_MAX
        )));
    }
    Ok(Value::new(text))
}

fn data_dir(config: &ClusterConfig, id: NodeId, given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| config.default_data_dir(id), Path::to_path_buf)
}

fn known_id(config: &ClusterConfig, id: NodeId) -> Result<(), RealError> {
    if config.node(id).is_some() {
        return Ok(());
    }
    let ids: Vec<String> = config.nodes.iter().map(|n| n.id.0.to_string()).collect();
    Err(RealError::Usage(format!(
        "{}: no node with id {} (ids: {})",
        config.path.display(),
        id.0,
        ids.join(", ")
    )))
}

/// Bind `id`'s address from the config.
pub fn bind_node_socket(config: &ClusterConfig, id: NodeId) -> Result<StdUdpSocket, RealError> {
    known_id(config, id)?;
    let address = config.node(id).expect("known id").address;
    StdUdpSocket::bind(address).map_err(io_err(format!(
        "cannot bind {id}'s address {address} (from {}); is {id} already running?",
        config.path.display()
    )))
}

/// The incarnation record, if there is one; a damaged one is refused.
fn load_incarnation(storage: &StdFileStorage) -> Result<Option<IncarnationRecord>, RealError> {
    let path = storage.dir().join(INCARNATION_FILE);
    let Some(bytes) = storage.load_record(INCARNATION_FILE).map_err(storage_err)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        RealError::Refused(format!(
            "{}: not an incarnation record ({e}): {:?}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        ))
    })
}

/// Take the data directory's exclusive lock, held while the returned file is open (the
/// operating system drops it when the process dies, kill -9 included).
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, RealError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(format!("{}: cannot open the lock", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(RealError::Refused(format!(
            "{}: another process is running on this data directory",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(io_err(format!("{}: cannot lock", path.display()))(e))
        }
    }
}

/// The first value a client asked the node with data directory `dir` to propose, if
/// the file is there and readable.
fn proposed_value(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(PROPOSED_VALUE_FILE)).ok()?;
    (!text.is_empty()).then(|| Value::new(text))
}

/// Pick a node for a client that gave no `--id`, and bind its address: among the
/// nodes the protocol lets take a client request, the first free one that already
/// proposed `value` (a client retrying), else the first free one that proposed
/// nothing yet, else any free one.
pub fn pick_client_node<P: Protocol>(
    protocol: &P,
    config: &ClusterConfig,
    value: &Value,
    data_dir: Option<&Path>,
) -> Result<(NodeId, StdUdpSocket), RealError> {
    let clients: Vec<NodeId> = config
        .ids()
        .into_iter()
        .filter(|&id| config.takes_requests(protocol, id).is_ok())
        .collect();
    let rank = |&id: &NodeId| match proposed_value(&self::data_dir(config, id, data_dir)) {
        Some(v) if &v == value => 0,
        None => 1,
        Some(_) => 2,
    };
    let mut ranked = clients.clone();
    ranked.sort_by_key(|id| (rank(id), *id));
    ranked
        .iter()
        .find_map(|&id| bind_node_socket(config, id).ok().map(|s| (id, s)))
        .ok_or_else(|| {
            let names: Vec<String> = clients.iter().map(|p| p.to_string()).collect();
            RealError::Usage(format!(
                "{}: no node that takes client requests is free (of: {}); pass --id",
                config.path.display(),
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
        })
}

/// The wall clock in ms since the Unix epoch, read once per process start: the
/// history's `wall_ms` label. Real mode needs a real clock; nothing else reads one.
#[allow(clippy::disallowed_methods)]
fn wall_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The node's clock: milliseconds since this process started.
#[allow(clippy::disallowed_methods)]
fn process_clock() -> Rc<dyn Fn() -> u64> {
    let started = std::time::Instant::now();
    Rc::new(move || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX))
}

impl<P: Protocol> Run<'_, P> {
    /// Open the data directory, check it, record this start, then serve until a
    /// signal, an answer (propose mode) or the timeout.
    fn serve(self, socket: StdUdpSocket) -> Result<Stopped, RealError> {
        let clock = process_clock();
        let wall_start_ms = wall_now_ms();
        socket
            .set_nonblocking(true)
            .map_err(io_err("socket setup"))?;
        if !self.init && !self.data_dir.exists() {
            return Err(RealError::Refused(format!(
                "{}: no such data directory; pass --init to start {} as a new node there",
                self.data_dir.display(),
                self.id
            )));
        }
        let mut storage = StdFileStorage::open(&self.data_dir).map_err(storage_err)?;
        let lock = lock_data_dir(storage.dir())?;
        let owner = Owner {
            node: self.id,
            cluster: self.config.cluster_id(),
        };
        let record = self.check_data_dir(&mut storage, &owner)?;
        let incarnation = record.incarnation;
        self.note_proposed_value(&mut storage)?;
        store_incarnation(&storage, &record).map_err(storage_err)?;
        let storage = OwnedStorage::new(storage, owner, record, lock);
        let header = self.header(incarnation, wall_start_ms);
        let recorder = Rc::new(
            FileRecorder::<P::Core>::open(&self.data_dir, &header).map_err(io_err(format!(
                "{}: cannot open the history",
                self.data_dir.display()
            )))?,
        );
        let env = NodeEnv {
            clock,
            recorder: recorder.clone(),
            rng: stream_rng(
                REAL_SEED,
                Stream::Node {
                    node: self.id,
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
        local.block_on(
            &runtime,
            self.event_loop(socket, storage, env, recorder, incarnation),
        )
    }

    /// Refuse a damaged disk, another node's or cluster's, or one that shows an
    /// earlier life but lacks its state or its incarnation record, before anything is
    /// written: the shell would refuse a damaged state too, but only after this start
    /// had been recorded. Returns this start's incarnation record.
    fn check_data_dir(
        &self,
        storage: &mut StdFileStorage,
        owner: &Owner,
    ) -> Result<IncarnationRecord, RealError> {
        let dir = storage.dir().to_path_buf();
        let previous = load_incarnation(storage)?;
        let state = storage.load().map_err(storage_err)?;
        let lived = |name: &str| dir.join(name).exists();
        let refuse = |what: String| Err(RealError::Refused(format!("{}: {what}", dir.display())));
        let incarnation = match &previous {
            None => {
                let signs: Vec<&str> = [
                    STATE_FILE,
                    super::HISTORY_FILE,
                    crate::node::CHOSEN_VALUE_FILE,
                ]
                .into_iter()
                .filter(|name| lived(name))
                .collect();
                if !signs.is_empty() {
                    return refuse(format!(
                        "no {INCARNATION_FILE} record, but {} show(s) an earlier life; \
                         starting would reuse message ids and mix two lives' records",
                        signs.join(", ")
                    ));
                }
                0
            }
            Some(record) => {
                let theirs = Owner {
                    node: record.node,
                    cluster: record.cluster.clone(),
                };
                if record.node != owner.node {
                    return refuse(format!(
                        "this data directory belongs to {}, not {}",
                        record.node, owner.node
                    ));
                }
                if &theirs != owner {
                    return refuse(format!(
                        "this data directory belongs to {theirs}, not {owner}"
                    ));
                }
                record.incarnation.checked_add(1).ok_or_else(|| {
                    RealError::Refused(format!(
                        "{}: the incarnation counter is exhausted",
                        dir.join(INCARNATION_FILE).display()
                    ))
                })?
            }
        };
        if state.is_none() {
            let stored = previous.as_ref().is_some_and(|r| r.state_stored);
            let chosen = lived(crate::node::CHOSEN_VALUE_FILE);
            if stored || chosen {
                return refuse(format!(
                    "the {STATE_FILE} file is missing, but {} says this node stored one: \
                     starting with an empty state would forget its promises (amnesia)",
                    if stored {
                        INCARNATION_FILE
                    } else {
                        crate::node::CHOSEN_VALUE_FILE
                    }
                ));
            }
        }
        if let Some(stored) = &state {
            let path = dir.join(STATE_FILE);
            let bytes = unwrap_state(&path, owner, stored).map_err(storage_err)?;
            let state = serde_json::from_slice::<<P::Core as Core>::State>(bytes).map_err(|e| {
                RealError::Refused(format!(
                    "{}: recovered state does not parse as {}'s: {e}",
                    path.display(),
                    self.protocol.name()
                ))
            })?;
            restore_chosen_value::<P::Core>(storage, &state)?;
        }
        Ok(IncarnationRecord {
            node: owner.node,
            cluster: owner.cluster.clone(),
            incarnation,
            state_stored: state.is_some(),
        })
    }

    /// Propose mode: remember the first value a client asked this node for, and warn
    /// when the node already had another (the protocol may resume with that one).
    fn note_proposed_value(&self, storage: &mut StdFileStorage) -> Result<(), RealError> {
        let Some((asked, _)) = &self.propose else {
            return Ok(());
        };
        match proposed_value(storage.dir()) {
            Some(old) if &old != asked => tracing::warn!(
                "{} was asked to propose {old} in an earlier run (data dir {}); a protocol \
                 whose nodes propose one value in their life (Paxos) resumes with {old}",
                self.id,
                storage.dir().display()
            ),
            Some(_) => {}
            None => storage
                .write_plain(PROPOSED_VALUE_FILE, asked.as_str().as_bytes())
                .map_err(storage_err)?,
        }
        Ok(())
    }

    fn header(&self, incarnation: u32, wall_ms: u64) -> HistoryHeader {
        HistoryHeader {
            gauntlet_history: HISTORY_FORMAT,
            protocol: self.protocol.name().to_string(),
            node: self.id,
            incarnation,
            cluster: self.config.ids(),
            params: self.config.params.clone(),
            bugs: self.bugs.clone(),
            wall_ms,
        }
    }

    /// The shell, raced against the signals, the recorder's news and the timeout.
    async fn event_loop(
        &self,
        socket: StdUdpSocket,
        storage: OwnedStorage,
        env: NodeEnv<P::Core>,
        recorder: Rc<FileRecorder<P::Core>>,
        incarnation: u32,
    ) -> Result<Stopped, RealError> {
        let id = self.id;
        let socket = tokio::net::UdpSocket::from_std(socket).map_err(io_err("socket setup"))?;
        let hook_recorder = Rc::clone(&recorder);
        let hook_clock = Rc::clone(&env.clock);
        let keyring = self.config.keyring(id)?;
        let transport = UdpTransport::new(socket, self.config.address_book(), keyring).on_rejected(
            Box::new(move |bytes, error| {
                hook_recorder.record(
                    hook_clock(),
                    Some(id),
                    EventKind::Malformed { bytes, error },
                );
            }),
        );
        let counters = transport.counters_handle();
        tracing::info!(
            "{id} up: {}, listening on {}, data dir {}, incarnation {incarnation}, history {}",
            self.protocol.name(),
            self.config.node(id).expect("known id").address,
            self.data_dir.display(),
            recorder.path().display()
        );
        let node = CoreNode {
            id,
            core: self.protocol.core(&self.setup, id),
            client_request: self.propose.as_ref().map(|(v, _)| (0, v.clone())),
        };
        let shell = run_core(node, transport, storage, env);
        let stopped = self.until_stopped(shell, &recorder).await?;
        let c = counters.get();
        tracing::info!(
            "{id} stopping ({stopped}): {} events recorded this run; malformed datagrams \
             dropped: {} (unauthenticated: {}, oversized: {}; not recorded, over the rate \
             limit: {}); transient socket errors: {}",
            recorder.recorded(),
            recorder.malformed(),
            c.unauthenticated,
            c.oversized_received,
            recorder.malformed_unrecorded(),
            c.transient_errors
        );
        Ok(stopped)
    }

    /// Drive `shell` until SIGTERM, Ctrl-C, an answer (propose mode), the timeout, or a
    /// failure of the shell or of the history.
    async fn until_stopped(
        &self,
        shell: impl std::future::Future<Output = Result<(), NodeError>>,
        recorder: &FileRecorder<P::Core>,
    ) -> Result<Stopped, RealError> {
        #[cfg(unix)]
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(io_err("SIGTERM handler"))?;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let timeout = self.propose.as_ref().map(|(_, t)| *t);
        let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::ZERO));
        tokio::pin!(deadline);
        tokio::pin!(shell);
        loop {
            #[cfg(unix)]
            let term = sigterm.recv();
            #[cfg(not(unix))]
            let term = std::future::pending::<Option<()>>();
            tokio::select! {
                biased;
                _ = term => return Ok(Stopped::Signal("SIGTERM")),
                _ = &mut ctrl_c => return Ok(Stopped::Signal("Ctrl-C")),
                result = &mut shell => {
                    result?;
                    panic!("{}'s shell returned Ok, but it runs until it fails or is dropped", self.id);
                }
                _ = recorder.wake.notified() => {
                    if let Some(e) = recorder.take_failure() {
                        let what = format!("{}: recording failed", recorder.path().display());
                        return Err(RealError::Io { what, source: e });
                    }
                    if let (true, Some(value)) = (self.propose.is_some(), recorder.answer()) {
                        return Ok(Stopped::Answered(value));
                    }
                }
                _ = &mut deadline, if timeout.is_some() => {
                    return Ok(Stopped::TimedOut(timeout.unwrap_or_default()));
                }
            }
        }
    }
}
