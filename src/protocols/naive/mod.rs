//! The naive vote: the consensus protocol from the notes this project started from,
//! tested by gauntlet through the contract (`crate::protocol`) like any
//! user's protocol. It is not safe under faults, and gauntlet shows it
//! (`docs/naive.md` tells why, next to how Paxos avoids it).
//!
//! The notes describe it as: every node proposes a value; the highest value wins, and
//! a tie is broken by the number of votes; votes start at 1 per node and grow when
//! several nodes propose the same value; a `Network` runs rounds until all nodes agree.
//! The notes' `Network` sees every node at once. Real nodes do not, so each node runs
//! the rounds itself, and this is the reading implemented here:
//!
//! 1. **Propose.** A node's client request is its proposal: it holds that value with 1
//!    vote (unless it already holds a higher value, which wins).
//! 2. **Rounds.** Every [`ROUND_MS`] each node closes its round and broadcasts
//!    `Vote(round, value, votes)` to every other node. Nodes holding nothing yet stay
//!    quiet.
//! 3. **Adopt.** At the end of a round, a node adopts the best vote it heard in that
//!    round if it beats its own: the higher value wins, and between equal values the
//!    one with more votes ([`Candidate`]'s order).
//! 4. **Votes.** It then counts its votes: itself plus every node it heard in that
//!    round holding the same value. So votes start at 1 and grow when several nodes
//!    hold the same value.
//! 5. **Decide.** When that count reaches a majority of the cluster, the node has heard
//!    the winning value from enough nodes: it decides (persisting the decision first)
//!    and keeps broadcasting the decided value, so the others can catch up: rounds run
//!    until all nodes agree.
//!
//! "Until *all* nodes agree" would be the literal stop rule, but a node that waits to
//! hear every other node never decides once one of them has crashed; counting to a
//! majority is how anyone would make it tolerate faults, and is what makes it look
//! like Paxos. It still is not: nothing stops a higher value, unseen by the nodes that
//! decided, from winning later.
//!
//! Every node is a voter and must decide; the protocol has no parameters. Both lanes
//! run it, like every protocol.

mod core;

pub use self::core::{
    majority, Candidate, NaiveNode, NaiveState, RoundEnd, Vote, ROUND_MS, VOTE_KIND,
};

use crate::ids::NodeId;
use crate::protocol::{Draft, Peers, Protocol, RunSetup};
use rand_chacha::ChaCha8Rng;

/// The naive vote, as a protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naive;

impl Naive {
    /// The protocol's name in scenarios and on the command line.
    pub const NAME: &'static str = "naive";
}

impl Protocol for Naive {
    type Core = NaiveNode;
    /// The naive vote has no parameters: every node is a voter.
    type Params = ();

    fn name(&self) -> &'static str {
        Naive::NAME
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &[VOTE_KIND]
    }

    /// 3 to 7 nodes, each proposing `Value_<letter>` at the start, as in the notes (two
    /// nodes may propose the same value, so votes can start above 1), under the
    /// harness's fault schedule. With every proposal made at once, a quiet network
    /// always converges: whatever goes wrong, a fault made it go wrong.
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        Peers {
            sizes: &[3, 3, 3, 4, 5, 5, 7],
            // A quiet run decides within three rounds: faults after that test nothing.
            horizon_ms: (ROUND_MS, 8 * ROUND_MS),
            propose_at_start: true,
            liveness_bound_ms: 10_000,
        }
        .draft(rng, ())
    }

    /// A vote needs somebody to vote with.
    fn nodes_min(&self) -> usize {
        2
    }

    fn core(&self, setup: &RunSetup<Naive>, id: NodeId) -> NaiveNode {
        NaiveNode::new(id, &setup.scenario.cluster.ids())
    }

    /// Every node votes, so every node must decide.
    fn deciders(&self, setup: &RunSetup<Naive>) -> Vec<NodeId> {
        setup.scenario.cluster.ids()
    }
}

#[cfg(test)]
mod tests;
