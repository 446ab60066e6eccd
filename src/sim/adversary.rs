//! The cores a node runs under [`Fault::Strategy`], the same in both worlds: its
//! honest core and, for each adversary the schedule names for it, the protocol's
//! strategy core (`Protocol::strategy_core`), all built once before the run. A world
//! keeps one template core per node, which each incarnation clones; the director swaps
//! the template (honest or adversary) and restarts the node.

use crate::fault::Fault;
use crate::ids::NodeId;
use crate::protocol::{Protocol, RunSetup};
use std::collections::BTreeMap;

/// The honest and adversary cores of the nodes a [`Fault::Strategy`] names.
pub(crate) struct Cores<C> {
    honest: BTreeMap<NodeId, C>,
    adversaries: BTreeMap<(NodeId, String), C>,
}

impl<C: Clone> Cores<C> {
    /// Build them for `setup`'s schedule. `prepare` refused names the protocol does
    /// not supply, so every strategy builds; one that does not anyway (a protocol whose
    /// `strategy_core` disagrees with its `strategies`) is a broken protocol.
    pub(crate) fn build<P: Protocol<Core = C>>(protocol: &P, setup: &RunSetup<P>) -> Self {
        let mut cores = Cores {
            honest: BTreeMap::new(),
            adversaries: BTreeMap::new(),
        };
        for e in &setup.scenario.faults.events {
            if let Fault::Strategy { node, strategy, .. } = &e.fault {
                cores
                    .honest
                    .entry(*node)
                    .or_insert_with(|| protocol.core(setup, *node));
                cores
                    .adversaries
                    .entry((*node, strategy.clone()))
                    .or_insert_with(|| {
                        protocol
                            .strategy_core(setup, *node, strategy)
                            .unwrap_or_else(|| {
                                panic!(
                                    "{} lists the strategy {strategy} but builds no core for it",
                                    protocol.name()
                                )
                            })
                    });
            }
        }
        cores
    }

    /// The template `node` starts from while `strategy` holds it (`None`: honest).
    pub(crate) fn core(&self, node: NodeId, strategy: Option<&str>) -> Option<C> {
        match strategy {
            None => self.honest.get(&node).cloned(),
            Some(name) => self.adversaries.get(&(node, name.to_string())).cloned(),
        }
    }
}
