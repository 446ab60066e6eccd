//! Guided search (`explore --guided`, `hunt --guided`): deterministic whatever the
//! number of workers, different from fresh draws, valid scenarios only, and a corpus
//! that grows only on new coverage.

use crate::support::TempDir;
use gauntlet::explore::guided::{scenario_for, Corpus, Guide, Origin, Parent, GENERATION_RUNS};
use gauntlet::explore::report::CampaignReport;
use gauntlet::explore::{campaign_scenario, Lane, ProtocolRef};
use gauntlet::protocols::paxos::Paxos;
use std::sync::Arc;

const PAXOS: ProtocolRef = &Paxos;

/// A fast-lane campaign against a planted bug, every run played, through the binary:
/// its report.
fn campaign(dir: &std::path::Path, name: &str, extra: &[&str]) -> CampaignReport {
    let mut args = vec!["--keep-going", "--seed", "3"];
    args.extend_from_slice(&["--bug", "proposer_adopts_first_value"]);
    args.extend_from_slice(extra);
    crate::campaigns::campaign(dir, name, &args).1
}

fn failing_runs(r: &CampaignReport) -> Vec<(u64, String)> {
    r.failures
        .iter()
        .map(|f| (f.index, f.class.clone()))
        .collect()
}

/// The same guided campaign on 1 and on 3 workers reports the same failing runs,
/// totals and coverage: its generations make it independent of scheduling. It is not
/// the unguided campaign of the same seed.
#[test]
fn guided_campaign_is_the_same_on_any_number_of_workers() {
    let dir = TempDir::new("guided");
    let one = campaign(dir.path(), "one", &["--guided", "--jobs", "1"]);
    let three = campaign(dir.path(), "three", &["--guided", "--jobs", "3"]);
    let fresh = campaign(dir.path(), "fresh", &["--fresh", "--jobs", "2"]);
    assert_eq!(failing_runs(&one), failing_runs(&three));
    assert_eq!(one.sim_ms_total, three.sim_ms_total);
    assert_eq!(one.events_total, three.events_total);
    let coverage = |r: &CampaignReport| {
        r.properties
            .iter()
            .map(|p| (p.name.clone(), p.runs))
            .collect::<Vec<_>>()
    };
    assert_eq!(coverage(&one), coverage(&three));
    assert_ne!(
        (one.sim_ms_total, failing_runs(&one)),
        (fresh.sim_ms_total, failing_runs(&fresh)),
        "the guided campaign played the fresh campaign's scenarios"
    );
    assert!(!one.failures.is_empty(), "the planted bug was never found");
    // Guided is the default: without a flag, the campaign is the guided one.
    let default = campaign(dir.path(), "default", &["--jobs", "2"]);
    assert_eq!(failing_runs(&default), failing_runs(&one));
    assert_eq!(default.sim_ms_total, one.sim_ms_total);
}

/// With an empty corpus a guided run is the unguided run of the same index; with
/// parents, most runs are valid mutations of them, drawn the same way every time.
#[test]
fn guided_runs_are_fresh_draws_or_valid_mutations() {
    let bugs: Vec<String> = Vec::new();
    for index in 0..20 {
        let (scenario, origin) = scenario_for(PAXOS, &bugs, 7, &Corpus::default(), index);
        assert_eq!(origin, Origin::Fresh);
        let seed = gauntlet::rng::run_seed(7, index);
        assert_eq!(scenario, campaign_scenario(PAXOS, seed, &bugs));
    }
    // Parents with their runs' moments, so the protocol-timed moves are drawn too,
    // and one without.
    let parents: Vec<Arc<_>> = (0..5)
        .map(|i| {
            let scenario = campaign_scenario(PAXOS, 100 + i, &bugs);
            let moments = match i {
                0 => Vec::new(),
                _ => PAXOS.run(&scenario, Lane::Fast).unwrap().trace.moments(),
            };
            Arc::new(Parent {
                scenario,
                moments,
                cost: 0,
            })
        })
        .collect();
    let clusters: Vec<_> = parents.iter().map(|p| p.scenario.cluster.clone()).collect();
    let parents = Corpus::new(parents);
    let mut mutated = 0;
    for index in 0..200 {
        let (scenario, origin) = scenario_for(PAXOS, &bugs, 7, &parents, index);
        assert_eq!(
            (scenario.clone(), origin),
            scenario_for(PAXOS, &bugs, 7, &parents, index)
        );
        PAXOS
            .check(&scenario)
            .unwrap_or_else(|e| panic!("run {index}: an invalid scenario: {e}"));
        if origin == Origin::Mutated {
            mutated += 1;
            assert!(
                clusters.contains(&scenario.cluster),
                "a mutation keeps its parent's cluster"
            );
            // A fresh draw may end one event over the bound (a crash and its
            // restart drawn last); a mutation never adds past it.
            assert!(
                scenario.faults.events.len() <= gauntlet::fault::SCENARIO_FAULT_EVENTS_MAX + 1,
                "run {index}: {} fault events",
                scenario.faults.events.len()
            );
        }
    }
    assert!((100..=190).contains(&mutated), "{mutated} of 200 mutated");
}

/// The guide keeps a run's scenario only when it shows a feature no run showed, and
/// its runs draw from the corpus only once their generation begins.
#[test]
fn guide_keeps_only_new_coverage_and_freezes_by_generation() {
    let bugs: Vec<String> = Vec::new();
    let mut guide = Guide::new(PAXOS, &bugs, 1);
    let scenario = campaign_scenario(PAXOS, 1, &bugs);
    guide.observe(0, &scenario, &[1, 2, 3], 0, &Vec::new);
    assert_eq!(guide.corpus_len(), 1);
    guide.observe(1, &scenario, &[2, 3], 0, &Vec::new);
    assert_eq!(guide.corpus_len(), 1, "nothing new, nothing kept");
    guide.observe(2, &scenario, &[3, 4], 0, &Vec::new);
    assert_eq!((guide.corpus_len(), guide.features_seen()), (2, 4));
    assert!(guide.parents().is_empty(), "generation 0 is not over");
    for index in 3..GENERATION_RUNS {
        guide.observe(index, &scenario, &[], 0, &Vec::new);
    }
    assert_eq!(guide.parents().len(), 2, "generation 1 draws from both");
    let features = PAXOS.run(&scenario, Lane::Fast).unwrap().trace.features();
    assert!(
        features.len() > 3,
        "a Paxos run shows facts of its signature: {features:?}"
    );
    let again = PAXOS.run(&scenario, Lane::Fast).unwrap().trace.features();
    assert_eq!(features, again, "the same run, the same features");
}

/// A run's moments are what guided moves aim at: its sends, numbered per node and kind
/// as a protocol-timed crash armed at 0 ms counts them, its persists, and the votes
/// and quorums Paxos names (`Core::moment`), each quorum with the message that
/// completed it; in time order, within the safety phase, and at most `MOMENTS_MAX`.
#[test]
fn moments_number_sends_and_name_votes_and_quorums() {
    use gauntlet::explore::guided::{MomentKind, MOMENTS_MAX};
    use gauntlet::protocol::Moment;
    use std::collections::BTreeMap;
    let bugs: Vec<String> = Vec::new();
    let (mut votes, mut quorums, mut completed) = (0, 0, 0);
    for seed in 1..=20 {
        let scenario = campaign_scenario(PAXOS, seed, &bugs);
        let moments = PAXOS.run(&scenario, Lane::Fast).unwrap().trace.moments();
        assert!(!moments.is_empty() && moments.len() <= MOMENTS_MAX);
        assert!(moments.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        let mut last: BTreeMap<_, u32> = BTreeMap::new();
        for m in &moments {
            match &m.kind {
                MomentKind::Sent { kind, nth, .. } => {
                    let before = last.insert((m.node, *kind), *nth).unwrap_or(0);
                    assert!(*nth > before, "seed {seed}: sends numbered in order");
                }
                MomentKind::Named {
                    moment,
                    completed_by,
                } => {
                    votes += (*moment == Moment::Vote) as u32;
                    quorums += (*moment == Moment::Quorum) as u32;
                    completed += completed_by.is_some() as u32;
                }
                MomentKind::Persisted => {}
            }
        }
    }
    assert!(
        votes > 20 && quorums > 20,
        "{votes} votes, {quorums} quorums"
    );
    assert!(
        completed > 0,
        "no quorum names the message that completed it"
    );
}

/// A crash aimed at a parent's k-th send of a kind lands right after that send: the
/// child's run is the parent's up to it, and the node crashes in the next
/// millisecond.
#[test]
fn a_crash_aimed_at_a_send_lands_right_after_it() {
    use gauntlet::explore::guided::MomentKind;
    use gauntlet::fault::{Fault, FaultEvent};
    let bugs: Vec<String> = Vec::new();
    let mut checked = 0;
    for seed in 1..=10 {
        let mut scenario = campaign_scenario(PAXOS, seed, &bugs);
        scenario.faults.events.clear();
        let parent = PAXOS.run(&scenario, Lane::Fast).unwrap().trace.moments();
        let Some(at) = parent
            .iter()
            .position(|m| matches!(m.kind, MomentKind::Sent { nth: 2.., .. }))
        else {
            continue;
        };
        let m = parent[at].clone();
        let MomentKind::Sent { kind, nth, .. } = m.kind else {
            unreachable!()
        };
        scenario.faults.events.push(FaultEvent {
            at_ms: 0,
            fault: Fault::CrashAfterSend {
                node: m.node,
                kind: kind.to_string(),
                nth,
                down_ms: Some(2),
            },
        });
        let child = PAXOS.run(&scenario, Lane::Fast).unwrap();
        let moments = child.trace.moments();
        assert_eq!(
            moments[..=at],
            parent[..=at],
            "seed {seed}: the same run up to it"
        );
        let crash = format!("{:>6}ms --   !! crash {}", m.at_ms + 1, m.node);
        assert!(
            (0..child.trace.len()).any(|i| child.trace.line(i).as_deref() == Some(&crash)),
            "seed {seed}: no `{crash}` in\n{}",
            child.trace.render()
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} runs had a second send of a kind"
    );
}
