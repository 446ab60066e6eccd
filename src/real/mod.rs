//! Real mode: any protocol's nodes as separate processes on real UDP sockets and real
//! disks (docs/architecture.md), through the same contract as the simulation.
//! Only the `Transport` ([`crate::net::UdpTransport`]) and the `Storage`
//! ([`crate::storage::StdFileStorage`]) differ; the protocol's core, the node shell,
//! the history events and the judges are the ones the simulation tests. Nothing here
//! names a protocol: each comes in as a `P: Protocol`, or erased as a
//! [`RealProtocol`] (every protocol is one).
//!
//! - [`config`] reads `cluster.toml` (protocol, nodes, addresses, the protocol's
//!   `[params]`) and writes `init-cluster`'s text;
//! - [`runner`] runs one node process (`gauntlet node`), and `gauntlet propose`, the
//!   same runner handed a client's value, stopped when its node observes an answer;
//! - [`history`] writes the per-node JSON-lines history and merges many into one;
//! - [`check`] is `gauntlet check`: the protocol's judges over merged histories.

pub mod check;
pub mod config;
pub mod history;
pub mod owned;
pub mod runner;

pub use check::{check_files, CheckReport};
pub use config::{init_cluster_toml, ClusterConfig, ClusterShape, ConfigError, InitCluster};
pub use history::{history_protocol, BadHistory, HISTORY_FILE};
pub use runner::{NodeOptions, ProposeOptions, RealError, Stopped};

use crate::protocol::Protocol;
use std::path::PathBuf;
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

/// Real mode for one protocol, object-safe, so the command line reaches it through a
/// registry (`AnyProtocol::real`). Every [`Protocol`] is one, by the blanket impl
/// below: nothing to implement.
pub trait RealProtocol: Send + Sync {
    /// The text of a working, commented `cluster.toml` for this protocol in `shape`
    /// (checked by the protocol before it is returned) and the nodes' secret keys;
    /// the error says which flag.
    fn init_cluster(&self, shape: &ClusterShape) -> Result<InitCluster, String>;
    /// Run one node of the cluster until SIGTERM or Ctrl-C.
    fn node(&self, opts: NodeOptions) -> Result<Stopped, RealError>;
    /// Run a node with a client's value until it observes an answer or times out.
    fn propose(&self, opts: ProposeOptions) -> Result<Stopped, RealError>;
    /// Read, merge and judge one history file per node.
    fn check(&self, files: &[PathBuf]) -> Result<CheckReport, BadHistory>;
}

impl<P: Protocol> RealProtocol for P {
    fn init_cluster(&self, shape: &ClusterShape) -> Result<InitCluster, String> {
        init_cluster_toml(self, shape)
    }

    fn node(&self, opts: NodeOptions) -> Result<Stopped, RealError> {
        runner::run_node(self, opts)
    }

    fn propose(&self, opts: ProposeOptions) -> Result<Stopped, RealError> {
        runner::run_propose(self, opts)
    }

    fn check(&self, files: &[PathBuf]) -> Result<CheckReport, BadHistory> {
        check_files(self, files)
    }
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
mod toy;

#[cfg(test)]
mod tests {

    /// A node killed after persisting its decision but before writing `chosen_value`
    /// gets the file back from its state when it restarts; a state with no decision
    /// writes nothing.
    #[test]
    fn chosen_value_is_restored_from_the_state() {
        use crate::storage::StdFileStorage;
        use crate::value::Value;
        let dir = std::env::temp_dir().join(format!("gauntlet-restore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut storage = StdFileStorage::open(&dir).expect("opens");
        let file = dir.join(crate::node::CHOSEN_VALUE_FILE);
        let undecided = toy::ToyState { decided: None };
        runner::restore_chosen_value::<toy::ToyNode>(&mut storage, &undecided).unwrap();
        assert!(!file.exists());
        let decided = toy::ToyState {
            decided: Some(Value::new("Value_A")),
        };
        runner::restore_chosen_value::<toy::ToyNode>(&mut storage, &decided).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "Value_A");
        let _ = std::fs::remove_dir_all(&dir);
    }
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
