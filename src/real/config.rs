//! `cluster.toml`: which nodes make up a real cluster, where each listens and which roles
//! it plays, plus optional protocol timing. Read once and validated as a whole, with an
//! error naming the file and the field, before any socket is opened.

use crate::check::Roster;
use crate::ids::NodeId;
use crate::paxos::{Membership, Roles, TimingConfig};
use crate::sim::{Cluster, NodeSpec, NODES_MAX};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Largest `cluster.toml` read: a 32-node cluster fits in a few kilobytes.
pub const CONFIG_BYTES_MAX: u64 = 256 * 1024;
/// Upper bound on any timing setting, so a typo cannot stall a node for hours.
pub const TIMING_MS_MAX: u64 = 60_000;

/// A config that cannot be used, with the file and the field at fault.
#[derive(Debug, Error)]
#[error("{}: {field}: {reason}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    Acceptor,
    Learner,
    Proposer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeToml {
    id: u16,
    address: String,
    roles: Vec<Role>,
}

/// The optional `[timing]` table; every field falls back to [`TimingConfig::default`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimingToml {
    phase_timeout_ms: Option<u64>,
    backoff_ms_min: Option<u64>,
    backoff_ms_max: Option<u64>,
    attempts_max: Option<u32>,
    learner_poll_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterToml {
    #[serde(default)]
    node: Vec<NodeToml>,
    #[serde(default)]
    timing: TimingToml,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub id: NodeId,
    pub address: SocketAddr,
    pub roles: Roles,
}

/// A validated cluster: node ids unique, addresses unique, at least one acceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Where it was read from; data directories default to beside it.
    pub path: PathBuf,
    /// Sorted by id.
    pub nodes: Vec<NodeConfig>,
    pub timing: TimingConfig,
}

impl ClusterConfig {
    /// Read and validate `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |field: &str, reason: String| ConfigError {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| err("file", e.to_string()))?
            .len();
        if len > CONFIG_BYTES_MAX {
            return Err(err(
                "file",
                format!("{len} bytes is over the {CONFIG_BYTES_MAX}-byte limit"),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err("file", e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parse and validate `text`, naming `path` in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let err = |field: String, reason: String| ConfigError {
            path: path.to_path_buf(),
            field,
            reason,
        };
        let raw: ClusterToml =
            toml::from_str(text).map_err(|e| err("toml".into(), e.to_string().trim().into()))?;
        if raw.node.is_empty() {
            return Err(err("node".into(), "no [[node]] tables".into()));
        }
        if raw.node.len() > NODES_MAX {
            return Err(err(
                "node".into(),
                format!("{} nodes is over the limit of {NODES_MAX}", raw.node.len()),
            ));
        }
        let mut nodes = Vec::new();
        let mut ids = BTreeSet::new();
        let mut addresses = BTreeMap::new();
        for (i, n) in raw.node.iter().enumerate() {
            let field = |name: &str| format!("node[{i}].{name}");
            if n.id == 0 {
                return Err(err(field("id"), "ids start at 1".into()));
            }
            if !ids.insert(n.id) {
                return Err(err(field("id"), format!("id {} appears twice", n.id)));
            }
            let address: SocketAddr = n.address.parse().map_err(|e| {
                err(
                    field("address"),
                    format!("{:?} is not ip:port ({e})", n.address),
                )
            })?;
            if address.port() == 0 {
                return Err(err(field("address"), "port 0 cannot be dialled".into()));
            }
            if let Some(other) = addresses.insert(address, n.id) {
                return Err(err(
                    field("address"),
                    format!("{address} is also node {other}'s address"),
                ));
            }
            if n.roles.is_empty() {
                return Err(err(
                    field("roles"),
                    "empty; give any of \"acceptor\", \"learner\", \"proposer\"".into(),
                ));
            }
            nodes.push(NodeConfig {
                id: NodeId(n.id),
                address,
                roles: Roles {
                    acceptor: n.roles.contains(&Role::Acceptor),
                    learner: n.roles.contains(&Role::Learner),
                    proposer: n.roles.contains(&Role::Proposer),
                },
            });
        }
        if !nodes.iter().any(|n| n.roles.acceptor) {
            return Err(err("node".into(), "no node is an acceptor".into()));
        }
        nodes.sort_by_key(|n| n.id);
        let timing = timing(&raw.timing).map_err(|(f, r)| err(format!("timing.{f}"), r))?;
        Ok(ClusterConfig {
            path: path.to_path_buf(),
            nodes,
            timing,
        })
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeConfig> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The cluster in the simulation's terms, which knows who plays which role.
    pub fn cluster(&self) -> Cluster {
        Cluster {
            nodes: self
                .nodes
                .iter()
                .map(|n| NodeSpec {
                    id: n.id,
                    roles: n.roles,
                })
                .collect(),
        }
    }

    pub fn membership(&self) -> Membership {
        self.cluster().membership()
    }

    /// The same lists as [`Self::membership`], in the form the checkers take.
    pub fn roster(&self) -> Roster {
        let m = self.membership();
        Roster {
            acceptors: m.acceptors,
            learners: m.learners,
            proposers: m.proposers,
        }
    }

    /// Every node's address, for the transport's address book.
    pub fn address_book(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.nodes.iter().map(|n| (n.id, n.address)).collect()
    }

    /// The data directory of `id` when none is given: `data/n<id>` beside the config.
    pub fn default_data_dir(&self, id: NodeId) -> PathBuf {
        let base = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        base.join("data").join(id.host_name())
    }
}

fn timing(t: &TimingToml) -> Result<TimingConfig, (&'static str, String)> {
    let d = TimingConfig::default();
    let out = TimingConfig {
        phase_timeout_ms: t.phase_timeout_ms.unwrap_or(d.phase_timeout_ms),
        backoff_ms_min: t.backoff_ms_min.unwrap_or(d.backoff_ms_min),
        backoff_ms_max: t.backoff_ms_max.unwrap_or(d.backoff_ms_max),
        attempts_max: t.attempts_max.or(d.attempts_max),
        learner_poll_ms: t.learner_poll_ms.unwrap_or(d.learner_poll_ms),
    };
    for (name, ms) in [
        ("phase_timeout_ms", out.phase_timeout_ms),
        ("backoff_ms_max", out.backoff_ms_max),
        ("learner_poll_ms", out.learner_poll_ms),
    ] {
        if ms == 0 || ms > TIMING_MS_MAX {
            return Err((name, format!("{ms} is outside 1..={TIMING_MS_MAX}")));
        }
    }
    if out.backoff_ms_min > out.backoff_ms_max {
        return Err((
            "backoff_ms_min",
            format!(
                "{} is above backoff_ms_max {}",
                out.backoff_ms_min, out.backoff_ms_max
            ),
        ));
    }
    if out.attempts_max == Some(0) {
        return Err(("attempts_max", "0 would never propose".into()));
    }
    Ok(out)
}

/// The text of a working `cluster.toml`: `servers` nodes that accept and learn on
/// consecutive ports from `base_port`, then `proposers` client nodes on the next ports.
/// The comments make the file its own documentation.
pub fn init_cluster_toml(
    servers: u16,
    proposers: u16,
    base_port: u16,
    host: IpAddr,
) -> Result<String, String> {
    if servers == 0 {
        return Err("--nodes: a cluster needs at least one acceptor".into());
    }
    let total = servers as usize + proposers as usize;
    if total > NODES_MAX {
        return Err(format!(
            "--nodes + --proposers: {total} nodes is over the limit of {NODES_MAX}"
        ));
    }
    if base_port == 0 || base_port as usize + total - 1 > u16::MAX as usize {
        return Err(format!(
            "--base-port: {base_port}..{} is not a range of ports",
            base_port as usize + total - 1
        ));
    }
    let d = TimingConfig::default();
    let mut out = String::new();
    out.push_str(&format!(
        "# A gauntlet cluster: {servers} server(s) that accept and learn, {proposers} proposer(s).\n\
         # Written by `gauntlet init-cluster`; edit freely, gauntlet checks it on every start.\n\
         #\n\
         # Each [[node]] is one process. Start one per terminal:\n\
         #   gauntlet node --config cluster.toml --id <id>      (servers)\n\
         #   gauntlet propose --config cluster.toml --value Value_A   (a client)\n\
         #\n\
         # id       a small positive integer, unique; messages and logs call the node n<id>.\n\
         # address  ip:port the node listens on (UDP). Loopback keeps the cluster on this machine.\n\
         # roles    any of \"acceptor\" (votes and remembers), \"learner\" (learns the chosen\n\
         #          value and writes it to <data dir>/chosen_value), \"proposer\" (runs ballots\n\
         #          for a client's value).\n\
         #\n\
         # Each node keeps its durable state, its history (history.jsonl) and chosen_value in\n\
         # its data directory, by default data/n<id> beside this file (--data-dir overrides).\n"
    ));
    let mut port = base_port;
    for i in 1..=total as u16 {
        let roles = if i <= servers {
            "[\"acceptor\", \"learner\"]"
        } else {
            "[\"proposer\"]"
        };
        out.push_str(&format!(
            "\n[[node]]\nid = {i}\naddress = \"{}\"\nroles = {roles}\n",
            SocketAddr::new(host, port)
        ));
        port = port.wrapping_add(1);
    }
    out.push_str(&format!(
        "\n# Protocol timing in milliseconds (every key optional; these are the defaults).\n\
         [timing]\n\
         # How long a proposer waits for a majority in either phase before backing off.\n\
         phase_timeout_ms = {}\n\
         # A proposer waits a random time in this range before its next ballot.\n\
         backoff_ms_min = {}\n\
         backoff_ms_max = {}\n\
         # How often a learner that has not learned asks the proposers to re-drive the value.\n\
         learner_poll_ms = {}\n\
         # attempts_max = 50   # ballots before a proposer gives up; unset: retry forever\n",
        d.phase_timeout_ms, d.backoff_ms_min, d.backoff_ms_max, d.learner_poll_ms
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn parse(text: &str) -> Result<ClusterConfig, ConfigError> {
        ClusterConfig::parse(text, Path::new("cluster.toml"))
    }

    /// What `init-cluster` writes loads back as the cluster it describes: servers that
    /// accept and learn on consecutive ports, then the proposers.
    #[test]
    fn init_cluster_text_loads_back() {
        let text = init_cluster_toml(3, 2, 5001, IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let c = parse(&text).unwrap();
        let m = c.membership();
        assert_eq!(m.acceptors, vec![NodeId(1), NodeId(2), NodeId(3)]);
        assert_eq!(m.learners, m.acceptors);
        assert_eq!(m.proposers, vec![NodeId(4), NodeId(5)]);
        assert_eq!(c.node(NodeId(5)).unwrap().address.port(), 5005);
        assert_eq!(c.timing, TimingConfig::default());
        assert_eq!(
            c.default_data_dir(NodeId(2)),
            Path::new(".").join("data").join("n2")
        );
    }

    /// Each kind of mistake is refused with the field named, never a panic.
    #[test]
    fn bad_configs_name_the_field() {
        let node = |id: &str, addr: &str, roles: &str| {
            format!("[[node]]\nid = {id}\naddress = \"{addr}\"\nroles = {roles}\n")
        };
        let ok = node("1", "127.0.0.1:5001", "[\"acceptor\"]");
        assert!(parse(&ok).is_ok());
        let cases = [
            (String::new(), "node"),
            (node("0", "127.0.0.1:5001", "[\"acceptor\"]"), "node[0].id"),
            (
                ok.clone() + &node("1", "127.0.0.1:5002", "[\"acceptor\"]"),
                "node[1].id",
            ),
            (node("1", "localhost", "[\"acceptor\"]"), "node[0].address"),
            (
                ok.clone() + &node("2", "127.0.0.1:5001", "[\"learner\"]"),
                "node[1].address",
            ),
            (node("1", "127.0.0.1:5001", "[]"), "node[0].roles"),
            (
                node("1", "127.0.0.1:5001", "[\"learner\"]"),
                "no node is an acceptor",
            ),
            (node("1", "127.0.0.1:5001", "[\"voter\"]"), "voter"),
            (
                ok.clone() + "[timing]\nbackoff_ms_min = 90\n",
                "timing.backoff_ms_min",
            ),
            (
                ok.clone() + "[timing]\nphase_timeout_ms = 0\n",
                "timing.phase_timeout_ms",
            ),
            (
                ok.clone() + "[timing]\nphse_timeout_ms = 5\n",
                "phse_timeout_ms",
            ),
            ("[[node]]\nid = 1\n".to_string(), "address"),
        ];
        for (text, needle) in cases {
            let e = parse(&text).expect_err(&text).to_string();
            assert!(
                e.starts_with("cluster.toml: ") && e.contains(needle),
                "{needle} not in {e:?} for\n{text}"
            );
        }
    }

    /// init-cluster refuses sizes it cannot write.
    #[test]
    fn init_cluster_refuses_impossible_sizes() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(init_cluster_toml(0, 2, 5001, lo).is_err());
        let over = (NODES_MAX + 1) as u16;
        assert!(init_cluster_toml(over - 2, 2, 5001, lo).is_err());
        assert!(init_cluster_toml(over - 3, 2, 5001, lo).is_ok());
        assert!(init_cluster_toml(3, 2, 65_534, lo).is_err());
        assert!(init_cluster_toml(3, 2, 0, lo).is_err());
    }
}
