//! The contract's durable log, clock, random stream, incarnation and message limit,
//! through a small protocol of its own ([`Ledger`]): each node appends an entry per
//! tick (drawn from its own stream), now and then cuts its last entry, and tells its
//! peers its length. Both lanes must run it alike, recover exactly the log a crash
//! leaves (synced entries kept, unsynced ones lost), and end a run whose core builds
//! an oversize message with an error naming the node and the message kind.

use crate::support::{lane_name, seed_override};
use gauntlet::explore::AnyProtocol;
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::protocol::{
    BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, Peers, Protocol, RunSetup,
};
use gauntlet::rng::Draw;
use gauntlet::scenario::Scenario;
use gauntlet::sim::{run, Lane, RunEnd};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One log entry: its position when appended and a draw from the node's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    position: u64,
    draw: u64,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.position, self.draw)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct LedgerParams {
    /// Append without fsync (what a planted bug would do).
    unsynced: bool,
    /// Pad every message past the 1,024-byte default limit.
    oversize: bool,
}

#[derive(Debug, Clone)]
struct Ledger {
    peers: Vec<NodeId>,
    params: LedgerParams,
    /// The log's length as this incarnation knows it.
    len: u64,
    ticks: u64,
}

const TICK: CoreOutput<Ledger> = CoreOutput::SetTimer {
    timer: (),
    delay_ms_min: 3,
    delay_ms_max: 9,
};

impl Core for Ledger {
    type Msg = String;
    type State = u64;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = Entry;

    fn msg_kind(_msg: &String) -> &'static str {
        "length"
    }

    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        // Every event says the time the core was told, which must be the event's time.
        let note =
            |text: String| CoreOutput::Event(BasicEvent::Note(format!("at {} {text}", cx.now_ms)));
        match input {
            CoreInput::Start {
                incarnation, log, ..
            } => {
                // The recovered log is whole: entry i sits at position i.
                let whole = log.iter().enumerate().all(|(i, e)| e.position == i as u64);
                self.len = log.len() as u64;
                out.push(note(format!(
                    "start #{incarnation} log {} whole {whole}",
                    self.len
                )));
                out.push(TICK);
            }
            CoreInput::TimerFired { .. } => {
                self.ticks += 1;
                if self.ticks.is_multiple_of(5) && self.len > 0 {
                    self.len -= 1;
                    out.push(CoreOutput::Truncate { len: self.len });
                } else {
                    let entry = Entry {
                        position: self.len,
                        draw: cx.rng.between(0, 999),
                    };
                    self.len += 1;
                    out.push(if self.params.unsynced {
                        CoreOutput::AppendUnsynced(vec![entry])
                    } else {
                        CoreOutput::Append(vec![entry])
                    });
                }
                let pad = if self.params.oversize { 2_000 } else { 0 };
                for &to in &self.peers {
                    let msg = format!("{}{}", self.len, " ".repeat(pad));
                    out.push(CoreOutput::Send { to, msg });
                }
                out.push(TICK);
            }
            CoreInput::Receive { from, msg } => {
                out.push(note(format!("{from} has {}", msg.trim_end())));
            }
            CoreInput::ClientRequest { .. } => {}
        }
    }
}

struct LedgerProtocol;

impl Protocol for LedgerProtocol {
    type Core = Ledger;
    type Params = LedgerParams;

    fn name(&self) -> &'static str {
        "ledger"
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<LedgerParams> {
        Peers {
            sizes: &[2, 3],
            horizon_ms: (150, 300),
            propose_at_start: true,
            liveness_bound_ms: 100,
        }
        .draft(rng, LedgerParams::default())
    }

    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> Ledger {
        let ids = setup.scenario.cluster.ids();
        Ledger {
            peers: ids.into_iter().filter(|&p| p != id).collect(),
            params: setup.params.clone(),
            len: 0,
            ticks: 0,
        }
    }

    /// Nobody owes a decision: a run ends when its faults heal.
    fn deciders(&self, _setup: &RunSetup<Self>) -> Vec<NodeId> {
        Vec::new()
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &["length"]
    }

    fn properties(&self) -> Vec<gauntlet::protocol::Judge<Self>> {
        Vec::new()
    }
}

fn scenario(seed: u64, params: serde_json::Value) -> Scenario {
    Scenario {
        params,
        ..AnyProtocol::generate(&LedgerProtocol, seed)
    }
}

/// What a node's log should hold after each crash, replayed from the history's own
/// record of its writes, checked against what every later start recovered. Returns
/// how many entries crashes lost, over all nodes.
fn check_recovery(history: &History<Ledger>, context: &str) -> u64 {
    #[derive(Default)]
    struct Disk {
        synced: u64,
        unsynced: u64,
        written: u64,
    }
    let mut disks: BTreeMap<NodeId, Disk> = BTreeMap::new();
    let mut lost = 0u64;
    let events = &history.events;
    for (i, e) in events.iter().enumerate() {
        match (&e.kind, e.node) {
            (EventKind::Crashed { node }, None) => {
                let disk = disks.entry(*node).or_default();
                lost += disk.unsynced;
                disk.unsynced = 0;
            }
            (EventKind::Appended { entries }, Some(n)) => {
                let disk = disks.entry(n).or_default();
                disk.synced += disk.unsynced + entries.len() as u64;
                disk.unsynced = 0;
                disk.written += entries.len() as u64;
            }
            (EventKind::AppendedUnsynced { entries }, Some(n)) => {
                let disk = disks.entry(n).or_default();
                disk.unsynced += entries.len() as u64;
                disk.written += entries.len() as u64;
            }
            (EventKind::Truncated { len }, Some(n)) => {
                let disk = disks.entry(n).or_default();
                disk.synced = (disk.synced + disk.unsynced).min(*len);
                disk.unsynced = 0;
            }
            (EventKind::Started { .. }, Some(n)) => {
                let disk = disks.entry(n).or_default();
                let recovered = match events.get(i + 1).map(|next| (&next.kind, next.node)) {
                    Some((EventKind::LogRecovered { len }, Some(m))) if m == n => *len,
                    _ => 0,
                };
                assert_eq!(
                    recovered,
                    disk.synced + disk.unsynced,
                    "{context}: {n} recovered the wrong log at event {i}"
                );
            }
            (EventKind::Protocol(BasicEvent::Note(text)), Some(n)) => {
                let told: u64 = text
                    .strip_prefix("at ")
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|ms| ms.parse().ok())
                    .expect("every note starts with its time");
                assert_eq!(
                    told, e.at_ms,
                    "{context}: {n}'s core was told the wrong time"
                );
                assert!(!text.contains("whole false"), "{context}: {n}: {text}");
            }
            _ => {}
        }
    }
    lost
}

/// Over generated scenarios with crashes, both lanes write the same trace for a
/// protocol with a log and a random stream; every start recovers exactly the synced
/// log (nothing lost when every append is fsynced); the core is told each event's time.
#[test]
fn synced_log_survives_every_crash_alike_in_both_lanes() {
    let seeds: Vec<u64> = match seed_override() {
        Some(seed) => vec![seed],
        None => (0..60).collect(),
    };
    let mut restarts_with_a_log = 0;
    for seed in seeds {
        let scenario = scenario(seed, serde_json::json!({}));
        let mut traces = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let report = run(&LedgerProtocol, &scenario, lane).expect("the scenario is valid");
            let context = format!(
                "seed {seed}, {} lane (GAUNTLET_SEED={seed} cargo test log_core)",
                lane_name(lane)
            );
            assert_eq!(report.end, RunEnd::Settled, "{context}");
            assert_eq!(check_recovery(&report.history, &context), 0, "{context}");
            restarts_with_a_log += report
                .history
                .events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::LogRecovered { .. }))
                .count();
            traces.push(report.history.render());
        }
        assert_eq!(traces[0], traces[1], "seed {seed}: the lanes differ");
    }
    assert!(
        restarts_with_a_log > 0,
        "no scenario restarted a node with a log"
    );
}

/// With every append unsynced, crashes lose entries, and both lanes lose the same
/// ones: the disk model's crash semantics bite, alike.
#[test]
fn unsynced_appends_die_with_the_node_alike_in_both_lanes() {
    let mut lost_total = 0;
    for seed in 0..60 {
        let scenario = scenario(seed, serde_json::json!({ "unsynced": true }));
        let mut traces = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let report = run(&LedgerProtocol, &scenario, lane).expect("the scenario is valid");
            let context = format!("seed {seed}, {} lane", lane_name(lane));
            lost_total += check_recovery(&report.history, &context);
            traces.push(report.history.render());
        }
        assert_eq!(traces[0], traces[1], "seed {seed}: the lanes differ");
    }
    assert!(lost_total > 0, "no crash lost an unsynced entry");
}

/// A core that builds a message over its limit ends the run, in both lanes, with an
/// error naming the node, the message kind and the limit; it is never sent.
#[test]
fn oversize_message_ends_the_run_naming_node_and_kind() {
    let scenario = scenario(3, serde_json::json!({ "oversize": true }));
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run(&LedgerProtocol, &scenario, lane).expect("the scenario is valid");
        let RunEnd::HarnessError(error) = &report.end else {
            panic!("{} lane: {:?}", lane_name(lane), report.end);
        };
        assert!(
            error.contains("built a length message of") && error.contains("limit"),
            "{} lane: {error}",
            lane_name(lane)
        );
        assert!(
            !report
                .history
                .events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Sent { .. })),
            "{} lane sent an oversize message",
            lane_name(lane)
        );
    }
}
