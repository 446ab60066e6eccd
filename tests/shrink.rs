//! Shrinking to the smallest cluster: the protocols' hooks say what they accept
//! (Paxos folds a client into a server and drops idle roles, PBFT only cuts to
//! `3f + 1`, the generals lower `m`), and a Paxos failure on five acceptors shrinks to
//! three.

use gauntlet::explore::{run_and_check, shrink_failure, Lane};
use gauntlet::ids::NodeId;
use gauntlet::protocol::Protocol;
use gauntlet::protocols::generals::{Generals, GeneralsParams};
use gauntlet::protocols::paxos::{Bug, Paxos, PaxosParams, Roles};
use gauntlet::protocols::pbft::{Pbft, PbftParams};
use gauntlet::scenario::{Cluster, Proposal, Scenario};
use gauntlet::value::Value;

fn n(i: u16) -> NodeId {
    NodeId(i)
}

/// `servers` acceptor-learners n1.., the first `proposers` of them also proposing,
/// each at 0 ms; no faults.
fn colocated(servers: u16, proposers: u16, seed: u64, bug: Bug) -> Scenario {
    let nodes: Vec<(NodeId, Roles)> = (1..=servers)
        .map(|i| {
            let roles = Roles {
                acceptor: true,
                learner: true,
                proposer: i <= proposers,
            };
            (n(i), roles)
        })
        .collect();
    Scenario {
        workload: (1..=proposers)
            .map(|i| Proposal {
                proposer: n(i),
                value: Value::new(format!("Value_{i}")),
                at_ms: 0,
            })
            .collect(),
        liveness_bound_ms: 10_000,
        params: serde_json::to_value(PaxosParams::from_roles(&nodes)).unwrap(),
        bugs: vec![bug.name().to_string()],
        ..Scenario::quiet("paxos", Cluster::of_size(servers), seed)
    }
}

fn paxos_params(s: &Scenario) -> PaxosParams {
    serde_json::from_value(s.params.clone()).unwrap()
}

/// Paxos's merge: a client (a proposer and nothing else) folds into a server, which
/// then proposes in its place; a server never folds, and a client folding into a
/// proposer leaves the proposer list.
#[test]
fn paxos_folds_clients_into_servers_only() {
    let params = PaxosParams {
        acceptors: vec![n(1), n(2), n(3)],
        learners: vec![n(1), n(2), n(3)],
        proposers: vec![n(4), n(5)],
        timing: Default::default(),
    };
    let merged = Paxos.merged(&params, n(5), n(1)).expect("a client folds");
    assert_eq!(merged.proposers, vec![n(4), n(1)]);
    assert_eq!(merged.acceptors, params.acceptors);
    let into_proposer = Paxos.merged(&params, n(5), n(4)).expect("into a proposer");
    assert_eq!(into_proposer.proposers, vec![n(4)]);
    assert_eq!(
        Paxos.merged(&params, n(1), n(2)),
        None,
        "a server never folds"
    );
}

/// Paxos's simpler parameters: a proposer without a request stops proposing, then
/// each learner but the last may go; with one learner and busy proposers, nothing.
#[test]
fn paxos_drops_idle_proposers_and_extra_learners() {
    let s = colocated(3, 2, 1, Bug::ProposerQuorumOneShort);
    let mut params = paxos_params(&s);
    params.proposers.push(n(3));
    let smaller = Paxos.smaller_params(&params, &s);
    assert_eq!(smaller[0].proposers, vec![n(1), n(2)], "idle n3 first");
    assert_eq!(smaller.len(), 1 + 3, "then each of three learners");
    assert!(smaller[1..].iter().all(|p| p.learners.len() == 2));
    let lean = PaxosParams {
        learners: vec![n(1)],
        ..paxos_params(&s)
    };
    assert!(Paxos.smaller_params(&lean, &s).is_empty());
}

/// A scenario of `size` nodes of `protocol` with nothing in it: what the cluster cuts
/// look at is the cluster and the params.
fn bare_scenario(protocol: &str, size: u16) -> Scenario {
    Scenario {
        liveness_bound_ms: 10_000,
        ..Scenario::quiet(protocol, Cluster::of_size(size), 1)
    }
}

/// PBFT cuts only to `n = 3f + 1`: seven replicas go to four (three at a time), four
/// go nowhere.
#[test]
fn pbft_cuts_only_to_3f_plus_1() {
    let scenario = |size: u16| bare_scenario("pbft", size);
    let params = PbftParams::default();
    let cuts = Pbft.cluster_cuts(&params, &scenario(7));
    assert!(!cuts.is_empty());
    assert!(cuts.iter().all(|c| c.remove.len() == 3), "{cuts:?}");
    assert_eq!(
        cuts[0].remove,
        vec![n(5), n(6), n(7)],
        "the last replicas first"
    );
    assert!(Pbft.cluster_cuts(&params, &scenario(4)).is_empty());
    let ten = Pbft.cluster_cuts(&params, &scenario(10));
    assert_eq!(ten[0].remove.len(), 6, "ten to four before ten to seven");
}

/// The generals offer OM(m - 1) while `m > 1`.
#[test]
fn generals_lower_m() {
    let s = bare_scenario("generals", 7);
    let two = GeneralsParams {
        m: 2,
        ..GeneralsParams::default()
    };
    let lower = Generals::WITHIN_BOUND.smaller_params(&two, &s);
    assert_eq!(lower.len(), 1);
    assert_eq!(lower[0].m, 1);
    assert!(Generals::WITHIN_BOUND
        .smaller_params(&lower[0], &s)
        .is_empty());
}

/// A Paxos failure on five acceptors (two of them proposing, no faults: a proposer
/// that counts a quorum one short) shrinks to three acceptors, the smallest cluster
/// where one short of a majority is still a node, and still breaks agreement. The
/// first failing seed of 1..=200 is found the same way every time.
#[test]
fn five_acceptors_shrink_to_three() {
    let fails = |s: &Scenario| run_and_check(&Paxos, Lane::Fast, s).violates("agreement");
    let failing = (1..=200)
        .map(|seed| colocated(5, 2, seed, Bug::ProposerQuorumOneShort))
        .find(|s| fails(s))
        .expect("a seed of 1..=200 breaks agreement on five acceptors");
    let shrunk = shrink_failure(&Paxos, Lane::Fast, &failing, "agreement", 2_000);
    assert!(!shrunk.stopped_early, "within the budget");
    let params = paxos_params(&shrunk.scenario);
    assert_eq!(params.acceptors.len(), 3, "{:?}", shrunk.scenario);
    assert!(shrunk.scenario.cluster.len() <= 3);
    assert!(fails(&shrunk.scenario));
}

/// Every kept Paxos failure is at three acceptors or fewer, as the cluster shrinker
/// left them (docs/bugs.md, "Shrinking to the smallest cluster"): a failure kept
/// later on a larger cluster has to be shrunk first.
#[test]
fn kept_paxos_failures_have_at_most_three_acceptors() {
    let entries = crate::support::known_failures();
    let paxos: Vec<_> = entries
        .iter()
        .filter(|e| e.scenario.protocol == "paxos")
        .collect();
    assert!(paxos.len() >= 14, "{} kept Paxos failures", paxos.len());
    for e in paxos {
        let params = paxos_params(&e.scenario);
        assert!(
            params.acceptors.len() <= 3,
            "{}: {} acceptors",
            e.file_name(),
            params.acceptors.len()
        );
    }
}

/// The first of seeds 1..=200 of three co-located acceptors (two proposing) on which
/// `bug` breaks `property` in the fast lane.
fn first_failing(bug: Bug, property: &str) -> Scenario {
    (1..=200)
        .map(|seed| colocated(3, 2, seed, bug))
        .find(|s| run_and_check(&Paxos, Lane::Fast, s).violates(property))
        .unwrap_or_else(|| panic!("a seed of 1..=200 breaks {property} with {bug:?}"))
}

/// A stop (`Scenario::stop_at_ms`) ends the run at its millisecond, in both lanes
/// alike: the stopped trace is the whole run's up to the stop (only the last line,
/// the run's end, differs), the two lanes give it one digest, and the safety
/// violation before the stop is still judged.
#[test]
fn a_stop_ends_the_run_there_in_both_lanes() {
    let whole = first_failing(Bug::ProposerQuorumOneShort, "agreement");
    let full = run_and_check(&Paxos, Lane::Fast, &whole);
    let violation = &full.verdict.violations[0];
    let stop_ms = violation.at_ms + 1;
    assert!(stop_ms < full.sim_ms, "the run goes on past its violation");
    let stopped = Scenario {
        stop_at_ms: Some(stop_ms),
        ..whole.clone()
    };
    let fast = run_and_check(&Paxos, Lane::Fast, &stopped);
    let turmoil = run_and_check(&Paxos, Lane::Turmoil, &stopped);
    assert_eq!(fast.end, gauntlet::sim::RunEnd::Stopped);
    assert_eq!(fast.sim_ms, stop_ms);
    assert_eq!(
        fast.trace.digest(),
        turmoil.trace.digest(),
        "the lanes agree"
    );
    assert!(fast.trace.len() < full.trace.len());
    let last = fast.trace.len() - 1;
    for i in 0..last {
        assert_eq!(fast.trace.line(i), full.trace.line(i), "line {i}");
    }
    let end = fast.trace.line(last).unwrap();
    assert!(end.contains("stopped at"), "{end}");
    assert!(fast.violates("agreement"));
    assert_eq!(fast.verdict.violations[0].at_ms, violation.at_ms);
}

/// A stopped run owes no liveness: the liveness judge that fires on the whole run of
/// a proposer that ignores nacks is not asked once the run has a stop, even a stop
/// well into the liveness phase.
#[test]
fn a_stopped_run_is_not_judged_for_liveness() {
    let whole = first_failing(Bug::ProposerIgnoresNacks, "liveness");
    let full = run_and_check(&Paxos, Lane::Fast, &whole);
    assert!(full.violates("liveness"), "the judge fires without a stop");
    let stopped = Scenario {
        stop_at_ms: Some(full.sim_ms - 1),
        ..whole
    };
    let judged = run_and_check(&Paxos, Lane::Fast, &stopped);
    assert_eq!(judged.end, gauntlet::sim::RunEnd::Stopped);
    assert!(
        !judged.violates("liveness"),
        "{:?}",
        judged.verdict.violations
    );
}

/// The shrinker stops a safety failure one millisecond past its violation (the kept
/// trace ends there), and never stops a liveness failure (a stopped run owes no
/// liveness, so that candidate passes and is dropped).
#[test]
fn shrinking_stops_safety_failures_only() {
    let safety = first_failing(Bug::ProposerQuorumOneShort, "agreement");
    let shrunk = shrink_failure(&Paxos, Lane::Fast, &safety, "agreement", 2_000);
    assert!(
        !shrunk.stopped_early,
        "the stop is one step, not a walk to the budget"
    );
    let after = run_and_check(&Paxos, Lane::Fast, &shrunk.scenario);
    assert!(after.violates("agreement"));
    let first = after.verdict.violations[0].at_ms;
    assert_eq!(shrunk.scenario.stop_at_ms, Some(first + 1), "just past it");
    assert_eq!(after.sim_ms, first + 1);

    let liveness = first_failing(Bug::ProposerIgnoresNacks, "liveness");
    let shrunk = shrink_failure(&Paxos, Lane::Fast, &liveness, "liveness", 2_000);
    assert_eq!(shrunk.scenario.stop_at_ms, None);
    assert!(run_and_check(&Paxos, Lane::Fast, &shrunk.scenario).violates("liveness"));
}

/// A stop at 0 ms (a run of nothing) or past the longest run is refused, naming the
/// field; no stop at all (old files) loads as `None`.
#[test]
fn a_bad_stop_is_refused_by_name() {
    let mut s = colocated(3, 1, 1, Bug::ProposerQuorumOneShort);
    s.stop_at_ms = Some(0);
    let err = s.validate().unwrap_err();
    assert_eq!(err.field, "stop_at_ms", "{err}");
    s.stop_at_ms = Some(gauntlet::scenario::SIM_MS_MAX + 1);
    assert_eq!(s.validate().unwrap_err().field, "stop_at_ms");
    s.stop_at_ms = Some(5);
    assert!(s.validate().is_ok());
    let mut json = serde_json::to_value(&s).unwrap();
    json.as_object_mut().unwrap().remove("stop_at_ms");
    let loaded: Scenario = serde_json::from_value(json).unwrap();
    assert_eq!(loaded.stop_at_ms, None);
}

/// Every kept failure the shrinker stopped replays identically in both lanes: the
/// fast lane's digest and the turmoil lane's are the saved one, and both fail the
/// recorded property (a stop ends the run at the same millisecond in either world).
/// check-model's scripts are among them: the turmoil lane's real node shells follow a
/// script to the same trace as the model's replay.
#[test]
fn stopped_kept_failures_replay_identically_in_both_lanes() {
    use gauntlet::explore::corpus::Expect;
    let entries = crate::support::known_failures();
    let stopped: Vec<_> = entries
        .iter()
        .filter(|e| e.scenario.stop_at_ms.is_some() && e.replay_lane() == Lane::Turmoil)
        .collect();
    assert!(
        stopped.len() >= 20,
        "{} stopped kept failures",
        stopped.len()
    );
    assert!(
        stopped.iter().any(|e| e.scenario.faults.script().is_some()),
        "a stopped check-model script"
    );
    for e in stopped {
        let protocol = crate::support::lookup(&e.scenario.protocol).unwrap();
        let Expect::Fail { property } = &e.expect else {
            panic!("{}: a known failure expects a failure", e.file_name());
        };
        for lane in [Lane::Fast, Lane::Turmoil] {
            let judged = run_and_check(protocol, lane, &e.scenario);
            assert_eq!(
                format!("{:016x}", judged.trace.digest()),
                e.digest,
                "{} in {lane:?}",
                e.file_name()
            );
            assert_eq!(
                judged.end,
                gauntlet::sim::RunEnd::Stopped,
                "{}",
                e.file_name()
            );
            assert!(judged.violates(property), "{} in {lane:?}", e.file_name());
        }
    }
}
