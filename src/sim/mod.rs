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
mod turmoil_world;
mod twin;
mod wires;

pub use director::{
    RunEnd, RunReport, HISTORY_DETAIL_EVENTS_PER_NODE, HISTORY_EVENTS_PER_NODE_MAX,
};
pub use fast::run_fast;
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
/// counterexample, [`crate::fault::Fault::Script`]) is played step by step by the fast
/// lane; turmoil's scheduler cannot follow a script, so there it is a harness error.
pub fn run_setup<P: Protocol>(protocol: &P, setup: &RunSetup<P>, lane: Lane) -> RunReport<P::Core> {
    if setup.scenario.faults.script().is_some() {
        return match lane {
            Lane::Fast => crate::model::replay(protocol, setup),
            Lane::Turmoil => scripted_in_turmoil(),
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

/// The report of a scripted scenario asked of the turmoil lane.
fn scripted_in_turmoil<C: crate::protocol::Core>() -> RunReport<C> {
    let reason = "a scripted scenario (a check-model counterexample) replays in the fast \
                  lane only: add --lane fast"
        .to_string();
    let mut history = crate::history::History::default();
    history.push(
        0,
        None,
        crate::history::EventKind::RunEnded {
            reason: format!("harness error: {reason}"),
        },
    );
    RunReport {
        history,
        end: RunEnd::HarnessError(reason),
        sim_ms: 0,
    }
}
