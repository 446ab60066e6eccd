//! The exhaustive lane (`gauntlet check-model`; docs/model-checking.md): every
//! reachable state of a small scenario, explored breadth-first (the shortest
//! counterexample first) or depth-first over the same sans-IO cores the other lanes
//! run, judged by the protocol's own properties. A clean result is a proof within the
//! scope's bounds; a violation comes back as an ordinary scenario whose fault schedule
//! is the path ([`crate::fault::Fault::Script`]), which the fast lane replays exactly
//! ([`replay`]) and the turmoil lane's real node shells follow to the same trace.
//!
//! Generic over the contract: a protocol needs only [`crate::protocol::Core::fingerprint`]
//! (and, for speed, `Core::fingerprint_timer`). [`machine`] is the state and its steps,
//! [`search`] the exploration, [`fingerprint`] the hashes and the visited set.

mod checkpoint;
pub mod fingerprint;
mod huge_pages;
mod machine;
mod search;

pub use checkpoint::Checkpointing;
pub use machine::{Spent, State as ModelState, IN_FLIGHT_MAX};
pub use search::resident_bytes;

use crate::history::History;
use crate::ids::NodeId;
use crate::protocol::{Protocol, RunSetup, Violation};
use crate::scenario::{Cluster, Proposal, Scenario};
use crate::sim::{RunEnd, RunReport};
use crate::value::Value;
use machine::Model;

/// The bounds of a search: how many of each fault a path may take, how long a path
/// may be, and what the search may spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// Messages a path may lose.
    pub drops: u32,
    /// Messages a path may duplicate.
    pub duplicates: u32,
    /// Crashes a path may take (each crashed node may restart at any later step).
    pub crashes: u32,
    /// The nodes that may crash; empty: every node. A scope that crashes only the
    /// node whose recovery is under test is far smaller than one that crashes any.
    pub crash_nodes: Vec<NodeId>,
    /// The nodes whose timers may fire; empty: every node's.
    pub timer_nodes: Vec<NodeId>,
    /// Timer firings a path may take. Timers are how a protocol retries; 0 explores
    /// each protocol's first attempt under every interleaving.
    pub timeouts: u32,
    /// Steps a path may take.
    pub depth: u32,
    /// Whether to run the bounded liveness check (see [`search`]).
    pub liveness: bool,
    /// The search stops (with a message) once the process holds this much memory.
    pub memory_mb: u64,
    /// The search stops (with a message) after this many distinct states.
    pub states_max: u64,
    /// Room for this many states is allocated for the visited set up front (0: it
    /// grows as needed). Not part of the scope. Each growth doubles the table and
    /// holds old and new at once, so for a scope known to be huge a table reserved
    /// once reaches up to twice the states within the same memory: on a 23 GB machine,
    /// growing stops at 939 million states while a reservation takes 1.88 billion.
    pub reserve_states: u64,
    /// The search starts from the state these steps reach (each must apply), not
    /// from the cluster's start: the scope is every continuation of this path, and
    /// a counterexample's path begins with it. Budgets these steps spend count. Empty
    /// for a whole scope; tests use it to check the end of a long path cheaply.
    pub start: Vec<crate::fault::ScriptStep>,
    /// Whether to reduce by the protocol's symmetry ([`crate::protocol::Protocol::symmetry`]):
    /// states that differ only by a renaming of interchangeable nodes are one state.
    /// On by default; verdicts are the same either way (unit test
    /// `symmetry_keeps_every_verdict`), only the counts shrink.
    pub symmetry: bool,
    /// The order in which each state's enabled steps are tried: `None`, the model's
    /// own (deliveries in the network's order, then each node's timers, request,
    /// crash); `Some(seed)`, an order drawn per expanded state from one ChaCha8 stream
    /// of `seed` (`search::successor_order`). How a scope is searched, not part of
    /// it: the same states are visited under any order (each at its smallest depth),
    /// so a clean exhausted result is the same proof, while a violation deep in a
    /// large scope may be met far sooner (or later) than in the model's order. The
    /// same seed always takes the same path.
    pub order_seed: Option<u64>,
    /// Depth-first only: save the search to a file as it goes, and (with `resume`)
    /// start from such a file ([`checkpoint`]). Not part of the scope.
    pub checkpoint: Option<Checkpointing>,
    /// Raised from outside (Ctrl-C, SIGTERM) to stop the search at its next state,
    /// with a checkpoint if one is configured. Not part of the scope.
    pub stop: StopSignal,
}

/// A request from outside the search to stop: set from a signal handler, read once a
/// state. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopSignal {
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Two signals are equal when they are the same flag.
impl PartialEq for StopSignal {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StopSignal {}

impl Default for Bounds {
    /// The default scope's bounds: no faults but reordering, no retries, paths of
    /// any length up to 64 steps, liveness checked, 4 GB, 50 million states.
    fn default() -> Self {
        Bounds {
            drops: 0,
            duplicates: 0,
            crashes: 0,
            crash_nodes: Vec::new(),
            timer_nodes: Vec::new(),
            timeouts: 0,
            depth: 64,
            liveness: true,
            memory_mb: 4_096,
            states_max: 50_000_000,
            reserve_states: 0,
            start: Vec::new(),
            symmetry: true,
            order_seed: None,
            checkpoint: None,
            stop: StopSignal::default(),
        }
    }
}

impl Bounds {
    /// The bytes of the visited set reserved up front (`reserve_states`), if any; an
    /// error if that table alone would exceed the memory bound.
    pub fn reserved_bytes(&self) -> Result<Option<u64>, String> {
        if self.reserve_states == 0 {
            return Ok(None);
        }
        let states = usize::try_from(self.reserve_states).unwrap_or(usize::MAX);
        let bytes = fingerprint::Visited::bytes_for(states);
        if bytes > self.memory_mb.saturating_mul(1024 * 1024) {
            return Err(format!(
                "--reserve-states {}: the visited set for that many states takes {} MB, \
                 more than the memory bound of {} MB (--memory-mb)",
                self.reserve_states,
                bytes / (1024 * 1024),
                self.memory_mb
            ));
        }
        Ok(Some(bytes))
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "drops {}, duplicates {}, crashes {}",
            self.drops, self.duplicates, self.crashes,
        )?;
        if !self.crash_nodes.is_empty() {
            let nodes: Vec<String> = self.crash_nodes.iter().map(|n| n.to_string()).collect();
            write!(f, " (of {})", nodes.join(" "))?;
        }
        write!(f, ", timeouts {}", self.timeouts)?;
        if !self.timer_nodes.is_empty() {
            let nodes: Vec<String> = self.timer_nodes.iter().map(|n| n.to_string()).collect();
            write!(f, " (of {})", nodes.join(" "))?;
        }
        write!(
            f,
            ", depth {}, liveness {}",
            self.depth,
            if self.liveness { "on" } else { "off" }
        )?;
        if !self.start.is_empty() {
            write!(f, ", from a start of {} steps", self.start.len())?;
        }
        if !self.symmetry {
            write!(f, ", symmetry off")?;
        }
        if let Some(seed) = self.order_seed {
            write!(f, ", order seed {seed}")?;
        }
        Ok(())
    }
}

/// The search order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Breadth-first: the first violation found has the shortest path.
    #[default]
    Bfs,
    /// Depth-first: often reaches a deep violation sooner, with a longer path. Holds
    /// one path in memory (no frontier) and judges it with no replay; a state reached
    /// again by a shorter path is expanded again, so within the depth bound it visits
    /// the same states as breadth-first.
    Dfs,
}

/// A violation and the path to it.
#[derive(Debug, Clone)]
pub struct Found {
    pub violation: Violation,
    /// The violation's witness events, rendered from the model's history.
    pub witness: String,
    /// The path, one step per millisecond.
    pub steps: Vec<crate::fault::ScriptStep>,
    pub depth: usize,
    /// The scenario that replays it (its schedule is the script).
    pub scenario: Scenario,
}

/// What a search did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Distinct states visited (by fingerprint).
    pub states: u64,
    /// Steps taken, including those that led to a state already visited.
    pub transitions: u64,
    /// The longest path explored.
    pub depth: u32,
    /// States whose successors the depth bound cut off (0: the scope was exhausted).
    pub depth_cut: u64,
    /// Depth-first only: states reached again by a shorter path and expanded again.
    pub reexpanded: u64,
    /// States where the liveness phase was run.
    pub liveness_checked: u64,
    /// Prefixes the safety judges flagged whose full run (path, then liveness phase)
    /// no longer broke a safety property.
    pub healed: u64,
    /// Why the search stopped before the scope was exhausted (memory or state bound).
    pub stopped: Option<String>,
    pub found: Option<Found>,
    /// The visited set's bytes.
    pub fingerprint_bytes: u64,
    /// The largest resident memory seen (Linux), in bytes.
    pub peak_bytes: u64,
    /// States waiting in the queue at the last progress report.
    pub queued: u64,
    /// The interchangeable groups the search reduced by (empty: no symmetry, by
    /// `Bounds::symmetry` or because the protocol declares none in this scope).
    pub symmetry_groups: Vec<Vec<NodeId>>,
    /// `states` at the last progress report.
    pub(crate) reported: u64,
    /// States counted by the processes before this one (0 unless resumed from a
    /// checkpoint): this process found `states - resumed_states`.
    pub resumed_states: u64,
    /// `states` when a checkpoint was last saved, if one was.
    pub checkpoint_states: Option<u64>,
    /// The search stopped because [`Bounds::stop`] was raised.
    pub interrupted: bool,
}

/// The scenario of a model scope, for any protocol: `servers` nodes n1.. and `clients`
/// more, with the protocol's parameters for that split
/// ([`Protocol::cluster_params`]); client *i* proposes `Value_<letter i>`. The
/// workload's times do not matter to the model (a request may arrive at any step).
pub fn scope_scenario<P: Protocol + ?Sized>(
    protocol: &P,
    servers: u16,
    clients: u16,
    bugs: Vec<String>,
) -> Scenario {
    let total = servers.saturating_add(clients);
    let ids: Vec<NodeId> = (1..=total).map(NodeId).collect();
    let (server_ids, client_ids) = ids.split_at(usize::from(servers.min(total)));
    let params = protocol.cluster_params(server_ids, client_ids);
    Scenario {
        workload: client_ids
            .iter()
            .enumerate()
            .map(|(i, &proposer)| Proposal {
                proposer,
                value: Value::new(format!("Value_{}", (b'A' + (i % 26) as u8) as char)),
                at_ms: 0,
            })
            .collect(),
        liveness_bound_ms: LIVENESS_STEPS_DEFAULT,
        params: serde_json::to_value(&params).expect("params serialize"),
        bugs,
        ..Scenario::quiet(protocol.name(), Cluster::of_size(total), 0)
    }
}

/// The liveness phase's length, in steps, of a scope scenario (and of its replays).
pub const LIVENESS_STEPS_DEFAULT: u64 = 2_000;

/// Explore `setup`'s scenario within `bounds`. Its cluster, parameters, workload, seed,
/// planted bugs and liveness bound are the scope; its fault schedule must be empty (the
/// search makes its own faults). `progress` hears every 100,000 states. An error is a
/// harness error (a protocol that cannot be fingerprinted, an oversize message).
pub fn check<P: Protocol>(
    protocol: &P,
    setup: &RunSetup<P>,
    bounds: &Bounds,
    order: Order,
    progress: &mut dyn FnMut(&Outcome),
) -> Result<Outcome, String> {
    if !setup.scenario.faults.events.is_empty() {
        return Err(
            "faults: the model makes its own faults; the scenario's schedule must be empty"
                .to_string(),
        );
    }
    search::search(protocol, setup, bounds, order, progress)
}

/// The model's state machine on its own, for another checker to explore: the same
/// initial state (after `bounds.start`), the same enabled steps within `bounds` and
/// the same successor of each as [`check`]'s search, with the protocol events each step
/// records discarded (so no judge runs). benches/model.rs runs stateright over it, so
/// both checkers count the same states and their speeds compare checker against
/// checker. States are told apart by [`ModelState::fingerprint`].
pub struct Machine<'a, P: Protocol> {
    model: Model<'a, P>,
    spend: Spent,
    crash_nodes: Vec<NodeId>,
    timer_nodes: Vec<NodeId>,
    start: Vec<crate::fault::ScriptStep>,
}

impl<'a, P: Protocol> Machine<'a, P> {
    /// The machine of `setup`'s scope within `bounds` (its budgets, crash and timer
    /// nodes and start; the depth bound is the caller's to keep).
    pub fn new(protocol: &'a P, setup: &'a RunSetup<P>, bounds: &Bounds) -> Self {
        Machine {
            model: Model::new(protocol, setup),
            spend: Spent {
                drops: bounds.drops,
                duplicates: bounds.duplicates,
                crashes: bounds.crashes,
                timeouts: bounds.timeouts,
            },
            crash_nodes: bounds.crash_nodes.clone(),
            timer_nodes: bounds.timer_nodes.clone(),
            start: bounds.start.clone(),
        }
    }

    /// The state the search starts from. An error if a start step does not apply.
    pub fn initial(&self) -> Result<ModelState<P::Core>, String> {
        let mut events = Vec::new();
        let mut state = self.model.initial(&mut events)?;
        for (i, step) in self.start.iter().enumerate() {
            if !self.model.apply(&mut state, step, &mut events)? {
                return Err(format!(
                    "the scope's start: step {} ({step}) does not apply",
                    i + 1
                ));
            }
        }
        Ok(state)
    }

    /// Every step enabled in `state`, in the search's order, into `out` (cleared).
    pub fn enabled(&self, state: &ModelState<P::Core>, out: &mut Vec<crate::fault::ScriptStep>) {
        self.model.enabled(
            state,
            &self.spend,
            (&self.crash_nodes, &self.timer_nodes),
            out,
        );
    }

    /// The state `step` leads to from `state`. An error is a harness error (an
    /// oversize message, too many timers), or a step that does not apply here.
    pub fn next(
        &self,
        state: &ModelState<P::Core>,
        step: &crate::fault::ScriptStep,
    ) -> Result<ModelState<P::Core>, String> {
        let mut next = state.clone();
        let mut events = Vec::new();
        if !self.model.apply(&mut next, step, &mut events)? {
            return Err(format!("{step} does not apply here"));
        }
        Ok(next)
    }
}

/// Play a scripted scenario ([`crate::fault::Fault::Script`]): the cluster starts at 0
/// ms, step *k* of the script runs at *k* ms (a step that does not apply does nothing),
/// then the liveness phase of at most `liveness_bound_ms` steps. What the fast lane
/// runs for such a scenario; exactly the model's semantics.
pub fn replay<P: Protocol>(protocol: &P, setup: &RunSetup<P>) -> RunReport<P::Core> {
    replay_planned(protocol, setup).0
}

/// [`replay`], and the fair steps its liveness phase took after restarting every
/// crashed node ([`machine::Model::finish`]): with the script and those restarts,
/// every step of the run, which the turmoil lane then plays on the real node shells
/// (`crate::sim::run_turmoil_scripted`). A harness error ends the list where it
/// struck.
pub fn replay_planned<P: Protocol>(
    protocol: &P,
    setup: &RunSetup<P>,
) -> (RunReport<P::Core>, Vec<crate::fault::ScriptStep>) {
    let model = Model::new(protocol, setup);
    let steps = setup.scenario.faults.script().unwrap_or(&[]);
    let mut history = History::with_capacity(256);
    let mut liveness_steps = Vec::new();
    let result = (|| {
        let mut state = model.initial(&mut history.events)?;
        for step in steps {
            model.apply(&mut state, step, &mut history.events)?;
        }
        let settled = model.finish_taking(
            &mut state,
            &mut history.events,
            setup.scenario.liveness_bound_ms,
            &mut |step| liveness_steps.push(step.clone()),
        )?;
        Ok::<_, String>((settled, state.now_ms))
    })();
    let report = scripted_report(history, result, setup.scenario.stop_at_ms);
    (report, liveness_steps)
}

/// The report of a scripted run in either lane, from its history as played and how
/// the play ended: `Ok((settled, now_ms))` with the liveness phase's `RunEnded`
/// recorded, or a harness error (recorded here). A stop (`stop_at_ms`) cuts a whole
/// run at the stop, giving the same events up to it as the whole run, as the
/// director's stop does.
pub fn scripted_report<C: crate::protocol::Core>(
    mut history: History<C>,
    result: Result<(bool, u64), String>,
    stop_at_ms: Option<u64>,
) -> RunReport<C> {
    let stopped_ms = stop_at_ms
        .filter(|&stop_ms| result.is_ok() && history.events.iter().any(|e| e.at_ms >= stop_ms));
    let (end, sim_ms) = match result {
        Ok(_) if stopped_ms.is_some() => {
            let stop_ms = stopped_ms.unwrap_or_default();
            history.events.retain(|e| e.at_ms < stop_ms);
            history.push(
                stop_ms,
                None,
                crate::history::EventKind::RunEnded {
                    reason: format!("stopped at {stop_ms} ms (the scenario's stop_at_ms)"),
                },
            );
            (RunEnd::Stopped, stop_ms)
        }
        Ok((true, now_ms)) => (RunEnd::Settled, now_ms),
        Ok((false, now_ms)) => (RunEnd::LivenessBoundReached, now_ms),
        Err(e) => {
            let at_ms = history.events.last().map_or(0, |e| e.at_ms);
            history.push(
                at_ms,
                None,
                crate::history::EventKind::RunEnded {
                    reason: format!("harness error: {e}"),
                },
            );
            (RunEnd::HarnessError(e), at_ms)
        }
    };
    RunReport {
        history,
        end,
        sim_ms,
    }
}

#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod symmetry_tests;
#[cfg(test)]
mod tests;
