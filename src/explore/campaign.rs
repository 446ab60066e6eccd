//! One campaign (or one shard of one): runs on worker threads, folded into the summary
//! in run order on the calling thread, so what a campaign reports never depends on
//! how many workers played it or how they were scheduled.
//!
//! Workers play runs and save each failing scenario the moment they find it (an
//! interrupted campaign loses nothing it found). The calling thread folds the runs in
//! order: it counts violations and coverage, tells distinct failures apart
//! ([`super::distinct`]), re-runs the first run of each distinct fast-lane failure in
//! the turmoil lane (once per distinct failure, not per failing run), and applies the
//! [`StopRule`]: by default the campaign stops after a few distinct failures and keeps,
//! of each, only the first and the smallest failing run's file.

use super::corpus::CorpusEntry;
use super::distinct::{class_of, Distinct, KeptRun};
use super::guided::{self, Corpus, Guide, RunMoment, GENERATION_RUNS};
use super::shard::Shard;
use super::{campaign_scenario, run_and_check, Lane, ProtocolRef};
use crate::check::{CoverageCounts, Violation};
use crate::rng::run_seed;
use crate::scenario::Scenario;
use crate::sim::RunEnd;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

/// When a campaign stops before its last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRule {
    /// Stop once `failures_max` distinct failures are found, or once
    /// `failures_max` x [`FAILING_RUNS_PER_DISTINCT`] runs have failed (the same few
    /// failures, over and over); keep the first and the smallest run of each.
    Distinct { failures_max: u64 },
    /// Play every run and keep every failing run's file, until this campaign's saved
    /// files take `saved_bytes_max` bytes; later failures are counted, not saved.
    KeepGoing { saved_bytes_max: u64 },
}

/// Failing runs per distinct failure a [`StopRule::Distinct`] campaign plays before it
/// stops even without finding more distinct failures.
pub const FAILING_RUNS_PER_DISTINCT: u64 = 10;

impl StopRule {
    /// The default: stop after 3 distinct failures.
    pub const DEFAULT: StopRule = StopRule::Distinct { failures_max: 3 };
}

#[derive(Clone)]
pub struct CampaignConfig {
    /// Runs of the whole campaign (a shard plays its share of them).
    pub runs: u64,
    pub base_seed: u64,
    pub jobs: usize,
    /// Planted bugs switched on in every run (none: the correct protocol).
    pub bugs: Vec<String>,
    /// Where failing scenarios are saved as they are found (`None`: not saved).
    pub failures_dir: Option<PathBuf>,
    pub lane: Lane,
    /// The protocol every run tests.
    pub protocol: ProtocolRef,
    /// The share of the campaign's runs to play ([`Shard::WHOLE`]: all of them).
    pub shard: Shard,
    pub stop_rule: StopRule,
    /// Guided search ([`super::guided`]): most runs mutate scenarios that reached new
    /// coverage, instead of every run drawn fresh from its seed.
    pub guided: bool,
}

/// A run that failed, kept with what is needed to replay it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The run's index in the campaign (its seed is `run_seed(base, index)`).
    pub index: u64,
    pub seed: u64,
    /// Violations found; empty for a harness error.
    pub violations: Vec<Violation>,
    pub harness_error: Option<String>,
    /// Where the failure was saved, or why saving failed (`None`: no directory).
    pub saved: Option<Result<PathBuf, String>>,
    /// For a fast-lane failure: whether the turmoil lane (the reference) reproduced its
    /// distinct failure's first run.
    pub reproduced_in_turmoil: Option<bool>,
    /// Its distinct failure ([`class_of`]).
    pub class: String,
    /// Trace events of the run.
    pub events: u64,
    /// The first run of the same distinct failure, when this one repeats it.
    pub repeat_of: Option<u64>,
    /// Whether its saved file is kept: a [`StopRule::Distinct`] campaign removes the
    /// files of repeats that are neither the first nor the smallest.
    pub kept: bool,
}

impl Failure {
    pub fn is_safety(&self) -> bool {
        self.violations
            .iter()
            .any(|v| v.expectation == crate::check::Expectation::Always)
    }
}

#[derive(Debug, Clone)]
pub struct CampaignSummary {
    /// Runs folded into the summary (every run up to the stop, in order).
    pub runs_done: u64,
    pub violations_by_property: BTreeMap<&'static str, u64>,
    pub harness_errors: u64,
    pub coverage: CoverageCounts,
    /// Every failing run, by index.
    pub failures: Vec<Failure>,
    pub sim_ms_total: u64,
    pub events_total: u64,
    /// Distinct failures, in the order found.
    pub distinct: Vec<Distinct>,
    /// Runs of this campaign (or shard) not played because its stop rule stopped it.
    pub runs_skipped: u64,
    /// Why the stop rule stopped the campaign, if it did.
    pub stopped: Option<String>,
    /// Bytes of failure files this campaign wrote and kept.
    pub saved_bytes: u64,
}

impl CampaignSummary {
    /// An empty summary for a campaign of `protocol` (coverage counts at zero).
    pub fn new(protocol: ProtocolRef) -> Self {
        CampaignSummary {
            runs_done: 0,
            violations_by_property: BTreeMap::new(),
            harness_errors: 0,
            coverage: CoverageCounts::for_properties(&protocol.properties()),
            failures: Vec::new(),
            sim_ms_total: 0,
            events_total: 0,
            distinct: Vec::new(),
            runs_skipped: 0,
            stopped: None,
            saved_bytes: 0,
        }
    }

    /// Failing runs, including repeats.
    pub fn failing_runs(&self) -> u64 {
        self.failures.len() as u64
    }
}

/// What a worker hands back for one run.
struct RunRecord {
    position: u64,
    index: u64,
    seed: u64,
    /// A guided run's scenario, coverage features and moments, for the guide.
    guided: Option<(Scenario, Vec<u64>, usize, Vec<RunMoment>)>,
    /// `Err`: a panic's message.
    outcome: Result<RunDigest, String>,
    /// Where its failure was saved (or why not), and whether this campaign wrote it.
    saved: Option<(Result<PathBuf, String>, bool)>,
}

/// What the summary needs of one run: its verdict and sizes, not its trace (which
/// stays, and is freed, on the worker's thread).
struct RunDigest {
    verdict: crate::check::Verdict,
    end: RunEnd,
    sim_ms: u64,
    events: u64,
    /// Its distinct failure, if it failed.
    class: Option<String>,
}

/// Runs a worker finishes before it reports to the campaign's thread, unless a failure
/// makes it report at once: handing every run across threads cost more than a fast
/// run itself.
const REPORT_RUNS: usize = 64;

/// One run of a campaign, in a worker: never panics (a panic becomes a harness error).
/// A failing run is saved to `failures_dir` right here, before any other work, unless
/// the campaign's saved files already fill the disk budget.
fn play(
    position: u64,
    config: &CampaignConfig,
    saved_bytes: &AtomicU64,
    parents: Option<&Corpus>,
) -> RunRecord {
    let index = config.shard.run_index(position);
    let seed = run_seed(config.base_seed, index);
    let mut saved = None;
    let mut guided = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let scenario = match parents {
            Some(parents) => {
                guided::scenario_for(
                    config.protocol,
                    &config.bugs,
                    config.base_seed,
                    parents,
                    index,
                )
                .0
            }
            None => campaign_scenario(config.protocol, seed, &config.bugs),
        };
        let judged = run_and_check(config.protocol, config.lane, &scenario);
        if parents.is_some() {
            // The moments go with every run: whether this one reached new coverage
            // is known only on the campaign's thread, in run order.
            guided = Some((
                scenario.clone(),
                judged.trace.features(),
                judged.trace.len(),
                judged.trace.moments(),
            ));
        }
        let failed = !judged.verdict.violations.is_empty();
        if let (Some(dir), true) = (&config.failures_dir, failed) {
            saved = Some(save(&judged, &scenario, config, dir, saved_bytes));
        }
        let failing = failed || matches!(judged.end, RunEnd::HarnessError(_));
        RunDigest {
            class: failing.then(|| class_of(&judged)),
            events: judged.trace.len() as u64,
            verdict: judged.verdict,
            end: judged.end,
            sim_ms: judged.sim_ms,
        }
    }));
    let outcome = outcome.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    });
    RunRecord {
        position,
        index,
        seed,
        guided,
        outcome,
        saved,
    }
}

/// Save a failing run, within the campaign's disk budget.
fn save(
    judged: &super::Judged,
    scenario: &crate::scenario::Scenario,
    config: &CampaignConfig,
    dir: &Path,
    saved_bytes: &AtomicU64,
) -> (Result<PathBuf, String>, bool) {
    if let StopRule::KeepGoing { saved_bytes_max } = config.stop_rule {
        if saved_bytes.load(Ordering::Relaxed) >= saved_bytes_max {
            return (
                Err(format!(
                    "not saved: this campaign's failure files reached the {saved_bytes_max}-byte bound"
                )),
                false,
            );
        }
    }
    let mut entry = CorpusEntry::from_judged(scenario, judged);
    entry.lane = config.lane;
    match entry.save(dir) {
        Ok((path, written)) => {
            if written {
                let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                saved_bytes.fetch_add(len, Ordering::Relaxed);
            }
            (Ok(path), written)
        }
        Err(e) => (Err(e.to_string()), false),
    }
}

/// The calling thread's side of a campaign: folds runs in order.
struct Folder<'a> {
    config: &'a CampaignConfig,
    summary: CampaignSummary,
    /// Distinct failures by class: their position in `summary.distinct`.
    classes: BTreeMap<String, usize>,
    /// Files this campaign wrote (it removes only those).
    written: BTreeSet<PathBuf>,
    saved_bytes: &'a AtomicU64,
    /// The last position folded when the stop rule stopped the campaign.
    cutoff: Option<u64>,
}

impl Folder<'_> {
    /// Remove a file this campaign wrote and no longer keeps.
    fn discard(&mut self, path: &Path) {
        if self.written.remove(path) {
            let len = std::fs::metadata(path).map_or(0, |m| m.len());
            if std::fs::remove_file(path).is_ok() {
                self.saved_bytes.fetch_sub(len, Ordering::Relaxed);
            }
        }
    }

    /// Fold one run; its failure, if it is one.
    fn fold(&mut self, record: RunRecord) -> Option<Failure> {
        let RunRecord {
            position,
            index,
            seed,
            outcome,
            saved,
            ..
        } = record;
        let (saved, written) = match saved {
            Some((saved, written)) => (Some(saved), written),
            None => (None, false),
        };
        if let (true, Some(Ok(path))) = (written, &saved) {
            self.written.insert(path.clone());
        }
        if self.cutoff.is_some_and(|c| position > c) {
            if let Some(Ok(path)) = &saved {
                self.discard(path);
            }
            return None;
        }
        let s = &mut self.summary;
        s.runs_done += 1;
        let mut failure = match outcome {
            Ok(run) => {
                s.coverage.add(&run.verdict);
                s.sim_ms_total = s.sim_ms_total.saturating_add(run.sim_ms);
                s.events_total = s.events_total.saturating_add(run.events);
                for v in &run.verdict.violations {
                    let n = s.violations_by_property.entry(v.property).or_default();
                    *n = n.saturating_add(1);
                }
                let harness_error = match run.end {
                    RunEnd::HarnessError(e) => Some(e),
                    _ => None,
                };
                let class = run.class?;
                Failure {
                    index,
                    seed,
                    violations: run.verdict.violations,
                    harness_error,
                    saved,
                    reproduced_in_turmoil: None,
                    class,
                    events: run.events,
                    repeat_of: None,
                    kept: false,
                }
            }
            Err(panic) => Failure {
                index,
                seed,
                violations: Vec::new(),
                harness_error: Some(format!("panic: {panic}")),
                saved: None,
                reproduced_in_turmoil: None,
                class: "harness error".into(),
                events: 0,
                repeat_of: None,
                kept: false,
            },
        };
        if failure.harness_error.is_some() {
            s.harness_errors += 1;
        }
        self.classify(&mut failure);
        self.summary.failures.push(failure.clone());
        if let StopRule::Distinct { failures_max } = self.config.stop_rule {
            let failing = self.summary.failing_runs();
            let distinct = self.summary.distinct.len() as u64;
            let why = if distinct >= failures_max {
                Some(format!("{distinct} distinct failures found"))
            } else if failing >= failures_max.saturating_mul(FAILING_RUNS_PER_DISTINCT) {
                Some(format!(
                    "{failing} failing runs, {distinct} distinct failure(s)"
                ))
            } else {
                None
            };
            if let (Some(why), None) = (why, self.cutoff) {
                self.cutoff = Some(position);
                self.summary.stopped = Some(why);
            }
        }
        Some(failure)
    }

    /// Match a failure to its distinct failure: the first of its class is re-run in
    /// the turmoil lane (a fast-lane find), a repeat is kept only while it is the
    /// smallest of its class (or always, when keeping going).
    fn classify(&mut self, failure: &mut Failure) {
        let saved_path = failure
            .saved
            .as_ref()
            .and_then(|s| s.as_ref().ok())
            .cloned();
        let run = KeptRun {
            index: failure.index,
            seed: failure.seed,
            events: failure.events,
            file: saved_path.clone(),
        };
        let Some(&at) = self.classes.get(&failure.class) else {
            failure.reproduced_in_turmoil = self.reproduce(failure);
            failure.kept = saved_path.is_some();
            self.classes
                .insert(failure.class.clone(), self.summary.distinct.len());
            self.summary.distinct.push(Distinct {
                class: failure.class.clone(),
                property: failure
                    .violations
                    .first()
                    .map_or("harness error".into(), |v| v.property.to_string()),
                first: run.clone(),
                smallest: run,
                failing_runs: 1,
                reproduced_in_turmoil: failure.reproduced_in_turmoil,
            });
            return;
        };
        let keep_all = matches!(self.config.stop_rule, StopRule::KeepGoing { .. });
        let d = &mut self.summary.distinct[at];
        d.failing_runs = d.failing_runs.saturating_add(1);
        failure.repeat_of = Some(d.first.index);
        failure.reproduced_in_turmoil = d.reproduced_in_turmoil;
        let smaller = (run.events, run.index) < (d.smallest.events, d.smallest.index);
        let mut discard = Vec::new();
        if smaller {
            let old = std::mem::replace(&mut d.smallest, run);
            if old.index != d.first.index && !keep_all {
                discard.extend(old.file);
                if let Some(f) = self
                    .summary
                    .failures
                    .iter_mut()
                    .find(|f| f.index == old.index)
                {
                    f.kept = false;
                }
            }
            failure.kept = saved_path.is_some();
        } else if keep_all {
            failure.kept = saved_path.is_some();
        } else {
            discard.extend(saved_path);
        }
        for path in discard {
            self.discard(&path);
        }
    }

    /// Re-run a fast-lane failure in the turmoil lane, and record the answer in its
    /// saved file (whose digest stays: the lanes give the same trace).
    fn reproduce(&self, failure: &Failure) -> Option<bool> {
        if self.config.lane != Lane::Fast || failure.violations.is_empty() {
            return None;
        }
        let config = self.config;
        // A guided run's scenario is not its seed's: read it back from its file.
        let saved = failure.saved.as_ref().and_then(|s| s.as_ref().ok());
        let scenario = match saved.map(|path| CorpusEntry::read(path)) {
            Some(Ok(entry)) => entry.scenario,
            _ if config.guided => return None,
            _ => campaign_scenario(config.protocol, failure.seed, &config.bugs),
        };
        let reference = run_and_check(config.protocol, Lane::Turmoil, &scenario);
        let reproduced = failure
            .violations
            .iter()
            .any(|v| reference.violates(v.property));
        if let Some(Ok(path)) = &failure.saved {
            let recorded = CorpusEntry::read(path).and_then(|mut entry| {
                entry.reproduced_in_turmoil = Some(reproduced);
                entry.rewrite(path)
            });
            if let Err(e) = recorded {
                eprintln!("warning: {e}");
            }
        }
        Some(reproduced)
    }
}

/// The corpus each guided generation may draw from, handed from the folding thread to
/// the workers.
#[derive(Default)]
struct GenerationCell {
    /// The latest generation that may start (every one up to it may), and the corpus
    /// it draws from.
    state: Mutex<(u64, Arc<Corpus>)>,
    changed: Condvar,
}

impl GenerationCell {
    fn is_ready(&self, generation: u64) -> bool {
        self.state.lock().expect("not poisoned").0 >= generation
    }

    /// Generation `ready` may start, drawing from `parents`.
    fn publish(&self, ready: u64, parents: Arc<Corpus>) {
        *self.state.lock().expect("not poisoned") = (ready, parents);
        self.changed.notify_all();
    }

    /// Wait until `generation` may start and return its corpus; `None` if the
    /// campaign stops first.
    fn wait_for(
        &self,
        generation: u64,
        stop: &AtomicBool,
        done: &AtomicBool,
    ) -> Option<Arc<Corpus>> {
        let mut state = self.state.lock().expect("not poisoned");
        while state.0 < generation {
            if stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed) {
                return None;
            }
            let (next, _) = self
                .changed
                .wait_timeout(state, std::time::Duration::from_millis(50))
                .expect("not poisoned");
            state = next;
        }
        Some(Arc::clone(&state.1))
    }
}

/// Run a campaign (or the shard `config.shard` of it). `on_run` is called on the
/// calling thread as runs are folded, in run order: once per failure (so it can be
/// reported; it is already saved), and otherwise every few dozen runs (progress).
/// Setting `stop` ends the campaign after the runs in flight; the summary then covers
/// the runs done.
pub fn explore(
    config: &CampaignConfig,
    stop: &AtomicBool,
    mut on_run: impl FnMut(&CampaignSummary, Option<&Failure>),
) -> CampaignSummary {
    let shard_runs = config.shard.runs(config.runs);
    let next = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let saved_bytes = AtomicU64::new(0);
    let jobs = config.jobs.max(1);
    let mut folder = Folder {
        config,
        summary: CampaignSummary::new(config.protocol),
        classes: BTreeMap::new(),
        written: BTreeSet::new(),
        saved_bytes: &saved_bytes,
        cutoff: None,
    };
    // Guided: the guide lives on this thread; workers wait at each generation's start
    // for the corpus the generations before it left (see `super::guided`).
    let mut guide = config
        .guided
        .then(|| Guide::new(config.protocol, &config.bugs, config.base_seed));
    let published = GenerationCell::default();
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<RunRecord>>(jobs * 4);
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, done, saved_bytes, published) = (&next, &done, &saved_bytes, &published);
            scope.spawn(move || {
                let mut batch = Vec::new();
                loop {
                    if stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed) {
                        break;
                    }
                    let position = next.fetch_add(1, Ordering::Relaxed);
                    if position >= shard_runs {
                        break;
                    }
                    let parents = if config.guided {
                        let generation = position / GENERATION_RUNS;
                        if !published.is_ready(generation) && !batch.is_empty() {
                            // The runs held here may be what the generation waits for.
                            if tx.send(std::mem::take(&mut batch)).is_err() {
                                return;
                            }
                        }
                        match published.wait_for(generation, stop, done) {
                            Some(parents) => Some(parents),
                            None => break,
                        }
                    } else {
                        None
                    };
                    let record = play(position, config, saved_bytes, parents.as_deref());
                    let failed = record.outcome.as_ref().map_or(true, |r| r.class.is_some());
                    batch.push(record);
                    let full = failed || batch.len() >= REPORT_RUNS;
                    if full && tx.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
            });
        }
        drop(tx);
        // Runs arrive out of order; each is folded once every run before it has been.
        let mut pending: BTreeMap<u64, RunRecord> = BTreeMap::new();
        let mut folded = 0u64;
        for batch in rx {
            for record in batch {
                pending.insert(record.position, record);
            }
            let mut reported = false;
            while let Some(mut record) = pending.remove(&folded) {
                folded += 1;
                if let (Some(guide), Some((scenario, features, trace_events, moments))) =
                    (&mut guide, record.guided.take())
                {
                    guide.observe(record.position, &scenario, &features, trace_events, &|| {
                        moments.clone()
                    });
                    if folded.is_multiple_of(GENERATION_RUNS) {
                        published.publish(folded / GENERATION_RUNS, guide.parents());
                    }
                }
                if let Some(failure) = folder.fold(record) {
                    on_run(&folder.summary, Some(&failure));
                    reported = true;
                }
                if folder.cutoff.is_some() {
                    done.store(true, Ordering::Relaxed);
                }
            }
            if !reported {
                on_run(&folder.summary, None);
            }
        }
        // Whatever is left lies past a stop (every run taken was finished).
        for (_, record) in std::mem::take(&mut pending) {
            if let Some(failure) = folder.fold(record) {
                on_run(&folder.summary, Some(&failure));
            }
        }
    });
    let mut summary = folder.summary;
    if let Some(cutoff) = folder.cutoff {
        summary.runs_skipped = shard_runs - (cutoff + 1);
    }
    summary.saved_bytes = saved_bytes.load(Ordering::Relaxed);
    summary.failures.sort_by_key(|f| f.index);
    summary
}
