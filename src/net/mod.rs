//! How nodes reach each other: the [`Transport`] trait, its turmoil UDP and real tokio
//! UDP implementations, and the wire codec with its size limits. Faults are not decided
//! here; the fault layer in `crate::fault` tells the node shell what to do with each
//! message.

mod turmoil_udp;
mod udp;
mod wire;

pub use turmoil_udp::TurmoilUdp;
pub use udp::{UdpCounters, UdpTransport};
pub use wire::{begin, split, DecodeError, Header, DATAGRAM_BYTES_MAX, HEADER_BYTES, WIRE_VERSION};

use crate::ids::NodeId;
use std::io;

/// The UDP port every node listens on.
pub const PORT: u16 = 5000;

/// Moves datagrams between nodes. Implementations: turmoil's simulated UDP here; real
/// tokio sockets are the same trait with an address book.
#[allow(async_fn_in_trait)] // used only with concrete, single-threaded impls
pub trait Transport {
    /// Send one datagram to `to`. Loss is not an error: UDP may drop silently.
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()>;
    /// Receive one datagram into `buf`; returns its length (truncated to `buf`).
    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
}
