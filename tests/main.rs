//! gauntlet's integration tests: one binary, one submodule per area.
//!
//! Simulation tests honour `GAUNTLET_SEED=S` (re-run with that seed) and print the
//! command that replays any failure.

mod bad_input;
mod bugs;
mod campaigns;
mod checkers_fire;
mod cli;
mod corpus;
mod determinism;
mod diagram;
mod fast_lane;
mod fuzz_inputs;
mod generals;
mod guided;
mod lab;
mod log_core;
mod model;
mod naive;
mod pbft;
mod pow;
mod properties;
mod real_mode;
mod scripts;
mod session;
mod shrink;
mod storage;
mod support;
