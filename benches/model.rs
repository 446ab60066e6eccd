//! `cargo bench --bench model`: the exhaustive lane's speed and memory on fixed Paxos
//! scopes, breadth-first against depth-first (docs/model-checking.md).
//!
//! A plain harness (`harness = false`): each scope is searched `SAMPLES` times in this
//! process, single-threaded, and the report gives the state count (exact, the same
//! every sample), the median wall time and states/s, and the process's resident memory
//! after the scope's first sample (Linux `VmRSS`; the visited set and any frontier are
//! freed between samples, so this is an upper bound on what that search held plus what
//! the process held before). It does not run stateright: no comparison in one process
//! is built yet (docs/model-checking.md says why and gives the last figures).
//!
//! Scopes: the default scope (3 acceptor-learners, 1 proposer, exhausted) both ways;
//! 3 acceptors, 2 proposers, learner n1, correct Paxos, depth 13, both ways (the same
//! states: depth-first re-expands a state reached again by a shorter path). About a
//! minute in all on the 2-core machine.

use gauntlet::model::{check, scope_scenario, Bounds, Order, Outcome};
use gauntlet::protocol::{prepare, RunSetup};
use gauntlet::protocols::paxos::{Paxos, PaxosParams};

const SAMPLES: usize = 3;

fn setup(clients: u16, learners_max: usize) -> RunSetup<Paxos> {
    let mut scenario = scope_scenario(&Paxos, 3, clients, Vec::new());
    let mut params: PaxosParams = serde_json::from_value(scenario.params.clone()).unwrap();
    params.learners.truncate(learners_max);
    scenario.params = serde_json::to_value(&params).unwrap();
    prepare(&Paxos, &scenario).expect("a valid scope")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

// Wall time is what a benchmark reports.
#[allow(clippy::disallowed_methods)]
fn measure(name: &str, setup: &RunSetup<Paxos>, bounds: &Bounds, order: Order) {
    let mut walls = Vec::new();
    let mut first: Option<(Outcome, u64)> = None;
    for _ in 0..SAMPLES {
        let started = std::time::Instant::now();
        let outcome = check(&Paxos, setup, bounds, order, &mut |_| {}).expect("no harness error");
        walls.push(started.elapsed().as_secs_f64());
        assert!(outcome.found.is_none(), "{name}: correct Paxos is clean");
        if first.is_none() {
            let rss = gauntlet::model::resident_bytes().unwrap_or(0);
            first = Some((outcome, rss));
        }
    }
    let (outcome, rss) = first.expect("one sample");
    let wall = median(walls);
    println!(
        "{name:<44} {:>10} states {:>11} transitions  depth {:>2}  median {:>7.3} s  \
         {:>9.0} states/s  resident {:>5} MB",
        outcome.states,
        outcome.transitions,
        outcome.depth,
        wall,
        outcome.states as f64 / wall.max(1e-9),
        rss / (1024 * 1024)
    );
}

fn main() {
    let default_scope = setup(1, 3);
    let exhausted = Bounds::default();
    measure(
        "paxos 3+1, exhausted, breadth-first",
        &default_scope,
        &exhausted,
        Order::Bfs,
    );
    measure(
        "paxos 3+1, exhausted, depth-first",
        &default_scope,
        &exhausted,
        Order::Dfs,
    );
    let two = setup(2, 1);
    let depth_13 = Bounds {
        depth: 13,
        liveness: false,
        ..Bounds::default()
    };
    measure(
        "paxos 3+2 learner n1, depth 13, depth-first",
        &two,
        &depth_13,
        Order::Dfs,
    );
    measure(
        "paxos 3+2 learner n1, depth 13, breadth-first",
        &two,
        &depth_13,
        Order::Bfs,
    );
}
