//! `cargo bench --bench lanes [-- FILTER...]`: both lanes against their floors.
//!
//! A plain harness (`harness = false`) rather than criterion, because what the issue
//! asks for is ratios measured side by side: each sample times a lane and then its
//! floor on the same work, so noise from other processes hits both alike, and the
//! report gives the median of each and the median of the per-sample ratios. Every
//! measurement is single-threaded, so runs/s is per core.
//!
//! Sections (each runs when FILTER is empty or names it):
//! - `standard`: the standard scenario (`support::standard`) in each lane, with
//!   runs/s and µs per delivered message, against the plain loop and bare turmoil.
//! - `naive`: the naive vote's generated scenarios in each lane (runs/s, and the
//!   fast lane's speed-up over turmoil): any protocol gets the fast lane.
//! - `nodes`: the scaling sweep over node counts (2 s of simulated time each).
//! - `duration`: the scaling sweep over simulated duration (5 nodes).
//! - `twins`: PBFT n = 4 with one twin replica (the `twins` experiment's plans, two
//!   partition rounds), fast lane, run and judged: Twins-style scenarios per second per
//!   core, beside generated PBFT n = 4 scenarios (issue 12 asks 510/s for Twins).
//! - `chain`: the `pow` chain: a 50-node, 100-block chain's runs/s, and the cost per
//!   message from 50 to 500 nodes (`support/chain.rs`).
//! - `profile-fast SECONDS`, `profile-turmoil SECONDS` (only when named): loop over the
//!   standard scenarios for that long, for `perf record`.
//!
//! Sizes are fixed and stated in the output; the whole run takes about two minutes on
//! the 2-core machine of docs/benchmarks.md.

#[path = "support/mod.rs"]
mod support;

#[path = "support/chain.rs"]
mod chain_section;

use gauntlet::scenario::Scenario;
use gauntlet::sim::TICK_MS;
use support::*;

/// Standard-scenario sizes: scenarios per sample, and samples, per lane.
const FAST_SEEDS: u64 = 2_000;
const FAST_SAMPLES: usize = 11;
const TURMOIL_SEEDS: u64 = 60;
const TURMOIL_SAMPLES: usize = 5;
/// Samples per scaling point.
const SCALING_SAMPLES: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(i) = args.iter().position(|a| a.starts_with("profile-")) {
        let seconds: f64 = args
            .get(i + 1)
            .map_or(20.0, |s| s.parse().expect("SECONDS"));
        profile(&args[i], seconds);
        return;
    }
    let wants = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    println!(
        "gauntlet lanes benchmark: single-threaded; turmoil tick {TICK_MS} ms; medians of the samples stated\n"
    );
    if wants("standard") || wants("fast") || wants("turmoil") {
        standard_section(
            wants("standard") || wants("fast"),
            wants("standard") || wants("turmoil"),
        );
    }
    if wants("naive") {
        naive_section();
    }
    if wants("twins") {
        twins_section();
    }
    if wants("nodes") {
        println!(
            "## Scaling with node count ({} s simulated, {SCALING_SAMPLES} samples)\n",
            SCALING_NODES_DURATION_MS / 1000
        );
        println!("{SCALING_TABLE_HEADER}");
        for nodes in SCALING_NODES {
            let row = scaling_point(nodes, SCALING_NODES_DURATION_MS, SCALING_SAMPLES, TICK_MS);
            println!("{}", scaling_table_row(&row));
        }
        println!();
    }
    if wants("chain") {
        chain_section::chain_section();
    }
    if wants("duration") {
        println!("## Scaling with simulated duration ({SCALING_DURATION_NODES} nodes, {SCALING_SAMPLES} samples)\n");
        println!("{SCALING_TABLE_HEADER}");
        for duration_ms in SCALING_DURATIONS_MS {
            let row = scaling_point(
                SCALING_DURATION_NODES,
                duration_ms,
                SCALING_SAMPLES,
                TICK_MS,
            );
            println!("{}", scaling_table_row(&row));
        }
        println!();
    }
}

/// One lane over a set of scenarios against its floor, sample by sample.
struct LaneResult {
    runs: u64,
    delivered: u64,
    sim_ms: u64,
    lane_s: f64,
    floor_s: f64,
    ratio: f64,
}

fn measure_lane(
    scenarios: &[Scenario],
    run: Lane,
    samples: usize,
    floor: impl Fn(&Scenario, &RunShape),
) -> LaneResult {
    // One untimed pass: warms caches and learns each run's shape for its floor.
    let shapes: Vec<RunShape> = scenarios.iter().map(|s| run_and_judge(run, s)).collect();
    let (mut lane, mut floor_times, mut ratios) = (vec![], vec![], vec![]);
    for _ in 0..samples {
        let (l, _) = time(|| {
            for s in scenarios {
                run_and_judge(run, s);
            }
        });
        let (f, _) = time(|| {
            for (s, shape) in scenarios.iter().zip(&shapes) {
                floor(s, shape);
            }
        });
        lane.push(l);
        floor_times.push(f);
        ratios.push(l / f);
    }
    LaneResult {
        runs: scenarios.len() as u64,
        delivered: shapes.iter().map(|s| s.delivered).sum(),
        sim_ms: shapes.iter().map(|s| s.sim_ms).sum(),
        lane_s: median(&lane),
        floor_s: median(&floor_times),
        ratio: median(&ratios),
    }
}

fn standard_section(with_fast: bool, with_turmoil: bool) {
    println!("## Standard scenario (5 acceptor-learners + 3 proposers, full fault mix, swarm)\n");
    let fast_scenarios: Vec<Scenario> = (0..FAST_SEEDS).map(|i| standard(bench_seed(i))).collect();
    let fast = with_fast.then(|| {
        measure_lane(&fast_scenarios, fast, FAST_SAMPLES, |s, shape| {
            plain_loop(shape.hosts, shape.delivered, &s.network, s.seed);
        })
    });
    let turmoil = with_turmoil.then(|| {
        measure_lane(
            &fast_scenarios[..TURMOIL_SEEDS as usize],
            turmoil,
            TURMOIL_SAMPLES,
            |s, shape| {
                bare_turmoil(
                    shape.hosts,
                    shape.sim_ms,
                    shape.delivered,
                    &s.network,
                    TICK_MS,
                    s.seed,
                );
            },
        )
    });
    println!("| lane | runs × samples | mean sim s/run | msgs/run | runs/s per core | µs/msg | floor | floor µs/msg | lane / floor |");
    println!("|---|---:|---:|---:|---:|---:|---|---:|---:|");
    for (name, floor, r, samples) in [
        ("fast", "plain loop", &fast, FAST_SAMPLES),
        ("turmoil", "bare turmoil", &turmoil, TURMOIL_SAMPLES),
    ] {
        let Some(r) = r else { continue };
        println!(
            "| {name} | {} × {samples} | {:.2} | {:.0} | {:.1} | {:.3} | {floor} | {:.4} | {:.2}x |",
            r.runs,
            r.sim_ms as f64 / r.runs as f64 / 1000.0,
            r.delivered as f64 / r.runs as f64,
            r.runs as f64 / r.lane_s,
            r.lane_s * 1e6 / r.delivered as f64,
            r.floor_s * 1e6 / r.delivered as f64,
            r.ratio,
        );
    }
    println!(
        "\nGoals: fast ≥ 20000 runs/s per core and ≤ 10x the plain loop; turmoil ≥ 100 runs/s per core and ≤ 1.3x bare turmoil.\n"
    );
}

/// Loop over the standard scenarios in one lane for `seconds`, for a profiler.
fn profile(which: &str, seconds: f64) {
    let run: Lane = match which {
        "profile-fast" => fast,
        "profile-turmoil" => turmoil,
        other => panic!("unknown section {other}"),
    };
    let scenarios: Vec<Scenario> = (0..FAST_SEEDS).map(|i| standard(bench_seed(i))).collect();
    let start = now();
    let mut runs = 0u64;
    'outer: loop {
        for s in &scenarios {
            run_and_judge(run, s);
            runs += 1;
            if start.elapsed().as_secs_f64() > seconds {
                break 'outer;
            }
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{which}: {runs} runs in {s:.1} s = {:.1} runs/s",
        runs as f64 / s
    );
}

/// Scenarios and samples of the naive-vote section, per lane.
const NAIVE_FAST_SEEDS: u64 = 2_000;
const NAIVE_TURMOIL_SEEDS: u64 = 40;
const NAIVE_SAMPLES: usize = 5;

/// The naive vote's generated scenarios in both lanes: runs/s per core of each, and
/// their ratio, medians of the samples.
fn naive_section() {
    use gauntlet::protocols::naive::Naive;
    use gauntlet::sim::Lane as World;
    println!("## The naive vote, generated scenarios ({NAIVE_SAMPLES} samples)\n");
    let scenarios: Vec<Scenario> = (0..NAIVE_FAST_SEEDS)
        .map(|i| gauntlet::fault::generate_scenario(&Naive, bench_seed(i)))
        .collect();
    let runs_per_s = |lane: World, count: u64| -> f64 {
        let mut samples = Vec::new();
        for _ in 0..NAIVE_SAMPLES {
            let (secs, ()) = time(|| {
                for s in &scenarios[..count as usize] {
                    let report = gauntlet::sim::run(&Naive, s, lane).expect("valid");
                    std::hint::black_box(report.history.len());
                }
            });
            samples.push(count as f64 / secs);
        }
        median(&samples)
    };
    let fast = runs_per_s(World::Fast, NAIVE_FAST_SEEDS);
    let turmoil = runs_per_s(World::Turmoil, NAIVE_TURMOIL_SEEDS);
    println!("| lane | runs × samples | runs/s per core |");
    println!("|---|---|---|");
    println!("| fast | {NAIVE_FAST_SEEDS} × {NAIVE_SAMPLES} | {fast:.0} |");
    println!("| turmoil | {NAIVE_TURMOIL_SEEDS} × {NAIVE_SAMPLES} | {turmoil:.1} |");
    println!("\nfast / turmoil: {:.0}x\n", fast / turmoil);
}

/// Twins-style PBFT scenarios per sample, and samples.
const TWINS_SEEDS: u64 = 500;
const TWINS_SAMPLES: usize = 7;

/// PBFT n = 4 with one twin (the `twins` experiment's plan with two partition rounds)
/// and, for comparison, generated PBFT n = 4 scenarios: fast lane, each run judged,
/// as a campaign does.
fn twins_section() {
    use gauntlet::experiment::twins::{plan, seed_of};
    use gauntlet::explore::AnyProtocol;
    use gauntlet::protocols::pbft::Pbft;
    use gauntlet::sim::Lane as World;
    println!("## PBFT n = 4: Twins-style and generated scenarios, fast lane, judged ({TWINS_SAMPLES} samples)\n");
    let twins: Vec<Scenario> = (0..TWINS_SEEDS)
        .map(|i| {
            gauntlet::fault::scoped_scenario(&Pbft, seed_of(1, 2, i), &plan(2)).expect("plan fits")
        })
        .collect();
    let generated: Vec<Scenario> = (0..)
        .map(|i| gauntlet::fault::generate_scenario(&Pbft, bench_seed(i)))
        .filter(|s| s.cluster.len() == 4)
        .take(TWINS_SEEDS as usize)
        .collect();
    let runs_per_s = |scenarios: &[Scenario]| -> f64 {
        let mut samples = Vec::new();
        for _ in 0..TWINS_SAMPLES {
            let (secs, ()) = time(|| {
                for s in scenarios {
                    let judged = AnyProtocol::run(&Pbft, s, World::Fast).expect("valid");
                    std::hint::black_box(judged.verdict.violations.len());
                }
            });
            samples.push(scenarios.len() as f64 / secs);
        }
        median(&samples)
    };
    let twin = runs_per_s(&twins);
    let plain = runs_per_s(&generated);
    println!("| scenarios | runs × samples | runs/s per core (median) |");
    println!("|---|---|---|");
    println!("| Twins (one twin, d = 2) | {TWINS_SEEDS} × {TWINS_SAMPLES} | {twin:.0} |");
    println!("| generated, n = 4 | {TWINS_SEEDS} × {TWINS_SAMPLES} | {plain:.0} |");
    println!();
}
