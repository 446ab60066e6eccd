//! The wire envelope every protocol's datagrams share: `version u8 | from u16 |
//! msg_id u64 | payload`, big-endian, at most the protocol's `Core::MESSAGE_BYTES_MAX`
//! bytes (by default [`DATAGRAM_BYTES_MAX`]). The payload
//! is the protocol's message as its core encodes it (`Core::encode_msg`; JSON by
//! default). Decoding never panics: a datagram that does not decode is counted and
//! dropped by the receiver.

use crate::ids::NodeId;
use thiserror::Error;

pub const WIRE_VERSION: u8 = 1;
/// The largest datagram of a protocol that does not say otherwise
/// (`Core::MESSAGE_BYTES_MAX`).
pub const DATAGRAM_BYTES_MAX: usize = 1024;
/// Bytes before the payload.
pub const HEADER_BYTES: usize = 11;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("datagram of {bytes} bytes exceeds the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("datagram of {0} bytes is shorter than the {HEADER_BYTES}-byte header")]
    Truncated(usize),
    #[error("wire version {0} is not {WIRE_VERSION}")]
    WrongVersion(u8),
    #[error("payload: {0}")]
    Payload(String),
}

/// The header of a datagram, and where its payload starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub from: NodeId,
    pub msg_id: u64,
}

/// Start a datagram in `out` (cleared): the header; the caller appends the payload.
pub fn begin(out: &mut Vec<u8>, header: Header) {
    out.clear();
    out.push(WIRE_VERSION);
    out.extend_from_slice(&header.from.0.to_be_bytes());
    out.extend_from_slice(&header.msg_id.to_be_bytes());
}

/// Split a datagram of at most `limit` bytes into its header and payload.
pub fn split(bytes: &[u8], limit: usize) -> Result<(Header, &[u8]), DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            bytes: bytes.len(),
            limit,
        });
    }
    if bytes.len() < HEADER_BYTES {
        return Err(DecodeError::Truncated(bytes.len()));
    }
    if bytes[0] != WIRE_VERSION {
        return Err(DecodeError::WrongVersion(bytes[0]));
    }
    let from = NodeId(u16::from_be_bytes([bytes[1], bytes[2]]));
    let msg_id = u64::from_be_bytes(bytes[3..HEADER_BYTES].try_into().expect("8 bytes"));
    Ok((Header { from, msg_id }, &bytes[HEADER_BYTES..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header round-trips; every cut header, a wrong version and an oversized
    /// datagram are errors, never panics.
    #[test]
    fn header_round_trips_and_refuses_garbage() {
        let mut bytes = Vec::new();
        let header = Header {
            from: NodeId(3),
            msg_id: 7,
        };
        begin(&mut bytes, header);
        bytes.extend_from_slice(b"payload");
        let (back, payload) = split(&bytes, DATAGRAM_BYTES_MAX).unwrap();
        assert_eq!((back, payload), (header, &b"payload"[..]));
        for cut in 0..HEADER_BYTES {
            assert_eq!(
                split(&bytes[..cut], DATAGRAM_BYTES_MAX),
                Err(DecodeError::Truncated(cut))
            );
        }
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert_eq!(
            split(&wrong, DATAGRAM_BYTES_MAX),
            Err(DecodeError::WrongVersion(9))
        );
        let big = vec![WIRE_VERSION; DATAGRAM_BYTES_MAX + 1];
        assert_eq!(
            split(&big, DATAGRAM_BYTES_MAX),
            Err(DecodeError::TooLarge {
                bytes: DATAGRAM_BYTES_MAX + 1,
                limit: DATAGRAM_BYTES_MAX
            })
        );
    }
}
