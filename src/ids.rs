//! Identifiers shared by every layer: a node's id is what the protocol addresses,
//! what the simulator names a host after, and what the history records.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the cluster. Ids are small positive integers; host names are `n<id>`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct NodeId(pub u16);

impl NodeId {
    /// The turmoil host name (and real-mode label) of this node.
    pub fn host_name(self) -> String {
        format!("n{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}
