//! Basic Paxos through the plug-in contract: the same nodes, runner and checkers it
//! always had, reached the way any other protocol is reached.

use super::{Protocol, Settle};
use crate::check::{check_run, Property, Roster, Verdict, ALL_PROPERTIES};
use crate::history::{Event, History};
use crate::ids::NodeId;
use crate::net::Transport;
use crate::node::{run_node, NodeEnv, NodeError, NodeSetup};
use crate::paxos::MsgKind;
use crate::sim::{Scenario, SettleTracker, DEFAULT_PROTOCOL};
use crate::storage::Storage;
use std::future::Future;

/// Basic Paxos (`crate::paxos`), run by the Paxos node shell (`crate::node::run_node`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Paxos;

impl Protocol for Paxos {
    type Node = NodeSetup;

    fn name(&self) -> &'static str {
        DEFAULT_PROTOCOL
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &MsgKind::NAMES
    }

    fn generate(&self, seed: u64) -> Scenario {
        Scenario::generate(seed)
    }

    fn node(&self, scenario: &Scenario, id: NodeId) -> NodeSetup {
        NodeSetup {
            id,
            roles: scenario.cluster.roles(id).unwrap_or_default(),
            members: scenario.cluster.membership(),
            timing: scenario.timing.clone(),
            client_request: scenario
                .workload
                .iter()
                .find(|p| p.proposer == id)
                .map(|p| (p.at_ms, p.value.clone())),
            bugs: scenario.bugs.clone(),
        }
    }

    fn run_node<T: Transport + 'static, S: Storage + 'static>(
        node: NodeSetup,
        transport: T,
        storage: S,
        env: NodeEnv,
    ) -> impl Future<Output = Result<(), NodeError>> + 'static {
        run_node(node, transport, storage, env)
    }

    /// Every learner must learn.
    fn deciders(&self, scenario: &Scenario) -> Vec<NodeId> {
        scenario.cluster.membership().learners
    }

    /// Every learner learned and every proposer with a client value finished.
    fn settle(&self, scenario: &Scenario) -> Box<dyn Settle> {
        Box::new(SettleTracker::new(&self.deciders(scenario)))
    }

    fn properties(&self) -> Vec<&'static Property> {
        ALL_PROPERTIES.to_vec()
    }

    /// Paxos's own checkers, which judge *chosen* from the acceptors' notes.
    fn check(&self, history: &History, scenario: &Scenario) -> Verdict {
        let m = scenario.cluster.membership();
        let roster = Roster {
            acceptors: m.acceptors,
            learners: m.learners,
            proposers: m.proposers,
        };
        check_run(history, &roster)
    }
}

impl Settle for SettleTracker {
    fn observe(&mut self, events: &[Event]) {
        SettleTracker::observe(self, events)
    }

    fn settled(&self) -> bool {
        SettleTracker::settled(self)
    }

    fn reason(&self) -> &'static str {
        "every learner learned"
    }
}
