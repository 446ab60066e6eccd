//! Shared helpers for the simulation tests.

use gauntlet::check::{judge, Verdict};
use gauntlet::explore::{explore, run_and_check, CampaignConfig, Judged, Lane, ProtocolRef};
use gauntlet::ids::NodeId;
use gauntlet::protocol::{prepare, Protocol, RunSetup};
use gauntlet::protocols::paxos::{Ballot, Msg, Node};
use gauntlet::registry::Registry;
use gauntlet::scenario::Scenario;
use gauntlet::sim::{run_setup, RunEnd, RunReport};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The seed override for a test that normally picks its own: `GAUNTLET_SEED=S`.
pub fn seed_override() -> Option<u64> {
    std::env::var("GAUNTLET_SEED").ok().map(|s| {
        s.trim()
            .parse()
            .unwrap_or_else(|_| panic!("GAUNTLET_SEED={s} is not a u64"))
    })
}

/// The protocol a corpus file names, from the built-in registry (what the `gauntlet`
/// binary looks up).
pub fn lookup(name: &str) -> Option<ProtocolRef> {
    Registry::builtin().get(name)
}

/// `lane` as the command line spells it.
pub fn lane_name(lane: Lane) -> &'static str {
    match lane {
        Lane::Turmoil => "turmoil",
        Lane::Fast => "fast",
    }
}

/// The panic message for a run that broke a property or ended in a harness error: the
/// violations with their witnesses, and how to replay the run.
fn failure_report(
    test_name: &str,
    protocol: &str,
    lane: Lane,
    scenario: &Scenario,
    end: &RunEnd,
    violations: &[(String, String)],
) -> String {
    let mut msg = format!(
        "{protocol}, {} lane, seed {} failed ({end:?}):\n",
        lane_name(lane),
        scenario.seed
    );
    for (v, witness) in violations {
        msg.push_str(&format!("  {v}\n{witness}"));
    }
    msg.push_str(&format!(
        "scenario: {}\n\
         replay: save the scenario line to FILE, then \
         `cargo run --release -- run --scenario FILE --lane {lane} --trace`\n\
         or, for a generated seed: GAUNTLET_SEED={seed} cargo test {test_name}\n",
        serde_json::to_string(scenario).expect("scenarios serialize"),
        lane = lane_name(lane),
        seed = scenario.seed,
    ));
    msg
}

/// Run a scenario through the erased API (what campaigns and the command line use) and
/// fail the test, with the replay commands, if any property broke or the harness failed.
pub fn assert_all_properties_hold(
    test_name: &str,
    protocol: ProtocolRef,
    lane: Lane,
    scenario: &Scenario,
) -> Judged {
    let judged = run_and_check(protocol, lane, scenario);
    if !judged.verdict.violations.is_empty() || matches!(judged.end, RunEnd::HarnessError(_)) {
        let violations: Vec<(String, String)> = judged
            .verdict
            .violations
            .iter()
            .map(|v| (v.to_string(), judged.trace.render_witness(v)))
            .collect();
        panic!(
            "{}",
            failure_report(
                test_name,
                protocol.name(),
                lane,
                scenario,
                &judged.end,
                &violations
            )
        );
    }
    judged
}

/// A run through the typed API: the prepared scenario, the report with the protocol's
/// own typed history, and the verdict of the protocol's judges.
pub struct Typed<P: Protocol> {
    pub setup: RunSetup<P>,
    pub report: RunReport<P::Core>,
    pub verdict: Verdict,
}

/// Prepare, run and judge `scenario` in `lane` with the typed API. Panics if the
/// protocol refuses the scenario (the tests build valid ones).
pub fn run_typed<P: Protocol>(protocol: &P, lane: Lane, scenario: &Scenario) -> Typed<P> {
    let setup = prepare(protocol, scenario).unwrap_or_else(|e| panic!("invalid scenario: {e}"));
    let report = run_setup(protocol, &setup, lane);
    let verdict = judge(protocol, &setup, &report.history);
    Typed {
        setup,
        report,
        verdict,
    }
}

/// [`run_typed`], failing the test with the witnesses and the replay hint on any
/// violation or harness error.
pub fn assert_typed_holds<P: Protocol>(
    test_name: &str,
    protocol: &P,
    lane: Lane,
    scenario: &Scenario,
) -> Typed<P> {
    let typed = run_typed(protocol, lane, scenario);
    if !typed.verdict.violations.is_empty() || matches!(typed.report.end, RunEnd::HarnessError(_)) {
        let violations: Vec<(String, String)> = typed
            .verdict
            .violations
            .iter()
            .map(|v| (v.to_string(), v.render_witness(&typed.report.history)))
            .collect();
        panic!(
            "{}",
            failure_report(
                test_name,
                protocol.name(),
                lane,
                scenario,
                &typed.report.end,
                &violations
            )
        );
    }
    typed
}

/// The built `gauntlet` binary, run with `args` in the crate's root directory.
pub fn run_gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("gauntlet runs")
}

/// Exit code, stdout and stderr of [`run_gauntlet`].
pub fn gauntlet_out(args: &[&str]) -> (i32, String, String) {
    let out = run_gauntlet(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run `gauntlet args`, send it `signal` once it has printed its first line (each
/// command that handles signals installs its handler before that line), and return
/// the first line, the exit code and the rest of its output.
#[cfg(unix)]
pub fn signalled_after_first_line(
    args: &[&str],
    signal: libc::c_int,
) -> (String, Option<i32>, String) {
    use std::io::{BufRead, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gauntlet runs");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("the rest of the output");
    let status = child.wait().expect("gauntlet exits");
    (first, status.code(), rest)
}

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Every entry of `corpus/known-failures/`, loaded (a file that does not load fails
/// the test, naming it).
pub fn known_failures() -> Vec<gauntlet::explore::corpus::CorpusEntry> {
    use gauntlet::explore::corpus::{corpus_files, CorpusEntry};
    corpus_files(&repo("corpus/known-failures"))
        .iter()
        .map(|p| {
            CorpusEntry::load(p, &lookup)
                .unwrap_or_else(|e| panic!("{e}"))
                .0
        })
        .collect()
}

/// A campaign on correct code: every run played, none failing (each failure named
/// with its seed), the protocol's `sometimes` coverage properties all reached.
pub fn assert_clean_and_covered(
    summary: &gauntlet::explore::CampaignSummary,
    protocol: ProtocolRef,
    runs: u64,
    sometimes: usize,
) {
    use gauntlet::check::Expectation;
    assert_eq!(summary.runs_done, runs);
    let failures: Vec<String> = summary
        .failures
        .iter()
        .map(|f| format!("seed {}: {:?} {:?}", f.seed, f.violations, f.harness_error))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let counted = protocol
        .properties()
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
        .count();
    assert_eq!(counted, sometimes);
    assert!(
        summary.coverage.all_reached(),
        "coverage: {:?}",
        summary.coverage.entries()
    );
}

/// A fresh, empty temporary directory for one test, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("gauntlet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes of an oversized datagram in [`prepare_and_bad_datagrams`].
pub const OVERSIZED_BYTES: usize = 4_000;

/// A valid Prepare from n2 at ballot 1.2, and the four bad datagrams the bad-input
/// tests (simulated and real) send before it: garbage, the prepare cut short, an
/// oversized datagram, and the prepare with wire version 99.
pub fn prepare_and_bad_datagrams() -> (Vec<u8>, Vec<Vec<u8>>) {
    let prepare = gauntlet::node::encode_datagram::<Node>(
        NodeId(2),
        1,
        &Msg::Prepare {
            ballot: Ballot::new(1, NodeId(2)),
        },
    )
    .expect("a prepare fits a datagram");
    let mut wrong_version = prepare.clone();
    wrong_version[0] = 99;
    let bad = vec![
        b"not a datagram".to_vec(),
        prepare[..prepare.len() - 3].to_vec(),
        vec![1u8; OVERSIZED_BYTES],
        wrong_version,
    ];
    (prepare, bad)
}

/// A fast-lane campaign of `protocol` with `bugs` switched on, from campaign seed
/// `seed`, `runs` runs on 2 workers, that keeps going past failures (a test reads every
/// failure, or stops the campaign itself).
pub fn campaign(protocol: ProtocolRef, bugs: &[&str], seed: u64, runs: u64) -> CampaignConfig {
    CampaignConfig {
        runs,
        base_seed: seed,
        jobs: 2,
        bugs: bugs.iter().map(|b| b.to_string()).collect(),
        failures_dir: None,
        lane: Lane::Fast,
        protocol,
        shard: gauntlet::explore::Shard::WHOLE,
        stop_rule: gauntlet::explore::StopRule::KeepGoing {
            saved_bytes_max: u64::MAX,
        },
        guided: false,
    }
}

/// The property of the first violation `explore` finds with `config` (it stops there).
pub fn first_violation(config: &CampaignConfig) -> Option<String> {
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut found = None;
    explore(config, &stop, |_, failure| {
        if let Some(v) = failure.and_then(|f| f.violations.first()) {
            found.get_or_insert_with(|| v.property.to_string());
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    found
}

/// Each `(bug, campaign seed, budget in runs, property)`: a fast-lane campaign of
/// `protocol` from that seed with that bug on finds it within the budget, caught by
/// that property. A miss names the command that re-measures the budget.
pub fn assert_budgets_found(protocol: ProtocolRef, budgets: &[(&str, u64, u64, &str)]) {
    for &(bug, seed, runs, property) in budgets {
        match first_violation(&campaign(protocol, &[bug], seed, runs)) {
            Some(p) => assert_eq!(p, property, "{bug} was caught by {p}, not {property}"),
            None => panic!(
                "{bug} not found in {runs} fast-lane runs from campaign seed {seed}; \
                 re-measure: cargo run --release -- hunt --protocol {} --bug {bug}",
                protocol.name()
            ),
        }
    }
}
