//! The `chain` section of `cargo bench --bench lanes` (issue 13, point 6): the `pow`
//! chain in the fast lane. Included by `lanes.rs` as `chain_section`; single-threaded, so runs/s is per
//! core.
//!
//! - A 50-node chain, 100 blocks per run (1 s blocks, 10 to 50 ms datagrams, 8
//!   outbound and up to 117 inbound peer slots, 8 bootstrap nodes), flooding and
//!   gossip to 4 peers: runs/s, run alone and run and judged, and messages per run.
//! - Cost per message from 50 to 500 nodes: 20-block flooding runs, wall time per
//!   message sent (every kind: blocks, sync, pings, peer exchange).

use super::support::{bench_seed, median, time};
use gauntlet::check::judge;
use gauntlet::experiment::chain::{scenario, Shape};
use gauntlet::history::EventKind;
use gauntlet::protocol::prepare;
use gauntlet::protocols::pow::Pow;
use gauntlet::sim::{run_setup, Lane};

/// Samples per point, and runs per sample of the 50-node chain.
const CHAIN_SAMPLES: usize = 3;
const CHAIN_RUNS: u64 = 4;
const COST_NODES: [u16; 4] = [50, 100, 200, 500];

fn shape(nodes: u16, fanout: usize, blocks: u64) -> Shape {
    Shape {
        nodes,
        block_interval_ms: 1_000,
        latency_ms: (10, 50),
        fanout,
        outbound_max: 8,
        inbound_max: 117,
        bootstrap: 8,
        ping_ms: 1_000,
        blocks,
    }
}

/// One run of `shape` with `seed`: its messages sent, and whether it settled.
fn one(shape: &Shape, seed: u64, judged: bool) -> (u64, bool) {
    let s = scenario(shape, seed);
    let setup = prepare(&Pow, &s).expect("a valid chain scenario");
    let report = run_setup(&Pow, &setup, Lane::Fast);
    if judged {
        std::hint::black_box(judge(&Pow, &setup, &report.history));
    }
    let sent = report
        .history
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Sent { .. }))
        .count() as u64;
    (sent, report.end == gauntlet::sim::RunEnd::Settled)
}

pub fn chain_section() {
    println!(
        "## pow chain, fast lane ({CHAIN_SAMPLES} samples of {CHAIN_RUNS} runs; 1 s blocks, 10-50 ms datagrams, 8 outbound and 117 inbound peer slots)\n"
    );
    println!("| nodes | blocks/run | mode | judged | runs/s (median) | messages/run | settled |");
    println!("|---|---|---|---|---|---|---|");
    for fanout in [0, 4] {
        for judged in [false, true] {
            let sh = shape(50, fanout, 100);
            let mut rates = Vec::new();
            let (mut sent, mut settled) = (0, 0);
            for sample in 0..CHAIN_SAMPLES {
                let (s, (m, ok)) = time(|| {
                    let (mut m, mut ok) = (0, 0);
                    for i in 0..CHAIN_RUNS {
                        let (sent, settled) = one(&sh, bench_seed(i), judged);
                        m += sent;
                        ok += u64::from(settled);
                    }
                    (m, ok)
                });
                rates.push(CHAIN_RUNS as f64 / s);
                if sample == 0 {
                    (sent, settled) = (m, ok);
                }
            }
            println!(
                "| 50 | 100 | {} | {} | {:.2} | {} | {settled}/{CHAIN_RUNS} |",
                if fanout == 0 {
                    "flooding".to_string()
                } else {
                    format!("gossip k = {fanout}")
                },
                if judged { "yes" } else { "no" },
                median(&rates),
                sent / CHAIN_RUNS,
            );
        }
    }
    println!();
    println!(
        "## pow chain: cost per message (flooding, 20 blocks per run, {CHAIN_SAMPLES} samples)\n"
    );
    println!("| nodes | messages/run | ms/run (median) | µs/message |");
    println!("|---|---|---|---|");
    for nodes in COST_NODES {
        let sh = shape(nodes, 0, 20);
        let mut times = Vec::new();
        let mut sent = 0;
        for _ in 0..CHAIN_SAMPLES {
            let (s, (m, _)) = time(|| one(&sh, bench_seed(0), false));
            times.push(s);
            sent = m;
        }
        let s = median(&times);
        println!(
            "| {nodes} | {sent} | {:.0} | {:.2} |",
            s * 1e3,
            s * 1e6 / sent.max(1) as f64
        );
    }
    println!();
}
