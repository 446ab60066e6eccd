//! Ballots, values and the messages Paxos nodes exchange.

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::value::{Value, VALUE_BYTES_MAX};

/// A proposal number. Unique per proposer because it carries the proposer's id, and
/// totally ordered: by round first, then by proposer id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Ballot {
    pub round: u64,
    pub proposer: NodeId,
}

impl Ballot {
    /// The highest round a ballot may carry. One below `u64::MAX`, so a proposer can
    /// always name a round above any promise it hears of without wrapping; a message
    /// with a higher round is malformed (the codec refuses it, the acceptor ignores it).
    pub const ROUND_MAX: u64 = u64::MAX - 1;

    pub fn new(round: u64, proposer: NodeId) -> Self {
        Ballot { round, proposer }
    }

    /// Whether the round is within [`Ballot::ROUND_MAX`].
    pub fn is_valid(&self) -> bool {
        self.round <= Self::ROUND_MAX
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.proposer.0)
    }
}

/// A Paxos message. Which role handles it is decided by [`crate::protocols::paxos::Node`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// Phase 1a: proposer asks acceptors to promise `ballot`.
    Prepare { ballot: Ballot },
    /// Phase 1b: acceptor promises `ballot` and reports what it accepted last, if anything.
    Promise {
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
    },
    /// Explicit rejection of `ballot`, carrying the acceptor's promise so the proposer
    /// can jump past it instead of climbing one round at a time.
    Nack { ballot: Ballot, promised: Ballot },
    /// Phase 2a: proposer asks acceptors to accept `value` at `ballot`.
    Accept { ballot: Ballot, value: Value },
    /// Phase 2b: acceptor accepted `value` at `ballot`; sent to the ballot's proposer
    /// and to every learner.
    Accepted { ballot: Ballot, value: Value },
    /// A learner that has not learned yet asks proposers to drive a new ballot, and
    /// acceptors to tell it again what they accepted. This is what makes liveness hold
    /// once faults heal: accepted messages lost during the faults are not resent
    /// otherwise, and in real mode the proposers may have exited since the decision.
    Nudge,
}

/// The kind of a message, without its payload: for fault filters and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MsgKind {
    Prepare,
    Promise,
    Nack,
    Accept,
    Accepted,
    Nudge,
}

impl MsgKind {
    /// Every kind's label, as [`Msg::kind_name`] gives it: the names the fault layer's
    /// targeted faults may filter on (the layer itself knows no protocol).
    pub const NAMES: [&'static str; 6] =
        ["Prepare", "Promise", "Nack", "Accept", "Accepted", "Nudge"];

    pub fn name(self) -> &'static str {
        match self {
            MsgKind::Prepare => "Prepare",
            MsgKind::Promise => "Promise",
            MsgKind::Nack => "Nack",
            MsgKind::Accept => "Accept",
            MsgKind::Accepted => "Accepted",
            MsgKind::Nudge => "Nudge",
        }
    }
}

impl Msg {
    /// Whether every ballot in the message is within [`Ballot::ROUND_MAX`]. The codec
    /// refuses any other; the node checks again, so no input path can hand a core a
    /// round it cannot step past.
    pub fn ballots_valid(&self) -> bool {
        match self {
            Msg::Prepare { ballot } | Msg::Accept { ballot, .. } | Msg::Accepted { ballot, .. } => {
                ballot.is_valid()
            }
            Msg::Promise { ballot, accepted } => {
                ballot.is_valid() && accepted.as_ref().is_none_or(|(b, _)| b.is_valid())
            }
            Msg::Nack { ballot, promised } => ballot.is_valid() && promised.is_valid(),
            Msg::Nudge => true,
        }
    }

    /// The kind's label, for message-kind fault filters (see [`MsgKind::NAMES`]).
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    pub fn kind(&self) -> MsgKind {
        match self {
            Msg::Prepare { .. } => MsgKind::Prepare,
            Msg::Promise { .. } => MsgKind::Promise,
            Msg::Nack { .. } => MsgKind::Nack,
            Msg::Accept { .. } => MsgKind::Accept,
            Msg::Accepted { .. } => MsgKind::Accepted,
            Msg::Nudge => MsgKind::Nudge,
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Prepare { ballot } => write!(f, "Prepare(b={ballot})"),
            Msg::Promise { ballot, accepted } => match accepted {
                Some((ab, v)) => write!(f, "Promise(b={ballot}, accepted={ab}:{v})"),
                None => write!(f, "Promise(b={ballot}, accepted=none)"),
            },
            Msg::Nack { ballot, promised } => write!(f, "Nack(b={ballot}, promised={promised})"),
            Msg::Accept { ballot, value } => write!(f, "Accept(b={ballot}, v={value})"),
            Msg::Accepted { ballot, value } => write!(f, "Accepted(b={ballot}, v={value})"),
            Msg::Nudge => write!(f, "Nudge"),
        }
    }
}
