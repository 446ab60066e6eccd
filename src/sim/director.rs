//! The one phase driver, written once for every world (principle 4): it applies the
//! fault schedule at its times, crashes nodes when a crash armed on a send fires and
//! restarts them when their time comes, switches to the liveness phase (heal every
//! link, zero every rate, restart every crashed node), and ends the run when the
//! protocol's settle rule says nothing more is owed, or at the liveness bound.
//!
//! A [`World`] is what the director drives: the fast event calendar or turmoil. The
//! director decides *what* happens at each millisecond; the world decides *how*
//! (cutting a turmoil link, or marking a link cut in the fast world's table).

use super::layer_faults::{apply_layer_fault, is_layer_fault};
use crate::fault::{
    pairs_across, pairs_one_way, partition_groups, Fault, FaultLayer, PendingRestarts,
};
use crate::history::{EventKind, History, Phase};
use crate::ids::NodeId;
use crate::protocol::{Core, Settle};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunEnd {
    /// Phase 1 is over and the protocol's settle rule holds (every decider decided,
    /// and whatever else the protocol owes).
    Settled,
    /// The liveness bound passed with something still owed.
    LivenessBoundReached,
    /// The scenario's `stop_at_ms` came (a shrunk safety failure's run ends just
    /// past its violation); nothing more was owed.
    Stopped,
    /// The harness or a node's software failed (not a protocol verdict).
    HarnessError(String),
}

/// One finished run.
#[derive(Debug, Clone)]
pub struct RunReport<C: Core> {
    pub history: History<C>,
    pub end: RunEnd,
    /// Simulated time the run took.
    pub sim_ms: u64,
}

/// What the director drives. Times are simulated milliseconds since the run started.
pub(crate) trait World<C: Core> {
    fn now_ms(&self) -> u64;
    /// Record a harness event at the current time.
    fn record(&mut self, kind: EventKind<C>);
    /// Let `settle` read the events recorded since it last looked.
    fn observe(&self, settle: &mut dyn Settle<C>);
    /// The message-level fault layer every node's sends go through.
    fn fault_layer(&self) -> &RefCell<FaultLayer>;
    /// Cut the link between `a` and `b` in both directions, dropping what is in flight.
    fn partition(&mut self, a: NodeId, b: NodeId);
    /// Cut the link from `from` to `to` only, dropping what is in flight on it.
    fn partition_one_way(&mut self, from: NodeId, to: NodeId);
    /// Repair every link (what is in flight stays lost).
    fn repair_all(&mut self);
    /// Stop the node's software at once; its disk keeps what was fsynced.
    fn crash(&mut self, node: NodeId);
    /// Start the node's next incarnation on its disk.
    fn restart(&mut self, node: NodeId);
    /// Start the twin of `node` ([`Fault::Twin`]) on a copy of what `node` made
    /// durable so far. Called once per twin, before its first placement.
    fn start_twin(&mut self, node: NodeId);
    /// Connect (`up`) or cut the links between the twin of `node` and `peer`, both
    /// directions (a cut drops what is in flight on them).
    fn place_twin(&mut self, node: NodeId, peer: NodeId, up: bool);
    /// Make the core `node`'s next incarnations start from its adversary `strategy`
    /// (`None`: its honest core) ([`Fault::Strategy`]; the world built both before
    /// the run, `super::adversary::Cores`). The director restarts the node after.
    fn set_core(&mut self, node: NodeId, strategy: Option<&str>);
    /// Run every node event of the current millisecond (turmoil: one tick).
    fn run_due(&mut self) -> Result<(), String>;
    /// Move to the next millisecond at which anything can happen, at most `next_ms`
    /// (and at least one later). Turmoil's tick has moved already: nothing to do.
    fn jump(&mut self, next_ms: u64);
    /// Events recorded so far.
    fn history_events(&self) -> usize;
    /// Stop recording detail events ([`History::thin`]), at the current time.
    fn thin_history(&mut self);
    /// The history, once the run is over.
    fn into_history(self) -> History<C>;
}

/// Detail events (sends, deliveries, persists: [`crate::history::EventKind::is_detail`])
/// a run's history records per node of its cluster before it is thinned. A message
/// storm's history costs about a kilobyte an event, almost all of it detail (a PBFT
/// view-change storm reached 50,000 events per node, 400 MB for a 7-replica run,
/// before there was a limit: docs/pbft.md). Correct runs stay below a quarter of it:
/// the largest of the corpus, a 4-node pow chain, records about 4,700 per node, a
/// 500-node pow chain about 4,000.
pub const HISTORY_DETAIL_EVENTS_PER_NODE: usize = 20_000;
/// Events of any kind a run's history may hold per node. A thinned history still
/// grows with the protocol's own events (a sixth of a PBFT storm's); past this the
/// run ends as a harness error (not a verdict: safety found nothing, and liveness
/// cannot be judged early).
pub const HISTORY_EVENTS_PER_NODE_MAX: usize = 100_000;

/// The history limits of one run, from its cluster's size.
struct HistoryLimits {
    detail_events_max: usize,
    events_max: usize,
}

impl HistoryLimits {
    fn of(scenario: &Scenario) -> Self {
        let nodes = scenario.cluster.nodes.len().max(1);
        HistoryLimits {
            detail_events_max: nodes.saturating_mul(HISTORY_DETAIL_EVENTS_PER_NODE),
            events_max: nodes.saturating_mul(HISTORY_EVENTS_PER_NODE_MAX),
        }
    }
}

/// Play `scenario`'s phases in `world` to the end of the run.
pub(crate) fn direct<C: Core, W: World<C>>(
    mut world: W,
    scenario: &Scenario,
    settle: &mut dyn Settle<C>,
) -> RunReport<C> {
    let mut director = Director {
        scenario,
        ids: scenario.cluster.ids(),
        crashed: BTreeSet::new(),
        restarts: PendingRestarts::default(),
        next_fault: 0,
        phase: Phase::Safety,
        partitioned: false,
        twins: std::collections::BTreeMap::new(),
        adversaries: std::collections::BTreeMap::new(),
    };
    let safety_end_ms = scenario.safety_phase_end_ms();
    let deadline_ms = safety_end_ms + scenario.liveness_bound_ms;
    // A stop ends the run before anything of its millisecond happens.
    let stop_ms = scenario.stop_at_ms.unwrap_or(u64::MAX);
    world.record(EventKind::PhaseStarted {
        phase: Phase::Safety,
    });
    let limits = HistoryLimits::of(scenario);
    let end = loop {
        let now_ms = world.now_ms();
        if now_ms >= stop_ms {
            break RunEnd::Stopped;
        }
        // At a millisecond's boundary both lanes have recorded the same events, so
        // both thin (or stop) at the same one.
        let events = world.history_events();
        if events > limits.detail_events_max {
            world.thin_history();
        }
        if events > limits.events_max {
            break RunEnd::HarnessError(format!(
                "the run's history passed its limit of {} events ({HISTORY_EVENTS_PER_NODE_MAX} \
                 per node) at {now_ms}ms, thinned since {} events: an event storm that \
                 cannot be judged to the run's end",
                limits.events_max, limits.detail_events_max
            ));
        }
        world.observe(settle);
        if director.phase == Phase::Safety {
            director.end_due_strategies(&mut world);
            director.apply_due_faults(&mut world);
            director.crash_on_request(&mut world);
            // Phase 1 ends one millisecond after its last event, so that event's
            // effects (a client request at that very time) happen under phase 1.
            if now_ms > safety_end_ms && director.faults_done() {
                director.start_liveness(&mut world);
            }
        }
        if director.phase == Phase::Liveness && settle.settled() {
            break RunEnd::Settled;
        }
        if now_ms >= deadline_ms {
            break RunEnd::LivenessBoundReached;
        }
        if let Err(e) = world.run_due() {
            break RunEnd::HarnessError(e);
        }
        world.observe(settle);
        let next_ms = director.next_ms(&world, settle, safety_end_ms, deadline_ms.min(stop_ms));
        world.jump(next_ms);
    };
    let sim_ms = world.now_ms();
    let reason = match &end {
        RunEnd::Settled => settle.reason().to_string(),
        RunEnd::LivenessBoundReached => format!(
            "liveness bound of {} ms reached",
            scenario.liveness_bound_ms
        ),
        RunEnd::Stopped => format!("stopped at {stop_ms} ms (the scenario's stop_at_ms)"),
        RunEnd::HarnessError(e) => format!("harness error: {e}"),
    };
    world.record(EventKind::RunEnded { reason });
    let mut history = world.into_history();
    canonical_order(&mut history);
    RunReport {
        history,
        end,
        sim_ms,
    }
}

/// Put a finished history in its canonical order: by time; within a millisecond the
/// harness's events first (the director acts at the start of each millisecond), then
/// each node's, by node id, each node's in the order it recorded them. What different
/// nodes did within one millisecond cannot depend on each other (a datagram takes at
/// least a millisecond, and every node draws from its own streams), so this order
/// loses nothing, and it is the same in both worlds, whose schedulers interleave
/// nodes differently: equal runs get equal traces and digests.
fn canonical_order<C: Core>(history: &mut History<C>) {
    // A stable sort: each node's own order, and the harness's, are kept. The fast
    // world records in this order already: checking is cheaper than sorting.
    // A node's twin comes right after the node ([`EventKind::Twin`]).
    let key = |e: &crate::history::Event<C>| {
        (
            e.at_ms,
            e.node.map_or(0, |n| u32::from(n.0) + 1),
            e.kind.is_twin(),
        )
    };
    if !history.events.is_sorted_by_key(key) {
        history.events.sort_by_key(key);
    }
}

struct Director<'a> {
    scenario: &'a Scenario,
    ids: Vec<NodeId>,
    crashed: BTreeSet<NodeId>,
    restarts: PendingRestarts,
    next_fault: usize,
    phase: Phase,
    /// Whether a symmetric partition is in force (since the last heal): twins sit
    /// with their groups only while one is.
    partitioned: bool,
    /// The running twins, by the node they double, with their groups.
    twins: std::collections::BTreeMap<NodeId, Vec<NodeId>>,
    /// The nodes an adversary holds ([`Fault::Strategy`]), with when it lets go
    /// (`None`: never).
    adversaries: std::collections::BTreeMap<NodeId, Option<u64>>,
}

impl Director<'_> {
    fn faults_done(&self) -> bool {
        self.next_fault == self.scenario.faults.events.len()
    }

    fn apply_due_faults<C: Core>(&mut self, world: &mut impl World<C>) {
        while let Some(event) = self.scenario.faults.events.get(self.next_fault) {
            if event.at_ms > world.now_ms() {
                break;
            }
            self.next_fault += 1;
            self.apply(world, &event.fault);
        }
    }

    /// Crash the nodes whose crash triggers fired since the last look, and restart
    /// those whose time has come. A request for a node already down changes nothing
    /// and schedules no restart.
    fn crash_on_request<C: Core>(&mut self, world: &mut impl World<C>) {
        let requests = world.fault_layer().borrow_mut().take_crash_requests();
        let now_ms = world.now_ms();
        for request in requests {
            let was_up = !self.crashed.contains(&request.node);
            self.apply(world, &Fault::Crash { node: request.node });
            if let (true, Some(down_ms)) = (was_up, request.down_ms) {
                self.restarts.push(now_ms + down_ms, request.node);
            }
        }
        for node in self.restarts.take_due(now_ms) {
            self.apply(world, &Fault::Restart { node });
        }
    }

    /// Apply one fault to the world and record it.
    fn apply<C: Core>(&mut self, world: &mut impl World<C>, fault: &Fault) {
        let kind = match fault {
            Fault::Partition { groups } => {
                let groups = partition_groups(groups, &self.ids);
                for (x, y) in pairs_across(&groups) {
                    world.partition(x, y);
                }
                self.partitioned = true;
                self.place_twins(world);
                EventKind::Partitioned { groups }
            }
            Fault::PartitionOneWay { from, to } => {
                for (x, y) in pairs_one_way(from, to) {
                    world.partition_one_way(x, y);
                }
                EventKind::PartitionedOneWay {
                    from: from.clone(),
                    to: to.clone(),
                }
            }
            Fault::Heal => {
                world.repair_all();
                self.partitioned = false;
                EventKind::Healed
            }
            Fault::Twin { node, group } => {
                if !self.twins.contains_key(node) {
                    world.start_twin(*node);
                }
                self.twins.insert(*node, group.clone());
                self.place_twins(world);
                EventKind::TwinSet {
                    node: *node,
                    group: group.clone(),
                }
            }
            layer_fault if is_layer_fault(layer_fault) => {
                let now_ms = world.now_ms();
                apply_layer_fault(&mut world.fault_layer().borrow_mut(), layer_fault, now_ms)
            }
            Fault::Strategy {
                node,
                strategy,
                duration_ms,
            } => {
                let until_ms = duration_ms.map(|d| world.now_ms().saturating_add(d));
                self.adversaries.insert(*node, until_ms);
                world.set_core(*node, Some(strategy));
                self.take_over(world, *node);
                EventKind::StrategySet {
                    node: *node,
                    strategy: strategy.clone(),
                    until_ms,
                }
            }
            Fault::Crash { node } => {
                if !self.crashed.insert(*node) {
                    return;
                }
                world.crash(*node);
                EventKind::Crashed { node: *node }
            }
            Fault::Restart { node } => {
                if !self.crashed.remove(node) {
                    return;
                }
                world.restart(*node);
                EventKind::Restarted { node: *node }
            }
            _ => unreachable!("every other fault is a layer fault"),
        };
        world.record(kind);
    }

    /// A new core takes `node` over: a running node stops and its next incarnation
    /// starts at once (a node that is down starts with it when restarted).
    fn take_over<C: Core>(&self, world: &mut impl World<C>, node: NodeId) {
        if !self.crashed.contains(&node) {
            world.crash(node);
            world.restart(node);
        }
    }

    /// Give the honest core back to the nodes whose adversary window is over.
    fn end_due_strategies<C: Core>(&mut self, world: &mut impl World<C>) {
        let now_ms = world.now_ms();
        let due: Vec<NodeId> = self
            .adversaries
            .iter()
            .filter(|(_, until)| until.is_some_and(|t| t <= now_ms))
            .map(|(&node, _)| node)
            .collect();
        for node in due {
            self.adversaries.remove(&node);
            world.set_core(node, None);
            self.take_over(world, node);
            world.record(EventKind::StrategyEnded { node });
        }
    }

    /// Put every running twin where it belongs: linked with every other node while no
    /// partition is in force, else with its group only. (A heal repairs every link,
    /// the twins' included.)
    fn place_twins<C: Core>(&self, world: &mut impl World<C>) {
        for (&node, group) in &self.twins {
            for &peer in &self.ids {
                if peer != node {
                    world.place_twin(node, peer, !self.partitioned || group.contains(&peer));
                }
            }
        }
    }

    /// Phase 2 begins: every link repaired, every fault rate zero, every crashed node
    /// back (in node order).
    fn start_liveness<C: Core>(&mut self, world: &mut impl World<C>) {
        self.phase = Phase::Liveness;
        self.partitioned = false;
        world.record(EventKind::PhaseStarted {
            phase: Phase::Liveness,
        });
        self.restarts.clear();
        world.repair_all();
        world.record(EventKind::Healed);
        world.fault_layer().borrow_mut().clear();
        for node in std::mem::take(&mut self.crashed) {
            world.restart(node);
            world.record(EventKind::Restarted { node });
        }
    }

    /// The next millisecond at which the director has something to do.
    fn next_ms<C: Core>(
        &self,
        world: &impl World<C>,
        settle: &dyn Settle<C>,
        safety_end_ms: u64,
        deadline_ms: u64,
    ) -> u64 {
        let now_ms = world.now_ms();
        let mut next_ms = deadline_ms;
        if self.phase == Phase::Safety {
            if let Some(e) = self.scenario.faults.events.get(self.next_fault) {
                next_ms = next_ms.min(e.at_ms);
            }
            if let Some(at_ms) = self.restarts.next_ms() {
                next_ms = next_ms.min(at_ms);
            }
            if let Some(at_ms) = self.adversaries.values().flatten().min() {
                next_ms = next_ms.min(*at_ms);
            }
            if world.fault_layer().borrow().crash_requested() {
                next_ms = now_ms + 1;
            }
            next_ms = next_ms.min((safety_end_ms + 1).max(now_ms + 1));
        }
        if self.phase == Phase::Liveness && settle.settled() {
            next_ms = now_ms + 1;
        }
        next_ms
    }
}
