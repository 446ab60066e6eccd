//! Real mode: the same node shell as the simulation, as separate processes on real UDP
//! sockets and real disks (docs/architecture.md). Only the `Transport`
//! ([`crate::net::UdpTransport`]) and the `Storage` ([`crate::storage::StdFileStorage`])
//! differ; the protocol cores and the shell are the ones the simulation tests.
//!
//! - [`config`]: `cluster.toml` (nodes, addresses, roles, timing) and `init-cluster`.
//! - [`runner`]: one node process (`gauntlet node`), and `gauntlet propose`, the same
//!   runner on a proposer node that stops once it sees a value chosen.
//! - [`history`]: the per-node JSON-lines history and the merge of many into one.
//! - [`check`]: `gauntlet check`, the simulation's checkers over merged histories.

pub mod check;
pub mod config;
pub mod history;
pub mod runner;

use std::time::Duration;

/// Longest `--timeout` accepted.
pub const TIMEOUT_MAX: Duration = Duration::from_secs(24 * 3600);

/// Parse a duration such as `10s`, `500ms`, `2m` or `10` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else {
        (t, 1_000)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s, 500ms or 2m"))?;
    let d = Duration::from_millis(n.saturating_mul(unit_ms));
    if d.is_zero() || d > TIMEOUT_MAX {
        return Err(format!("{text:?} is outside 1ms..=24h"));
    }
    Ok(d)
}

/// Send the node's logs to stderr at the level `GAUNTLET_LOG` names (`info` by
/// default; `debug` adds every message sent and received).
pub fn init_logging() {
    let level = std::env::var("GAUNTLET_LOG")
        .ok()
        .and_then(|s| s.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations read as a user writes them; nonsense and extremes are refused.
    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        for bad in ["", "s", "ten", "0s", "-1s", "100000m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
