//! One raft-rs node as a gauntlet `Core`: gauntlet's inputs become `RawNode` calls
//! (tick, step, propose), and each `Ready` becomes gauntlet's outputs in the order
//! raft-rs asks for: a leader's messages at once; then the new entries (durable log)
//! and hard state (durable state), written and fsynced; then the messages that had to
//! wait for them; then the committed entries, applied by the state machine.
//!
//! Storage: raft-rs reads its log through its `Storage` trait. The node keeps a
//! `MemStorage` in step with gauntlet's durable log and hard state, and rebuilds it
//! from them at every start, so what raft-rs reads is exactly what survived the
//! crash. The log never compacts, so there are no snapshots.

use crate::{Bugs, Disk, LogEntry, RaftMsg};
use gauntlet::ids::NodeId;
use gauntlet::protocol::kit::{
    self, set_timer, LibraryCell, LogEvent, LogMirror, Persisted, RequestLog,
};
use gauntlet::protocol::{Context, Core, CoreInput, CoreOutput, Observation};
use gauntlet::rng::Draw;
use gauntlet::value::Value;
use raft::prelude::{ConfState, Entry, EntryType, HardState, Message};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};

// ---- raft-rs: its message types and configuration ------------------------------------

/// Every raft-rs message type that crosses the network, by its protobuf name.
pub const MESSAGE_KINDS: &[&str] = &[
    "MsgPropose",
    "MsgAppend",
    "MsgAppendResponse",
    "MsgRequestVote",
    "MsgRequestVoteResponse",
    "MsgRequestPreVote",
    "MsgRequestPreVoteResponse",
    "MsgHeartbeat",
    "MsgHeartbeatResponse",
    "MsgSnapshot",
    "MsgTransferLeader",
    "MsgTimeoutNow",
    "MsgReadIndex",
    "MsgReadIndexResp",
    kit::OTHER_KIND,
];

/// raft-rs's clock: one `tick()` per 9 to 11 ms (the spread is the node's own).
const TICK_MS: (u64, u64) = (9, 11);
/// Ticks without a leader before a follower campaigns: raft's randomized timeout is
/// drawn from `ELECTION_TICKS..2 * ELECTION_TICKS`.
const ELECTION_TICKS: usize = 10;
const HEARTBEAT_TICKS: usize = 3;
/// How often a node proposes again the client requests it holds that are not yet
/// applied (a proposal is lost with a message, a leader change or a crash).
const RETRY_MS: (u64, u64) = (150, 250);
/// Bytes of entries per append message.
const APPEND_BYTES_MAX: u64 = 4_096;

// ---- glue: the node's state and the contract -----------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Timer {
    Tick,
    Retry,
}

/// A raft-rs node and the state machine it drives.
#[derive(Debug, Clone)]
pub struct RaftNode {
    raw: LibraryCell<RawNode<MemStorage>>,
    app: App,
}

/// Everything but raft-rs itself: what the node wrote, applied and still owes.
#[derive(Debug, Clone)]
struct App {
    id: NodeId,
    members: Vec<NodeId>,
    bugs: Bugs,
    disk: Persisted<Disk>,
    log: LogMirror,
    requests: RequestLog,
    /// raft index of the last entry the state machine applied.
    applied: u64,
    /// This node's client requests not yet applied, proposed again on `Retry`.
    pending: Vec<Value>,
    /// The term this node last led, so each leadership is reported once.
    led: u64,
    /// raft-rs panicked: the node does nothing until it restarts.
    halted: bool,
}

impl RaftNode {
    pub fn new(id: NodeId, members: Vec<NodeId>, bugs: Bugs) -> Self {
        RaftNode {
            raw: LibraryCell::empty(),
            app: App {
                id,
                members,
                bugs,
                disk: Persisted::recovered(None, Disk::default()),
                log: LogMirror::default(),
                requests: RequestLog::default(),
                applied: 0,
                pending: Vec::new(),
                led: 0,
                halted: false,
            },
        }
    }
}

impl Core for RaftNode {
    type Msg = RaftMsg;
    type State = Disk;
    type Event = LogEvent;
    type Timer = Timer;
    type Entry = LogEntry;

    /// An append carries up to `APPEND_BYTES_MAX` of entries plus raft's framing.
    const MESSAGE_BYTES_MAX: usize = 16_384;

    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        if self.app.halted {
            return;
        }
        // A raft-rs panic is a broken invariant it detected: record it and halt, with
        // none of this step's outputs done (a process would have died before them).
        let done = out.len();
        if let Err(message) = kit::catch_library_panic(|| self.handle(cx, input, out)) {
            out.truncate(done);
            out.push(CoreOutput::Event(LogEvent::Panicked(message)));
            self.app.halted = true;
            self.raw.clear();
        }
    }

    fn msg_kind(msg: &RaftMsg) -> &'static str {
        kit::kind_label(&msg.0.get_msg_type(), MESSAGE_KINDS)
    }

    fn observe(event: &LogEvent) -> Option<Observation> {
        event.observe()
    }

    fn encode_msg(msg: &RaftMsg, out: &mut Vec<u8>) {
        kit::encode_foreign(msg, out);
    }

    fn decode_msg(bytes: &[u8]) -> Result<RaftMsg, String> {
        kit::decode_foreign(bytes)
    }
}

// ---- raft-rs: driving a RawNode ------------------------------------------------------

impl RaftNode {
    fn handle(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        if let CoreInput::Start { recovered, log, .. } = input {
            let raw = self.app.start(recovered, log);
            self.raw.start(raw);
            out.push(set_timer(Timer::Tick, TICK_MS));
            out.push(set_timer(Timer::Retry, RETRY_MS));
        } else {
            let raw = self.raw.get_mut().expect("a core is started first");
            match input {
                CoreInput::Start { .. } => unreachable!("handled above"),
                CoreInput::ClientRequest { value } => {
                    if !self.app.requests.contains(&value) && !self.app.pending.contains(&value) {
                        self.app.pending.push(value.clone());
                    }
                    propose(raw, &value);
                }
                // raft-rs refuses what it cannot use (a message from an unknown peer);
                // the network may deliver anything.
                CoreInput::Receive { msg, .. } => drop(raw.step(msg.0)),
                CoreInput::TimerFired { timer: Timer::Tick } => {
                    raw.tick();
                    out.push(set_timer(Timer::Tick, TICK_MS));
                }
                CoreInput::TimerFired {
                    timer: Timer::Retry,
                } => {
                    let app = &mut self.app;
                    app.pending.retain(|v| !app.requests.contains(v));
                    for value in &app.pending {
                        propose(raw, value);
                    }
                    out.push(set_timer(Timer::Retry, RETRY_MS));
                }
            }
        }
        let raw = self.raw.get_mut().expect("started above");
        self.app.drain_ready(raw, out);
        // raft-rs draws each election timeout from the thread's global RNG, which no
        // seed reaches; draw it from the node's stream instead whenever the elapsed
        // ticks are zero (after every reset, and every leader heartbeat), before the
        // next tick reads it.
        if raw.raft.election_elapsed == 0 {
            let ticks = cx
                .rng
                .between(ELECTION_TICKS as u64, 2 * ELECTION_TICKS as u64 - 1);
            raw.raft.set_randomized_election_timeout(ticks as usize);
        }
    }
}

impl App {
    /// raft-rs's node over what the disk recovered: the hard state, the log, and the
    /// state machine rebuilt (silently) from the log's applied prefix.
    fn start(&mut self, recovered: Option<Disk>, log: Vec<LogEntry>) -> RawNode<MemStorage> {
        let voters: Vec<u64> = self.members.iter().map(|&n| raft_id(n)).collect();
        let storage = MemStorage::new_with_conf_state(ConfState::from((voters, vec![])));
        let entries: Vec<Entry> = log.iter().map(to_raft).collect();
        for (position, entry) in entries.iter().enumerate() {
            assert_eq!(entry.index, position as u64 + 1, "log position {position}");
        }
        let disk = recovered.clone().unwrap_or_default();
        let mut hard = HardState::default();
        (hard.term, hard.vote, hard.commit) = (disk.term, disk.vote, disk.commit);
        storage
            .wl()
            .append(&entries)
            .expect("a recovered log appends");
        storage.wl().set_hardstate(hard);
        self.applied = disk.applied.min(disk.commit);
        self.disk = Persisted::recovered(recovered, Disk::default());
        self.log = LogMirror::recovered(log.len());
        let config = Config {
            id: raft_id(self.id),
            election_tick: ELECTION_TICKS,
            heartbeat_tick: HEARTBEAT_TICKS,
            applied: self.applied,
            max_size_per_msg: APPEND_BYTES_MAX,
            max_inflight_msgs: 64,
            pre_vote: true,
            check_quorum: true,
            ..Config::default()
        };
        let discard = slog::Logger::root(slog::Discard, slog::o!());
        // raft-rs checks what it recovered (a commit index past the log's end panics)
        // before the state machine reads the applied prefix.
        let raw = RawNode::new(&config, storage, &discard).expect("raft-rs accepts its config");
        for entry in &log[..self.applied as usize] {
            if !entry.data.is_empty() {
                let _ = self.requests.apply(Value::new(&entry.data));
            }
        }
        raw
    }

    /// Hand every pending `Ready` to gauntlet, in raft-rs's order, and advance.
    fn drain_ready(&mut self, raw: &mut RawNode<MemStorage>, out: &mut Vec<CoreOutput<RaftNode>>) {
        while raw.has_ready() {
            let mut ready = raw.ready();
            // A leader may send before it persists (Raft thesis 10.2.1).
            send(ready.take_messages(), out);
            assert!(ready.snapshot().is_empty(), "the log never compacts");
            let entries = ready.take_entries();
            if let Some(first) = entries.first() {
                raw.mut_store()
                    .wl()
                    .append(&entries)
                    .expect("entries append");
                if self.bugs.announce_before_commit {
                    self.apply(&entries, out);
                }
                let mirrored = entries.iter().map(to_log).collect();
                let synced = !self.bugs.entries_not_fsynced;
                self.log.write(first.index - 1, mirrored, synced, out);
            }
            if let Some(hard) = ready.hs() {
                raw.mut_store().wl().set_hardstate(hard.clone());
            }
            // A new term or vote is durable before the messages that follow it; a
            // new commit index alone may wait for the applied index below.
            if ready.must_sync() {
                self.persist(raw, out);
            }
            send(ready.take_persisted_messages(), out);
            self.apply(&ready.take_committed_entries(), out);
            let mut light = raw.advance(ready);
            if let Some(commit) = light.commit_index() {
                raw.mut_store().wl().mut_hard_state().commit = commit;
            }
            send(light.take_messages(), out);
            self.apply(&light.take_committed_entries(), out);
            raw.advance_apply();
        }
        self.persist(raw, out);
        if raw.raft.state == StateRole::Leader && raw.raft.term != self.led {
            self.led = raw.raft.term;
            let note = format!("leader of term {}", self.led);
            out.push(CoreOutput::Event(LogEvent::Note(note)));
        }
    }

    /// Write raft's hard state and the applied index, if they changed.
    fn persist(&mut self, raw: &RawNode<MemStorage>, out: &mut Vec<CoreOutput<RaftNode>>) {
        let hard = raw.raft.hard_state();
        let mut next = Disk {
            term: hard.term,
            vote: hard.vote,
            commit: hard.commit,
            applied: self.applied,
        };
        if self.bugs.hard_state_not_persisted {
            (next.term, next.vote) = (0, 0);
        }
        self.disk.persist(next, out);
    }
}

/// Propose `value` to raft-rs: a leader appends it, a follower forwards it to its
/// leader; with no leader it is dropped, and `Retry` proposes it again.
fn propose(raw: &mut RawNode<MemStorage>, value: &Value) {
    let _ = raw.propose(Vec::new(), value.as_str().as_bytes().to_vec());
}

// ---- glue: the state machine, ids and entries ----------------------------------------

impl App {
    /// Apply entries in order: each request the first time it is committed, in the
    /// next slot, announced only after the applied index that covers it is on disk.
    fn apply(&mut self, entries: &[Entry], out: &mut Vec<CoreOutput<RaftNode>>) {
        for entry in entries {
            if entry.index <= self.applied {
                continue;
            }
            assert_eq!(entry.get_entry_type(), EntryType::EntryNormal);
            self.applied = entry.index;
            if entry.data.is_empty() {
                continue;
            }
            let value = Value::new(String::from_utf8_lossy(&entry.data));
            if let Some(decided) = self.requests.apply(value).and_then(LogEvent::decided) {
                let disk = Disk {
                    applied: self.applied,
                    ..self.disk.get().clone()
                };
                self.disk.persist(disk, out);
                out.push(CoreOutput::Event(decided));
            }
        }
    }
}

fn send(messages: Vec<Message>, out: &mut Vec<CoreOutput<RaftNode>>) {
    for msg in messages {
        let to = NodeId(u16::try_from(msg.to).expect("raft ids are node ids"));
        out.push(CoreOutput::Send {
            to,
            msg: RaftMsg::new(msg),
        });
    }
}

/// raft-rs ids are nonzero `u64`s; gauntlet's node ids start at 1.
fn raft_id(node: NodeId) -> u64 {
    assert_ne!(node.0, 0, "raft-rs ids are nonzero");
    u64::from(node.0)
}

fn to_raft(entry: &LogEntry) -> Entry {
    let mut e = Entry::default();
    (e.term, e.index) = (entry.term, entry.index);
    e.data = entry.data.as_bytes().to_vec().into();
    e
}

fn to_log(entry: &Entry) -> LogEntry {
    LogEntry {
        term: entry.term,
        index: entry.index,
        data: String::from_utf8_lossy(&entry.data).into_owned(),
    }
}
