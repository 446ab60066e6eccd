//! Plays a [`Scenario`] in a turmoil simulation: one host per node running the real
//! async node shell on simulated UDP and the simulated filesystem, the fault schedule
//! applied at its simulated times, then the liveness phase.

use super::layer_faults::{apply_layer_fault, is_layer_fault};
use super::rng::{stream_rng, turmoil_seed, Stream};
use super::scenario::Scenario;
use crate::fault::{
    pairs_across, pairs_one_way, partition_groups, Fault, FaultLayer, PendingRestarts,
};
use crate::history::{EventKind, History, Phase};
use crate::ids::NodeId;
use crate::net::TurmoilUdp;
use crate::node::{NodeEnv, Recorder};
use crate::protocol::{Builtin, Protocol};
use crate::storage::SimFileStorage;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunEnd {
    /// Phase 1 is over, every learner learned and every proposer with a client value
    /// finished its ballots (so a late proposer's adoption shows in the trace).
    Settled,
    /// The liveness bound passed with some learner still ignorant.
    LivenessBoundReached,
    /// The harness or a node's software failed (not a protocol verdict).
    HarnessError(String),
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub history: History,
    pub end: RunEnd,
    /// Simulated time the run took.
    pub sim_ms: u64,
}

impl Recorder for RefCell<History> {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind) {
        self.borrow_mut().push(at_ms, node, kind);
    }
}

/// Length of one turmoil step. Every host's runtime is polled once per tick whatever
/// the traffic, so a run costs about (hosts × simulated time / tick).
pub const TICK_MS: u64 = 1;

/// The fixed simulated wall-clock start, so nothing depends on when a run happens.
const EPOCH_SECS: u64 = 1_700_000_000;

fn sim_now_ms() -> u64 {
    turmoil::sim_elapsed()
        .expect("the node clock is read inside the simulation")
        .as_millis() as u64
}

/// Run `scenario` to its end with its built-in protocol. Panics if the scenario is
/// invalid or names no built-in protocol: callers validate.
pub fn run(scenario: &Scenario) -> RunReport {
    Builtin::of(scenario)
        .unwrap_or_else(|e| panic!("invalid scenario: {e}"))
        .run(scenario)
}

/// Run `scenario` to its end with `protocol`, which builds every node (the plug-in
/// contract, `crate::protocol`). Panics if the scenario is invalid or names another
/// protocol: callers validate.
pub fn run_protocol<P: Protocol>(protocol: &P, scenario: &Scenario) -> RunReport {
    if let Err(e) = scenario.validate() {
        panic!("invalid scenario: {e}");
    }
    assert_eq!(
        scenario.protocol,
        protocol.name(),
        "a scenario for one protocol run with another"
    );
    let seed = scenario.seed;
    let history = Rc::new(RefCell::new(History::default()));
    let faults = Rc::new(RefCell::new(FaultLayer::new(stream_rng(
        seed,
        Stream::Network,
    ))));

    let safety_end_ms = scenario.safety_phase_end_ms();
    let deadline_ms = safety_end_ms + scenario.liveness_bound_ms;
    let mut sim = turmoil::Builder::new()
        .rng_seed(turmoil_seed(seed))
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .tick_duration(Duration::from_millis(TICK_MS))
        .min_message_latency(Duration::from_millis(scenario.network.latency_ms_min))
        .max_message_latency(Duration::from_millis(scenario.network.latency_ms_max))
        // The runner ends runs itself; this only has to be beyond any deadline.
        .simulation_duration(Duration::from_millis(deadline_ms + 1_000))
        .udp_capacity(1_024)
        .build();

    for spec in &scenario.cluster.nodes {
        let id = spec.id;
        let setup = protocol.node(scenario, id);
        let history = Rc::clone(&history);
        let faults = Rc::clone(&faults);
        let incarnations = Rc::new(Cell::new(0u32));
        sim.host(spec.id.host_name(), move || {
            let incarnation = incarnations.get();
            incarnations.set(incarnation + 1);
            let env = NodeEnv {
                clock: Rc::new(sim_now_ms),
                recorder: history.clone(),
                faults: Some(Rc::clone(&faults)),
                rng: stream_rng(
                    seed,
                    Stream::Node {
                        node: id,
                        incarnation,
                    },
                ),
                incarnation,
            };
            let setup = setup.clone();
            async move {
                let storage = SimFileStorage::open("/data")?;
                let transport = TurmoilUdp::bind().await?;
                P::run_node(setup, transport, storage, env).await?;
                Ok(())
            }
        });
    }

    let ids = scenario.cluster.ids();
    let mut settle = protocol.settle(scenario);
    let mut crashed: BTreeSet<NodeId> = BTreeSet::new();
    let mut restarts = PendingRestarts::default();
    let mut next_fault = 0;
    let mut phase = Phase::Safety;
    history
        .borrow_mut()
        .push(0, None, EventKind::PhaseStarted { phase });

    let end = loop {
        let now_ms = sim.elapsed().as_millis() as u64;
        settle.observe(&history.borrow().events);
        while phase == Phase::Safety && next_fault < scenario.faults.events.len() {
            let event = &scenario.faults.events[next_fault];
            if event.at_ms > now_ms {
                break;
            }
            next_fault += 1;
            apply(
                &mut sim,
                &event.fault,
                &ids,
                &mut crashed,
                &faults,
                &history,
                now_ms,
            );
        }
        if phase == Phase::Safety {
            crash_on_request(
                &mut sim,
                &ids,
                &mut crashed,
                &mut restarts,
                &faults,
                &history,
                now_ms,
            );
        }
        // Phase 1 ends one tick after its last event, so that event's effects (a client
        // request at that very time) happen under phase 1.
        if phase == Phase::Safety
            && now_ms > safety_end_ms
            && next_fault == scenario.faults.events.len()
        {
            phase = Phase::Liveness;
            history
                .borrow_mut()
                .push(now_ms, None, EventKind::PhaseStarted { phase });
            restarts.clear();
            heal_all(&mut sim, &ids, &mut crashed, &faults, &history, now_ms);
        }
        if phase == Phase::Liveness && settle.settled() {
            break RunEnd::Settled;
        }
        if now_ms >= deadline_ms {
            break RunEnd::LivenessBoundReached;
        }
        if let Err(e) = sim.step() {
            break RunEnd::HarnessError(e.to_string());
        }
    };
    let sim_ms = sim.elapsed().as_millis() as u64;
    let reason = match &end {
        RunEnd::Settled => settle.reason().to_string(),
        RunEnd::LivenessBoundReached => format!(
            "liveness bound of {} ms reached",
            scenario.liveness_bound_ms
        ),
        RunEnd::HarnessError(e) => format!("harness error: {e}"),
    };
    history
        .borrow_mut()
        .push(sim_ms, None, EventKind::RunEnded { reason });
    drop(sim);
    let history = Rc::try_unwrap(history)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    RunReport {
        history,
        end,
        sim_ms,
    }
}

/// Crash the nodes whose crash triggers fired during the last step, and restart those
/// whose time has come. A request for a node already down changes nothing and
/// schedules no restart.
fn crash_on_request(
    sim: &mut turmoil::Sim,
    ids: &[NodeId],
    crashed: &mut BTreeSet<NodeId>,
    restarts: &mut PendingRestarts,
    faults: &RefCell<FaultLayer>,
    history: &RefCell<History>,
    now_ms: u64,
) {
    let requests = faults.borrow_mut().take_crash_requests();
    for request in requests {
        let was_up = !crashed.contains(&request.node);
        let crash = Fault::Crash { node: request.node };
        apply(sim, &crash, ids, crashed, faults, history, now_ms);
        if let (true, Some(down_ms)) = (was_up, request.down_ms) {
            restarts.push(now_ms + down_ms, request.node);
        }
    }
    for node in restarts.take_due(now_ms) {
        let restart = Fault::Restart { node };
        apply(sim, &restart, ids, crashed, faults, history, now_ms);
    }
}

/// Apply one fault to the simulation and record it.
fn apply(
    sim: &mut turmoil::Sim,
    fault: &Fault,
    ids: &[NodeId],
    crashed: &mut BTreeSet<NodeId>,
    faults: &RefCell<FaultLayer>,
    history: &RefCell<History>,
    now_ms: u64,
) {
    let kind = match fault {
        Fault::Partition { groups } => {
            let groups = partition_groups(groups, ids);
            for (x, y) in pairs_across(&groups) {
                sim.partition(x.host_name(), y.host_name());
            }
            EventKind::Partitioned { groups }
        }
        Fault::PartitionOneWay { from, to } => {
            for (x, y) in pairs_one_way(from, to) {
                sim.partition_oneway(x.host_name(), y.host_name());
            }
            EventKind::PartitionedOneWay {
                from: from.clone(),
                to: to.clone(),
            }
        }
        Fault::Heal => {
            repair_all(sim, ids);
            EventKind::Healed
        }
        layer_fault if is_layer_fault(layer_fault) => {
            apply_layer_fault(&mut faults.borrow_mut(), layer_fault, now_ms)
        }
        Fault::Crash { node } => {
            if !crashed.insert(*node) {
                return;
            }
            sim.crash(node.host_name());
            EventKind::Crashed { node: *node }
        }
        Fault::Restart { node } => {
            if !crashed.remove(node) {
                return;
            }
            sim.bounce(node.host_name());
            EventKind::Restarted { node: *node }
        }
        _ => unreachable!("every other fault is a layer fault"),
    };
    history.borrow_mut().push(now_ms, None, kind);
}

fn repair_all(sim: &mut turmoil::Sim, ids: &[NodeId]) {
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            sim.repair(a.host_name(), b.host_name());
        }
    }
}

/// Phase 2 begins: every link repaired, every fault rate zero, every crashed node back.
fn heal_all(
    sim: &mut turmoil::Sim,
    ids: &[NodeId],
    crashed: &mut BTreeSet<NodeId>,
    faults: &RefCell<FaultLayer>,
    history: &RefCell<History>,
    now_ms: u64,
) {
    repair_all(sim, ids);
    history.borrow_mut().push(now_ms, None, EventKind::Healed);
    faults.borrow_mut().clear();
    for node in std::mem::take(crashed) {
        sim.bounce(node.host_name());
        history
            .borrow_mut()
            .push(now_ms, None, EventKind::Restarted { node });
    }
}
