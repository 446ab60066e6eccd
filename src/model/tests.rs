//! Unit tests of the exhaustive lane on Paxos and the naive vote.

use super::*;
use crate::protocol::prepare;
use crate::protocols::naive::Naive;
use crate::protocols::paxos::{Paxos, PaxosParams};
use crate::sim::{run_setup, Lane};

fn paxos_setup(servers: u16, clients: u16, bugs: &[&str]) -> RunSetup<Paxos> {
    let scenario = scope_scenario(
        &Paxos,
        servers,
        clients,
        bugs.iter().map(|b| b.to_string()).collect(),
    );
    prepare(&Paxos, &scenario).expect("a valid scope")
}

/// 3 acceptors, 2 proposers and one learner (n1): the smallest cluster where two
/// ballots compete, with fewer acceptance messages than every acceptor learning.
fn one_learner_setup(bugs: &[&str]) -> RunSetup<Paxos> {
    let mut scenario = scope_scenario(&Paxos, 3, 2, bugs.iter().map(|b| b.to_string()).collect());
    let mut params: PaxosParams = serde_json::from_value(scenario.params.clone()).unwrap();
    params.learners.truncate(1);
    scenario.params = serde_json::to_value(&params).unwrap();
    prepare(&Paxos, &scenario).expect("a valid scope")
}

/// Replay a counterexample's scenario in the fast lane and assert it breaks
/// `property` there as it did in the model, and that the turmoil lane's replay on the
/// real node shells gives the same trace; the prepared scenario and the fast lane's
/// report, for tests that check more of the replay.
fn assert_replays_to(
    found: &Found,
    property: &str,
) -> (
    RunSetup<Paxos>,
    crate::sim::RunReport<crate::protocols::paxos::Node>,
) {
    let replayed = prepare(&Paxos, &found.scenario).expect("the counterexample is valid");
    let report = run_setup(&Paxos, &replayed, Lane::Fast);
    let verdict = crate::check::judge(&Paxos, &replayed, &report.history);
    assert!(
        verdict.violations.iter().any(|v| v.property == property),
        "{property}: {verdict:?}"
    );
    let turmoil = run_setup(&Paxos, &replayed, Lane::Turmoil);
    if let Some((i, fast, turmoil)) = report.history.first_divergence(&turmoil.history) {
        panic!("the lanes differ at event {i}:\n  fast:    {fast:?}\n  turmoil: {turmoil:?}");
    }
    assert_eq!(turmoil.end, report.end);
    (replayed, report)
}

fn run(setup: &RunSetup<Paxos>, bounds: &Bounds, order: Order) -> Outcome {
    check(&Paxos, setup, bounds, order, &mut |_| {}).expect("no harness error")
}

/// A clean tiny scope (3 acceptor-learners, 1 proposer, no faults) is exhausted with
/// no violation, and its state count and depth are pinned: a change in how the model
/// steps, fingerprints or enumerates shows up here. Depth-first visits the same states.
#[test]
fn tiny_paxos_scope_is_clean_with_a_pinned_state_count() {
    let setup = paxos_setup(3, 1, &[]);
    let full = Bounds {
        symmetry: false,
        ..Bounds::default()
    };
    let bfs = run(&setup, &full, Order::Bfs);
    assert!(bfs.found.is_none(), "{:?}", bfs.found);
    assert!(bfs.stopped.is_none());
    assert_eq!(bfs.depth_cut, 0, "the scope is exhausted");
    assert_eq!((bfs.states, bfs.depth), (9_012, 19));
    assert_eq!(
        bfs.liveness_checked, 4,
        "every drained end state had its liveness run"
    );
    let dfs = run(&setup, &full, Order::Dfs);
    assert!(dfs.found.is_none());
    assert_eq!(dfs.states, bfs.states);
    // With symmetry (the default) the three acceptor-learners are interchangeable:
    // 1,613 classes of the 9,012 states (3! = 6 renamings at most, 5.6 on average).
    for order in [Order::Bfs, Order::Dfs] {
        let reduced = run(&setup, &Bounds::default(), order);
        assert!(reduced.found.is_none());
        assert_eq!((reduced.states, reduced.depth), (1_613, 19));
        assert_eq!(
            reduced.symmetry_groups,
            vec![vec![NodeId(1), NodeId(2), NodeId(3)]]
        );
    }
}

/// A crash and a lost message are explored too, and correct Paxos stays safe under
/// them (a small scope with a depth bound: the count is pinned, not a proof of all).
#[test]
fn correct_paxos_survives_a_crash_and_a_drop() {
    let setup = paxos_setup(3, 1, &[]);
    let bounds = Bounds {
        crashes: 1,
        drops: 1,
        depth: 12,
        symmetry: false,
        ..Bounds::default()
    };
    let outcome = run(&setup, &bounds, Order::Bfs);
    assert!(outcome.found.is_none(), "{:?}", outcome.found);
    assert!(outcome.depth_cut > 0);
    assert_eq!(outcome.states, 183_120);
    // Depth-first search within the same depth bound visits the same states: a state
    // first reached by a long path and later by a shorter one is expanded again
    // (without that, depth-first missed states the bound allows).
    let dfs = run(&setup, &bounds, Order::Dfs);
    assert!(dfs.found.is_none(), "{:?}", dfs.found);
    assert_eq!(dfs.states, outcome.states);
    assert!(
        dfs.reexpanded > 0,
        "the scope has states reached by paths of two lengths"
    );
}

/// A planted bug is found with its path, and the path is a scenario both lanes
/// replay to the same violation, with the same trace.
#[test]
fn planted_bug_is_found_and_its_script_replays() {
    let setup = one_learner_setup(&["ballots_not_unique"]);
    let bounds = Bounds {
        depth: 16,
        ..Bounds::default()
    };
    let outcome = run(&setup, &bounds, Order::Dfs);
    let found = outcome.found.expect("ballots_not_unique is found");
    assert_eq!(found.violation.property, "agreement");
    assert_eq!(found.steps.len(), found.depth);
    assert_eq!(found.scenario.faults.script(), Some(found.steps.as_slice()));
    let (replayed, report) = assert_replays_to(&found, "agreement");
    let again = run_setup(&Paxos, &replayed, Lane::Fast);
    assert_eq!(again.history.digest(), report.history.digest());
    let turmoil = run_setup(&Paxos, &replayed, Lane::Turmoil);
    assert_eq!(turmoil.history.digest(), report.history.digest());
}

/// A prefix whose breach the rest of the run heals is not reported: with one
/// proposer, `learner_quorum_one_short` makes a learner learn a value before it is
/// chosen, but the run goes on to choose it, so the judges (which read whole runs)
/// find nothing, and neither may the model.
#[test]
fn a_breach_the_run_heals_is_not_reported() {
    let outcome = run(
        &paxos_setup(3, 1, &["learner_quorum_one_short"]),
        &Bounds::default(),
        Order::Bfs,
    );
    assert!(outcome.found.is_none(), "{:?}", outcome.found);
    assert!(outcome.healed > 0);
}

/// A protocol whose core gives no fingerprint is refused with a clear error.
#[test]
fn a_core_without_fingerprint_is_refused() {
    use crate::protocol::{BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, NoLog};
    #[derive(Clone)]
    struct Plain;
    impl Core for Plain {
        type Msg = u8;
        type State = u8;
        type Event = BasicEvent;
        type Timer = ();
        type Entry = NoLog;
        fn step(&mut self, _: &mut Context<'_>, _: CoreInput<Self>, _: &mut Vec<CoreOutput<Self>>) {
        }
    }
    struct PlainProtocol;
    impl Protocol for PlainProtocol {
        type Core = Plain;
        type Params = ();
        fn name(&self) -> &'static str {
            "plain"
        }
        fn draft(&self, _: &mut crate::rng::ChaCha8Rng) -> Draft<()> {
            unreachable!()
        }
        fn core(&self, _: &RunSetup<Self>, _: crate::ids::NodeId) -> Plain {
            Plain
        }
        fn deciders(&self, _: &RunSetup<Self>) -> Vec<crate::ids::NodeId> {
            Vec::new()
        }
    }
    let scenario = scope_scenario(&PlainProtocol, 2, 0, Vec::new());
    let setup = prepare(&PlainProtocol, &scenario).unwrap();
    let err = check(
        &PlainProtocol,
        &setup,
        &Bounds::default(),
        Order::Bfs,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.contains("Core::fingerprint"), "{err}");
}

/// The naive vote goes through the same contract: its rounds are timers, so a scope
/// with timer firings explores it, and the model finds it unsafe.
#[test]
fn naive_vote_is_found_unsafe() {
    let scenario = scope_scenario(&Naive, 1, 2, Vec::new());
    let setup = prepare(&Naive, &scenario).unwrap();
    let bounds = Bounds {
        timeouts: 8,
        depth: 24,
        ..Bounds::default()
    };
    let outcome = check(&Naive, &setup, &bounds, Order::Dfs, &mut |_| {}).unwrap();
    let found = outcome.found.expect("the naive vote is unsafe");
    assert_eq!(found.violation.property, "agreement");
    assert_eq!(found.depth, 10);
}

/// `proposer_forgets_round`, the bug no random campaign found: the whole scope (3
/// acceptors, 2 proposers, learner n1, one crash of n5, depth 22) takes 3.4 million
/// states depth-first (docs/model-checking.md); here the search starts after the
/// path's first twelve steps (n4's ballot 1.4 accepted by n3 alone, n5's ballot 1.5
/// promised by n1 and n2, its accepts in flight) and checks every continuation with
/// one crash of n5 within 10 more steps. It finds two values
/// chosen at n5's reused ballot 1.5, and the fast lane replays the path to the same
/// violation. Correct Paxos from the same start is clean in the same scope.
#[test]
fn proposer_forgets_round_is_found_from_a_start() {
    use crate::fault::ScriptStep;
    use crate::ids::NodeId;
    let deliver = |from: u16, to: u16, msg_id: u64| ScriptStep::Deliver {
        from: NodeId(from),
        to: NodeId(to),
        msg_id,
    };
    let start = vec![
        ScriptStep::ClientRequest { node: NodeId(4) },
        deliver(4, 2, 2),
        deliver(2, 4, 1),
        deliver(4, 1, 1),
        deliver(1, 4, 1),
        deliver(4, 3, 6),
        deliver(3, 4, 2),
        ScriptStep::ClientRequest { node: NodeId(5) },
        deliver(5, 1, 1),
        deliver(1, 5, 2),
        deliver(5, 2, 2),
        deliver(2, 5, 2),
    ];
    let bounds = Bounds {
        crashes: 1,
        crash_nodes: vec![NodeId(5)],
        depth: 10,
        start,
        ..Bounds::default()
    };
    let clean = run(&one_learner_setup(&[]), &bounds, Order::Dfs);
    assert!(clean.found.is_none(), "{:?}", clean.found);
    let setup = one_learner_setup(&["proposer_forgets_round"]);
    let outcome = run(&setup, &bounds, Order::Dfs);
    let found = outcome.found.expect("proposer_forgets_round is found");
    assert_eq!(found.violation.property, "agreement");
    assert!(found.steps.contains(&ScriptStep::Crash { node: NodeId(5) }));
    assert_replays_to(&found, "agreement");
}

/// The independence relation ([`machine::independent`]) holds where it claims to: in
/// every state of a small scope with every kind of step enabled (3 acceptors, 2
/// proposers, learner n1; a drop, a duplicate, a timer firing and a crash allowed),
/// every independent pair of enabled steps reaches one fingerprint in either order,
/// each still enabled after the other. And the relation is not vacuous: some pairs it
/// calls dependent (two deliveries to one node) do not commute.
#[test]
fn independent_steps_commute() {
    use super::machine::{independent, Model};
    let setup = one_learner_setup(&[]);
    let model = Model::new(&Paxos, &setup);
    let spend = Spent {
        drops: 1,
        duplicates: 1,
        crashes: 1,
        timeouts: 1,
    };
    let mut events = Vec::new();
    let initial = model.initial(&mut events).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut frontier = vec![initial];
    let (mut commuting, mut not_commuting_dependent) = (0u64, 0u64);
    let mut kinds = Vec::new();
    let after = |state: &machine::State<_>,
                 first: &crate::fault::ScriptStep,
                 second: &crate::fault::ScriptStep| {
        let mut s = state.clone();
        let mut ev = Vec::new();
        assert!(model.apply(&mut s, first, &mut ev).unwrap());
        let applied = model.apply(&mut s, second, &mut ev).unwrap();
        (applied, s.fingerprint())
    };
    for _depth in 0..7 {
        let mut next_frontier = Vec::new();
        for state in frontier {
            let mut steps = Vec::new();
            model.enabled(&state, &spend, (&[], &[]), &mut steps);
            for (i, a) in steps.iter().enumerate() {
                if !kinds.contains(&std::mem::discriminant(a)) {
                    kinds.push(std::mem::discriminant(a));
                }
                for b in &steps[i + 1..] {
                    let (ab_applied, ab) = after(&state, a, b);
                    let (ba_applied, ba) = after(&state, b, a);
                    if independent(a, b) {
                        assert!(ab_applied && ba_applied, "{a} and {b} disable each other");
                        assert_eq!(ab, ba, "{a} and {b} do not commute");
                        commuting += 1;
                    } else if ab != ba {
                        not_commuting_dependent += 1;
                    }
                }
                let mut s = state.clone();
                let mut ev = Vec::new();
                model.apply(&mut s, a, &mut ev).unwrap();
                if seen.len() < 400 && seen.insert(s.fingerprint()) {
                    next_frontier.push(s);
                }
            }
        }
        frontier = next_frontier;
    }
    assert!(commuting > 1_000, "{commuting} independent pairs checked");
    assert!(not_commuting_dependent > 0);
    assert_eq!(kinds.len(), 7, "every kind of step was enabled somewhere");
}

/// The public [`Machine`] (what benches/model.rs runs stateright over) is the search's
/// state space: a plain breadth-first walk over it, deduplicating by fingerprint,
/// reaches exactly the states `check` counts in the default scope (9,012), and every
/// step it lists applies.
#[test]
fn machine_walk_reaches_the_states_the_search_counts() {
    let setup = paxos_setup(3, 1, &[]);
    let bounds = Bounds {
        liveness: false,
        symmetry: false,
        ..Bounds::default()
    };
    let machine = Machine::new(&Paxos, &setup, &bounds);
    let initial = machine.initial().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(initial.fingerprint());
    let mut queue = std::collections::VecDeque::from([initial]);
    let mut steps = Vec::new();
    while let Some(state) = queue.pop_front() {
        machine.enabled(&state, &mut steps);
        for step in &steps {
            let next = machine.next(&state, step).unwrap();
            if seen.insert(next.fingerprint()) {
                queue.push_back(next);
            }
        }
    }
    let searched = run(&setup, &bounds, Order::Bfs);
    assert_eq!(seen.len() as u64, searched.states);
    assert_eq!(searched.states, 9_012);
}

/// `learner_mixes_ballots`: the learner n1 counts `Value_A` accepted by n1 at ballot
/// 1.4 and by n2 at 2.4 as a majority, and learns it, while `Value_B` is what gets
/// chosen (at 3.5). The path is 26 steps with a retry by each proposer (two timer
/// firings: n4's and n5's backoff after a nack); the whole scope (3 acceptors, 2
/// proposers, learner n1, 2 timer firings of n4 and n5) is clean to depth 24 (1.03
/// billion states) and about 4 billion states at 26, too many for this machine
/// (docs/model-checking.md); from the path's first 12 steps (n4's ballot 1.4
/// accepted by n1; n5's ballot 1.5 promised by n2 and n3 and accepted by n3) the
/// search finds it in about 2 minutes (release), from 16 in 4 s. Here it starts after
/// `MIXES_START` steps (n4 nacked, retried, its ballot 2.4 promised by n1) and checks
/// every continuation within the rest of the path's length with n5's timer free to
/// fire: it finds the violation, the fast lane replays it to the same property, and
/// correct Paxos is clean from that start.
#[test]
fn learner_mixes_ballots_is_found_from_a_start() {
    let bounds = Bounds {
        timeouts: 2,
        timer_nodes: vec![NodeId(4), NodeId(5)],
        depth: (MIXES_PATH.len() - MIXES_START) as u32,
        liveness: false,
        start: mixes_path()[..MIXES_START].to_vec(),
        ..Bounds::default()
    };
    let clean = run(&one_learner_setup(&[]), &bounds, Order::Dfs);
    assert!(clean.found.is_none(), "{:?}", clean.found);
    assert!(clean.stopped.is_none());
    let setup = one_learner_setup(&["learner_mixes_ballots"]);
    let outcome = run(&setup, &bounds, Order::Dfs);
    let found = outcome.found.expect("learner_mixes_ballots is found");
    assert_eq!(found.violation.property, "learner_integrity");
    assert_replays_to(&found, "learner_integrity");
}

/// A search's start is judged as every other state is: the learner n1 learns
/// `Value_A` at 2.4 at the path's 21st step, before any majority accepted it, and
/// the run a replay plays from there (the liveness phase) still heals that, up to the
/// path's 24th step; so from the first 21 or 24 steps a search of depth 0 is clean,
/// with the breach counted as healed (it used to be reported, and the fast lane's
/// replay then disagreed). From 24 steps, depth 1 is clean and depth 2 finds the
/// violation at the path's 26 steps: with the whole scope clean at depth 24
/// (docs/model-checking.md), the bug's shortest counterexample here has 25 or 26.
#[test]
fn a_start_breach_is_confirmed_and_learner_mixes_ballots_needs_26_steps() {
    let setup = one_learner_setup(&["learner_mixes_ballots"]);
    let from = |start: usize, depth: u32| Bounds {
        timeouts: 2,
        timer_nodes: vec![NodeId(4), NodeId(5)],
        depth,
        liveness: false,
        start: mixes_path()[..start].to_vec(),
        ..Bounds::default()
    };
    for start in [21, 24] {
        let outcome = run(&setup, &from(start, 0), Order::Dfs);
        assert!(outcome.found.is_none(), "{start}: {:?}", outcome.found);
        assert_eq!((outcome.states, outcome.healed), (1, 1), "{start}");
    }
    let one_more = run(&setup, &from(24, 1), Order::Dfs);
    assert!(one_more.found.is_none(), "{:?}", one_more.found);
    let two_more = run(&setup, &from(24, 2), Order::Dfs);
    let found = two_more.found.expect("learner_mixes_ballots two steps on");
    assert_eq!(found.violation.property, "learner_integrity");
    assert_eq!(found.depth, 26);
    assert_replays_to(&found, "learner_integrity");
}

/// The steps the search starts from in `learner_mixes_ballots_is_found_from_a_start`.
const MIXES_START: usize = 18;

/// The 26-step path of `learner_mixes_ballots` (see its test): (kind, a, b, c) with
/// kind `r` a client request of node a, `d` a delivery from a to b of message c, `t`
/// node a's timer c.
const MIXES_PATH: [(char, u16, u16, u64); 26] = [
    ('r', 4, 0, 0),
    ('d', 4, 1, 1),
    ('d', 1, 4, 1),
    ('d', 4, 2, 2),
    ('d', 2, 4, 1),
    ('d', 4, 1, 4),
    ('r', 5, 0, 0),
    ('d', 5, 2, 2),
    ('d', 5, 3, 3),
    ('d', 2, 5, 2),
    ('d', 3, 5, 1),
    ('d', 5, 3, 6),
    ('d', 4, 2, 5),
    ('d', 2, 4, 3),
    ('t', 4, 0, 2),
    ('d', 4, 1, 7),
    ('d', 4, 2, 8),
    ('d', 1, 4, 3),
    ('d', 2, 4, 4),
    ('d', 4, 2, 11),
    ('d', 2, 1, 5),
    ('d', 5, 2, 5),
    ('d', 2, 5, 7),
    ('t', 5, 0, 2),
    ('d', 5, 1, 7),
    ('d', 5, 3, 9),
];

fn mixes_path() -> Vec<crate::fault::ScriptStep> {
    use crate::fault::ScriptStep;
    MIXES_PATH
        .iter()
        .map(|&(kind, a, b, c)| match kind {
            'r' => ScriptStep::ClientRequest { node: NodeId(a) },
            't' => ScriptStep::FireTimer {
                node: NodeId(a),
                timer_seq: c,
            },
            _ => ScriptStep::Deliver {
                from: NodeId(a),
                to: NodeId(b),
                msg_id: c,
            },
        })
        .collect()
}

/// The whole 26-step path, played by the fast lane, breaks `learner_integrity` with
/// the bug and nothing without it: the path is the bug's, not an artefact.
#[test]
fn learner_mixes_ballots_path_fails_only_with_the_bug() {
    let mut scenario = one_learner_setup(&["learner_mixes_ballots"]).scenario;
    scenario.faults = crate::fault::FaultSchedule {
        events: vec![crate::fault::FaultEvent {
            at_ms: 0,
            fault: crate::fault::Fault::Script {
                steps: mixes_path(),
            },
        }],
    };
    for (bugs, fails) in [
        (vec!["learner_mixes_ballots".to_string()], true),
        (vec![], false),
    ] {
        scenario.bugs = bugs;
        let setup = prepare(&Paxos, &scenario).expect("valid");
        let report = run_setup(&Paxos, &setup, Lane::Fast);
        let verdict = crate::check::judge(&Paxos, &setup, &report.history);
        assert_eq!(
            verdict
                .violations
                .iter()
                .any(|v| v.property == "learner_integrity"),
            fails,
            "{verdict:?}"
        );
    }
}

/// A seeded successor order is a permutation of a state's enabled steps, drawn from
/// its seed alone: the same seed gives the same order, other seeds other orders (so
/// `Bounds::order_seed` is not a no-op), and no step is lost or repeated.
#[test]
fn successor_order_is_a_seeded_permutation() {
    use super::search::successor_order;
    use crate::fault::ScriptStep;
    use rand_core::SeedableRng;
    let steps: Vec<ScriptStep> = (1..=12)
        .map(|n| ScriptStep::ClientRequest { node: NodeId(n) })
        .collect();
    let order = |seed: u64| {
        let mut stream = crate::rng::ChaCha8Rng::seed_from_u64(seed);
        let mut out = steps.clone();
        successor_order(&mut stream, &mut out);
        out
    };
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let drawn = order(seed);
        assert_eq!(drawn, order(seed), "seed {seed} gives one order");
        let mut sorted = drawn.clone();
        sorted.sort_by_key(|s| s.to_string());
        let mut expected = steps.clone();
        expected.sort_by_key(|s| s.to_string());
        assert_eq!(sorted, expected, "seed {seed}: a permutation");
        orders.insert(drawn.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }
    assert!(orders.len() >= 19, "20 seeds gave {} orders", orders.len());
    assert!(!orders.contains(&steps.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
}

/// A clean scope is the same proof under any successor order: depth-first and
/// breadth-first search visit exactly the states of the model's own order, whatever
/// the seed, both where the scope is exhausted (the default scope, without symmetry:
/// 9,012 states; with it, 1,613 classes) and where a depth bound cuts it (ONE_LEARNER
/// to depth 10 with a drop and a timer firing, depth-first only: that is where states
/// are reached again by shorter paths and must be expanded again, and where an order
/// could lose states if re-expansion were wrong). The orders differ: the
/// depth-bounded runs expand different numbers of states again.
#[test]
fn a_clean_scope_has_the_same_states_under_any_order_seed() {
    let exhausted = paxos_setup(3, 1, &[]);
    let bounded = one_learner_setup(&[]);
    let bounded_scope = Bounds {
        drops: 1,
        timeouts: 1,
        timer_nodes: vec![NodeId(4), NodeId(5)],
        depth: 10,
        liveness: false,
        ..Bounds::default()
    };
    let both = [Order::Dfs, Order::Bfs];
    let scopes = [
        (
            &exhausted,
            Bounds {
                symmetry: false,
                ..Bounds::default()
            },
            &both[..],
        ),
        (&exhausted, Bounds::default(), &both[..]),
        (&bounded, bounded_scope, &both[..1]),
    ];
    for (setup, scope, orders) in &scopes {
        for &order in orders.iter() {
            let model_order = run(setup, scope, order);
            assert!(model_order.found.is_none(), "{:?}", model_order.found);
            let mut reexpanded = std::collections::BTreeSet::new();
            reexpanded.insert(model_order.reexpanded);
            for seed in [1, 2, 3] {
                let seeded = Bounds {
                    order_seed: Some(seed),
                    ..scope.clone()
                };
                let outcome = run(setup, &seeded, order);
                assert!(outcome.found.is_none(), "{:?}", outcome.found);
                assert!(outcome.stopped.is_none());
                assert_eq!(
                    (outcome.states, outcome.depth, outcome.depth_cut > 0),
                    (
                        model_order.states,
                        model_order.depth,
                        model_order.depth_cut > 0
                    ),
                    "{order:?}, order seed {seed}, scope {scope}"
                );
                reexpanded.insert(outcome.reexpanded);
            }
            if scope.depth == 10 {
                assert!(
                    reexpanded.len() > 1,
                    "the orders took different paths: {reexpanded:?}"
                );
            }
        }
    }
}

/// A seeded successor order can meet a planted bug far sooner than the model's own
/// order, and takes the same path every time. `acceptor_skips_fsync` in its whole
/// scope (ONE_LEARNER, one crash of n2, depth 16, depth-first): the model's order
/// finds it after about 125,000 states; order seed 6 after under a tenth of that
/// (about 3,700 with the release CLI; docs/model-checking.md has the other seeds,
/// some slower than the model's order). The seeded path replays in the fast lane to
/// the same property, and a second search with the same seed finds the same path
/// after the same number of states.
#[test]
fn a_seeded_order_finds_a_planted_bug_sooner_and_the_same_way_each_time() {
    let setup = one_learner_setup(&["acceptor_skips_fsync"]);
    let scope = Bounds {
        crashes: 1,
        crash_nodes: vec![NodeId(2)],
        depth: 16,
        ..Bounds::default()
    };
    let model_order = run(&setup, &scope, Order::Dfs);
    let model_found = model_order.found.expect("the model's order finds it");
    assert_eq!(model_found.violation.property, "agreement");
    let seeded_scope = Bounds {
        order_seed: Some(6),
        ..scope
    };
    let seeded = run(&setup, &seeded_scope, Order::Dfs);
    let found = seeded.found.clone().expect("order seed 6 finds it");
    assert_eq!(found.violation.property, "agreement");
    assert!(
        seeded.states.saturating_mul(10) < model_order.states,
        "order seed 6: {} states, the model's order: {}",
        seeded.states,
        model_order.states
    );
    assert_ne!(found.steps, model_found.steps, "another path");
    let again = run(&setup, &seeded_scope, Order::Dfs);
    assert_eq!(again.states, seeded.states);
    assert_eq!(again.found.expect("found again").steps, found.steps);
    assert_replays_to(&found, "agreement");
}

/// An order seed is printed with the bounds (every bound of a search is), and only
/// when one is set: the model's own order prints as before.
#[test]
fn an_order_seed_is_printed_with_the_bounds() {
    let seeded = Bounds {
        order_seed: Some(7),
        ..Bounds::default()
    };
    assert!(seeded.to_string().ends_with(", order seed 7"), "{seeded}");
    assert!(!Bounds::default().to_string().contains("order seed"));
}

/// A node's stream from the per-thread cache is exactly the stream built afresh at
/// that position (the same draws after it), whether the cache already held it or not;
/// and another position or incarnation of the same node gives another stream, never
/// the cached one.
#[test]
fn a_cached_stream_is_the_stream_built_at_its_position() {
    use super::machine::Model;
    use crate::rng::{stream_rng, Stream};
    use rand_core::Rng;
    let setup = one_learner_setup(&[]);
    let model = Model::new(&Paxos, &setup);
    let (node, id) = (3, crate::ids::NodeId(4));
    let built = |incarnation: u32, pos: u128| {
        let mut rng = stream_rng(
            setup.scenario.seed,
            Stream::Node {
                node: id,
                incarnation,
            },
        );
        rng.set_word_pos(pos);
        rng
    };
    let draws =
        |mut rng: crate::rng::ChaCha8Rng| (0..20).map(|_| rng.next_u64()).collect::<Vec<_>>();
    for pos in [0u128, 7, 64, 70, 7] {
        // The first call may build (and keep) the stream, the second is then a hit.
        assert_eq!(
            draws(model.rng(node, 0, pos)),
            draws(built(0, pos)),
            "at {pos}"
        );
        assert_eq!(
            draws(model.rng(node, 0, pos)),
            draws(built(0, pos)),
            "at {pos}"
        );
    }
    assert_ne!(draws(model.rng(node, 0, 7)), draws(model.rng(node, 0, 8)));
    assert_ne!(draws(model.rng(node, 0, 7)), draws(model.rng(node, 1, 7)));
    assert_eq!(draws(model.rng(node, 1, 7)), draws(built(1, 7)));
}
