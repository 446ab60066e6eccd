//! Shards: one campaign split over machines. Shard `I/N` plays the campaign's runs
//! whose index is `I - 1` modulo `N`, so the shards of one campaign are disjoint, cover
//! it exactly, and each plays the same runs (same index, same seed) as the whole
//! campaign would; `gauntlet merge` adds their reports back up
//! ([`super::report::merge`]).
//!
//! Run `i` has seed `run_seed(base, i)`, a bijection of `i` for a fixed base, so no two
//! runs of a campaign share a seed, and failure files (named by seed) from different
//! shards never collide.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most shards a campaign may be split into.
pub const SHARDS_MAX: u64 = 1_000_000;

/// Shard `index` of `count` (1-based, as `--shard I/N` and the engines' array
/// indices people type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole campaign as one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Parse `I/N` (1 <= I <= N <= [`SHARDS_MAX`]); the error says what is wrong.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("shard `{text}` is not I/N (for example 2/4)"))?;
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("shard `{text}`: {what} `{s}` is not a number"))
        };
        let (index, count) = (number(i, "I")?, number(n, "N")?);
        if count == 0 || count > SHARDS_MAX {
            return Err(format!(
                "shard `{text}`: N must be between 1 and {SHARDS_MAX}"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard `{text}`: I must be between 1 and N ({count}); shards count from 1"
            ));
        }
        Ok(Shard { index, count })
    }

    /// How many of a campaign's `runs` this shard plays.
    pub fn runs(&self, runs: u64) -> u64 {
        let offset = self.index - 1;
        if runs <= offset {
            0
        } else {
            (runs - offset - 1) / self.count + 1
        }
    }

    /// The campaign index of this shard's `position`-th run.
    pub fn run_index(&self, position: u64) -> u64 {
        position
            .checked_mul(self.count)
            .and_then(|i| i.checked_add(self.index - 1))
            .expect("a campaign's run index fits in u64")
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The shards of a campaign are disjoint and cover it exactly, for run counts
    /// that do and do not divide evenly; each shard's runs come in campaign order.
    #[test]
    fn shards_partition_the_campaign() {
        for runs in [0, 1, 3, 10, 11, 97] {
            for count in [1, 2, 3, 4, 7, 20] {
                let mut seen = BTreeSet::new();
                for index in 1..=count {
                    let shard = Shard { index, count };
                    let mine: Vec<u64> =
                        (0..shard.runs(runs)).map(|p| shard.run_index(p)).collect();
                    assert!(mine.windows(2).all(|w| w[0] < w[1]));
                    for i in mine {
                        assert!(i < runs, "{shard} of {runs}: index {i}");
                        assert!(seen.insert(i), "{shard} of {runs}: index {i} twice");
                    }
                }
                assert_eq!(seen.len() as u64, runs, "{count} shards of {runs} cover it");
            }
        }
    }

    /// `--shard` text: I/N with 1 <= I <= N; anything else names what is wrong.
    #[test]
    fn parse_checks_its_numbers() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard::WHOLE));
        for (bad, says) in [
            ("0/4", "shards count from 1"),
            ("5/4", "between 1 and N"),
            ("1/0", "N must be"),
            ("x/4", "`x` is not a number"),
            ("3", "is not I/N"),
        ] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
