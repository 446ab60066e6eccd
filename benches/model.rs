//! `cargo bench --bench model`: the exhaustive lane against stateright, checker against
//! checker, on the same Paxos state spaces (docs/model-checking.md, "Against
//! stateright").
//!
//! Both checkers explore the states of one machine: gauntlet's own model
//! ([`gauntlet::model::Machine`]: the shipped Paxos cores, the model's steps and their
//! executor). gauntlet runs its search ([`gauntlet::model::check`]); stateright 0.31
//! runs its breadth-first or depth-first checker over a `stateright::Model` written
//! here on the same machine: the same initial state, the same enabled steps, the same
//! successor of each. gauntlet's state holds cores, so it is not `Hash`/`Eq`; the
//! stateright state is a wrapper that hashes and compares by gauntlet's 64-bit
//! fingerprint (computed once per successor, as gauntlet's search does), so both
//! deduplicate by the same key and count the same states: the bench asserts the two
//! counts are equal before it prints a row.
//!
//! What each does per state differs in one way, in stateright's favour: gauntlet's
//! search judges Paxos's safety properties on the path's history (kept with the
//! queued paths' trails in breadth-first, along the path in depth-first) after each
//! step that records a new protocol event; stateright's properties are predicates on a state, and the history is not
//! in the state, so its one property is `always true` (stateright stops at once with
//! no property to discover). The bounded liveness phase is off in both.
//!
//! Measures, per row: the distinct states, the median wall time of `SAMPLES` runs and
//! states/s from it, and peak heap: a counting global allocator tracks live bytes and
//! their high-water mark, reset before each run; the row gives the largest peak over
//! the samples. stateright runs with one worker thread (`threads(1)`) so both use one
//! core; its main thread waits in `join`.
//!
//! Scopes ("no faults but reordering": no drops, duplicates, crashes or timer firings,
//! so each proposer makes its first attempt under every interleaving):
//! - the default scope: 3 acceptor-learners and 1 proposer, exhausted;
//! - 3 acceptors and 2 proposers, learner n1, paths up to `DEPTH_2P` steps, and
//! - 3 acceptors and 3 proposers, learner n1, paths up to `DEPTH_3P` steps, both
//!   breadth-first only: a depth-first search with a depth bound re-expands a state
//!   reached again by a shorter path in gauntlet and not in stateright, so the two
//!   would not count the same states; breadth-first both reach exactly the states
//!   within the bound.
//!
//! About a minute in all on the 2-core machine. stateright's own Paxos example, a
//! different model of the same scope parameters, is run against `check-model` by
//! `benches/against_stateright.sh`.

use gauntlet::fault::ScriptStep;
use gauntlet::model::{check, scope_scenario, Bounds, Machine, ModelState, Order};
use gauntlet::protocol::{prepare, RunSetup};
use gauntlet::protocols::paxos::{Paxos, PaxosParams};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

const SAMPLES: usize = 3;

/// The depth bound of the 2-proposer scope (227,717 states; exhausted it is 4.2
/// million, over a minute a run: too long for three samples of two checkers).
const DEPTH_2P: u32 = 16;

/// The depth bound of the 3-proposer scope (232,748 states).
const DEPTH_3P: u32 = 12;

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed straight to the system allocator; the counters are
// only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE_BYTES.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE_BYTES.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Start a measurement: the high-water mark from now, over what is live now.
fn peak_reset() -> usize {
    let live = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_BYTES.store(live, Ordering::Relaxed);
    live
}

/// The heap the measurement added at its peak, over what was live at its start.
fn peak_since(base: usize) -> usize {
    PEAK_BYTES.load(Ordering::Relaxed).saturating_sub(base)
}

/// A gauntlet model state as stateright sees it: hashed and compared by gauntlet's
/// fingerprint of it, the key gauntlet's own visited set uses.
#[derive(Clone)]
struct Fingerprinted {
    state: ModelState<<Paxos as gauntlet::protocol::Protocol>::Core>,
    key: u64,
}

impl Hash for Fingerprinted {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.key);
    }
}

impl PartialEq for Fingerprinted {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// gauntlet's machine as a stateright model.
struct OnGauntlet {
    machine: Machine<'static, Paxos>,
}

impl stateright::Model for OnGauntlet {
    type State = Fingerprinted;
    type Action = ScriptStep;

    fn init_states(&self) -> Vec<Fingerprinted> {
        let state = self.machine.initial().expect("the scope starts");
        let key = state.fingerprint();
        vec![Fingerprinted { state, key }]
    }

    fn actions(&self, state: &Fingerprinted, actions: &mut Vec<ScriptStep>) {
        self.machine.enabled(&state.state, actions);
    }

    fn next_state(&self, last: &Fingerprinted, step: ScriptStep) -> Option<Fingerprinted> {
        let state = self.machine.next(&last.state, &step).expect("a step runs");
        let key = state.fingerprint();
        Some(Fingerprinted { state, key })
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        vec![stateright::Property::always("every state", |_, _| true)]
    }
}

/// A Paxos scope: 3 acceptors, `clients` proposers, the first `learners_max` servers
/// learning. Leaked: stateright wants a `'static` model.
fn setup(clients: u16, learners_max: usize) -> &'static RunSetup<Paxos> {
    let mut scenario = scope_scenario(&Paxos, 3, clients, Vec::new());
    let mut params: PaxosParams = serde_json::from_value(scenario.params.clone()).unwrap();
    params.learners.truncate(learners_max);
    scenario.params = serde_json::to_value(&params).unwrap();
    Box::leak(Box::new(prepare(&Paxos, &scenario).expect("a valid scope")))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One run's distinct states, wall seconds and peak heap bytes.
type Run = (u64, f64, usize);

// Wall time is what a benchmark reports.
#[allow(clippy::disallowed_methods)]
fn gauntlet_run(setup: &'static RunSetup<Paxos>, bounds: &Bounds, order: Order) -> Run {
    let base = peak_reset();
    let started = std::time::Instant::now();
    let outcome = check(&Paxos, setup, bounds, order, &mut |_| {}).expect("no harness error");
    let wall = started.elapsed().as_secs_f64();
    assert!(outcome.found.is_none(), "correct Paxos is clean");
    assert!(outcome.stopped.is_none(), "{:?}", outcome.stopped);
    (outcome.states, wall, peak_since(base))
}

// Wall time is what a benchmark reports.
#[allow(clippy::disallowed_methods)]
fn stateright_run(setup: &'static RunSetup<Paxos>, bounds: &Bounds, order: Order) -> Run {
    use stateright::{Checker, Model};
    let base = peak_reset();
    let started = std::time::Instant::now();
    let model = OnGauntlet {
        machine: Machine::new(&Paxos, setup, bounds),
    };
    // stateright counts the initial state as depth 1, gauntlet as depth 0.
    let builder = model
        .checker()
        .threads(1)
        .target_max_depth(bounds.depth as usize + 1);
    let states = match order {
        Order::Bfs => builder.spawn_bfs().join().unique_state_count(),
        Order::Dfs => builder.spawn_dfs().join().unique_state_count(),
    };
    let wall = started.elapsed().as_secs_f64();
    (states as u64, wall, peak_since(base))
}

/// Run both checkers `SAMPLES` times each on one scope, alternating, and print a row
/// for each.
fn compare(scope: &str, setup: &'static RunSetup<Paxos>, bounds: &Bounds, order: Order) {
    let order_name = match order {
        Order::Bfs => "breadth-first",
        Order::Dfs => "depth-first",
    };
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..SAMPLES {
        runs[0].push(gauntlet_run(setup, bounds, order));
        runs[1].push(stateright_run(setup, bounds, order));
    }
    let mut rates = [0.0; 2];
    let mut peaks = [0usize; 2];
    for (i, checker) in ["gauntlet", "stateright"].iter().enumerate() {
        let states = runs[i][0].0;
        assert!(
            runs[i].iter().all(|r| r.0 == states),
            "{checker}: the same count every run"
        );
        assert_eq!(
            states, runs[0][0].0,
            "{scope}: both checkers count the same states"
        );
        let wall = median(runs[i].iter().map(|r| r.1).collect());
        rates[i] = states as f64 / wall.max(1e-9);
        peaks[i] = runs[i].iter().map(|r| r.2).max().unwrap_or(0);
        println!(
            "{scope:<34} {order_name:<13} {checker:<10} {states:>9} states  median {wall:>7.3} s  \
             {:>8.0} states/s  peak heap {:>7.1} MB",
            rates[i],
            peaks[i] as f64 / (1024.0 * 1024.0)
        );
    }
    println!(
        "{scope:<34} {order_name:<13} gauntlet/stateright: {:.2}x states/s, {:.2}x peak heap",
        rates[0] / rates[1].max(1e-9),
        peaks[0] as f64 / (peaks[1] as f64).max(1.0)
    );
}

fn main() {
    // No symmetry: stateright explores the machine's states unreduced, and both
    // checkers must count the same states.
    let no_liveness = Bounds {
        liveness: false,
        symmetry: false,
        ..Bounds::default()
    };
    let one = setup(1, 3);
    let two = setup(2, 1);
    let three = setup(3, 1);
    for order in [Order::Bfs, Order::Dfs] {
        compare("paxos 3+1 (default scope)", one, &no_liveness, order);
    }
    let depth_2p = Bounds {
        depth: DEPTH_2P,
        ..no_liveness.clone()
    };
    compare(
        &format!("paxos 3+2 learner n1, depth {DEPTH_2P}"),
        two,
        &depth_2p,
        Order::Bfs,
    );
    let depth_3p = Bounds {
        depth: DEPTH_3P,
        ..no_liveness.clone()
    };
    compare(
        &format!("paxos 3+3 learner n1, depth {DEPTH_3P}"),
        three,
        &depth_3p,
        Order::Bfs,
    );
}
