//! gauntlet: a deterministic fault-injection test harness for consensus protocols.
//!
//! Real async nodes run inside a seeded turmoil simulation; a typed fault schedule
//! partitions, delays, drops, duplicates and crashes; the recorded history is judged by
//! named safety, liveness and coverage properties. See ARCHITECTURE.md for the map.

pub mod check;
pub mod explore;
pub mod fault;
pub mod fuzz;
pub mod history;
pub mod ids;
pub mod naive;
pub mod net;
pub mod node;
pub mod paxos;
pub mod protocol;
pub mod real;
pub mod sim;
pub mod storage;
