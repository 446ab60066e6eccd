//! The wire format: a small, versioned, length-checked binary encoding. Every field is
//! bounded, trailing bytes are an error, and decoding never panics, so a malformed
//! datagram is counted and dropped by the receiver.
//!
//! Layout (big-endian): `version u8 | from u16 | msg_id u64 | tag u8 | payload`.
//! Ballot = `round u64 | proposer u16`; Value = `len u16 | utf-8 bytes`;
//! Option = `0` or `1` followed by the item.

use crate::ids::NodeId;
use crate::paxos::{Ballot, Msg, Value, VALUE_BYTES_MAX};
use thiserror::Error;

pub const WIRE_VERSION: u8 = 1;
/// Largest datagram a node sends or accepts.
pub const DATAGRAM_BYTES_MAX: usize = 1024;

/// A message with its sender and a per-sender id. A duplicated datagram carries the same
/// id twice, which is how the history tells a duplicate from a resend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: NodeId,
    pub msg_id: u64,
    pub msg: Msg,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("datagram of {0} bytes exceeds the {DATAGRAM_BYTES_MAX}-byte limit")]
    TooLarge(usize),
    #[error("datagram ends early, inside {0}")]
    Truncated(&'static str),
    #[error("wire version {0} is not {WIRE_VERSION}")]
    WrongVersion(u8),
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    #[error("option marker {0} is neither 0 nor 1")]
    BadOption(u8),
    #[error("value of {0} bytes exceeds the {VALUE_BYTES_MAX}-byte limit")]
    ValueTooLong(usize),
    #[error("value is not UTF-8")]
    ValueNotUtf8,
    #[error("{0} bytes after the end of the message")]
    TrailingBytes(usize),
}

const TAG_PREPARE: u8 = 1;
const TAG_PROMISE: u8 = 2;
const TAG_NACK: u8 = 3;
const TAG_ACCEPT: u8 = 4;
const TAG_ACCEPTED: u8 = 5;
const TAG_NUDGE: u8 = 6;

/// Encode an envelope. Panics only on a value over [`VALUE_BYTES_MAX`], which the
/// scenario validation rules out before any node runs.
pub fn encode(env: &Envelope) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(WIRE_VERSION);
    out.extend_from_slice(&env.from.0.to_be_bytes());
    out.extend_from_slice(&env.msg_id.to_be_bytes());
    match &env.msg {
        Msg::Prepare { ballot } => {
            out.push(TAG_PREPARE);
            put_ballot(&mut out, ballot);
        }
        Msg::Promise { ballot, accepted } => {
            out.push(TAG_PROMISE);
            put_ballot(&mut out, ballot);
            match accepted {
                None => out.push(0),
                Some((b, v)) => {
                    out.push(1);
                    put_ballot(&mut out, b);
                    put_value(&mut out, v);
                }
            }
        }
        Msg::Nack { ballot, promised } => {
            out.push(TAG_NACK);
            put_ballot(&mut out, ballot);
            put_ballot(&mut out, promised);
        }
        Msg::Accept { ballot, value } => {
            out.push(TAG_ACCEPT);
            put_ballot(&mut out, ballot);
            put_value(&mut out, value);
        }
        Msg::Accepted { ballot, value } => {
            out.push(TAG_ACCEPTED);
            put_ballot(&mut out, ballot);
            put_value(&mut out, value);
        }
        Msg::Nudge => out.push(TAG_NUDGE),
    }
    assert!(
        out.len() <= DATAGRAM_BYTES_MAX,
        "encoded message over the datagram limit"
    );
    out
}

fn put_ballot(out: &mut Vec<u8>, b: &Ballot) {
    out.extend_from_slice(&b.round.to_be_bytes());
    out.extend_from_slice(&b.proposer.0.to_be_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    let bytes = v.0.as_bytes();
    assert!(
        bytes.len() <= VALUE_BYTES_MAX,
        "value over {VALUE_BYTES_MAX} bytes"
    );
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Decode one datagram. Any malformed input is an `Err`, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    if bytes.len() > DATAGRAM_BYTES_MAX {
        return Err(DecodeError::TooLarge(bytes.len()));
    }
    let mut r = Reader { bytes, pos: 0 };
    let version = r.u8("version")?;
    if version != WIRE_VERSION {
        return Err(DecodeError::WrongVersion(version));
    }
    let from = NodeId(r.u16("from")?);
    let msg_id = r.u64("msg_id")?;
    let msg = match r.u8("tag")? {
        TAG_PREPARE => Msg::Prepare {
            ballot: r.ballot()?,
        },
        TAG_PROMISE => {
            let ballot = r.ballot()?;
            let accepted = match r.u8("accepted marker")? {
                0 => None,
                1 => Some((r.ballot()?, r.value()?)),
                other => return Err(DecodeError::BadOption(other)),
            };
            Msg::Promise { ballot, accepted }
        }
        TAG_NACK => Msg::Nack {
            ballot: r.ballot()?,
            promised: r.ballot()?,
        },
        TAG_ACCEPT => Msg::Accept {
            ballot: r.ballot()?,
            value: r.value()?,
        },
        TAG_ACCEPTED => Msg::Accepted {
            ballot: r.ballot()?,
            value: r.value()?,
        },
        TAG_NUDGE => Msg::Nudge,
        other => return Err(DecodeError::UnknownTag(other)),
    };
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - r.pos));
    }
    Ok(Envelope { from, msg_id, msg })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DecodeError::Truncated(what))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated(what))?;
        self.pos = end;
        Ok(slice)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn ballot(&mut self) -> Result<Ballot, DecodeError> {
        Ok(Ballot::new(
            self.u64("ballot round")?,
            NodeId(self.u16("ballot proposer")?),
        ))
    }
    fn value(&mut self) -> Result<Value, DecodeError> {
        let len = self.u16("value length")? as usize;
        if len > VALUE_BYTES_MAX {
            return Err(DecodeError::ValueTooLong(len));
        }
        let bytes = self.take(len, "value")?;
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::ValueNotUtf8)?;
        Ok(Value::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Msg> {
        let b = Ballot::new(7, NodeId(4));
        let v = Value::new("Value_A");
        vec![
            Msg::Prepare { ballot: b },
            Msg::Promise {
                ballot: b,
                accepted: None,
            },
            Msg::Promise {
                ballot: b,
                accepted: Some((Ballot::new(3, NodeId(5)), v.clone())),
            },
            Msg::Nack {
                ballot: b,
                promised: Ballot::new(9, NodeId(5)),
            },
            Msg::Accept {
                ballot: b,
                value: v.clone(),
            },
            Msg::Accepted {
                ballot: b,
                value: v,
            },
            Msg::Nudge,
        ]
    }

    /// Every message kind survives encode then decode unchanged.
    #[test]
    fn round_trips_every_message() {
        for msg in samples() {
            let env = Envelope {
                from: NodeId(2),
                msg_id: 99,
                msg,
            };
            assert_eq!(decode(&encode(&env)), Ok(env));
        }
    }

    /// Every proper prefix of a valid datagram is rejected as truncated, not a panic,
    /// and a byte appended at the end is rejected as trailing.
    #[test]
    fn rejects_truncated_and_trailing_bytes() {
        for msg in samples() {
            let bytes = encode(&Envelope {
                from: NodeId(1),
                msg_id: 1,
                msg,
            });
            for cut in 0..bytes.len() {
                assert!(matches!(
                    decode(&bytes[..cut]),
                    Err(DecodeError::Truncated(_))
                ));
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(decode(&longer), Err(DecodeError::TrailingBytes(1)));
        }
    }

    /// Wrong version, unknown tag, oversized datagrams and overlong values are refused.
    #[test]
    fn rejects_malformed_headers_and_values() {
        let mut bytes = encode(&Envelope {
            from: NodeId(1),
            msg_id: 1,
            msg: Msg::Nudge,
        });
        bytes[0] = 9;
        assert_eq!(decode(&bytes), Err(DecodeError::WrongVersion(9)));
        bytes[0] = WIRE_VERSION;
        bytes[11] = 200;
        assert_eq!(decode(&bytes), Err(DecodeError::UnknownTag(200)));
        assert_eq!(
            decode(&vec![1u8; DATAGRAM_BYTES_MAX + 1]),
            Err(DecodeError::TooLarge(DATAGRAM_BYTES_MAX + 1))
        );
        let mut long = vec![WIRE_VERSION, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, TAG_ACCEPT];
        long.extend_from_slice(&[0; 10]);
        long.extend_from_slice(&((VALUE_BYTES_MAX as u16) + 1).to_be_bytes());
        assert_eq!(
            decode(&long),
            Err(DecodeError::ValueTooLong(VALUE_BYTES_MAX + 1))
        );
    }
}
