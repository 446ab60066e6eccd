//! The built-in protocols, one folder each. Each imports only the contract
//! (`crate::protocol`) and the leaves (ids, values, scenarios, history, rng), never the
//! harness and never another protocol.

pub mod generals;
pub mod naive;
pub mod paxos;
pub mod pbft;
pub mod pow;
