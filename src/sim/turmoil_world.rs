//! The turmoil world: one turmoil host per node running the real async node shell
//! ([`crate::node::run_core`]) on gauntlet's simulated network
//! ([`super::turmoil_net`]) and turmoil's simulated filesystem. The director
//! ([`super::director`]) applies the faults between turmoil steps.

use super::director::{direct, RunReport, World};
use super::turmoil_net::{SimNet, SimTransport};
use crate::fault::{FaultLayer, FaultyStorage, FaultyTransport};
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::node::{run_core, CoreNode, NodeEnv, Recorder};
use crate::protocol::{Core, Protocol, RunSetup, Settle};
use crate::rng::{stream_rng, turmoil_seed, Stream};
use crate::storage::{SimFileStorage, Storage};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

/// Length of one turmoil step. Every host's runtime is polled once per tick whatever
/// the traffic, so a run costs about (hosts × simulated time / tick).
pub const TICK_MS: u64 = 1;

/// The fixed simulated wall-clock start, so nothing depends on when a run happens.
const EPOCH_SECS: u64 = 1_700_000_000;

impl<C: Core> Recorder<C> for RefCell<History<C>> {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind<C>) {
        self.borrow_mut().push(at_ms, node, kind);
    }
}

/// A twin's recorder: its events go to the history as [`EventKind::Twin`].
struct TwinRecorder<C: Core>(Rc<RefCell<History<C>>>);

impl<C: Core> Recorder<C> for TwinRecorder<C> {
    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind<C>) {
        self.0
            .borrow_mut()
            .push(at_ms, node, EventKind::Twin(Box::new(kind)));
    }
}

/// What a twin's disk starts with: its node's durable state and log, encoded as the
/// shell stores them.
type TwinDisk = Option<(Option<Vec<u8>>, Vec<Vec<u8>>)>;

/// The environment of one incarnation of node `id` on a turmoil host: turmoil's
/// clock, `recorder`, and the incarnation's own random stream from the run's `seed`
/// (the stream the fast lane gives the same incarnation).
pub(super) fn turmoil_env<C: Core>(
    seed: u64,
    id: NodeId,
    incarnation: u32,
    recorder: Rc<dyn Recorder<C>>,
) -> NodeEnv<C> {
    NodeEnv {
        clock: Rc::new(sim_now_ms),
        recorder,
        rng: stream_rng(
            seed,
            Stream::Node {
                node: id,
                incarnation,
            },
        ),
        incarnation,
    }
}

/// The turmoil simulation of a run with root seed `seed`: its own seeded RNG, the
/// fixed epoch, one-millisecond ticks, and a duration a second past `last_ms` (the
/// run ends itself before; this is only a backstop).
pub(super) fn turmoil_sim<'a>(seed: u64, last_ms: u64) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .rng_seed(turmoil_seed(seed))
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .tick_duration(Duration::from_millis(TICK_MS))
        .simulation_duration(Duration::from_millis(last_ms.saturating_add(1_000)))
        .build()
}

/// One turmoil tick of every host; a node's inbox that overflowed during it is a
/// harness error.
pub(super) fn tick(sim: &mut turmoil::Sim<'_>, net: &RefCell<SimNet>) -> Result<(), String> {
    sim.step().map_err(|e| e.to_string())?;
    if net.borrow().overflowed > 0 {
        return Err(format!(
            "a node's inbox exceeded {} datagrams",
            super::turmoil_net::INBOX_DATAGRAMS_MAX
        ));
    }
    Ok(())
}

pub(super) fn sim_now_ms() -> u64 {
    turmoil::sim_elapsed()
        .expect("the node clock is read inside the simulation")
        .as_millis() as u64
}

struct Turmoil<'a, C: Core> {
    sim: turmoil::Sim<'a>,
    net: Rc<RefCell<SimNet>>,
    history: Rc<RefCell<History<C>>>,
    faults: Rc<RefCell<FaultLayer>>,
    /// Each twin's disk to be, by the node it doubles, filled when it starts.
    twin_disks: std::collections::BTreeMap<NodeId, Rc<RefCell<TwinDisk>>>,
    /// The core each node's next incarnation clones, by node.
    templates: std::collections::BTreeMap<NodeId, Rc<RefCell<C>>>,
    /// The honest and adversary cores of the nodes a `Fault::Strategy` names.
    cores: super::adversary::Cores<C>,
}

/// Run a prepared scenario of `protocol` in the turmoil lane to its end.
pub fn run_turmoil<P: Protocol>(protocol: &P, setup: &RunSetup<P>) -> RunReport<P::Core> {
    let scenario = &setup.scenario;
    let seed = scenario.seed;
    let history: Rc<RefCell<History<P::Core>>> = Rc::new(RefCell::new(History::default()));
    let network = &scenario.network;
    let faults = Rc::new(RefCell::new(FaultLayer::new(
        seed,
        network.latency_ms_min,
        network.latency_ms_max,
    )));
    let twins = scenario.faults.twins();
    let net = Rc::new(RefCell::new(SimNet::with_twins(
        &scenario.cluster.ids(),
        &twins,
    )));
    let deadline_ms = scenario.safety_phase_end_ms() + scenario.liveness_bound_ms;
    // The director ends runs itself; this only has to be beyond any deadline.
    let mut sim = turmoil_sim(seed, deadline_ms);

    let mut templates = std::collections::BTreeMap::new();
    for (position, id) in scenario.cluster.ids().into_iter().enumerate() {
        let template = Rc::new(RefCell::new(protocol.core(setup, id)));
        templates.insert(id, Rc::clone(&template));
        let client_request = scenario.request_of(id);
        let history = Rc::clone(&history);
        let faults = Rc::clone(&faults);
        let net = Rc::clone(&net);
        let incarnations = Rc::new(Cell::new(0u32));
        sim.host(id.host_name(), move || {
            let incarnation = incarnations.get();
            incarnations.set(incarnation + 1);
            let env = turmoil_env(seed, id, incarnation, history.clone());
            let node = CoreNode {
                id,
                core: template.borrow().clone(),
                client_request: client_request.clone(),
            };
            let link = SimTransport {
                me: position,
                net: Rc::clone(&net),
                clock: sim_now_ms,
            };
            let transport = FaultyTransport::new(
                link,
                Rc::clone(&faults),
                id,
                Rc::new(sim_now_ms),
                history.clone(),
            );
            async move {
                let storage = FaultyStorage::new(SimFileStorage::open("/data")?);
                run_core(node, transport, storage, env).await?;
                Ok(())
            }
        });
    }
    // One host per twin, after the nodes' (so theirs are unchanged), down until its
    // twin starts: a restart, like any other, but on a disk the start fills in.
    let mut twin_disks = std::collections::BTreeMap::new();
    for &id in &twins {
        let Some(position) = net.borrow().twin_position(id) else {
            continue;
        };
        let disk: Rc<RefCell<TwinDisk>> = Rc::new(RefCell::new(None));
        twin_disks.insert(id, Rc::clone(&disk));
        let node = CoreNode {
            id,
            core: protocol.core(setup, id),
            client_request: scenario.request_of(id),
        };
        let history = Rc::clone(&history);
        let faults = Rc::clone(&faults);
        let net = Rc::clone(&net);
        sim.host(twin_host_name(id), move || {
            let incarnation = super::TWIN_INCARNATION;
            let recorder: Rc<TwinRecorder<P::Core>> = Rc::new(TwinRecorder(Rc::clone(&history)));
            let env = turmoil_env(seed, id, incarnation, recorder.clone());
            let node = node.clone();
            let link = SimTransport {
                me: position,
                net: Rc::clone(&net),
                clock: sim_now_ms,
            };
            let transport =
                FaultyTransport::new(link, Rc::clone(&faults), id, Rc::new(sim_now_ms), recorder)
                    .as_twin();
            let disk = disk.borrow_mut().take();
            async move {
                let mut storage = FaultyStorage::new(SimFileStorage::open("/data")?);
                if let Some((state, log)) = disk {
                    if let Some(state) = state {
                        storage.store(&state)?;
                    }
                    if !log.is_empty() {
                        storage.log_append(&log)?;
                    }
                }
                run_core(node, transport, storage, env).await?;
                Ok(())
            }
        });
        sim.crash(twin_host_name(id));
    }
    let mut settle = protocol.settle(setup);
    let world = Turmoil {
        sim,
        net,
        history,
        faults,
        twin_disks,
        templates,
        cores: super::adversary::Cores::build(protocol, setup),
    };
    direct(world, scenario, settle.as_mut())
}

impl<C: Core> World<C> for Turmoil<'_, C> {
    fn now_ms(&self) -> u64 {
        self.sim.elapsed().as_millis() as u64
    }

    fn record(&mut self, kind: EventKind<C>) {
        let now_ms = self.now_ms();
        self.history.borrow_mut().push(now_ms, None, kind);
    }

    fn observe(&self, settle: &mut dyn Settle<C>) {
        settle.observe(&self.history.borrow().events);
    }

    fn fault_layer(&self) -> &RefCell<FaultLayer> {
        &self.faults
    }

    fn partition(&mut self, a: NodeId, b: NodeId) {
        let mut net = self.net.borrow_mut();
        net.wires.cut(a, b);
        net.wires.cut(b, a);
    }

    fn partition_one_way(&mut self, from: NodeId, to: NodeId) {
        self.net.borrow_mut().wires.cut(from, to);
    }

    fn repair_all(&mut self) {
        self.net.borrow_mut().wires.repair_all();
    }

    fn crash(&mut self, node: NodeId) {
        self.sim.crash(node.host_name());
    }

    /// The twin's disk is filled with its node's durable state, read back from the
    /// history as the fast world keeps it (`super::twin::durable_of`), then its host
    /// starts as a restarted one does.
    fn start_twin(&mut self, node: NodeId) {
        let Some(disk) = self.twin_disks.get(&node) else {
            return;
        };
        let (state, log) = super::twin::durable_of::<C>(&self.history.borrow().events, node);
        let state = state.map(|s| serde_json::to_vec(&s).expect("state serializes"));
        let log = log
            .iter()
            .map(|e| serde_json::to_vec(e).expect("log entries serialize"))
            .collect();
        *disk.borrow_mut() = Some((state, log));
        self.net.borrow_mut().start_twin(node);
        self.sim.bounce(twin_host_name(node));
    }

    fn set_core(&mut self, node: NodeId, strategy: Option<&str>) {
        if let (Some(template), Some(core)) =
            (self.templates.get(&node), self.cores.core(node, strategy))
        {
            *template.borrow_mut() = core;
        }
    }

    fn place_twin(&mut self, node: NodeId, peer: NodeId, up: bool) {
        let mut net = self.net.borrow_mut();
        if let (Some(t), Some(p)) = (net.twin_position(node), net.wires.position(peer)) {
            net.wires.set_both_at(t, p, up);
        }
    }

    fn restart(&mut self, node: NodeId) {
        let now_ms = self.now_ms();
        self.net.borrow_mut().restart(node, now_ms);
        self.sim.bounce(node.host_name());
    }

    /// One turmoil tick. A node's inbox that overflowed ends the run as a harness
    /// error, as the fast world's full queue does: losing datagrams silently would be
    /// a fault the scenario never asked for.
    fn run_due(&mut self) -> Result<(), String> {
        tick(&mut self.sim, &self.net)
    }

    fn jump(&mut self, _next_ms: u64) {}

    fn history_events(&self) -> usize {
        self.history.borrow().len()
    }

    fn thin_history(&mut self) {
        let now_ms = self.now_ms();
        self.history.borrow_mut().thin(now_ms);
    }

    fn into_history(self) -> History<C> {
        drop(self.sim);
        Rc::try_unwrap(self.history)
            .map(RefCell::into_inner)
            .unwrap_or_else(|rc| rc.borrow().clone())
    }
}

/// The turmoil host of `node`'s twin.
fn twin_host_name(node: NodeId) -> String {
    format!("{}-twin", node.host_name())
}
