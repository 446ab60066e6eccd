//! 64-bit state fingerprints and the set that remembers them: the exhaustive lane keeps
//! a fingerprint per visited state, never the state itself, so ten million states take
//! about 90 to 210 MB ([`Visited`]: 9 bytes a slot, at most 7/8 full).
//!
//! The hasher is hand-rolled so that a fingerprint is the same on every run and every
//! Rust release (std's default hasher is seeded at random, which clippy forbids here,
//! and its algorithm is not promised to stay); the set is hashbrown's `HashTable`.
//! Two different states share a fingerprint with probability about 2^-64 per pair: over
//! ten million states, about 3 in a million that any one state is wrongly taken for
//! another, which would skip its successors. Values the contract gives only as
//! `Serialize` (durable states, log entries, protocol events) are hashed by their
//! serde tokens ([`feed_serialized`]).

use super::huge_pages::HugePageAlloc;
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

/// The fingerprint of a serializable value's JSON text, hashed in one pass from a
/// reused per-thread buffer. What names a scope (the corpus file name's seed, in
/// `cli/model.rs`), so it stays as saved files have it; the search's own hashing of
/// events and disks uses [`feed_serialized`], which formats no text.
pub fn of_serialized<T: serde::Serialize + ?Sized>(value: &T) -> u64 {
    thread_local! {
        static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    TEXT.with(|text| {
        // A nested call (a `Serialize` impl that fingerprints) gets its own buffer.
        let mut own = Vec::new();
        let mut shared = text.try_borrow_mut();
        let buf = match shared.as_deref_mut() {
            Ok(buf) => buf,
            Err(_) => &mut own,
        };
        buf.clear();
        serde_json::to_writer(&mut *buf, value).expect("protocol types serialize");
        let mut h = Fingerprinter::default();
        h.write(buf);
        h.finish()
    })
}

/// Feed a serializable value to `h` as its serde data model, token by token: each
/// number as a word, each string and byte string as its length then its bytes, each
/// `Option` and enum variant as a tag (the variant's index), each sequence and map as
/// its items then their count, each struct field as its name then its value. No text
/// is formatted, escaped or buffered.
///
/// Why this and not [`of_serialized`]'s JSON: the search fingerprints every protocol
/// event a step records and every durable state a step writes, and formatting them as
/// JSON was its largest single cost after the cores themselves. The encoding is
/// prefix-free (lengths, counts and tags are all written), so two values feed the
/// same tokens only if their serde data models are equal, and equal data models give
/// equal JSON: values this tells apart include every pair JSON tells apart, so a
/// state space deduplicated by it has at least the states JSON's had (and the same
/// for every type whose JSON is injective, as the protocols' are: the unit tests
/// `correct_paxos_is_clean_in_the_default_scope` and `symmetry_keeps_every_verdict`
/// pin the counts).
pub fn feed_serialized<T: serde::Serialize + ?Sized>(h: &mut Fingerprinter, value: &T) {
    value
        .serialize(TokenHasher(h))
        .expect("hashing a value cannot fail");
}

/// The fingerprint of `value` by [`feed_serialized`].
pub fn of_tokens<T: serde::Serialize + ?Sized>(value: &T) -> u64 {
    let mut h = Fingerprinter::default();
    feed_serialized(&mut h, value);
    h.finish()
}

/// The serde serializer behind [`feed_serialized`].
struct TokenHasher<'a>(&'a mut Fingerprinter);

/// The error type [`TokenHasher`] must name; it never makes one (a `Serialize` impl
/// may still call `custom`, which ends the hash with it).
#[derive(Debug)]
struct TokenError(String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

impl serde::ser::Error for TokenError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TokenError(msg.to_string())
    }
}

/// Token tags: they keep the encoding prefix-free where the type alone does not say
/// what comes next (an `Option`, a variant, the end of a sequence).
const TAG_NONE: u64 = 0xA0;
const TAG_SOME: u64 = 0xA1;
const TAG_UNIT: u64 = 0xA2;
const TAG_END: u64 = 0xA3;

fn feed_bytes(h: &mut Fingerprinter, b: &[u8]) {
    h.write_u64(b.len() as u64);
    h.write(b);
}

/// A compound (sequence, tuple, map, struct, variant) being fed: its items, then its
/// count, so that items of one compound cannot be taken for the next one's.
struct Compound<'a> {
    h: &'a mut Fingerprinter,
    count: u64,
}

impl Compound<'_> {
    fn item<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TokenError> {
        self.count += 1;
        value.serialize(TokenHasher(&mut *self.h))
    }

    fn field<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), TokenError> {
        feed_bytes(self.h, name.as_bytes());
        self.item(value)
    }

    fn close(self) -> Result<(), TokenError> {
        self.h.write_u64(TAG_END);
        self.h.write_u64(self.count);
        Ok(())
    }
}

macro_rules! compound_impl {
    ($trait:ident, $method:ident) => {
        impl serde::ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = TokenError;
            fn $method<T: serde::Serialize + ?Sized>(
                &mut self,
                value: &T,
            ) -> Result<(), TokenError> {
                self.item(value)
            }
            fn end(self) -> Result<(), TokenError> {
                self.close()
            }
        }
    };
}

compound_impl!(SerializeSeq, serialize_element);
compound_impl!(SerializeTuple, serialize_element);
compound_impl!(SerializeTupleStruct, serialize_field);
compound_impl!(SerializeTupleVariant, serialize_field);

impl serde::ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = TokenError;
    fn serialize_key<T: serde::Serialize + ?Sized>(&mut self, key: &T) -> Result<(), TokenError> {
        self.item(key)
    }
    fn serialize_value<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), TokenError> {
        value.serialize(TokenHasher(&mut *self.h))
    }
    fn end(self) -> Result<(), TokenError> {
        self.close()
    }
}

impl serde::ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = TokenError;
    fn serialize_field<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), TokenError> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), TokenError> {
        self.close()
    }
}

impl serde::ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = TokenError;
    fn serialize_field<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), TokenError> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), TokenError> {
        self.close()
    }
}

impl<'a> TokenHasher<'a> {
    fn word(self, w: u64) -> Result<(), TokenError> {
        self.0.write_u64(w);
        Ok(())
    }

    fn open(self, tag: Option<u32>) -> Compound<'a> {
        if let Some(tag) = tag {
            self.0.write_u64(u64::from(tag));
        }
        Compound {
            h: self.0,
            count: 0,
        }
    }
}

impl<'a> serde::Serializer for TokenHasher<'a> {
    type Ok = ();
    type Error = TokenError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), TokenError> {
        self.word(u64::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<(), TokenError> {
        self.word(v as u64)
    }
    fn serialize_i16(self, v: i16) -> Result<(), TokenError> {
        self.word(v as u64)
    }
    fn serialize_i32(self, v: i32) -> Result<(), TokenError> {
        self.word(v as u64)
    }
    fn serialize_i64(self, v: i64) -> Result<(), TokenError> {
        self.word(v as u64)
    }
    fn serialize_i128(self, v: i128) -> Result<(), TokenError> {
        self.0.write_u64(v as u64);
        self.word((v >> 64) as u64)
    }
    fn serialize_u8(self, v: u8) -> Result<(), TokenError> {
        self.word(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), TokenError> {
        self.word(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), TokenError> {
        self.word(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), TokenError> {
        self.word(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), TokenError> {
        self.0.write_u64(v as u64);
        self.word((v >> 64) as u64)
    }
    fn serialize_f32(self, v: f32) -> Result<(), TokenError> {
        self.word(u64::from(v.to_bits()))
    }
    fn serialize_f64(self, v: f64) -> Result<(), TokenError> {
        self.word(v.to_bits())
    }
    fn serialize_char(self, v: char) -> Result<(), TokenError> {
        self.word(u64::from(v))
    }
    fn serialize_str(self, v: &str) -> Result<(), TokenError> {
        feed_bytes(self.0, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), TokenError> {
        feed_bytes(self.0, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), TokenError> {
        self.word(TAG_NONE)
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<(), TokenError> {
        self.0.write_u64(TAG_SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), TokenError> {
        self.word(TAG_UNIT)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), TokenError> {
        self.word(TAG_UNIT)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), TokenError> {
        self.word(u64::from(index))
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), TokenError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), TokenError> {
        self.0.write_u64(u64::from(index));
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(None))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(None))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(None))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(Some(index)))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(None))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, TokenError> {
        Ok(self.open(Some(index)))
    }
}

/// What [`Visited::visit`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// A state not seen before.
    New,
    /// A state seen before, but only at a greater depth: a depth-bounded depth-first
    /// search must expand it again, since its successors may now fit within the bound.
    Shallower,
    /// A state seen before at this depth or less: nothing new below it.
    Seen,
}

/// The visited states: for each, its fingerprint's top 56 bits and the smallest
/// depth it was reached at (8 bits), packed into one `u64`, in hashbrown's
/// `HashTable` (SwissTable: one control byte per slot, up to 7/8 full, so about 9 to
/// 21 bytes a state between growths; a hand-rolled linear-probing set at most half
/// full took 16 to 32). Depth-first search with a depth bound needs the depth: a
/// state first reached by a long path and later by a shorter one must be expanded
/// again, or states within the bound are missed. Breadth-first search reaches every
/// state at its smallest depth first, so it never sees [`Visit::Shallower`].
///
/// Two states whose fingerprints agree in their top 56 bits are taken for one: about
/// 2^-56 per pair, so over ten million states about one chance in 1,400 that any
/// state is wrongly skipped. Depths above 255 count as 255 (a `--depth` above 255 is
/// refused for depth-first search, see [`DEPTH_MAX`]).
///
/// The table is allocated through [`HugePageAlloc`]: a large one asks for huge pages,
/// since random probes of a table of gigabytes otherwise spend their time walking page
/// tables.
#[derive(Debug, Default)]
pub struct Visited {
    table: hashbrown::HashTable<u64, HugePageAlloc>,
}

/// The largest depth [`Visited`] keeps exactly.
pub const DEPTH_MAX: u32 = 255;

const DEPTH_BITS: u64 = 0xFF;

/// The bucket hash of a packed entry: its 56 fingerprint bits through murmur3's
/// 64-bit finalizer, so that every bit of the hash depends on every bit of the key
/// and both hashbrown's control byte (the hash's top 7 bits) and its bucket index
/// (the low bits, as many as the table is large) vary.
///
/// It used to be the key times an odd constant, rotated left by 29. A key's low 8 bits
/// are zero (they hold the depth), so the product's are too, and the rotation put
/// those zeros at bits 29 to 36. At 2^30 slots (past 470 million states) bit 29 of
/// every index was 0: all keys homed in one half of the table, which filled at 537
/// million states. The depth-24 search of `learner_mixes_ballots`' whole scope then
/// fell from about 125,000 new states a second to about 2,000, with 94% of its time
/// in probing (docs/model-checking.md). Unit test `bucket_hash_varies_every_bit`
/// catches a hash like that one.
fn bucket_hash(packed: u64) -> u64 {
    let mut x = packed >> 8;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl Visited {
    /// Record that the state with fingerprint `fp` was reached at `depth`.
    pub fn visit(&mut self, fp: u64, depth: u32) -> Visit {
        let key = fp & !DEPTH_BITS;
        let depth = u64::from(depth.min(DEPTH_MAX));
        let hash = bucket_hash(key);
        if let Some(slot) = self.table.find_mut(hash, |&v| v & !DEPTH_BITS == key) {
            if depth < *slot & DEPTH_BITS {
                *slot = key | depth;
                return Visit::Shallower;
            }
            return Visit::Seen;
        }
        self.table
            .insert_unique(hash, key | depth, |&v| bucket_hash(v));
        Visit::New
    }

    /// Every entry as it is kept (fingerprint bits and depth packed in one word), in
    /// the table's order: what a checkpoint saves ([`super::checkpoint`]).
    pub fn entries(&self) -> impl Iterator<Item = u64> + '_ {
        self.table.iter().copied()
    }

    /// Put back an entry [`Visited::entries`] gave: `false` if the set already held
    /// its fingerprint (a saved table never repeats one, so a checkpoint that does is
    /// damaged).
    pub fn restore(&mut self, entry: u64) -> bool {
        self.visit(entry, (entry & DEPTH_BITS) as u32) == Visit::New
    }

    /// Distinct states recorded.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The bytes the table holds.
    pub fn bytes(&self) -> usize {
        self.table.allocation_size()
    }

    /// A set with room for `states` states before it first grows: one allocation of
    /// [`Visited::bytes_for`]`(states)` bytes up front, so a scope known to be huge
    /// never doubles its table (a doubling holds the old table and the new one at
    /// once: 1.5 times the new table's size at its peak).
    pub fn with_capacity(states: usize) -> Self {
        Visited {
            table: hashbrown::HashTable::with_capacity_in(states, HugePageAlloc),
        }
    }

    /// The states the table takes before its next growth.
    pub fn room(&self) -> usize {
        self.table.capacity().saturating_sub(self.table.len())
    }

    /// The bytes of the table the next growth allocates (the current one is freed only
    /// after every entry moved): [`Visited::bytes_for`] one more state than it holds
    /// when full.
    pub fn grown_bytes(&self) -> u64 {
        Self::bytes_for(self.table.capacity().saturating_add(1))
    }

    /// The bytes hashbrown allocates for a table of `states` states: nothing for none;
    /// else a power of two of slots (4, 8 or 16 for up to 14 states, then at most 7/8
    /// full), 8 bytes and one control byte a slot, and one group's worth of trailing
    /// control bytes. Computed here so a memory bound can be checked before the
    /// allocation; unit test `visited_predicts_its_allocations` holds it to hashbrown's
    /// own sizes, so a hashbrown upgrade that changes them fails it.
    pub fn bytes_for(states: usize) -> u64 {
        let states = states as u64;
        let slots = match states {
            0 => return 0,
            1..=3 => 4,
            4..=7 => 8,
            8..=14 => 16,
            _ => (states.saturating_mul(8) / 7).next_power_of_two(),
        };
        slots.saturating_mul(9).saturating_add(GROUP_WIDTH)
    }
}

/// hashbrown's control-byte group on this target: 16 with SSE2, 8 otherwise. Its
/// trailing control bytes repeat the first group so a probe never wraps.
const GROUP_WIDTH: u64 = if cfg!(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2"
)) {
    16
} else {
    8
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The set keeps every distinct fingerprint once, through several growths (0 is a
    /// fingerprint like any other), and remembers the smallest depth each was reached
    /// at: a shallower visit is reported once, a deeper or equal one never.
    #[test]
    fn visited_remembers_every_fingerprint_once_with_its_smallest_depth() {
        let mut set = Visited::default();
        let fp = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) << 8;
        for i in 0..200_000u64 {
            assert_eq!(set.visit(fp(i), 10), Visit::New);
        }
        for i in 0..200_000u64 {
            assert_eq!(set.visit(fp(i), 10), Visit::Seen);
            assert_eq!(set.visit(fp(i), 12), Visit::Seen);
        }
        assert_eq!(set.visit(fp(7), 3), Visit::Shallower);
        assert_eq!(set.visit(fp(7), 3), Visit::Seen);
        assert_eq!(set.visit(fp(7), 4), Visit::Seen);
        // The low 8 bits are not part of the key: they hold the depth.
        assert_eq!(set.visit(fp(9) | 0x5A, 10), Visit::Seen);
        // Depths past 255 saturate.
        assert_eq!(set.visit(fp(11), 1_000), Visit::Seen);
        assert_eq!(set.len(), 200_000);
        assert!(set.bytes() >= 200_000 * 9);
    }

    /// Every bit of the bucket hash varies across keys, so any table size, up to the
    /// 2^56 slots a key can tell apart, spreads keys over all of its slots, and the
    /// control bytes (the top 7 bits) differ. Keys as the set gets them: fingerprints
    /// of distinct values with the low 8 bits cleared for the depth. The hash before
    /// this one left bits 29 to 36 at zero and fails here.
    #[test]
    fn bucket_hash_varies_every_bit() {
        let (mut ones, mut zeros) = (0u64, 0u64);
        for i in 0..4_096u64 {
            let key = of_serialized(&(i, "state")) & !DEPTH_BITS;
            let hash = bucket_hash(key);
            ones |= hash;
            zeros |= !hash;
        }
        assert_eq!(ones, u64::MAX, "bits never set: {:#018x}", !ones);
        assert_eq!(zeros, u64::MAX, "bits never clear: {:#018x}", !zeros);
    }

    /// The set's size arithmetic matches hashbrown's: a reserved set allocates what
    /// `bytes_for` says and takes that many states without growing, and the growth
    /// `grown_bytes` predicts for a full table is the one that happens. A memory bound
    /// checked against these figures is checked against the real allocations.
    #[test]
    fn visited_predicts_its_allocations() {
        for states in [
            0usize, 1, 3, 4, 7, 8, 14, 15, 1_000, 100_000, 917_504, 917_505,
        ] {
            let set = Visited::with_capacity(states);
            assert_eq!(
                set.bytes() as u64,
                Visited::bytes_for(states),
                "{states} states"
            );
            assert!(set.room() >= states, "{states} states: room {}", set.room());
        }
        let fp = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) << 8;
        let mut set = Visited::with_capacity(1_000);
        let mut i = 0;
        while set.room() > 0 {
            assert_eq!(set.visit(fp(i), 1), Visit::New);
            i += 1;
        }
        let before = set.bytes() as u64;
        let predicted = set.grown_bytes();
        assert!(predicted > before, "a growth allocates a larger table");
        set.visit(fp(i), 1);
        assert_eq!(set.bytes() as u64, predicted);
        assert!(set.room() > 0);
    }

    /// The serde-token fingerprint is a function of the value (equal values, equal
    /// keys) and tells apart what JSON tells apart, including the cases a careless
    /// token stream would merge: strings split differently across a sequence, an
    /// item moved between neighbouring sequences, `None` against `Some` of a unit,
    /// enum variants with equal payloads, and a struct field skipped or present.
    #[test]
    fn token_fingerprints_tell_apart_what_json_tells_apart() {
        #[derive(serde::Serialize)]
        enum Kind {
            A(u8),
            B(u8),
            C { x: u8 },
            D,
        }
        #[derive(serde::Serialize)]
        struct Skips {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<u8>,
        }
        assert_eq!(
            of_tokens(&(1u16, "a", vec![2u64])),
            of_tokens(&(1u16, "a", vec![2u64]))
        );
        let distinct = [
            of_tokens(&vec!["ab"]),
            of_tokens(&vec!["a", "b"]),
            of_tokens(&(vec![1u8, 2], vec![3u8])),
            of_tokens(&(vec![1u8], vec![2u8, 3])),
            of_tokens(&None::<()>),
            of_tokens(&Some(())),
            of_tokens(&Kind::A(1)),
            of_tokens(&Kind::B(1)),
            of_tokens(&Kind::C { x: 1 }),
            of_tokens(&Kind::D),
            of_tokens(&Skips {
                a: Some(1),
                b: None,
            }),
            of_tokens(&Skips {
                a: None,
                b: Some(1),
            }),
            of_tokens(&Skips { a: None, b: None }),
        ];
        for (i, a) in distinct.iter().enumerate() {
            for b in &distinct[i + 1..] {
                assert_ne!(a, b, "{distinct:x?}");
            }
        }
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
