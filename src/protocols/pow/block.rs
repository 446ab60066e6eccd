//! Blocks and transactions: the data a proof-of-work chain agrees on.
//!
//! A block names its parent by hash, its height, its miner, its difficulty (`bits`:
//! the SHA-256 header hash must start with that many zero bits, and the block's work
//! is `2^bits`), a nonce and its transactions. The simulation decides *when* a miner
//! finds a block (a Poisson draw, `super::node`); the block it then builds is sealed
//! for real, by trying nonces until the hash meets its target. At the low
//! difficulties the simulation uses (1 to [`BITS_MAX`] bits) that costs a few hashes,
//! and every node checks every block's target, so a block that claims work it did not
//! do is caught the way a real node catches it.
//!
//! A transaction spends one coin: `c<coin>:<payee>` (`c3:n2` pays coin 3 to n2). The
//! account rule is that a coin is spent at most once on a chain: two transactions of
//! one coin are a double spend, and at most one of them may ever be on a chain.

use crate::ids::NodeId;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A block's id: the first 64 bits of its SHA-256 header hash.
pub type BlockHash = u64;

/// The most transactions a block carries (keeps a block message small).
pub const TXS_PER_BLOCK_MAX: usize = 16;
/// The longest transaction, in bytes.
pub const TX_BYTES_MAX: usize = 32;
/// The highest difficulty a block may claim: a miner seals a block in about
/// `2^bits` hashes, so this keeps sealing cheap in the simulation.
pub const BITS_MAX: u8 = 8;

/// One block. Its id is computed, never sent: a receiver hashes what it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub parent: BlockHash,
    pub height: u64,
    pub miner: NodeId,
    /// The difficulty: the header hash starts with this many zero bits.
    pub bits: u8,
    pub nonce: u64,
    pub txs: Vec<Value>,
}

impl Block {
    /// The one block every node starts from (not mined: no target to meet).
    pub fn genesis() -> Block {
        Block {
            parent: 0,
            height: 0,
            miner: NodeId(0),
            bits: 0,
            nonce: 0,
            txs: Vec::new(),
        }
    }

    /// The SHA-256 hash of the header (the transactions enter through their own hash,
    /// as a Merkle root would).
    pub fn digest(&self) -> [u8; 32] {
        let mut txs = Sha256::new();
        for tx in &self.txs {
            txs.update((tx.len() as u32).to_be_bytes());
            txs.update(tx.as_str().as_bytes());
        }
        let root = txs.finalize();
        let mut h = Sha256::new();
        h.update(b"gauntlet-pow-1");
        h.update(self.parent.to_be_bytes());
        h.update(self.height.to_be_bytes());
        h.update(self.miner.0.to_be_bytes());
        h.update([self.bits]);
        h.update(self.nonce.to_be_bytes());
        h.update(root);
        h.finalize().into()
    }

    /// The block's id and whether its hash meets the target its `bits` claim.
    pub fn check(&self) -> (BlockHash, bool) {
        let d = self.digest();
        let id = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
        (id, leading_zero_bits(&d) >= u32::from(self.bits))
    }

    pub fn id(&self) -> BlockHash {
        self.check().0
    }

    /// The work this block adds to its chain: `2^bits` (bits at most 63 are ever
    /// stored; [`BITS_MAX`] is far below).
    pub fn work(&self) -> u64 {
        1u64 << self.bits.min(63)
    }

    /// Try nonces from `nonce` on until the hash meets the target: real proof of work,
    /// at the simulation's low difficulty.
    pub fn seal(mut self, nonce: u64) -> Block {
        self.nonce = nonce;
        while !self.check().1 {
            self.nonce = self.nonce.wrapping_add(1);
        }
        self
    }
}

/// How a block id is printed and judged: 16 hex digits.
pub fn label(id: BlockHash) -> Value {
    Value::new(format!("{id:016x}"))
}

fn leading_zero_bits(d: &[u8; 32]) -> u32 {
    let mut n = 0;
    for byte in d {
        if *byte == 0 {
            n += 8;
        } else {
            return n + byte.leading_zeros();
        }
    }
    n
}

/// The coin a transaction spends (`c3` of `c3:n2`), or `None` for anything that is
/// not a transaction: too long, no `:`, a coin that is not `c` and digits, or an
/// empty payee of other than `a-z0-9_`.
pub fn coin(tx: &Value) -> Option<&str> {
    let s = tx.as_str();
    if s.len() > TX_BYTES_MAX {
        return None;
    }
    let (coin, payee) = s.split_once(':')?;
    let digits = coin.strip_prefix('c')?;
    let ok_coin = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let ok_payee = !payee.is_empty()
        && payee
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (ok_coin && ok_payee).then_some(coin)
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} h={} parent={} by {} bits={}",
            label(self.id()),
            self.height,
            label(self.parent),
            self.miner,
            self.bits
        )?;
        if !self.txs.is_empty() {
            let txs: Vec<&str> = self.txs.iter().map(|t| t.as_str()).collect();
            write!(f, " txs=[{}]", txs.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sealed block meets its target; raising its claimed difficulty without
    /// sealing again breaks it (what the target check catches); the id changes with
    /// every header field.
    #[test]
    fn sealing_meets_the_target_and_a_forged_claim_does_not() {
        let b = Block {
            parent: Block::genesis().id(),
            height: 1,
            miner: NodeId(1),
            bits: 4,
            nonce: 0,
            txs: vec![Value::new("c1:n2")],
        }
        .seal(7);
        assert!(b.check().1);
        let mut forged = b.clone();
        while forged.check().1 {
            forged.bits += 1;
        }
        assert!(!forged.check().1);
        let mut other = b.clone();
        other.txs = vec![Value::new("c1:n3")];
        assert_ne!(other.id(), b.id());
    }

    /// Transactions parse to their coin; anything else is refused.
    #[test]
    fn transactions_name_one_coin() {
        assert_eq!(coin(&Value::new("c12:n3")), Some("c12"));
        for bad in ["c:n1", "x1:n1", "c1:", "c1n1", "c1:N1", &"c1:".repeat(20)] {
            assert_eq!(coin(&Value::new(bad)), None, "{bad}");
        }
    }
}
