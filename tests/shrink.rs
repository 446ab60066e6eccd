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
use gauntlet::scenario::{Cluster, NetworkConfig, Proposal, Scenario};
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
        seed,
        protocol: "paxos".into(),
        cluster: Cluster::of_size(servers),
        network: NetworkConfig::default(),
        workload: (1..=proposers)
            .map(|i| Proposal {
                proposer: n(i),
                value: Value::new(format!("Value_{i}")),
                at_ms: 0,
            })
            .collect(),
        faults: Default::default(),
        liveness_bound_ms: 10_000,
        params: serde_json::to_value(PaxosParams::from_roles(&nodes)).unwrap(),
        bugs: vec![bug.name().to_string()],
        byzantine_beyond_tolerance: false,
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
        seed: 1,
        protocol: protocol.into(),
        cluster: Cluster::of_size(size),
        network: NetworkConfig::default(),
        workload: Vec::new(),
        faults: Default::default(),
        liveness_bound_ms: 10_000,
        params: serde_json::Value::Null,
        bugs: Vec::new(),
        byzantine_beyond_tolerance: false,
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
