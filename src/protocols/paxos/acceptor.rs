//! The acceptor: the memory of Paxos. Its promise and its last acceptance must survive
//! a crash, so every change is persisted (the shell writes and fsyncs) before the reply
//! that reveals it is sent.

use super::msg::{Ballot, Msg, Value};
use super::node::{Note, Output};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

/// What an acceptor must never forget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AcceptorState {
    /// Highest ballot promised; it will take part in no lower ballot.
    pub promised: Option<Ballot>,
    /// Highest-ballot proposal accepted, if any.
    pub accepted: Option<(Ballot, Value)>,
}

#[derive(Debug, Clone, Default)]
pub struct Acceptor {
    pub state: AcceptorState,
}

impl Acceptor {
    pub fn recover(state: AcceptorState) -> Self {
        Acceptor { state }
    }

    /// Phase 1b: promise a ballot above the current promise, re-answer the same ballot,
    /// nack a lower one. `round_only` plants
    /// [`crate::protocols::paxos::Bug::AcceptorPromisesEqualRound`]: ballots are compared by round
    /// alone, so a different proposer's ballot of the same round is promised.
    pub fn on_prepare(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        round_only: bool,
        out: &mut Vec<Output>,
    ) {
        let lower = |promised: Ballot| {
            if round_only {
                ballot.round < promised.round
            } else {
                ballot < promised
            }
        };
        match self.state.promised {
            Some(promised) if lower(promised) => {
                out.push(Output::Event(Note::Rejected { ballot, promised }));
                out.push(Output::Send {
                    to: from,
                    msg: Msg::Nack { ballot, promised },
                });
            }
            Some(promised) if ballot == promised => {
                // The same proposer asking again (a retransmission or a duplicate):
                // answering again is safe and changes nothing durable.
                out.push(Output::Send {
                    to: from,
                    msg: Msg::Promise {
                        ballot,
                        accepted: self.state.accepted.clone(),
                    },
                });
            }
            _ => {
                self.state.promised = Some(ballot);
                out.push(Output::Event(Note::Promised { ballot }));
                out.push(Output::Send {
                    to: from,
                    msg: Msg::Promise {
                        ballot,
                        accepted: self.state.accepted.clone(),
                    },
                });
            }
        }
    }

    /// A learner that has not learned asks what this acceptor accepted: it is told
    /// again, as the `Accepted` it was sent at the time (nothing durable changes, and
    /// an acceptor that accepted nothing stays silent). A majority of the same answer
    /// means the value is chosen, so the learner may learn it from these alone.
    pub fn on_nudge(&self, from: NodeId, out: &mut Vec<Output>) {
        if let Some((ballot, value)) = &self.state.accepted {
            out.push(Output::Send {
                to: from,
                msg: Msg::Accepted {
                    ballot: *ballot,
                    value: value.clone(),
                },
            });
        }
    }

    /// Phase 2b. Accepts when `ballot` is at least the promise; otherwise nacks.
    /// `learners` receive the acceptance along with the ballot's proposer.
    /// `accept_below_promise` plants [`crate::protocols::paxos::Bug::AcceptorAcceptsBelowPromise`].
    pub fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        value: Value,
        learners: &[NodeId],
        accept_below_promise: bool,
        out: &mut Vec<Output>,
    ) {
        if let Some(promised) = self.state.promised {
            if ballot < promised && !accept_below_promise {
                out.push(Output::Event(Note::Rejected { ballot, promised }));
                out.push(Output::Send {
                    to: from,
                    msg: Msg::Nack { ballot, promised },
                });
                return;
            }
        }
        let accepted = Some((ballot, value.clone()));
        let promised = self.state.promised.max(Some(ballot));
        let changed = self.state.promised != promised || self.state.accepted != accepted;
        self.state.promised = promised;
        self.state.accepted = accepted;
        if changed {
            out.push(Output::Event(Note::Accepted {
                ballot,
                value: value.clone(),
            }));
        }
        let reply = Msg::Accepted { ballot, value };
        // The reply goes back to whoever sent the Accept (the ballot's proposer in any
        // correct run), not to the node named in the ballot: a ballot need not name
        // its proposer reachably (see `Bug::BallotsNotUnique`).
        let mut recipients: Vec<NodeId> = learners.to_vec();
        if !recipients.contains(&from) {
            recipients.push(from);
        }
        for to in recipients {
            out.push(Output::Send {
                to,
                msg: reply.clone(),
            });
        }
    }
}
