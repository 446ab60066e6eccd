//! Paxos's symmetry for the exhaustive lane (`crate::protocol::symmetry`): nodes that
//! propose nothing and play the same roles (acceptor, learner) are interchangeable,
//! and a renaming reaches a node id in a core's memory (a proposer's promises and
//! acceptances, a learner's tallies) and a ballot's proposer.
//!
//! Why the groups are sound: every core keeps its peers in sets and maps and treats
//! them alike (quorums are counts; a poll or a phase goes to every member), the judges
//! read values, ballots and learners, and Paxos draws nothing. Proposers stay out: each
//! has its own value, and ballots are ordered by proposer id. One tie is broken by id:
//! a proposer that hears two promises reporting the same ballot with different values
//! adopts the one from the higher acceptor id. Correct Paxos never gives one ballot two
//! values, so it never meets that tie; the planted bugs that reuse a ballot with
//! another value (`ballots_not_unique`, `proposer_forgets_round`, and
//! `acceptor_skips_fsync` on a node that proposes and accepts, which can lose its
//! round) can, so under them no symmetry is declared.

use super::msg::{Ballot, Msg, Value};
use super::node::{DurableParts, DurableState, Node, Note, Timer};
use super::proposer::Phase;
use super::protocol::{Paxos, PaxosParams};
use super::{AcceptorState, Bug};
use crate::ids::NodeId;
use crate::protocol::{NoLog, Rename, Renaming, RunSetup, Symmetry};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// The interchangeable groups of a Paxos scope, before the model refines them by the
/// scope's bounds: the nodes that propose nothing, by their (acceptor, learner) roles.
/// Empty under a bug that gives one ballot two values (see the module docs).
pub fn groups(setup: &RunSetup<Paxos>) -> Vec<Vec<NodeId>> {
    let params: &PaxosParams = &setup.params;
    let proposer_may_lose_round = setup.has_bug(Bug::AcceptorSkipsFsync.name())
        && params
            .proposers
            .iter()
            .any(|p| params.acceptors.contains(p));
    if setup.has_bug(Bug::BallotsNotUnique.name())
        || setup.has_bug(Bug::ProposerForgetsRound.name())
        || proposer_may_lose_round
    {
        return Vec::new();
    }
    let mut by_roles: BTreeMap<(bool, bool), Vec<NodeId>> = BTreeMap::new();
    for id in setup.scenario.cluster.ids() {
        let roles = params.roles(id);
        if roles.proposer || setup.scenario.request_of(id).is_some() {
            continue;
        }
        by_roles
            .entry((roles.acceptor, roles.learner))
            .or_default()
            .push(id);
    }
    by_roles.into_values().filter(|g| g.len() > 1).collect()
}

/// Paxos's symmetry in `setup`'s scope, if it has a group of two or more.
pub fn symmetry(setup: &RunSetup<Paxos>) -> Option<Symmetry<Node>> {
    let groups = groups(setup);
    (!groups.is_empty()).then(|| Symmetry {
        groups,
        rename: Box::new(PaxosRename),
    })
}

struct PaxosRename;

fn ballot(b: &Ballot, r: &Renaming) -> Ballot {
    Ballot::new(b.round, r.apply(b.proposer))
}

fn hash_ballot(b: &Ballot, r: &Renaming, h: &mut dyn Hasher) {
    let mut h = h;
    ballot(b, r).hash(&mut h);
}

fn accepted(a: &Option<(Ballot, Value)>, r: &Renaming) -> Option<(Ballot, Value)> {
    a.as_ref().map(|(b, v)| (ballot(b, r), v.clone()))
}

fn acceptor_state(a: &AcceptorState, r: &Renaming) -> AcceptorState {
    AcceptorState {
        promised: a.promised.map(|b| ballot(&b, r)),
        accepted: accepted(&a.accepted, r),
    }
}

impl Rename<Node> for PaxosRename {
    /// Each role's memory as `Core::fingerprint` covers it (ids, membership, timing
    /// and bugs are fixed for a node), with ids renamed and the keyed collections
    /// hashed in their renamed order.
    fn fingerprint_core(&self, core: &Node, r: &Renaming, mut h: &mut dyn Hasher) {
        match &core.acceptor {
            None => h.write_u8(0),
            Some(a) => {
                h.write_u8(1);
                acceptor_state(&a.state, r).hash(&mut h);
            }
        }
        match &core.proposer {
            None => h.write_u8(0),
            Some(p) => {
                h.write_u8(1);
                r.apply(p.id).hash(&mut h);
                p.state.hash(&mut h);
                match &p.phase {
                    Phase::Idle => h.write_u8(0),
                    Phase::Preparing {
                        ballot: b,
                        promises,
                        first_reported,
                    } => {
                        h.write_u8(1);
                        hash_ballot(b, r, h);
                        let mut renamed: Vec<(NodeId, Option<(Ballot, Value)>)> = promises
                            .iter()
                            .map(|(id, a)| (r.apply(*id), accepted(a, r)))
                            .collect();
                        renamed.sort_unstable_by_key(|e| e.0);
                        renamed.hash(&mut h);
                        accepted(first_reported, r).hash(&mut h);
                    }
                    Phase::Accepting {
                        ballot: b,
                        value,
                        accepted_by,
                    } => {
                        h.write_u8(2);
                        hash_ballot(b, r, h);
                        value.hash(&mut h);
                        let mut renamed: Vec<NodeId> =
                            accepted_by.iter().map(|id| r.apply(*id)).collect();
                        renamed.sort_unstable();
                        renamed.hash(&mut h);
                    }
                    Phase::Backoff => h.write_u8(3),
                    Phase::Decided { ballot: b, value } => {
                        h.write_u8(4);
                        hash_ballot(b, r, h);
                        value.hash(&mut h);
                    }
                }
                p.round_seen_max.hash(&mut h);
                p.attempts.hash(&mut h);
                p.rules.hash(&mut h);
            }
        }
        match &core.learner {
            None => h.write_u8(0),
            Some(l) => {
                h.write_u8(1);
                l.state.hash(&mut h);
                let mut tallies: Vec<((Ballot, &Value), Vec<NodeId>)> = l
                    .tallies
                    .iter()
                    .map(|((b, v), voters)| {
                        let mut voters: Vec<NodeId> =
                            voters.iter().map(|id| r.apply(*id)).collect();
                        voters.sort_unstable();
                        ((ballot(b, r), v), voters)
                    })
                    .collect();
                tallies.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                tallies.hash(&mut h);
                let mut counts: Vec<((Ballot, &Value), usize)> = l
                    .raw_counts
                    .iter()
                    .map(|((b, v), n)| ((ballot(b, r), v), *n))
                    .collect();
                counts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                counts.hash(&mut h);
            }
        }
    }

    fn msg(&self, msg: &Msg, r: &Renaming) -> Option<Msg> {
        let moved = |b: &Ballot| r.moves(b.proposer);
        let names_moved = match msg {
            Msg::Prepare { ballot: b }
            | Msg::Accept { ballot: b, .. }
            | Msg::Accepted { ballot: b, .. } => moved(b),
            Msg::Promise {
                ballot: b,
                accepted: a,
            } => moved(b) || a.as_ref().is_some_and(|(ab, _)| moved(ab)),
            Msg::Nack {
                ballot: b,
                promised,
            } => moved(b) || moved(promised),
            Msg::Nudge => false,
        };
        names_moved.then(|| match msg {
            Msg::Prepare { ballot: b } => Msg::Prepare {
                ballot: ballot(b, r),
            },
            Msg::Accept { ballot: b, value } => Msg::Accept {
                ballot: ballot(b, r),
                value: value.clone(),
            },
            Msg::Accepted { ballot: b, value } => Msg::Accepted {
                ballot: ballot(b, r),
                value: value.clone(),
            },
            Msg::Promise {
                ballot: b,
                accepted: a,
            } => Msg::Promise {
                ballot: ballot(b, r),
                accepted: accepted(a, r),
            },
            Msg::Nack {
                ballot: b,
                promised,
            } => Msg::Nack {
                ballot: ballot(b, r),
                promised: ballot(promised, r),
            },
            Msg::Nudge => Msg::Nudge,
        })
    }

    fn state(&self, state: &DurableState, r: &Renaming) -> Option<DurableState> {
        let acceptor = state.acceptor.as_ref()?;
        let names_moved = acceptor.promised.is_some_and(|b| r.moves(b.proposer))
            || acceptor
                .accepted
                .as_ref()
                .is_some_and(|(b, _)| r.moves(b.proposer));
        names_moved.then(|| {
            DurableState::new(DurableParts {
                acceptor: Some(acceptor_state(acceptor, r)),
                proposer: state.proposer.clone(),
                learner: state.learner.clone(),
            })
        })
    }

    fn entry(&self, _entry: &NoLog, _r: &Renaming) -> Option<NoLog> {
        None
    }

    fn event(&self, event: &Note, r: &Renaming) -> Option<Note> {
        let renamed = match event {
            Note::Proposed { .. } | Note::BackingOff { .. } | Note::GaveUp { .. } => return None,
            Note::Promised { ballot: b } => Note::Promised {
                ballot: ballot(b, r),
            },
            Note::Accepted { ballot: b, value } => Note::Accepted {
                ballot: ballot(b, r),
                value: value.clone(),
            },
            Note::Rejected {
                ballot: b,
                promised,
            } => Note::Rejected {
                ballot: ballot(b, r),
                promised: ballot(promised, r),
            },
            Note::Adopted {
                ballot: b,
                value,
                from_ballot,
            } => Note::Adopted {
                ballot: ballot(b, r),
                value: value.clone(),
                from_ballot: ballot(from_ballot, r),
            },
            Note::Decided { ballot: b, value } => Note::Decided {
                ballot: ballot(b, r),
                value: value.clone(),
            },
            Note::Learned { ballot: b, value } => Note::Learned {
                ballot: ballot(b, r),
                value: value.clone(),
            },
        };
        (renamed != *event).then_some(renamed)
    }

    fn timer(&self, timer: &Timer, r: &Renaming) -> Option<Timer> {
        match timer {
            Timer::PhaseTimeout { ballot: b } if r.moves(b.proposer) => Some(Timer::PhaseTimeout {
                ballot: ballot(b, r),
            }),
            _ => None,
        }
    }
}
