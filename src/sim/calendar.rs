//! The fast world's queue of timed actions: a calendar with one bucket per millisecond.
//!
//! The fast world runs one simulated millisecond at a time and sorts each
//! millisecond's actions itself ([`super::fast`]'s `Action::order`), so its queue
//! never needs an order finer than the millisecond, only the order of insertion
//! within one (which the sort keeps for ties). A binary heap gave a total order
//! anyway, at a logarithmic sift per push and pop. Here a push links the action at
//! the tail of its millisecond's bucket and a millisecond's actions come out as one
//! chain: constant time each.
//!
//! Buckets cover the next [`RING_MS`] milliseconds, where nearly every latency, extra
//! delay and timer lands; anything due later waits in a heap and is linked into its
//! bucket, in the order it was pushed, as soon as its millisecond comes within reach
//! (before anything else can be pushed for it). The actions live in one slab whose
//! slots are reused, so a run allocates nothing per action once the slab has grown.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Milliseconds covered by buckets, counting the current one.
pub(super) const RING_MS: u64 = 256;

const WORDS: usize = RING_MS as usize / 64;

/// The end of a chain.
const NIL: u32 = u32::MAX;

struct Entry<A> {
    action: Option<A>,
    /// The next entry of the same bucket, in the order pushed.
    next: u32,
}

pub(super) struct Calendar<A> {
    /// Every pending action; freed slots are reused.
    slab: Vec<Entry<A>>,
    free: Vec<u32>,
    /// Each bucket's first and last entry (`NIL`: empty). Bucket `t % RING_MS` holds
    /// the actions due at `t`, for `t` in `now_ms..now_ms + RING_MS`.
    heads: [u32; RING_MS as usize],
    tails: [u32; RING_MS as usize],
    /// One bit per non-empty bucket, to find the next due millisecond in a few words.
    occupied: [u64; WORDS],
    /// Actions due at or after `now_ms + RING_MS`: `(at_ms, order pushed, slot)`.
    later: BinaryHeap<Reverse<(u64, u64, u32)>>,
    pushed: u64,
    now_ms: u64,
    len: usize,
}

impl<A> Calendar<A> {
    pub fn new() -> Self {
        Calendar {
            slab: Vec::new(),
            free: Vec::new(),
            heads: [NIL; RING_MS as usize],
            tails: [NIL; RING_MS as usize],
            occupied: [0; WORDS],
            later: BinaryHeap::new(),
            pushed: 0,
            now_ms: 0,
            len: 0,
        }
    }

    /// Actions pending.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Queue `action` for `at_ms`, which must not be in the past.
    pub fn push(&mut self, at_ms: u64, action: A) {
        assert!(
            at_ms >= self.now_ms,
            "an action scheduled for {at_ms} ms at {} ms",
            self.now_ms
        );
        self.len += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Entry {
                    action: Some(action),
                    next: NIL,
                };
                slot
            }
            None => {
                self.slab.push(Entry {
                    action: Some(action),
                    next: NIL,
                });
                (self.slab.len() - 1) as u32
            }
        };
        if at_ms < self.now_ms + RING_MS {
            self.link(at_ms, slot);
        } else {
            self.pushed += 1;
            self.later.push(Reverse((at_ms, self.pushed, slot)));
        }
    }

    /// Append `slot` to the bucket of `at_ms`.
    fn link(&mut self, at_ms: u64, slot: u32) {
        let bucket = (at_ms % RING_MS) as usize;
        match self.tails[bucket] {
            NIL => {
                self.heads[bucket] = slot;
                self.occupied[bucket / 64] |= 1 << (bucket % 64);
            }
            tail => self.slab[tail as usize].next = slot,
        }
        self.tails[bucket] = slot;
    }

    /// Move every action due now to `out`, in the order pushed.
    pub fn take_due(&mut self, out: &mut Vec<A>) {
        let bucket = (self.now_ms % RING_MS) as usize;
        let mut slot = std::mem::replace(&mut self.heads[bucket], NIL);
        self.tails[bucket] = NIL;
        self.occupied[bucket / 64] &= !(1 << (bucket % 64));
        while slot != NIL {
            let entry = &mut self.slab[slot as usize];
            out.push(entry.action.take().expect("a linked slot holds its action"));
            self.free.push(slot);
            self.len -= 1;
            slot = entry.next;
        }
    }

    /// When the earliest action due after now is due, if any is pending.
    pub fn next_ms(&self) -> Option<u64> {
        let from = ((self.now_ms + 1) % RING_MS) as usize;
        // The words from `from`'s on, around the ring, and `from`'s own word once
        // more for the buckets before `from` in it. The current bucket was emptied by
        // `take_due`, so a hit is never a whole ring away.
        for k in 0..=WORDS {
            let w = (from / 64 + k) % WORDS;
            let mut bits = self.occupied[w];
            if k == 0 {
                bits &= !0u64 << (from % 64);
            }
            if bits != 0 {
                let bucket = w * 64 + bits.trailing_zeros() as usize;
                let ahead = (bucket + RING_MS as usize - from) as u64 % RING_MS;
                return Some(self.now_ms + 1 + ahead);
            }
        }
        self.later.peek().map(|e| e.0 .0)
    }

    /// Move to `now_ms` (no earlier than the next due action: nothing is skipped),
    /// linking the actions that come within reach into their buckets.
    pub fn advance(&mut self, now_ms: u64) {
        debug_assert!(
            self.next_ms().is_none_or(|due| due >= now_ms),
            "advancing past a due action"
        );
        self.now_ms = now_ms;
        while let Some(&Reverse((at_ms, _, slot))) = self.later.peek() {
            if at_ms >= now_ms + RING_MS {
                break;
            }
            self.later.pop();
            self.link(at_ms, slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Actions come out at their millisecond, in the order pushed, whether they were
    /// within the ring when pushed or waited beyond it; `next_ms` finds each.
    #[test]
    fn actions_come_out_at_their_time_in_push_order() {
        let mut c = Calendar::new();
        let far = 3 * RING_MS + 7;
        c.push(far, "far 1");
        c.push(5, "a");
        c.push(0, "now");
        c.push(5, "b");
        c.push(RING_MS - 1, "edge");
        let mut out = Vec::new();
        c.take_due(&mut out);
        assert_eq!(out, ["now"]);
        let mut seen = Vec::new();
        let mut pushed_late = false;
        while let Some(at) = c.next_ms() {
            c.advance(at);
            if !pushed_late && at + RING_MS > far {
                // Pushed for `far` once it is within reach: after "far 1".
                c.push(far, "far 2");
                pushed_late = true;
            }
            out.clear();
            c.take_due(&mut out);
            seen.push((at, out.clone()));
        }
        assert_eq!(
            seen,
            [
                (5, vec!["a", "b"]),
                (RING_MS - 1, vec!["edge"]),
                (far, vec!["far 1", "far 2"]),
            ]
        );
        assert_eq!(c.len(), 0);
    }

    /// The next due millisecond is found across the ring's wrap and its words.
    #[test]
    fn next_ms_wraps_around_the_ring() {
        for start in [0, 60, 63, 64, 200, RING_MS - 1, RING_MS + 3] {
            for ahead in [1, 2, 63, 64, 65, 130, RING_MS - 1, RING_MS, 5 * RING_MS] {
                let mut c: Calendar<u64> = Calendar::new();
                c.advance(start);
                c.push(start + ahead, ahead);
                assert_eq!(c.next_ms(), Some(start + ahead), "{start} + {ahead}");
                c.advance(start + ahead);
                let mut out = Vec::new();
                c.take_due(&mut out);
                assert_eq!(out, [ahead]);
                assert_eq!(c.next_ms(), None);
            }
        }
    }
}
