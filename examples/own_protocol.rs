//! Test your own protocol with gauntlet, in three steps.
//!
//! The protocol here is "leader echo", small on purpose: the node with the lowest id
//! is the leader; every other node forwards its client's value to the leader; the
//! leader decides the first value it gets (its own or a forwarded one) and echoes the
//! decision to everyone, who decide it too. It carries one planted bug,
//! `impatient_follower`: a follower that has waited long enough decides its own value,
//! a plausible-looking shortcut that gauntlet catches.
//!
//! 1. Write the protocol as a sans-IO core (`Core`): messages, durable state, timers,
//!    trace events, and a `step` from one input to a list of outputs. No I/O, no
//!    clock, no randomness.
//! 2. Plug it in (`Protocol`): a name, a draft of cluster and workload per seed, how
//!    to build each node's core, who must decide, its planted bugs. Agreement,
//!    validity, decision integrity and liveness come for free from the events the
//!    core observes as `Proposed`/`Decided`.
//! 3. Hand it to gauntlet's command line: `main` is one line, and every command
//!    works for this protocol, in both lanes:
//!
//! ```text
//! cargo run --release --example own_protocol -- explore --lane fast --runs 2000
//! cargo run --release --example own_protocol -- explore --lane fast --bug impatient_follower
//! cargo run --release --example own_protocol -- replay <the saved failure>
//! cargo run --release --example own_protocol -- shrink <the saved failure>
//! ```
//!
//! `cargo test` runs the tests at the bottom: a campaign, a shrink, a replay and a
//! corpus check, each one library call.

use gauntlet::ids::NodeId;
use gauntlet::protocol::{
    BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, NoLog, Observation, Peers, PlantedBug,
    Protocol, RunSetup,
};
use gauntlet::rng::ChaCha8Rng;
use gauntlet::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::process::ExitCode;

// ---- 1. The core -------------------------------------------------------------------

const TICK_MS: u64 = 20;
/// Ticks an impatient follower waits before deciding its own value.
const PATIENCE_TICKS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq)]
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
            out.push(CoreOutput::Event(BasicEvent::Decided(value)));
        }
    }
}

impl Core for EchoNode {
    type Msg = Msg;
    type State = Disk;
    type Event = BasicEvent;
    type Timer = Tick;
    type Entry = NoLog;

    /// What the generic judges read: `Proposed` and `Decided` events.
    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let tick = CoreOutput::SetTimer {
            timer: Tick,
            delay_ms_min: TICK_MS,
            delay_ms_max: TICK_MS,
        };
        match input {
            CoreInput::Start { recovered, .. } => {
                self.decided = recovered.and_then(|disk| disk.decided);
                out.push(tick);
            }
            CoreInput::ClientRequest { value } => {
                out.push(CoreOutput::Event(BasicEvent::Proposed(value.clone())));
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

/// Leader echo, as gauntlet sees it.
#[derive(Debug, Clone, Copy, Default)]
struct LeaderEcho;

/// The planted bug: an impatient follower decides its own value.
const IMPATIENT: PlantedBug = PlantedBug {
    name: "impatient_follower",
    description: "a follower that waited long enough decides its own value",
};

impl Protocol for LeaderEcho {
    type Core = EchoNode;
    /// Leader echo has no parameters of its own.
    type Params = ();

    fn name(&self) -> &'static str {
        "leader_echo"
    }

    /// 3 to 5 peers, proposing at random times in the first half of a fault horizon of
    /// 0.1 to 1 s (about where this protocol decides).
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        let peers = Peers {
            sizes: &[3, 4, 5],
            horizon_ms: (100, 1_000),
            propose_at_start: false,
            liveness_bound_ms: 5_000,
        };
        peers.draft(rng, ())
    }

    /// A leader and somebody to echo to.
    fn nodes_min(&self) -> usize {
        2
    }

    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> EchoNode {
        let members = setup.scenario.cluster.ids();
        EchoNode {
            id,
            leader: *members.iter().min().expect("a cluster has nodes"),
            members,
            impatient: setup.has_bug(IMPATIENT.name),
            proposal: None,
            decided: None,
            ticks_waited: 0,
        }
    }

    /// Every node must decide once the faults heal.
    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        setup.scenario.cluster.ids()
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &[IMPATIENT]
    }
}

// ---- 3. The whole command line -----------------------------------------------------

fn main() -> ExitCode {
    gauntlet::cli::main_with(LeaderEcho)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gauntlet::explore::corpus::{check_corpus, CorpusEntry};
    use gauntlet::explore::{
        explore, run_and_check, shrink_failure, CampaignConfig, Lane, ProtocolRef,
    };
    use std::sync::atomic::AtomicBool;

    const ECHO: ProtocolRef = &LeaderEcho;

    fn campaign(bugs: &[&str], runs: u64, dir: Option<std::path::PathBuf>) -> CampaignConfig {
        CampaignConfig {
            runs,
            base_seed: 7,
            jobs: 1,
            bugs: bugs.iter().map(|b| b.to_string()).collect(),
            failures_dir: dir,
            lane: Lane::Fast,
            protocol: ECHO,
            shard: gauntlet::explore::Shard::WHOLE,
            stop_rule: gauntlet::explore::StopRule::KeepGoing {
                saved_bytes_max: u64::MAX,
            },
            guided: false,
        }
    }

    /// The correct protocol holds every property over 2,000 fast-lane runs with the
    /// full fault mix, and reaches its coverage states: the contract judges a user's
    /// protocol like a built-in one.
    #[test]
    fn leader_echo_holds_under_faults() {
        let summary = explore(
            &campaign(&[], 2_000, None),
            &AtomicBool::new(false),
            |_, _| {},
        );
        assert_eq!(summary.runs_done, 2_000);
        assert!(
            summary.failures.is_empty(),
            "{:?}",
            summary.failures.first()
        );
        assert!(summary.coverage.get("value_chosen") > 0);
    }

    /// The planted bug breaks agreement in a fast-lane campaign; the saved failure
    /// shrinks (never growing), replays to the same trace in its lane, and a corpus
    /// of it is checked in one call, the way a user's `cargo test` keeps it.
    #[test]
    fn impatient_follower_is_caught_shrunk_replayed_and_kept() {
        let dir = std::env::temp_dir().join(format!("leader-echo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = campaign(&["impatient_follower"], 2_000, Some(dir.join("failures")));
        let summary = explore(&config, &AtomicBool::new(false), |_, _| {});
        let failure = summary
            .failures
            .iter()
            .find(|f| f.violations.iter().any(|v| v.property == "agreement"))
            .expect("agreement broken within 2,000 runs");
        let path = failure.saved.clone().expect("saved").expect("saved ok");
        let (entry, protocol) =
            CorpusEntry::load(&path, &|name| (name == "leader_echo").then_some(ECHO))
                .expect("loads");
        let shrunk = shrink_failure(protocol, Lane::Fast, &entry.scenario, "agreement", 300);
        let small = &shrunk.scenario;
        assert!(small.faults.events.len() <= entry.scenario.faults.events.len());
        let once = run_and_check(ECHO, Lane::Fast, small);
        let twice = run_and_check(ECHO, Lane::Fast, small);
        assert!(once.violates("agreement"));
        assert_eq!(once.trace.render(), twice.trace.render(), "replays exactly");
        // Keep it as a known failure and check the corpus in one call.
        let mut kept = CorpusEntry::from_judged(small, &once);
        kept.lane = Lane::Fast;
        kept.reproduced_in_turmoil = Some(false);
        kept.save(&dir.join("corpus/known-failures"))
            .expect("saved");
        assert_eq!(check_corpus(&[ECHO], &dir.join("corpus")), Ok(1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
