//! Real-mode commands: `node`, `propose`, `check` and `init-cluster`, for any
//! protocol of the registry. `cluster.toml` names the protocol its nodes run, and a
//! history's header names the protocol that wrote it, so only `init-cluster` (and
//! `check`, to insist) take `--protocol`. The work is the library's
//! ([`crate::real::RealProtocol`]); this file parses, prints and picks exit codes.

use super::exit;
use crate::explore::ProtocolRef;
use crate::ids::NodeId;
use crate::real::{
    config::secret_key_path, history_protocol, init_logging, parse_duration, CheckReport,
    ClusterConfig, ClusterShape, NodeOptions, ProposeOptions, RealError, Stopped,
};
use crate::registry::Registry;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Run one node of cluster.toml as this process, on a real UDP socket and a real data
/// directory, until SIGTERM or Ctrl-C.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The cluster file (see `gauntlet init-cluster`); it names the protocol.
    #[arg(long)]
    pub config: PathBuf,
    /// This node's id in the cluster file.
    #[arg(long)]
    pub id: u16,
    /// Durable state, history.jsonl and chosen_value (default: data/n<id> beside the
    /// cluster file).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Switch on a planted bug of the protocol (repeatable; see `gauntlet bugs`).
    #[arg(long = "bug")]
    pub bugs: Vec<String>,
    /// Create the data directory: this is a new node. Without it a data directory that
    /// does not exist is refused (a mistyped path must not start a node afresh).
    #[arg(long)]
    pub init: bool,
}

/// Run a node of cluster.toml with a client's value: prints the answer (maybe another
/// client's value) and exits 0, or exits 3 on timeout.
#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// The cluster file; it names the protocol.
    #[arg(long)]
    pub config: PathBuf,
    /// The value to propose.
    #[arg(long)]
    pub value: String,
    /// Which node to be (default: the first free node that takes client requests).
    #[arg(long)]
    pub id: Option<u16>,
    /// The node's data directory (default: data/n<id> beside the cluster file).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Give up if no answer comes within this long (10s, 500ms, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Switch on a planted bug of the protocol (repeatable).
    #[arg(long = "bug")]
    pub bugs: Vec<String>,
}

/// Merge the history.jsonl files of a cluster's nodes and judge them with the
/// protocol's properties. Exit 0 all held, 1 safety, 3 liveness, 2 bad input.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// One history file per node (<data dir>/history.jsonl).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The protocol that wrote them (default: the one the first file's header names).
    #[arg(long)]
    pub protocol: Option<String>,
}

/// Write a working, commented cluster.toml.
#[derive(Debug, clap::Args)]
pub struct InitClusterArgs {
    /// The protocol the nodes run (default: the registry's first).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Servers: nodes that run all the time (Paxos: acceptors and learners).
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    /// Client nodes, run by `gauntlet propose` (Paxos: proposers).
    #[arg(long, default_value_t = 2)]
    pub proposers: u16,
    /// The first server's port; the others follow, then the clients.
    #[arg(long, default_value_t = 5001)]
    pub base_port: u16,
    /// The address every node listens on. Loopback unless --allow-non-loopback.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Let --host be an address other hosts can reach (see the README's "Trust
    /// model": datagrams are authenticated, not encrypted).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Where to write it.
    #[arg(long, default_value = "cluster.toml")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Print `e`; exit 2 for bad input (config, command line, damaged data dir), 4
/// otherwise.
fn fail(e: &RealError) -> u8 {
    eprintln!("error: {e}");
    if e.is_bad_input() {
        exit::USAGE
    } else {
        exit::HARNESS
    }
}

fn usage(message: &str) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// The protocol `name` names in `registry`, or why not.
fn lookup(registry: &Registry, name: &str, whence: &str) -> Result<ProtocolRef, String> {
    registry.get(name).ok_or_else(|| {
        format!(
            "{whence}: `{name}` is not a protocol here (known: {})",
            registry.names().join(", ")
        )
    })
}

/// Load `path` and the protocol it names.
fn load(registry: &Registry, path: &Path) -> Result<(ClusterConfig, ProtocolRef), u8> {
    let config = ClusterConfig::load(path).map_err(|e| fail(&RealError::Config(e)))?;
    let whence = format!("{}: protocol", path.display());
    let protocol = lookup(registry, &config.protocol, &whence).map_err(|e| usage(&e))?;
    Ok((config, protocol))
}

/// `gauntlet node`.
pub fn cmd_node(registry: &Registry, args: NodeArgs) -> u8 {
    init_logging();
    let (config, protocol) = match load(registry, &args.config) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let opts = NodeOptions {
        config,
        id: NodeId(args.id),
        data_dir: args.data_dir,
        bugs: args.bugs,
        init: args.init,
    };
    match protocol.real().node(opts) {
        Ok(_) => exit::OK,
        Err(e) => fail(&e),
    }
}

/// `gauntlet propose`.
pub fn cmd_propose(registry: &Registry, args: ProposeArgs) -> u8 {
    init_logging();
    let (config, protocol) = match load(registry, &args.config) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let opts = ProposeOptions {
        config,
        id: args.id.map(NodeId),
        data_dir: args.data_dir,
        bugs: args.bugs,
        value: args.value,
        timeout: args.timeout,
    };
    match protocol.real().propose(opts) {
        Ok(Stopped::Answered(value)) => {
            println!("{value}");
            exit::OK
        }
        Ok(Stopped::TimedOut(after)) => {
            eprintln!(
                "error: no value was chosen within {after:?}: the node got no answer \
                 (are the other nodes running? see the log above)"
            );
            exit::LIVENESS
        }
        Ok(Stopped::Signal(name)) => {
            eprintln!("error: stopped by {name} before a value was chosen");
            exit::HARNESS
        }
        Err(e) => fail(&e),
    }
}

/// `gauntlet check`.
pub fn cmd_check(registry: &Registry, args: CheckArgs) -> u8 {
    let name = match (&args.protocol, args.files.first()) {
        (Some(name), _) => name.clone(),
        (None, Some(first)) => match history_protocol(first) {
            Ok(name) => name,
            Err(e) => return usage(&e.to_string()),
        },
        (None, None) => return usage("give at least one history file"),
    };
    let whence = if args.protocol.is_some() {
        "--protocol".to_string()
    } else {
        format!("{}: protocol", args.files[0].display())
    };
    let protocol = match lookup(registry, &name, &whence) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    match protocol.real().check(&args.files) {
        Ok(report) => print_report(&report, args.files.len()),
        Err(e) => usage(&e.to_string()),
    }
}

/// Print what `check` found; the exit code says what kind of failure.
fn print_report(report: &CheckReport, files: usize) -> u8 {
    let names = |ids: &[NodeId]| {
        let names: Vec<String> = ids.iter().map(|n| n.to_string()).collect();
        names.join(", ")
    };
    println!(
        "merged {} events from {files} file(s): {}",
        report.events,
        names(&report.nodes)
    );
    if !report.unheard.is_empty() {
        println!(
            "no history given for {}, and no given history received anything from it: \
             judged as never having run",
            names(&report.unheard)
        );
    }
    if !report.missing.is_empty() {
        println!(
            "no history given for {}, which other nodes heard from: properties that need \
             every node's history are not judged",
            names(&report.missing)
        );
    }
    for (v, witness) in report.verdict.violations.iter().zip(&report.witnesses) {
        println!("VIOLATION {v}");
        print!("{witness}");
    }
    for unjudged in &report.unjudged {
        println!(
            "NOT JUDGED {}: cannot judge it without the history of {}",
            unjudged.property,
            names(&report.missing)
        );
        for v in &unjudged.apparent {
            println!("  the given histories alone show: {v}");
        }
    }
    println!("coverage reached: {}", report.verdict.reached.join(", "));
    if !report.verdict.safety_ok() {
        exit::SAFETY
    } else if !report.verdict.liveness_ok() {
        exit::LIVENESS
    } else if !report.unjudged.is_empty() {
        println!("every property judged held; give every node's history to judge the rest");
        exit::INCOMPLETE
    } else {
        println!("all properties held");
        exit::OK
    }
}

/// `gauntlet init-cluster`.
pub fn cmd_init_cluster(registry: &Registry, args: InitClusterArgs) -> u8 {
    let protocol = match &args.protocol {
        None => registry.default_protocol(),
        Some(name) => match lookup(registry, name, "--protocol") {
            Ok(p) => p,
            Err(e) => return usage(&e),
        },
    };
    if !args.host.is_loopback() && !args.allow_non_loopback {
        return usage(&format!(
            "--host {}: not a loopback address, so other hosts could reach the nodes; \
             pass --allow-non-loopback if that is meant (read the README's \"Trust model\")",
            args.host
        ));
    }
    let shape = ClusterShape {
        servers: args.nodes,
        clients: args.proposers,
        base_port: args.base_port,
        host: args.host,
    };
    let init = match protocol.real().init_cluster(&shape) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let key_paths: Vec<(PathBuf, String)> = init
        .secrets
        .iter()
        .map(|(id, key)| (secret_key_path(&args.out, *id), key.to_hex() + "\n"))
        .collect();
    let existing = std::iter::once(&args.out)
        .chain(key_paths.iter().map(|(p, _)| p))
        .find(|p| p.exists());
    if let (Some(path), false) = (existing, args.force) {
        let shown = path.display();
        return usage(&format!("{shown} exists; pass --force to overwrite it"));
    }
    for (path, text) in &key_paths {
        if let Err(e) = write_key_file(path, text) {
            eprintln!("error: {}: {e}", path.display());
            return exit::HARNESS;
        }
    }
    if let Err(e) = write_private(&args.out, &init.toml) {
        eprintln!("error: {}: {e}", args.out.display());
        return exit::HARNESS;
    }
    let keys_dir = key_paths
        .first()
        .and_then(|(p, _)| p.parent())
        .map_or_else(String::new, |d| d.display().to_string());
    println!(
        "wrote {} ({}) and {} secret key file(s) in {keys_dir}",
        args.out.display(),
        protocol.name(),
        key_paths.len()
    );
    exit::OK
}

/// Write a node's secret key file, its directory created readable by its owner only.
fn write_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    write_private(path, text)
}

/// Write `text` to `path` readable and writable by its owner only (a secret key file,
/// and cluster.toml, which a user may extend with secrets of their own).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // An existing file keeps its mode through open: set it.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
