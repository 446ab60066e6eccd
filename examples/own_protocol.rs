//! Test your own protocol with gauntlet, in four steps.
//!
//! The protocol here is "leader echo", small on purpose: the node with the lowest id
//! is the leader; every
//! other node forwards its client's value to the leader; the leader decides the first
//! value it gets (its own or a forwarded one) and echoes the decision to everyone,
//! who decide it too. The impatient variant adds one plausible-looking shortcut, a
//! follower that has waited long enough decides its own value, and gauntlet catches it.
//!
//! Run it with `cargo run --release --example own_protocol`; `cargo test` runs the
//! tests at the bottom.
//!
//! 1. Write the protocol as a sans-IO core (`Core`): messages, durable state, timers,
//!    and a `step` from one input to a list of outputs. No I/O, no clock, no randomness.
//! 2. Plug it in (`Protocol`): a name, a scenario generator, and how to start a node.
//!    `run_core` is the async node; the harness supplies network, disk and faults.
//! 3. Run one scenario and judge it: agreement, validity, decision integrity and
//!    liveness come for free from the `Proposed`/`Decided` outputs.
//! 4. Explore many seeds, then shrink the first failure to a small replayable scenario.

use gauntlet::check::Verdict;
use gauntlet::ids::NodeId;
use gauntlet::net::Transport;
use gauntlet::protocol::{
    run_core, Core, CoreInput, CoreNode, CoreOutput, NodeEnv, NodeError, Peers, Protocol, Value,
};
use gauntlet::sim::{run_protocol, shrink::shrink, Scenario};
use gauntlet::storage::Storage;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;

// ---- 1. The core -------------------------------------------------------------------

const TICK_MS: u64 = 20;
/// Ticks an impatient follower waits before deciding its own value.
const PATIENCE_TICKS: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Msg {
    /// Follower to leader: "my client proposes this".
    Forward(Value),
    /// Leader to everyone: "this is decided".
    Decision(Value),
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Forward(v) => write!(f, "Forward({v})"),
            Msg::Decision(v) => write!(f, "Decision({v})"),
        }
    }
}

/// What a node keeps on disk: its decision.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Disk {
    decided: Option<Value>,
}

impl fmt::Display for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.decided {
            Some(v) => write!(f, "decided={v}"),
            None => write!(f, "decided=-"),
        }
    }
}

#[derive(Debug, Clone)]
struct Tick;

#[derive(Debug, Clone)]
struct EchoNode {
    id: NodeId,
    leader: NodeId,
    members: Vec<NodeId>,
    impatient: bool,
    proposal: Option<Value>,
    decided: Option<Value>,
    ticks_waited: u32,
}

impl EchoNode {
    /// Decide `value`: persist first, then announce (the shell executes in order).
    fn decide(&mut self, value: Value, out: &mut Vec<CoreOutput<Self>>) {
        if self.decided.is_none() {
            self.decided = Some(value.clone());
            out.push(CoreOutput::Persist(Disk {
                decided: Some(value.clone()),
            }));
            out.push(CoreOutput::Decided(value));
        }
    }
}

impl Core for EchoNode {
    type Msg = Msg;
    type State = Disk;
    type Timer = Tick;

    fn step(&mut self, input: CoreInput<Self>, out: &mut Vec<CoreOutput<Self>>) {
        let tick = CoreOutput::SetTimer {
            timer: Tick,
            delay_ms_min: TICK_MS,
            delay_ms_max: TICK_MS,
        };
        match input {
            CoreInput::Start { recovered } => {
                self.decided = recovered.and_then(|disk| disk.decided);
                out.push(tick);
            }
            CoreInput::ClientRequest { value } => {
                out.push(CoreOutput::Proposed(value.clone()));
                self.proposal = Some(value.clone());
                if self.id == self.leader {
                    self.decide(value, out);
                }
            }
            CoreInput::Receive { msg, .. } => match msg {
                Msg::Forward(value) if self.id == self.leader => self.decide(value, out),
                Msg::Decision(value) => self.decide(value, out),
                Msg::Forward(_) => {}
            },
            CoreInput::TimerFired { timer: Tick } => {
                match (&self.decided, &self.proposal) {
                    // The leader repeats its decision, so nodes that missed it (a lost
                    // message, a crash) catch up once the network heals.
                    (Some(v), _) if self.id == self.leader => {
                        for &to in self.members.iter().filter(|&&n| n != self.leader) {
                            let msg = Msg::Decision(v.clone());
                            out.push(CoreOutput::Send { to, msg });
                        }
                    }
                    (None, Some(v)) if self.id != self.leader => {
                        self.ticks_waited += 1;
                        if self.impatient && self.ticks_waited > PATIENCE_TICKS {
                            // The shortcut: "the leader must be down; go with mine".
                            self.decide(v.clone(), out);
                        } else {
                            let msg = Msg::Forward(v.clone());
                            out.push(CoreOutput::Send {
                                to: self.leader,
                                msg,
                            });
                        }
                    }
                    _ => {}
                }
                out.push(tick);
            }
        }
    }
}

// ---- 2. The protocol ---------------------------------------------------------------

struct LeaderEcho {
    impatient: bool,
}

impl Protocol for LeaderEcho {
    type Node = CoreNode<EchoNode>;

    fn name(&self) -> &'static str {
        "leader_echo"
    }

    /// 3 to 5 peers, proposing at random times in the first half of a fault horizon of
    /// 0.1 to 1 s (about where this protocol decides).
    fn generate(&self, seed: u64) -> Scenario {
        let peers = Peers {
            sizes: &[3, 4, 5],
            horizon_ms: (100, 1_000),
            propose_at_start: false,
            liveness_bound_ms: 5_000,
            // No message kinds named (`Core::msg_kind` is left at its default), so the
            // generator aims no faults at one kind of message; the rest all apply.
            message_kinds: &[],
        };
        peers.generate(self.name(), seed)
    }

    fn node(&self, scenario: &Scenario, id: NodeId) -> CoreNode<EchoNode> {
        let members = scenario.cluster.ids();
        let core = EchoNode {
            id,
            leader: *members.iter().min().expect("a cluster has nodes"),
            members,
            impatient: self.impatient,
            proposal: None,
            decided: None,
            ticks_waited: 0,
        };
        let request = scenario.workload.iter().find(|p| p.proposer == id);
        CoreNode {
            id,
            core,
            client_request: request.map(|p| (p.at_ms, p.value.clone())),
        }
    }

    fn run_node<T: Transport + 'static, S: Storage + 'static>(
        node: CoreNode<EchoNode>,
        transport: T,
        storage: S,
        env: NodeEnv,
    ) -> impl Future<Output = Result<(), NodeError>> + 'static {
        run_core(node, transport, storage, env)
    }

    /// Every node must decide once the faults heal.
    fn deciders(&self, scenario: &Scenario) -> Vec<NodeId> {
        scenario.cluster.ids()
    }
}

// ---- 3. One run, judged ------------------------------------------------------------

fn judge(protocol: &LeaderEcho, scenario: &Scenario) -> (Verdict, String) {
    let report = run_protocol(protocol, scenario);
    let verdict = protocol.check(&report.history, scenario);
    (verdict, report.history.render())
}

// ---- 4. Explore, then shrink -------------------------------------------------------

/// The first seed in `seeds` whose scenario breaks a property, with its verdict.
fn explore(protocol: &LeaderEcho, seeds: std::ops::Range<u64>) -> Option<(Scenario, Verdict)> {
    seeds.map(|seed| protocol.generate(seed)).find_map(|s| {
        let (verdict, _) = judge(protocol, &s);
        (!verdict.is_ok()).then_some((s, verdict))
    })
}

/// The smallest scenario (fault events, nodes, request times) that still breaks
/// `property`, trying at most `budget` candidates.
fn shrink_failure(protocol: &LeaderEcho, scenario: &Scenario, property: &str) -> Scenario {
    let still_fails = |candidate: &Scenario| {
        let (verdict, _) = judge(protocol, candidate);
        verdict.violations.iter().any(|v| v.property == property)
    };
    shrink(scenario, 500, still_fails).scenario
}

fn main() {
    let correct = LeaderEcho { impatient: false };
    let (verdict, trace) = judge(&correct, &correct.generate(1));
    println!("one run of leader_echo (seed 1):\n{trace}");
    println!("properties held: {}", verdict.is_ok());
    match explore(&correct, 0..200) {
        None => println!("leader_echo: 200 seeds, no violation"),
        Some((s, v)) => println!("leader_echo broke: seed {}: {:?}", s.seed, v.violations),
    }

    let impatient = LeaderEcho { impatient: true };
    let Some((scenario, verdict)) = explore(&impatient, 0..200) else {
        println!("impatient leader_echo: 200 seeds, no violation");
        return;
    };
    let first = &verdict.violations[0];
    println!("impatient leader_echo, seed {}: {first}", scenario.seed);
    let small = shrink_failure(&impatient, &scenario, first.property);
    let (verdict, trace) = judge(&impatient, &small);
    println!(
        "shrunk from {} to {} fault events; its trace:\n{trace}",
        scenario.faults.events.len(),
        small.faults.events.len()
    );
    for v in &verdict.violations {
        println!("VIOLATION {v}");
    }
    // Save `small` as JSON (serde) to replay it later: `run_protocol` with the same
    // scenario gives the same trace, byte for byte.
    println!(
        "{}",
        serde_json::to_string(&small).expect("scenarios serialize")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The correct protocol holds every property over 100 generated scenarios with the
    /// full fault mix: the contract judges a user's protocol like a built-in one.
    #[test]
    fn leader_echo_holds_under_faults() {
        let correct = LeaderEcho { impatient: false };
        if let Some((s, v)) = explore(&correct, 0..100) {
            panic!("seed {}: {:?}", s.seed, v.violations);
        }
    }

    /// The impatient variant breaks agreement within 200 seeds, and shrinking keeps the
    /// breach while the scenario gets no bigger; a replay gives the same trace.
    #[test]
    fn impatient_leader_echo_is_caught_and_shrunk() {
        let impatient = LeaderEcho { impatient: true };
        let (scenario, verdict) = explore(&impatient, 0..200).expect("a violation");
        assert!(verdict.violations.iter().any(|v| v.property == "agreement"));
        let small = shrink_failure(&impatient, &scenario, "agreement");
        assert!(small.faults.events.len() <= scenario.faults.events.len());
        let (verdict, trace) = judge(&impatient, &small);
        assert!(verdict.violations.iter().any(|v| v.property == "agreement"));
        assert_eq!(trace, judge(&impatient, &small).1, "replays exactly");
    }
}
