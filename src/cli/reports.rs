//! What campaigns print and write: the summary table (from a campaign's report, so a
//! merged report prints the same table), the report files, progress bars, and
//! `gauntlet merge`.

use super::exit;
use crate::check::Expectation;
use crate::explore::report::{merge, CampaignReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Where `--report-json` and `--report-junit` go.
pub struct ReportFiles {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
}

impl ReportFiles {
    pub fn write(&self, report: &CampaignReport) -> Result<(), String> {
        let write = |path: &PathBuf, text: String| {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("report: {}", path.display());
            Ok::<(), String>(())
        };
        if let Some(path) = &self.json {
            write(path, report.to_json())?;
        }
        if let Some(path) = &self.junit {
            write(path, report.to_junit())?;
        }
        Ok(())
    }
}

/// A progress bar on stderr with the rate and the ETA; indicatif draws nothing when
/// stderr is not a terminal, so logs and pipes stay clean.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  eta {{eta}}  {{msg}}"
        ))
        .expect("static template"),
    );
    bar
}

/// The exit code a campaign's report stands for.
pub fn exit_code(report: &CampaignReport) -> u8 {
    many_runs_exit_code(
        report.safety_failed(),
        report.liveness_failed(),
        report.harness_errors > 0,
        report.interrupted,
    )
}

/// The exit code of a command that played many runs: the worst thing any run showed.
pub fn many_runs_exit_code(
    safety_failed: bool,
    liveness_failed: bool,
    harness_errors: bool,
    interrupted: bool,
) -> u8 {
    if safety_failed {
        exit::SAFETY
    } else if liveness_failed {
        exit::LIVENESS
    } else if harness_errors {
        exit::HARNESS
    } else if interrupted {
        // A clean set of runs cut short is not a clean set: it does not exit 0. A
        // failure found outranks the interruption.
        exit::INTERRUPTED
    } else {
        exit::OK
    }
}

/// The campaign's table: runs, speed, violations by property, distinct failures and
/// coverage.
pub fn print_summary(r: &CampaignReport, jobs: usize) {
    let runs_per_s = r.runs_done as f64 / r.wall_s.max(1e-9);
    println!();
    println!("runs                {:>10}", r.runs_done);
    if r.runs_skipped > 0 {
        println!("runs skipped        {:>10}", r.runs_skipped);
    }
    println!("wall time           {:>10.1} s", r.wall_s);
    if jobs > 0 {
        println!(
            "runs/s              {:>10.1}  ({:.1} per core)",
            runs_per_s,
            runs_per_s / jobs as f64
        );
    }
    println!(
        "simulated time      {:>10.1} s",
        r.sim_ms_total as f64 / 1000.0
    );
    println!("events recorded     {:>10}", r.events_total);
    println!("failing runs        {:>10}", r.failures.len());
    println!("distinct failures   {:>10}", r.distinct.len());
    println!("harness errors      {:>10}", r.harness_errors);
    println!();
    println!("violations by property");
    for p in r
        .properties
        .iter()
        .filter(|p| p.expectation != Expectation::Sometimes)
    {
        println!(
            "  {:<28} {:<10} {:>8}",
            p.name,
            format!("{:?}", p.expectation),
            p.runs
        );
    }
    if !r.distinct.is_empty() {
        println!();
        println!("distinct failures (first run, smallest run, failing runs)");
        for d in &r.distinct {
            let turmoil = match d.reproduced_in_turmoil {
                Some(true) => ", reproduced in turmoil",
                Some(false) => ", NOT reproduced in turmoil",
                None => "",
            };
            println!("  {}", d.class);
            println!(
                "    first run {} (seed {}), smallest run {} ({} events), {} failing run(s){turmoil}",
                d.first.index, d.first.seed, d.smallest.index, d.smallest.events, d.failing_runs
            );
            let mut files: Vec<&PathBuf> = d.first.file.iter().collect();
            files.extend(
                d.smallest
                    .file
                    .iter()
                    .filter(|f| Some(*f) != d.first.file.as_ref()),
            );
            for file in files {
                println!("    kept: {}", file.display());
            }
        }
    }
    println!();
    println!("coverage (Sometimes: runs that reached it)");
    for p in r
        .properties
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
    {
        let mark = if p.runs == 0 {
            "  <-- never reached"
        } else {
            ""
        };
        println!("  {:<36} {:>8}{mark}", p.name, p.runs);
    }
}

/// `gauntlet merge REPORT...`: the whole campaign's summary from its shards' reports.
pub fn cmd_merge(paths: &[PathBuf], files: &ReportFiles) -> u8 {
    let mut reports = Vec::new();
    for path in paths {
        match CampaignReport::load(path) {
            Ok(r) => reports.push((path.clone(), r)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::HARNESS;
            }
        }
    }
    let merged = match merge(&reports) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    };
    println!("seed: {}", merged.base_seed);
    println!(
        "merged {} shards of {} {} runs in the {:?} lane{}",
        merged.merged_shards,
        merged.runs,
        merged.protocol,
        merged.lane,
        if merged.bugs.is_empty() {
            String::new()
        } else {
            format!(" with planted bug(s) {}", merged.bugs.join(", "))
        }
    );
    for why in &merged.stopped {
        println!("stopped early: {why}");
    }
    if merged.interrupted {
        println!("interrupted: at least one shard was interrupted");
    }
    for f in merged.failures.iter().filter(|f| f.repeat_of.is_none()) {
        println!("FAIL run {} seed {}", f.index, f.seed);
        for v in &f.violations {
            println!("  {v}");
        }
        if let Some(e) = &f.harness_error {
            println!("  harness error: {e}");
        }
        println!("  replay: {}", f.replay);
    }
    print_summary(&merged, 0);
    if let Err(e) = files.write(&merged) {
        eprintln!("error: {e}");
        return exit::HARNESS;
    }
    exit_code(&merged)
}
