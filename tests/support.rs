//! Shared helpers for the simulation tests.

use gauntlet::explore::{run_and_check, Judged};
use gauntlet::ids::NodeId;
use gauntlet::net::{encode, Envelope};
use gauntlet::paxos::{Ballot, Msg};
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

/// Bytes of an oversized datagram in [`prepare_and_bad_datagrams`].
pub const OVERSIZED_BYTES: usize = 4_000;

/// A valid Prepare from n2 at ballot 1.2, and the four bad datagrams the bad-input
/// tests (simulated and real) send before it: garbage, the prepare cut short, an
/// oversized datagram, and the prepare with wire version 99.
pub fn prepare_and_bad_datagrams() -> (Vec<u8>, Vec<Vec<u8>>) {
    let prepare = encode(&Envelope {
        from: NodeId(2),
        msg_id: 1,
        msg: Msg::Prepare {
            ballot: Ballot::new(1, NodeId(2)),
        },
    });
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
