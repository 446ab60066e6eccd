//! Unit tests of the symmetry reduction: renamed states share a key and others do
//! not, the groups follow the scope, and reduced and full searches agree on every
//! verdict of the Paxos catalog.

use super::machine::Model;
use super::*;
use crate::fault::ScriptStep;
use crate::protocol::prepare;
use crate::protocols::paxos::{Paxos, PaxosParams};

fn setup(servers: u16, clients: u16, learners: Option<usize>, bugs: &[&str]) -> RunSetup<Paxos> {
    let mut scenario = scope_scenario(
        &Paxos,
        servers,
        clients,
        bugs.iter().map(|b| b.to_string()).collect(),
    );
    if let Some(n) = learners {
        let mut params: PaxosParams = serde_json::from_value(scenario.params.clone()).unwrap();
        params.learners.truncate(n);
        scenario.params = serde_json::to_value(&params).unwrap();
    }
    prepare(&Paxos, &scenario).expect("a valid scope")
}

fn deliver(from: u16, to: u16, msg_id: u64) -> ScriptStep {
    ScriptStep::Deliver {
        from: NodeId(from),
        to: NodeId(to),
        msg_id,
    }
}

/// In 3 acceptors (n1 also learns), 2 proposers: n4's prepare delivered to n2 and the
/// same prepare delivered to n3 reach states that differ (their fingerprints do) only
/// by swapping n2 and n3, so they share a key; delivered to n1 (the learner, no
/// renaming of the others reaches it) the key differs. Without symmetry the key is the
/// fingerprint. The reduction can fail both ways, and this sees either.
#[test]
fn renamed_states_share_a_key_and_others_do_not() {
    let setup = setup(3, 2, Some(1), &[]);
    let model = Model::new(&Paxos, &setup).with_symmetry(&[], &[]).unwrap();
    assert_eq!(
        model.symmetry_groups(),
        &[vec![NodeId(2), NodeId(3)]],
        "n2 and n3 accept only; n1 also learns; n4 and n5 propose"
    );
    let plain = Model::new(&Paxos, &setup);
    let mut events = Vec::new();
    let after = |steps: &[ScriptStep]| {
        let mut events = Vec::new();
        let mut state = model.initial(&mut events).unwrap();
        for step in steps {
            assert!(
                model.apply(&mut state, step, &mut events).unwrap(),
                "{step}"
            );
        }
        state
    };
    let request = ScriptStep::ClientRequest { node: NodeId(4) };
    let to_n2 = after(&[request.clone(), deliver(4, 2, 2)]);
    let to_n3 = after(&[request.clone(), deliver(4, 3, 3)]);
    let to_n1 = after(&[request.clone(), deliver(4, 1, 1)]);
    assert_ne!(to_n2.fingerprint(), to_n3.fingerprint());
    assert_eq!(model.key(&to_n2), model.key(&to_n3));
    assert_ne!(model.key(&to_n2), model.key(&to_n1));
    // Deeper: n2 and n3 both promise, then the promise of one reaches n4 (so n4's
    // promise map names it): n2's promise or n3's are renamings of each other.
    let both = [request, deliver(4, 2, 2), deliver(4, 3, 3)];
    let via_n2 = after(&[&both[..], &[deliver(2, 4, 1)]].concat());
    let via_n3 = after(&[&both[..], &[deliver(3, 4, 1)]].concat());
    assert_ne!(via_n2.fingerprint(), via_n3.fingerprint());
    assert_eq!(model.key(&via_n2), model.key(&via_n3));
    let initial = plain.initial(&mut events).unwrap();
    assert_eq!(plain.key(&initial), initial.fingerprint());
}

/// The groups follow what the scope treats differently: a crash or timer bound on n2
/// alone splits n2 from n3; on both keeps them; a bug under which Paxos breaks a tie
/// by acceptor id (`ballots_not_unique`) gets no symmetry at all.
#[test]
fn groups_follow_the_scope() {
    let groups = |setup: &RunSetup<Paxos>, crash: &[NodeId], timer: &[NodeId]| {
        Model::new(&Paxos, setup)
            .with_symmetry(crash, timer)
            .unwrap()
            .symmetry_groups()
            .to_vec()
    };
    let one_learner = setup(3, 2, Some(1), &[]);
    let (n2, n3) = (NodeId(2), NodeId(3));
    assert_eq!(groups(&one_learner, &[], &[]), vec![vec![n2, n3]]);
    assert!(groups(&one_learner, &[n2], &[]).is_empty());
    assert!(groups(&one_learner, &[], &[n3]).is_empty());
    assert_eq!(
        groups(&one_learner, &[n2, n3], &[n2, n3]),
        vec![vec![n2, n3]]
    );
    let all_learn = setup(3, 1, None, &[]);
    assert_eq!(
        groups(&all_learn, &[NodeId(1)], &[]),
        vec![vec![n2, n3]],
        "n1 may crash, n2 and n3 may not"
    );
    assert!(groups(&setup(3, 2, Some(1), &["ballots_not_unique"]), &[], &[]).is_empty());
}

/// Soundness on the catalog: breadth-first search with and without symmetry reach
/// the same verdict (clean in both, or the same property broken by a path of the same,
/// shortest, length) for correct Paxos and the planted bugs, in four small scopes:
/// the default cluster (three interchangeable acceptor-learners) with a drop and a
/// timer firing, liveness on, every bug of the catalog; the same with a crash and a
/// duplicate, the bugs of crashes and duplicates; 3 acceptors, 2 proposers and
/// learner n1 (n2 and n3 interchangeable) to depth 12, where the quorum bugs show; and
/// to depth 14, where three bugs of the acceptor and proposer show. The reduced search
/// never visits more states, and visits fewer wherever the scope keeps a group. (Kept
/// to about half a minute: a clean scope costs both searches in full.)
#[test]
fn symmetry_keeps_every_verdict() {
    let catalog: Vec<&str> = Paxos.bugs().iter().map(|b| b.name).collect();
    let crash_and_duplicate = [
        "acceptor_skips_fsync",
        "acceptor_forgets_promise",
        "acceptor_forgets_accepted",
        "learner_counts_duplicates",
    ];
    let quorum_and_retry = [
        "proposer_quorum_one_short",
        "learner_quorum_one_short",
        "learner_mixes_ballots",
        "proposer_ignores_nacks",
    ];
    let fourteen_steps = [
        "acceptor_accepts_below_promise",
        "acceptor_promises_equal_round",
        "proposer_ignores_accepted_value",
    ];
    // (name, (servers, clients, learners kept), bounds, the bugs run there)
    type Scope<'a> = (&'a str, (u16, u16, Option<usize>), Bounds, &'a [&'a str]);
    let scopes: [Scope; 4] = [
        (
            "3+1, a drop, a timer",
            (3, 1, None),
            Bounds {
                drops: 1,
                timeouts: 1,
                depth: 10,
                ..Bounds::default()
            },
            &catalog,
        ),
        (
            "3+1, a crash, a duplicate",
            (3, 1, None),
            Bounds {
                crashes: 1,
                duplicates: 1,
                depth: 10,
                liveness: false,
                ..Bounds::default()
            },
            &crash_and_duplicate,
        ),
        (
            "3+2 learner n1, depth 12",
            (3, 2, Some(1)),
            Bounds {
                depth: 12,
                liveness: false,
                ..Bounds::default()
            },
            &quorum_and_retry,
        ),
        (
            "3+2 learner n1, depth 14",
            (3, 2, Some(1)),
            Bounds {
                depth: 14,
                liveness: false,
                ..Bounds::default()
            },
            &fourteen_steps,
        ),
    ];
    let (mut found, mut reduced_total, mut full_total) = (0, 0, 0);
    for (name, (servers, clients, learners), bounds, bugs) in &scopes {
        let configs = std::iter::once(None).chain(bugs.iter().map(|b| Some(*b)));
        for bug in configs {
            let setup = setup(*servers, *clients, *learners, bug.as_slice());
            let full_bounds = Bounds {
                symmetry: false,
                ..bounds.clone()
            };
            let reduced = check(&Paxos, &setup, bounds, Order::Bfs, &mut |_| {}).unwrap();
            let full = check(&Paxos, &setup, &full_bounds, Order::Bfs, &mut |_| {}).unwrap();
            let verdict = |o: &Outcome| {
                o.found
                    .as_ref()
                    .map(|f| (f.violation.property.to_string(), f.depth))
            };
            assert_eq!(verdict(&reduced), verdict(&full), "{name}, bug {bug:?}");
            assert!(reduced.stopped.is_none() && full.stopped.is_none());
            assert!(reduced.states <= full.states, "{name}, bug {bug:?}");
            assert!(full.symmetry_groups.is_empty());
            if reduced.found.is_none() && !reduced.symmetry_groups.is_empty() {
                assert!(reduced.states < full.states, "{name}, bug {bug:?}");
            }
            found += usize::from(reduced.found.is_some());
            reduced_total += reduced.states;
            full_total += full.states;
        }
    }
    assert!(
        found >= 5,
        "the scopes show bugs: {found} verdicts were violations"
    );
    assert!(
        reduced_total * 2 < full_total,
        "{reduced_total} of {full_total}"
    );
}
