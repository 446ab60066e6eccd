//! raft-rs (TiKV's Raft library, the `raft` crate) under gauntlet: the worked example
//! of wiring a consensus library you did not write into the contract, with the
//! adapter kit (`gauntlet::protocol::kit`). docs/raft-rs.md tells the story: the
//! network model, the campaign results, the planted-bug table and the glue count.
//!
//! - `node.rs` is about raft-rs: a `Core` that drives a `RawNode` (tick, step,
//!   propose, and the `Ready`/`advance` loop) and mirrors its storage into gauntlet's
//!   durable log and hard state.
//! - this file is the glue: the wire and disk types, the `Protocol` (cluster draft,
//!   planted bugs, judges) and `main`, one line through gauntlet's command line.
//!
//! ```text
//! cargo run --release --example raft_rs -- explore --lane fast --runs 10000
//! cargo run --release --example raft_rs -- hunt --bug announce_before_commit
//! cargo run --release --example raft_rs -- replay <the saved failure>
//! ```

mod node;
#[cfg(test)]
mod tests;

use gauntlet::history::{Event, EventKind};
use gauntlet::ids::NodeId;
use gauntlet::protocol::kit::{self, Codec, Foreign, LogEvent};
use gauntlet::protocol::{
    shapes, Draft, Expectation, Judge, Peers, PlantedBug, Property, Protocol, RunSetup, Settle,
};
use gauntlet::rng::ChaCha8Rng;
use node::RaftNode;
use protobuf::Message as _;
use raft::prelude::Message;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::process::ExitCode;

// ---- glue: the wire ------------------------------------------------------------------

/// raft-rs's messages travel as their own protobuf bytes.
pub struct Protobuf;

impl Codec<Message> for Protobuf {
    fn encode(msg: &Message, out: &mut Vec<u8>) {
        msg.write_to_vec(out).expect("raft messages encode");
    }
    fn decode(bytes: &[u8]) -> Result<Message, String> {
        Message::parse_from_bytes(bytes).map_err(|e| e.to_string())
    }
}

/// A raft-rs message as gauntlet's traces, faults and wire see it.
pub type RaftMsg = Foreign<Message, Protobuf>;

// ---- raft-rs: its hard state and log entries as gauntlet stores them ----------------

/// What a node keeps on disk besides its log: raft's hard state, and how far the
/// state machine applied the log (so a restart announces nothing twice).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
    pub applied: u64,
}

impl fmt::Display for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Disk {
            term,
            vote,
            commit,
            applied,
        } = self;
        write!(
            f,
            "term={term} vote={vote} commit={commit} applied={applied}"
        )
    }
}

/// One entry of raft's log as gauntlet's durable log keeps it: a client request, or
/// an empty entry (a new leader's no-op).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub term: u64,
    pub index: u64,
    pub data: String,
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = if self.data.is_empty() {
            "-"
        } else {
            &self.data
        };
        write!(f, "{}@{}:{data}", self.index, self.term)
    }
}

// ---- glue: the protocol --------------------------------------------------------------

/// raft-rs, as gauntlet sees it: a replicated log of the clients' requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct RaftRs;

pub const ANNOUNCE_BEFORE_COMMIT: PlantedBug = PlantedBug {
    name: "announce_before_commit",
    description: "the adapter applies entries when they are appended, not when committed",
};
pub const HARD_STATE_NOT_PERSISTED: PlantedBug = PlantedBug {
    name: "hard_state_not_persisted",
    description: "the adapter saves the commit index but never raft's term and vote",
};
pub const ENTRIES_NOT_FSYNCED: PlantedBug = PlantedBug {
    name: "entries_not_fsynced",
    description: "the adapter appends entries without fsync before the messages that reveal them",
};
const BUGS: [PlantedBug; 3] = [
    ANNOUNCE_BEFORE_COMMIT,
    HARD_STATE_NOT_PERSISTED,
    ENTRIES_NOT_FSYNCED,
];

/// The planted bugs a run switched on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bugs {
    pub announce_before_commit: bool,
    pub hard_state_not_persisted: bool,
    pub entries_not_fsynced: bool,
}

impl Protocol for RaftRs {
    type Core = RaftNode;
    type Params = ();

    fn name(&self) -> &'static str {
        "raft_rs"
    }

    /// 3 or 5 nodes (Raft's usual sizes; 4 is a valid one too), each submitting one
    /// request; faults within the first 0.2 to 2 s, where elections and commits
    /// happen with a 10 ms tick.
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        let peers = Peers {
            sizes: &[3, 3, 4, 5],
            horizon_ms: (200, 2_000),
            propose_at_start: false,
            liveness_bound_ms: 10_000,
        };
        peers.draft(rng, ())
    }

    fn nodes_min(&self) -> usize {
        1
    }

    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> RaftNode {
        let bugs = Bugs {
            announce_before_commit: setup.has_bug(ANNOUNCE_BEFORE_COMMIT.name),
            hard_state_not_persisted: setup.has_bug(HARD_STATE_NOT_PERSISTED.name),
            entries_not_fsynced: setup.has_bug(ENTRIES_NOT_FSYNCED.name),
        };
        RaftNode::new(id, setup.scenario.cluster.ids(), bugs)
    }

    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        setup.scenario.cluster.ids()
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        node::MESSAGE_KINDS
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &BUGS
    }

    fn settle(&self, setup: &RunSetup<Self>) -> Box<dyn Settle<RaftNode>> {
        Box::new(kit::AllRequestsDecided::new(&self.deciders(setup)))
    }

    /// The log shape's judges, with raft-rs's own invariant checks among the safety
    /// properties (before liveness: a node that panicked also stops deciding).
    fn properties(&self) -> Vec<Judge<Self>> {
        let mut judges = shapes::log::judges();
        judges.insert(3, kit::panic_judge());
        judges.push(Judge::reached(&LEADER_CHANGED, |j| {
            let leaders = j.history.events.iter().filter(|e| is_leader_note(&e.kind));
            leaders.count() >= 2
        }));
        judges.push(Judge::reached(&SUFFIX_OVERWRITTEN, |j| {
            let cut = |e: &&Event<RaftNode>| matches!(e.kind, EventKind::Truncated { .. });
            j.history.events.iter().any(|e| cut(&e))
        }));
        judges
    }
}

/// Coverage: the campaign reaches raft-rs's hard paths, not only the happy one.
const LEADER_CHANGED: Property = Property {
    name: "leader_changed",
    expectation: Expectation::Sometimes,
    description: "a second leader was elected in a later term",
};
const SUFFIX_OVERWRITTEN: Property = Property {
    name: "suffix_overwritten",
    expectation: Expectation::Sometimes,
    description: "a follower cut a conflicting suffix of its log",
};

fn is_leader_note(kind: &EventKind<RaftNode>) -> bool {
    matches!(kind, EventKind::Protocol(LogEvent::Note(n)) if n.starts_with("leader of term"))
}

fn main() -> ExitCode {
    gauntlet::cli::main_with(RaftRs)
}
