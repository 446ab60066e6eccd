//! The proof-of-work chain's named adversary (`crate::fault::Fault::Strategy`):
//! `selfish_miner`, Eyal and Sirer's selfish mining ("Majority is not enough", FC
//! 2014), counted in blocks (as the paper does; with miners of different difficulty
//! the fork choice still goes by work).
//!
//! It mines on its private chain and withholds what it finds. When the public chain
//! (the blocks it received, and those it published) grows to within one block of the
//! private one it publishes everything and wins; when the public chain draws level it
//! publishes its last block and races (and if it finds the next block during the race
//! it publishes that at once); while it is further ahead it publishes as many blocks
//! as the public chain has, so honest miners keep wasting work on a chain it will
//! override; when the public chain overtakes it, it adopts it and starts again. Its
//! blocks are valid: it breaks no rule an honest node can check, and it serves its
//! peers only the public part of its chain.

use super::{Block, Context, CoreOutput, Msg, NodeId, PowEvent, PowNode};

/// The adversaries the chain supplies, by name (`Protocol::strategies`).
pub const STRATEGIES: [&str; 1] = ["selfish_miner"];

/// What a selfish miner keeps beside the honest node's state.
#[derive(Debug, Clone, Default)]
pub struct Selfish {
    /// Blocks found here and not published yet, lowest first: the top of the chain.
    withheld: Vec<Block>,
    /// The height of the best chain the others know (received or published blocks).
    public_height: u64,
    /// Whether its published block and another at the same height are racing (Eyal
    /// and Sirer's state 0').
    racing: bool,
}

impl PowNode {
    /// How many blocks at the top of the chain are withheld (0 for an honest node).
    pub(super) fn withheld_len(&self) -> usize {
        self.selfish.as_ref().map_or(0, |s| s.withheld.len())
    }

    /// As a selfish miner, after `block` (at `height`, found here when `from` is
    /// `None`) was stored: withhold, publish or adopt. `better`: its chain beats the
    /// current tip (the caller switches to it after).
    pub(super) fn selfish_accepted(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<CoreOutput<PowNode>>,
        block: &Block,
        from: Option<NodeId>,
        height: u64,
        better: bool,
    ) {
        let Some(mut s) = self.selfish.take() else {
            return;
        };
        let publish: Vec<Block> = match from {
            None => {
                s.withheld.push(block.clone());
                if s.racing {
                    s.racing = false;
                    std::mem::take(&mut s.withheld)
                } else {
                    Vec::new()
                }
            }
            Some(from) if better => {
                // The public chain overtook the private one: adopt it, and pass the
                // block on as an honest node would.
                s.withheld.clear();
                s.racing = false;
                s.public_height = s.public_height.max(height);
                self.relay(cx, out, &Msg::Block(block.clone()), Some(from));
                Vec::new()
            }
            Some(_) if height <= s.public_height || s.withheld.is_empty() => {
                s.public_height = s.public_height.max(height);
                Vec::new()
            }
            Some(_) => {
                s.public_height = height;
                let private_height = s.withheld.last().map_or(0, |b| b.height);
                match private_height.saturating_sub(height) {
                    // Level: publish and race.
                    0 => {
                        s.racing = true;
                        std::mem::take(&mut s.withheld)
                    }
                    // One ahead: publish everything, the private chain wins.
                    1 => std::mem::take(&mut s.withheld),
                    // Further ahead: match the public chain's length.
                    _ => {
                        let n = s.withheld.iter().take_while(|b| b.height <= height).count();
                        s.withheld.drain(..n).collect()
                    }
                }
            }
        };
        for b in &publish {
            s.public_height = s.public_height.max(b.height);
        }
        let withheld = s.withheld.len() as u64;
        self.selfish = Some(s);
        if !publish.is_empty() || from.is_none() {
            out.push(CoreOutput::Event(PowEvent::Withheld { blocks: withheld }));
        }
        for b in publish {
            self.relay(cx, out, &Msg::Block(b), None);
        }
    }
}
