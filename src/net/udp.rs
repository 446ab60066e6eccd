//! [`Transport`] over real tokio UDP sockets, for real mode. Peers are found through an
//! address book built from `cluster.toml`. The node shell decodes and judges every
//! datagram; this layer only moves bytes, counts what it had to refuse, and keeps the
//! socket's transient errors (an ICMP "port unreachable" from a peer that is down) from
//! ever reaching the shell as a failure.

use super::Transport;
use crate::ids::NodeId;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use tokio::net::UdpSocket;

/// The largest datagram UDP can carry; receiving into a buffer this big tells an
/// oversized datagram's true size.
const UDP_PAYLOAD_BYTES_MAX: usize = 65_536;

/// What the transport refused or swallowed, for the node's stop summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpCounters {
    /// Datagrams received over the protocol's message limit (the shell's receive
    /// buffer is the limit plus one byte). They are handed on cut to the buffer, so the
    /// shell records them as malformed and drops them; the true size is logged here.
    pub oversized_received: u64,
    /// Sends refused because the datagram was over what UDP carries.
    pub oversized_unsent: u64,
    /// Sends to a node the address book does not know.
    pub unknown_peer: u64,
    /// Transient receive errors swallowed (connection refused or reset, interrupted).
    pub transient_errors: u64,
}

pub struct UdpTransport {
    socket: UdpSocket,
    peers: BTreeMap<NodeId, SocketAddr>,
    /// Receive scratch space, big enough for any UDP datagram.
    scratch: RefCell<Box<[u8]>>,
    /// Shared so the runner can read it after the shell took the transport.
    counters: Rc<Cell<UdpCounters>>,
}

impl UdpTransport {
    /// Wrap a bound socket; `peers` maps every node id to its address.
    pub fn new(socket: UdpSocket, peers: BTreeMap<NodeId, SocketAddr>) -> Self {
        UdpTransport {
            socket,
            peers,
            scratch: RefCell::new(vec![0u8; UDP_PAYLOAD_BYTES_MAX].into_boxed_slice()),
            counters: Rc::default(),
        }
    }

    /// Bind `addr` and wrap the socket.
    pub async fn bind(addr: SocketAddr, peers: BTreeMap<NodeId, SocketAddr>) -> io::Result<Self> {
        Ok(Self::new(UdpSocket::bind(addr).await?, peers))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// A handle on the counters that outlives moving the transport into the shell.
    pub fn counters_handle(&self) -> Rc<Cell<UdpCounters>> {
        Rc::clone(&self.counters)
    }

    fn count(&self, f: impl FnOnce(&mut UdpCounters)) {
        let mut c = self.counters.get();
        f(&mut c);
        self.counters.set(c);
    }
}

/// Errors a UDP socket reports about an earlier datagram (or a peer that went away),
/// which say nothing about this socket's health.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

impl Transport for UdpTransport {
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()> {
        if datagram.len() > crate::protocol::MESSAGE_BYTES_LIMIT {
            self.count(|c| c.oversized_unsent += 1);
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "datagram of {} bytes over the {}-byte limit",
                    datagram.len(),
                    crate::protocol::MESSAGE_BYTES_LIMIT
                ),
            ));
        }
        let Some(addr) = self.peers.get(&to) else {
            self.count(|c| c.unknown_peer += 1);
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{to} is not in the address book"),
            ));
        };
        self.socket.send_to(datagram, addr).await?;
        Ok(())
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // Borrowed only inside this call: the node loop is the one caller.
        let mut whole = self.scratch.borrow_mut();
        match self.socket.try_recv_from(&mut whole) {
            Ok((len, from)) => {
                let limit = buf.len().saturating_sub(1);
                if len > limit {
                    self.count(|c| c.oversized_received += 1);
                    tracing::warn!(
                        "oversized datagram of {len} bytes from {from} (limit {limit}): dropped"
                    );
                }
                let kept = len.min(buf.len());
                buf[..kept].copy_from_slice(&whole[..kept]);
                Ok(Some(kept))
            }
            Err(e) if is_transient(&e) => {
                if e.kind() != io::ErrorKind::WouldBlock {
                    self.count(|c| c.transient_errors += 1);
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn ready(&self) -> io::Result<()> {
        self.socket.readable().await
    }
}
