//! The decision shapes and their generic judges. A protocol maps its own trace events
//! to [`super::Observation`]s ([`super::Core::observe`]); these judges read that view
//! and say what every protocol of the shape promises its users, whatever its messages.
//!
//! - [`value`]: one value decided (Paxos, the naive vote).
//! - `log`: a decision per slot (PBFT, Raft-like logs).
//! - `chain`: each node's tip and finalized prefix (proof of work, proof of stake).
//!
//! Judges read honest nodes only: a node a fault made Byzantine is left out.

pub mod value;
