//! The plug-in contract (ARCHITECTURE.md, "Plug-in contract"): what a protocol supplies
//! so gauntlet can test it, and nothing more.
//!
//! A protocol supplies
//! - its **name** (`--protocol NAME`, the scenario's `protocol` field);
//! - its **cluster shape and workload** for a campaign seed ([`Protocol::generate`]),
//!   around the harness's fault schedule ([`Peers`] draws both for a cluster of
//!   peers);
//! - **how to start each node** as an async task on a [`Transport`] and a [`Storage`],
//!   with the harness's clock, recorder, fault layer and random stream in [`NodeEnv`]
//!   ([`Protocol::node`], [`Protocol::run_node`]). A protocol written as a sans-IO
//!   [`Core`] gets its node from [`run_core`] in one line;
//! - **which nodes must decide** ([`Protocol::deciders`]);
//! - **its properties** ([`Protocol::properties`], [`Protocol::check`]). By default
//!   these are the generic ones ([`crate::check::generic`]): agreement, validity,
//!   decision integrity and liveness over the `Proposed`/`Decided` events every
//!   protocol records.
//!
//! The harness supplies everything else: the simulated network and disks, the fault
//! schedule and the per-message fault layer, the two phases, the seeds, exploration,
//! shrinking, the corpus and the traces. Both built-in protocols, [`Paxos`] and
//! [`Naive`], go through [`crate::sim::run_protocol`] by exactly this contract.
//!
//! The fast lane (`crate::sim::run_fast`) drives the Paxos cores directly and is not
//! part of the contract: a plug-in protocol runs in the turmoil lane only.

mod paxos;
mod peers;

pub use crate::naive::Naive;
pub use crate::node::{run_core, Core, CoreInput, CoreNode, CoreOutput, NodeEnv, NodeError};
pub use crate::paxos::Value;
pub use paxos::Paxos;
pub use peers::Peers;

use crate::check::generic::{check_generic, GENERIC_PROPERTIES};
use crate::check::{Property, Verdict};
use crate::history::{Event, History};
use crate::ids::NodeId;
use crate::net::Transport;
use crate::sim::{run_protocol, RunReport, Scenario, ScenarioError};
use crate::storage::Storage;
use std::collections::BTreeSet;
use std::future::Future;

/// A protocol gauntlet can test. See the module docs for who supplies what.
pub trait Protocol {
    /// What one node needs to start, the same for every incarnation: the runner
    /// clones it for each start and restart.
    type Node: Clone + 'static;

    /// The protocol's name: lowercase letters, digits and `_`, at most 32 bytes.
    fn name(&self) -> &'static str;

    /// The scenario of campaign run `seed`: this protocol's cluster and workload, with
    /// a fault schedule from the harness's generator (`crate::fault::generate_schedule`)
    /// and `protocol` set to [`Protocol::name`].
    fn generate(&self, seed: u64) -> Scenario;

    /// What node `id` of `scenario` needs to start.
    fn node(&self, scenario: &Scenario, id: NodeId) -> Self::Node;

    /// Run one incarnation of a node until the harness crashes it (drops the future)
    /// or it fails. Everything it does goes through `transport`, `storage` and `env`.
    fn run_node<T: Transport + 'static, S: Storage + 'static>(
        node: Self::Node,
        transport: T,
        storage: S,
        env: NodeEnv,
    ) -> impl Future<Output = Result<(), NodeError>> + 'static;

    /// The nodes that must decide once the faults heal.
    fn deciders(&self, scenario: &Scenario) -> Vec<NodeId>;

    /// The labels of this protocol's message kinds, which targeted faults name (and
    /// scenario validation checks them against). Default: none, so a scenario may hold
    /// no targeted message faults.
    fn message_kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// When a run in its liveness phase is over before its bound. Default: once every
    /// decider has decided.
    fn settle(&self, scenario: &Scenario) -> Box<dyn Settle> {
        Box::new(AllDecided::new(&self.deciders(scenario)))
    }

    /// The properties [`Protocol::check`] judges, for campaign summaries.
    fn properties(&self) -> Vec<&'static Property> {
        GENERIC_PROPERTIES.to_vec()
    }

    /// Judge one run's history. Default: the generic checkers.
    fn check(&self, history: &History, scenario: &Scenario) -> Verdict {
        check_generic(history, &self.deciders(scenario))
    }
}

/// Reads a run's history as it grows and says when the run may stop early.
pub trait Settle {
    /// Read the events appended since the last call (`events` is the whole history).
    fn observe(&mut self, events: &[Event]);
    /// Whether nothing more is owed: the run may end (in its liveness phase).
    fn settled(&self) -> bool;
    /// The reason the trace's last line gives for a settled run.
    fn reason(&self) -> &'static str;
}

/// The default [`Settle`]: every decider has recorded a decision.
#[derive(Debug, Default)]
pub struct AllDecided {
    waiting: BTreeSet<NodeId>,
    scanned: usize,
}

impl AllDecided {
    pub fn new(deciders: &[NodeId]) -> Self {
        AllDecided {
            waiting: deciders.iter().copied().collect(),
            scanned: 0,
        }
    }
}

impl Settle for AllDecided {
    fn observe(&mut self, events: &[Event]) {
        for e in &events[self.scanned.min(events.len())..] {
            if let (Some(node), Some(_)) = (e.node, e.kind.decided_value()) {
                self.waiting.remove(&node);
            }
        }
        self.scanned = events.len();
    }

    fn settled(&self) -> bool {
        self.waiting.is_empty()
    }

    fn reason(&self) -> &'static str {
        "every decider decided"
    }
}

/// The protocols built into gauntlet, by name: what a scenario's `protocol` field and
/// `--protocol` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Builtin {
    /// Basic Paxos (`crate::paxos`): the reference.
    #[default]
    Paxos,
    /// The naive highest-value vote (`crate::naive`): unsafe under faults, on purpose.
    Naive,
}

impl Builtin {
    pub const ALL: [Builtin; 2] = [Builtin::Paxos, Builtin::Naive];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Paxos => Paxos.name(),
            Builtin::Naive => Naive.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The built-in protocol `scenario` names; the error names the field.
    pub fn of(scenario: &Scenario) -> Result<Builtin, ScenarioError> {
        Builtin::from_name(&scenario.protocol).ok_or_else(|| {
            let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
            ScenarioError {
                field: "protocol".into(),
                reason: format!(
                    "`{}` is not a built-in protocol ({})",
                    scenario.protocol,
                    names.join(", ")
                ),
            }
        })
    }

    /// See [`Protocol::generate`].
    pub fn generate(self, seed: u64) -> Scenario {
        match self {
            Builtin::Paxos => Paxos.generate(seed),
            Builtin::Naive => Naive.generate(seed),
        }
    }

    /// Run `scenario` in the turmoil lane with this protocol.
    pub fn run(self, scenario: &Scenario) -> RunReport {
        match self {
            Builtin::Paxos => run_protocol(&Paxos, scenario),
            Builtin::Naive => run_protocol(&Naive, scenario),
        }
    }

    /// See [`Protocol::check`].
    pub fn check(self, history: &History, scenario: &Scenario) -> Verdict {
        match self {
            Builtin::Paxos => Paxos.check(history, scenario),
            Builtin::Naive => Naive.check(history, scenario),
        }
    }

    /// See [`Protocol::message_kinds`].
    pub fn message_kinds(self) -> &'static [&'static str] {
        match self {
            Builtin::Paxos => Paxos.message_kinds(),
            Builtin::Naive => Naive.message_kinds(),
        }
    }

    /// See [`Protocol::properties`].
    pub fn properties(self) -> Vec<&'static Property> {
        match self {
            Builtin::Paxos => Paxos.properties(),
            Builtin::Naive => Naive.properties(),
        }
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
