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

/// CRC-32 (IEEE, reflected, as zlib). Bitwise: snapshots are tiny.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
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
}
