//! [`Transport`] over turmoil's simulated UDP. Host names are `n<id>`.

use super::{Transport, PORT};
use crate::ids::NodeId;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use turmoil::net::UdpSocket;

pub struct TurmoilUdp {
    socket: UdpSocket,
}

impl TurmoilUdp {
    /// Bind the node's well-known port on the current simulated host.
    pub async fn bind() -> io::Result<Self> {
        let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT))).await?;
        Ok(TurmoilUdp { socket })
    }
}

impl Transport for TurmoilUdp {
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()> {
        let host = to.host_name();
        self.socket.send_to(datagram, (host.as_str(), PORT)).await?;
        Ok(())
    }

    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let (len, _from) = self.socket.recv_from(buf).await?;
        Ok(len)
    }
}
