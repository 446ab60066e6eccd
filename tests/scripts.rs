//! A recorded adversary (`Fault::Script`, a check-model counterexample) plays the same
//! run in both lanes: the fast lane steps the model's executor, the turmoil lane runs
//! the real async node shells on turmoil hosts following the script, and the two
//! traces are equal event for event. Each test takes one kind of step the lanes must
//! agree on (deliveries in the script's order, drops, duplicates, timer firings,
//! client requests, crashes that lose unsynced writes, restarts), and one shows the
//! comparison catches a run that strays from its script.

use gauntlet::fault::{Fault, FaultEvent, FaultSchedule, ScriptStep};
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::model::{scope_scenario, Bounds, Machine};
use gauntlet::protocol::prepare;
use gauntlet::protocols::paxos::{Node, Paxos};
use gauntlet::scenario::Scenario;
use gauntlet::sim::{run, Lane, RunReport};

/// The Paxos scope check-model's kept counterexamples use: acceptor-learners n1..n3,
/// proposers n4 (Value_A) and n5 (Value_B).
fn scope(bugs: &[&str]) -> Scenario {
    scope_scenario(&Paxos, 3, 2, bugs.iter().map(|b| b.to_string()).collect())
}

/// `scenario` with `steps` as its script.
fn scripted(scenario: &Scenario, steps: Vec<ScriptStep>) -> Scenario {
    Scenario {
        faults: FaultSchedule {
            events: vec![FaultEvent {
                at_ms: 0,
                fault: Fault::Script { steps },
            }],
        },
        ..scenario.clone()
    }
}

fn play(scenario: &Scenario, lane: Lane) -> RunReport<Node> {
    run(&Paxos, scenario, lane).expect("a valid scripted scenario")
}

/// Both lanes' runs of `scenario`, asserted equal event for event (the first
/// difference named), with the same end and simulated time.
fn both_lanes(scenario: &Scenario) -> (RunReport<Node>, RunReport<Node>) {
    let fast = play(scenario, Lane::Fast);
    let turmoil = play(scenario, Lane::Turmoil);
    if let Some((i, f, t)) = fast.history.first_divergence(&turmoil.history) {
        panic!(
            "the lanes differ at event {i}\n  fast:    {f:?}\n  turmoil: {t:?}\nscenario: {}",
            serde_json::to_string(scenario).unwrap()
        );
    }
    assert_eq!(fast.history.digest(), turmoil.history.digest());
    assert_eq!(fast.end, turmoil.end);
    assert_eq!(fast.sim_ms, turmoil.sim_ms);
    (fast, turmoil)
}

fn n(id: u16) -> NodeId {
    NodeId(id)
}

/// The events of `history` at `node`, with their times.
fn at_node(history: &History<Node>, node: u16) -> Vec<(u64, &EventKind<Node>)> {
    history
        .events
        .iter()
        .filter(|e| e.node == Some(n(node)))
        .map(|e| (e.at_ms, &e.kind))
        .collect()
}

/// A datagram arrives at its delivery step, not when a latency would bring it: n4's
/// prepare to n1 is held for 20 steps that do nothing (restarts of running nodes)
/// and delivered at 22 ms in both lanes, with nothing delivered anywhere before. A
/// turmoil lane that delivered by time (latencies of a few milliseconds) fails this.
#[test]
fn a_datagram_waits_for_its_delivery_step() {
    let mut steps = vec![ScriptStep::ClientRequest { node: n(4) }];
    steps.extend((0..20).map(|_| ScriptStep::Restart { node: n(2) }));
    steps.push(ScriptStep::Deliver {
        from: n(4),
        to: n(1),
        msg_id: 1,
    });
    let scenario = scripted(&scope(&[]), steps);
    let (fast, turmoil) = both_lanes(&scenario);
    for report in [&fast, &turmoil] {
        let delivered: Vec<(u64, Option<NodeId>)> = report
            .history
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Delivered { .. }))
            .map(|e| (e.at_ms, e.node))
            .take(1)
            .collect();
        assert_eq!(delivered, vec![(22, Some(n(1)))]);
        assert!(
            !report
                .history
                .events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Restarted { .. }) && e.at_ms <= 21),
            "a restart of a running node does nothing"
        );
    }
}

/// A crash loses the node's unsynced writes in the turmoil world's filesystem as in
/// the model: with `acceptor_skips_fsync`, n1 writes its promise to n4 without fsync,
/// crashes, and its next incarnation recovers something else (the lanes agree on
/// what), then the liveness phase runs on.
#[test]
fn a_crash_loses_unsynced_writes_in_both_lanes() {
    let steps = vec![
        ScriptStep::ClientRequest { node: n(4) },
        ScriptStep::Deliver {
            from: n(4),
            to: n(1),
            msg_id: 1,
        },
        ScriptStep::Crash { node: n(1) },
        ScriptStep::Restart { node: n(1) },
    ];
    let scenario = scripted(&scope(&["acceptor_skips_fsync"]), steps);
    let (_, turmoil) = both_lanes(&scenario);
    let n1 = at_node(&turmoil.history, 1);
    let unsynced = n1
        .iter()
        .find_map(|(at, k)| match k {
            EventKind::WrittenUnsynced { state } => Some((*at, state.clone())),
            _ => None,
        })
        .expect("n1 wrote its promise unsynced");
    assert_eq!(unsynced.0, 2, "at the delivery step");
    let recovered = n1
        .iter()
        .find_map(|(at, k)| match k {
            EventKind::Started {
                incarnation: 1,
                recovered,
            } => Some((*at, recovered.clone())),
            _ => None,
        })
        .expect("n1's second incarnation started");
    assert_eq!(recovered.0, 4, "at the restart step");
    assert_ne!(
        recovered.1.as_ref(),
        Some(&unsynced.1),
        "the unsynced promise died with the crash"
    );
    assert!(turmoil
        .history
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Crashed { node } if node == n(1)) && e.at_ms == 3));
}

/// A small deterministic generator for the walks (SplitMix64).
struct Walk(u64);

impl Walk {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Scripts of every kind of step agree in both lanes: 40 random walks of 30 steps
/// through the model's own state machine of the Paxos scope (with drops, duplicates,
/// timer firings and crashes of any node allowed, half of them with
/// `acceptor_skips_fsync`), each replayed in both lanes and compared event for event.
/// The walks must between them have dropped, duplicated (and delivered a copy of),
/// fired timers, crashed and restarted, so each kind was really compared.
#[test]
fn random_walks_of_every_step_kind_agree_in_both_lanes() {
    let bounds = Bounds {
        drops: 3,
        duplicates: 3,
        crashes: 2,
        timeouts: 4,
        ..Bounds::default()
    };
    let mut kinds = [0u32; 7];
    for walk in 0..40u64 {
        let bugs: &[&str] = if walk % 2 == 0 {
            &[]
        } else {
            &["acceptor_skips_fsync"]
        };
        let scope = scope(bugs);
        let setup = prepare(&Paxos, &scope).unwrap();
        let machine = Machine::new(&Paxos, &setup, &bounds);
        let mut state = machine.initial().unwrap();
        let mut rng = Walk(0x5C41_7000 + walk);
        let mut steps = Vec::new();
        let mut enabled = Vec::new();
        for _ in 0..30 {
            machine.enabled(&state, &mut enabled);
            if enabled.is_empty() {
                break;
            }
            let step = enabled[rng.below(enabled.len())].clone();
            state = machine.next(&state, &step).unwrap();
            kinds[match step {
                ScriptStep::Deliver { .. } => 0,
                ScriptStep::Drop { .. } => 1,
                ScriptStep::Duplicate { .. } => 2,
                ScriptStep::FireTimer { .. } => 3,
                ScriptStep::ClientRequest { .. } => 4,
                ScriptStep::Crash { .. } => 5,
                ScriptStep::Restart { .. } => 6,
            }] += 1;
            steps.push(step);
        }
        both_lanes(&scripted(&scope, steps));
    }
    assert!(
        kinds.iter().all(|&k| k > 0),
        "every kind of step taken (deliver, drop, duplicate, timer, request, crash, \
         restart): {kinds:?}"
    );
}

/// The comparison catches a run that strays from its script: the turmoil lane playing
/// a script with two deliveries swapped differs from the fast lane playing the
/// original, first at the first swapped delivery's step.
#[test]
fn a_run_off_its_script_is_caught() {
    let deliver = |from: u16, to: u16, msg_id: u64| ScriptStep::Deliver {
        from: n(from),
        to: n(to),
        msg_id,
    };
    let original = vec![
        ScriptStep::ClientRequest { node: n(4) },
        deliver(4, 1, 1),
        deliver(4, 2, 2),
    ];
    let swapped = vec![
        ScriptStep::ClientRequest { node: n(4) },
        deliver(4, 2, 2),
        deliver(4, 1, 1),
    ];
    let scope = scope(&[]);
    let fast = play(&scripted(&scope, original.clone()), Lane::Fast);
    let turmoil = play(&scripted(&scope, swapped), Lane::Turmoil);
    let (i, f, t) = fast
        .history
        .first_divergence(&turmoil.history)
        .expect("the runs differ");
    let first_at_2 = fast
        .history
        .events
        .iter()
        .position(|e| e.at_ms == 2)
        .unwrap();
    assert_eq!(i, first_at_2, "fast {f:?}, turmoil {t:?}");
    assert!(
        f.unwrap().contains("n1"),
        "the original delivers to n1 first"
    );
    assert_ne!(fast.history.digest(), turmoil.history.digest());
    // And the original script agrees with itself across the lanes.
    both_lanes(&scripted(&scope, original));
}
