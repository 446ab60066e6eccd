//! Each kind of smaller-cluster candidate fires on a scenario that allows it and is
//! refused where the protocol refuses it, over a protocol written for the purpose (the
//! harness imports no real one): servers and clients, an odd number of servers, a
//! client's request only, and a `relay` switch standing for a role.

use super::*;
use crate::fault::{Fault, FaultEvent, FaultSchedule};
use crate::protocol::{BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, NoLog, RunSetup};
use crate::scenario::{Cluster, Proposal, ScenarioError};
use crate::value::Value;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
struct Idle;

impl Core for Idle {
    type Msg = u8;
    type State = u8;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = NoLog;
    fn step(&mut self, _: &mut Context<'_>, _: CoreInput<Self>, _: &mut Vec<CoreOutput<Self>>) {}
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct RolesParams {
    servers: Vec<NodeId>,
    clients: Vec<NodeId>,
    relay: bool,
}

/// Servers (an odd number of them, at least one) and clients (only they take
/// requests); a client folds into a server that is not one; `relay` can be switched
/// off.
struct Roles;

impl Protocol for Roles {
    type Core = Idle;
    type Params = RolesParams;

    fn name(&self) -> &'static str {
        "roles"
    }

    fn draft(&self, _: &mut crate::rng::ChaCha8Rng) -> Draft<RolesParams> {
        unreachable!("the tests build their scenarios")
    }

    fn check_params(&self, p: &RolesParams, s: &Scenario) -> Result<(), ScenarioError> {
        let ids = s.cluster.ids();
        if p.servers
            .iter()
            .chain(&p.clients)
            .any(|id| !ids.contains(id))
        {
            return Err(ScenarioError::new("params", "a role names a missing node"));
        }
        if p.servers.len().is_multiple_of(2) {
            return Err(ScenarioError::new("params.servers", "an even number"));
        }
        if let Some(i) = s
            .workload
            .iter()
            .position(|r| !p.clients.contains(&r.proposer))
        {
            return Err(ScenarioError::new(format!("workload[{i}]"), "not a client"));
        }
        Ok(())
    }

    fn without_node(&self, p: &RolesParams, id: NodeId) -> Option<RolesParams> {
        if p.servers == [id] {
            return None;
        }
        let mut out = p.clone();
        out.servers.retain(|&n| n != id);
        out.clients.retain(|&n| n != id);
        Some(out)
    }

    fn merged(&self, p: &RolesParams, from: NodeId, into: NodeId) -> Option<RolesParams> {
        if !p.clients.contains(&from) || p.servers.contains(&from) || p.clients.contains(&into) {
            return None;
        }
        let mut out = p.clone();
        out.clients.retain(|&n| n != from);
        out.clients.push(into);
        Some(out)
    }

    fn smaller_params(&self, p: &RolesParams, _: &Scenario) -> Vec<RolesParams> {
        if !p.relay {
            return Vec::new();
        }
        vec![RolesParams {
            relay: false,
            ..p.clone()
        }]
    }

    fn core(&self, _: &RunSetup<Roles>, _: NodeId) -> Idle {
        Idle
    }

    fn deciders(&self, _: &RunSetup<Roles>) -> Vec<NodeId> {
        Vec::new()
    }
}

fn n(i: u16) -> NodeId {
    NodeId(i)
}

/// Servers n1..n<servers>, clients after them, each client asking once; a crash of
/// the last client and a partition that names every node.
fn scenario(servers: u16, clients: u16, relay: bool) -> Scenario {
    let all = servers + clients;
    let params = RolesParams {
        servers: (1..=servers).map(n).collect(),
        clients: (servers + 1..=all).map(n).collect(),
        relay,
    };
    Scenario {
        workload: (servers + 1..=all)
            .map(|i| Proposal {
                proposer: n(i),
                value: Value::new(format!("v{i}")),
                at_ms: 10,
            })
            .collect(),
        faults: FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 5,
                    fault: Fault::Partition {
                        groups: vec![vec![n(1)], (2..=all).map(n).collect()],
                    },
                },
                FaultEvent {
                    at_ms: 6,
                    fault: Fault::Crash { node: n(all) },
                },
            ],
        },
        liveness_bound_ms: 1_000,
        params: serde_json::to_value(&params).unwrap(),
        ..Scenario::quiet("roles", Cluster::of_size(all), 7)
    }
}

fn params_of(s: &Scenario) -> RolesParams {
    serde_json::from_value(s.params.clone()).unwrap()
}

/// The candidates under the scenario's own seed (the first block).
fn own_seed(s: &Scenario) -> Vec<Scenario> {
    let all = cluster_candidates(&Roles, s);
    assert_eq!(
        all.len() % CUT_SEEDS as usize,
        0,
        "every shape under every seed"
    );
    all[..all.len() / CUT_SEEDS as usize].to_vec()
}

/// Cluster cuts fire: the first candidate takes out several nodes at once, and a cut
/// of the last client takes its request and its crash with it and drops it from the
/// partition; the protocol's refusals hold: no candidate leaves an even number of
/// servers (`check_params`) or takes out the last server (`without_node`).
#[test]
fn cuts_fire_and_respect_refusals() {
    let s = scenario(5, 2, false);
    let first = own_seed(&s);
    assert!(
        first[0].cluster.len() <= s.cluster.len() - 2,
        "{:?}",
        first[0].cluster
    );
    let without_last = first
        .iter()
        .find(|c| c.cluster.ids() == (1..=6).map(n).collect::<Vec<_>>())
        .expect("a cut of the last client");
    assert_eq!(without_last.workload.len(), 1);
    assert_eq!(without_last.faults.events.len(), 1, "its crash is gone");
    assert!(matches!(
        &without_last.faults.events[0].fault,
        Fault::Partition { groups } if groups[1] == (2..=6).map(n).collect::<Vec<_>>()
    ));
    for c in cluster_candidates(&Roles, &s) {
        assert_eq!(params_of(&c).servers.len() % 2, 1, "{c:?}");
        assert!(prepare(&Roles, &c).is_ok());
    }
    // One server: the protocol refuses to lose it, so only clients leave.
    for c in cluster_candidates(&Roles, &scenario(1, 2, false)) {
        assert_eq!(params_of(&c).servers, vec![n(1)]);
    }
}

/// Merges fire: a client folds into a server that takes no request, which then takes
/// its request; refused where the protocol refuses (a server folding anywhere) and
/// where the node taking it in already has a request.
#[test]
fn merges_fire_and_respect_refusals() {
    let s = scenario(3, 2, false);
    let candidates = own_seed(&s);
    let merged = candidates
        .iter()
        .find(|c| {
            c.cluster.len() == 4
                && c.workload.len() == 2
                && c.workload
                    .iter()
                    .any(|r| r.proposer == n(1) && r.value.as_str() == "v5")
        })
        .expect("client n5 folded into server n1");
    assert_eq!(params_of(merged).clients, vec![n(4), n(1)]);
    for c in &candidates {
        let p = params_of(c);
        for r in &c.workload {
            assert_eq!(
                c.workload
                    .iter()
                    .filter(|q| q.proposer == r.proposer)
                    .count(),
                1
            );
        }
        // A server never folds: every candidate that keeps both requests lost a client.
        if c.workload.len() == 2 && c.cluster.len() == 4 {
            assert!(p.servers.len() == 3, "{p:?}");
        }
    }
}

/// One request fewer fires for each request; a role fewer fires when the protocol
/// offers one and not otherwise.
#[test]
fn fewer_requests_and_roles_fire() {
    let s = scenario(3, 2, true);
    let candidates = own_seed(&s);
    let same_cluster: Vec<&Scenario> = candidates
        .iter()
        .filter(|c| c.cluster == s.cluster)
        .collect();
    assert!(same_cluster
        .iter()
        .any(|c| c.workload.len() == 1 && c.workload[0].proposer == n(4)));
    assert!(same_cluster
        .iter()
        .any(|c| c.workload.len() == 1 && c.workload[0].proposer == n(5)));
    assert!(same_cluster.iter().any(|c| !params_of(c).relay));
    let no_relay = scenario(3, 2, false);
    assert!(own_seed(&no_relay)
        .iter()
        .filter(|c| c.cluster == no_relay.cluster)
        .all(|c| !params_of(c).relay && c.workload.len() == 1));
}

/// Every shape is offered under its own seed first, then under each derived seed in
/// turn, the same way on every call.
#[test]
fn shapes_come_seed_by_seed() {
    let s = scenario(3, 2, true);
    let all = cluster_candidates(&Roles, &s);
    let shapes = all.len() / CUT_SEEDS as usize;
    assert!(shapes > 3);
    for (i, block) in all.chunks(shapes).enumerate() {
        let seed = if i == 0 {
            s.seed
        } else {
            run_seed(s.seed, i as u64)
        };
        assert!(block.iter().all(|c| c.seed == seed));
        for (a, b) in block.iter().zip(&all[..shapes]) {
            assert_eq!(
                Scenario {
                    seed: 0,
                    ..a.clone()
                },
                Scenario {
                    seed: 0,
                    ..b.clone()
                }
            );
        }
    }
    assert_eq!(all, cluster_candidates(&Roles, &s));
}
