//! How nodes reach each other: the [`Transport`] trait, its real tokio UDP
//! implementation, and the wire envelope with its size limits. Faults are not decided
//! here; the fault layer in `crate::fault` tells the node shell what to do with each
//! message.

pub mod auth;
mod udp;
mod wire;

pub use auth::{Keyring, NodeKey, PublicKey, Rejected, KEY_BYTES, TAG_BYTES};
pub use udp::{RejectionHook, UdpCounters, UdpTransport};
pub use wire::{begin, split, DecodeError, Header, DATAGRAM_BYTES_MAX, HEADER_BYTES, WIRE_VERSION};

use crate::ids::NodeId;
use std::io;

/// The UDP port every node listens on.
pub const PORT: u16 = 5000;

/// Moves datagrams between nodes: in the turmoil world, gauntlet's simulated network
/// behind the fault layer's decorator (`crate::fault::FaultyTransport`); in real mode,
/// real tokio UDP sockets with an address book ([`UdpTransport`]).
///
/// Receiving is split in two so the node shell decides the order of everything due at
/// one instant (its client request, then its timers, then its datagrams) whatever
/// woke it: [`Transport::try_recv`] takes a datagram that is due now without waiting,
/// and [`Transport::ready`] waits until one may be.
#[allow(async_fn_in_trait)] // used only with concrete, single-threaded impls
pub trait Transport {
    /// Send one datagram to `to`. Loss is not an error: UDP may drop silently.
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()>;
    /// A datagram due now, into `buf` (its length, truncated to `buf`), or `None`.
    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>>;
    /// Wait until [`Transport::try_recv`] may have a datagram.
    async fn ready(&self) -> io::Result<()>;
    /// The Byzantine mutation the network's fault layer has armed for this node's next
    /// message of `kind` to `to` (`crate::fault::Fault::Mutate`), counted as used; a real
    /// network has none.
    fn mutation(&self, _to: NodeId, _kind: &str) -> Option<u32> {
        None
    }
    /// The Byzantine replay (its `nth`) armed for this node's next message of `kind`
    /// to `to` (`crate::fault::Fault::Replay`), counted as used; a real network has none.
    fn replay(&self, _to: NodeId, _kind: &str) -> Option<u32> {
        None
    }
    /// Whether this node has a replay armed, so must remember its messages.
    fn remembers(&self) -> bool {
        false
    }
}
