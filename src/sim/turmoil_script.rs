//! The turmoil lane's replay of a recorded adversary ([`crate::fault::Fault::Script`],
//! a check-model counterexample): the real async node shells
//! ([`crate::node::run_core_scripted`]) on turmoil hosts, with turmoil's clock, crashes
//! and filesystem, following the script step by step with the model's semantics
//! (`crate::model::replay`), so both lanes give the same trace byte for byte.
//!
//! One step per simulated millisecond, as the model takes them: the cluster starts at
//! 0 ms and step *k* of the script runs at *k* ms; then the liveness phase's markers,
//! a restart of every crashed node (one a millisecond, in node order) and the fair
//! steps the model's own liveness phase took (`crate::model::replay_planned`), until
//! this run's settle rule, read from this run's history, holds. How each step acts:
//! - a datagram is held in its receiver's inbox from its send until a step delivers
//!   (it comes due at that millisecond), drops or copies it ([`ScriptedTransport`]):
//!   never by time;
//! - a timer fires and a client request arrives only on a cue
//!   ([`crate::node::Cue`]) the node takes at that millisecond;
//! - a crash stops the host (its unsynced writes die with it,
//!   [`crate::fault::FaultyStorage`]) and a restart bounces it, as the director does.
//!
//! A step that does not apply when it comes does nothing, judged by this world's own
//! state (its inboxes, which hosts run, each shell's timers), not by the model's. Only
//! the step's node acts in its millisecond (every node at 0 ms, in node order, which
//! is turmoil's host order), so events are recorded in the model's order, with no
//! sort: the harness's before the node's, the run's end last.

use super::director::RunReport;
use super::turmoil_net::{ScriptedTransport, SimNet, SimTransport};
use super::turmoil_world::{sim_now_ms, turmoil_env, turmoil_sim};
use crate::fault::{FaultyStorage, ScriptStep};
use crate::history::{EventKind, History, Phase};
use crate::ids::NodeId;
use crate::node::{run_core_scripted, CoreNode, Cue};
use crate::protocol::{Core, Protocol, RunSetup, Settle};
use crate::storage::SimFileStorage;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

/// Play a scripted scenario of `protocol` in the turmoil lane to its end.
pub fn run_turmoil_scripted<P: Protocol>(protocol: &P, setup: &RunSetup<P>) -> RunReport<P::Core> {
    let scenario = &setup.scenario;
    let script = scenario.faults.script().unwrap_or(&[]);
    // Only the fair steps are taken from the model; whether each applies, and when
    // the run has settled, this world decides.
    let (_, fair_steps) = crate::model::replay_planned(protocol, setup);
    let ids = scenario.cluster.ids();
    let history: Rc<RefCell<History<P::Core>>> = Rc::new(RefCell::new(History::with_capacity(256)));
    let net = Rc::new(RefCell::new(SimNet::with_twins(&ids, &[])));
    let steps_ms = (script.len() as u64)
        .saturating_add(ids.len() as u64)
        .saturating_add(scenario.liveness_bound_ms);
    // The run ends itself; this only has to be beyond its last step.
    let mut sim = turmoil_sim(scenario.seed, steps_ms);
    for (position, id) in ids.iter().copied().enumerate() {
        let template = protocol.core(setup, id);
        let client_request = scenario.request_of(id);
        let history = Rc::clone(&history);
        let net = Rc::clone(&net);
        let seed = scenario.seed;
        let incarnations = Rc::new(Cell::new(0u32));
        sim.host(id.host_name(), move || {
            let incarnation = incarnations.get();
            incarnations.set(incarnation + 1);
            let env = turmoil_env(seed, id, incarnation, history.clone());
            let node = CoreNode {
                id,
                core: template.clone(),
                client_request: client_request.clone(),
            };
            let transport = ScriptedTransport(SimTransport {
                me: position,
                net: Rc::clone(&net),
                clock: sim_now_ms,
            });
            let cues = transport.cues();
            async move {
                let storage = FaultyStorage::new(SimFileStorage::open("/data")?);
                run_core_scripted(node, transport, storage, env, cues).await?;
                Ok(())
            }
        });
    }
    let mut player = Player {
        sim,
        net,
        history,
        ids,
        crashed: BTreeSet::new(),
    };
    let mut settle = protocol.settle(setup);
    let result = player.play(
        script,
        &fair_steps,
        settle.as_mut(),
        scenario.liveness_bound_ms,
    );
    let Player { sim, history, .. } = player;
    drop(sim);
    let history = Rc::try_unwrap(history)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    crate::model::scripted_report(history, result, scenario.stop_at_ms)
}

/// The turmoil world of a scripted run and the steps' own bookkeeping.
struct Player<'a, C: Core> {
    sim: turmoil::Sim<'a>,
    net: Rc<RefCell<SimNet>>,
    history: Rc<RefCell<History<C>>>,
    ids: Vec<NodeId>,
    /// The nodes down now.
    crashed: BTreeSet<NodeId>,
}

impl<C: Core> Player<'_, C> {
    /// The millisecond the next tick runs.
    fn now_ms(&self) -> u64 {
        self.sim.elapsed().as_millis() as u64
    }

    /// The millisecond the last tick ran (its step's, as the model counts).
    fn last_ms(&self) -> u64 {
        self.now_ms().saturating_sub(1)
    }

    fn record(&self, at_ms: u64, node: Option<NodeId>, kind: EventKind<C>) {
        self.history.borrow_mut().push(at_ms, node, kind);
    }

    /// Run this millisecond's node work (one turmoil tick).
    fn tick(&mut self) -> Result<(), String> {
        super::turmoil_world::tick(&mut self.sim, &self.net)
    }

    /// Every step, as `crate::model::replay` takes them: the start, the script, the
    /// liveness phase. `Ok((settled, the last step's millisecond))`, the run's end
    /// recorded, or a harness error.
    fn play(
        &mut self,
        script: &[ScriptStep],
        fair_steps: &[ScriptStep],
        settle: &mut dyn Settle<C>,
        steps_max: u64,
    ) -> Result<(bool, u64), String> {
        self.record(
            0,
            None,
            EventKind::PhaseStarted {
                phase: Phase::Safety,
            },
        );
        self.tick()?;
        for step in script {
            self.step(step)?;
        }
        let liveness_ms = self.now_ms();
        for kind in [
            EventKind::PhaseStarted {
                phase: Phase::Liveness,
            },
            EventKind::Healed,
        ] {
            self.record(liveness_ms, None, kind);
        }
        self.tick()?;
        for node in self.crashed.clone() {
            self.step(&ScriptStep::Restart { node })?;
        }
        let end_ms = liveness_ms.saturating_add(steps_max);
        let mut fair_steps = fair_steps.iter();
        let settled = loop {
            settle.observe(&self.history.borrow().events);
            if settle.settled() {
                break true;
            }
            if self.last_ms() >= end_ms {
                break false;
            }
            let Some(step) = fair_steps.next() else {
                break false;
            };
            self.step(step)?;
        };
        let last_ms = self.last_ms();
        let reason = if settled {
            settle.reason().to_string()
        } else {
            format!("liveness bound of {steps_max} steps reached")
        };
        self.record(last_ms, None, EventKind::RunEnded { reason });
        Ok((settled, last_ms))
    }

    /// Take one step at the next millisecond: set it up, then run the tick in which
    /// its node acts.
    fn step(&mut self, step: &ScriptStep) -> Result<(), String> {
        let now_ms = self.now_ms();
        let up = |node: &NodeId| self.ids.contains(node) && !self.crashed.contains(node);
        match *step {
            ScriptStep::Deliver { from, to, msg_id } => {
                if up(&to) {
                    self.net.borrow_mut().release(from, to, msg_id, now_ms);
                }
            }
            ScriptStep::Drop { from, to, msg_id } => {
                if self.net.borrow_mut().drop_held(from, to, msg_id) {
                    self.record(now_ms, Some(from), EventKind::Dropped { to, msg_id });
                }
            }
            ScriptStep::Duplicate { from, to, msg_id } => {
                if self.net.borrow_mut().duplicate_held(from, to, msg_id) {
                    self.record(now_ms, Some(from), EventKind::Duplicated { to, msg_id });
                }
            }
            ScriptStep::FireTimer { node, timer_seq } => {
                if up(&node) {
                    self.net
                        .borrow_mut()
                        .cue(node, Cue::FireTimer { timer_seq });
                }
            }
            ScriptStep::ClientRequest { node } => {
                if up(&node) {
                    self.net.borrow_mut().cue(node, Cue::ClientRequest);
                }
            }
            ScriptStep::Crash { node } => {
                if up(&node) {
                    self.crashed.insert(node);
                    self.record(now_ms, None, EventKind::Crashed { node });
                    self.sim.crash(node.host_name());
                }
            }
            ScriptStep::Restart { node } => {
                if self.crashed.remove(&node) {
                    self.record(now_ms, None, EventKind::Restarted { node });
                    self.sim.bounce(node.host_name());
                }
            }
        }
        self.tick()
    }
}
