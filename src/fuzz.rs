//! The bodies of the fuzz targets, as library functions: `fuzz/` only forwards bytes
//! here, and `cargo test` runs the same functions over the checked-in inputs in
//! `fuzz/corpus/<target>/`, so every target is exercised on stable Rust.
//!
//! Each function panics on a finding (a property violation, a codec mismatch), which
//! is what libFuzzer reports as a crash.

use crate::check::{check_safety, Roster};
use crate::fault::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::net::{decode, encode};
use crate::paxos::{
    DurableState, Input, Membership, Msg, Node, Output, Roles, Timer, TimingConfig, Value,
};
use crate::sim::Scenario;
use arbitrary::Unstructured;

/// `wire`: any bytes either fail to decode (never a panic), or decode to a message that
/// re-encodes to exactly the same bytes.
pub fn wire(data: &[u8]) {
    if let Ok(envelope) = decode(data) {
        assert_eq!(
            encode(&envelope),
            data,
            "decode then encode changed the bytes"
        );
    }
}

/// A scenario from fuzz bytes: cluster and workload from a seed, then a fault schedule
/// read field by field, so the fuzzer steers the faults directly. Missing bytes read
/// as zeros (so every input makes a scenario); `None` only if the result is invalid.
pub fn scenario_from_bytes(data: &[u8]) -> Option<Scenario> {
    let mut u = Unstructured::new(data);
    let seed: u64 = u.arbitrary().ok()?;
    let mut scenario = Scenario::generate(seed);
    let nodes = scenario.cluster.ids();
    let pick = |u: &mut Unstructured| -> NodeId { nodes[u.choose_index(nodes.len()).unwrap_or(0)] };
    let mut events = Vec::new();
    while events.len() < 16 && !u.is_empty() {
        let at_ms = u64::from(u.arbitrary::<u16>().unwrap_or(0) % 3_000);
        let fault = match u.arbitrary::<u8>().unwrap_or(0) % 6 {
            0 => {
                let groups = nodes.iter().fold(vec![Vec::new(); 3], |mut g, n| {
                    g[usize::from(u.arbitrary::<u8>().unwrap_or(0) % 3)].push(*n);
                    g
                });
                Fault::Partition { groups }
            }
            1 => Fault::PartitionOneWay {
                from: vec![pick(&mut u)],
                to: vec![pick(&mut u)],
            },
            2 => Fault::Heal,
            3 => Fault::LinkFaults {
                link: if u.arbitrary().unwrap_or(false) {
                    Some((pick(&mut u), pick(&mut u)))
                } else {
                    None
                },
                faults: LinkFaults {
                    drop_probability: f64::from(u.arbitrary::<u8>().unwrap_or(0)) / 512.0,
                    duplicate_probability: f64::from(u.arbitrary::<u8>().unwrap_or(0)) / 400.0,
                    delay_ms_max: u64::from(u.arbitrary::<u8>().unwrap_or(0)),
                },
            },
            4 => Fault::Crash { node: pick(&mut u) },
            _ => Fault::Restart { node: pick(&mut u) },
        };
        events.push(FaultEvent { at_ms, fault });
    }
    scenario.faults = FaultSchedule { events }.sorted();
    scenario.validate().ok()?;
    Some(scenario)
}

/// `scenario`: the bytes become a scenario, which runs in the turmoil lane; any
/// property violation is a crash, printed with the scenario to keep.
pub fn scenario(data: &[u8]) {
    scenario_in(crate::explore::Lane::Turmoil, data)
}

/// `scenario_fast`: the same, in the fast lane: the same bytes mean the same scenario,
/// at thousands of executions per second, so coverage guidance has room to work.
/// A crash found here replays in the turmoil lane with `gauntlet replay`.
pub fn scenario_fast(data: &[u8]) {
    scenario_in(crate::explore::Lane::Fast, data)
}

fn scenario_in(lane: crate::explore::Lane, data: &[u8]) {
    let Some(scenario) = scenario_from_bytes(data) else {
        return;
    };
    let judged = crate::explore::run_and_check_in(lane, &scenario);
    if let Some(v) = judged.verdict.violations.first() {
        panic!(
            "{v}\nscenario: {}",
            serde_json::to_string(&scenario).expect("scenarios serialize")
        );
    }
}

/// `paxos_core`: the Paxos cores stepped directly, with no simulator: the bytes choose,
/// step by step, which in-flight message to deliver, duplicate or drop, which timer to
/// fire, which node to restart (from what it last persisted) and when clients ask.
/// Agreement, validity and learner integrity are checked after every step.
pub fn paxos_core(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let acceptors = 1 + usize::from(u.arbitrary::<u8>().unwrap_or(0) % 5) as u16;
    let proposers = 1 + usize::from(u.arbitrary::<u8>().unwrap_or(0) % 3) as u16;
    let acceptor_ids: Vec<NodeId> = (1..=acceptors).map(NodeId).collect();
    let proposer_ids: Vec<NodeId> = (acceptors + 1..=acceptors + proposers)
        .map(NodeId)
        .collect();
    let members = Membership {
        acceptors: acceptor_ids.clone(),
        learners: acceptor_ids.clone(),
        proposers: proposer_ids.clone(),
    };
    let roster = Roster {
        acceptors: acceptor_ids.clone(),
        learners: acceptor_ids.clone(),
        proposers: proposer_ids.clone(),
    };
    let server = Roles {
        acceptor: true,
        learner: true,
        proposer: false,
    };
    let client = Roles {
        proposer: true,
        ..Roles::default()
    };
    let roles = |id: NodeId| {
        if acceptor_ids.contains(&id) {
            server
        } else {
            client
        }
    };
    let all: Vec<NodeId> = acceptor_ids.iter().chain(&proposer_ids).copied().collect();
    let new_node = |id: NodeId| Node::new(id, roles(id), members.clone(), TimingConfig::default());

    let mut nodes: Vec<Node> = all.iter().map(|&id| new_node(id)).collect();
    let mut disks: Vec<Option<DurableState>> = vec![None; all.len()];
    let mut timers: Vec<Vec<Timer>> = vec![Vec::new(); all.len()];
    let mut in_flight: Vec<(NodeId, NodeId, Msg)> = Vec::new();
    let mut history = History::default();
    let mut out = Vec::new();

    let apply = |i: usize,
                 out: &mut Vec<Output>,
                 history: &mut History,
                 disks: &mut Vec<Option<DurableState>>,
                 timers: &mut Vec<Vec<Timer>>,
                 in_flight: &mut Vec<(NodeId, NodeId, Msg)>,
                 step: u64| {
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg } => {
                    if in_flight.len() < 4_096 {
                        in_flight.push((all[i], to, msg));
                    }
                }
                Output::Persist(state) => disks[i] = Some(state),
                Output::SetTimer { timer, .. } => {
                    if timers[i].len() < 64 {
                        timers[i].push(timer);
                    }
                }
                Output::Note(note) => history.push(step, Some(all[i]), EventKind::Protocol(note)),
            }
        }
    };

    for (i, node) in nodes.iter_mut().enumerate() {
        node.step(Input::Start { recovered: None }, &mut out);
        apply(
            i,
            &mut out,
            &mut history,
            &mut disks,
            &mut timers,
            &mut in_flight,
            0,
        );
    }
    let mut step = 0u64;
    while !u.is_empty() && step < 2_000 {
        step += 1;
        let op = u.arbitrary::<u8>().unwrap_or(0) % 6;
        let pick = |u: &mut Unstructured, len: usize| u.choose_index(len.max(1)).unwrap_or(0);
        match op {
            // Deliver (0), duplicate: deliver but keep (1), or drop (2) an in-flight message.
            0..=2 if !in_flight.is_empty() => {
                let k = pick(&mut u, in_flight.len());
                let (from, to, msg) = if op == 1 {
                    in_flight[k].clone()
                } else {
                    in_flight.swap_remove(k)
                };
                if op == 2 {
                    continue;
                }
                let Some(i) = all.iter().position(|&n| n == to) else {
                    continue;
                };
                nodes[i].step(Input::Receive { from, msg }, &mut out);
                apply(
                    i,
                    &mut out,
                    &mut history,
                    &mut disks,
                    &mut timers,
                    &mut in_flight,
                    step,
                );
            }
            3 => {
                let i = pick(&mut u, all.len());
                if timers[i].is_empty() {
                    continue;
                }
                let t = pick(&mut u, timers[i].len());
                let timer = timers[i].swap_remove(t);
                nodes[i].step(Input::TimerFired { timer }, &mut out);
                apply(
                    i,
                    &mut out,
                    &mut history,
                    &mut disks,
                    &mut timers,
                    &mut in_flight,
                    step,
                );
            }
            4 => {
                // Crash and restart: memory and timers are lost, the disk survives.
                let i = pick(&mut u, all.len());
                nodes[i] = new_node(all[i]);
                timers[i].clear();
                nodes[i].step(
                    Input::Start {
                        recovered: disks[i].clone(),
                    },
                    &mut out,
                );
                apply(
                    i,
                    &mut out,
                    &mut history,
                    &mut disks,
                    &mut timers,
                    &mut in_flight,
                    step,
                );
            }
            _ => {
                let p = pick(&mut u, proposer_ids.len());
                let i = all
                    .iter()
                    .position(|&n| n == proposer_ids[p])
                    .expect("a proposer");
                let value = Value::new(format!("Value_{}", (b'A' + p as u8) as char));
                history.push(
                    step,
                    Some(all[i]),
                    EventKind::ClientRequest {
                        value: value.clone(),
                    },
                );
                nodes[i].step(Input::ClientRequest { value }, &mut out);
                apply(
                    i,
                    &mut out,
                    &mut history,
                    &mut disks,
                    &mut timers,
                    &mut in_flight,
                    step,
                );
            }
        }
        let violations = check_safety(&history, &roster);
        if let Some(v) = violations.first() {
            panic!("after step {step}: {v}\n{}", v.render_witness(&history));
        }
    }
}
