//! A recorded adversary ([`super::Fault::Script`]): the exact order in which a run's
//! messages are delivered, dropped or duplicated, its timers fire, its client requests
//! arrive and its nodes crash and restart, one step per simulated millisecond. The
//! exhaustive lane (`crate::model`) saves the path to a violation as one, so the
//! counterexample is an ordinary scenario that `replay`, `shrink` and `keep` take.
//!
//! Steps name messages by the ids the lanes give them (the sender's
//! `(incarnation << 32) + n`) and timers by the order their node set them in its
//! incarnation, so a script needs no protocol types and stays plain JSON.

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

/// Most steps one script may hold.
pub const SCRIPT_STEPS_MAX: usize = 100_000;

/// One step of a recorded adversary. A step that does not apply when it comes (its
/// message is not in flight, its node is not running, its timer is not set) does
/// nothing: so a shrunk script, with steps or nodes removed, still runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum ScriptStep {
    /// Deliver one copy of message `msg_id` from `from` to `to`.
    Deliver {
        from: NodeId,
        to: NodeId,
        msg_id: u64,
    },
    /// Lose one copy of it in flight.
    Drop {
        from: NodeId,
        to: NodeId,
        msg_id: u64,
    },
    /// Put one more copy of it in flight.
    Duplicate {
        from: NodeId,
        to: NodeId,
        msg_id: u64,
    },
    /// Fire the timer `node` set `timer_seq`-th (from 1) in its running incarnation.
    FireTimer { node: NodeId, timer_seq: u64 },
    /// The node's client request (its first in the workload) arrives.
    ClientRequest { node: NodeId },
    /// The node stops; its unsynced writes are lost.
    Crash { node: NodeId },
    /// A crashed node starts its next incarnation from what it synced.
    Restart { node: NodeId },
}

impl ScriptStep {
    /// Every node the step names.
    pub fn nodes(&self) -> Vec<NodeId> {
        match *self {
            ScriptStep::Deliver { from, to, .. }
            | ScriptStep::Drop { from, to, .. }
            | ScriptStep::Duplicate { from, to, .. } => vec![from, to],
            ScriptStep::FireTimer { node, .. }
            | ScriptStep::ClientRequest { node }
            | ScriptStep::Crash { node }
            | ScriptStep::Restart { node } => vec![node],
        }
    }
}

impl std::fmt::Display for ScriptStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptStep::Deliver { from, to, msg_id } => {
                write!(f, "deliver {from}->{to} #{msg_id:x}")
            }
            ScriptStep::Drop { from, to, msg_id } => write!(f, "drop {from}->{to} #{msg_id:x}"),
            ScriptStep::Duplicate { from, to, msg_id } => {
                write!(f, "duplicate {from}->{to} #{msg_id:x}")
            }
            ScriptStep::FireTimer { node, timer_seq } => {
                write!(f, "fire {node}'s timer {timer_seq}")
            }
            ScriptStep::ClientRequest { node } => write!(f, "client request at {node}"),
            ScriptStep::Crash { node } => write!(f, "crash {node}"),
            ScriptStep::Restart { node } => write!(f, "restart {node}"),
        }
    }
}

/// Smaller scripts, biggest reductions first: runs of steps removed (halves, quarters,
/// ... single steps). A removed delivery leaves its message in flight, which the
/// liveness phase then delivers.
pub fn script_candidates(steps: &[ScriptStep]) -> Vec<Vec<ScriptStep>> {
    let mut out = Vec::new();
    let n = steps.len();
    let mut chunk = n / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let mut fewer = steps.to_vec();
            fewer.drain(start..end);
            out.push(fewer);
            start = end;
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
    out
}
