//! Campaign reports for CI and for merging shards: a campaign's summary as JSON
//! (`explore --report-json`), as JUnit XML (`--report-junit`: one test case per
//! property and one per failing run, which every CI shows natively), and the merge of
//! shard reports into the report of the whole campaign (`gauntlet merge`).

use super::distinct::Distinct;
use super::shard::Shard;
use super::{CampaignConfig, CampaignSummary, Failure, Lane, StopRule};
use crate::check::{Expectation, Property};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Version of the report format.
pub const FORMAT: u32 = 1;
/// Largest report file `merge` reads.
pub const FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// What a campaign (or one shard of one) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub format: u32,
    pub gauntlet_version: String,
    pub protocol: String,
    pub lane: Lane,
    pub bugs: Vec<String>,
    pub base_seed: u64,
    /// Runs of the whole campaign.
    pub runs: u64,
    /// The shard this report covers (`None`: the whole campaign, or a merge).
    pub shard: Option<Shard>,
    /// The shards a merged report was made of.
    #[serde(default)]
    pub merged_shards: u64,
    /// `--failures-max`, or `None` with `--keep-going`.
    pub failures_max: Option<u64>,
    pub runs_done: u64,
    pub runs_skipped: u64,
    /// Why the stop rule stopped the campaign (each shard's reason, after a merge).
    pub stopped: Vec<String>,
    pub interrupted: bool,
    /// Wall time (the longest shard's, after a merge).
    pub wall_s: f64,
    pub sim_ms_total: u64,
    pub events_total: u64,
    pub harness_errors: u64,
    /// Every property judged, with its violation count (runs that reached it, for a
    /// Sometimes property).
    pub properties: Vec<PropertyCount>,
    pub distinct: Vec<Distinct>,
    /// Every failing run, by campaign index.
    pub failures: Vec<FailureReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyCount {
    pub name: String,
    pub expectation: Expectation,
    pub description: String,
    /// Runs that violated it; for a Sometimes property, runs that reached it.
    pub runs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureReport {
    pub index: u64,
    pub seed: u64,
    /// The properties it broke, in the protocol's order.
    pub properties: Vec<String>,
    pub violations: Vec<String>,
    pub harness_error: Option<String>,
    /// The saved scenario, if kept.
    pub file: Option<PathBuf>,
    /// The command that replays it.
    pub replay: String,
    pub reproduced_in_turmoil: Option<bool>,
    pub class: String,
    pub repeat_of: Option<u64>,
}

impl CampaignReport {
    /// The report of a finished campaign. `replay` gives a failure's replay command.
    pub fn of(
        config: &CampaignConfig,
        summary: &CampaignSummary,
        interrupted: bool,
        wall_s: f64,
        replay: &dyn Fn(&Failure) -> String,
    ) -> CampaignReport {
        let properties = config
            .protocol
            .properties()
            .into_iter()
            .map(|p: &Property| PropertyCount {
                name: p.name.to_string(),
                expectation: p.expectation,
                description: p.description.to_string(),
                runs: match p.expectation {
                    Expectation::Sometimes => summary.coverage.get(p.name),
                    _ => summary
                        .violations_by_property
                        .get(p.name)
                        .copied()
                        .unwrap_or(0),
                },
            })
            .collect();
        CampaignReport {
            format: FORMAT,
            gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol: config.protocol.name().to_string(),
            lane: config.lane,
            bugs: config.bugs.clone(),
            base_seed: config.base_seed,
            runs: config.runs,
            shard: (config.shard != Shard::WHOLE).then_some(config.shard),
            merged_shards: 0,
            failures_max: match config.stop_rule {
                StopRule::Distinct { failures_max } => Some(failures_max),
                StopRule::KeepGoing { .. } => None,
            },
            runs_done: summary.runs_done,
            runs_skipped: summary.runs_skipped,
            stopped: summary.stopped.iter().cloned().collect(),
            interrupted,
            wall_s,
            sim_ms_total: summary.sim_ms_total,
            events_total: summary.events_total,
            harness_errors: summary.harness_errors,
            properties,
            distinct: summary.distinct.clone(),
            failures: summary
                .failures
                .iter()
                .map(|f| FailureReport {
                    index: f.index,
                    seed: f.seed,
                    properties: f.violations.iter().map(|v| v.property.into()).collect(),
                    violations: f.violations.iter().map(|v| v.to_string()).collect(),
                    harness_error: f.harness_error.clone(),
                    file: f
                        .saved
                        .as_ref()
                        .and_then(|s| s.as_ref().ok())
                        .filter(|_| f.kept)
                        .cloned(),
                    replay: replay(f),
                    reproduced_in_turmoil: f.reproduced_in_turmoil,
                    class: f.class.clone(),
                    repeat_of: f.repeat_of,
                })
                .collect(),
        }
    }

    /// Runs that violated `name` (or reached it, for a Sometimes property).
    pub fn count(&self, name: &str) -> u64 {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map_or(0, |p| p.runs)
    }

    /// Whether any failing run broke a safety property.
    pub fn safety_failed(&self) -> bool {
        self.properties
            .iter()
            .any(|p| p.expectation == Expectation::Always && p.runs > 0)
    }

    /// Whether any failing run broke a liveness property.
    pub fn liveness_failed(&self) -> bool {
        self.properties
            .iter()
            .any(|p| p.expectation == Expectation::Eventually && p.runs > 0)
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("reports serialize");
        text.push('\n');
        text
    }

    /// Read a report; errors name the file and the field.
    pub fn load(path: &Path) -> Result<CampaignReport, String> {
        let len = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if len > FILE_BYTES_MAX {
            return Err(format!(
                "{}: {len} bytes exceeds the {FILE_BYTES_MAX}-byte limit",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let report: CampaignReport = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("{}: field {}: {}", path.display(), e.path(), e.inner()))?;
        if report.format != FORMAT {
            return Err(format!(
                "{}: field format: format {} is not {FORMAT}",
                path.display(),
                report.format
            ));
        }
        Ok(report)
    }

    /// JUnit XML: a test suite of one test case per property (a violated Always or
    /// Eventually property fails; a Sometimes property no run reached is skipped) and
    /// one per failing run (failed, with its violations and replay command).
    pub fn to_junit(&self) -> String {
        let name = format!(
            "gauntlet explore {} {} lane, seed {}, {} runs{}{}",
            self.protocol,
            lane_name(self.lane),
            self.base_seed,
            self.runs,
            self.shard.map_or(String::new(), |s| format!(", shard {s}")),
            if self.bugs.is_empty() {
                String::new()
            } else {
                format!(", bugs {}", self.bugs.join("+"))
            }
        );
        let mut cases = String::new();
        let (mut tests, mut failures, mut skipped) = (0u64, 0u64, 0u64);
        let class = format!("gauntlet.{}", self.protocol);
        for p in &self.properties {
            tests += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"{}.properties\" name=\"{} ({:?})\" time=\"0\">",
                xml(&class),
                xml(&p.name),
                p.expectation
            );
            match p.expectation {
                Expectation::Sometimes if p.runs == 0 => {
                    skipped += 1;
                    let _ = write!(
                        cases,
                        "<skipped message=\"coverage: no run of {} reached it\"/>",
                        self.runs_done
                    );
                }
                Expectation::Sometimes => {}
                _ if p.runs > 0 => {
                    failures += 1;
                    let first = self
                        .failures
                        .iter()
                        .find(|f| f.properties.contains(&p.name))
                        .map_or(String::new(), |f| format!("first: {}", f.replay));
                    let _ = write!(
                        cases,
                        "<failure type=\"{:?}\" message=\"violated in {} of {} runs\">{}</failure>",
                        p.expectation,
                        p.runs,
                        self.runs_done,
                        xml(&first)
                    );
                }
                _ => {}
            }
            cases.push_str("</testcase>\n");
        }
        for f in &self.failures {
            tests += 1;
            failures += 1;
            let what = if f.properties.is_empty() {
                "harness error".to_string()
            } else {
                f.properties.join(", ")
            };
            let mut body = String::new();
            for v in &f.violations {
                let _ = writeln!(body, "{v}");
            }
            if let Some(e) = &f.harness_error {
                let _ = writeln!(body, "harness error: {e}");
            }
            if let Some(first) = f.repeat_of {
                let _ = writeln!(body, "same failure as run {first} ({})", f.class);
            }
            let _ = writeln!(body, "replay: {}", f.replay);
            let _ =
                writeln!(
                cases,
                "    <testcase classname=\"{}.failures\" name=\"run {} seed {}: {}\" time=\"0\">\
                 <failure type=\"{}\" message=\"{}\">{}</failure></testcase>",
                xml(&class),
                f.index,
                f.seed,
                xml(&what),
                xml(&what),
                xml(f.violations.first().or(f.harness_error.as_ref()).map_or("", |s| s)),
                xml(&body)
            );
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"gauntlet\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            self.wall_s
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
            xml(&name),
            self.wall_s
        );
        let _ = writeln!(out, "    <properties>");
        for (k, v) in [
            ("seed", self.base_seed.to_string()),
            ("runs_done", self.runs_done.to_string()),
            ("runs_skipped", self.runs_skipped.to_string()),
        ] {
            let _ = writeln!(out, "      <property name=\"{k}\" value=\"{v}\"/>");
        }
        let _ = writeln!(out, "    </properties>");
        out.push_str(&cases);
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

fn lane_name(lane: Lane) -> &'static str {
    match lane {
        Lane::Turmoil => "turmoil",
        Lane::Fast => "fast",
    }
}

/// Text as XML character data or an attribute value.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// Merge the reports of a campaign's shards into the report of the whole campaign:
/// every shard of the same campaign exactly once, each from its own `--shard I/N`.
/// The totals, the failures and the coverage counts are those the whole campaign
/// gives when no shard stopped early (`--keep-going`, or fewer failures than
/// `--failures-max`).
pub fn merge(reports: &[(PathBuf, CampaignReport)]) -> Result<CampaignReport, String> {
    let Some((first_path, first)) = reports.first() else {
        return Err("no reports to merge".into());
    };
    let count = match first.shard {
        Some(s) => s.count,
        None => {
            return Err(format!(
                "{}: field shard: not a shard's report (run explore with --shard I/N)",
                first_path.display()
            ))
        }
    };
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    for (path, r) in reports {
        let same = |what: &str, a: String, b: String| {
            if a == b {
                Ok(())
            } else {
                Err(format!(
                    "{}: field {what}: {b} differs from {a} in {}; these shards are not one campaign",
                    path.display(),
                    first_path.display()
                ))
            }
        };
        same("protocol", first.protocol.clone(), r.protocol.clone())?;
        same("lane", format!("{:?}", first.lane), format!("{:?}", r.lane))?;
        same("bugs", first.bugs.join("+"), r.bugs.join("+"))?;
        same(
            "base_seed",
            first.base_seed.to_string(),
            r.base_seed.to_string(),
        )?;
        same("runs", first.runs.to_string(), r.runs.to_string())?;
        same(
            "failures_max",
            format!("{:?}", first.failures_max),
            format!("{:?}", r.failures_max),
        )?;
        let shard = r
            .shard
            .ok_or_else(|| format!("{}: field shard: not a shard's report", path.display()))?;
        same("shard", format!("?/{count}"), format!("?/{}", shard.count))?;
        if let Some(other) = seen.insert(shard.index, path) {
            return Err(format!(
                "{}: field shard: shard {shard} is also {}",
                path.display(),
                other.display()
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shard report(s): {}", missing.join(", ")));
    }
    let mut merged = first.clone();
    merged.shard = None;
    merged.merged_shards = count;
    merged.runs_done = 0;
    merged.runs_skipped = 0;
    merged.stopped = Vec::new();
    merged.interrupted = false;
    merged.wall_s = 0.0;
    merged.sim_ms_total = 0;
    merged.events_total = 0;
    merged.harness_errors = 0;
    merged.distinct = Vec::new();
    merged.failures = Vec::new();
    for p in &mut merged.properties {
        p.runs = 0;
    }
    for (_, r) in reports {
        merged.runs_done = merged.runs_done.saturating_add(r.runs_done);
        merged.runs_skipped = merged.runs_skipped.saturating_add(r.runs_skipped);
        merged.stopped.extend(
            r.stopped
                .iter()
                .map(|s| format!("shard {}: {s}", r.shard.expect("checked"))),
        );
        merged.interrupted |= r.interrupted;
        merged.wall_s = merged.wall_s.max(r.wall_s);
        merged.sim_ms_total = merged.sim_ms_total.saturating_add(r.sim_ms_total);
        merged.events_total = merged.events_total.saturating_add(r.events_total);
        merged.harness_errors = merged.harness_errors.saturating_add(r.harness_errors);
        for p in &r.properties {
            match merged.properties.iter_mut().find(|m| m.name == p.name) {
                Some(m) => m.runs = m.runs.saturating_add(p.runs),
                None => merged.properties.push(p.clone()),
            }
        }
        for d in &r.distinct {
            match merged.distinct.iter_mut().find(|m| m.class == d.class) {
                Some(m) => m.merge(d),
                None => merged.distinct.push(d.clone()),
            }
        }
        merged.failures.extend(r.failures.iter().cloned());
    }
    merged.failures.sort_by_key(|f| f.index);
    merged.distinct.sort_by_key(|d| d.first.index);
    // A repeat names the first run of its class in the whole campaign.
    let firsts: BTreeMap<&str, u64> = merged
        .distinct
        .iter()
        .map(|d| (d.class.as_str(), d.first.index))
        .collect();
    for f in &mut merged.failures {
        let first = firsts.get(f.class.as_str()).copied();
        f.repeat_of = first.filter(|&i| i != f.index);
    }
    Ok(merged)
}
