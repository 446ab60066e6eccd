//! The `gauntlet` command line, for any registry of protocols: the built-in binary
//! calls [`main_with`] with [`Registry::builtin`], and a user's binary calls it with
//! their own protocol, so both get every command. Logic lives in the library; this
//! module parses arguments, prints, and maps outcomes to exit codes.

use crate::check::Expectation;
use crate::explore::corpus::{meets_expectation, CorpusEntry, Expect};
use crate::explore::report::CampaignReport;
use crate::explore::{
    explore, run_and_check, shrink_failure, CampaignConfig, Failure, Judged, Lane, ProtocolRef,
    StopRule,
};
use crate::protocol::Protocol;
use crate::registry::Registry;
use crate::scenario::Scenario;
use crate::sim::shrink::Size;
use crate::sim::RunEnd;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Exit codes: what kind of failure, at a glance (and for scripts).
pub mod exit {
    pub const OK: u8 = 0;
    /// An Always (safety) property was violated.
    pub const SAFETY: u8 = 1;
    /// A usage error (clap uses the same code for the ones it finds).
    pub const USAGE: u8 = 2;
    /// An Eventually (liveness) property failed, and no safety property did.
    pub const LIVENESS: u8 = 3;
    /// The harness itself failed (bad input, a node's software erroring, a panic).
    pub const HARNESS: u8 = 4;
    /// `replay` of a saved failure: the outcome is as recorded, but the trace's digest
    /// differs (the code changed since it was saved).
    pub const DIGEST_CHANGED: u8 = 5;
    /// `replay` of a saved failure: the outcome is not the one recorded.
    pub const OUTCOME_CHANGED: u8 = 6;
    /// `check`: no property was found broken, but some could not be judged because
    /// some nodes' histories were not given.
    pub const INCOMPLETE: u8 = 7;
    /// A campaign, hunt or model check stopped by Ctrl-C or SIGTERM before its end (128 +
    /// SIGINT, as shells report a Ctrl-C).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Parser)]
#[command(
    name = "gauntlet",
    version,
    about = "Deterministic fault-injection testing for consensus protocols",
    long_about = "Runs consensus protocols as sans-IO cores in a seeded world (a fast event heap, \
or real async nodes on turmoil) that partitions, drops, duplicates, delays and crashes, then \
judges each protocol's safety, liveness and coverage properties.\n\nExit codes: 0 all \
properties held; 1 safety violation; 2 usage error; 3 liveness failure; 4 harness error; \
5 replay: digest changed; 6 replay: outcome changed; 7 check: some properties not judged \
for want of a node's history; 130 campaign, hunt, reseeds or model check interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which failure `replay` and `shrink` work on: a saved corpus file, or the scenario a
/// seed generates (with its protocol and planted bugs).
#[derive(clap::Args)]
struct FailureSource {
    /// A corpus file (JSON) holding the failure.
    #[arg(conflicts_with = "seed", required_unless_present = "seed")]
    file: Option<PathBuf>,
    /// Use the scenario generated from this seed instead.
    #[arg(long)]
    seed: Option<u64>,
    /// Planted bugs, with --seed (see `bugs`).
    #[arg(long = "bug", requires = "seed")]
    bugs: Vec<String>,
    /// The protocol of the seed's scenario, with --seed (a file names its own;
    /// default: the first protocol `bugs` lists).
    #[arg(long, requires = "seed")]
    protocol: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run many seeded scenarios on all cores and summarise violations and coverage.
    Explore {
        /// Number of runs (default: 100000 in the fast lane, 1000 in turmoil).
        #[arg(long)]
        runs: Option<u64>,
        /// Base seed of the campaign (default: a fresh one, printed first).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Switch on a planted bug in every run (repeatable; see `gauntlet bugs`).
        #[arg(long = "bug")]
        bugs: Vec<String>,
        /// Directory failing scenarios are saved to as they are found.
        #[arg(long, default_value = "corpus/failures")]
        failures_dir: PathBuf,
        /// Do not shrink the first failure at the end of the campaign.
        #[arg(long)]
        no_shrink: bool,
        /// Shrinking's step budget (candidate runs).
        #[arg(long, default_value_t = 2_000)]
        shrink_budget: usize,
        /// Simulator: `fast` (the cores in a discrete-event loop, the default; each
        /// distinct failure is re-run in turmoil) or `turmoil` (real async nodes).
        #[arg(long, value_enum, default_value_t = Lane::Fast)]
        lane: Lane,
        /// The protocol under test (default: the first `bugs` lists).
        #[arg(long)]
        protocol: Option<String>,
        /// Play only shard I of N of the campaign's runs (runs I-1, I-1+N, ...);
        /// `gauntlet merge` adds the shards' --report-json files back up.
        #[arg(long, value_name = "I/N", value_parser = crate::explore::Shard::parse)]
        shard: Option<crate::explore::Shard>,
        /// Stop after this many distinct failures (by property and witness shape), or
        /// after 10x as many failing runs; keep the first and the smallest of each.
        #[arg(long, default_value_t = 3, conflicts_with = "keep_going")]
        failures_max: u64,
        /// Play every run and keep every failing run's file (up to --saved-mb-max).
        #[arg(long)]
        keep_going: bool,
        /// With --keep-going: megabytes of failure files the campaign may write.
        #[arg(long, default_value_t = 256, requires = "keep_going")]
        saved_mb_max: u64,
        /// Write the campaign's report as JSON (summary, every failure with its seed,
        /// property, file and replay command); `gauntlet merge` reads these.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
        /// Write the campaign's report as JUnit XML (one test case per property and
        /// per failing run).
        #[arg(long, value_name = "FILE")]
        report_junit: Option<PathBuf>,
        /// Guided search (the default unless --shard): most runs mutate the scenarios
        /// that reached new coverage instead of drawing every run fresh. Deterministic
        /// from --seed whatever --jobs (docs/bugs.md).
        #[arg(long, conflicts_with_all = ["fresh", "shard"])]
        guided: bool,
        /// Draw every run fresh (swarm testing), as a sharded campaign always does.
        #[arg(long)]
        fresh: bool,
    },
    /// Merge the --report-json files of a campaign's shards into the whole campaign's
    /// summary (and reports), with its exit code.
    Merge {
        /// Every shard's report, once each.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Write the merged report as JSON.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
        /// Write the merged report as JUnit XML.
        #[arg(long, value_name = "FILE")]
        report_junit: Option<PathBuf>,
    },
    /// Re-run a saved failure (or a seed) exactly and print its trace, witness events
    /// marked `>>`. Says so plainly if the trace no longer matches the saved digest.
    Replay {
        #[command(flatten)]
        failure: FailureSource,
        /// Print the trace as JSON lines.
        #[arg(long)]
        json: bool,
        /// Also write the run as a space-time diagram: one self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The lane to replay in (default: the file's replay lane, turmoil unless it
        /// is a fast-lane find the turmoil lane did not reproduce; turmoil for --seed).
        #[arg(long, value_enum)]
        lane: Option<Lane>,
    },
    /// Shrink a failing scenario to a smaller one that fails the same property, and
    /// save it beside the original as `<name>.shrunk.json`.
    Shrink {
        #[command(flatten)]
        failure: FailureSource,
        /// Step budget (candidate runs).
        #[arg(long, default_value_t = 2_000)]
        budget: usize,
        /// Where to save a shrunk seed failure.
        #[arg(long, default_value = "corpus/failures")]
        failures_dir: PathBuf,
        /// Also write the shrunk run as a space-time diagram (one HTML page).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Promote a saved scenario into the corpus that `cargo test` replays.
    Keep {
        /// The corpus file to promote.
        file: PathBuf,
        /// `regression` (must pass from now on) or `known-failure` (must keep failing
        /// with the recorded property).
        #[arg(long = "as", value_enum)]
        kind: KeepAs,
        /// Corpus root.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
    },
    /// Turn a `scenario`/`scenario_fast` fuzz crash (the artifact's bytes) into a
    /// saved failure in the corpus, ready for replay, shrink and keep.
    ImportCrash {
        /// The crash artifact written by cargo fuzz (fuzz/artifacts/<target>/crash-...).
        artifact: PathBuf,
        /// The protocol the fuzz target ran.
        #[arg(long)]
        protocol: Option<String>,
        /// Directory to save the failure to.
        #[arg(long, default_value = "corpus/failures")]
        failures_dir: PathBuf,
    },
    /// List each protocol's planted bugs (that --bug switches on) and properties.
    Bugs {
        /// Only this protocol.
        #[arg(long)]
        protocol: Option<String>,
    },
    /// Measure how fast campaigns find planted bugs: from each of --seeds campaign
    /// seeds, run `explore`'s runs one at a time until the first violation; print the
    /// median runs and wall time to first detection, the property that caught it and
    /// the shrunk schedule size.
    ///
    /// Ctrl-C or SIGTERM ends it early: the campaigns that ended are printed, saved
    /// and tabled, and the exit code is 130.
    Hunt {
        /// The bug to hunt (repeatable: all of them switched on together).
        #[arg(long = "bug", required_unless_present = "all", conflicts_with = "all")]
        bugs: Vec<String>,
        /// Hunt every bug of the protocol, one after another, and print a table.
        #[arg(long)]
        all: bool,
        /// The protocol whose bugs to hunt.
        #[arg(long)]
        protocol: Option<String>,
        /// Number of campaign seeds (campaigns) per bug.
        #[arg(long, default_value_t = 10)]
        seeds: u64,
        /// The first campaign seed; the others follow it (S, S+1, ...).
        #[arg(long, default_value_t = 1)]
        first_seed: u64,
        /// Simulator: `fast` or `turmoil`.
        #[arg(long, value_enum, default_value_t = Lane::Fast)]
        lane: Lane,
        /// Campaigns run in parallel (1: the one-core figures the docs quote).
        #[arg(long, default_value_t = 1, value_parser = parse_jobs)]
        jobs: usize,
        /// Most runs per campaign (default: 100000 in the fast lane, 3000 in turmoil).
        #[arg(long)]
        runs_max: Option<u64>,
        /// Shrinking's step budget per detection (candidate runs in the same lane).
        #[arg(long, default_value_t = 500)]
        shrink_budget: usize,
        /// Save each campaign's (shrunk) failure to this directory as a corpus file,
        /// ready for `replay` and `keep`.
        #[arg(long)]
        save: Option<PathBuf>,
        /// Guided search: mutate the scenarios that reached new coverage instead of
        /// drawing every run fresh (docs/bugs.md compares both).
        #[arg(long)]
        guided: bool,
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
        /// Read the scenario from this JSON file instead (a scenario, or a saved
        /// failure or corpus file: its scenario).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Print the canonical event trace.
        #[arg(long)]
        trace: bool,
        /// Print the trace as JSON lines instead of text (implies --trace).
        #[arg(long)]
        json: bool,
        /// Planted bugs, with --seed.
        #[arg(long = "bug")]
        bugs: Vec<String>,
        /// The protocol of the seed's scenario, with --seed (a file names its own).
        #[arg(long)]
        protocol: Option<String>,
        /// Simulator.
        #[arg(long, value_enum, default_value_t = Lane::Turmoil)]
        lane: Lane,
        /// Also write the run as a space-time diagram: one self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Run the file's scenario with this run seed instead of its own (its latencies
        /// and jitter; the schedule is the file's).
        #[arg(long, requires = "scenario", conflicts_with = "seed")]
        run_seed: Option<u64>,
        /// Play the file's scenario under this many other run seeds and count the runs
        /// that break each property: how much a failure owes to a lucky delivery order.
        /// Prints a few failing run seeds, each replayable with --run-seed.
        #[arg(
            long,
            requires = "scenario",
            conflicts_with_all = ["seed", "run_seed", "trace", "json", "html"],
            value_parser = clap::value_parser!(u64).range(1..=crate::explore::reseed::RESEEDS_MAX)
        )]
        reseeds: Option<u64>,
    },
    /// Real mode: run one node of cluster.toml as this process.
    Node(real::NodeArgs),
    /// Real mode: ask a proposer of cluster.toml to propose a value.
    Propose(real::ProposeArgs),
    /// Real mode: merge the history.jsonl files of a cluster's nodes and judge them.
    Check(real::CheckArgs),
    /// Real mode: write a working, commented cluster.toml.
    InitCluster(real::InitClusterArgs),
    /// Reproduce a paper's table: run a named experiment (`experiment list`), print its
    /// seed and markdown table, write its SVG plot.
    Experiment(experiment::ExperimentArgs),
    /// The exhaustive lane: every interleaving of a small scope, within printed bounds;
    /// a violation is saved as a scenario the fast lane replays.
    CheckModel(model::CheckModelArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KeepAs {
    Regression,
    KnownFailure,
}

/// What every command needs besides its arguments: the protocols it may name, and
/// how to name this program in the replay commands it prints.
pub struct Ctx {
    pub registry: Registry,
    /// The program as invoked (`target/release/gauntlet`), so a printed command runs.
    pub program: String,
}

impl Ctx {
    /// The protocol `name` names (default: the registry's first), or a usage error
    /// listing the names there are.
    fn protocol(&self, name: Option<&str>) -> Result<ProtocolRef, String> {
        match name {
            None => Ok(self.registry.default_protocol()),
            Some(name) => self.registry.get(name).ok_or_else(|| {
                format!(
                    "`{name}` is not a protocol here (known: {})",
                    self.registry.names().join(", ")
                )
            }),
        }
    }

    /// The protocol and its planted bugs, checked: a usage error names what is wrong.
    fn protocol_with_bugs(
        &self,
        name: Option<&str>,
        bugs: &[String],
    ) -> Result<ProtocolRef, String> {
        let protocol = self.protocol(name)?;
        for bug in bugs {
            crate::protocol::find_bug(protocol.name(), protocol.bugs(), bug)?;
        }
        Ok(protocol)
    }

    fn lookup(&self) -> impl Fn(&str) -> Option<ProtocolRef> + '_ {
        |name| self.registry.get(name)
    }
}

/// The whole `gauntlet` command line for `protocol` alone: a user's binary is
/// `fn main() -> ExitCode { gauntlet::cli::main_with(MyProtocol) }`.
pub fn main_with<P: Protocol>(protocol: P) -> ExitCode {
    let leaked: &'static P = Box::leak(Box::new(protocol));
    match Registry::new(vec![leaked]) {
        Ok(registry) => main_with_registry(registry),
        Err(e) => ExitCode::from(usage_error(&e)),
    }
}

/// The whole command line for every protocol of `registry`.
pub fn main_with_registry(registry: Registry) -> ExitCode {
    let program = std::env::args().next().unwrap_or_else(|| "gauntlet".into());
    let cli = Cli::parse();
    let ctx = Ctx { registry, program };
    ExitCode::from(dispatch(&ctx, cli.command))
}

fn dispatch(ctx: &Ctx, command: Command) -> u8 {
    match command {
        Command::Explore {
            runs,
            seed,
            jobs,
            bugs,
            failures_dir,
            no_shrink,
            shrink_budget,
            lane,
            protocol,
            shard,
            failures_max,
            keep_going,
            saved_mb_max,
            report_json,
            report_junit,
            guided,
            fresh,
        } => {
            let protocol = match ctx.protocol_with_bugs(protocol.as_deref(), &bugs) {
                Ok(p) => p,
                Err(e) => return usage_error(&e),
            };
            if failures_max == 0 {
                return usage_error("--failures-max must be at least 1 (or use --keep-going)");
            }
            let stop_rule = if keep_going {
                StopRule::KeepGoing {
                    saved_bytes_max: saved_mb_max.saturating_mul(1024 * 1024),
                }
            } else {
                StopRule::Distinct { failures_max }
            };
            let config = CampaignConfig {
                runs: runs.unwrap_or(match lane {
                    Lane::Fast => EXPLORE_RUNS_FAST,
                    Lane::Turmoil => EXPLORE_RUNS_TURMOIL,
                }),
                base_seed: seed.unwrap_or_else(fresh_seed),
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                bugs,
                failures_dir: Some(failures_dir),
                lane,
                protocol,
                shard: shard.unwrap_or(crate::explore::Shard::WHOLE),
                stop_rule,
                // Guided search needs the whole campaign's coverage, so a shard (one
                // share of the runs, merged later) draws fresh, like `--fresh`.
                guided: guided || (!fresh && shard.is_none()),
            };
            let reports = reports::ReportFiles {
                json: report_json,
                junit: report_junit,
            };
            cmd_explore(ctx, config, (!no_shrink).then_some(shrink_budget), reports)
        }
        Command::Merge {
            reports,
            report_json,
            report_junit,
        } => reports::cmd_merge(
            &reports,
            &reports::ReportFiles {
                json: report_json,
                junit: report_junit,
            },
        ),
        Command::Run {
            seed,
            scenario,
            trace,
            json,
            bugs,
            protocol,
            lane,
            html,
            run_seed,
            reseeds,
        } => match ctx.protocol_with_bugs(protocol.as_deref(), &bugs) {
            Ok(p) => match (reseeds, &scenario) {
                (Some(reseeds), Some(file)) => cmd_reseed(ctx, file, lane, reseeds),
                _ => {
                    let printed = Printed {
                        trace: trace || json,
                        json,
                        html,
                    };
                    let source = RunSource {
                        seed,
                        file: scenario,
                        run_seed,
                    };
                    cmd_run(ctx, source, p, bugs, lane, printed)
                }
            },
            Err(e) => usage_error(&e),
        },
        Command::Replay {
            failure,
            json,
            html,
            lane,
        } => match ctx.protocol_with_bugs(failure.protocol.as_deref(), &failure.bugs) {
            Ok(p) => cmd_replay(ctx, p, failure, json, html.as_deref(), lane),
            Err(e) => usage_error(&e),
        },
        Command::Shrink {
            failure,
            budget,
            failures_dir,
            html,
        } => match ctx.protocol_with_bugs(failure.protocol.as_deref(), &failure.bugs) {
            Ok(p) => cmd_shrink(ctx, p, failure, budget, &failures_dir, html.as_deref()),
            Err(e) => usage_error(&e),
        },
        Command::Keep { file, kind, corpus } => cmd_keep(ctx, &file, kind, &corpus),
        Command::ImportCrash {
            artifact,
            protocol,
            failures_dir,
        } => match ctx.protocol(protocol.as_deref()) {
            Ok(p) => cmd_import_crash(ctx, p, &artifact, &failures_dir),
            Err(e) => usage_error(&e),
        },
        Command::Hunt {
            bugs,
            all,
            protocol,
            seeds,
            first_seed,
            lane,
            jobs,
            runs_max,
            shrink_budget,
            save,
            guided,
        } => {
            let protocol = match ctx.protocol_with_bugs(protocol.as_deref(), &bugs) {
                Ok(p) => p,
                Err(e) => return usage_error(&e),
            };
            let targets: Vec<Vec<String>> = if all {
                protocol
                    .bugs()
                    .iter()
                    .map(|b| vec![b.name.to_string()])
                    .collect()
            } else {
                vec![bugs]
            };
            if targets.is_empty() {
                return usage_error(&format!("{} has no planted bugs", protocol.name()));
            }
            let runs_max = runs_max.unwrap_or(match lane {
                Lane::Fast => 100_000,
                Lane::Turmoil => 3_000,
            });
            cmd_hunt(
                protocol,
                &targets,
                HuntPlan {
                    seeds,
                    first_seed,
                    lane,
                    jobs,
                    runs_max,
                    shrink_budget,
                    save,
                    guided,
                },
            )
        }
        Command::Bugs { protocol } => {
            let protocols = match protocol {
                Some(name) => match ctx.protocol(Some(&name)) {
                    Ok(p) => vec![p],
                    Err(e) => return usage_error(&e),
                },
                None => ctx.registry.all().to_vec(),
            };
            for p in protocols {
                cmd_bugs(p);
            }
            exit::OK
        }
        Command::Node(args) => real::cmd_node(&ctx.registry, args),
        Command::Propose(args) => real::cmd_propose(&ctx.registry, args),
        Command::Check(args) => real::cmd_check(&ctx.registry, args),
        Command::CheckModel(args) => model::cmd_check_model(ctx, args),
        Command::Experiment(args) => experiment::cmd_experiment(ctx, args),
        Command::InitCluster(args) => real::cmd_init_cluster(&ctx.registry, args),
    }
}

/// One protocol's planted bugs and properties.
fn cmd_bugs(protocol: ProtocolRef) {
    println!("{}", protocol.name());
    if protocol.bugs().is_empty() {
        println!("  planted bugs: none");
    }
    for bug in protocol.bugs() {
        println!("  {:<34} {}", bug.name, bug.description);
    }
    println!("  properties:");
    for p in protocol.properties() {
        println!(
            "    {:<36} {:<10} {}",
            p.name,
            format!("{:?}", p.expectation),
            p.description
        );
    }
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

fn lane_name(lane: Lane) -> &'static str {
    match lane {
        Lane::Turmoil => "turmoil",
        Lane::Fast => "fast",
    }
}

fn usage_error(e: &str) -> u8 {
    eprintln!("error: {e}");
    exit::USAGE
}

/// The command that replays a generated run, with its protocol and planted bugs.
fn replay_command(ctx: &Ctx, protocol: ProtocolRef, seed: u64, bugs: &[String]) -> String {
    let mut cmd = format!(
        "{} replay --seed {seed} --protocol {}",
        ctx.program,
        protocol.name()
    );
    for bug in bugs {
        cmd.push_str(&format!(" --bug {bug}"));
    }
    cmd
}

/// The replay line of a failure whose file was not saved: the run's seed replays a
/// fresh draw, but a guided run's scenario came from the campaign's corpus, so only
/// the campaign can give it again.
fn unsaved_replay_command(ctx: &Ctx, config: &CampaignConfig, seed: u64) -> String {
    if config.guided {
        "none from the run's seed (a guided run's scenario comes from its campaign): \
         repeat the campaign with a larger --saved-mb-max to save it"
            .into()
    } else {
        replay_command(ctx, config.protocol, seed, &config.bugs)
    }
}

fn file_replay_command(ctx: &Ctx, path: &Path) -> String {
    format!("{} replay {}", ctx.program, path.display())
}

fn cmd_explore(
    ctx: &Ctx,
    config: CampaignConfig,
    shrink_budget: Option<usize>,
    report_files: reports::ReportFiles,
) -> u8 {
    // Ctrl-C stops the campaign after the runs in flight; every failure found is
    // already on disk (workers save before reporting), and the summary still prints.
    let stop = stop_on_signal();
    println!("seed: {}", config.base_seed);
    let bugs = &config.bugs;
    let shard_runs = config.shard.runs(config.runs);
    println!(
        "explore: {} {} runs in the {:?} lane, {}, on {} worker(s){}{}; repeat the campaign with --seed {}",
        config.runs,
        config.protocol.name(),
        config.lane,
        if config.guided {
            "guided search"
        } else {
            "fresh draws"
        },
        config.jobs,
        if bugs.is_empty() {
            String::new()
        } else {
            format!(" with planted bug(s) {}", bugs.join(", "))
        },
        if config.shard == crate::explore::Shard::WHOLE {
            String::new()
        } else {
            format!(", shard {} ({shard_runs} runs)", config.shard)
        },
        config.base_seed
    );
    match config.stop_rule {
        StopRule::Distinct { failures_max } => println!(
            "stops after {failures_max} distinct failures or {} failing runs, keeping the first \
             and the smallest run of each (--keep-going plays every run)",
            failures_max.saturating_mul(crate::explore::FAILING_RUNS_PER_DISTINCT)
        ),
        StopRule::KeepGoing { saved_bytes_max } => println!(
            "plays every run; keeps failure files up to {} MB",
            saved_bytes_max / (1024 * 1024)
        ),
    }
    let bar = reports::progress_bar(shard_runs, "runs");
    // Wall time measures throughput for the report only; it never steers a run.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let mut repeats_printed = 0u64;
    let summary = explore(&config, &stop, |summary, failure| {
        bar.set_position(summary.runs_done);
        if let Some(f) = failure {
            bar.suspend(|| match f.repeat_of {
                None => print_failure(ctx, f, &config),
                Some(first) if repeats_printed < REPEATS_PRINTED_MAX => {
                    repeats_printed += 1;
                    println!(
                        "FAIL run {} seed {}: same failure as run {first} ({}){}",
                        f.index,
                        f.seed,
                        f.class,
                        if f.kept { ", the smallest so far" } else { "" }
                    );
                }
                Some(_) => {}
            });
            bar.set_message(format!(
                "{} failing, {} distinct",
                summary.failing_runs(),
                summary.distinct.len()
            ));
        }
    });
    bar.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();
    let interrupted = stop.load(Ordering::Relaxed);
    if interrupted {
        println!(
            "interrupted: {} of {shard_runs} runs done; every failure found is saved",
            summary.runs_done
        );
    }
    if repeats_printed >= REPEATS_PRINTED_MAX {
        println!("(repeats of known failures past the first {REPEATS_PRINTED_MAX} not printed)");
    }
    if let Some(why) = &summary.stopped {
        println!(
            "stopped: {why}; {} more runs skipped (--keep-going plays them)",
            summary.runs_skipped
        );
    }
    let replay = |f: &Failure| match (&f.saved, f.kept) {
        (Some(Ok(path)), true) => file_replay_command(ctx, path),
        _ => unsaved_replay_command(ctx, &config, f.seed),
    };
    let report = CampaignReport::of(&config, &summary, interrupted, wall_s, &replay);
    reports::print_summary(&report, config.jobs);
    if let Err(e) = report_files.write(&report) {
        eprintln!("error: {e}");
        return exit::HARNESS;
    }
    let code = reports::exit_code(&report);
    // Shrink the smallest run of the first distinct failure, a safety one first (it
    // needs no time bound), one the turmoil lane reproduced before one it did not.
    let distinct = &summary.distinct;
    let reproducible = |d: &&crate::explore::distinct::Distinct| {
        d.property != "harness error" && d.reproduced_in_turmoil != Some(false)
    };
    let is_safety = |d: &&crate::explore::distinct::Distinct| {
        config
            .protocol
            .properties()
            .iter()
            .any(|p| p.name == d.property && p.expectation == Expectation::Always)
    };
    let pick = (distinct.iter())
        .find(|d| reproducible(d) && is_safety(d))
        .or_else(|| distinct.iter().find(reproducible))
        .or_else(|| distinct.iter().find(|d| d.property != "harness error"));
    if let Some(d) = pick {
        match (&d.smallest.file, shrink_budget) {
            (Some(path), Some(budget)) if !interrupted => {
                println!();
                println!(
                    "shrinking the smallest run of the first failure ({})",
                    path.display()
                );
                if let Err(e) = shrink_file(ctx, path, budget, None) {
                    eprintln!("error: {e}");
                }
            }
            (Some(path), _) => {
                println!(
                    "replay the first failure: {}",
                    file_replay_command(ctx, path)
                )
            }
            _ => println!(
                "replay the first failure: {}",
                unsaved_replay_command(ctx, &config, d.smallest.seed)
            ),
        }
    }
    code
}

/// `explore`'s runs when `--runs` is not given, in the fast lane: guided search finds
/// every planted Paxos bug the old default (1,000 turmoil runs) found, in well under a
/// minute on 2 cores (docs/bugs.md, "The default campaign").
const EXPLORE_RUNS_FAST: u64 = 100_000;
/// `explore`'s runs when `--runs` is not given, in the turmoil lane (about 50 times
/// slower a run than the fast lane).
const EXPLORE_RUNS_TURMOIL: u64 = 1_000;

/// Repeats of known failures `explore` prints one line each for, before it goes quiet.
const REPEATS_PRINTED_MAX: u64 = 20;

fn print_failure(ctx: &Ctx, f: &Failure, config: &CampaignConfig) {
    println!("FAIL run {} seed {}", f.index, f.seed);
    if let Some(e) = &f.harness_error {
        println!("  harness error: {e}");
    }
    for v in &f.violations {
        println!("  {v}");
    }
    if let Some(reproduced) = f.reproduced_in_turmoil {
        println!("  {}", turmoil_confirmation(reproduced));
    }
    match &f.saved {
        Some(Ok(path)) => {
            println!("  saved: {}", path.display());
            println!("  replay: {}", file_replay_command(ctx, path));
        }
        Some(Err(e)) => {
            println!("  NOT SAVED: {e}");
            println!("  replay: {}", unsaved_replay_command(ctx, config, f.seed));
        }
        None => println!("  replay: {}", unsaved_replay_command(ctx, config, f.seed)),
    }
}

/// Most worker threads `--jobs` may ask for.
const JOBS_MAX: usize = 1024;

/// `--jobs`: 1 to [`JOBS_MAX`] (0 workers would run nothing and say it finished).
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=JOBS_MAX).contains(&n) => Ok(n),
        _ => Err(format!("{text:?}: jobs are 1 to {JOBS_MAX}")),
    }
}

/// A scenario file, or a saved failure or corpus file (its scenario), checked against
/// the protocol it names. Errors name the file and the field.
fn load_scenario(ctx: &Ctx, path: &Path) -> Result<(Scenario, ProtocolRef), String> {
    let text = crate::storage::read_text_bounded(path, crate::explore::corpus::FILE_BYTES_MAX)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // A saved failure says its format; a bare scenario has no such field.
    let saved = serde_json::from_str::<serde_json::Value>(&text)
        .is_ok_and(|v| v.get("format").is_some() && v.get("scenario").is_some());
    if saved {
        let (entry, protocol) =
            CorpusEntry::load(path, &ctx.lookup()).map_err(|e| e.to_string())?;
        return Ok((entry.scenario, protocol));
    }
    let de = &mut serde_json::Deserializer::from_str(&text);
    let scenario: Scenario = serde_path_to_error::deserialize(de)
        .map_err(|e| format!("{}: field {}: {}", path.display(), e.path(), e.inner()))?;
    let protocol = ctx
        .protocol(Some(&scenario.protocol))
        .map_err(|e| format!("{}: field protocol: {e}", path.display()))?;
    protocol
        .check(&scenario)
        .map_err(|e| format!("{}: field {}: {}", path.display(), e.field, e.reason))?;
    Ok((scenario, protocol))
}

fn seeded(protocol: ProtocolRef, seed: u64, bugs: Vec<String>) -> Scenario {
    let mut scenario = protocol.generate(seed);
    scenario.bugs = bugs;
    scenario
}

/// Exit code for one judged run.
fn verdict_code(judged: &Judged) -> u8 {
    if judged
        .verdict
        .violations
        .iter()
        .any(|v| v.expectation == Expectation::Always)
    {
        exit::SAFETY
    } else if !judged.verdict.violations.is_empty() {
        exit::LIVENESS
    } else if matches!(judged.end, RunEnd::HarnessError(_)) {
        exit::HARNESS
    } else {
        exit::OK
    }
}

fn print_outcome(judged: &Judged) {
    let trace = &judged.trace;
    println!(
        "outcome: {:?} after {} simulated ms, {} events, digest {:016x}",
        judged.end,
        judged.sim_ms,
        trace.len(),
        trace.digest()
    );
    for v in &judged.verdict.violations {
        println!("VIOLATION {v}");
        print!("{}", trace.render_witness(v));
    }
}

/// What `run` prints or writes besides the outcome.
struct Printed {
    trace: bool,
    json: bool,
    html: Option<PathBuf>,
}

/// Write `judged` as a space-time diagram to `path` ([`crate::diagram`]).
fn write_diagram(path: &Path, judged: &Judged, title: &str) -> Result<(), String> {
    let model = judged
        .trace
        .diagram()
        .with_violations(&judged.verdict.violations)
        .with_title(title);
    std::fs::write(path, crate::diagram::page(&model))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "diagram: {} ({} events, {} delivered messages)",
        path.display(),
        model.marks.len(),
        model.delivered()
    );
    Ok(())
}

/// The diagram's title for a run of `scenario`.
fn diagram_title(scenario: &Scenario, judged: &Judged) -> String {
    let bugs = if scenario.bugs.is_empty() {
        String::new()
    } else {
        format!(" with {}", scenario.bugs.join("+"))
    };
    let verdict = match judged.verdict.violations.first() {
        Some(v) => format!("{} broken", v.property),
        None => "every property held".to_string(),
    };
    format!(
        "{} seed {}{bugs}: {verdict}",
        scenario.protocol, scenario.seed
    )
}

/// Where `run`'s scenario comes from: generated from `seed`, or read from `file` and
/// run with `run_seed` instead of its own seed when given.
struct RunSource {
    seed: Option<u64>,
    file: Option<PathBuf>,
    run_seed: Option<u64>,
}

fn cmd_run(
    ctx: &Ctx,
    source: RunSource,
    protocol: ProtocolRef,
    bugs: Vec<String>,
    lane: Lane,
    printed: Printed,
) -> u8 {
    let Printed { trace, json, html } = printed;
    let RunSource {
        seed,
        file,
        run_seed,
    } = source;
    let (scenario, protocol) = match (seed, &file) {
        (Some(seed), _) => (seeded(protocol, seed, bugs), protocol),
        (None, Some(path)) => match load_scenario(ctx, path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        },
        (None, None) => unreachable!("clap requires --seed or --scenario"),
    };
    let mut scenario = scenario;
    if let Some(run_seed) = run_seed {
        scenario.seed = run_seed;
    }
    println!("seed: {}", scenario.seed);
    println!(
        "scenario: {}",
        serde_json::to_string(&scenario).expect("scenarios serialize")
    );
    let judged = run_and_check(protocol, lane, &scenario);
    if trace {
        if json {
            print!("{}", judged.trace.json_lines());
        } else {
            println!("trace:");
            print!("{}", judged.trace.render());
        }
    }
    print_outcome(&judged);
    if let Some(path) = &html {
        if let Err(e) = write_diagram(path, &judged, &diagram_title(&scenario, &judged)) {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    }
    let code = verdict_code(&judged);
    if code == exit::OK {
        println!("all properties held");
    } else {
        match &file {
            Some(p) => println!(
                "replay: {} run --scenario {}{} --lane {} --trace",
                ctx.program,
                p.display(),
                run_seed.map_or(String::new(), |s| format!(" --run-seed {s}")),
                lane_name(lane)
            ),
            None => println!(
                "replay: {} run --seed {} --protocol {}{} --lane {} --trace",
                ctx.program,
                scenario.seed,
                protocol.name(),
                scenario
                    .bugs
                    .iter()
                    .map(|b| format!(" --bug {b}"))
                    .collect::<String>(),
                lane_name(lane)
            ),
        }
    }
    code
}

/// `run --scenario FILE --reseeds N`: the file's schedule under `reseeds` other run
/// seeds ([`crate::explore::reseed`]), counted by property. Exits as the worst run
/// would (1 if any broke a safety property); 130 when stopped by Ctrl-C with nothing
/// broken, as `explore` does.
fn cmd_reseed(ctx: &Ctx, file: &Path, lane: Lane, reseeds: u64) -> u8 {
    use crate::explore::reseed::reseed;
    let (scenario, protocol) = match load_scenario(ctx, file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    };
    let stop = stop_on_signal();
    println!("seed: {}", scenario.seed);
    println!(
        "reseeds: {} {reseeds} times in the {} lane, each run's latencies and jitter drawn \
         from its own seed; the cluster, workload and faults are the file's",
        file.display(),
        lane_name(lane)
    );
    if let Some(stop_at_ms) = scenario.stop_at_ms {
        println!("each run stops at {stop_at_ms} simulated ms, as the file says (stop_at_ms)");
    }
    let bar = reports::progress_bar(reseeds, "runs");
    let asked_to_stop = || {
        bar.inc(1);
        stop.load(Ordering::Relaxed)
    };
    let summary = reseed(protocol, lane, &scenario, reseeds, &asked_to_stop);
    bar.finish_and_clear();
    let share = |runs: u64| 100.0 * runs as f64 / summary.runs.max(1) as f64;
    if summary.interrupted {
        println!("interrupted after {} of {reseeds} runs", summary.runs);
    }
    println!(
        "all properties held in {} of {} runs ({:.1}%); {} trace events a run on average",
        summary.held,
        summary.runs,
        share(summary.held),
        summary.mean_trace_events()
    );
    for (property, v) in &summary.violated {
        let seeds: Vec<String> = v.seeds.iter().map(u64::to_string).collect();
        println!(
            "{property} broken in {} of {} runs ({:.2}%); first run seeds: {}",
            v.runs,
            summary.runs,
            share(v.runs),
            seeds.join(", ")
        );
    }
    if summary.harness_errors > 0 {
        println!("harness errors in {} runs", summary.harness_errors);
    }
    if let Some(seed) = summary.violated.values().find_map(|v| v.seeds.first()) {
        println!(
            "replay one: {} run --scenario {} --run-seed {seed} --lane {} --trace",
            ctx.program,
            file.display(),
            lane_name(lane)
        );
    }
    reports::many_runs_exit_code(
        summary.violated.values().any(|v| v.safety),
        summary.violated.values().any(|v| !v.safety),
        summary.harness_errors > 0,
        summary.interrupted,
    )
}

/// A flag that Ctrl-C (or SIGTERM) raises: long commands ask it between runs, stop,
/// and still print (and save) what they did. Installed before a command's first line,
/// so a Ctrl-C after it is always the handler's.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed)) {
        eprintln!("warning: Ctrl-C handler not installed: {e}");
    }
    stop
}

fn cmd_replay(
    ctx: &Ctx,
    protocol: ProtocolRef,
    failure: FailureSource,
    json: bool,
    html: Option<&Path>,
    lane: Option<Lane>,
) -> u8 {
    let FailureSource {
        file, seed, bugs, ..
    } = failure;
    let (scenario, saved, protocol) = match (&file, seed) {
        (Some(path), _) => match CorpusEntry::load(path, &ctx.lookup()) {
            Ok((entry, protocol)) => (entry.scenario.clone(), Some(entry), protocol),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        },
        (None, Some(seed)) => (seeded(protocol, seed, bugs), None, protocol),
        (None, None) => unreachable!("clap requires a file or --seed"),
    };
    println!("seed: {}", scenario.seed);
    let replay_lane = saved
        .as_ref()
        .map_or(Lane::Turmoil, CorpusEntry::replay_lane);
    match lane {
        Some(Lane::Fast) => println!("lane: fast (asked for)"),
        Some(Lane::Turmoil) => println!("lane: turmoil (asked for)"),
        None if replay_lane == Lane::Fast => println!("lane: fast (this failure was found in the fast lane and does not reproduce in the turmoil lane)"),
        None => {}
    }
    let lane = lane.unwrap_or(replay_lane);
    let judged = run_and_check(protocol, lane, &scenario);
    let trace = &judged.trace;
    if json {
        print!("{}", trace.json_lines());
    } else {
        let witness: std::collections::BTreeSet<usize> = judged
            .verdict
            .violations
            .iter()
            .flat_map(|v| v.witness.iter().copied())
            .collect();
        println!("trace (witness events marked >>):");
        for i in 0..trace.len() {
            let mark = if witness.contains(&i) { ">>" } else { "  " };
            println!("{mark}{i:>5} {}", trace.line(i).unwrap_or_default());
        }
    }
    print_outcome(&judged);
    if let Some(path) = html {
        if let Err(e) = write_diagram(path, &judged, &diagram_title(&scenario, &judged)) {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    }
    if let Some(entry) = &saved {
        let now = format!("{:016x}", trace.digest());
        if now == entry.digest {
            println!("digest matches the saved failure ({now}): identical trace");
        } else {
            println!(
                "DIGEST CHANGED: saved {}, now {now}. The code changed since this was saved \
                 (saved by gauntlet {}); the trace above is today's.",
                entry.digest, entry.gauntlet_version
            );
        }
        match meets_expectation(entry, &judged) {
            Ok(()) => println!("as expected: {:?}", entry.expect),
            Err(why) => {
                println!("NOT AS EXPECTED: {why}");
                return exit::OUTCOME_CHANGED;
            }
        }
        if now != entry.digest {
            return exit::DIGEST_CHANGED;
        }
    }
    verdict_code(&judged)
}

/// Shrink the failure saved in `path`; save the result beside it.
fn shrink_file(ctx: &Ctx, path: &Path, budget: usize, html: Option<&Path>) -> Result<(), String> {
    let (entry, protocol) = CorpusEntry::load(path, &ctx.lookup()).map_err(|e| e.to_string())?;
    let Expect::Fail { property } = &entry.expect else {
        return Err(format!(
            "{}: expects a pass; nothing to shrink",
            path.display()
        ));
    };
    let shrunk_path = path.with_extension("shrunk.json");
    shrink_and_save(
        ctx,
        protocol,
        entry.replay_lane(),
        &entry.scenario,
        property,
        budget,
        &shrunk_path,
        html,
    )
}

/// Shrink `scenario` while `property` still fails in `lane`; save the result to `out`,
/// and its diagram to `html`.
#[allow(clippy::too_many_arguments)]
fn shrink_and_save(
    ctx: &Ctx,
    protocol: ProtocolRef,
    lane: Lane,
    scenario: &Scenario,
    property: &str,
    budget: usize,
    out: &Path,
    html: Option<&Path>,
) -> Result<(), String> {
    let before = run_and_check(protocol, lane, scenario);
    if !before.violates(property) {
        return Err(format!(
            "the scenario does not fail {property}; nothing to shrink"
        ));
    }
    let shrunk = shrink_failure(protocol, lane, scenario, property, budget);
    let after = run_and_check(protocol, lane, &shrunk.scenario);
    let (b, a) = (Size::of(scenario), Size::of(&shrunk.scenario));
    println!(
        "shrink {property}: {} candidate runs, {} accepted{}",
        shrunk.steps,
        shrunk.accepted,
        if shrunk.stopped_early {
            ", STOPPED EARLY at the step budget"
        } else {
            ""
        }
    );
    println!(
        "  fault events   {:>6} -> {}",
        b.fault_events, a.fault_events
    );
    println!("  nodes          {:>6} -> {}", b.nodes, a.nodes);
    println!("  proposals      {:>6} -> {}", b.proposals, a.proposals);
    println!(
        "  trace events   {:>6} -> {}",
        before.trace.len(),
        after.trace.len()
    );
    let mut entry = CorpusEntry::from_judged(&shrunk.scenario, &after);
    if lane == Lane::Fast {
        entry.lane = Lane::Fast;
        entry.reproduced_in_turmoil = Some(false);
    }
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(&entry).expect("entries serialize");
    text.push('\n');
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("saved: {}", out.display());
    println!("replay: {}", file_replay_command(ctx, out));
    if let Some(path) = html {
        write_diagram(path, &after, &diagram_title(&shrunk.scenario, &after))?;
    }
    Ok(())
}

fn cmd_shrink(
    ctx: &Ctx,
    protocol: ProtocolRef,
    failure: FailureSource,
    budget: usize,
    dir: &Path,
    html: Option<&Path>,
) -> u8 {
    let FailureSource {
        file, seed, bugs, ..
    } = failure;
    let result = match (&file, seed) {
        (Some(path), _) => shrink_file(ctx, path, budget, html),
        (None, Some(seed)) => {
            let scenario = seeded(protocol, seed, bugs);
            let judged = run_and_check(protocol, Lane::Turmoil, &scenario);
            match judged.verdict.violations.first() {
                None => Err(format!("seed {seed} fails no property; nothing to shrink")),
                Some(v) => {
                    let entry = CorpusEntry::from_judged(&scenario, &judged);
                    let out = dir.join(entry.file_name()).with_extension("shrunk.json");
                    shrink_and_save(
                        ctx,
                        protocol,
                        Lane::Turmoil,
                        &scenario,
                        v.property,
                        budget,
                        &out,
                        html,
                    )
                }
            }
        }
        (None, None) => unreachable!("clap requires a file or --seed"),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::HARNESS
        }
    }
}

fn cmd_keep(ctx: &Ctx, file: &Path, kind: KeepAs, corpus: &Path) -> u8 {
    let (mut entry, protocol) = match CorpusEntry::load(file, &ctx.lookup()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    };
    let dir = match kind {
        KeepAs::Regression => {
            entry.expect = Expect::Pass;
            if !entry.scenario.bugs.is_empty() {
                // A planted bug stands for the code under test: the regression checks
                // the fixed code, so the bug is switched off.
                println!(
                    "planted bugs switched off for the regression: {}",
                    entry.scenario.bugs.join(", ")
                );
                entry.scenario.bugs = Vec::new();
            }
            corpus.join("regressions")
        }
        KeepAs::KnownFailure => {
            if entry.expect == Expect::Pass {
                eprintln!(
                    "error: {}: expects a pass; a known failure must name its property",
                    file.display()
                );
                return exit::HARNESS;
            }
            corpus.join("known-failures")
        }
    };
    // A fast-lane find is confirmed in the turmoil lane, as a campaign confirms its
    // finds (a check-model script too: the real node shells follow it), so the entry
    // says where `replay` and `cargo test` replay it.
    if let (Lane::Fast, Expect::Fail { property }) = (entry.lane, &entry.expect) {
        let reproduced = run_and_check(protocol, Lane::Turmoil, &entry.scenario).violates(property);
        println!("{}", turmoil_confirmation(reproduced));
        entry.reproduced_in_turmoil = Some(reproduced);
    }
    // Re-check the expectation now, so the corpus never holds an entry that fails on day one.
    let judged = run_and_check(protocol, entry.replay_lane(), &entry.scenario);
    if let Err(why) = meets_expectation(&entry, &judged) {
        eprintln!("error: {}: not kept: {why}", file.display());
        return exit::HARNESS;
    }
    entry.digest = format!("{:016x}", judged.trace.digest());
    match entry.save(&dir) {
        Ok((path, true)) => {
            println!("kept: {} (cargo test replays it)", path.display());
            exit::OK
        }
        Ok((path, false)) => {
            println!("already kept: {}", path.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::HARNESS
        }
    }
}

fn cmd_import_crash(ctx: &Ctx, protocol: ProtocolRef, artifact: &Path, dir: &Path) -> u8 {
    let bytes = match std::fs::read(artifact) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", artifact.display());
            return exit::HARNESS;
        }
    };
    let Some(scenario) = crate::fuzz::scenario_from_bytes(protocol, &bytes) else {
        eprintln!(
            "error: {}: the bytes do not make a valid scenario (too short, or invalid)",
            artifact.display()
        );
        return exit::HARNESS;
    };
    println!("seed: {}", scenario.seed);
    // Judge in the reference lane; say so if only the fast lane fails it.
    let mut judged = run_and_check(protocol, Lane::Turmoil, &scenario);
    let mut lane = Lane::Turmoil;
    if judged.verdict.violations.is_empty() {
        let fast = run_and_check(protocol, Lane::Fast, &scenario);
        if fast.verdict.violations.is_empty() {
            println!("no property fails for this input in either lane; nothing to import");
            return exit::OK;
        }
        println!("fails in the fast lane only; saved with reproduced_in_turmoil: false");
        judged = fast;
        lane = Lane::Fast;
    }
    print_outcome(&judged);
    let mut entry = CorpusEntry::from_judged(&scenario, &judged);
    entry.lane = lane;
    if lane == Lane::Fast {
        entry.reproduced_in_turmoil = Some(false);
    }
    match entry.save(dir) {
        Ok((path, _)) => {
            println!("saved: {}", path.display());
            println!(
                "next: {}, then gauntlet shrink / keep",
                file_replay_command(ctx, &path)
            );
            verdict_code(&judged)
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::HARNESS
        }
    }
}

/// Seconds on the wall clock since the first call: hunts report time to detection.
/// Only differences are used, and nothing a run does depends on it.
#[allow(clippy::disallowed_methods)]
fn wall_s() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// How hard `hunt` hunts, and where it keeps what it finds.
struct HuntPlan {
    seeds: u64,
    first_seed: u64,
    lane: Lane,
    jobs: usize,
    runs_max: u64,
    shrink_budget: usize,
    save: Option<PathBuf>,
    guided: bool,
}

/// Save a hunt's detection (shrunk when it was) as a corpus file in `dir`.
fn save_detection(
    protocol: ProtocolRef,
    lane: Lane,
    d: &crate::explore::hunt::Detection,
    dir: &Path,
) -> Result<PathBuf, String> {
    let scenario = d.shrunk.as_ref().map_or(&d.scenario, |s| &s.scenario);
    let judged = run_and_check(protocol, lane, scenario);
    let mut entry = CorpusEntry::from_judged(scenario, &judged);
    entry.lane = lane;
    entry.reproduced_in_turmoil = d.reproduced_in_turmoil;
    entry
        .save(dir)
        .map(|(path, _)| path)
        .map_err(|e| e.to_string())
}

fn cmd_hunt(protocol: ProtocolRef, targets: &[Vec<String>], plan: HuntPlan) -> u8 {
    use crate::explore::hunt::{campaign_seeds, hunt_all, HuntConfig, HuntSummary};
    let HuntPlan {
        seeds,
        first_seed,
        lane,
        jobs,
        runs_max,
        shrink_budget,
        save,
        guided,
    } = plan;
    let lane_name = lane_name(lane);
    let search = if guided { "guided" } else { "fresh draws" };
    // Ctrl-C (or SIGTERM) ends the campaigns running before their next run and starts
    // no more; what ended is still printed and saved, and the table counts only it.
    let stop = stop_on_signal();
    println!(
        "hunt: {seeds} campaign seeds from {first_seed}, {lane_name} lane, {search}, {jobs} job(s), \
         at most {runs_max} runs per campaign, shrink budget {shrink_budget}"
    );
    let mut rows = Vec::new();
    for bugs in targets {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let name = bugs.join("+");
        println!();
        println!("== {name}");
        let config = HuntConfig {
            protocol,
            bugs: bugs.clone(),
            lane,
            runs_max,
            shrink_budget,
            guided,
        };
        let all_seeds = campaign_seeds(first_seed, seeds);
        let bar = reports::progress_bar(all_seeds.len() as u64, "campaigns");
        let found = std::sync::atomic::AtomicU64::new(0);
        let asked_to_stop = || stop.load(Ordering::Relaxed);
        let runs = hunt_all(&config, &all_seeds, jobs, &wall_s, &asked_to_stop, &|run| {
            if run.detection.is_some() {
                found.fetch_add(1, Ordering::Relaxed);
            }
            bar.set_message(format!("{} found", found.load(Ordering::Relaxed)));
            bar.inc(1);
        });
        bar.finish_and_clear();
        for r in &runs {
            match &r.detection {
                Some(d) => {
                    let shrunk = d
                        .shrunk
                        .as_ref()
                        .map_or("-".into(), |s| s.scenario.faults.events.len().to_string());
                    let repro = match d.reproduced_in_turmoil {
                        Some(true) => ", reproduced in turmoil",
                        Some(false) => ", NOT reproduced in turmoil",
                        None => "",
                    };
                    println!(
                        "  seed {:>4}: {} after {:>6} runs, {:>9.1} ms; run seed {}; \
                         fault events {} -> {shrunk}{repro}",
                        r.campaign_seed,
                        d.property,
                        d.runs,
                        d.wall_s * 1e3,
                        d.seed,
                        d.fault_events
                    );
                    if let Some(dir) = &save {
                        match save_detection(protocol, lane, d, dir) {
                            Ok(path) => println!("             saved: {}", path.display()),
                            Err(e) => println!("             NOT SAVED: {e}"),
                        }
                    }
                }
                None if r.interrupted => println!(
                    "  seed {:>4}: interrupted after {} runs ({:.1} s), left out of the medians",
                    r.campaign_seed, r.runs_played, r.wall_s
                ),
                None => println!(
                    "  seed {:>4}: not found in {runs_max} runs ({:.1} s)",
                    r.campaign_seed, r.wall_s
                ),
            }
        }
        let sum = HuntSummary::of(&runs);
        // No median at all when every campaign was interrupted: none reached a verdict.
        let fmt = |m: Option<f64>, unit: &str| match m {
            Some(x) if unit == "ms" => format!("{x:.1} ms"),
            Some(x) => format!("{x:.0}{unit}"),
            None if sum.campaigns == 0 => "-".to_string(),
            None => format!("> budget ({runs_max} runs)"),
        };
        let row = format!(
            "| `{name}` | {} | {} | {} | {}/{} | {} | {} |",
            if sum.properties.is_empty() {
                "-".to_string()
            } else {
                sum.properties.join(", ")
            },
            fmt(sum.median_runs, ""),
            fmt(sum.median_wall_ms, "ms"),
            sum.found,
            if sum.interrupted == 0 {
                sum.campaigns.to_string()
            } else {
                format!("{} ({} interrupted)", sum.campaigns, sum.interrupted)
            },
            sum.median_shrunk_fault_events
                .map_or("-".into(), |x| format!("{x:.0}")),
            if lane == Lane::Fast {
                format!("{}/{}", sum.reproduced_in_turmoil, sum.found)
            } else {
                "-".into()
            },
        );
        println!(
            "  median: {} runs, {}",
            fmt(sum.median_runs, ""),
            fmt(sum.median_wall_ms, "ms")
        );
        rows.push(row);
    }
    println!();
    println!(
        "| bug | property | median runs | median wall time | found | median shrunk fault events | shrunk reproduced in turmoil |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    if stop.load(Ordering::Relaxed) {
        println!(
            "interrupted: the table counts the campaigns that ended; every failure they \
             found is above{}",
            if save.is_some() { " and saved" } else { "" }
        );
        return exit::INTERRUPTED;
    }
    exit::OK
}

mod experiment;
mod model;
pub mod real;
mod reports;

/// The line that says whether a fast-lane failure failed again in the turmoil lane.
fn turmoil_confirmation(reproduced: bool) -> &'static str {
    if reproduced {
        "reproduced in the turmoil lane: yes"
    } else {
        "reproduced in the turmoil lane: NO (a fast-lane-only finding)"
    }
}
