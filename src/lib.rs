//! gauntlet: a deterministic fault-injection test harness for consensus protocols.
//!
//! Protocols are sans-IO cores ([`protocol::Core`]) driven by one async node shell in
//! a seeded world (a fast event heap, or turmoil); a typed fault schedule partitions,
//! delays, drops, duplicates and crashes; the recorded history is judged by named
//! safety, liveness and coverage properties. See `docs/architecture.md` for the map.
//!
//! Floors (each imports only the ones below it):
//! - leaves: [`ids`], [`value`], [`rng`], [`scenario`], [`history`], [`storage`], [`net`];
//! - the contract: [`protocol`];
//! - the harness: [`fault`], [`node`], [`sim`], [`check`], [`explore`], [`real`],
//!   [`diagram`];
//! - the protocols: [`protocols`];
//! - the roof: [`registry`], [`experiment`], [`cli`].

pub mod check;
pub mod cli;
pub mod diagram;
pub mod experiment;
pub mod explore;
pub mod fault;
pub mod fuzz;
pub mod history;
pub mod ids;
pub mod model;
pub mod net;
pub mod node;
pub mod protocol;
pub mod protocols;
pub mod real;
pub mod registry;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod storage;
pub mod value;
