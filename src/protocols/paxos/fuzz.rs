//! Paxos's fuzz targets, as library functions (`fuzz/` forwards bytes here, and
//! `cargo test` runs them over the checked-in inputs): the wire codec, and the cores
//! stepped with no simulator at all.

use super::check::{check_safety, History, Roster};
use super::codec::{decode_msg, encode_msg};
use super::{
    DurableState, Input, Membership, Msg, Node, Output, Roles, Timer, TimingConfig, Value,
};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::{begin, split};
use arbitrary::Unstructured;

/// `wire`: any bytes either fail to decode as a Paxos datagram (the harness's
/// envelope, then Paxos's message codec; never a panic), or decode to a message that
/// re-encodes to exactly the same bytes.
pub fn wire(data: &[u8]) {
    let Ok((header, payload)) = split(data, <Node as crate::protocol::Core>::MESSAGE_BYTES_MAX)
    else {
        return;
    };
    if let Ok(msg) = decode_msg(payload) {
        let mut again = Vec::new();
        begin(&mut again, header);
        encode_msg(&msg, &mut again);
        assert_eq!(again, data, "decode then encode changed the bytes");
    }
}

/// The Paxos cores wired together with no simulator: messages wait in a bag until the
/// fuzzer delivers, duplicates or drops them; timers wait until it fires them.
struct CoreNet {
    ids: Vec<NodeId>,
    nodes: Vec<Node>,
    /// What each node last persisted: all a restart keeps.
    disks: Vec<Option<DurableState>>,
    timers: Vec<Vec<Timer>>,
    in_flight: Vec<(NodeId, NodeId, Msg)>,
    history: History,
    /// Bounds, so a long input cannot grow memory without limit.
    in_flight_max: usize,
    timers_max: usize,
}

impl CoreNet {
    /// Step node `i` with `input` at fuzz step `step`; true if it recorded a note (only
    /// then can a safety property newly fail).
    fn step(&mut self, i: usize, input: Input, step: u64) -> bool {
        let mut out = Vec::new();
        self.nodes[i].step(input, &mut out);
        let mut noted = false;
        for o in out {
            match o {
                Output::Send { to, msg } => {
                    if self.in_flight.len() < self.in_flight_max {
                        self.in_flight.push((self.ids[i], to, msg));
                    }
                }
                Output::Persist(state) => self.disks[i] = Some(state),
                // Correct cores never write unsynced; no bug is planted here. Paxos
                // keeps no log.
                Output::PersistUnsynced(_)
                | Output::Append(_)
                | Output::AppendUnsynced(_)
                | Output::Truncate { .. } => {}
                Output::SetTimer { timer, .. } => {
                    if self.timers[i].len() < self.timers_max {
                        self.timers[i].push(timer);
                    }
                }
                Output::Event(note) => {
                    noted = true;
                    self.history
                        .push(step, Some(self.ids[i]), EventKind::Protocol(note));
                }
            }
        }
        noted
    }
}

/// `paxos_core`: the Paxos cores stepped directly, with no simulator: the bytes choose,
/// step by step, which in-flight message to deliver, duplicate or drop, which timer to
/// fire, which node to restart (from what it last persisted) and when clients ask.
/// Agreement, validity and learner integrity are checked after every step that
/// recorded a protocol event.
pub fn paxos_core(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let acceptors = 1 + u16::from(u.arbitrary::<u8>().unwrap_or(0) % 5);
    let proposers = 1 + u16::from(u.arbitrary::<u8>().unwrap_or(0) % 3);
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
    let roles = |id: NodeId| {
        let server = acceptor_ids.contains(&id);
        Roles {
            acceptor: server,
            learner: server,
            proposer: !server,
        }
    };
    let new_node = |id: NodeId| Node::new(id, roles(id), members.clone(), TimingConfig::default());
    let ids: Vec<NodeId> = acceptor_ids.iter().chain(&proposer_ids).copied().collect();
    let mut net = CoreNet {
        nodes: ids.iter().map(|&id| new_node(id)).collect(),
        disks: vec![None; ids.len()],
        timers: vec![Vec::new(); ids.len()],
        in_flight: Vec::new(),
        history: History::default(),
        in_flight_max: 4_096,
        timers_max: 64,
        ids,
    };
    for i in 0..net.ids.len() {
        net.step(
            i,
            Input::Start {
                incarnation: 0,
                recovered: None,
                log: Vec::new(),
            },
            0,
        );
    }
    let pick = |u: &mut Unstructured, len: usize| u.choose_index(len.max(1)).unwrap_or(0);
    let mut step = 0u64;
    while !u.is_empty() && step < 2_000 {
        step += 1;
        let op = u.arbitrary::<u8>().unwrap_or(0) % 6;
        let noted = match op {
            // Deliver (0), duplicate: deliver but keep (1), or drop (2) an in-flight message.
            0..=2 if !net.in_flight.is_empty() => {
                let k = pick(&mut u, net.in_flight.len());
                let (from, to, msg) = if op == 1 {
                    net.in_flight[k].clone()
                } else {
                    net.in_flight.swap_remove(k)
                };
                match net.ids.iter().position(|&n| n == to) {
                    Some(i) if op != 2 => net.step(i, Input::Receive { from, msg }, step),
                    _ => false,
                }
            }
            3 => {
                let i = pick(&mut u, net.ids.len());
                if net.timers[i].is_empty() {
                    continue;
                }
                let t = pick(&mut u, net.timers[i].len());
                let timer = net.timers[i].swap_remove(t);
                net.step(i, Input::TimerFired { timer }, step)
            }
            4 => {
                // Crash and restart: memory and timers are lost, the disk survives.
                let i = pick(&mut u, net.ids.len());
                net.nodes[i] = new_node(net.ids[i]);
                net.timers[i].clear();
                let recovered = net.disks[i].clone();
                net.step(
                    i,
                    Input::Start {
                        incarnation: 0,
                        recovered,
                        log: Vec::new(),
                    },
                    step,
                )
            }
            _ => {
                let p = pick(&mut u, proposer_ids.len());
                let i = acceptor_ids.len() + p;
                let value = Value::new(format!("Value_{}", (b'A' + p as u8) as char));
                net.history.push(
                    step,
                    Some(net.ids[i]),
                    EventKind::ClientRequest {
                        value: value.clone(),
                    },
                );
                net.step(i, Input::ClientRequest { value }, step)
            }
        };
        if noted {
            if let Some(v) = check_safety(&net.history, &roster).first() {
                panic!("after step {step}: {v}\n{}", v.render_witness(&net.history));
            }
        }
    }
}
