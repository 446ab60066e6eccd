//! The `gauntlet` command line. Logic lives in the library, so tests reach it; this
//! file parses arguments, prints, and maps outcomes to exit codes.

use clap::{Parser, Subcommand};
use gauntlet::check::Expectation;
use gauntlet::explore::{explore, run_and_check, CampaignConfig, CampaignSummary, Failure};
use gauntlet::sim::{RunEnd, Scenario};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Exit codes: what kind of failure, at a glance (and for scripts).
mod exit {
    pub const OK: u8 = 0;
    /// An Always (safety) property was violated.
    pub const SAFETY: u8 = 1;
    // 2 is clap's code for a usage error.
    /// An Eventually (liveness) property failed, and no safety property did.
    pub const LIVENESS: u8 = 3;
    /// The harness itself failed (bad input, a node's software erroring, a panic).
    pub const HARNESS: u8 = 4;
}

#[derive(Parser)]
#[command(
    name = "gauntlet",
    version,
    about = "Deterministic fault-injection testing for consensus protocols",
    long_about = "Runs Basic Paxos nodes as real async tasks in a seeded turmoil simulation that \
partitions, drops, duplicates, delays and crashes, then checks agreement, validity, learner \
integrity and liveness.\n\nExit codes: 0 all properties held; 1 safety violation; 2 usage \
error; 3 liveness failure; 4 harness error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run many seeded scenarios on all cores and summarise violations and coverage.
    Explore {
        /// Number of runs.
        #[arg(long, default_value_t = 1000)]
        runs: u64,
        /// Base seed of the campaign (default: a fresh one, printed first).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Run one scenario: print it, its outcome and, with --trace, its event trace.
    Run {
        /// Generate the scenario from this seed.
        #[arg(
            long,
            conflicts_with = "scenario",
            required_unless_present = "scenario"
        )]
        seed: Option<u64>,
        /// Read the scenario from this JSON file instead.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Print the canonical event trace.
        #[arg(long)]
        trace: bool,
        /// Print the trace as JSON lines instead of text (implies --trace).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match cli.command {
        Command::Explore { runs, seed, jobs } => cmd_explore(runs, seed, jobs),
        Command::Run {
            seed,
            scenario,
            trace,
            json,
        } => cmd_run(seed, scenario, trace || json, json),
    })
}

/// A campaign's base seed when none is given: the one deliberate source of entropy,
/// printed first so the campaign can be repeated exactly.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

fn replay_command(seed: u64) -> String {
    format!("cargo run --release -- run --seed {seed} --trace")
}

fn cmd_explore(runs: u64, seed: Option<u64>, jobs: Option<usize>) -> u8 {
    let base_seed = seed.unwrap_or_else(fresh_seed);
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("seed: {base_seed}");
    println!(
        "explore: {runs} runs on {jobs} worker(s); replay the campaign with --seed {base_seed}"
    );

    let bar = ProgressBar::new(runs);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}  {msg}")
            .expect("static template"),
    );
    let stop = AtomicBool::new(false);
    let config = CampaignConfig {
        runs,
        base_seed,
        jobs,
    };
    // Wall time measures throughput for the report only; it never steers a run.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let summary = explore(&config, &stop, |summary, failure| {
        bar.set_position(summary.runs_done);
        if let Some(f) = failure {
            bar.suspend(|| print_failure(f));
            bar.set_message(format!("{} failing", summary.failures.len() + 1));
        }
    });
    bar.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();
    print_summary(&summary, wall_s, jobs);
    let code = if summary.failures.iter().any(Failure::is_safety) {
        exit::SAFETY
    } else if summary.failures.iter().any(|f| !f.violations.is_empty()) {
        exit::LIVENESS
    } else if summary.harness_errors > 0 {
        exit::HARNESS
    } else {
        exit::OK
    };
    if let Some(first) = summary.failures.first() {
        println!("replay the first failure: {}", replay_command(first.seed));
    }
    code
}

fn print_failure(f: &Failure) {
    println!("FAIL run {} seed {}", f.index, f.seed);
    if let Some(e) = &f.harness_error {
        println!("  harness error: {e}");
    }
    for v in &f.violations {
        println!("  {v}");
    }
    println!("  replay: {}", replay_command(f.seed));
}

fn print_summary(s: &CampaignSummary, wall_s: f64, jobs: usize) {
    let runs_per_s = s.runs_done as f64 / wall_s.max(1e-9);
    println!();
    println!("runs                {:>10}", s.runs_done);
    println!("wall time           {:>10.1} s", wall_s);
    println!(
        "runs/s              {:>10.1}  ({:.1} per core)",
        runs_per_s,
        runs_per_s / jobs as f64
    );
    println!(
        "simulated time      {:>10.1} s",
        s.sim_ms_total as f64 / 1000.0
    );
    println!("events recorded     {:>10}", s.events_total);
    println!("failing runs        {:>10}", s.failures.len());
    println!("harness errors      {:>10}", s.harness_errors);
    println!();
    println!("violations by property");
    for p in gauntlet::check::ALL_PROPERTIES
        .iter()
        .filter(|p| p.expectation != Expectation::Sometimes)
    {
        let n = s.violations_by_property.get(p.name).copied().unwrap_or(0);
        println!(
            "  {:<28} {:<10} {:>8}",
            p.name,
            format!("{:?}", p.expectation),
            n
        );
    }
    println!();
    println!("coverage (Sometimes: runs that reached it)");
    for (name, count) in s.coverage.entries() {
        let mark = if count == 0 {
            "  <-- never reached"
        } else {
            ""
        };
        println!("  {name:<36} {count:>8}{mark}");
    }
}

fn load_scenario(path: &PathBuf) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let scenario: Scenario =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    scenario
        .validate()
        .map_err(|e| format!("{}: field {}: {}", path.display(), e.field, e.reason))?;
    Ok(scenario)
}

fn cmd_run(seed: Option<u64>, file: Option<PathBuf>, trace: bool, json: bool) -> u8 {
    let scenario = match (seed, &file) {
        (Some(seed), _) => Scenario::generate(seed),
        (None, Some(path)) => match load_scenario(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        },
        (None, None) => unreachable!("clap requires --seed or --scenario"),
    };
    println!("seed: {}", scenario.seed);
    println!(
        "scenario: {}",
        serde_json::to_string(&scenario).expect("scenarios serialize")
    );
    let judged = run_and_check(&scenario);
    let history = &judged.report.history;
    if trace {
        if json {
            print!("{}", history.to_json_lines());
        } else {
            println!("trace:");
            print!("{}", history.render());
        }
    }
    println!(
        "outcome: {:?} after {} simulated ms, {} events, digest {:016x}",
        judged.report.end,
        judged.report.sim_ms,
        history.len(),
        history.digest()
    );
    for v in &judged.verdict.violations {
        println!("VIOLATION {v}");
        print!("{}", v.render_witness(history));
    }
    let code = if judged
        .verdict
        .violations
        .iter()
        .any(|v| v.expectation == Expectation::Always)
    {
        exit::SAFETY
    } else if !judged.verdict.violations.is_empty() {
        exit::LIVENESS
    } else if matches!(judged.report.end, RunEnd::HarnessError(_)) {
        exit::HARNESS
    } else {
        exit::OK
    };
    if code != exit::OK {
        let how = match (seed, &file) {
            (Some(s), _) => replay_command(s),
            (None, Some(p)) => format!(
                "cargo run --release -- run --scenario {} --trace",
                p.display()
            ),
            _ => unreachable!(),
        };
        println!("replay: {how}");
    } else {
        println!("all properties held");
    }
    code
}
