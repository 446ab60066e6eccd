//! PBFT's adversary `equivocating_primary` (`crate::fault::Fault::Strategy`): in both
//! lanes alike, harmless within `f`, and breaking agreement with `f + 1`.

use super::*;
use crate::check::judge;
use crate::fault::{generate_scenario, Fault, FaultEvent, FaultSchedule};
use crate::protocol::prepare;
use crate::sim::{run_setup, Lane, RunEnd};

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn strategy(node: u16, at_ms: u64, duration_ms: Option<u64>) -> FaultEvent {
    FaultEvent {
        at_ms,
        fault: Fault::Strategy {
            node: n(node),
            strategy: "equivocating_primary".into(),
            duration_ms,
        },
    }
}

/// Four replicas, two client requests at 0 ms (at n2 and n3, so the primary n1 knows
/// two requests to equivocate between), and `faults`.
fn scenario(faults: Vec<FaultEvent>, beyond: bool) -> Scenario {
    Scenario {
        byzantine_beyond_tolerance: beyond,
        workload: vec![
            Proposal {
                proposer: n(2),
                value: Value::new("Req_a"),
                at_ms: 0,
            },
            Proposal {
                proposer: n(3),
                value: Value::new("Req_b"),
                at_ms: 0,
            },
        ],
        faults: FaultSchedule { events: faults },
        liveness_bound_ms: 10_000,
        ..Scenario::quiet(Pbft::NAME, Cluster::of_size(4), 5)
    }
}

/// The pre-prepares `node` sent, as (receiver, request), in send order.
fn pre_prepares(history: &crate::history::History<Replica>, node: u16) -> Vec<(NodeId, String)> {
    history
        .events
        .iter()
        .filter(|e| e.node == Some(n(node)))
        .filter_map(|e| match &e.kind {
            EventKind::Sent {
                to,
                msg: msg::Msg::PrePrepare { request, .. },
                ..
            } => Some((*to, msg::Show(request).to_string())),
            _ => None,
        })
        .collect()
}

/// The equivocating primary n1 (from 0 ms, to the end of the run) sends its first
/// half of the backups (n2, n3) one request and n4 another at the same sequence
/// number, the same trace byte for byte in both lanes, with the takeover in the
/// trace; the honest replicas still agree and execute both requests. A window (5 ms
/// from 0 ms) gives the honest core back: its end is in the trace, the HTML diagram
/// marks the takeover and the end on n1's lane, and the lanes agree there too.
#[test]
fn equivocating_primary_acts_alike_in_both_lanes() {
    for faults in [vec![strategy(1, 0, None)], vec![strategy(1, 0, Some(5))]] {
        let windowed = faults.iter().any(|e| {
            matches!(
                e.fault,
                Fault::Strategy {
                    duration_ms: Some(_),
                    ..
                }
            )
        });
        let setup = prepare(&Pbft, &scenario(faults, false)).expect("one Byzantine replica");
        let mut digests = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let report = run_setup(&Pbft, &setup, lane);
            assert_eq!(report.end, RunEnd::Settled, "{lane:?}");
            let verdict = judge(&Pbft, &setup, &report.history);
            assert!(verdict.is_ok(), "{lane:?}: {:?}", verdict.violations);
            let sent = pre_prepares(&report.history, 1);
            let first: Vec<&(NodeId, String)> = sent.iter().take(3).collect();
            assert_eq!(first.len(), 3, "{lane:?}: {sent:?}");
            assert_eq!(
                first[0].1, first[1].1,
                "{lane:?}: n2 and n3 get one request"
            );
            assert_ne!(
                first[0].1, first[2].1,
                "{lane:?}: n4 gets another: {sent:?}"
            );
            let rendered = report.history.render();
            assert!(
                rendered.contains("n1 runs the adversary equivocating_primary"),
                "{lane:?}"
            );
            assert_eq!(
                rendered.contains("n1's adversary ends"),
                windowed,
                "{lane:?}"
            );
            if windowed {
                // The diagram marks the takeover and its end on n1's lane.
                let model = crate::diagram::Model::of(&report.history, &|_| None);
                let n1_lane = model.lanes.iter().position(|l| l == "n1");
                let marks: Vec<&crate::diagram::Mark> = model
                    .marks
                    .iter()
                    .filter(|m| m.text.contains("adversary"))
                    .collect();
                assert_eq!(marks.len(), 2, "{lane:?}");
                assert!(marks
                    .iter()
                    .all(|m| m.lane == n1_lane && m.kind == crate::diagram::MarkKind::Faults));
                assert!(crate::diagram::page(&model).contains("runs the adversary"));
            }
            digests.push(report.history.digest());
        }
        assert_eq!(digests[0], digests[1], "the lanes differ");
    }
}

/// With at most `f` Byzantine replicas PBFT holds: 300 campaign scenarios (4, 7 and
/// 10 replicas, the campaign's own faults) with an equivocating primary forced on
/// (a replica the schedule already made Byzantine, else the primary of view 0, from
/// 0 ms to the end of the run) break no property, safety or liveness, in the fast
/// lane.
#[test]
fn equivocating_primary_within_f_breaks_nothing() {
    let mut equivocated = 0;
    for seed in 0..300 {
        let mut s = generate_scenario(&Pbft, seed);
        let node = s
            .faults
            .byzantine_nodes()
            .into_iter()
            .next()
            .unwrap_or(n(1));
        s.faults
            .events
            .retain(|e| !matches!(e.fault, Fault::Strategy { .. }));
        s.faults.events.insert(0, strategy(node.0, 0, None));
        let setup = prepare(&Pbft, &s).expect("within the bound");
        let report = run_setup(&Pbft, &setup, Lane::Fast);
        let verdict = judge(&Pbft, &setup, &report.history);
        assert!(verdict.is_ok(), "seed {seed}: {:?}", verdict.violations);
        let sent = pre_prepares(&report.history, node.0);
        let kinds: std::collections::BTreeSet<&String> = sent.iter().map(|(_, r)| r).collect();
        equivocated += usize::from(kinds.len() > 1);
    }
    assert!(equivocated > 100, "{equivocated} of 300 runs equivocated");
}

/// Past the bound it breaks: with two equivocating replicas of four (n1, the primary,
/// and n2, which backs every side), the halves each gather a quorum at one sequence
/// number and honest n3 and n4 commit different requests: the agreement judge fires.
/// The scenario runs only because it says `byzantine_beyond_tolerance`.
#[test]
fn two_equivocators_of_four_break_agreement() {
    let faults = vec![strategy(1, 0, None), strategy(2, 0, None)];
    let refused = prepare(&Pbft, &scenario(faults.clone(), false)).err();
    assert_eq!(refused.expect("past the bound").field, "faults");
    let setup = prepare(&Pbft, &scenario(faults, true)).expect("beyond on purpose");
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Pbft, &setup, lane);
        let verdict = judge(&Pbft, &setup, &report.history);
        assert!(!verdict.safety_ok(), "{lane:?}: {:?}", verdict.violations);
        let names: Vec<&str> = verdict.violations.iter().map(|v| v.property).collect();
        assert!(names.contains(&"commit_agreement"), "{lane:?}: {names:?}");
    }
}

/// The shrinker takes an adversary like any fault: the two equivocators of four,
/// buried in a crash and a heal and lasting to the end of the run, shrink to the two
/// adversaries alone, each with a window of under a second (the run's end no longer
/// needed), and the result still breaks agreement.
#[test]
fn an_agreement_break_by_adversaries_shrinks_to_them() {
    let noise = |at_ms, fault| FaultEvent { at_ms, fault };
    let faults = vec![
        strategy(1, 0, None),
        strategy(2, 0, None),
        noise(40, Fault::Crash { node: n(3) }),
        noise(60, Fault::Restart { node: n(3) }),
        noise(80, Fault::Heal),
    ];
    let s = scenario(faults, true);
    let breaks = |s: &Scenario| {
        let Ok(setup) = prepare(&Pbft, s) else {
            return false;
        };
        let report = run_setup(&Pbft, &setup, Lane::Fast);
        !judge(&Pbft, &setup, &report.history).safety_ok()
    };
    assert!(breaks(&s));
    let shrunk = crate::sim::shrink::shrink(&Pbft, &s, 500, breaks);
    assert!(!shrunk.stopped_early);
    let events = &shrunk.scenario.faults.events;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| matches!(
        e.fault,
        Fault::Strategy {
            duration_ms: Some(d),
            ..
        } if d < 1_000
    )));
    assert!(breaks(&shrunk.scenario));
}
