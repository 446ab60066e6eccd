//! The generals' named adversary (`crate::fault::Fault::Strategy`): `two_faced`, the
//! traitor of Lamport, Shostak and Pease's proofs. As commander it orders the first
//! half of its lieutenants (in id order, rounded down) one way and the rest the
//! other; as a lieutenant it relays truthfully to the first half of the other
//! lieutenants and turns every order it relays to the rest (so with one receiver it
//! lies to it). It signs nothing and forges no path: it
//! lies only about what it says itself, which is all an oral-messages traitor can do.

use super::{other, CoreOutput, General, NodeId};

/// The adversaries the generals supply, by name (`Protocol::strategies`).
pub const STRATEGIES: [&str; 1] = ["two_faced"];

impl General {
    /// Turn every order in the sends among `outputs` to the second half of this
    /// general's receivers (the larger one, when they are odd).
    pub(super) fn turn_half(&self, outputs: &mut [CoreOutput<General>]) {
        let receivers: Vec<NodeId> = self.lieutenants().filter(|&l| l != self.id).collect();
        let half = receivers.len() / 2;
        for o in outputs {
            if let CoreOutput::Send { to, msg } = o {
                let second = receivers
                    .iter()
                    .position(|r| r == to)
                    .is_some_and(|i| i >= half);
                if second {
                    for e in &mut msg.entries {
                        e.order = other(&e.order);
                    }
                }
            }
        }
    }
}
