//! Campaigns: many seeded runs on all cores, aggregated into a summary of violations
//! by property and coverage counts. Every failure carries its seed, so it replays alone.

pub mod corpus;
pub mod hunt;

use crate::check::{check_run, CoverageCounts, Roster, Verdict, Violation};
use crate::paxos::Bugs;
use crate::sim::rng::run_seed;
use crate::sim::{run, RunEnd, RunReport, Scenario};
use corpus::CorpusEntry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

/// The roles of a scenario's nodes, as the checkers need them.
pub fn roster(scenario: &Scenario) -> Roster {
    let m = scenario.cluster.membership();
    Roster {
        acceptors: m.acceptors,
        learners: m.learners,
        proposers: m.proposers,
    }
}

/// The verdict on one finished run. A harness error (a node's software failing, or a
/// panic) is not a protocol verdict; it is reported apart.
#[derive(Debug, Clone)]
pub struct Judged {
    pub seed: u64,
    pub report: RunReport,
    pub verdict: Verdict,
}

/// Which simulator runs a scenario (ARCHITECTURE.md, "Two lanes, one semantics").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// The real async nodes on turmoil: the reference.
    #[default]
    Turmoil,
    /// The discrete-event loop over the same cores: ~170x faster.
    Fast,
}

/// Run a scenario in the turmoil lane and judge it.
pub fn run_and_check(scenario: &Scenario) -> Judged {
    run_and_check_in(Lane::Turmoil, scenario)
}

/// Run a scenario in `lane` and judge it.
pub fn run_and_check_in(lane: Lane, scenario: &Scenario) -> Judged {
    let report = match lane {
        Lane::Turmoil => run(scenario),
        Lane::Fast => crate::sim::run_fast(scenario),
    };
    let verdict = check_run(&report.history, &roster(scenario));
    Judged {
        seed: scenario.seed,
        report,
        verdict,
    }
}

/// A run that failed, kept with what is needed to replay it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub index: u64,
    pub seed: u64,
    /// Violations found; empty for a harness error.
    pub violations: Vec<Violation>,
    pub harness_error: Option<String>,
    /// Where the failure was saved, or why saving failed.
    pub saved: Option<Result<PathBuf, String>>,
    /// For a fast-lane failure: whether the turmoil lane (the reference) reproduced it.
    pub reproduced_in_turmoil: Option<bool>,
}

impl Failure {
    pub fn is_safety(&self) -> bool {
        self.violations
            .iter()
            .any(|v| v.expectation == crate::check::Expectation::Always)
    }
}

#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub runs: u64,
    pub base_seed: u64,
    pub jobs: usize,
    /// Planted bugs switched on in every run (none: correct Paxos).
    pub bugs: Bugs,
    /// Where failing scenarios are saved as they are found (`None`: not saved).
    pub failures_dir: Option<PathBuf>,
    pub lane: Lane,
}

#[derive(Debug, Clone, Default)]
pub struct CampaignSummary {
    pub runs_done: u64,
    pub violations_by_property: BTreeMap<&'static str, u64>,
    pub harness_errors: u64,
    pub coverage: CoverageCounts,
    pub failures: Vec<Failure>,
    pub sim_ms_total: u64,
    pub events_total: u64,
}

/// The scenario of one campaign run: generated from its seed, with the campaign's bugs.
pub fn campaign_scenario(seed: u64, bugs: &Bugs) -> Scenario {
    let mut scenario = Scenario::generate(seed);
    scenario.bugs = bugs.clone();
    scenario
}

/// What a worker sends back for one run: the verdict, where a failure was saved (or
/// why saving failed), and for a fast-lane failure whether turmoil reproduced it;
/// `Err` is a panic's message.
type RunOutcome = Result<(Judged, Option<Result<PathBuf, String>>, Option<bool>), String>;

/// One run of a campaign, in a worker: never panics (a panic becomes a harness error).
/// A run that violates a property is saved to `failures_dir` right here, before any
/// other work, so an interrupted campaign loses no failure it found.
fn campaign_run(index: u64, seed: u64, config: &CampaignConfig) -> (u64, RunOutcome) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let scenario = campaign_scenario(seed, &config.bugs);
        let judged = run_and_check_in(config.lane, &scenario);
        let failed = !judged.verdict.violations.is_empty();
        // A fast-lane failure is confirmed (or refuted) in the reference lane at once.
        let reference = (failed && config.lane == Lane::Fast).then(|| run_and_check(&scenario));
        let reproduced = reference.as_ref().map(|r| {
            judged.verdict.violations.iter().any(|v| {
                r.verdict
                    .violations
                    .iter()
                    .any(|w| w.property == v.property)
            })
        });
        let saved = match &config.failures_dir {
            Some(dir) if failed => {
                let mut entry = CorpusEntry::from_judged(&scenario, &judged);
                entry.lane = config.lane;
                entry.reproduced_in_turmoil = reproduced;
                if let Some(r) = &reference {
                    // The saved digest is the reference lane's, which `replay` re-runs.
                    entry.digest = format!("{:016x}", r.report.history.digest());
                }
                Some(
                    entry
                        .save(dir)
                        .map(|(path, _)| path)
                        .map_err(|e| e.to_string()),
                )
            }
            _ => None,
        };
        (judged, saved, reproduced)
    }));
    let outcome = outcome.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    });
    (index, outcome)
}

/// Run a campaign. `on_run` is called on the calling thread after each run (progress,
/// immediate reporting of failures). Setting `stop` ends the campaign after the runs in
/// flight; the summary then covers the runs done.
pub fn explore(
    config: &CampaignConfig,
    stop: &AtomicBool,
    mut on_run: impl FnMut(&CampaignSummary, Option<&Failure>),
) -> CampaignSummary {
    let next = AtomicU64::new(0);
    let mut summary = CampaignSummary::default();
    let jobs = config.jobs.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(jobs * 4);
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= config.runs {
                    break;
                }
                if tx
                    .send(campaign_run(
                        index,
                        run_seed(config.base_seed, index),
                        config,
                    ))
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(tx);
        for (index, outcome) in rx {
            summary.runs_done += 1;
            let seed = run_seed(config.base_seed, index);
            let failure = match outcome {
                Ok((judged, saved, reproduced)) => {
                    summary.coverage.add(&judged.verdict.coverage);
                    summary.sim_ms_total += judged.report.sim_ms;
                    summary.events_total += judged.report.history.len() as u64;
                    let harness_error = match &judged.report.end {
                        RunEnd::HarnessError(e) => Some(e.clone()),
                        _ => None,
                    };
                    for v in &judged.verdict.violations {
                        *summary
                            .violations_by_property
                            .entry(v.property)
                            .or_default() += 1;
                    }
                    (harness_error.is_some() || !judged.verdict.violations.is_empty()).then_some(
                        Failure {
                            index,
                            seed,
                            violations: judged.verdict.violations,
                            harness_error,
                            saved,
                            reproduced_in_turmoil: reproduced,
                        },
                    )
                }
                Err(panic) => Some(Failure {
                    index,
                    seed,
                    violations: Vec::new(),
                    harness_error: Some(format!("panic: {panic}")),
                    saved: None,
                    reproduced_in_turmoil: None,
                }),
            };
            if let Some(f) = &failure {
                if f.harness_error.is_some() {
                    summary.harness_errors += 1;
                }
            }
            on_run(&summary, failure.as_ref());
            if let Some(f) = failure {
                summary.failures.push(f);
            }
        }
    });
    summary.failures.sort_by_key(|f| f.index);
    summary
}

/// Shrink a failing scenario while `property` still fails, in at most `budget` runs.
pub fn shrink_failure(
    scenario: &Scenario,
    property: &str,
    budget: usize,
) -> crate::sim::shrink::Shrunk {
    crate::sim::shrink::shrink(scenario, budget, |candidate| {
        run_and_check(candidate)
            .verdict
            .violations
            .iter()
            .any(|v| v.property == property)
    })
}
