//! Measuring the generator against the planted-bug catalog: how many runs, and how much
//! wall time, a campaign needs before it first sees a bug, over several campaign seeds.
//! A campaign here is exactly `gauntlet explore --seed S` with the bug switched on (run
//! `i` has seed `run_seed(S, i)`), played one run at a time on one thread, stopped at
//! the first run that violates a property. The failure is then shrunk in the same lane,
//! and a fast-lane find is re-run in the turmoil lane, the reference.
//!
//! The clock is handed in by the caller: the library never reads wall time, so hunts
//! are as deterministic as everything else apart from the durations they report. So is
//! the stop request (Ctrl-C in `gauntlet hunt`): a campaign asked to stop ends before
//! its next run and says it was interrupted, so the caller can report every campaign
//! that finished, and every failure found, instead of losing the whole hunt.

use super::guided::Guide;
use super::{campaign_scenario, run_and_check, shrink_failure, Lane, ProtocolRef};
use crate::rng::run_seed;
use crate::scenario::Scenario;
use crate::sim::shrink::Shrunk;

/// What one hunt looks for, and how hard.
#[derive(Clone)]
pub struct HuntConfig {
    pub protocol: ProtocolRef,
    pub bugs: Vec<String>,
    pub lane: Lane,
    /// Most runs one campaign may spend before giving up.
    pub runs_max: u64,
    /// Candidate runs the shrinker may spend on the failure found (0: no shrinking).
    pub shrink_budget: usize,
    /// Guided search ([`super::guided`]) instead of fresh draws for every run.
    pub guided: bool,
}

/// The first failure one campaign found.
#[derive(Debug, Clone)]
pub struct Detection {
    /// Runs played up to and including the failing one (its index + 1).
    pub runs: u64,
    /// Wall seconds from the campaign's start to the verdict on the failing run.
    pub wall_s: f64,
    /// The seed of the failing run (replay it with `gauntlet replay --seed`).
    pub seed: u64,
    /// The first property it violated.
    pub property: &'static str,
    pub scenario: Scenario,
    /// Fault events in the failing scenario, and after shrinking.
    pub fault_events: usize,
    pub shrunk: Option<Shrunk>,
    /// For a fast-lane find: whether the turmoil lane fails the same property on the
    /// shrunk scenario (or on the original when not shrunk).
    pub reproduced_in_turmoil: Option<bool>,
}

/// One campaign's outcome.
#[derive(Debug, Clone)]
pub struct HuntRun {
    pub campaign_seed: u64,
    /// `None`: not found within `runs_max`.
    pub detection: Option<Detection>,
    /// Wall seconds the campaign ran (to detection, or all `runs_max` runs).
    pub wall_s: f64,
    /// Runs played (up to and including a failing one).
    pub runs_played: u64,
    /// Stopped on request before its verdict: neither a find nor a miss, so summaries
    /// leave it out.
    pub interrupted: bool,
}

/// Run one campaign with base seed `campaign_seed` until its first violation.
/// `now_s` reads a clock in seconds (only differences are used); `stop` is asked
/// before every run, and a `true` ends the campaign there, interrupted.
pub fn hunt(
    config: &HuntConfig,
    campaign_seed: u64,
    now_s: &dyn Fn() -> f64,
    stop: &dyn Fn() -> bool,
) -> HuntRun {
    let started = now_s();
    let mut guide = config
        .guided
        .then(|| Guide::new(config.protocol, &config.bugs, campaign_seed));
    for index in 0..config.runs_max {
        if stop() {
            return HuntRun {
                campaign_seed,
                detection: None,
                wall_s: now_s() - started,
                runs_played: index,
                interrupted: true,
            };
        }
        let seed = run_seed(campaign_seed, index);
        let scenario = match &guide {
            Some(guide) => guide.scenario(&guide.parents(), index).0,
            None => campaign_scenario(config.protocol, seed, &config.bugs),
        };
        let judged = run_and_check(config.protocol, config.lane, &scenario);
        let Some(first) = judged.verdict.violations.first() else {
            if let Some(guide) = &mut guide {
                let trace = &judged.trace;
                guide.observe(index, &scenario, &trace.features(), trace.len(), &|| {
                    trace.moments()
                });
            }
            continue;
        };
        // A guided run's scenario is its own: replay it from the saved file.
        let seed = scenario.seed;
        let wall_s = now_s() - started;
        let property = first.property;
        // A stop request skips the shrinking (it may take thousands of runs); the
        // failure found is still reported whole.
        let shrunk = (config.shrink_budget > 0 && !stop()).then(|| {
            shrink_failure(
                config.protocol,
                config.lane,
                &scenario,
                property,
                config.shrink_budget,
            )
        });
        let reproduced_in_turmoil = (config.lane == Lane::Fast).then(|| {
            let target = shrunk.as_ref().map_or(&scenario, |s| &s.scenario);
            run_and_check(config.protocol, Lane::Turmoil, target).violates(property)
        });
        return HuntRun {
            campaign_seed,
            detection: Some(Detection {
                runs: index + 1,
                wall_s,
                seed,
                property,
                fault_events: scenario.faults.events.len(),
                scenario,
                shrunk,
                reproduced_in_turmoil,
            }),
            wall_s,
            runs_played: index + 1,
            interrupted: false,
        };
    }
    HuntRun {
        campaign_seed,
        detection: None,
        wall_s: now_s() - started,
        runs_played: config.runs_max,
        interrupted: false,
    }
}

/// The median of `values` (the upper middle one for an even count); `None` if empty.
/// `None` entries (not found) count as larger than any number, so a median that lands
/// on one is itself `None`: "not found within the budget".
pub fn median(values: &[Option<f64>]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted: Vec<Option<f64>> = values.to_vec();
    sorted.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    sorted[sorted.len() / 2]
}

/// Campaign seeds for a hunt of `count` campaigns starting at `first`.
pub fn campaign_seeds(first: u64, count: u64) -> Vec<u64> {
    (0..count).map(|i| first.wrapping_add(i)).collect()
}

/// Run the campaigns of `seeds` on `jobs` threads (seed `i` on thread `i % jobs`, one
/// campaign at a time each), sorted by campaign seed. `now_s` reads a clock in
/// seconds, for the reported durations only; `on_done` hears of each campaign as it
/// ends (progress). Once `stop` says so, the campaigns running end interrupted and
/// the ones not started are left out.
pub fn hunt_all(
    config: &HuntConfig,
    seeds: &[u64],
    jobs: usize,
    now_s: &(dyn Fn() -> f64 + Sync),
    stop: &(dyn Fn() -> bool + Sync),
    on_done: &(dyn Fn(&HuntRun) + Sync),
) -> Vec<HuntRun> {
    let jobs = jobs.max(1);
    let mut runs: Vec<HuntRun> = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let chunk: Vec<u64> = seeds.iter().copied().skip(j).step_by(jobs).collect();
                scope.spawn(move || {
                    let mut done = Vec::new();
                    for seed in chunk {
                        if stop() {
                            break;
                        }
                        let run = hunt(config, seed, now_s, stop);
                        on_done(&run);
                        done.push(run);
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            runs.extend(h.join().expect("a hunt thread panicked"));
        }
    });
    runs.sort_by_key(|r| r.campaign_seed);
    runs
}

/// What a hunt's campaigns say together: the table row `gauntlet hunt` prints.
/// Interrupted campaigns are counted apart and left out of everything else: a campaign
/// stopped after 10 runs has neither found its bug nor missed it within the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct HuntSummary {
    /// Campaigns that ran to a verdict (a find, or the whole budget).
    pub campaigns: usize,
    /// Campaigns stopped on request before their verdict.
    pub interrupted: usize,
    /// Campaigns that found a violation.
    pub found: usize,
    /// Medians over all campaigns (`None`: the median campaign found nothing).
    pub median_runs: Option<f64>,
    pub median_wall_ms: Option<f64>,
    /// Median fault events of the shrunk failures, over the campaigns that found one.
    pub median_shrunk_fault_events: Option<f64>,
    /// The properties that caught it, sorted.
    pub properties: Vec<&'static str>,
    /// Fast-lane finds the turmoil lane reproduced.
    pub reproduced_in_turmoil: usize,
}

impl HuntSummary {
    pub fn of(all_runs: &[HuntRun]) -> HuntSummary {
        let runs: Vec<&HuntRun> = all_runs.iter().filter(|r| !r.interrupted).collect();
        let found: Vec<&Detection> = runs.iter().filter_map(|r| r.detection.as_ref()).collect();
        let over_all = |f: &dyn Fn(&Detection) -> f64| {
            median(
                &runs
                    .iter()
                    .map(|r| r.detection.as_ref().map(f))
                    .collect::<Vec<_>>(),
            )
        };
        let mut properties: Vec<&'static str> = found.iter().map(|d| d.property).collect();
        properties.sort_unstable();
        properties.dedup();
        HuntSummary {
            campaigns: runs.len(),
            interrupted: all_runs.len() - runs.len(),
            found: found.len(),
            median_runs: over_all(&|d| d.runs as f64),
            median_wall_ms: over_all(&|d| d.wall_s * 1e3),
            median_shrunk_fault_events: median(
                &found
                    .iter()
                    .map(|d| {
                        d.shrunk
                            .as_ref()
                            .map(|s| s.scenario.faults.events.len() as f64)
                    })
                    .collect::<Vec<_>>(),
            ),
            properties,
            reproduced_in_turmoil: found
                .iter()
                .filter(|d| d.reproduced_in_turmoil == Some(true))
                .count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The median treats "not found" as larger than every number, and takes the upper
    /// middle of an even count (so 10 seeds report the 6th-smallest value).
    #[test]
    fn median_orders_not_found_last() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[Some(3.0), Some(1.0), Some(2.0)]), Some(2.0));
        assert_eq!(
            median(&[Some(1.0), Some(4.0), Some(2.0), Some(3.0)]),
            Some(3.0)
        );
        assert_eq!(median(&[Some(1.0), None, None]), None);
        assert_eq!(median(&[Some(1.0), Some(2.0), None]), Some(2.0));
    }

    /// A hunt's summary: medians over every campaign that ended (a campaign that found
    /// nothing counts as the largest; interrupted ones are only counted), the shrunk
    /// size over the finds, the properties that caught it, and how many fast-lane
    /// finds turmoil reproduced.
    #[test]
    fn summary_reads_every_campaign() {
        let scenario = Scenario {
            liveness_bound_ms: 1_000,
            ..Scenario::quiet("any", crate::scenario::Cluster::of_size(3), 1)
        };
        let found = |runs: u64, property: &'static str| HuntRun {
            campaign_seed: runs,
            detection: Some(Detection {
                runs,
                wall_s: runs as f64 / 1e3,
                seed: runs,
                property,
                scenario: scenario.clone(),
                fault_events: 3,
                shrunk: None,
                reproduced_in_turmoil: Some(true),
            }),
            wall_s: 1.0,
            runs_played: runs,
            interrupted: false,
        };
        let missed = HuntRun {
            campaign_seed: 99,
            detection: None,
            wall_s: 5.0,
            runs_played: 1_000,
            interrupted: false,
        };
        let stopped = HuntRun {
            interrupted: true,
            runs_played: 3,
            ..missed.clone()
        };
        let sum = HuntSummary::of(&[
            found(10, "liveness"),
            found(2, "agreement"),
            stopped.clone(),
            missed,
            stopped,
        ]);
        assert_eq!((sum.campaigns, sum.found, sum.interrupted), (3, 2, 2));
        assert_eq!(sum.median_runs, Some(10.0));
        assert_eq!(sum.median_wall_ms, Some(10.0));
        assert_eq!(sum.median_shrunk_fault_events, None, "nothing was shrunk");
        assert_eq!(sum.properties, vec!["agreement", "liveness"]);
        assert_eq!(sum.reproduced_in_turmoil, 2);
    }
}
