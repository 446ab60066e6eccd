//! Paxos's messages on the wire: a small, length-checked binary encoding after the
//! harness's envelope (`crate::net`: version, sender, message id). Every field is
//! bounded, trailing bytes are an error, and decoding never panics, so a malformed
//! datagram is counted and dropped by the receiver.
//!
//! Layout (big-endian): `tag u8 | fields`.
//! Ballot = `round u64 | proposer u16`; Value = `len u16 | utf-8 bytes`;
//! Option = `0` or `1` followed by the item.

use super::{Ballot, Msg, Value, VALUE_BYTES_MAX};
use crate::ids::NodeId;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("datagram ends early, inside {0}")]
    Truncated(&'static str),
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
    #[error("ballot round {0} is over the highest round {max}", max = Ballot::ROUND_MAX)]
    RoundTooHigh(u64),
}

const TAG_PREPARE: u8 = 1;
const TAG_PROMISE: u8 = 2;
const TAG_NACK: u8 = 3;
const TAG_ACCEPT: u8 = 4;
const TAG_ACCEPTED: u8 = 5;
const TAG_NUDGE: u8 = 6;

/// Append `msg`'s bytes to `out`. Panics only on a value over [`VALUE_BYTES_MAX`],
/// which the scenario validation rules out before any node runs.
pub fn encode_msg(msg: &Msg, out: &mut Vec<u8>) {
    let out = &mut *out;
    match msg {
        Msg::Prepare { ballot } => {
            out.push(TAG_PREPARE);
            put_ballot(out, ballot);
        }
        Msg::Promise { ballot, accepted } => {
            out.push(TAG_PROMISE);
            put_ballot(out, ballot);
            match accepted {
                None => out.push(0),
                Some((b, v)) => {
                    out.push(1);
                    put_ballot(out, b);
                    put_value(out, v);
                }
            }
        }
        Msg::Nack { ballot, promised } => {
            out.push(TAG_NACK);
            put_ballot(out, ballot);
            put_ballot(out, promised);
        }
        Msg::Accept { ballot, value } => {
            out.push(TAG_ACCEPT);
            put_ballot(out, ballot);
            put_value(out, value);
        }
        Msg::Accepted { ballot, value } => {
            out.push(TAG_ACCEPTED);
            put_ballot(out, ballot);
            put_value(out, value);
        }
        Msg::Nudge => out.push(TAG_NUDGE),
    }
}

fn put_ballot(out: &mut Vec<u8>, b: &Ballot) {
    out.extend_from_slice(&b.round.to_be_bytes());
    out.extend_from_slice(&b.proposer.0.to_be_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    let bytes = v.as_str().as_bytes();
    assert!(
        bytes.len() <= VALUE_BYTES_MAX,
        "value over {VALUE_BYTES_MAX} bytes"
    );
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Decode one message's bytes. Any malformed input is an `Err`, never a panic.
pub fn decode_msg(bytes: &[u8]) -> Result<Msg, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
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
    Ok(msg)
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
    /// A ballot whose round a proposer could still step past: a round over
    /// [`Ballot::ROUND_MAX`] is malformed, so it never reaches a core to be promised.
    fn ballot(&mut self) -> Result<Ballot, DecodeError> {
        let round = self.u64("ballot round")?;
        if round > Ballot::ROUND_MAX {
            return Err(DecodeError::RoundTooHigh(round));
        }
        Ok(Ballot::new(round, NodeId(self.u16("ballot proposer")?)))
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

    /// Every kind of message at its largest (top ballots, a value of the longest
    /// length) encodes within `Core::MESSAGE_BYTES_BOUND`, which lets the fast lane
    /// skip measuring messages: a bound too small would make the lanes disagree.
    #[test]
    fn largest_messages_fit_the_bound() {
        use crate::protocol::Core;
        let top = Ballot::new(Ballot::ROUND_MAX, NodeId(u16::MAX));
        let value = Value::new("v".repeat(VALUE_BYTES_MAX));
        let largest = [
            Msg::Prepare { ballot: top },
            Msg::Promise {
                ballot: top,
                accepted: Some((top, value.clone())),
            },
            Msg::Nack {
                ballot: top,
                promised: top,
            },
            Msg::Accept {
                ballot: top,
                value: value.clone(),
            },
            Msg::Accepted { ballot: top, value },
            Msg::Nudge,
        ];
        let bound = super::super::Node::MESSAGE_BYTES_BOUND.expect("Paxos bounds its messages");
        assert!(bound <= super::super::Node::MESSAGE_BYTES_MAX);
        for msg in largest {
            let mut bytes = Vec::new();
            encode_msg(&msg, &mut bytes);
            let len = crate::net::HEADER_BYTES + bytes.len();
            assert!(len <= bound, "{msg:?}: {len} bytes, bound {bound}");
        }
    }

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

    fn encode(msg: &Msg) -> Vec<u8> {
        let mut out = Vec::new();
        encode_msg(msg, &mut out);
        out
    }

    /// Every message kind survives encode then decode unchanged.
    #[test]
    fn round_trips_every_message() {
        for msg in samples() {
            assert_eq!(decode_msg(&encode(&msg)), Ok(msg));
        }
    }

    /// Every proper prefix of a valid message is rejected as truncated, not a panic,
    /// and a byte appended at the end is rejected as trailing.
    #[test]
    fn rejects_truncated_and_trailing_bytes() {
        for msg in samples() {
            let bytes = encode(&msg);
            for cut in 0..bytes.len() {
                assert!(matches!(
                    decode_msg(&bytes[..cut]),
                    Err(DecodeError::Truncated(_))
                ));
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(decode_msg(&longer), Err(DecodeError::TrailingBytes(1)));
        }
    }

    /// Unknown tags, bad option markers and overlong values are refused.
    #[test]
    fn rejects_malformed_tags_and_values() {
        assert_eq!(decode_msg(&[200]), Err(DecodeError::UnknownTag(200)));
        let mut promise = encode(&Msg::Promise {
            ballot: Ballot::new(1, NodeId(1)),
            accepted: None,
        });
        *promise.last_mut().unwrap() = 7;
        assert_eq!(decode_msg(&promise), Err(DecodeError::BadOption(7)));
        let mut long = vec![TAG_ACCEPT];
        long.extend_from_slice(&[0; 10]);
        long.extend_from_slice(&((VALUE_BYTES_MAX as u16) + 1).to_be_bytes());
        assert_eq!(
            decode_msg(&long),
            Err(DecodeError::ValueTooLong(VALUE_BYTES_MAX + 1))
        );
    }

    /// A ballot round of `u64::MAX`, the value a forged prepare used to wrap every
    /// proposer's next round to 0, is refused in every place a ballot appears, and
    /// [`Ballot::ROUND_MAX`] itself still decodes.
    #[test]
    fn rejects_a_round_no_proposer_could_step_past() {
        let top = Ballot::new(u64::MAX, NodeId(2));
        let max = Ballot::new(Ballot::ROUND_MAX, NodeId(2));
        let v = Value::new("Value_X");
        let cases = |b: Ballot| {
            vec![
                Msg::Prepare { ballot: b },
                Msg::Promise {
                    ballot: Ballot::new(1, NodeId(1)),
                    accepted: Some((b, v.clone())),
                },
                Msg::Nack {
                    ballot: Ballot::new(1, NodeId(1)),
                    promised: b,
                },
                Msg::Accept {
                    ballot: b,
                    value: v.clone(),
                },
                Msg::Accepted {
                    ballot: b,
                    value: v.clone(),
                },
            ]
        };
        for msg in cases(top) {
            assert_eq!(
                decode_msg(&encode(&msg)),
                Err(DecodeError::RoundTooHigh(u64::MAX)),
                "{msg}"
            );
        }
        for msg in cases(max) {
            assert_eq!(decode_msg(&encode(&msg)), Ok(msg));
        }
    }
}
