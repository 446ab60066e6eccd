//! The chain's planted bugs: classic mistakes of proof-of-work node software,
//! compiled in, off by default, switched on by a scenario's `bugs` list. Each acts
//! where such a bug would really be (`node.rs` names them).

use crate::protocol::{planted_bug_table, BugSet, PlantedBug, PlantedBugKind};

/// One planted bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bug {
    /// Fork choice by height instead of cumulative work: a longer chain of easy
    /// blocks beats a shorter chain with more work.
    ForkByHeight,
    /// A received block is accepted without checking that its hash meets the target
    /// its difficulty claims.
    NoTargetCheck,
    /// A block whose parent is unknown is attached to the node's tip instead of being
    /// kept as an orphan.
    AcceptsUnknownParent,
    /// A reorg drops the reverted blocks' transactions instead of returning them to
    /// the mempool.
    DropsRevertedTxs,
    /// A reorg does not record the coins the new branch spends, so a transaction
    /// spending one of them again is accepted (and mined) afterwards.
    DoubleSpendAcrossReorg,
    /// A received block is never forwarded: only its miner sends it.
    NeverForwards,
    /// The bootstrap nodes are dialed once, at start, and never again: a node cut off
    /// by a partition never finds its way back.
    NeverRedials,
    /// The orphan pool has no bound.
    UnboundedOrphans,
}

impl Bug {
    pub const ALL: [Bug; 8] = [
        Bug::ForkByHeight,
        Bug::NoTargetCheck,
        Bug::AcceptsUnknownParent,
        Bug::DropsRevertedTxs,
        Bug::DoubleSpendAcrossReorg,
        Bug::NeverForwards,
        Bug::NeverRedials,
        Bug::UnboundedOrphans,
    ];

    pub const fn planted(self) -> PlantedBug {
        let (name, description) = match self {
            Bug::ForkByHeight => (
                "fork_by_height",
                "fork choice by height instead of cumulative work",
            ),
            Bug::NoTargetCheck => (
                "no_target_check",
                "a block is accepted without checking its hash meets its target",
            ),
            Bug::AcceptsUnknownParent => (
                "accepts_unknown_parent",
                "a block with an unknown parent is attached to the tip",
            ),
            Bug::DropsRevertedTxs => (
                "drops_reverted_txs",
                "a reorg drops the reverted transactions instead of returning them",
            ),
            Bug::DoubleSpendAcrossReorg => (
                "double_spend_across_reorg",
                "a reorg forgets the coins the new branch spends",
            ),
            Bug::NeverForwards => ("never_forwards", "received blocks are never forwarded"),
            Bug::NeverRedials => (
                "never_redials",
                "maintenance never dials: a node keeps the bootstrap node it dialled at \
                 start and whoever dials it, and never re-dials after a partition",
            ),
            Bug::UnboundedOrphans => ("unbounded_orphans", "the orphan pool has no bound"),
        };
        PlantedBug { name, description }
    }
}

/// The catalog, in [`Bug::ALL`]'s order.
pub static BUGS: [PlantedBug; 8] = planted_bug_table!(Bug, 8);

impl PlantedBugKind for Bug {
    const ALL: &'static [Bug] = &Bug::ALL;
    fn planted(self) -> PlantedBug {
        Bug::planted(self)
    }
}

/// The bugs switched on for a run.
pub type Bugs = BugSet<Bug>;
