//! Campaigns as CI runs them: sharded over machines and merged back, reported as
//! JSON and JUnit, and stopped in time against a bug that breaks most runs.

use crate::support::{gauntlet_out, TempDir};
use gauntlet::explore::report::CampaignReport;
use std::collections::BTreeSet;
use std::path::Path;

/// `explore` through the binary, writing its JSON report; the report and exit code.
pub fn campaign(dir: &Path, name: &str, extra: &[&str]) -> (i32, CampaignReport, String) {
    let report = dir.join(format!("{name}.json"));
    let failures = dir.join(format!("{name}-failures"));
    let mut args = vec![
        "explore",
        "--lane",
        "fast",
        "--no-shrink",
        "--failures-dir",
        failures.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--seed") {
        args.extend_from_slice(&["--seed", "2"]);
    }
    if !extra.contains(&"--runs") {
        args.extend_from_slice(&["--runs", "400"]);
    }
    if !extra.contains(&"--jobs") {
        args.extend_from_slice(&["--jobs", "2"]);
    }
    let (code, out, err) = gauntlet_out(&args);
    let loaded = CampaignReport::load(&report).unwrap_or_else(|e| panic!("{e}\n{out}{err}"));
    (code, loaded, out)
}

/// What must be equal between a whole campaign and its merged shards: every total,
/// every failure (index, seed, properties, class, first of its class) and every
/// distinct failure; file names too (the same run saves under the same name).
fn comparable(r: &CampaignReport) -> String {
    let failures: Vec<String> = r
        .failures
        .iter()
        .map(|f| {
            format!(
                "{} {} {:?} {} {:?} {:?}",
                f.index,
                f.seed,
                f.properties,
                f.class,
                f.repeat_of,
                f.file.as_ref().and_then(|p| p.file_name())
            )
        })
        .collect();
    let distinct: Vec<String> = r
        .distinct
        .iter()
        .map(|d| {
            format!(
                "{} first {} smallest {} ({} events) runs {}",
                d.class, d.first.index, d.smallest.index, d.smallest.events, d.failing_runs
            )
        })
        .collect();
    format!(
        "runs {} skipped {} sim_ms {} events {} harness {}\nproperties {:?}\nfailures {failures:#?}\ndistinct {distinct:#?}",
        r.runs_done,
        r.runs_skipped,
        r.sim_ms_total,
        r.events_total,
        r.harness_errors,
        r.properties.iter().map(|p| (&p.name, p.runs)).collect::<Vec<_>>(),
    )
}

/// A campaign run whole with fresh draws and as 4 shards (`--shard I/4`, which always
/// draw fresh, then `gauntlet merge`) gives the same totals, failures, distinct failures
/// and coverage counts; the shards' failure files never share a name; merge exits like
/// the whole campaign. A guided campaign cannot be sharded: `--shard` with `--guided`
/// is a usage error.
#[test]
fn four_shards_merge_to_the_whole_campaign() {
    let dir = TempDir::new("shards");
    let (whole_code, whole, out) = campaign(
        dir.path(),
        "whole",
        &["--protocol", "naive", "--keep-going", "--fresh"],
    );
    assert!(
        whole.failures.len() > 3,
        "the naive vote fails often enough to compare:\n{out}"
    );
    let mut paths = Vec::new();
    let mut names = BTreeSet::new();
    let mut shard_runs = 0;
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let name = format!("shard{i}");
        let (_, report, _) = campaign(
            dir.path(),
            &name,
            &["--protocol", "naive", "--keep-going", "--shard", &shard],
        );
        shard_runs += report.runs_done;
        for file in report.failures.iter().filter_map(|f| f.file.as_ref()) {
            let file_name = file.file_name().unwrap().to_owned();
            assert!(
                names.insert(file_name),
                "{} saved by two shards",
                file.display()
            );
        }
        paths.push(dir.path().join(format!("{name}.json")));
    }
    assert_eq!(shard_runs, 400, "the shards cover the campaign once");
    let merged_path = dir.path().join("merged.json");
    let mut args = vec!["merge", "--report-json", merged_path.to_str().unwrap()];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let (code, out, err) = gauntlet_out(&args);
    assert_eq!(
        code, whole_code,
        "merge exits like the whole campaign:\n{out}{err}"
    );
    let merged = CampaignReport::load(&merged_path).unwrap();
    assert_eq!(comparable(&merged), comparable(&whole));
    assert_eq!(merged.merged_shards, 4);

    // A shard missing or given twice is refused, naming it.
    let (code, _, err) = gauntlet_out(&[
        "merge",
        paths[0].to_str().unwrap(),
        paths[1].to_str().unwrap(),
    ]);
    assert_eq!(code, 4);
    assert!(err.contains("missing shard report(s): 3/4, 4/4"), "{err}");
    let p0 = paths[0].to_str().unwrap();
    let (code, _, err) = gauntlet_out(&["merge", p0, p0]);
    assert_eq!(code, 4);
    assert!(err.contains("shard 1/4 is also"), "{err}");

    let (code, _, err) = gauntlet_out(&["explore", "--guided", "--shard", "1/4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--shard"), "{err}");
}

/// By default a campaign against a bug that breaks most runs stops in time: after at
/// most 3 distinct failures or 30 failing runs, keeping the first and the smallest
/// run's file of each distinct failure, and saying how many runs it skipped; the
/// JUnit report has one test case per property and one per failing run.
#[test]
fn default_campaign_stops_after_a_few_distinct_failures() {
    let dir = TempDir::new("stop-in-time");
    let junit = dir.path().join("report.xml");
    let (code, report, out) = campaign(
        dir.path(),
        "stops",
        &[
            "--bug",
            "acceptor_accepts_below_promise",
            "--report-junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        report.stopped.len() == 1,
        "the stop rule stopped it:\n{out}"
    );
    assert!(
        report.distinct.len() <= 3 && report.failures.len() <= 30,
        "{out}"
    );
    assert_eq!(report.runs_done + report.runs_skipped, 400);
    assert!(
        out.contains(&format!("{} more runs skipped", report.runs_skipped)),
        "{out}"
    );
    let kept: BTreeSet<_> = report
        .distinct
        .iter()
        .flat_map(|d| [d.first.file.clone(), d.smallest.file.clone()])
        .flatten()
        .collect();
    let on_disk: BTreeSet<_> = std::fs::read_dir(dir.path().join("stops-failures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        on_disk, kept,
        "only the first and the smallest of each are kept"
    );
    for d in &report.distinct {
        assert!(d.smallest.events <= d.first.events, "{d:?}");
        assert_eq!(
            d.reproduced_in_turmoil,
            Some(true),
            "checked once, in turmoil"
        );
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    let cases = xml.matches("<testcase ").count();
    assert_eq!(
        cases,
        report.properties.len() + report.failures.len(),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<failure ").count(),
        1 + report.failures.len(),
        "agreement, and each failing run:\n{xml}"
    );
}

/// `--keep-going` plays every run, and its disk bound holds: with no megabytes to
/// spend, every failure is counted and none is saved.
#[test]
fn keep_going_respects_its_disk_bound() {
    let dir = TempDir::new("disk-bound");
    let (code, report, out) = campaign(
        dir.path(),
        "bounded",
        &[
            "--bug",
            "acceptor_accepts_below_promise",
            "--keep-going",
            "--saved-mb-max",
            "0",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!((report.runs_done, report.runs_skipped), (400, 0));
    assert!(report.failures.len() > 30, "{out}");
    assert!(report.failures.iter().all(|f| f.file.is_none()));
    assert!(
        out.contains("NOT SAVED: not saved: this campaign's failure files reached"),
        "{out}"
    );
    let saved = std::fs::read_dir(dir.path().join("bounded-failures")).map_or(0, |d| d.count());
    assert_eq!(saved, 0);
}

/// Where the stop rule stops a campaign, and everything it reports, does not depend on
/// how many workers played it: runs are folded in run order.
#[test]
fn stopping_does_not_depend_on_workers() {
    let dir = TempDir::new("stop-workers");
    let naive = ["--protocol", "naive", "--runs", "3000", "--seed", "11"];
    let one = campaign(dir.path(), "one", &[&naive[..], &["--jobs", "1"]].concat()).1;
    let three = campaign(
        dir.path(),
        "three",
        &[&naive[..], &["--jobs", "3"]].concat(),
    )
    .1;
    assert_eq!(
        one.stopped.len(),
        1,
        "the naive vote fails often enough to stop"
    );
    assert_eq!(comparable(&one), comparable(&three));
}
