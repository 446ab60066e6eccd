//! `cargo bench --bench log`: what persisting a growing log costs, per entry.
//!
//! One node appends one entry of 64 bytes per tick until its log holds N entries, in
//! the turmoil lane, whose storage is the real `FileStorage` code over turmoil's
//! simulated filesystem (no disk time in the figure). Two ways to keep the log:
//! - `append`: the durable log (`CoreOutput::Append`), one record per entry;
//! - `snapshot`: the whole log re-serialised into the state on every write
//!   (`CoreOutput::Persist`), what a core had to do before the log existed. It stops
//!   at the 64 KiB record limit.
//!
//! Linear persistence shows as a flat cost per entry as N grows; a snapshot's cost
//! per entry grows with N (quadratic in total). Medians of 5 samples, one core.

use gauntlet::history::{Event, EventKind};
use gauntlet::ids::NodeId;
use gauntlet::protocol::{
    BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, Judge, Protocol, RunSetup, Settle,
};
use gauntlet::scenario::{Cluster, NetworkConfig, Scenario};
use gauntlet::sim::{run, Lane};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

const SAMPLES: usize = 5;
const ENTRY_BYTES: usize = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Params {
    entries: u64,
    snapshot: bool,
}

/// The whole log as one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Snapshot(Vec<String>);

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} entries", self.0.len())
    }
}

#[derive(Debug, Clone)]
struct Writer {
    params: Params,
    log: Vec<String>,
}

impl Core for Writer {
    type Msg = String;
    type State = Snapshot;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = String;

    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let more = match input {
            CoreInput::Start { .. } => true,
            CoreInput::TimerFired { .. } => {
                let entry = format!("{:0width$}", self.log.len(), width = ENTRY_BYTES);
                self.log.push(entry.clone());
                out.push(if self.params.snapshot {
                    CoreOutput::Persist(Snapshot(self.log.clone()))
                } else {
                    CoreOutput::Append(vec![entry])
                });
                (self.log.len() as u64) < self.params.entries
            }
            _ => false,
        };
        if more {
            out.push(CoreOutput::SetTimer {
                timer: (),
                delay_ms_min: 1,
                delay_ms_max: 1,
            });
        }
    }
}

struct LogWriter;

impl Protocol for LogWriter {
    type Core = Writer;
    type Params = Params;

    fn name(&self) -> &'static str {
        "log_writer"
    }

    fn draft(&self, _rng: &mut ChaCha8Rng) -> Draft<Params> {
        unreachable!("the benchmark builds its scenarios")
    }

    fn core(&self, setup: &RunSetup<Self>, _id: NodeId) -> Writer {
        Writer {
            params: setup.params.clone(),
            log: Vec::new(),
        }
    }

    fn deciders(&self, _setup: &RunSetup<Self>) -> Vec<NodeId> {
        Vec::new()
    }

    fn properties(&self) -> Vec<Judge<Self>> {
        Vec::new()
    }

    fn settle(&self, setup: &RunSetup<Self>) -> Box<dyn Settle<Writer>> {
        Box::new(Written {
            wanted: setup.params.entries,
            seen: 0,
            scanned: 0,
        })
    }
}

/// Settled once the node wrote every entry.
struct Written {
    wanted: u64,
    seen: u64,
    scanned: usize,
}

impl Settle<Writer> for Written {
    fn observe(&mut self, events: &[Event<Writer>]) {
        for e in &events[self.scanned..] {
            if matches!(
                e.kind,
                EventKind::Appended { .. } | EventKind::Persisted { .. }
            ) {
                self.seen += 1;
            }
        }
        self.scanned = events.len();
    }

    fn settled(&self) -> bool {
        self.seen >= self.wanted
    }

    fn reason(&self) -> &'static str {
        "every entry written"
    }
}

fn scenario(entries: u64, snapshot: bool) -> Scenario {
    Scenario {
        network: NetworkConfig {
            latency_ms_min: 1,
            latency_ms_max: 1,
        },
        // Room for the last append (one per millisecond); the run settles at it.
        liveness_bound_ms: entries + 50,
        params: serde_json::json!({ "entries": entries, "snapshot": snapshot }),
        ..Scenario::quiet("log_writer", Cluster::of_size(1), 1)
    }
}

/// Median microseconds per entry written, over the samples. A benchmark measures wall
/// time by design.
#[allow(clippy::disallowed_methods)]
fn per_entry_us(entries: u64, snapshot: bool) -> f64 {
    let scenario = scenario(entries, snapshot);
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            let report = run(&LogWriter, &scenario, Lane::Turmoil).expect("valid scenario");
            let elapsed = start.elapsed().as_secs_f64();
            let written = report
                .history
                .events
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        EventKind::Appended { .. } | EventKind::Persisted { .. }
                    )
                })
                .count() as u64;
            assert_eq!(written, entries, "{:?}", report.end);
            elapsed * 1e6 / entries as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn main() {
    println!("gauntlet log benchmark: turmoil lane, one node, {ENTRY_BYTES}-byte entries, median of {SAMPLES}\n");
    println!("| entries | append µs/entry | snapshot µs/entry | snapshot / append |");
    println!("|---:|---:|---:|---:|");
    let mut first_append = None;
    for entries in [100u64, 200, 400, 800, 1600, 3200] {
        let append = per_entry_us(entries, false);
        first_append.get_or_insert(append);
        // 800 entries of 64 bytes are over the 64 KiB snapshot limit.
        let snapshot_fits = entries * (ENTRY_BYTES as u64 + 3) < 60 * 1024;
        let (snapshot, ratio) = if snapshot_fits {
            let s = per_entry_us(entries, true);
            (format!("{s:.1}"), format!("{:.1}x", s / append))
        } else {
            ("over the 64 KiB limit".into(), "-".into())
        };
        println!("| {entries} | {append:.1} | {snapshot} | {ratio} |");
    }
}
