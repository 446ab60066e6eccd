//! Symmetry: which nodes of a scope are interchangeable, and how a protocol's values
//! look when their ids are swapped. The exhaustive lane (`crate::model`) uses it to
//! visit one state of each set of states that differ only by a renaming of
//! interchangeable nodes (docs/model-checking.md, "Symmetry reduction").
//!
//! A protocol opts in with [`crate::protocol::Protocol::symmetry`] (default: none).
//! What it vouches for, for every permutation π of each group's members (identity
//! elsewhere), where π(s) is the state `s` with every node id renamed by π (the nodes'
//! places, their cores, disks, timers, the messages in flight and their ends, and the
//! protocol events recorded):
//!
//! - **π(s) behaves as s does, renamed**: each step from `s` has its renamed step from
//!   π(s), reaching π of its successor, with π of its events. So the members start
//!   identical up to renaming (same roles, same configuration, no client request of
//!   their own), and no core breaks a tie by comparing the members' ids.
//! - **The judges cannot tell s from π(s)**: a property holds on a history if and only
//!   if it holds on the history renamed.
//! - **Nothing a core draws from its random stream changes its memory**: a node's
//!   stream is seeded by its id, so two members draw different numbers; the model uses
//!   draws only for timer delays, which the search does not look at.
//!
//! The model refines the groups itself by what the scope treats differently (crash and
//! timer nodes, client requests), so a protocol states only what its cores and judges
//! treat alike.

use crate::ids::NodeId;
use crate::protocol::Core;
use std::hash::Hasher;

/// A permutation of node ids, given by the ids it moves (every other id stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renaming {
    /// (from, to) for each moved id, sorted by `from`.
    moved: Vec<(NodeId, NodeId)>,
}

impl Renaming {
    /// The renaming that sends each `from` to its `to`. An error unless it is a
    /// permutation (each id once on each side, the same ids on both).
    pub fn new(pairs: &[(NodeId, NodeId)]) -> Result<Self, String> {
        let mut moved: Vec<(NodeId, NodeId)> =
            pairs.iter().copied().filter(|(a, b)| a != b).collect();
        moved.sort_unstable();
        let mut froms: Vec<NodeId> = moved.iter().map(|p| p.0).collect();
        let mut tos: Vec<NodeId> = moved.iter().map(|p| p.1).collect();
        froms.dedup();
        tos.sort_unstable();
        tos.dedup();
        if froms.len() != moved.len() || tos != froms {
            return Err(format!("not a permutation of node ids: {pairs:?}"));
        }
        Ok(Renaming { moved })
    }

    /// Where `id` goes.
    pub fn apply(&self, id: NodeId) -> NodeId {
        match self.moved.binary_search_by_key(&id, |p| p.0) {
            Ok(at) => self.moved[at].1,
            Err(_) => id,
        }
    }

    /// Whether `id` moves.
    pub fn moves(&self, id: NodeId) -> bool {
        self.moved.binary_search_by_key(&id, |p| p.0).is_ok()
    }

    /// Whether it moves no id.
    pub fn is_identity(&self) -> bool {
        self.moved.is_empty()
    }
}

/// How a protocol's values look under a [`Renaming`]. Every method must be a function
/// of the renamed value: two values that rename to the same value give the same
/// answer. The `Option` methods answer `None` when the value names no moved id (it is
/// its own renaming), which saves the model a copy and a hash.
pub trait Rename<C: Core>: Send + Sync {
    /// Feed `core`'s memory to `state` as it would be with every node id in it renamed
    /// (ids in ordered sets and maps hashed in their renamed order). It need not feed
    /// the bytes [`Core::fingerprint`] feeds; the model uses this for every permutation,
    /// the identity included, and compares only these.
    fn fingerprint_core(&self, core: &C, renaming: &Renaming, state: &mut dyn Hasher);
    /// A message renamed, or `None` if it names no moved id.
    fn msg(&self, msg: &C::Msg, renaming: &Renaming) -> Option<C::Msg>;
    /// A durable state renamed, or `None`.
    fn state(&self, state: &C::State, renaming: &Renaming) -> Option<C::State>;
    /// A log entry renamed, or `None`.
    fn entry(&self, entry: &C::Entry, renaming: &Renaming) -> Option<C::Entry>;
    /// A protocol event renamed, or `None`.
    fn event(&self, event: &C::Event, renaming: &Renaming) -> Option<C::Event>;
    /// A timer renamed, or `None`.
    fn timer(&self, timer: &C::Timer, renaming: &Renaming) -> Option<C::Timer>;
}

/// A protocol's symmetry in one scope: groups of interchangeable nodes and how to
/// rename ids in its values. See the module docs for what it vouches for.
pub struct Symmetry<C: Core> {
    /// Disjoint groups; each permutation within each group is a symmetry. A group of
    /// one is no symmetry and may be left out.
    pub groups: Vec<Vec<NodeId>>,
    pub rename: Box<dyn Rename<C>>,
}

impl<C: Core> std::fmt::Debug for Symmetry<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symmetry")
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A renaming moves exactly the ids it names, and a non-permutation is refused.
    #[test]
    fn a_renaming_is_a_permutation() {
        let r = Renaming::new(&[(NodeId(2), NodeId(3)), (NodeId(3), NodeId(2))]).unwrap();
        assert_eq!(r.apply(NodeId(2)), NodeId(3));
        assert_eq!(r.apply(NodeId(3)), NodeId(2));
        assert_eq!(r.apply(NodeId(1)), NodeId(1));
        assert!(r.moves(NodeId(2)) && !r.moves(NodeId(1)) && !r.is_identity());
        assert!(Renaming::new(&[(NodeId(1), NodeId(1))])
            .unwrap()
            .is_identity());
        assert!(Renaming::new(&[(NodeId(2), NodeId(3))]).is_err());
        assert!(Renaming::new(&[(NodeId(2), NodeId(3)), (NodeId(4), NodeId(3))]).is_err());
    }
}
