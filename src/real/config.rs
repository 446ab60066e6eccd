//! `cluster.toml`: which protocol a real cluster runs, which nodes make it up and where
//! each listens, and the protocol's own parameters (`[params]`, its
//! [`Protocol::Params`], exactly as a scenario's `params` section holds them). Read
//! once and validated as a whole, with an error naming the file and the field, before
//! any socket is opened. The harness's part knows no protocol; the protocol checks its
//! part through [`prepare`], as it checks a scenario.

use crate::ids::NodeId;
use crate::net::{Keyring, NodeKey, PublicKey};
use crate::protocol::{prepare, Protocol, RunSetup};
use crate::scenario::{
    is_protocol_name, Cluster, NodeSpec, Proposal, Scenario, ScenarioError, NODES_MAX,
};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Largest `cluster.toml` read: a 64-node cluster fits in a few kilobytes.
pub const CONFIG_BYTES_MAX: u64 = 256 * 1024;

/// The root seed of the scenario a real cluster stands for, and of every real node's
/// random stream: each node and incarnation still draws from its own stream
/// ([`crate::rng::Stream::Node`]), so backoffs of different nodes and restarts differ.
pub const REAL_SEED: u64 = 0x6761_756e_746c_6574;

/// A config that cannot be used, with the file and the field at fault.
#[derive(Debug, Error)]
#[error("{}: {field}: {reason}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeToml {
    id: u16,
    address: String,
    /// The node's public key, hex (`crate::net::auth`); its secret key is in its own
    /// key file ([`ClusterConfig::secret_key_path`]).
    public_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterToml {
    protocol: String,
    #[serde(default)]
    node: Vec<NodeToml>,
    #[serde(default)]
    params: serde_json::Value,
}

/// One node of the cluster: what it does is the protocol's business (`params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub id: NodeId,
    pub address: SocketAddr,
    /// What checks this node's signatures; every node holds every public key, to
    /// check who sent what it receives, and only its own secret key.
    pub public_key: PublicKey,
}

/// A cluster whose harness part is checked: a protocol name, node ids unique and
/// nonzero, addresses unique and dialable. `params` is checked by the protocol, in
/// [`ClusterConfig::setup`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Where it was read from; data directories default to beside it.
    pub path: PathBuf,
    /// The protocol every node runs, by its registered name.
    pub protocol: String,
    /// Sorted by id.
    pub nodes: Vec<NodeConfig>,
    /// The `[params]` table as JSON (`null` when absent: the protocol's defaults).
    pub params: serde_json::Value,
}

impl ClusterConfig {
    /// Read and validate `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |reason: String| ConfigError {
            path: path.to_path_buf(),
            field: "file".into(),
            reason,
        };
        let text = crate::storage::read_text_bounded(path, CONFIG_BYTES_MAX)
            .map_err(|e| err(e.to_string()))?;
        Self::parse(&text, path)
    }

    /// Parse and validate `text`, naming `path` in errors. TOML is read into a plain
    /// value first, so a field of the wrong type is named by its path
    /// (`node[1].address`, `params.timing.backoff_ms_min`) like a scenario's fields.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let err = |field: String, reason: String| ConfigError {
            path: path.to_path_buf(),
            field,
            reason,
        };
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| err("toml".into(), e.to_string().trim().to_string()))?;
        if !table.contains_key("protocol") {
            return Err(err(
                "protocol".into(),
                "missing: name the protocol every node runs, e.g. protocol = \"paxos\" \
                 (`gauntlet init-cluster --protocol NAME` writes a complete file)"
                    .into(),
            ));
        }
        let value = serde_json::to_value(table).expect("TOML values convert to JSON");
        let raw: ClusterToml = serde_path_to_error::deserialize(&value).map_err(|e| {
            let field = match e.path().to_string() {
                p if p == "." => "file".to_string(),
                p => p,
            };
            err(field, e.into_inner().to_string())
        })?;
        if !is_protocol_name(&raw.protocol) {
            return Err(err(
                "protocol".into(),
                format!("{:?} is not a protocol name", raw.protocol),
            ));
        }
        let nodes = nodes(&raw.node).map_err(|(f, r)| err(f, r))?;
        Ok(ClusterConfig {
            path: path.to_path_buf(),
            protocol: raw.protocol,
            nodes,
            params: raw.params,
        })
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeConfig> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn ids(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// Every node's address, for the transport's address book.
    pub fn address_book(&self) -> BTreeMap<NodeId, SocketAddr> {
        self.nodes.iter().map(|n| (n.id, n.address)).collect()
    }

    /// Where node `id`'s secret key is: `keys/n<id>.secret` beside the cluster file,
    /// one file per node, readable by its owner only. A node reads its own and no
    /// other; cluster.toml holds only public keys, so it can be shared.
    pub fn secret_key_path(&self, id: NodeId) -> PathBuf {
        secret_key_path(&self.path, id)
    }

    /// Node `id`'s keys: its own secret key, read from its key file and checked
    /// against its public key here, and every node's public key. The error names the
    /// key file.
    pub fn keyring(&self, id: NodeId) -> Result<Keyring, ConfigError> {
        let path = self.secret_key_path(id);
        let err = |field: &str, reason: String| ConfigError {
            path: path.clone(),
            field: field.into(),
            reason,
        };
        let text =
            crate::storage::read_text_bounded(&path, SECRET_KEY_FILE_BYTES_MAX).map_err(|e| {
                err(
                    "file",
                    format!("{e} (`gauntlet init-cluster` writes one per node)"),
                )
            })?;
        let secret = NodeKey::from_hex(text.trim()).map_err(|e| err("key", e))?;
        let public = self.node(id).map(|n| n.public_key);
        if public != Some(secret.public()) {
            return Err(err(
                "key",
                format!(
                    "not {id}'s secret key: it does not match {id}'s public_key in {}",
                    self.path.display()
                ),
            ));
        }
        let publics = self.nodes.iter().map(|n| (n.id, n.public_key)).collect();
        Ok(Keyring::new(id, secret, publics))
    }

    /// The cluster's name in durable records: the first 16 hex digits of SHA-256 over
    /// every node's id and public key. `init-cluster` draws fresh keys, so two clusters
    /// never share it, and a data directory of another cluster is refused. (New keys
    /// make a new cluster: its nodes refuse the old data directories.)
    pub fn cluster_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for n in &self.nodes {
            hash.update(n.id.0.to_be_bytes());
            hash.update(n.public_key.to_hex().as_bytes());
        }
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The data directory of `id` when none is given: `data/n<id>` beside the config.
    pub fn default_data_dir(&self, id: NodeId) -> PathBuf {
        let base = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        base.join("data").join(id.host_name())
    }

    /// What a real node of `protocol` is built from, with planted bugs `bugs` (names
    /// the caller checked): the protocol parses and checks `[params]` here, so an
    /// error names `params.<field>` in this file.
    pub fn setup<P: Protocol>(
        &self,
        protocol: &P,
        bugs: &[String],
    ) -> Result<RunSetup<P>, ConfigError> {
        let scenario = real_scenario(&self.protocol, &self.ids(), &self.params, bugs);
        prepare(protocol, &scenario).map_err(|e| self.error(e))
    }

    /// Whether node `id` may take a client request, in the protocol's own words: the
    /// cluster with one request at `id` must pass [`prepare`] (Paxos refuses a request
    /// at a node that is not a proposer; the naive vote takes one anywhere).
    pub fn takes_requests<P: Protocol>(&self, protocol: &P, id: NodeId) -> Result<(), String> {
        let mut scenario = real_scenario(&self.protocol, &self.ids(), &self.params, &[]);
        scenario.workload.push(Proposal {
            proposer: id,
            value: Value::new("probe"),
            at_ms: 0,
        });
        prepare(protocol, &scenario)
            .map(|_| ())
            .map_err(|e| e.reason)
    }

    /// A scenario error as an error of this file.
    fn error(&self, e: ScenarioError) -> ConfigError {
        let field = match e.field.as_str() {
            "cluster.nodes" => "node".to_string(),
            _ => e.field,
        };
        ConfigError {
            path: self.path.clone(),
            field,
            reason: e.reason,
        }
    }
}

/// Largest secret key file read: 64 hex digits and a newline, with room to spare.
pub const SECRET_KEY_FILE_BYTES_MAX: u64 = 1024;

/// `keys/n<id>.secret` beside the cluster file at `config`.
pub fn secret_key_path(config: &Path, id: NodeId) -> PathBuf {
    let base = match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    base.join("keys").join(format!("{}.secret", id.host_name()))
}

/// The scenario a real cluster stands for: its nodes and parameters, no workload (a
/// client's request reaches one node at run time) and no faults (the nemesis is
/// outside). `check` rebuilds the same one from the histories' headers.
pub fn real_scenario(
    protocol: &str,
    ids: &[NodeId],
    params: &serde_json::Value,
    bugs: &[String],
) -> Scenario {
    let cluster = Cluster {
        nodes: ids.iter().map(|&id| NodeSpec { id }).collect(),
    };
    Scenario {
        params: params.clone(),
        bugs: bugs.to_vec(),
        ..Scenario::quiet(protocol, cluster, REAL_SEED)
    }
}

/// The `[[node]]` tables checked and sorted by id; the error names the field.
fn nodes(raw: &[NodeToml]) -> Result<Vec<NodeConfig>, (String, String)> {
    if raw.is_empty() {
        return Err(("node".into(), "no [[node]] tables".into()));
    }
    if raw.len() > NODES_MAX {
        return Err((
            "node".into(),
            format!("{} nodes is over the limit of {NODES_MAX}", raw.len()),
        ));
    }
    let mut out: Vec<NodeConfig> = Vec::with_capacity(raw.len());
    for (i, n) in raw.iter().enumerate() {
        let field = |name: &str| format!("node[{i}].{name}");
        if n.id == 0 {
            return Err((field("id"), "ids start at 1".into()));
        }
        if out.iter().any(|o| o.id.0 == n.id) {
            return Err((field("id"), format!("id {} appears twice", n.id)));
        }
        let address: SocketAddr = n.address.parse().map_err(|e| {
            (
                field("address"),
                format!("{:?} is not ip:port ({e})", n.address),
            )
        })?;
        if address.port() == 0 {
            return Err((field("address"), "port 0 cannot be dialled".into()));
        }
        if let Some(other) = out.iter().find(|o| o.address == address) {
            return Err((
                field("address"),
                format!("{address} is also {}'s address", other.id),
            ));
        }
        let public_key = PublicKey::from_hex(&n.public_key).map_err(|e| {
            (
                field("public_key"),
                format!("{e} (`gauntlet init-cluster` writes fresh keys)"),
            )
        })?;
        if let Some(other) = out.iter().find(|o| o.public_key == public_key) {
            return Err((
                field("public_key"),
                format!("the same key as {}'s: each node needs its own", other.id),
            ));
        }
        out.push(NodeConfig {
            id: NodeId(n.id),
            address,
            public_key,
        });
    }
    out.sort_by_key(|n| n.id);
    Ok(out)
}

/// What `gauntlet init-cluster` writes: `servers` nodes on consecutive ports from
/// `base_port`, then `clients` nodes on the next ports, all on `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterShape {
    pub servers: u16,
    pub clients: u16,
    pub base_port: u16,
    pub host: IpAddr,
}

impl ClusterShape {
    /// The server ids (`n1..`) and the client ids after them.
    fn ids(&self) -> (Vec<NodeId>, Vec<NodeId>) {
        let servers = (1..=self.servers).map(NodeId).collect();
        let clients = (1..=self.clients)
            .map(|i| NodeId(self.servers + i))
            .collect();
        (servers, clients)
    }

    /// The checks that need no protocol: a size within limits and a range of ports.
    fn check(&self) -> Result<(), String> {
        let total = self.servers as usize + self.clients as usize;
        if total == 0 || total > NODES_MAX {
            return Err(format!(
                "--nodes + --proposers: {total} nodes; a cluster has 1 to {NODES_MAX}"
            ));
        }
        let last = self.base_port as usize + total - 1;
        if self.base_port == 0 || last > u16::MAX as usize {
            return Err(format!(
                "--base-port: {}..={last} is not a range of ports",
                self.base_port
            ));
        }
        Ok(())
    }
}

/// `[params]` as `cluster.toml` holds it: the protocol's parameters under one key.
#[derive(Serialize)]
struct ParamsSection<'a, T> {
    params: &'a T,
}

/// What `gauntlet init-cluster` writes: `cluster.toml`'s text (every node's public
/// key) and each node's secret key, for its own key file
/// ([`ClusterConfig::secret_key_path`]).
#[derive(Debug, Clone)]
pub struct InitCluster {
    pub toml: String,
    pub secrets: Vec<(NodeId, NodeKey)>,
}

/// The text of a working `cluster.toml` for `protocol` in `shape`, and the nodes'
/// fresh secret keys: the nodes, and the parameters [`Protocol::cluster_params`]
/// gives servers and clients. The comments make the file its own documentation. The
/// text is parsed back and checked by the protocol before it is returned, so what
/// this writes always starts.
pub fn init_cluster_toml<P: Protocol>(
    protocol: &P,
    shape: &ClusterShape,
) -> Result<InitCluster, String> {
    shape.check()?;
    let (servers, clients) = shape.ids();
    let params = protocol.cluster_params(&servers, &clients);
    let mut out = header_comment(protocol.name(), &servers, &clients);
    out.push_str(&format!("protocol = \"{}\"\n", protocol.name()));
    let mut port = shape.base_port;
    let mut secrets = Vec::new();
    for &id in servers.iter().chain(&clients) {
        let key = NodeKey::generate()
            .map_err(|e| format!("cannot draw a key from the operating system: {e}"))?;
        out.push_str(&format!(
            "\n[[node]]\nid = {}\naddress = \"{}\"\npublic_key = \"{}\"\n",
            id.0,
            SocketAddr::new(shape.host, port),
            key.public().to_hex()
        ));
        secrets.push((id, key));
        port = port.wrapping_add(1);
    }
    out.push_str(&params_text(protocol.name(), &params)?);
    let config = ClusterConfig::parse(&out, Path::new("cluster.toml"))
        .map_err(|e| format!("init-cluster wrote a file it cannot read back: {e}"))?;
    config.setup(protocol, &[]).map_err(|e| {
        format!(
            "--nodes {} --proposers {}: not a cluster {} can run: {e}",
            shape.servers,
            shape.clients,
            protocol.name()
        )
    })?;
    Ok(InitCluster { toml: out, secrets })
}

/// The `[params]` table, or a comment saying the protocol has none.
fn params_text<T: Serialize>(protocol: &str, params: &T) -> Result<String, String> {
    let as_json = serde_json::to_value(params).map_err(|e| e.to_string())?;
    if as_json.is_null() || as_json.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(format!(
            "\n# {protocol} has no parameters, so there is no [params] table.\n"
        ));
    }
    let table = toml::to_string(&ParamsSection { params })
        .map_err(|e| format!("{protocol}'s parameters cannot be written as TOML: {e}"))?;
    Ok(format!(
        "\n# {protocol}'s own parameters: the `params` section of a scenario, in TOML.\n\
         # gauntlet checks them with {protocol}'s rules on every start.\n{table}"
    ))
}

/// The opening comment of `init-cluster`'s file.
fn header_comment(protocol: &str, servers: &[NodeId], clients: &[NodeId]) -> String {
    let span = |ids: &[NodeId]| match (ids.first(), ids.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => "none".to_string(),
    };
    let mut out = format!(
        "# A gauntlet cluster running {protocol}: server(s) {}, client node(s) {}.\n\
         # Written by `gauntlet init-cluster`; edit freely, gauntlet checks it on every start.\n\
         #\n\
         # Each [[node]] is one process. Start each server in its own terminal (--init\n\
         # on its first start only: it creates the node's data directory):\n\
         #   gauntlet node --config cluster.toml --id <id> --init\n",
        span(servers),
        span(clients)
    );
    if clients.is_empty() {
        out.push_str(
            "# There are no client nodes: a client may run any node that takes requests and\n\
             # is not running yet, with --id:\n\
             #   gauntlet propose --config cluster.toml --id <id> --value Value_A\n",
        );
    } else {
        out.push_str(
            "# A client runs a client node with its value until it gets its answer (without\n\
             # --id it takes a free client node):\n\
             #   gauntlet propose --config cluster.toml --value Value_A\n",
        );
    }
    out.push_str(
        "#\n\
         # protocol  the protocol every node runs.\n\
         # id        a small positive integer, unique; messages and logs call the node n<id>.\n\
         # address   ip:port the node listens on (UDP). Loopback keeps the cluster on this machine.\n\
         # public_key the node's ed25519 public key: every datagram it sends is signed with its\n\
         #           secret key, and a datagram whose signature does not verify under its\n\
         #           sender's public key is dropped. Each secret key is in its node's own file,\n\
         #           keys/n<id>.secret beside this file (owner-only): a node reads only its\n\
         #           own, so no node can speak for another. This file holds no secret.\n\
         #\n\
         # Each node keeps its durable state, its history (history.jsonl), the value it\n\
         # decided (chosen_value) and the value its client asked for (proposed_value) in its\n\
         # data directory, by default data/n<id> beside this file (--data-dir overrides).\n\n",
    );
    out
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
