//! The generals on the bare core (the majority, the relays, the lies) and in the
//! worlds (quiet runs, a traitor within the bound, the bound passed).

use super::check::{ic1, ic2};
use super::general::{majority, Entry};
use super::*;
use crate::check::judge;
use crate::fault::{generate_scenario, Fault, FaultEvent, FaultSchedule};
use crate::history::{EventKind, History};
use crate::protocol::{prepare, BasicEvent, Core, CoreInput, CoreOutput};
use crate::sim::{run_setup, Lane, RunEnd};

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn scenario(nodes: u16, m: u32, order: &str, faults: Vec<FaultEvent>) -> Scenario {
    Scenario {
        workload: vec![Proposal {
            proposer: n(1),
            value: v(order),
            at_ms: 0,
        }],
        faults: FaultSchedule { events: faults },
        liveness_bound_ms: 10_000,
        params: serde_json::json!({ "m": m }),
        byzantine_beyond_tolerance: nodes < 3 * m as u16 + 1,
        ..Scenario::quiet("generals", Cluster::of_size(nodes), 5)
    }
}

fn flip(node: u16, kind: &str, receivers: &[u16], mutation: u32) -> FaultEvent {
    FaultEvent {
        at_ms: 0,
        fault: Fault::Mutate {
            node: n(node),
            kind: kind.into(),
            receivers: receivers.iter().map(|&r| n(r)).collect(),
            count: 1,
            mutation,
            skip: 0,
        },
    }
}

/// Run `s` in both lanes; the lanes must agree byte for byte. Returns the verdict's
/// broken property names.
fn run_both(s: &Scenario) -> Vec<&'static str> {
    let setup = prepare(&Generals::WITHIN_BOUND, s).expect("valid");
    let mut digests = Vec::new();
    let mut broken = Vec::new();
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Generals::WITHIN_BOUND, &setup, lane);
        assert_eq!(report.end, RunEnd::Settled, "{lane:?}");
        let verdict = judge(&Generals::WITHIN_BOUND, &setup, &report.history);
        broken = verdict.violations.iter().map(|v| v.property).collect();
        digests.push(report.history.digest());
    }
    assert_eq!(digests[0], digests[1], "the lanes differ");
    broken
}

/// The majority: more than half, else retreat, a missing vote counting as retreat;
/// the planted bug leaves missing votes out and breaks a tie toward the first vote.
#[test]
fn majority_with_and_without_the_default() {
    let a = || Some(v(ATTACK));
    let r = || Some(v(RETREAT));
    assert_eq!(majority(&[a(), a(), r()], false), a());
    assert_eq!(majority(&[a(), r()], false), r());
    assert_eq!(majority(&[a(), Some(v(RETREAT)), a()], false), a());
    assert_eq!(majority(&[a(), r(), r(), a()], false), r());
    assert_eq!(majority(&[a(), r(), None], true), a());
    assert_eq!(majority(&[r(), a(), None], true), r());
    assert_eq!(majority(&[None, None], true), None);
}

/// The commander sends its order to every lieutenant at once; a lieutenant relays in
/// round 1 what it took in round 0, with itself on the path, and refuses an entry
/// whose path does not end with its sender (unless the planted bug).
#[test]
fn orders_are_sent_relayed_and_checked() {
    let config = |trusts| {
        Arc::new(Config {
            commander: n(1),
            members: (1..=4).map(n).collect(),
            m: 1,
            round_ms: ROUND_MS,
            resend_ms: RESEND_MS,
            no_default: false,
            trusts_the_path: trusts,
        })
    };
    let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
    let mut step = |g: &mut General, now_ms, input| {
        let mut cx = crate::protocol::Context {
            now_ms,
            rng: &mut rng,
        };
        let mut out = Vec::new();
        g.step(&mut cx, input, &mut out);
        out
    };
    let mut c = General::new(n(1), config(false));
    step(&mut c, 0, CoreInput::start(None));
    let out = step(&mut c, 0, CoreInput::ClientRequest { value: v(ATTACK) });
    let sent: Vec<NodeId> = out
        .iter()
        .filter_map(|o| match o {
            CoreOutput::Send { to, msg } => {
                assert_eq!(msg.entries[0].order, v(ATTACK));
                Some(*to)
            }
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![n(2), n(3), n(4)]);

    for trusts in [false, true] {
        let mut l = General::new(n(2), config(trusts));
        step(&mut l, 0, CoreInput::start(None));
        let order = Orders {
            round: 0,
            entries: vec![Entry {
                path: vec![n(1)],
                order: v(ATTACK),
            }],
        };
        step(
            &mut l,
            5,
            CoreInput::Receive {
                from: n(1),
                msg: order,
            },
        );
        // n3 passes a retreat off as n4's relay.
        let forged = Orders {
            round: 1,
            entries: vec![Entry {
                path: vec![n(1), n(4)],
                order: v(RETREAT),
            }],
        };
        step(
            &mut l,
            ROUND_MS + 3,
            CoreInput::Receive {
                from: n(3),
                msg: forged,
            },
        );
        let out = step(
            &mut l,
            ROUND_MS + RESEND_MS,
            CoreInput::TimerFired { timer: Tick },
        );
        let relays: Vec<(NodeId, Orders)> = out
            .into_iter()
            .filter_map(|o| match o {
                CoreOutput::Send { to, msg } => Some((to, msg)),
                _ => None,
            })
            .collect();
        assert_eq!(relays.len(), 2);
        assert_eq!(relays[0].1.entries[0].path, vec![n(1), n(2)]);
        assert_eq!(relays[0].1.entries[0].order, v(ATTACK));
        let out = step(&mut l, 2 * ROUND_MS, CoreInput::TimerFired { timer: Tick });
        let decided = out.iter().find_map(|o| match o {
            CoreOutput::Event(BasicEvent::Decided(d)) => Some(d.clone()),
            _ => None,
        });
        // n2 holds: attack (commander), retreat for n3 (nothing from it), and for n4
        // the forged retreat only with the bug (else nothing: retreat too). Either way
        // one attack against two retreats.
        assert_eq!(decided, Some(v(RETREAT)), "trusts {trusts}");
        let took_forged = l
            .state()
            .received
            .iter()
            .any(|e| e.path == vec![n(1), n(4)]);
        assert_eq!(took_forged, trusts);
    }
}

/// IC1 fires on two loyal lieutenants deciding differently (witnessed by both
/// decisions), not when the odd one out is a traitor; IC2 fires on a loyal
/// lieutenant deciding against a loyal commander's order, and not without one.
#[test]
fn ic1_and_ic2_fire() {
    let mut h: History<General> = History::default();
    let decided = |o: &str| EventKind::Protocol(BasicEvent::Decided(v(o)));
    h.push(3_000, Some(n(2)), decided(ATTACK));
    h.push(3_000, Some(n(3)), decided(ATTACK));
    h.push(3_001, Some(n(4)), decided(RETREAT));
    let broken = ic1(&h, &[n(2), n(3), n(4)]);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].witness, vec![0, 2]);
    assert_eq!(broken[0].nodes, vec![n(2), n(4)]);
    assert!(ic1(&h, &[n(2), n(3)]).is_empty());
    let disobeyed = ic2(&h, &[n(2), n(3), n(4)], n(1), Some(&v(ATTACK)));
    assert_eq!(disobeyed.len(), 1);
    assert_eq!(disobeyed[0].witness, vec![2]);
    assert_eq!(ic2(&h, &[n(2), n(3)], n(1), Some(&v(ATTACK))), vec![]);
    assert_eq!(ic2(&h, &[n(2), n(3), n(4)], n(1), None), vec![]);
}

/// Quiet generated runs of 4, 7 and 10 generals settle in both lanes with every
/// loyal lieutenant obeying the commander, and the lanes' traces equal.
#[test]
fn quiet_runs_obey_in_both_lanes() {
    let mut sizes = std::collections::BTreeSet::new();
    for seed in 0..12 {
        let s = Scenario {
            faults: FaultSchedule::default(),
            ..generate_scenario(&Generals::WITHIN_BOUND, seed)
        };
        sizes.insert(s.cluster.len());
        assert_eq!(run_both(&s), Vec::<&str>::new(), "seed {seed}");
    }
    assert_eq!(sizes, [4, 7, 10].into_iter().collect());
}

/// Within the bound (n = 4, m = 1) a traitor lieutenant relaying the other order, or
/// a traitor commander telling each lieutenant something else, is outvoted; past it
/// (n = 3) the traitor lieutenant makes a loyal one disobey the loyal commander (IC2).
#[test]
fn one_traitor_of_four_is_outvoted_but_not_of_three() {
    let lying_lieutenant = scenario(4, 1, ATTACK, vec![flip(3, "relay_1", &[2, 4], 0)]);
    assert_eq!(run_both(&lying_lieutenant), Vec::<&str>::new());
    let lying_commander = scenario(
        4,
        1,
        ATTACK,
        vec![flip(1, "order", &[2], 0), flip(1, "order", &[3], 1)],
    );
    assert_eq!(run_both(&lying_commander), Vec::<&str>::new());
    let three = scenario(3, 1, ATTACK, vec![flip(3, "relay_1", &[2], 0)]);
    assert_eq!(run_both(&three), vec!["ic2_obey_loyal_commander"]);
}

/// A scenario past the bound (too few generals, or more traitors than m) without
/// `byzantine_beyond_tolerance`, with faults lasting past the synchrony bound, or with a
/// broken connection on a loyal general's link, is refused naming the field; with the
/// opt-in, the same two past-the-bound scenarios run.
#[test]
fn bad_scenarios_name_the_field() {
    let field = |s: &Scenario| prepare(&Generals::WITHIN_BOUND, s).err().map(|e| e.field);
    let mut three = scenario(3, 1, ATTACK, vec![]);
    three.byzantine_beyond_tolerance = false;
    assert_eq!(field(&three), Some("cluster.nodes".into()));
    three.byzantine_beyond_tolerance = true;
    assert_eq!(field(&three), None);
    let mut two = scenario(
        4,
        1,
        ATTACK,
        vec![flip(2, "relay_1", &[3], 0), flip(3, "relay_1", &[2], 0)],
    );
    assert_eq!(field(&two), Some("faults".into()));
    two.byzantine_beyond_tolerance = true;
    assert_eq!(field(&two), None);
    let late = scenario(
        4,
        1,
        ATTACK,
        vec![FaultEvent {
            at_ms: 1_800,
            fault: Fault::Heal,
        }],
    );
    assert_eq!(field(&late), Some("faults".into()));
    // A broken connection loses a loyal general's next send, in whatever round: it
    // broke IC1 in a proptest schedule (a relay from n3 to n2 lost in round 1). From
    // a traitor it is allowed.
    let broken = |from: u16, traitor: Vec<FaultEvent>| {
        let mut events = traitor;
        events.push(FaultEvent {
            at_ms: 354,
            fault: Fault::BreakConnection {
                from: n(from),
                to: n(2),
            },
        });
        scenario(4, 1, ATTACK, events)
    };
    assert_eq!(field(&broken(3, vec![])), Some("faults[0]".into()));
    assert_eq!(field(&broken(4, vec![flip(4, "relay_1", &[3], 0)])), None);
    let mut bad_m = scenario(4, 1, ATTACK, vec![]);
    bad_m.params = serde_json::json!({ "m": 4 });
    assert_eq!(field(&bad_m), Some("params.m".into()));
    assert_eq!(field(&scenario(4, 1, ATTACK, vec![])), None);
}

/// A traitor that replays, in round 1, the commander's order it took in round 0 (to
/// n2, in place of its relay) gets nothing past a loyal lieutenant: the old message is
/// of the wrong round and not from the commander, so n2 refuses it and counts n3's
/// relay as missing. The replay shows in the trace, the lanes agree byte for byte, and
/// the loyal lieutenants still obey.
#[test]
fn a_replayed_order_is_refused_in_both_lanes() {
    let replay = FaultEvent {
        at_ms: 0,
        fault: Fault::Replay {
            node: n(3),
            kind: "relay_1".into(),
            receivers: vec![n(2)],
            count: 1,
            nth: 1,
        },
    };
    let s = scenario(4, 1, ATTACK, vec![replay]);
    let setup = prepare(&Generals::WITHIN_BOUND, &s).expect("valid");
    let mut digests = Vec::new();
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Generals::WITHIN_BOUND, &setup, lane);
        let h = &report.history;
        let replayed = h
            .events
            .iter()
            .position(|e| matches!(e.kind, EventKind::Replayed { to, nth: 1 } if to == n(2)))
            .expect("n3 replays to n2");
        let EventKind::Sent { msg, .. } = &h.events[replayed + 1].kind else {
            panic!("{lane:?}: the replayed send follows");
        };
        assert_eq!(msg.round, 0, "{lane:?}: the old order went out in round 1");
        assert!(h.events.iter().any(|e| e.node == Some(n(2))
            && matches!(&e.kind, EventKind::Protocol(BasicEvent::Note(t)) if t.contains("ignore n3"))));
        let verdict = judge(&Generals::WITHIN_BOUND, &setup, h);
        assert!(verdict.is_ok(), "{lane:?}: {:?}", verdict.violations);
        digests.push(h.digest());
    }
    assert_eq!(digests[0], digests[1], "the lanes differ");
}

fn two_faced(node: u16) -> FaultEvent {
    FaultEvent {
        at_ms: 0,
        fault: Fault::Strategy {
            node: n(node),
            strategy: "two_faced".into(),
            duration_ms: None,
        },
    }
}

/// The two-faced traitor (`Fault::Strategy`) within the bound is outvoted, in both
/// lanes alike: as commander of 4 (n2 told attack, n3 and n4 retreat: the loyal
/// lieutenants still agree) and as lieutenant of 4 (the loyal ones still obey the
/// loyal commander). Past it (n = 3) the lieutenant makes loyal n2 disobey the loyal
/// commander (IC2), found in both lanes.
#[test]
fn a_two_faced_traitor_is_outvoted_within_the_bound_only() {
    let commander = scenario(4, 1, ATTACK, vec![two_faced(1)]);
    assert_eq!(run_both(&commander), Vec::<&str>::new());
    let lieutenant = scenario(4, 1, ATTACK, vec![two_faced(3)]);
    assert_eq!(run_both(&lieutenant), Vec::<&str>::new());
    let three = scenario(3, 1, ATTACK, vec![two_faced(3)]);
    assert_eq!(run_both(&three), vec!["ic2_obey_loyal_commander"]);
}

/// With at most m traitors OM(m) holds whatever the two-faced traitor does: 300
/// campaign scenarios (4, 7 and 10 generals, the campaign's own faults) with a
/// two-faced traitor forced on (one the schedule already made Byzantine, else the
/// commander in even seeds and n2 in odd ones) keep IC1 and IC2 in the fast lane.
#[test]
fn two_faced_within_m_breaks_nothing() {
    for seed in 0..300u64 {
        let mut s = generate_scenario(&Generals::WITHIN_BOUND, seed);
        let node = s
            .faults
            .byzantine_nodes()
            .into_iter()
            .next()
            .unwrap_or(n(1 + (seed % 2) as u16));
        s.faults
            .events
            .retain(|e| !matches!(e.fault, Fault::Strategy { .. }));
        s.faults.events.insert(0, two_faced(node.0));
        let setup = prepare(&Generals::WITHIN_BOUND, &s).expect("within the bound");
        let report = run_setup(&Generals::WITHIN_BOUND, &setup, Lane::Fast);
        let verdict = judge(&Generals::WITHIN_BOUND, &setup, &report.history);
        assert!(verdict.is_ok(), "seed {seed}: {:?}", verdict.violations);
    }
}
