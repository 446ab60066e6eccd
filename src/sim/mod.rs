//! The worlds a scenario runs in, and the one phase driver over them: the fast event
//! calendar ([`run_fast`]) and turmoil ([`run_turmoil`]), both generic over any protocol,
//! both driven by the same director (safety with faults, then liveness).

mod adversary;
mod calendar;
mod director;
pub mod fast;
mod layer_faults;
pub mod shrink;
mod turmoil_net;
mod turmoil_script;
mod turmoil_world;
mod twin;
mod wires;

pub use director::{
    RunEnd, RunReport, HISTORY_DETAIL_EVENTS_PER_NODE, HISTORY_EVENTS_PER_NODE_MAX,
};
pub use fast::run_fast;
pub use turmoil_script::run_turmoil_scripted;
pub use turmoil_world::{run_turmoil, TICK_MS};
pub use twin::TWIN_INCARNATION;

use crate::protocol::{prepare, Protocol, RunSetup};
use crate::scenario::{Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

/// Which world runs a scenario (docs/architecture.md, "Two lanes, one semantics").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// The real async nodes on turmoil: the reference.
    #[default]
    Turmoil,
    /// The discrete-event loop over the same cores, much faster.
    Fast,
}

/// Run a prepared scenario in `lane`. A scripted scenario (a model-checking
/// counterexample, [`crate::fault::Fault::Script`]) is played step by step: by the
/// model's executor in the fast lane, by the real node shells on turmoil in the
/// turmoil lane ([`run_turmoil_scripted`]), with the same trace.
pub fn run_setup<P: Protocol>(protocol: &P, setup: &RunSetup<P>, lane: Lane) -> RunReport<P::Core> {
    if setup.scenario.faults.script().is_some() {
        return match lane {
            Lane::Fast => crate::model::replay(protocol, setup),
            Lane::Turmoil => run_turmoil_scripted(protocol, setup),
        };
    }
    match lane {
        Lane::Turmoil => run_turmoil(protocol, setup),
        Lane::Fast => run_fast(protocol, setup),
    }
}

/// Check `scenario` for `protocol` and run it in `lane`.
pub fn run<P: Protocol>(
    protocol: &P,
    scenario: &Scenario,
    lane: Lane,
) -> Result<RunReport<P::Core>, ScenarioError> {
    let setup = prepare(protocol, scenario)?;
    Ok(run_setup(protocol, &setup, lane))
}
