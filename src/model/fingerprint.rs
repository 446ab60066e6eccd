//! 64-bit state fingerprints and the set that remembers them: the exhaustive lane keeps
//! a fingerprint per visited state, never the state itself, so ten million states take
//! about 160 MB (two 8-byte slots each, the set kept at most half full).
//!
//! Both are hand-rolled so that a fingerprint is the same on every run and every Rust
//! release (std's default hasher is seeded at random, which clippy forbids here).
//! Two different states share a fingerprint with probability about 2^-64 per pair: over
//! ten million states, about 3 in a million that any one state is wrongly taken for
//! another, which would skip its successors.

use std::hash::Hasher;

/// A word-at-a-time multiply-rotate hasher with a SplitMix64 finish.
#[derive(Debug, Clone)]
pub struct Fingerprinter {
    state: u64,
    len: u64,
}

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter {
            state: 0x243F_6A88_85A3_08D3,
            len: 0,
        }
    }
}

impl Fingerprinter {
    fn word(&mut self, w: u64) {
        self.state = (self.state.rotate_left(23) ^ w).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for Fingerprinter {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
        self.len = self.len.wrapping_add(bytes.len() as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.word(n);
        self.len = self.len.wrapping_add(8);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        let mut z = self.state ^ self.len.wrapping_mul(MULTIPLIER);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Serialized bytes straight into a hasher, for the protocol types that are only
/// `Serialize` (durable states, log entries, events).
pub struct HashWriter<'a>(pub &'a mut dyn Hasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fingerprint of a serializable value.
pub fn of_serialized<T: serde::Serialize + ?Sized>(value: &T) -> u64 {
    let mut h = Fingerprinter::default();
    serde_json::to_writer(HashWriter(&mut h), value).expect("protocol types serialize");
    h.finish()
}

/// An open-addressing set of fingerprints (linear probing, 0 marks an empty slot),
/// grown by doubling when half full.
#[derive(Debug)]
pub struct FingerprintSet {
    slots: Vec<u64>,
    len: usize,
}

impl Default for FingerprintSet {
    fn default() -> Self {
        FingerprintSet {
            slots: vec![0; 1 << 16],
            len: 0,
        }
    }
}

impl FingerprintSet {
    /// Insert `fp`; whether it was new.
    pub fn insert(&mut self, fp: u64) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let fp = fp.max(1); // 0 is the empty slot
        let mask = self.slots.len() - 1;
        let mut i = (fp as usize) & mask;
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = fp;
                    self.len += 1;
                    return true;
                }
                x if x == fp => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the set holds.
    pub fn bytes(&self) -> usize {
        self.slots.len() * 8
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        for fp in old.into_iter().filter(|&fp| fp != 0) {
            self.insert(fp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set keeps every distinct fingerprint once, through several growths, and 0
    /// (the empty-slot marker) is still a fingerprint it can hold.
    #[test]
    fn set_remembers_every_fingerprint_once() {
        let mut set = FingerprintSet::default();
        for i in 0..200_000u64 {
            assert!(set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        for i in 0..200_000u64 {
            assert!(!set.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        assert_eq!(set.len(), 200_000);
        assert!(set.bytes() >= 2 * 200_000 * 8);
    }

    /// Equal input, equal fingerprint; one byte or one word apart, different ones.
    #[test]
    fn fingerprints_are_stable_and_tell_inputs_apart() {
        let fp = |bytes: &[u8]| {
            let mut h = Fingerprinter::default();
            h.write(bytes);
            h.finish()
        };
        assert_eq!(fp(b"promise 1.4"), fp(b"promise 1.4"));
        assert_ne!(fp(b"promise 1.4"), fp(b"promise 1.5"));
        assert_ne!(fp(b""), fp(&[0]));
        assert_eq!(of_serialized(&(1, "a")), of_serialized(&(1, "a")));
        assert_ne!(of_serialized(&(1, "a")), of_serialized(&(2, "a")));
    }
}
