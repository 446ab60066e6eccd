//! Basic (single-decree) Paxos, as in Lamport's "Paxos Made Simple", as pure state
//! machines. Nothing here does I/O, reads a clock or draws random numbers: every input
//! (a message, a timer firing, a client request, a restart with recovered state) comes in
//! through [`Node::step`], and everything the node wants done (send, persist, set a
//! timer, record an event) goes out as an [`Output`]. The harness's node shell and
//! both worlds execute those outputs; [`Paxos`] plugs it into the contract.

mod acceptor;
mod bugs;
pub mod check;
mod codec;
pub mod fuzz;
mod learner;
mod msg;
mod node;
mod proposer;
mod protocol;
mod settle;
mod signature;
mod symmetry;

pub use acceptor::{Acceptor, AcceptorState};
pub use bugs::{Bug, Bugs};
pub use learner::{Learner, LearnerState, TallyRules};
pub use msg::{Ballot, Msg, MsgKind, Value, VALUE_BYTES_MAX};
pub use node::{
    DurableParts, DurableState, Input, Membership, Node, Note, Output, Roles, Timer, TimingConfig,
};
pub use proposer::{Proposer, ProposerRules, ProposerState};
pub use protocol::{draft_on, lab, servers_and_clients, Paxos, PaxosParams};
pub use settle::SettleTracker;

/// The smallest number of acceptors that forms a majority of `acceptor_count`.
///
/// With an even count a majority is strictly more than half: 4 acceptors need 3.
pub fn majority(acceptor_count: usize) -> usize {
    acceptor_count / 2 + 1
}

#[cfg(test)]
mod tests;
