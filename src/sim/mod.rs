//! Scenarios and the runner that plays one in a turmoil simulation: seeds and random
//! streams, phases (safety with faults, then liveness), and the run's end.

pub mod fast;
mod layer_faults;
pub mod rng;
mod runner;
mod scenario;
mod settle;
pub mod shrink;

pub use fast::run_fast;
pub use runner::{run, run_protocol, RunEnd, RunReport, TICK_MS};
pub use scenario::{
    scenario_strategy, Cluster, NetworkConfig, NodeSpec, Proposal, Scenario, ScenarioError,
    DEFAULT_PROTOCOL, NODES_MAX, SIM_MS_MAX,
};
pub use settle::SettleTracker;
