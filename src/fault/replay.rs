//! What a node with an armed [`super::Fault::Replay`] remembers: its last
//! [`super::REPLAY_MEMORY`] messages, sent or received, in order. Both lanes keep one
//! per running node (a restart forgets it, as it forgets everything in memory) and
//! fill it at the same points (a delivery, a send as it goes out), so they replay the
//! same message.

use std::collections::VecDeque;

/// A node's remembered messages, oldest first.
#[derive(Debug, Clone)]
pub struct ReplayMemory<M> {
    messages: VecDeque<M>,
}

impl<M: Clone> Default for ReplayMemory<M> {
    fn default() -> Self {
        ReplayMemory {
            messages: VecDeque::new(),
        }
    }
}

impl<M: Clone> ReplayMemory<M> {
    /// Remember `msg`, forgetting the oldest past the limit.
    pub fn remember(&mut self, msg: &M) {
        if self.messages.len() == super::REPLAY_MEMORY as usize {
            self.messages.pop_front();
        }
        self.messages.push_back(msg.clone());
    }

    /// The `nth` latest message (1: the latest), or the oldest if fewer are
    /// remembered; `None` if none is.
    pub fn recall(&self, nth: u32) -> Option<M> {
        let back = (nth.max(1) as usize).min(self.messages.len());
        let index = self.messages.len().checked_sub(back)?;
        self.messages.get(index).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recall counts from the latest, clamps to the oldest, and the memory keeps only
    /// the last `REPLAY_MEMORY` messages.
    #[test]
    fn recall_counts_back_from_the_latest() {
        let mut m: ReplayMemory<u32> = ReplayMemory::default();
        assert_eq!(m.recall(1), None);
        for i in 0..40 {
            m.remember(&i);
        }
        assert_eq!(m.recall(1), Some(39));
        assert_eq!(m.recall(3), Some(37));
        assert_eq!(m.recall(super::super::REPLAY_MEMORY), Some(8));
        assert_eq!(m.recall(1_000), Some(8));
    }
}
