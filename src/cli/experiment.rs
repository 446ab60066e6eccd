//! `gauntlet experiment NAME`: runs one of [`crate::experiment::EXPERIMENTS`], prints
//! its seed, its markdown table, its notes and (apart) its wall times, writes its SVG
//! plot, and with `--save DIR` shrinks and saves the failures it found as corpus files.

use super::{exit, parse_jobs, usage_error, wall_s, Ctx};
use crate::experiment::{find, Settings, EXPERIMENTS};
use crate::explore::corpus::CorpusEntry;
use crate::explore::{run_and_check, shrink_failure, Lane};
use std::path::PathBuf;

/// The arguments of `experiment`.
#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// The experiment (`tight-bound`, `byzzfuzz`, `twins`, `fork-rate`, `propagation`;
    /// `list` prints them).
    name: String,
    /// Root seed (default: 1, so the documented tables come out again).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (the table does not depend on it).
    #[arg(long, default_value_t = 1, value_parser = parse_jobs)]
    jobs: usize,
    /// Where to write the SVG plot (default: the experiment's own name, e.g.
    /// `tight-bound.svg`).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// A CI-sized run: every row, a few runs each.
    #[arg(long)]
    quick: bool,
    /// Runs per row or cell instead of the experiment's default.
    #[arg(long, conflicts_with = "quick")]
    runs: Option<u64>,
    /// Shrink the failures the experiment found and save them here as corpus files.
    #[arg(long)]
    save: Option<PathBuf>,
    /// The protocol to measure, for an experiment that takes one (`tight-bound`:
    /// `pbft`, the default, or `generals`).
    #[arg(long)]
    protocol: Option<String>,
}

/// Shrinking budget (candidate runs) per saved failure.
const SHRINK_BUDGET: usize = 500;

pub fn cmd_experiment(ctx: &Ctx, args: ExperimentArgs) -> u8 {
    if args.name == "list" {
        for e in &EXPERIMENTS {
            println!("{:<12} {}", e.name, e.summary);
        }
        return exit::OK;
    }
    let experiment = match find(&args.name) {
        Ok(e) => e,
        Err(e) => return usage_error(&e),
    };
    if args.runs == Some(0) {
        return usage_error("--runs must be at least 1");
    }
    if let Some(p) = &args.protocol {
        if experiment.protocols.is_empty() {
            return usage_error(&format!(
                "experiment {} measures one protocol and takes no --protocol",
                experiment.name
            ));
        }
        if !experiment.protocols.contains(&p.as_str()) {
            return usage_error(&format!(
                "experiment {} takes --protocol {}, not `{p}`",
                experiment.name,
                experiment.protocols.join(" or ")
            ));
        }
    }
    let settings = Settings {
        seed: args.seed,
        jobs: args.jobs,
        quick: args.quick,
        runs: args.runs,
        protocol: args.protocol,
    };
    println!("seed {}", settings.seed);
    let report = match (experiment.run)(&ctx.registry, &settings, &wall_s) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: experiment {}: {e}", experiment.name);
            return exit::HARNESS;
        }
    };
    println!("\n## {}\n\n{}", report.title, report.table);
    for note in &report.notes {
        println!("- {note}");
    }
    println!("\nWall time (not part of the table):");
    for t in &report.timings {
        println!("- {t}");
    }
    let svg = args
        .svg
        .unwrap_or_else(|| PathBuf::from(experiment.svg_default));
    if let Err(e) = std::fs::write(&svg, &report.svg) {
        eprintln!("error: cannot write {}: {e}", svg.display());
        return exit::HARNESS;
    }
    println!("\nwrote {}", svg.display());
    if let Some(dir) = args.save {
        for (stem, scenario) in &report.finds {
            let Some(protocol) = ctx.registry.get(&scenario.protocol) else {
                continue;
            };
            let judged = run_and_check(protocol, Lane::Fast, scenario);
            // A safety violation, when the run has one, is the finding to keep.
            let violations = &judged.verdict.violations;
            let Some(property) = violations
                .iter()
                .find(|v| v.expectation == crate::protocol::Expectation::Always)
                .or(violations.first())
                .map(|v| v.property)
            else {
                eprintln!("{stem}: no longer fails; not saved");
                continue;
            };
            let shrunk = shrink_failure(protocol, Lane::Fast, scenario, property, SHRINK_BUDGET);
            let judged = run_and_check(protocol, Lane::Fast, &shrunk.scenario);
            let mut entry = CorpusEntry::from_judged(&shrunk.scenario, &judged);
            entry.lane = Lane::Fast;
            entry.reproduced_in_turmoil =
                Some(run_and_check(protocol, Lane::Turmoil, &shrunk.scenario).violates(property));
            match entry.save(&dir) {
                Ok((path, _)) => println!(
                    "{stem}: `{property}`, shrunk to {} fault events -> {}",
                    shrunk.scenario.faults.events.len(),
                    path.display()
                ),
                Err(e) => {
                    eprintln!("error: cannot save {stem}: {e}");
                    return exit::HARNESS;
                }
            }
        }
    }
    exit::OK
}
