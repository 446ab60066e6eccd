//! Unit tests of the Paxos cores, driven only through [`Node::step`].
//!
//! Every test builds one or more nodes, starts them with `Input::Start`, feeds inputs a
//! shell or another node would feed, and asserts on the emitted [`Output`]s: the
//! messages sent, the state persisted (and where in the output order), the timers set
//! and the notes recorded. No test reads a role's private fields.

use super::*;
use crate::ids::NodeId;

// ---------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------

fn n(id: u16) -> NodeId {
    NodeId(id)
}

fn b(round: u64, proposer: u16) -> Ballot {
    Ballot::new(round, n(proposer))
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn ids(list: &[u16]) -> Vec<NodeId> {
    list.iter().copied().map(n).collect()
}

fn members(acceptors: &[u16], learners: &[u16], proposers: &[u16]) -> Membership {
    Membership {
        acceptors: ids(acceptors),
        learners: ids(learners),
        proposers: ids(proposers),
    }
}

const ACCEPTOR: Roles = Roles {
    acceptor: true,
    proposer: false,
    learner: false,
};
const PROPOSER: Roles = Roles {
    acceptor: false,
    proposer: true,
    learner: false,
};
const LEARNER: Roles = Roles {
    acceptor: false,
    proposer: false,
    learner: true,
};

/// Feed one input and return everything the node emitted for it.
fn step(node: &mut Node, input: Input) -> Vec<Output> {
    let mut out = Vec::new();
    node.step(input, &mut out);
    out
}

fn recv(node: &mut Node, from: u16, msg: Msg) -> Vec<Output> {
    step(node, Input::Receive { from: n(from), msg })
}

/// A node built with `timing`, started with `recovered`; the start outputs are returned.
fn boot(
    id: u16,
    roles: Roles,
    m: Membership,
    timing: TimingConfig,
    recovered: Option<DurableState>,
) -> (Node, Vec<Output>) {
    let mut node = Node::new(n(id), roles, m, timing);
    let out = step(&mut node, Input::start(recovered));
    (node, out)
}

/// A freshly started node with default timing (start outputs discarded).
fn fresh(id: u16, roles: Roles, m: Membership) -> Node {
    boot(id, roles, m, TimingConfig::default(), None).0
}

fn sends(out: &[Output]) -> Vec<(NodeId, Msg)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn persists(out: &[Output]) -> Vec<DurableState> {
    out.iter()
        .filter_map(|o| match o {
            Output::Persist(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn notes(out: &[Output]) -> Vec<Note> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(note) => Some(note.clone()),
            _ => None,
        })
        .collect()
}

/// The ballots of the `Prepare`s in `out`, one per recipient.
fn prepares(out: &[Output]) -> Vec<Ballot> {
    sends(out)
        .into_iter()
        .filter_map(|(_, m)| match m {
            Msg::Prepare { ballot } => Some(ballot),
            _ => None,
        })
        .collect()
}

/// The `Accept`s in `out` as (recipient, ballot, value).
fn accepts(out: &[Output]) -> Vec<(NodeId, Ballot, Value)> {
    sends(out)
        .into_iter()
        .filter_map(|(to, m)| match m {
            Msg::Accept { ballot, value } => Some((to, ballot, value)),
            _ => None,
        })
        .collect()
}

fn learned(out: &[Output]) -> Option<Value> {
    notes(out).into_iter().find_map(|note| match note {
        Note::Learned { value, .. } => Some(value),
        _ => None,
    })
}

fn position(out: &[Output], pred: impl Fn(&Output) -> bool) -> Vec<usize> {
    out.iter()
        .enumerate()
        .filter(|(_, o)| pred(o))
        .map(|(i, _)| i)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Acceptor.
// ---------------------------------------------------------------------------------------

/// Goal: an acceptor never takes part in a ballot below its promise.
/// Method: acceptor n10 promises 5.2; a Prepare(3.1) from n1 must come back as
/// `Nack { ballot: 3.1, promised: 5.2 }` addressed to n1 with no Persist, and an
/// Accept(3.1) must also be nacked without persisting or changing the durable state.
#[test]
fn acceptor_nacks_lower_ballot_prepare_and_accept() {
    let mut a = fresh(10, ACCEPTOR, members(&[10, 11, 12], &[9], &[1, 2]));
    let out = recv(&mut a, 2, Msg::Prepare { ballot: b(5, 2) });
    assert_eq!(persists(&out).len(), 1, "a fresh promise is persisted");
    let promised_state = a.durable();

    let out = recv(&mut a, 1, Msg::Prepare { ballot: b(3, 1) });
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Nack {
                ballot: b(3, 1),
                promised: b(5, 2)
            }
        )]
    );
    assert!(persists(&out).is_empty(), "a refusal persists nothing");
    assert!(notes(&out).contains(&Note::Rejected {
        ballot: b(3, 1),
        promised: b(5, 2)
    }));

    let out = recv(
        &mut a,
        1,
        Msg::Accept {
            ballot: b(3, 1),
            value: v("low"),
        },
    );
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Nack {
                ballot: b(3, 1),
                promised: b(5, 2)
            }
        )]
    );
    assert!(persists(&out).is_empty());
    assert!(
        !notes(&out)
            .iter()
            .any(|note| matches!(note, Note::Accepted { .. })),
        "nothing was accepted"
    );
    assert_eq!(a.durable(), promised_state, "state unchanged by refusals");

    // A higher Prepare still sees no accepted value: the low Accept left no trace.
    let out = recv(&mut a, 1, Msg::Prepare { ballot: b(6, 1) });
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Promise {
                ballot: b(6, 1),
                accepted: None
            }
        )]
    );
}

/// Goal: nothing that reveals new acceptor state leaves before that state is persisted,
/// and re-answering a known ballot persists nothing.
/// Method: check output order for a fresh Prepare (Persist before the Promise send) and
/// an Accept (Persist before every Accepted send, to each learner and to the proposer);
/// then repeat the Prepare and the Accept and check they are answered without a Persist.
#[test]
fn acceptor_persists_before_replying() {
    let mut a = fresh(10, ACCEPTOR, members(&[10, 11, 12], &[8, 9], &[2]));

    let out = recv(&mut a, 2, Msg::Prepare { ballot: b(5, 2) });
    let persist_at = position(&out, |o| matches!(o, Output::Persist(_)));
    let promise_at = position(&out, |o| {
        matches!(
            o,
            Output::Send {
                msg: Msg::Promise { .. },
                ..
            }
        )
    });
    assert_eq!(persist_at.len(), 1);
    assert_eq!(promise_at.len(), 1);
    assert!(persist_at[0] < promise_at[0], "Persist first: {out:?}");
    let state = persists(&out).remove(0);
    assert_eq!(
        state.acceptor.clone().expect("acceptor state").promised,
        Some(b(5, 2))
    );

    // The same Prepare again (a duplicate): the Promise is re-sent, nothing persisted.
    let out = recv(&mut a, 2, Msg::Prepare { ballot: b(5, 2) });
    assert!(persists(&out).is_empty(), "{out:?}");
    assert_eq!(
        sends(&out),
        vec![(
            n(2),
            Msg::Promise {
                ballot: b(5, 2),
                accepted: None
            }
        )]
    );

    let accept = Msg::Accept {
        ballot: b(5, 2),
        value: v("V"),
    };
    let out = recv(&mut a, 2, accept.clone());
    let persist_at = position(&out, |o| matches!(o, Output::Persist(_)));
    let accepted_at = position(&out, |o| {
        matches!(
            o,
            Output::Send {
                msg: Msg::Accepted { .. },
                ..
            }
        )
    });
    assert_eq!(persist_at.len(), 1);
    assert_eq!(
        accepted_at.len(),
        3,
        "two learners and the proposer: {out:?}"
    );
    assert!(accepted_at.iter().all(|&i| i > persist_at[0]), "{out:?}");
    let mut to: Vec<NodeId> = sends(&out).into_iter().map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(to, ids(&[2, 8, 9]));
    let state = persists(&out)
        .remove(0)
        .acceptor
        .clone()
        .expect("acceptor state");
    assert_eq!(state.accepted, Some((b(5, 2), v("V"))));

    // A duplicate Accept re-announces the acceptance but has nothing new to persist.
    let out = recv(&mut a, 2, accept);
    assert!(persists(&out).is_empty(), "{out:?}");
    assert_eq!(sends(&out).len(), 3);
}

// ---------------------------------------------------------------------------------------
// Proposer.
// ---------------------------------------------------------------------------------------

/// A proposer-only node n1 over `acceptors`, restarted with round 4 and client value
/// "Mine", so its first ballot (emitted by Start) is 5.1. Returns the node and the
/// outputs of the start.
fn proposer_at_round_5(acceptors: &[u16]) -> (Node, Vec<Output>) {
    let recovered = DurableState::new(DurableParts {
        acceptor: None,
        proposer: Some(ProposerState {
            round: 4,
            value: Some(v("Mine")),
        }),
        learner: None,
    });
    let (p, out) = boot(
        1,
        PROPOSER,
        members(acceptors, &[9], &[1]),
        TimingConfig::default(),
        Some(recovered),
    );
    assert_eq!(prepares(&out), vec![b(5, 1); acceptors.len()]);
    (p, out)
}

/// Goal: phase 2 carries the value of the highest-ballot proposal any promiser accepted
/// (the rule that makes Paxos safe), and the proposer's own value only when none did.
/// Method: 3 acceptors, ballot 5.1. Promises reporting (2.2, "V2") and (4.3, "V4"), in
/// both arrival orders, make the Accept carry "V4" with `Note::Adopted`; a late promise
/// with nothing accepted changes nothing. With 5 acceptors the majority of three
/// promises (none, V2, V4) again picks "V4". Promises with nothing accepted lead to an
/// Accept of "Mine" and no `Adopted`.
#[test]
fn proposer_adopts_highest_accepted_value() {
    let v2 = Some((b(2, 2), v("V2")));
    let v4 = Some((b(4, 3), v("V4")));
    for order in [[v2.clone(), v4.clone()], [v4.clone(), v2.clone()]] {
        let (mut p, _) = proposer_at_round_5(&[2, 3, 4]);
        let out = recv(
            &mut p,
            2,
            Msg::Promise {
                ballot: b(5, 1),
                accepted: order[0].clone(),
            },
        );
        assert!(
            accepts(&out).is_empty(),
            "one promise of three is no majority"
        );
        let out = recv(
            &mut p,
            3,
            Msg::Promise {
                ballot: b(5, 1),
                accepted: order[1].clone(),
            },
        );
        let acc = accepts(&out);
        assert_eq!(acc.len(), 3, "Accept to every acceptor: {out:?}");
        assert!(acc
            .iter()
            .all(|(_, bal, val)| *bal == b(5, 1) && *val == v("V4")));
        assert!(notes(&out).contains(&Note::Adopted {
            ballot: b(5, 1),
            value: v("V4"),
            from_ballot: b(4, 3),
        }));
        let late = recv(
            &mut p,
            4,
            Msg::Promise {
                ballot: b(5, 1),
                accepted: None,
            },
        );
        assert!(late.is_empty(), "a promise after phase 1 ended: {late:?}");
    }

    // Five acceptors: the majority is the three promises none, V2, V4.
    let (mut p, _) = proposer_at_round_5(&[2, 3, 4, 5, 6]);
    for (from, accepted) in [(2, None), (3, v2), (4, v4)] {
        let out = recv(
            &mut p,
            from,
            Msg::Promise {
                ballot: b(5, 1),
                accepted,
            },
        );
        if from < 4 {
            assert!(accepts(&out).is_empty());
        } else {
            let acc = accepts(&out);
            assert_eq!(acc.len(), 5);
            assert!(acc.iter().all(|(_, _, val)| *val == v("V4")));
        }
    }

    // Nothing accepted anywhere: the proposer's own value, nothing adopted.
    let (mut p, _) = proposer_at_round_5(&[2, 3, 4]);
    recv(
        &mut p,
        2,
        Msg::Promise {
            ballot: b(5, 1),
            accepted: None,
        },
    );
    let out = recv(
        &mut p,
        4,
        Msg::Promise {
            ballot: b(5, 1),
            accepted: None,
        },
    );
    let acc = accepts(&out);
    assert_eq!(acc.len(), 3);
    assert!(acc.iter().all(|(_, _, val)| *val == v("Mine")));
    assert!(!notes(&out)
        .iter()
        .any(|note| matches!(note, Note::Adopted { .. })));
}

/// Goal: phase 2 needs promises from a majority of distinct acceptors.
/// Method: with 4 acceptors (majority 3), two promises and a duplicate of one of them
/// produce no Accept; a third distinct acceptor's promise does. With 3 acceptors, the
/// same acceptor promising twice is still one promise. A promise for another ballot
/// does not count either.
#[test]
fn proposer_needs_majority_of_distinct_promises() {
    let mut p = fresh(1, PROPOSER, members(&[2, 3, 4, 5], &[9], &[1]));
    let out = step(&mut p, Input::ClientRequest { value: v("Mine") });
    assert_eq!(prepares(&out), vec![b(1, 1); 4]);
    let promise = |ballot| Msg::Promise {
        ballot,
        accepted: None,
    };

    assert!(recv(&mut p, 2, promise(b(1, 1))).is_empty());
    assert!(recv(&mut p, 3, promise(b(1, 1))).is_empty());
    assert!(
        recv(&mut p, 3, promise(b(1, 1))).is_empty(),
        "a duplicate promise counted twice"
    );
    assert!(
        recv(&mut p, 4, promise(b(7, 2))).is_empty(),
        "a promise for another ballot counted"
    );
    let out = recv(&mut p, 4, promise(b(1, 1)));
    assert_eq!(
        accepts(&out).len(),
        4,
        "three of four is a majority: {out:?}"
    );

    let mut p = fresh(1, PROPOSER, members(&[2, 3, 4], &[9], &[1]));
    step(&mut p, Input::ClientRequest { value: v("Mine") });
    assert!(recv(&mut p, 2, promise(b(1, 1))).is_empty());
    assert!(recv(&mut p, 2, promise(b(1, 1))).is_empty());
    assert_eq!(accepts(&recv(&mut p, 3, promise(b(1, 1)))).len(), 3);
}

/// Goal: a restarted proposer never reuses a ballot it may already have sent.
/// Method: the round a proposer uses is in the Persist that precedes its Prepares; a
/// fresh node started with that state prepares a higher round. Also: a proposer
/// recovered at round 41 without a client value stays quiet at start, and its first
/// ballot after a client request is 42.
#[test]
fn restarted_proposer_never_reuses_a_ballot() {
    let m = members(&[2, 3, 4], &[9], &[1]);
    let mut p = fresh(1, PROPOSER, m.clone());
    let out = step(&mut p, Input::ClientRequest { value: v("Mine") });
    let state = persists(&out).pop().expect("the new round is persisted");
    let round = state.proposer.as_ref().expect("proposer state").round;
    assert_eq!(prepares(&out), vec![b(round, 1); 3]);
    let persist_at = position(&out, |o| matches!(o, Output::Persist(_)));
    let first_send = position(&out, |o| matches!(o, Output::Send { .. }));
    assert!(persist_at[0] < first_send[0]);

    let (_, out) = boot(1, PROPOSER, m.clone(), TimingConfig::default(), Some(state));
    let after = prepares(&out);
    assert_eq!(after.len(), 3, "a recovered client value is proposed again");
    assert!(after.iter().all(|bal| bal.round > round), "{after:?}");
    let again = persists(&out)
        .pop()
        .expect("the restart round is persisted");
    assert_eq!(
        again.proposer.clone().expect("proposer state").round,
        after[0].round
    );

    let idle = DurableState::new(DurableParts {
        acceptor: None,
        proposer: Some(ProposerState {
            round: 41,
            value: None,
        }),
        learner: None,
    });
    let (mut p, out) = boot(1, PROPOSER, m, TimingConfig::default(), Some(idle));
    assert!(
        sends(&out).is_empty(),
        "no client value, no ballot: {out:?}"
    );
    let out = step(&mut p, Input::ClientRequest { value: v("Mine") });
    assert_eq!(prepares(&out), vec![b(42, 1); 3]);
}

/// Goal: a nacked proposer backs off for the configured random range and then jumps
/// past the round that beat it.
/// Method: timing with a distinctive backoff range 7..=33 ms. After a Nack for 1.1
/// carrying promise 5.2 the proposer sets `Timer::Retry` with that range and notes
/// `BackingOff { next_round: 6 }`; when Retry fires its Prepares use round 6 > 5, and a
/// second Nack for the now abandoned ballot 1.1 is ignored.
#[test]
fn nacked_proposer_backs_off_then_jumps_past_promise() {
    let timing = TimingConfig {
        backoff_ms_min: 7,
        backoff_ms_max: 33,
        ..TimingConfig::default()
    };
    let (mut p, _) = boot(1, PROPOSER, members(&[2, 3, 4], &[9], &[1]), timing, None);
    let out = step(&mut p, Input::ClientRequest { value: v("Mine") });
    assert_eq!(prepares(&out), vec![b(1, 1); 3]);

    let out = recv(
        &mut p,
        2,
        Msg::Nack {
            ballot: b(1, 1),
            promised: b(5, 2),
        },
    );
    assert!(out.contains(&Output::SetTimer {
        timer: Timer::Retry,
        delay_ms_min: 7,
        delay_ms_max: 33,
    }));
    assert!(notes(&out).contains(&Note::BackingOff { next_round: 6 }));
    assert!(
        sends(&out).is_empty(),
        "no new ballot before the backoff ends"
    );

    let out = recv(
        &mut p,
        3,
        Msg::Nack {
            ballot: b(1, 1),
            promised: b(5, 2),
        },
    );
    assert!(
        out.is_empty(),
        "second nack of an abandoned ballot: {out:?}"
    );

    let out = step(
        &mut p,
        Input::TimerFired {
            timer: Timer::Retry,
        },
    );
    let next = prepares(&out);
    assert_eq!(next.len(), 3);
    assert!(next.iter().all(|bal| bal.round > 5), "{next:?}");
    assert_eq!(next[0], b(6, 1));
}

/// Goal: timers that fire after they stopped mattering are ignored.
/// Method: ballot 1.1 is nacked (backoff), so its PhaseTimeout is stale both while
/// backing off and after the retry started ballot 6.1: it emits nothing. A Retry that
/// fires while the proposer is not backing off emits nothing. After 6.1 is decided, its
/// own PhaseTimeout emits nothing too.
#[test]
fn stale_timers_are_ignored() {
    let mut p = fresh(1, PROPOSER, members(&[2, 3, 4], &[9], &[1]));
    step(&mut p, Input::ClientRequest { value: v("Mine") });
    recv(
        &mut p,
        2,
        Msg::Nack {
            ballot: b(1, 1),
            promised: b(5, 2),
        },
    );
    let stale = Input::TimerFired {
        timer: Timer::PhaseTimeout { ballot: b(1, 1) },
    };
    assert!(step(&mut p, stale.clone()).is_empty(), "during backoff");

    let out = step(
        &mut p,
        Input::TimerFired {
            timer: Timer::Retry,
        },
    );
    assert_eq!(prepares(&out)[0], b(6, 1));
    assert!(
        step(&mut p, stale).is_empty(),
        "after the next ballot began"
    );
    assert!(
        step(
            &mut p,
            Input::TimerFired {
                timer: Timer::Retry
            }
        )
        .is_empty(),
        "a Retry while not backing off"
    );

    for from in [2, 3] {
        recv(
            &mut p,
            from,
            Msg::Promise {
                ballot: b(6, 1),
                accepted: None,
            },
        );
    }
    let mut decided = Vec::new();
    for from in [2, 3] {
        decided.extend(recv(
            &mut p,
            from,
            Msg::Accepted {
                ballot: b(6, 1),
                value: v("Mine"),
            },
        ));
    }
    assert!(notes(&decided).contains(&Note::Decided {
        ballot: b(6, 1),
        value: v("Mine")
    }));
    let out = step(
        &mut p,
        Input::TimerFired {
            timer: Timer::PhaseTimeout { ballot: b(6, 1) },
        },
    );
    assert!(out.is_empty(), "timeout of a decided ballot: {out:?}");
}

// ---------------------------------------------------------------------------------------
// Learner.
// ---------------------------------------------------------------------------------------

/// Goal: a learner learns only from a majority of distinct acceptors reporting the same
/// ballot.
/// Method: learner n9 with 3 acceptors. A duplicated Accepted from n1 is not a
/// majority; one from n2 is, and the learned value is persisted before the note.
/// Separately: Accepted from non-acceptors n7 and n8 plus one acceptor is not a
/// majority, and acceptances of the same value at 1.5 and 2.5 do not combine.
#[test]
fn learner_counts_distinct_acceptors_at_one_ballot() {
    let m = members(&[1, 2, 3], &[9], &[5]);
    let accepted = |round| Msg::Accepted {
        ballot: b(round, 5),
        value: v("V"),
    };

    let mut l = fresh(9, LEARNER, m.clone());
    assert_eq!(learned(&recv(&mut l, 1, accepted(1))), None);
    assert_eq!(learned(&recv(&mut l, 1, accepted(1))), None, "duplicate");
    let out = recv(&mut l, 2, accepted(1));
    assert_eq!(learned(&out), Some(v("V")));
    assert!(matches!(out[0], Output::Persist(_)), "{out:?}");
    assert_eq!(l.learned(), Some(&v("V")));
    assert!(
        recv(&mut l, 3, accepted(1)).is_empty(),
        "after learning, nothing more happens"
    );

    let mut l = fresh(9, LEARNER, m.clone());
    assert!(recv(&mut l, 7, accepted(1)).is_empty(), "n7 is no acceptor");
    assert!(recv(&mut l, 8, accepted(1)).is_empty(), "n8 is no acceptor");
    assert_eq!(learned(&recv(&mut l, 1, accepted(1))), None);
    assert_eq!(l.learned(), None);

    let mut l = fresh(9, LEARNER, m);
    assert_eq!(learned(&recv(&mut l, 1, accepted(1))), None);
    assert_eq!(
        learned(&recv(&mut l, 2, accepted(2))),
        None,
        "different ballots combined"
    );
    assert_eq!(learned(&recv(&mut l, 3, accepted(2))), Some(v("V")));
}

// ---------------------------------------------------------------------------------------
// Recovery and co-located roles.
// ---------------------------------------------------------------------------------------

/// Goal: what an acceptor persisted is what it obeys after a restart.
/// Method: acceptor n10 promises 5.2 and accepts "V" at 5.2; the last Persist is handed
/// to a brand-new node as `recovered`. The new node nacks Prepare(3.1) and Accept(4.1)
/// with promise 5.2, and answers Prepare(7.1) with a Promise reporting (5.2, "V").
#[test]
fn recovery_restores_promise_and_acceptance() {
    let m = members(&[10, 11, 12], &[9], &[1, 2]);
    let mut a = fresh(10, ACCEPTOR, m.clone());
    let out = recv(&mut a, 2, Msg::Prepare { ballot: b(5, 2) });
    let promised_only = persists(&out).pop().expect("promise persisted");
    let out = recv(
        &mut a,
        2,
        Msg::Accept {
            ballot: b(5, 2),
            value: v("V"),
        },
    );
    let state = persists(&out).pop().expect("acceptance persisted");

    // Restart right after the promise: the promise holds.
    let (mut r, _) = boot(
        10,
        ACCEPTOR,
        m.clone(),
        TimingConfig::default(),
        Some(promised_only),
    );
    let out = recv(&mut r, 1, Msg::Prepare { ballot: b(3, 1) });
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Nack {
                ballot: b(3, 1),
                promised: b(5, 2)
            }
        )]
    );

    // Restart after the acceptance: the promise and the accepted value hold.
    let (mut r, _) = boot(10, ACCEPTOR, m, TimingConfig::default(), Some(state));
    let nack = Msg::Nack {
        ballot: b(3, 1),
        promised: b(5, 2),
    };
    assert_eq!(
        sends(&recv(&mut r, 1, Msg::Prepare { ballot: b(3, 1) })),
        vec![(n(1), nack)]
    );
    let out = recv(
        &mut r,
        1,
        Msg::Accept {
            ballot: b(4, 1),
            value: v("W"),
        },
    );
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Nack {
                ballot: b(4, 1),
                promised: b(5, 2)
            }
        )]
    );
    let out = recv(&mut r, 1, Msg::Prepare { ballot: b(7, 1) });
    assert_eq!(
        sends(&out),
        vec![(
            n(1),
            Msg::Promise {
                ballot: b(7, 1),
                accepted: Some((b(5, 2), v("V")))
            }
        )]
    );
}

/// Goal: a client request that comes again (a client re-sending to a restarted node)
/// is answered with the decision when this life already reached one, and is not a
/// second proposal. Method: a lone node (its own only acceptor) restarts from the disk
/// of a decided run; its start re-runs the saved round and decides at once, so the
/// re-sent request comes after the decision: it must be answered with the same
/// `Decided` and start no ballot. The same request to a proposer still mid-ballot
/// (three acceptors) is answered by nothing yet (the decision to come answers it).
/// Found by a guided campaign (a liveness false alarm on correct Paxos).
#[test]
fn a_repeated_client_request_is_answered_with_the_decision() {
    let all = Roles {
        acceptor: true,
        proposer: true,
        learner: true,
    };
    let mut lone = fresh(1, all, members(&[1], &[1], &[1]));
    let out = step(&mut lone, Input::ClientRequest { value: v("Solo") });
    let disk = persists(&out).pop().expect("the decision was persisted");
    let (mut restarted, start) = boot(
        1,
        all,
        members(&[1], &[1], &[1]),
        TimingConfig::default(),
        Some(disk),
    );
    let decided_at = notes(&start)
        .into_iter()
        .find_map(|n| match n {
            Note::Decided { ballot, value } => Some((ballot, value)),
            _ => None,
        })
        .expect("the restart re-runs its saved round and decides");
    let again = step(&mut restarted, Input::ClientRequest { value: v("Solo") });
    assert_eq!(
        notes(&again),
        vec![Note::Decided {
            ballot: decided_at.0,
            value: decided_at.1
        }],
        "{again:?}"
    );
    assert!(
        persists(&again).is_empty() && sends(&again).is_empty(),
        "{again:?}"
    );

    let mut busy = fresh(1, all, members(&[1, 2, 3], &[1, 2, 3], &[1]));
    step(&mut busy, Input::ClientRequest { value: v("Mine") });
    let again = step(&mut busy, Input::ClientRequest { value: v("Mine") });
    assert!(
        again.is_empty(),
        "mid-ballot, a repeated request changes nothing: {again:?}"
    );
}

/// Goal: a node's messages to itself are delivered inside the same step and never go
/// to the network.
/// Method: (a) a lone node n1 that is acceptor, proposer and learner of a 1-acceptor
/// cluster learns its client's value within the single ClientRequest step, persists
/// once ahead of everything, and sends nothing at all. (b) In a 3-acceptor cluster, n1
/// as acceptor+learner accepts an Accept from n2: its own Accepted counts for its
/// learner, no Send to n1 is emitted, and one more Accepted (from n3) makes it learn.
/// (c) n1 as acceptor+proposer+learner of 3 acceptors sends its Prepare only to n2 and
/// n3, having promised itself in the same step.
#[test]
fn self_addressed_messages_are_delivered_within_the_step() {
    let all = Roles {
        acceptor: true,
        proposer: true,
        learner: true,
    };
    let mut lone = fresh(1, all, members(&[1], &[1], &[1]));
    let out = step(&mut lone, Input::ClientRequest { value: v("Solo") });
    assert_eq!(learned(&out), Some(v("Solo")), "{out:?}");
    assert!(sends(&out).is_empty(), "nothing to send: {out:?}");
    assert!(notes(&out).contains(&Note::Decided {
        ballot: b(1, 1),
        value: v("Solo")
    }));
    assert_eq!(persists(&out).len(), 1);
    assert!(matches!(out[0], Output::Persist(_)));
    assert_eq!(lone.learned(), Some(&v("Solo")));

    let acc_learner = Roles {
        acceptor: true,
        proposer: false,
        learner: true,
    };
    let mut al = fresh(1, acc_learner, members(&[1, 2, 3], &[1, 9], &[2]));
    let out = recv(
        &mut al,
        2,
        Msg::Accept {
            ballot: b(1, 2),
            value: v("V"),
        },
    );
    assert!(sends(&out).iter().all(|(to, _)| *to != n(1)), "{out:?}");
    let mut to: Vec<NodeId> = sends(&out).into_iter().map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(to, ids(&[2, 9]));
    assert_eq!(learned(&out), None, "one of three is no majority");
    let out = recv(
        &mut al,
        3,
        Msg::Accepted {
            ballot: b(1, 2),
            value: v("V"),
        },
    );
    assert_eq!(
        learned(&out),
        Some(v("V")),
        "own acceptance + n3 is a majority"
    );

    let mut trio = fresh(1, all, members(&[1, 2, 3], &[1, 2, 3], &[1]));
    let out = step(&mut trio, Input::ClientRequest { value: v("Mine") });
    let to: Vec<NodeId> = sends(&out).into_iter().map(|(to, _)| to).collect();
    assert_eq!(to, ids(&[2, 3]), "{out:?}");
    assert!(notes(&out).contains(&Note::Promised { ballot: b(1, 1) }));
    // One promise from n2 completes the majority with n1's own promise; the Accept to
    // n1 is again delivered inside the step.
    let out = recv(
        &mut trio,
        2,
        Msg::Promise {
            ballot: b(1, 1),
            accepted: None,
        },
    );
    let acc = accepts(&out);
    assert_eq!(
        acc.iter().map(|(to, _, _)| *to).collect::<Vec<_>>(),
        ids(&[2, 3])
    );
    assert!(notes(&out).contains(&Note::Accepted {
        ballot: b(1, 1),
        value: v("Mine")
    }));
    assert!(sends(&out).iter().all(|(to, _)| *to != n(1)));
}

// ---------------------------------------------------------------------------------------
// Regressions: each pins a bug these tests found in the core (fixed in 658d37c, "Core
// fixes found by the new core-rule tests").
// ---------------------------------------------------------------------------------------

/// Goal: only acceptors' promises count toward the phase-1 majority, as only
/// acceptors' `Accepted` reports count in phase 2 (`Node` filters those by membership).
/// Method: proposer n1 over acceptors n2..n4 gets a promise from n2 and one from n7,
/// which is no acceptor; it must not start phase 2. The bug: `Msg::Promise` (and
/// `Msg::Nack`) reached the proposer without the membership check `Msg::Accepted`
/// gets, so a forged promise could complete a quorum. Not reachable with honest nodes
/// (only acceptors send promises), so it was a hardening gap.
#[test]
fn promise_from_non_acceptor_does_not_count() {
    let mut p = fresh(1, PROPOSER, members(&[2, 3, 4], &[9], &[1]));
    step(&mut p, Input::ClientRequest { value: v("Mine") });
    let promise = Msg::Promise {
        ballot: b(1, 1),
        accepted: None,
    };
    assert!(recv(&mut p, 2, promise.clone()).is_empty());
    let out = recv(&mut p, 7, promise);
    assert!(accepts(&out).is_empty(), "n7 completed a majority: {out:?}");
}

/// Goal: a proposer that saw its value chosen keeps answering nudges, whatever
/// `attempts_max` says, so a learner that lost its acceptances still learns.
/// Method: `attempts_max: Some(2)`. Ballot 1.1 is decided; a nudge re-drives it as
/// ballot 2.1, which is decided too; the next nudge must start ballot 3.1. The bug:
/// the attempt counter was never reset on a decision, so that nudge emitted `GaveUp`
/// and dropped the proposer to idle, after which it ignored every nudge: with
/// `attempts_max` set, a learner that missed the acceptances could starve.
#[test]
fn decided_proposer_keeps_answering_nudges() {
    let timing = TimingConfig {
        attempts_max: Some(2),
        ..TimingConfig::default()
    };
    let (mut p, _) = boot(1, PROPOSER, members(&[2, 3, 4], &[9], &[1]), timing, None);
    step(&mut p, Input::ClientRequest { value: v("Mine") });
    for round in 1..=2 {
        for from in [2, 3] {
            recv(
                &mut p,
                from,
                Msg::Promise {
                    ballot: b(round, 1),
                    accepted: None,
                },
            );
        }
        let mut out = Vec::new();
        for from in [2, 3] {
            out.extend(recv(
                &mut p,
                from,
                Msg::Accepted {
                    ballot: b(round, 1),
                    value: v("Mine"),
                },
            ));
        }
        assert!(notes(&out).contains(&Note::Decided {
            ballot: b(round, 1),
            value: v("Mine")
        }));
        let out = recv(&mut p, 9, Msg::Nudge);
        assert_eq!(prepares(&out), vec![b(round + 1, 1); 3], "{out:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Counters at their limits.
// ---------------------------------------------------------------------------------------

/// Goal: a ballot round no proposer could step past is refused, never wrapped.
/// Method: an acceptor handed (in process, past the codec) a Prepare and an Accept at
/// round `u64::MAX` emits nothing: no promise, no persist. The bug: one forged Prepare
/// at `u64::MAX` was promised and persisted, and every proposer's `round + 1` then
/// wrapped to 0 (or panicked in a debug build), so the cluster never chose again.
#[test]
fn acceptor_ignores_a_round_it_could_never_be_stepped_past() {
    let mut a = fresh(10, ACCEPTOR, members(&[10, 11, 12], &[9], &[1, 2]));
    let top = b(u64::MAX, 2);
    assert!(recv(&mut a, 2, Msg::Prepare { ballot: top }).is_empty());
    let accept = Msg::Accept {
        ballot: top,
        value: v("Forged"),
    };
    assert!(recv(&mut a, 2, accept).is_empty());
    // The highest valid round is still promised.
    let out = recv(
        &mut a,
        2,
        Msg::Prepare {
            ballot: b(Ballot::ROUND_MAX, 2),
        },
    );
    assert_eq!(persists(&out).len(), 1, "{out:?}");
}

/// Goal: a proposer whose rounds are spent gives up instead of wrapping to round 0.
/// Method: a proposer at ballot 1.1 is nacked with a promise at `Ballot::ROUND_MAX`
/// (the highest round an acceptor may hold): it notes `GaveUp` and sets no retry,
/// rather than noting `BackingOff { next_round: 0 }`; a restart with a recovered round
/// of `ROUND_MAX` likewise gives up at once and sends no prepare.
#[test]
fn proposer_out_of_rounds_gives_up_without_wrapping() {
    let (mut p, _) = boot(
        1,
        PROPOSER,
        members(&[2, 3, 4], &[9], &[1]),
        TimingConfig::default(),
        None,
    );
    step(&mut p, Input::ClientRequest { value: v("Mine") });
    let out = recv(
        &mut p,
        2,
        Msg::Nack {
            ballot: b(1, 1),
            promised: b(Ballot::ROUND_MAX, 3),
        },
    );
    assert_eq!(notes(&out), vec![Note::GaveUp { attempts: 1 }], "{out:?}");
    assert!(
        !out.iter().any(|o| matches!(o, Output::SetTimer { .. })),
        "{out:?}"
    );

    let spent = DurableState::new(DurableParts {
        acceptor: None,
        proposer: Some(ProposerState {
            round: Ballot::ROUND_MAX,
            value: Some(v("Mine")),
        }),
        learner: None,
    });
    let (_, out) = boot(
        1,
        PROPOSER,
        members(&[2, 3, 4], &[9], &[1]),
        TimingConfig::default(),
        Some(spent),
    );
    assert!(prepares(&out).is_empty(), "{out:?}");
    assert_eq!(notes(&out), vec![Note::GaveUp { attempts: 0 }]);
}

// ---------------------------------------------------------------------------------------
// Learner catch-up.
// ---------------------------------------------------------------------------------------

/// Goal: a learner that missed the decision learns it from the acceptors alone, with
/// no new ballot (in real mode the proposers may be gone).
/// Method: with `learner_asks_acceptors` (what `init-cluster` writes), learner n9
/// polls: its nudge goes to proposer n1 and to acceptors n2..n4.
/// Acceptors n2 and n3 accepted 3.1:"V" and n4 nothing; each answers the nudge with
/// what it accepted (n4 stays silent) and persists nothing. Fed those answers, the
/// learner learns "V". Before, the poll nudged only the proposers, and a learner whose
/// proposers had exited never learned.
#[test]
fn learner_catches_up_from_the_acceptors() {
    let m = members(&[2, 3, 4], &[9], &[1]);
    let timing = TimingConfig {
        learner_asks_acceptors: true,
        ..TimingConfig::default()
    };
    let mut l = boot(9, LEARNER, m.clone(), timing.clone(), None).0;
    let out = step(
        &mut l,
        Input::TimerFired {
            timer: Timer::LearnerPoll,
        },
    );
    let nudged: Vec<NodeId> = sends(&out)
        .into_iter()
        .filter(|(_, msg)| *msg == Msg::Nudge)
        .map(|(to, _)| to)
        .collect();
    assert_eq!(nudged, ids(&[1, 2, 3, 4]));

    let accepted = |id: u16, what: Option<(Ballot, Value)>| {
        let state = DurableState::new(DurableParts {
            acceptor: Some(AcceptorState {
                promised: what.as_ref().map(|(b, _)| *b),
                accepted: what,
            }),
            proposer: None,
            learner: None,
        });
        boot(id, ACCEPTOR, m.clone(), timing.clone(), Some(state)).0
    };
    let chosen = Some((b(3, 1), v("V")));
    let mut answers = Vec::new();
    for (id, what) in [(2, chosen.clone()), (3, chosen.clone()), (4, None)] {
        let mut a = accepted(id, what.clone());
        let out = recv(&mut a, 9, Msg::Nudge);
        assert!(persists(&out).is_empty(), "a nudge changes nothing durable");
        match what {
            Some((ballot, value)) => {
                assert_eq!(sends(&out), vec![(n(9), Msg::Accepted { ballot, value })]);
                answers.push((id, sends(&out).remove(0).1));
            }
            None => assert!(out.is_empty(), "{out:?}"),
        }
    }
    let mut learned_value = None;
    for (from, msg) in answers {
        learned_value = learned_value.or(learned(&recv(&mut l, from, msg)));
    }
    assert_eq!(learned_value, Some(v("V")));

    // Off (the simulation's default), the poll nudges only the proposers and an
    // acceptor answers no nudge: simulated traces are what they were.
    let mut l = fresh(9, LEARNER, m.clone());
    let out = step(
        &mut l,
        Input::TimerFired {
            timer: Timer::LearnerPoll,
        },
    );
    assert_eq!(sends(&out), vec![(n(1), Msg::Nudge)]);
    let state = DurableState::new(DurableParts {
        acceptor: Some(AcceptorState {
            promised: Some(b(3, 1)),
            accepted: chosen,
        }),
        proposer: None,
        learner: None,
    });
    let (mut a, _) = boot(2, ACCEPTOR, m, TimingConfig::default(), Some(state));
    assert!(recv(&mut a, 9, Msg::Nudge).is_empty());
}
