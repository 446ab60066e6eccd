//! Measures the fast lane against the turmoil lane on one thread, in one process.
//!
//! `cargo run --release --example fast_lane_bench -- [FAST_RUNS] [TURMOIL_RUNS]`
//! (defaults 20000 and 500). Both lanes run `Scenario::generate(run_seed(1, i))`; the
//! turmoil lane runs the first TURMOIL_RUNS of the same seeds. Prints runs/s for each
//! lane, their ratio, and the fast lane's violations and coverage counts.

use gauntlet::check::{check_run, CoverageCounts};
use gauntlet::explore::roster;
use gauntlet::sim::rng::run_seed;
use gauntlet::sim::{run, run_fast, Scenario};

// Measuring throughput is the one job here that needs the wall clock.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let fast_runs: u64 = args
        .next()
        .map_or(20_000, |s| s.parse().expect("FAST_RUNS"));
    let turmoil_runs: u64 = args
        .next()
        .map_or(500, |s| s.parse().expect("TURMOIL_RUNS"));
    let scenarios: Vec<Scenario> = (0..fast_runs.max(turmoil_runs))
        .map(|i| Scenario::generate(run_seed(1, i)))
        .collect();

    let start = now();
    let mut sim_ms = 0u64;
    let mut events = 0u64;
    for s in &scenarios[..fast_runs as usize] {
        let r = run_fast(s);
        sim_ms += r.sim_ms;
        events += r.history.len() as u64;
    }
    let fast_s = start.elapsed().as_secs_f64();

    let start = now();
    for s in &scenarios[..turmoil_runs as usize] {
        run(s);
    }
    let turmoil_s = start.elapsed().as_secs_f64();

    // Same seeds, both lanes, only the first TURMOIL_RUNS: the like-for-like ratio.
    let start = now();
    for s in &scenarios[..turmoil_runs as usize] {
        run_fast(s);
    }
    let fast_same_s = start.elapsed().as_secs_f64();

    let fast_rate = fast_runs as f64 / fast_s;
    let turmoil_rate = turmoil_runs as f64 / turmoil_s;
    let fast_same_rate = turmoil_runs as f64 / fast_same_s;
    println!("fast lane:    {fast_runs} runs in {fast_s:.2} s = {fast_rate:.0} runs/s ({sim_ms} sim ms, {events} events)");
    println!("turmoil lane: {turmoil_runs} runs in {turmoil_s:.2} s = {turmoil_rate:.1} runs/s");
    println!(
        "fast lane, same {turmoil_runs} seeds: {fast_same_s:.3} s = {fast_same_rate:.0} runs/s"
    );
    println!("ratio on the same seeds: {:.0}x", turmoil_s / fast_same_s);

    let mut coverage = CoverageCounts::default();
    let mut violations = 0;
    for s in &scenarios[..fast_runs as usize] {
        let r = run_fast(s);
        let v = check_run(&r.history, &roster(s));
        violations += v.violations.len();
        coverage.add(&v.coverage);
    }
    println!(
        "fast lane checked: {violations} violations; coverage {:?}",
        coverage.entries()
    );

    // Like-for-like behaviour on the shared seeds: coverage and mean sim time per lane.
    for (lane, runner) in [("turmoil", run as fn(&Scenario) -> _), ("fast", run_fast)] {
        let mut coverage = CoverageCounts::default();
        let (mut violations, mut sim_ms, mut events) = (0, 0u64, 0u64);
        for s in &scenarios[..turmoil_runs as usize] {
            let r = runner(s);
            let v = check_run(&r.history, &roster(s));
            violations += v.violations.len();
            sim_ms += r.sim_ms;
            events += r.history.len() as u64;
            coverage.add(&v.coverage);
        }
        println!(
            "{lane} lane, same {turmoil_runs} seeds: {violations} violations, mean {} sim ms, mean {} events, coverage {:?}",
            sim_ms / turmoil_runs.max(1),
            events / turmoil_runs.max(1),
            coverage.entries()
        );
    }
}
