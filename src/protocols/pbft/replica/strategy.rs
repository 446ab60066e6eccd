//! PBFT's named adversaries (`crate::fault::Fault::Strategy`), played by a replica
//! with its own keys only.
//!
//! `equivocating_primary`: as primary it orders each request twice at one sequence
//! number, sending its signed pre-prepare of the request to the first half of the
//! backups (in id order) and a signed pre-prepare of another request it knows (the
//! null request if it knows none) to the rest; in every role it backs every side,
//! sending its signed prepare and commit for each (view, seq, digest) it sees
//! proposed or voted for. Alone (at most `f` such replicas) it cannot make two
//! quorums: they would share `f + 1` replicas, one of them honest, and an honest
//! replica votes for one digest per (view, seq). With `f + 1` of them the two halves
//! each reach a quorum and commit different requests at one sequence number.

use super::{Digest, Msg, NodeId, Replica, Signed};
use crate::value::Value;

/// The adversaries PBFT supplies, by name (`Protocol::strategies`).
pub const STRATEGIES: [&str; 1] = ["equivocating_primary"];

/// Most (view, seq, digest) an adversary remembers having backed; past it, it backs
/// nothing new (a bound on its memory, not a rule of the attack).
const BACKED_MAX: usize = 4_096;

/// One of [`STRATEGIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    EquivocatingPrimary,
}

impl Strategy {
    /// The strategy named `name`, if PBFT supplies it.
    pub fn named(name: &str) -> Option<Strategy> {
        match name {
            "equivocating_primary" => Some(Strategy::EquivocatingPrimary),
            _ => None,
        }
    }
}

impl Replica {
    /// As an equivocating primary: the pre-prepare of `request` (already accepted
    /// here, `digest` and `sig` its own) to the first half of the backups, and one of
    /// another request at the same `seq` to the others.
    pub(super) fn equivocate(
        &mut self,
        view: u64,
        seq: u64,
        request: Option<Value>,
        digest: Digest,
        sig: super::Sig,
    ) {
        let other: Option<Value> = self
            .pending
            .iter()
            .find(|r| Some(*r) != request.as_ref())
            .cloned();
        let other_digest = self.config.digest(view, seq, &other);
        let other_sig = self.config.keys.sign(
            self.id,
            Signed::Prepare {
                view,
                seq,
                digest: other_digest,
            },
        );
        let backups: Vec<NodeId> = self
            .config
            .members
            .iter()
            .copied()
            .filter(|&m| m != self.id)
            .collect();
        let half = backups.len().div_ceil(2);
        for (i, to) in backups.into_iter().enumerate() {
            let msg = if i < half {
                Msg::PrePrepare {
                    view,
                    seq,
                    request: request.clone(),
                    digest,
                    sig,
                }
            } else {
                Msg::PrePrepare {
                    view,
                    seq,
                    request: other.clone(),
                    digest: other_digest,
                    sig: other_sig,
                }
            };
            self.send(to, msg);
        }
        self.arm();
    }

    /// As an adversary: a signed prepare and commit, to every replica, for each
    /// (view, seq, digest) that `msg` proposes or votes for, once each.
    pub(super) fn back_every_side(&mut self, _from: NodeId, msg: &Msg) {
        let (view, seq, digest) = match msg {
            Msg::PrePrepare {
                view, seq, digest, ..
            }
            | Msg::Prepare {
                view, seq, digest, ..
            }
            | Msg::Commit {
                view, seq, digest, ..
            } => (*view, *seq, *digest),
            _ => return,
        };
        if self.backed.len() >= BACKED_MAX || !self.backed.insert((view, seq, digest)) {
            return;
        }
        let prepare = self.sign(Signed::Prepare { view, seq, digest });
        let commit = self.sign(Signed::Commit { view, seq, digest });
        for i in 0..self.config.members.len() {
            let to = self.config.members[i];
            if to != self.id {
                self.send(
                    to,
                    Msg::Prepare {
                        view,
                        seq,
                        digest,
                        sig: prepare.sig,
                    },
                );
                self.send(
                    to,
                    Msg::Commit {
                        view,
                        seq,
                        digest,
                        sig: commit.sig,
                    },
                );
            }
        }
    }
}
