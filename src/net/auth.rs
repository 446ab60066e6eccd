//! Authenticated datagrams for real mode: every datagram a real node sends carries an
//! ed25519 signature under the sending node's secret key, and a receiver accepts a
//! datagram only if the signature verifies under the public key of the node the header
//! claims sent it. A node holds its own secret key and every node's public key, never
//! another node's secret: so neither a process without the cluster's keys nor a node
//! of the cluster (a Byzantine one included) can speak for another node, and a node's
//! datagram cannot be relabelled as another node's, or redirected to another receiver
//! (the receiver's id is in the signed bytes).
//!
//! The simulation lanes do not sign: their network is gauntlet's own, and every sender
//! on it is a node the scenario built. Only [`super::UdpTransport`] seals and opens.
//!
//! On the wire: `datagram | signature`, the signature over `receiver u16 | datagram`,
//! big-endian, [`TAG_BYTES`] long. Keys are [`KEY_BYTES`] bytes, written as hex:
//! `gauntlet init-cluster` draws each secret key from the operating system's
//! randomness and writes it to that node's own key file, and every public key into
//! `cluster.toml` (`crate::real::config`).

use super::{split, HEADER_BYTES};
use crate::ids::NodeId;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::collections::BTreeMap;
use std::fmt;

/// Bytes of a key, secret or public.
pub const KEY_BYTES: usize = 32;
/// Bytes of the signature appended to each datagram.
pub const TAG_BYTES: usize = ed25519_dalek::SIGNATURE_LENGTH;

/// `KEY_BYTES` bytes from hex, or why not.
fn bytes_from_hex(text: &str) -> Result<[u8; KEY_BYTES], String> {
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
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One node's secret (signing) key. `Debug` never prints it.
#[derive(Clone)]
pub struct NodeKey(SigningKey);

impl PartialEq for NodeKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bytes() == other.0.to_bytes()
    }
}

impl Eq for NodeKey {}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeKey(..)")
    }
}

impl NodeKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        NodeKey(SigningKey::from_bytes(&bytes))
    }

    /// A fresh key from the operating system's randomness: real mode only (the
    /// simulation draws nothing outside its seeded streams).
    #[allow(clippy::disallowed_methods)]
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        Ok(Self::from_bytes(bytes))
    }

    /// Read a secret key written as [`KEY_BYTES`] bytes of hex.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        bytes_from_hex(text).map(Self::from_bytes)
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0.to_bytes())
    }

    /// The public key that checks this key's signatures.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

/// One node's public (verifying) key: what every other node holds of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl PublicKey {
    /// Read a public key written as [`KEY_BYTES`] bytes of hex; bytes that are not a
    /// point of the curve are refused.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = bytes_from_hex(text)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| "not an ed25519 public key".to_string())
    }

    pub fn to_hex(&self) -> String {
        hex(self.0.as_bytes())
    }
}

/// Why a received datagram was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Too short to hold a header and a signature.
    Short(usize),
    /// Longer than any datagram the protocol sends: its length, and the limit with
    /// the signature.
    Oversized(usize, usize),
    /// The header names a node the cluster does not have.
    UnknownSender(NodeId),
    /// The signature does not verify under the claimed sender's public key.
    BadSignature(NodeId),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Short(len) => write!(
                f,
                "{len} bytes is shorter than a header and a {TAG_BYTES}-byte signature"
            ),
            Rejected::Oversized(len, limit) => write!(
                f,
                "datagram of {len} bytes exceeds the {limit}-byte limit (with its signature)"
            ),
            Rejected::UnknownSender(from) => write!(f, "claims to be {from}, no node here"),
            Rejected::BadSignature(from) => write!(
                f,
                "claims to be {from}, but its signature does not verify under {from}'s public key"
            ),
        }
    }
}

/// The keys one node holds: its own secret key, to sign what it sends, and every
/// node's public key, to check what they send.
#[derive(Debug, Clone)]
pub struct Keyring {
    me: NodeId,
    secret: NodeKey,
    publics: BTreeMap<NodeId, PublicKey>,
}

impl Keyring {
    /// `me` signs with `secret`; `publics` are the cluster's public keys.
    pub fn new(me: NodeId, secret: NodeKey, publics: BTreeMap<NodeId, PublicKey>) -> Self {
        Keyring {
            me,
            secret,
            publics,
        }
    }

    /// The signed bytes: the receiver, then the datagram.
    fn signed(to: NodeId, datagram: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(2 + datagram.len());
        bytes.extend_from_slice(&to.0.to_be_bytes());
        bytes.extend_from_slice(datagram);
        bytes
    }

    /// Append the signature of `datagram` (from this node) for receiver `to`.
    pub fn seal(&self, to: NodeId, datagram: &mut Vec<u8>) {
        let signature = self.secret.0.sign(&Self::signed(to, datagram));
        datagram.extend_from_slice(&signature.to_bytes());
    }

    /// Check a datagram addressed to this node: its length, the sender its header
    /// claims, and the signature under that sender's public key (strict verification:
    /// no malleable signatures). On success, the datagram without its signature.
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
        let key = self
            .publics
            .get(&from)
            .ok_or(Rejected::UnknownSender(from))?;
        let signature = Signature::from_slice(tag).map_err(|_| Rejected::BadSignature(from))?;
        key.0
            .verify_strict(&Self::signed(self.me, datagram), &signature)
            .map_err(|_| Rejected::BadSignature(from))?;
        Ok(datagram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{begin, Header};

    fn secret(id: u16) -> NodeKey {
        NodeKey::from_bytes([id as u8; KEY_BYTES])
    }

    fn ring(me: u16) -> Keyring {
        let publics = (1..=3).map(|i| (NodeId(i), secret(i).public())).collect();
        Keyring::new(NodeId(me), secret(me), publics)
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
    /// sender the cluster lacks, and short or oversized datagrams are all rejected. A
    /// node of the cluster cannot sign for another: n3, which holds every public key
    /// and its own secret, seals a datagram claiming to be n1's, and n2 refuses it.
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
        assert_eq!(n2.open(&relabelled), Err(Rejected::BadSignature(NodeId(3))));
        assert_eq!(n3.open(&wire), Err(Rejected::BadSignature(NodeId(1))));
        let mut stranger = datagram(7);
        n1.seal(NodeId(2), &mut stranger);
        assert_eq!(n2.open(&stranger), Err(Rejected::UnknownSender(NodeId(7))));
        assert_eq!(n2.open(&wire[..20]), Err(Rejected::Short(20)));
        let huge = vec![1u8; crate::protocol::MESSAGE_BYTES_LIMIT + TAG_BYTES + 1];
        assert!(matches!(n2.open(&huge), Err(Rejected::Oversized(..))));
        let mut posing = datagram(1);
        n3.seal(NodeId(2), &mut posing);
        assert_eq!(n2.open(&posing), Err(Rejected::BadSignature(NodeId(1))));
    }

    /// Secret and public keys round-trip through hex; wrong lengths and non-hex digits
    /// are refused; a secret key's `Debug` hides it.
    #[test]
    fn keys_read_back_from_hex() {
        let key = NodeKey::generate().unwrap();
        assert_eq!(NodeKey::from_hex(&key.to_hex()), Ok(key.clone()));
        let public = key.public();
        assert_eq!(PublicKey::from_hex(&public.to_hex()), Ok(public));
        assert!(PublicKey::from_hex("abcd").is_err());

        assert_ne!(key, NodeKey::generate().unwrap(), "two draws differ");
        assert!(NodeKey::from_hex("abcd").is_err());
        assert!(NodeKey::from_hex(&"zz".repeat(KEY_BYTES)).is_err());
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
    }
}
