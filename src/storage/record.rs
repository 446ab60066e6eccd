//! The on-disk record: `magic "GNT1" | len u32 | crc32 u32 | payload`, big-endian.

/// Largest snapshot a node may store.
pub const RECORD_BYTES_MAX: usize = 64 * 1024;
const MAGIC: &[u8; 4] = b"GNT1";
const HEADER_BYTES: usize = 12;

pub fn encode_record(payload: &[u8]) -> Vec<u8> {
    assert!(
        payload.len() <= RECORD_BYTES_MAX,
        "snapshot over {RECORD_BYTES_MAX} bytes"
    );
    let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32(payload).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload of a record, or why the bytes are not one.
pub fn decode_record(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < HEADER_BYTES {
        return Err(format!("{} bytes is shorter than the header", bytes.len()));
    }
    if &bytes[..4] != MAGIC {
        return Err("bad magic".into());
    }
    let len = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if len > RECORD_BYTES_MAX {
        return Err(format!(
            "length {len} over the {RECORD_BYTES_MAX}-byte limit"
        ));
    }
    let body = &bytes[HEADER_BYTES..];
    if body.len() != len {
        return Err(format!(
            "length field says {len} bytes, file holds {}",
            body.len()
        ));
    }
    let want = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let got = crc32(body);
    if want != got {
        return Err(format!("checksum {got:08x} does not match {want:08x}"));
    }
    Ok(body)
}

/// CRC-32 (IEEE, as zlib), from `crc32fast`: log files make checksum speed matter.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The magic of a log entry's record.
const LOG_MAGIC: &[u8; 4] = b"GNL1";
/// A log record's header: `magic "GNL1" | len u32 | crc32(len) u32 | crc32(payload) u32`.
/// The length has a checksum of its own, so a damaged length is told apart from a
/// record cut short by a crash: otherwise it could hide every entry after it.
pub(super) const LOG_HEADER_BYTES: usize = 16;

/// One log entry as a record of the `log` file.
pub fn encode_log_record(payload: &[u8], out: &mut Vec<u8>) {
    assert!(
        payload.len() <= RECORD_BYTES_MAX,
        "log entry over {RECORD_BYTES_MAX} bytes"
    );
    let len = (payload.len() as u32).to_be_bytes();
    out.extend_from_slice(LOG_MAGIC);
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32(&len).to_be_bytes());
    out.extend_from_slice(&crc32(payload).to_be_bytes());
    out.extend_from_slice(payload);
}

/// The entries of a log file, in order: their payloads and the bytes they fill. An
/// append is one write at the end of the file, and a synced one completed, so only the
/// last record can be torn by a crash: one whose header or body runs past the end of
/// the file, or whose body fails its checksum and ends the file. It is left out, and
/// `whole_bytes` says where to cut the file. Any other damage is an error, never
/// skipped: skipping would lose entries the node acknowledged.
pub fn decode_log(bytes: &[u8]) -> Result<DecodedLog<'_>, String> {
    let mut payloads = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let damaged = |reason: String| format!("entry {} at byte {at}: {reason}", payloads.len());
        if rest.len() < LOG_HEADER_BYTES {
            break; // a torn header
        }
        if &rest[..4] != LOG_MAGIC {
            return Err(damaged("bad magic".into()));
        }
        let word = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        if crc32(&rest[4..8]) != word(8) {
            return Err(damaged("the length fails its checksum".into()));
        }
        let len = word(4) as usize;
        if len > RECORD_BYTES_MAX {
            return Err(damaged(format!(
                "length {len} over the {RECORD_BYTES_MAX}-byte limit"
            )));
        }
        let end = LOG_HEADER_BYTES + len;
        if end > rest.len() {
            break; // a torn body
        }
        let payload = &rest[LOG_HEADER_BYTES..end];
        if crc32(payload) != word(12) {
            if at + end == bytes.len() {
                break; // the last write, never completed
            }
            return Err(damaged("checksum does not match".into()));
        }
        payloads.push(payload);
        at += end;
    }
    Ok(DecodedLog {
        payloads,
        whole_bytes: at,
    })
}

/// What [`decode_log`] read.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodedLog<'a> {
    pub payloads: Vec<&'a [u8]>,
    /// The bytes the whole records fill; anything after them was torn.
    pub whole_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum matches the standard check value, so records are readable by
    /// other tools.
    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// A record round-trips; any flipped bit or cut byte is reported, never accepted.
    #[test]
    fn detects_every_single_bit_flip_and_truncation() {
        let rec = encode_record(b"{\"promised\":3}");
        assert_eq!(decode_record(&rec), Ok(&b"{\"promised\":3}"[..]));
        for i in 0..rec.len() * 8 {
            let mut bad = rec.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(decode_record(&bad).is_err(), "bit {i} flip accepted");
        }
        for cut in 0..rec.len() {
            assert!(decode_record(&rec[..cut]).is_err());
        }
    }

    /// A log reads back its records; a last record cut at any byte is dropped as torn;
    /// a damaged bit in the last record is dropped or refused, never read as another
    /// entry; any damaged bit in an earlier record is an error.
    #[test]
    fn log_drops_a_torn_tail_and_refuses_damage_before_it() {
        let mut a = Vec::new();
        encode_log_record(b"first", &mut a);
        let mut log = a.clone();
        encode_log_record(b"second", &mut log);
        let whole = decode_log(&log).unwrap();
        assert_eq!(whole.payloads, vec![&b"first"[..], &b"second"[..]]);
        assert_eq!(whole.whole_bytes, log.len());
        for cut in a.len()..log.len() {
            let torn = decode_log(&log[..cut]).unwrap();
            assert_eq!(torn.payloads, vec![&b"first"[..]], "cut at {cut}");
            assert_eq!(torn.whole_bytes, a.len());
        }
        for i in a.len() * 8..log.len() * 8 {
            let mut bad = log.clone();
            bad[i / 8] ^= 1 << (i % 8);
            if let Ok(read) = decode_log(&bad) {
                assert_eq!(
                    read.payloads,
                    vec![&b"first"[..]],
                    "bit {i} of the last record"
                );
            }
        }
        for i in 0..a.len() * 8 {
            let mut bad = log.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(decode_log(&bad).is_err(), "bit {i} of the first record");
        }
    }
}
