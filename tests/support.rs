//! Shared helpers for the simulation tests.

use gauntlet::explore::{run_and_check, Judged};
use gauntlet::sim::Scenario;

/// The seed override for a test that normally picks its own: `GAUNTLET_SEED=S`.
pub fn seed_override() -> Option<u64> {
    std::env::var("GAUNTLET_SEED").ok().map(|s| {
        s.trim()
            .parse()
            .unwrap_or_else(|_| panic!("GAUNTLET_SEED={s} is not a u64"))
    })
}

/// Run a scenario and fail the test, with the replay commands, if any property broke.
pub fn assert_all_properties_hold(test_name: &str, scenario: &Scenario) -> Judged {
    let judged = run_and_check(scenario);
    if !judged.verdict.violations.is_empty() {
        let mut msg = format!("seed {} failed:\n", scenario.seed);
        for v in &judged.verdict.violations {
            msg.push_str(&format!(
                "  {v}\n{}",
                v.render_witness(&judged.report.history)
            ));
        }
        msg.push_str(&format!(
            "replay: cargo run --release -- run --seed {seed} --trace\n\
             or:     GAUNTLET_SEED={seed} cargo test {test_name}\n",
            seed = scenario.seed
        ));
        panic!("{msg}");
    }
    judged
}
