//! Authenticated datagrams for real mode: every datagram a real node sends carries an
//! HMAC-SHA256 tag under the sending node's key, and a receiver accepts a datagram only
//! if the tag checks under the key of the node the header claims sent it. So a process
//! without the cluster's keys cannot speak for any node, and a node's datagram cannot
//! be relabelled as another node's, or redirected to another receiver (the receiver's
//! id is in the tagged bytes).
//!
//! The simulation lanes do not tag: their network is gauntlet's own, and every sender
//! on it is a node the scenario built. Only [`super::UdpTransport`] seals and opens.
//!
//! On the wire: `datagram | tag`, the tag over `receiver u16 | datagram`, big-endian,
//! [`TAG_BYTES`] long. Keys are [`KEY_BYTES`] random bytes, written as hex in
//! `cluster.toml` by `gauntlet init-cluster` from the operating system's randomness.

use super::{split, HEADER_BYTES};
use crate::ids::NodeId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// Bytes of a node key.
pub const KEY_BYTES: usize = 32;
/// Bytes of the tag appended to each datagram.
pub const TAG_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// One node's secret key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeKey([u8; KEY_BYTES]);

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeKey(..)")
    }
}

impl NodeKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        NodeKey(bytes)
    }

    /// A fresh key from the operating system's randomness: real mode only (the
    /// simulation draws nothing outside its seeded streams).
    #[allow(clippy::disallowed_methods)]
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        Ok(NodeKey(bytes))
    }

    /// Read a key written as [`KEY_BYTES`] bytes of hex.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let digits = text.as_bytes();
        if digits.len() != KEY_BYTES * 2 {
            return Err(format!(
                "{} characters; a key is {} hex digits",
                digits.len(),
                KEY_BYTES * 2
            ));
        }
        let mut bytes = [0u8; KEY_BYTES];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let hex = std::str::from_utf8(pair)
                .ok()
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            bytes[i] = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("the digits at {} are not hex", i * 2))?;
        }
        Ok(NodeKey(bytes))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, to: NodeId, datagram: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(&to.0.to_be_bytes());
        mac.update(datagram);
        mac
    }
}

/// Why a received datagram was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Too short to hold a header and a tag.
    Short(usize),
    /// Longer than any datagram the protocol sends: its length, and the limit with
    /// the tag.
    Oversized(usize, usize),
    /// The header names a node the cluster does not have.
    UnknownSender(NodeId),
    /// The tag does not check under the claimed sender's key.
    BadTag(NodeId),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Short(len) => write!(
                f,
                "{len} bytes is shorter than a header and a {TAG_BYTES}-byte tag"
            ),
            Rejected::Oversized(len, limit) => write!(
                f,
                "datagram of {len} bytes exceeds the {limit}-byte limit (with its tag)"
            ),
            Rejected::UnknownSender(from) => write!(f, "claims to be {from}, no node here"),
            Rejected::BadTag(from) => write!(f, "claims to be {from}, but its tag does not check"),
        }
    }
}

/// The keys one node holds: every node's, to check what they send, and its own, to
/// tag what it sends.
#[derive(Debug, Clone)]
pub struct Keyring {
    me: NodeId,
    keys: BTreeMap<NodeId, NodeKey>,
}

impl Keyring {
    /// `keys` must hold `me`'s key.
    pub fn new(me: NodeId, keys: BTreeMap<NodeId, NodeKey>) -> Self {
        assert!(keys.contains_key(&me), "{me} has no key of its own");
        Keyring { me, keys }
    }

    /// Append the tag of `datagram` (from this node) for receiver `to`.
    pub fn seal(&self, to: NodeId, datagram: &mut Vec<u8>) {
        let tag = self.keys[&self.me]
            .mac(to, datagram)
            .finalize()
            .into_bytes();
        datagram.extend_from_slice(&tag);
    }

    /// Check a datagram addressed to this node: its length, the sender its header
    /// claims, and the tag under that sender's key (in constant time). On success,
    /// the datagram without its tag.
    pub fn open<'a>(&self, wire: &'a [u8]) -> Result<&'a [u8], Rejected> {
        if wire.len() < HEADER_BYTES + TAG_BYTES {
            return Err(Rejected::Short(wire.len()));
        }
        if wire.len() > crate::protocol::MESSAGE_BYTES_LIMIT + TAG_BYTES {
            return Err(Rejected::Oversized(
                wire.len(),
                crate::protocol::MESSAGE_BYTES_LIMIT + TAG_BYTES,
            ));
        }
        let (datagram, tag) = wire.split_at(wire.len() - TAG_BYTES);
        // The header's layout is checked again by the shell; here only its sender.
        let from = match split(datagram, crate::protocol::MESSAGE_BYTES_LIMIT) {
            Ok((header, _)) => header.from,
            Err(_) => NodeId(u16::from_be_bytes([datagram[1], datagram[2]])),
        };
        let key = self.keys.get(&from).ok_or(Rejected::UnknownSender(from))?;
        key.mac(self.me, datagram)
            .verify_slice(tag)
            .map_err(|_| Rejected::BadTag(from))?;
        Ok(datagram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{begin, Header};

    fn ring(me: u16) -> Keyring {
        let keys = (1..=3)
            .map(|i| (NodeId(i), NodeKey::from_bytes([i as u8; KEY_BYTES])))
            .collect();
        Keyring::new(NodeId(me), keys)
    }

    fn datagram(from: u16) -> Vec<u8> {
        let mut out = Vec::new();
        begin(
            &mut out,
            Header {
                from: NodeId(from),
                msg_id: 9,
            },
        );
        out.extend_from_slice(b"payload");
        out
    }

    /// A sealed datagram opens at its receiver; a flipped bit anywhere, a sender id
    /// relabelled to another node, a datagram redirected to another receiver, a
    /// sender the cluster lacks, and short or oversized datagrams are all rejected.
    #[test]
    fn only_the_claimed_sender_can_seal_for_this_receiver() {
        let (n1, n2, n3) = (ring(1), ring(2), ring(3));
        let plain = datagram(1);
        let mut wire = plain.clone();
        n1.seal(NodeId(2), &mut wire);
        assert_eq!(n2.open(&wire), Ok(&plain[..]));
        for i in 0..wire.len() {
            let mut bent = wire.clone();
            bent[i] ^= 0x10;
            assert!(n2.open(&bent).is_err(), "bit flip at {i} accepted");
        }
        let mut relabelled = wire.clone();
        relabelled[2] = 3;
        assert_eq!(n2.open(&relabelled), Err(Rejected::BadTag(NodeId(3))));
        assert_eq!(n3.open(&wire), Err(Rejected::BadTag(NodeId(1))));
        let mut stranger = datagram(7);
        n1.seal(NodeId(2), &mut stranger);
        assert_eq!(n2.open(&stranger), Err(Rejected::UnknownSender(NodeId(7))));
        assert_eq!(n2.open(&wire[..20]), Err(Rejected::Short(20)));
        let huge = vec![1u8; crate::protocol::MESSAGE_BYTES_LIMIT + TAG_BYTES + 1];
        assert!(matches!(n2.open(&huge), Err(Rejected::Oversized(..))));
    }

    /// Keys round-trip through hex; wrong lengths and non-hex digits are refused.
    #[test]
    fn keys_read_back_from_hex() {
        let key = NodeKey::generate().unwrap();
        assert_eq!(NodeKey::from_hex(&key.to_hex()), Ok(key.clone()));
        assert_ne!(key, NodeKey::generate().unwrap(), "two draws differ");
        assert!(NodeKey::from_hex("abcd").is_err());
        assert!(NodeKey::from_hex(&"zz".repeat(KEY_BYTES)).is_err());
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
    }
}
