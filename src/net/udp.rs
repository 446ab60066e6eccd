//! [`Transport`] over real tokio UDP sockets, for real mode. Peers are found through an
//! address book built from `cluster.toml`. Every datagram is sealed with the sender's
//! key and opened with the claimed sender's ([`Keyring`], `super::auth`): what does not
//! check is dropped here, counted, and reported through the rejection hook (the runner
//! records and logs it, rate-limited, naming the source address). The node shell
//! decodes and judges the rest; this layer only moves bytes, checks who sent them, and
//! keeps the socket's transient errors (an ICMP "port unreachable" from a peer that is
//! down) from ever reaching the shell as a failure.

use super::auth::{Keyring, Rejected, TAG_BYTES};
use super::{Transport, DATAGRAM_BYTES_MAX};
use crate::ids::NodeId;
use crate::protocol::MESSAGE_BYTES_LIMIT;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use tokio::net::UdpSocket;

/// The largest datagram UDP can carry; receiving into a buffer this big tells an
/// oversized datagram's true size.
const UDP_PAYLOAD_BYTES_MAX: usize = 65_536;

/// Datagrams one [`Transport::try_recv`] call may reject before it returns, so a flood
/// of forgeries cannot keep the node from its timers.
const REJECTED_PER_CALL_MAX: usize = 64;

/// What the transport refused or swallowed, for the node's stop summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpCounters {
    /// Datagrams received over [`MESSAGE_BYTES_LIMIT`] plus the tag: dropped. (One
    /// over the protocol's own limit is handed on cut to the shell's buffer, which is
    /// the limit plus one byte, and the shell drops it as malformed.)
    pub oversized_received: u64,
    /// Datagrams dropped because they did not authenticate: too short for a tag, from a
    /// sender the cluster lacks, or a tag that does not check under the claimed
    /// sender's key (a forgery, a relabelled or redirected datagram, a damaged one).
    pub unauthenticated: u64,
    /// Sends refused because the datagram was over the limit.
    pub oversized_unsent: u64,
    /// Sends to a node the address book does not know.
    pub unknown_peer: u64,
    /// Transient receive errors swallowed (connection refused or reset, interrupted).
    pub transient_errors: u64,
}

/// Told of each datagram the transport dropped: its size on the wire and why, the
/// source address included.
pub type RejectionHook = Box<dyn Fn(usize, String)>;

pub struct UdpTransport {
    socket: UdpSocket,
    peers: BTreeMap<NodeId, SocketAddr>,
    keyring: Keyring,
    /// Receive scratch space, big enough for any UDP datagram.
    scratch: RefCell<Box<[u8]>>,
    /// Send scratch space: the datagram and its tag.
    sealed: RefCell<Vec<u8>>,
    /// Shared so the runner can read it after the shell took the transport.
    counters: Rc<Cell<UdpCounters>>,
    on_rejected: Option<RejectionHook>,
}

impl UdpTransport {
    /// Wrap a bound socket; `peers` maps every node id to its address, `keyring` holds
    /// every node's key and says which node this is.
    pub fn new(socket: UdpSocket, peers: BTreeMap<NodeId, SocketAddr>, keyring: Keyring) -> Self {
        UdpTransport {
            socket,
            peers,
            keyring,
            scratch: RefCell::new(vec![0u8; UDP_PAYLOAD_BYTES_MAX].into_boxed_slice()),
            sealed: RefCell::new(Vec::with_capacity(DATAGRAM_BYTES_MAX + TAG_BYTES)),
            counters: Rc::default(),
            on_rejected: None,
        }
    }

    /// Bind `addr` and wrap the socket.
    pub async fn bind(
        addr: SocketAddr,
        peers: BTreeMap<NodeId, SocketAddr>,
        keyring: Keyring,
    ) -> io::Result<Self> {
        Ok(Self::new(UdpSocket::bind(addr).await?, peers, keyring))
    }

    /// Call `hook` for every datagram dropped as unauthenticated or oversized.
    pub fn on_rejected(mut self, hook: RejectionHook) -> Self {
        self.on_rejected = Some(hook);
        self
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

    /// Count a dropped datagram and tell the hook, naming where it came from.
    fn reject(&self, len: usize, source: SocketAddr, why: &Rejected) {
        self.count(|c| match why {
            Rejected::Oversized(..) => {
                c.oversized_received = c.oversized_received.saturating_add(1)
            }
            _ => c.unauthenticated = c.unauthenticated.saturating_add(1),
        });
        if let Some(hook) = &self.on_rejected {
            hook(len, format!("from {source}: {why}; dropped"));
        }
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

impl UdpTransport {
    /// Authenticate `wire`, refusing first a datagram longer than the protocol's
    /// messages (`buf_len` less one byte) and its tag.
    fn open_within<'a>(&self, wire: &'a [u8], buf_len: usize) -> Result<&'a [u8], Rejected> {
        let limit = buf_len.saturating_sub(1).saturating_add(TAG_BYTES);
        if wire.len() > limit {
            return Err(Rejected::Oversized(wire.len(), limit));
        }
        self.keyring.open(wire)
    }
}

impl Transport for UdpTransport {
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()> {
        if datagram.len() > MESSAGE_BYTES_LIMIT {
            self.count(|c| c.oversized_unsent = c.oversized_unsent.saturating_add(1));
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "datagram of {} bytes over the {MESSAGE_BYTES_LIMIT}-byte limit",
                    datagram.len()
                ),
            ));
        }
        let Some(addr) = self.peers.get(&to) else {
            self.count(|c| c.unknown_peer = c.unknown_peer.saturating_add(1));
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{to} is not in the address book"),
            ));
        };
        // Sealed into scratch space taken out of the cell, so no borrow spans the await.
        let mut wire = std::mem::take(&mut *self.sealed.borrow_mut());
        wire.clear();
        wire.extend_from_slice(datagram);
        self.keyring.seal(to, &mut wire);
        let sent = self.socket.send_to(&wire, addr).await;
        *self.sealed.borrow_mut() = wire;
        sent.map(|_| ())
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // Borrowed only inside this call: the node loop is the one caller.
        let mut whole = self.scratch.borrow_mut();
        for _ in 0..REJECTED_PER_CALL_MAX {
            match self.socket.try_recv_from(&mut whole) {
                // The protocol's own limit is the shell's buffer less one byte.
                Ok((len, from)) => match self.open_within(&whole[..len], buf.len()) {
                    Ok(datagram) => {
                        let kept = datagram.len().min(buf.len());
                        buf[..kept].copy_from_slice(&datagram[..kept]);
                        return Ok(Some(kept));
                    }
                    Err(why) => self.reject(len, from, &why),
                },
                Err(e) if is_transient(&e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        self.count(|c| c.transient_errors = c.transient_errors.saturating_add(1));
                    }
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    async fn ready(&self) -> io::Result<()> {
        self.socket.readable().await
    }
}
