use super::*;
use crate::real::toy::{Toy, ToyTiming};
use std::net::Ipv4Addr;

fn parse(text: &str) -> Result<ClusterConfig, ConfigError> {
    ClusterConfig::parse(text, Path::new("cluster.toml"))
}

/// A fixed public key for node `id` of a test config, as hex.
fn key(id: u8) -> String {
    crate::net::NodeKey::from_bytes([id; crate::net::KEY_BYTES])
        .public()
        .to_hex()
}

fn shape(servers: u16, clients: u16, base_port: u16) -> ClusterShape {
    ClusterShape {
        servers,
        clients,
        base_port,
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// What `init-cluster` writes loads back as the cluster it describes: servers on
/// consecutive ports, then the clients; the protocol's parameters from
/// `cluster_params` under `[params]` (nested tables included); only clients take
/// requests, in the protocol's own words.
#[test]
fn init_cluster_text_loads_back() {
    let text = init_cluster_toml(&Toy, &shape(3, 2, 5001)).unwrap().toml;
    assert!(text.contains("[params.timing]\nround_ms = 50"), "{text}");
    let c = parse(&text).unwrap();
    assert_eq!(c.protocol, "toy");
    assert_eq!(c.ids(), (1..=5).map(NodeId).collect::<Vec<_>>());
    assert_eq!(c.node(NodeId(5)).unwrap().address.port(), 5005);
    let setup = c.setup(&Toy, &[]).unwrap();
    assert_eq!(setup.params.servers, vec![NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(setup.params.timing, ToyTiming::default());
    assert!(c.takes_requests(&Toy, NodeId(4)).is_ok());
    let refused = c.takes_requests(&Toy, NodeId(1)).unwrap_err();
    assert!(refused.contains("n1 is a server"), "{refused}");
    assert_eq!(
        c.default_data_dir(NodeId(2)),
        Path::new(".").join("data").join("n2")
    );
}

/// Each kind of mistake in the harness's part is refused with the file and the field
/// named, never a panic.
#[test]
fn bad_configs_name_the_field() {
    let node = |id: &str, addr: &str| {
        let k = key(id.parse().unwrap_or(7));
        format!("[[node]]\nid = {id}\naddress = \"{addr}\"\npublic_key = \"{k}\"\n")
    };
    let head = "protocol = \"toy\"\n";
    let ok = format!("{head}{}", node("1", "127.0.0.1:5001"));
    assert!(parse(&ok).is_ok());
    let cases = [
        (node("1", "127.0.0.1:5001"), "protocol: missing"),
        (
            format!("protocol = \"Toy!\"\n{}", node("1", "127.0.0.1:5001")),
            "protocol:",
        ),
        (head.to_string(), "node: no [[node]]"),
        (
            format!("{head}{}", node("0", "127.0.0.1:5001")),
            "node[0].id",
        ),
        (format!("{ok}{}", node("1", "127.0.0.1:5002")), "node[1].id"),
        (
            format!("{head}{}", node("\"x\"", "127.0.0.1:5001")),
            "node[0].id",
        ),
        (
            format!("{head}{}", node("1", "localhost")),
            "node[0].address",
        ),
        (
            format!("{head}{}", node("1", "127.0.0.1:0")),
            "node[0].address",
        ),
        (
            format!("{ok}{}", node("2", "127.0.0.1:5001")),
            "node[1].address",
        ),
        (format!("{ok}roles = [\"acceptor\"]\n"), "roles"),
        (format!("{head}[[node]]\nid = 1\n"), "address"),
        (
            format!("{head}[[node]]\nid = 1\naddress = \"127.0.0.1:5001\"\n"),
            "node[0]: missing field `public_key`",
        ),
        (
            format!("{head}[[node]]\nid = 1\naddress = \"127.0.0.1:5001\"\npublic_key = \"abc\"\n"),
            "node[0].public_key: 3 characters",
        ),
        (
            format!(
                "{ok}[[node]]\nid = 2\naddress = \"127.0.0.1:5002\"\npublic_key = \"{}\"\n",
                key(1)
            ),
            "node[1].public_key: the same key as n1's",
        ),
        (format!("{ok}speed = 3\n"), "speed"),
        ("protocol = ".to_string(), "toml"),
    ];
    for (text, needle) in cases {
        let e = parse(&text).expect_err(&text).to_string();
        assert!(
            e.starts_with("cluster.toml: ") && e.contains(needle),
            "{needle} not in {e:?} for\n{text}"
        );
    }
}

/// The protocol's part, `[params]`, is checked by the protocol when a node is set up,
/// and its errors still name the file and the field: a wrong type, an unknown key, a
/// value its rules refuse, a node that is not in the cluster, another protocol.
#[test]
fn bad_params_name_the_file_and_field() {
    let nodes = format!(
        "[[node]]\nid = 1\naddress = \"127.0.0.1:5001\"\npublic_key = \"{}\"\n\
         [[node]]\nid = 2\naddress = \"127.0.0.1:5002\"\npublic_key = \"{}\"\n",
        key(1),
        key(2)
    );
    let with = |protocol: &str, params: &str| {
        format!("protocol = \"{protocol}\"\n{nodes}[params]\nservers = [1]\n{params}")
    };
    assert!(parse(&with("toy", "")).unwrap().setup(&Toy, &[]).is_ok());
    let cases = [
        (
            with("toy", "[params.timing]\nround_ms = 0\n"),
            "params.timing.round_ms: outside",
        ),
        (
            with("toy", "[params.timing]\nround_ms = \"x\"\n"),
            "params.timing.round_ms: invalid type",
        ),
        (with("toy", "[params.timing]\nrund_ms = 5\n"), "rund_ms"),
        (with("toy", "extra = 1\n"), "extra"),
        (
            format!("protocol = \"toy\"\n{nodes}[params]\nservers = [9]\n"),
            "params.servers[0]: n9 is not a node",
        ),
        (
            with("other", ""),
            "protocol: `other` is not the protocol under test",
        ),
    ];
    for (text, needle) in cases {
        let config = parse(&text).expect(&text);
        let Err(e) = config.setup(&Toy, &[]) else {
            panic!("accepted:\n{text}");
        };
        let e = e.to_string();
        assert!(
            e.starts_with("cluster.toml: ") && e.contains(needle),
            "{needle} not in {e:?} for\n{text}"
        );
    }
}

/// init-cluster refuses sizes and ports it cannot write, and a cluster the protocol
/// refuses (the toy needs two nodes), saying which flag.
#[test]
fn init_cluster_refuses_impossible_sizes() {
    assert!(init_cluster_toml(&Toy, &shape(0, 0, 5001)).is_err());
    let over = (NODES_MAX + 1) as u16;
    assert!(init_cluster_toml(&Toy, &shape(over - 2, 2, 5001)).is_err());
    assert!(init_cluster_toml(&Toy, &shape(over - 3, 2, 5001)).is_ok());
    assert!(init_cluster_toml(&Toy, &shape(3, 2, 65_534)).is_err());
    assert!(init_cluster_toml(&Toy, &shape(3, 2, 0)).is_err());
    let e = init_cluster_toml(&Toy, &shape(1, 0, 5001)).unwrap_err();
    assert!(
        e.contains("--nodes 1 --proposers 0") && e.contains("at least 2"),
        "{e}"
    );
}

/// A node reads its own secret key from `keys/n<id>.secret` beside the cluster file,
/// checked against its public key there: a missing file and another node's key are
/// refused with errors naming the key file; the right one gives a keyring whose seals
/// open at the other nodes.
#[test]
fn keyring_reads_the_nodes_own_secret_key_file() {
    let dir = std::env::temp_dir().join(format!("gauntlet-keyring-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let init = init_cluster_toml(&Toy, &shape(1, 1, 5001)).unwrap();
    let path = dir.join("cluster.toml");
    std::fs::write(&path, &init.toml).unwrap();
    let c = ClusterConfig::load(&path).unwrap();
    let missing = c.keyring(NodeId(1)).unwrap_err().to_string();
    assert!(missing.contains("n1.secret"), "{missing}");
    let hex_of = |i: usize| init.secrets[i].1.to_hex();
    std::fs::write(c.secret_key_path(NodeId(1)), hex_of(1)).unwrap();
    let wrong = c.keyring(NodeId(1)).unwrap_err().to_string();
    assert!(
        wrong.contains("n1.secret") && wrong.contains("not n1's secret key"),
        "{wrong}"
    );
    std::fs::write(c.secret_key_path(NodeId(1)), hex_of(0) + "\n").unwrap();
    std::fs::write(c.secret_key_path(NodeId(2)), hex_of(1)).unwrap();
    let (n1, n2) = (c.keyring(NodeId(1)).unwrap(), c.keyring(NodeId(2)).unwrap());
    let mut wire = Vec::new();
    crate::net::begin(
        &mut wire,
        crate::net::Header {
            from: NodeId(1),
            msg_id: 1,
        },
    );
    let plain = wire.clone();
    n1.seal(NodeId(2), &mut wire);
    assert_eq!(n2.open(&wire), Ok(&plain[..]));
    let _ = std::fs::remove_dir_all(&dir);
}
