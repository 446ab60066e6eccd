//! A protocol small enough to read at a glance, for real mode's unit tests: the
//! harness must work for any protocol and imports none, so its tests bring their own.
//! A node decides the first value it hears of (a client's or a peer's) and tells its
//! peers; servers must decide and clients (the other nodes) take requests. It has
//! parameters with a nested table, so errors can be seen naming `params.<field>`.

use crate::ids::NodeId;
use crate::protocol::{
    BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, NoLog, Observation, Protocol, RunSetup,
};
use crate::scenario::{Scenario, ScenarioError};
use crate::value::Value;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

pub struct Toy;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyParams {
    pub servers: Vec<NodeId>,
    #[serde(default)]
    pub timing: ToyTiming,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToyTiming {
    pub round_ms: u64,
}

impl Default for ToyTiming {
    fn default() -> Self {
        ToyTiming { round_ms: 50 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToyState {
    pub decided: Option<Value>,
}

impl fmt::Display for ToyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decided={:?}", self.decided)
    }
}

#[derive(Debug, Clone)]
pub struct ToyNode {
    peers: Vec<NodeId>,
    decided: Option<Value>,
}

impl ToyNode {
    fn decide(&mut self, value: Value, out: &mut Vec<CoreOutput<Self>>) {
        if self.decided.is_some() {
            return;
        }
        self.decided = Some(value.clone());
        out.push(CoreOutput::Persist(ToyState {
            decided: Some(value.clone()),
        }));
        out.push(CoreOutput::Event(BasicEvent::Decided(value.clone())));
        for &to in &self.peers {
            out.push(CoreOutput::Send {
                to,
                msg: value.clone(),
            });
        }
    }
}

impl Core for ToyNode {
    type Msg = Value;
    type State = ToyState;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = NoLog;

    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        match input {
            CoreInput::Start { recovered, .. } => {
                self.decided = recovered.and_then(|s| s.decided);
            }
            CoreInput::ClientRequest { value } => {
                out.push(CoreOutput::Event(BasicEvent::Proposed(value.clone())));
                self.decide(value, out);
            }
            CoreInput::Receive { msg, .. } => self.decide(msg, out),
            CoreInput::TimerFired { .. } => {}
        }
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    fn decided_in(state: &ToyState) -> Option<Value> {
        state.decided.clone()
    }
}

impl Protocol for Toy {
    type Core = ToyNode;
    type Params = ToyParams;

    fn name(&self) -> &'static str {
        "toy"
    }

    fn draft(&self, _rng: &mut ChaCha8Rng) -> Draft<ToyParams> {
        unreachable!("real mode never drafts")
    }

    /// Two, so `init-cluster` has a size the protocol refuses.
    fn nodes_min(&self) -> usize {
        2
    }

    fn check_params(&self, params: &ToyParams, scenario: &Scenario) -> Result<(), ScenarioError> {
        let ids = scenario.cluster.ids();
        for (i, id) in params.servers.iter().enumerate() {
            if !ids.contains(id) {
                let field = format!("params.servers[{i}]");
                return Err(ScenarioError::new(field, format!("{id} is not a node")));
            }
        }
        if !(1..=1_000).contains(&params.timing.round_ms) {
            return Err(ScenarioError::new(
                "params.timing.round_ms",
                "outside 1..=1000",
            ));
        }
        for (i, p) in scenario.workload.iter().enumerate() {
            if params.servers.contains(&p.proposer) {
                let field = format!("workload[{i}].proposer");
                return Err(ScenarioError::new(
                    field,
                    format!("{} is a server", p.proposer),
                ));
            }
        }
        Ok(())
    }

    fn cluster_params(&self, servers: &[NodeId], _clients: &[NodeId]) -> ToyParams {
        ToyParams {
            servers: servers.to_vec(),
            timing: ToyTiming::default(),
        }
    }

    fn core(&self, setup: &RunSetup<Toy>, id: NodeId) -> ToyNode {
        let peers = setup.scenario.cluster.ids();
        ToyNode {
            peers: peers.into_iter().filter(|&n| n != id).collect(),
            decided: None,
        }
    }

    fn deciders(&self, setup: &RunSetup<Toy>) -> Vec<NodeId> {
        setup.params.servers.clone()
    }
}
