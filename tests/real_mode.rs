//! Real mode as a user runs it: `gauntlet node` and `gauntlet propose` as separate
//! processes on loopback UDP, each with its own data directory, then `gauntlet check`
//! over the histories they wrote. Paxos carries the lab, the kill -9 nemesis and the
//! bad-input tests; the naive vote shows the same commands run any protocol.
//!
//! These are the only tests that use wall-clock waits, because real processes need
//! them: every wait polls a condition and is bounded (a test fails rather than hangs),
//! ports are ephemeral and never handed out twice in this test process, and every child
//! process is killed when its handle drops, even when a test panics.

use crate::support::{prepare_and_bad_datagrams, seed_override, OVERSIZED_BYTES};
use gauntlet::ids::NodeId;
use gauntlet::net::TAG_BYTES;
use gauntlet::net::{Keyring, NodeKey};
use gauntlet::node::{decode_datagram, encode_datagram};
use gauntlet::protocols::paxos::{Ballot, DurableState, Msg, Node, Value};
use gauntlet::real::config::secret_key_path;
use gauntlet::real::history::MALFORMED_LINES_PER_S_MAX;
use gauntlet::real::ClusterConfig;
use gauntlet::rng::Draw;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long any one wait may take before the test fails: generous, for a loaded
/// two-core CI machine, but bounded.
const WAIT_MAX: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// Ports this test process handed out, so parallel tests never share one.
static PORTS_TAKEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// `n` loopback UDP ports that were free a moment ago and that no other test here got.
fn free_ports(n: usize) -> Vec<u16> {
    let mut held = Vec::new();
    let mut ports = Vec::new();
    let mut taken = PORTS_TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    while ports.len() < n {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = socket.local_addr().unwrap().port();
        if taken.insert(port) {
            ports.push(port);
        }
        held.push(socket);
    }
    ports
}

/// The wall clock: real processes take real time (the only tests allowed it).
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// Poll `done` until it holds or [`WAIT_MAX`] passes; false on timeout.
fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let start = now();
    while start.elapsed() < WAIT_MAX {
        if done() {
            return true;
        }
        sleep(POLL);
    }
    done()
}

/// A child process that is killed (SIGKILL) and reaped when dropped.
struct Proc {
    name: String,
    child: Option<Child>,
}

impl Proc {
    fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// Exit status if it has exited.
    fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().expect("try_wait")
    }

    /// Wait (bounded) for it to exit by itself.
    fn wait(&mut self) -> ExitStatus {
        let mut status = None;
        let exited = wait_until(|| {
            status = self.try_wait();
            status.is_some()
        });
        assert!(exited, "{} did not exit within {WAIT_MAX:?}", self.name);
        self.child = None;
        status.expect("exited")
    }

    /// SIGTERM, then wait (bounded) for the clean exit.
    fn terminate(&mut self) -> ExitStatus {
        if let Some(status) = self.try_wait() {
            self.child = None;
            return status;
        }
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        let rc = unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        assert_eq!(rc, 0, "SIGTERM to {}", self.name);
        self.wait()
    }

    /// SIGKILL, the nemesis: no handler runs, nothing is flushed.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn gauntlet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
}

/// A cluster directory: `cluster.toml`, one data directory per node beside it, and one
/// log file per node. Removed at the end unless the test failed (kept to read).
struct Cluster {
    dir: PathBuf,
    config: PathBuf,
    servers: Vec<u16>,
    proposers: Vec<u16>,
    /// Node `id` listens on `ports[id - 1]`.
    ports: Vec<u16>,
}

impl Cluster {
    /// A Paxos cluster: `servers` nodes that accept and learn (ids 1..), then
    /// `proposers` client nodes, written the way a user would write cluster.toml.
    fn new(name: &str, servers: u16, proposers: u16) -> Cluster {
        let dir = Self::fresh_dir(name);
        let total = (servers + proposers) as usize;
        let ports = free_ports(total);
        let mut text = String::from("# written by tests/real_mode.rs\nprotocol = \"paxos\"\n");
        let config = dir.join("cluster.toml");
        for (i, port) in ports.iter().enumerate() {
            let id = i + 1;
            // The public key in cluster.toml, the secret in the node's own key file.
            let secret = NodeKey::generate().unwrap();
            let key = secret.public().to_hex();
            let key_file = secret_key_path(&config, NodeId(id as u16));
            fs::create_dir_all(key_file.parent().unwrap()).unwrap();
            fs::write(&key_file, secret.to_hex()).unwrap();
            text.push_str(&format!(
                "[[node]]\nid = {id}\naddress = \"127.0.0.1:{port}\"\npublic_key = \"{key}\"\n"
            ));
        }
        let list = |ids: &[u16]| {
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            format!("[{}]", ids.join(", "))
        };
        let server_ids: Vec<u16> = (1..=servers).collect();
        let client_ids: Vec<u16> = (servers + 1..=servers + proposers).collect();
        text.push_str(&format!(
            "[params]\nacceptors = {s}\nlearners = {s}\nproposers = {p}\n\
             [params.timing]\nlearner_asks_acceptors = true\n",
            s = list(&server_ids),
            p = list(&client_ids)
        ));
        fs::write(&config, text).unwrap();
        Cluster {
            dir,
            config,
            servers: server_ids,
            proposers: client_ids,
            ports,
        }
    }

    /// A cluster of `protocol` as `gauntlet init-cluster` writes it, with its
    /// consecutive ports swapped for ephemeral ones this test process owns.
    fn init(name: &str, protocol: &str, servers: u16, clients: u16) -> Cluster {
        const BASE_PORT: u16 = 20_001;
        let dir = Self::fresh_dir(name);
        let config = dir.join("cluster.toml");
        let out = gauntlet()
            .args(["init-cluster", "--protocol", protocol])
            .args(["--nodes", &servers.to_string()])
            .args(["--proposers", &clients.to_string()])
            .args(["--base-port", &BASE_PORT.to_string(), "--out"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ports = free_ports((servers + clients) as usize);
        let mut text = fs::read_to_string(&config).unwrap();
        for (k, port) in ports.iter().enumerate() {
            let written = format!("\"127.0.0.1:{}\"", BASE_PORT as usize + k);
            assert!(text.contains(&written), "{written} not in\n{text}");
            text = text.replace(&written, &format!("\"127.0.0.1:{port}\""));
        }
        fs::write(&config, text).unwrap();
        Cluster {
            dir,
            config,
            servers: (1..=servers).collect(),
            proposers: (servers + 1..=servers + clients).collect(),
            ports,
        }
    }

    /// An empty directory of its own for a test cluster.
    fn fresh_dir(name: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gauntlet-real-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Node `id`'s keys, as its process reads them: its secret key file and every
    /// public key in cluster.toml.
    fn keyring(&self, id: u16) -> Keyring {
        ClusterConfig::load(&self.config)
            .unwrap()
            .keyring(NodeId(id))
            .unwrap()
    }

    /// A test socket on node `id`'s address that seals and opens with `id`'s key:
    /// a peer the cluster trusts, played by the test.
    fn peer(&self, id: u16) -> Peer {
        let socket = UdpSocket::bind(self.address(id)).expect("bind the peer's address");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Peer {
            id: NodeId(id),
            socket,
            ring: self.keyring(id),
            msg_id: 0,
        }
    }

    fn address(&self, id: u16) -> String {
        format!("127.0.0.1:{}", self.ports[id as usize - 1])
    }

    fn data_dir(&self, id: u16) -> PathBuf {
        self.dir.join("data").join(format!("n{id}"))
    }

    fn history(&self, id: u16) -> PathBuf {
        self.data_dir(id).join("history.jsonl")
    }

    fn log(&self, id: u16) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("n{id}.log")))
            .unwrap()
    }

    /// The tails of every node's log, for a failure message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for id in self.servers.iter().chain(&self.proposers) {
            let text = fs::read_to_string(self.dir.join(format!("n{id}.log"))).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(15)..];
            out.push_str(&format!(
                "---- n{id}.log (last lines)\n{}\n",
                tail.join("\n")
            ));
        }
        out
    }

    /// Spawn `gauntlet <command> --config .. --id id <args> --bug ..`, its stderr
    /// appended to the node's log.
    fn spawn(&self, command: &str, id: u16, args: &[&str], bugs: &[&str], out: Stdio) -> Proc {
        let mut cmd = gauntlet();
        cmd.args([command, "--config"]).arg(&self.config);
        cmd.args(["--id", &id.to_string()]).args(args);
        for bug in bugs {
            cmd.args(["--bug", bug]);
        }
        let child = cmd
            .stdout(out)
            .stderr(self.log(id))
            .spawn()
            .expect("spawn gauntlet");
        Proc {
            name: format!("{command} n{id} {}", args.join(" ")),
            child: Some(child),
        }
    }

    /// Start `gauntlet node --id id` and wait (bounded) until it has recorded its start.
    fn start_node(&self, id: u16, bugs: &[&str]) -> Proc {
        let starts_before = self.starts(id);
        // A new node's first start creates its data directory; later ones must not.
        let init: &[&str] = if self.data_dir(id).exists() {
            &[]
        } else {
            &["--init"]
        };
        let mut proc = self.spawn("node", id, init, bugs, Stdio::null());
        let up = wait_until(|| self.starts(id) > starts_before || proc.try_wait().is_some());
        assert!(
            up && proc.try_wait().is_none(),
            "n{id} did not start\n{}",
            self.logs()
        );
        proc
    }

    /// How many times node `id` recorded a start in its history.
    fn starts(&self, id: u16) -> usize {
        fs::read_to_string(self.history(id))
            .map(|t| t.matches("\"Started\"").count())
            .unwrap_or(0)
    }

    /// Start `gauntlet propose --id id --value value`; stdout is captured.
    fn propose(&self, id: u16, value: &str, bugs: &[&str]) -> Proc {
        let args = ["--value", value, "--timeout", "30s"];
        self.spawn("propose", id, &args, bugs, Stdio::piped())
    }

    fn chosen_value(&self, id: u16) -> Option<String> {
        fs::read_to_string(self.data_dir(id).join("chosen_value")).ok()
    }

    /// What Paxos learner `id` learned: its chosen_value file, or else its durable
    /// state. A kill -9 can land after the learner persisted its learn and before the
    /// shell wrote chosen_value; a restart restores the file from the state
    /// (`Core::decided_in`), but a learner killed there and not restarted since still
    /// lacks it, so the nemesis reads the state as Paxos's too.
    fn learned(&self, id: u16) -> Option<String> {
        self.chosen_value(id).or_else(|| {
            let bytes = fs::read(self.data_dir(id).join("state")).ok()?;
            let state = paxos_state(&bytes)?;
            Some(state.learner.as_ref()?.learned.as_ref()?.to_string())
        })
    }

    /// `gauntlet check` over every node's history: exit code and stdout+stderr.
    fn check(&self) -> (i32, String) {
        self.check_without(&[])
    }

    /// `gauntlet check` of every history file but those of `left_out`.
    fn check_without(&self, left_out: &[u16]) -> (i32, String) {
        let files: Vec<PathBuf> = self
            .servers
            .iter()
            .chain(&self.proposers)
            .filter(|&id| !left_out.contains(id))
            .map(|&id| self.history(id))
            .filter(|p| p.exists())
            .collect();
        let out = gauntlet().arg("check").args(&files).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for inspection: {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A real Paxos node's state file read back: the record, its owner line, the state.
fn paxos_state(record: &[u8]) -> Option<DurableState> {
    let payload = gauntlet::storage::decode_record(record).ok()?;
    let cut = payload.iter().position(|&b| b == b'\n')?;
    serde_json::from_slice(&payload[cut + 1..]).ok()
}

/// A node of the cluster played by the test through a UDP socket: it holds its node's
/// key, so what it sends authenticates, and it reads the answers.
struct Peer {
    id: NodeId,
    socket: UdpSocket,
    ring: Keyring,
    msg_id: u64,
}

impl Peer {
    /// `msg` from this peer to node `to`, sealed: the bytes on the wire.
    fn datagram(&mut self, to: u16, msg: &Msg) -> Vec<u8> {
        self.msg_id += 1;
        let mut wire = encode_datagram::<Node>(self.id, self.msg_id, msg).expect("fits");
        self.ring.seal(NodeId(to), &mut wire);
        wire
    }

    fn send_raw(&self, to: &Cluster, id: u16, wire: &[u8]) {
        self.socket.send_to(wire, to.address(id)).unwrap();
    }

    /// The next authenticated message received within the read timeout, if any.
    fn recv(&self) -> Option<Msg> {
        let mut buf = [0u8; 2048];
        let (len, _) = self.socket.recv_from(&mut buf).ok()?;
        let datagram = self.ring.open(&buf[..len]).ok()?;
        decode_datagram::<Node>(datagram)
            .ok()
            .map(|(_, _, msg)| msg)
    }

    /// Send `msg` to node `id` until an answer `wanted` accepts comes back (bounded).
    fn ask(&mut self, cluster: &Cluster, id: u16, msg: &Msg, wanted: impl Fn(&Msg) -> bool) {
        let wire = self.datagram(id, msg);
        let answered = wait_until(|| {
            self.send_raw(cluster, id, &wire);
            std::iter::from_fn(|| self.recv()).any(|m| wanted(&m))
        });
        assert!(answered, "no answer to {msg}\n{}", cluster.logs());
    }
}

/// Read a finished propose's stdout: the chosen value it printed.
fn printed_value(proc: &mut Proc, status: ExitStatus, cluster: &Cluster) -> String {
    use std::io::Read;
    let mut out = String::new();
    if let Some(stdout) = proc.child.as_mut().and_then(|c| c.stdout.as_mut()) {
        stdout.read_to_string(&mut out).unwrap();
    }
    assert!(
        status.success(),
        "{} exited {status}\n{}",
        proc.name,
        cluster.logs()
    );
    out.trim().to_string()
}

/// Wait for a propose to finish; return the value it printed.
fn finish(mut proc: Proc, cluster: &Cluster) -> String {
    let child = proc.child.as_mut().expect("running");
    let mut status = None;
    let exited = wait_until(|| {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert!(exited, "{} did not finish\n{}", proc.name, cluster.logs());
    printed_value(&mut proc, status.unwrap(), cluster)
}

/// The lab: three servers (acceptor + learner) and clients A (n4, `Value_A`) and B
/// (n5, `Value_B`) as real processes. `second` starts one second after the first
/// client, and not before the first has printed its decision (real processes take
/// their own time to start; the scenario is about B arriving after A's value was
/// chosen). Every client prints `expect`; every server's chosen_value file holds it;
/// every server stops cleanly on SIGTERM; `gauntlet check` finds every property held,
/// and without the first client's file leaves validity unjudged (exit 7).
fn lab(first: (u16, &str), second: Option<(u16, &str)>, expect: &str) {
    let cluster = Cluster::new("lab", 3, 2);
    let mut servers: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    let started = now();
    let a = cluster.propose(first.0, first.1, &[]);
    assert_eq!(finish(a, &cluster), expect, "first client");
    if let Some((id, value)) = second {
        sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
        let b = cluster.propose(id, value, &[]);
        assert_eq!(finish(b, &cluster), expect, "second client");
    }
    let all_learned = wait_until(|| {
        cluster
            .servers
            .iter()
            .all(|&id| cluster.chosen_value(id).as_deref() == Some(expect))
    });
    assert!(all_learned, "chosen_value files\n{}", cluster.logs());
    for s in &mut servers {
        let status = s.terminate();
        assert!(status.success(), "{} stopped with {status}", s.name);
    }
    let (code, out) = cluster.check();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all properties held"), "{out}");
    // Without the first client's file (the servers heard from it), what rests on
    // absence is not judged: exit 7, naming the node and the properties.
    let (code, out) = cluster.check_without(&[first.0]);
    assert_eq!(code, 7, "{out}");
    let line = format!(
        "NOT JUDGED validity: cannot judge it without the history of n{}",
        first.0
    );
    assert!(out.contains(&line), "{out}");
}

/// Lab 1 with real processes: only A proposes; `Value_A` is chosen.
#[test]
fn real_lab_1_only_a_proposes() {
    lab((4, "Value_A"), None, "Value_A");
}

/// Lab 2 with real processes: A, then B a second later; B adopts `Value_A`.
#[test]
fn real_lab_2_a_then_b() {
    lab((4, "Value_A"), Some((5, "Value_B")), "Value_A");
}

/// Lab 3 with real processes: B, then A a second later; `Value_B` is chosen.
#[test]
fn real_lab_3_b_then_a() {
    lab((5, "Value_B"), Some((4, "Value_A")), "Value_B");
}

/// What a nemesis run left behind.
struct NemesisReport {
    kills: usize,
    check_code: i32,
    check_out: String,
    chosen: Vec<Option<String>>,
}

/// Kills this many acceptor processes per nemesis run.
const NEMESIS_KILLS: usize = 6;

/// Three servers and three proposers; each proposer is relaunched whenever it exits
/// (it resumes its own value with a higher ballot), so proposals never stop. Meanwhile
/// the nemesis SIGKILLs a random running server, or restarts a dead one, every
/// 50..=300 ms (seeded), at most two servers down at once, [`NEMESIS_KILLS`] kills in
/// all. Then every server is restarted and the proposers keep going until every
/// learner learned (bounded); then all stop and `gauntlet check` judges the
/// histories.
fn nemesis(seed: u64, bugs: &[&str]) -> NemesisReport {
    eprintln!("nemesis seed {seed} (GAUNTLET_SEED={seed} repeats this kill schedule)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cluster = Cluster::new("nemesis", 3, 3);
    let mut servers: Vec<Option<Proc>> = cluster
        .servers
        .iter()
        .map(|&id| Some(cluster.start_node(id, bugs)))
        .collect();
    let value = |id: u16| format!("Value_{id}");
    let mut proposers: Vec<Proc> = cluster
        .proposers
        .iter()
        .map(|&id| cluster.propose(id, &value(id), bugs))
        .collect();
    let relaunch = |proposers: &mut Vec<Proc>| {
        for (k, &id) in cluster.proposers.iter().enumerate() {
            if let Some(status) = proposers[k].try_wait() {
                // 0: decided; 3: timed out. Anything else is a crash of the client.
                assert!(
                    matches!(status.code(), Some(0) | Some(3)),
                    "proposer n{id} exited {status}\n{}",
                    cluster.logs()
                );
                proposers[k] = cluster.propose(id, &value(id), bugs);
            }
        }
    };

    let mut kills = 0;
    while kills < NEMESIS_KILLS {
        sleep(Duration::from_millis(rng.between(50, 300)));
        relaunch(&mut proposers);
        let dead: Vec<usize> = (0..servers.len())
            .filter(|&k| servers[k].is_none())
            .collect();
        let live: Vec<usize> = (0..servers.len())
            .filter(|&k| servers[k].is_some())
            .collect();
        if !dead.is_empty() && (dead.len() == 2 || rng.chance(0.5)) {
            let k = dead[rng.between(0, dead.len() as u64 - 1) as usize];
            servers[k] = Some(cluster.start_node(cluster.servers[k], bugs));
        } else {
            let k = live[rng.between(0, live.len() as u64 - 1) as usize];
            if let Some(mut p) = servers[k].take() {
                p.kill9();
            }
            kills += 1;
        }
    }
    for (slot, &id) in servers.iter_mut().zip(&cluster.servers) {
        if slot.is_none() {
            *slot = Some(cluster.start_node(id, bugs));
        }
    }
    // After the last restart, proposals go on until every learner learned.
    let learned = wait_until(|| {
        relaunch(&mut proposers);
        cluster
            .servers
            .iter()
            .all(|&id| cluster.learned(id).is_some())
    });
    // Then every client must get its answer, as the liveness checker requires of
    // every proposer that took a client value: stop relaunching the ones that decided,
    // relaunch the ones that timed out (bounded), and wait for all to exit 0.
    let mut answered = vec![false; proposers.len()];
    let all_answered = wait_until(|| {
        for (k, &id) in cluster.proposers.iter().enumerate() {
            if answered[k] {
                continue;
            }
            match proposers[k].try_wait().map(|status| status.code()) {
                Some(Some(0)) => answered[k] = true,
                Some(Some(3)) => proposers[k] = cluster.propose(id, &value(id), bugs),
                Some(other) => panic!("proposer n{id} exited {other:?}\n{}", cluster.logs()),
                None => {}
            }
        }
        answered.iter().all(|&a| a)
    });
    for p in &mut proposers {
        p.terminate();
    }
    for s in servers.iter_mut().flatten() {
        let status = s.terminate();
        assert!(status.success(), "{} stopped with {status}", s.name);
    }
    let chosen = cluster
        .servers
        .iter()
        .map(|&id| cluster.learned(id))
        .collect();
    let (check_code, check_out) = cluster.check();
    eprintln!("gauntlet check exited {check_code}:\n{check_out}");
    assert!(
        (learned && all_answered) || check_code != 0,
        "some learner never learned or some client never got its answer, yet check \
         passed:\n{check_out}\n{}",
        cluster.logs()
    );
    NemesisReport {
        kills,
        check_code,
        check_out,
        chosen,
    }
}

/// kill -9 nemesis on correct Paxos: acceptors die at random (their state only what
/// they fsynced) and restart while three proposers keep proposing. `gauntlet check`
/// finds no safety violation, every learner learned after the last restart, and every
/// learner learned the same value.
#[test]
fn real_nemesis_kill9_keeps_safety_and_liveness() {
    let seed = seed_override().unwrap_or(11);
    let report = nemesis(seed, &[]);
    assert_eq!(report.kills, NEMESIS_KILLS);
    assert_eq!(report.check_code, 0, "seed {seed}:\n{}", report.check_out);
    assert!(report.check_out.contains("all properties held"));
    let first = report.chosen[0].clone();
    assert!(first.is_some());
    assert!(
        report.chosen.iter().all(|v| *v == first),
        "learners disagree: {:?}",
        report.chosen
    );
}

/// Nemesis rounds the planted-bug test may spend before it declares the bug missed.
const BUG_ROUNDS_MAX: u64 = 12;

/// The same nemesis with a planted bug: acceptors accept ballots below their promise.
/// Real processes catch it only when two proposers race through phase 1 together at
/// the start (measured: 12 of 20 rounds, each catch within the first 150 ms; the kills
/// play no part), so the test runs fresh rounds until `gauntlet check` reports the
/// agreement violation (exit 1), at most [`BUG_ROUNDS_MAX`]; a round that misses it
/// must still pass every check, like correct code.
#[test]
fn real_nemesis_catches_acceptor_accepts_below_promise() {
    let base = seed_override().unwrap_or(21);
    for round in 0..BUG_ROUNDS_MAX {
        let seed = base + round;
        let report = nemesis(seed, &["acceptor_accepts_below_promise"]);
        match report.check_code {
            1 => {
                assert!(
                    report.check_out.contains("VIOLATION agreement"),
                    "{}",
                    report.check_out
                );
                eprintln!("caught in round {} (seed {seed})", round + 1);
                return;
            }
            0 => {}
            code => panic!("seed {seed}: check exited {code}:\n{}", report.check_out),
        }
    }
    panic!(
        "acceptor_accepts_below_promise was not caught in {BUG_ROUNDS_MAX} rounds from seed {base}"
    );
}

/// Bad datagrams from proposer n2 (the test, holding n2's key) are recorded as
/// malformed and dropped: garbage, a truncated message and a wrong wire version, each
/// sealed with n2's key so they reach the shell, and an oversized datagram, which the
/// transport drops. The node keeps serving: a valid prepare sent afterwards gets its
/// promise. It stops cleanly on SIGTERM, and its history holds exactly the four
/// malformed ones.
#[test]
fn real_node_drops_bad_datagrams_and_keeps_serving() {
    let cluster = Cluster::new("datagrams", 1, 1);
    let mut n2 = cluster.peer(2);
    let mut node = cluster.start_node(1, &[]);

    let (prepare, bad) = prepare_and_bad_datagrams();
    for datagram in &bad {
        let mut wire = datagram.clone();
        n2.ring.seal(NodeId(1), &mut wire);
        n2.send_raw(&cluster, 1, &wire);
    }
    let prepare = gauntlet::node::decode_datagram::<Node>(&prepare).unwrap().2;
    n2.ask(&cluster, 1, &prepare, |m| matches!(m, Msg::Promise { .. }));
    let status = node.terminate();
    assert!(status.success(), "node stopped with {status}");
    let history = fs::read_to_string(cluster.history(1)).unwrap();
    assert_eq!(history.matches("\"Malformed\"").count(), 4, "{history}");
    for needle in [
        &format!("datagram of {} bytes exceeds", OVERSIZED_BYTES + TAG_BYTES)[..],
        "wire version 99",
        "ends early",
    ] {
        assert!(history.contains(needle), "{needle} not in\n{history}");
    }
    let log = fs::read_to_string(cluster.dir.join("n1.log")).unwrap();
    assert!(
        log.contains(&format!("from {}", cluster.address(2))),
        "{log}"
    );
    assert!(log.contains("malformed datagrams dropped: 4"), "{log}");
}

/// The repro of the forgery the trust issue found: after `Value_A` was chosen, a local
/// process without the cluster's keys sends acceptors `Accept`s of a value no client
/// proposed at a high ballot, and learners `Accepted`s of it, under every node's id,
/// untagged, tagged with a key of its own, and with a genuine tag lifted from a
/// datagram of n4's to another receiver. Before, three such `Accept`s made the
/// acceptors accept the forged value and the next `propose` print it. Now every one is
/// dropped and counted (the log names the forger's address), no acceptor's state
/// changes, every chosen_value stays `Value_A`, and a later `propose` prints `Value_A`.
#[test]
fn real_forged_datagrams_are_dropped_and_change_nothing() {
    let cluster = Cluster::new("forged", 3, 2);
    let mut servers: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    assert_eq!(
        finish(cluster.propose(4, "Value_A", &[]), &cluster),
        "Value_A"
    );

    let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let forger_addr = forger.local_addr().unwrap();
    let own_key = Keyring::new(NodeId(4), NodeKey::generate().unwrap(), Default::default());
    let ballot = Ballot::new(1_000_000, NodeId(4));
    let forged = [
        Msg::Accept {
            ballot,
            value: Value::new("Forged"),
        },
        Msg::Accepted {
            ballot,
            value: Value::new("Forged"),
        },
    ];
    // A genuine tag, from n4's key for n1: it must not carry over to n2 or n3.
    let mut n4 = cluster.peer(4);
    let lifted = n4.datagram(1, &forged[0]);
    drop(n4);
    let mut sent = 0;
    for &to in &cluster.servers {
        for claimed in 1..=5u16 {
            for (k, msg) in forged.iter().enumerate() {
                let plain =
                    encode_datagram::<Node>(NodeId(claimed), 1 + k as u64, msg).expect("fits");
                let mut tagged = plain.clone();
                own_key.seal(NodeId(to), &mut tagged);
                for wire in [&plain, &tagged] {
                    forger.send_to(wire, cluster.address(to)).unwrap();
                    sent += 1;
                }
            }
        }
        if to != 1 {
            forger.send_to(&lifted, cluster.address(to)).unwrap();
            sent += 1;
        }
    }
    // The servers answer nothing forged; wait until each has recorded its rejections
    // (as many lines as the rate limit lets through in a second).
    let logged = wait_until(|| {
        cluster.servers.iter().all(|&id| {
            fs::read_to_string(cluster.history(id)).is_ok_and(|h| {
                h.matches("\"Malformed\"").count() as u64 >= MALFORMED_LINES_PER_S_MAX
            })
        })
    });
    assert!(logged, "rejections not recorded\n{}", cluster.logs());
    assert_eq!(
        finish(cluster.propose(5, "Value_B", &[]), &cluster),
        "Value_A"
    );
    for &id in &cluster.servers {
        assert_eq!(cluster.chosen_value(id).as_deref(), Some("Value_A"));
        let state = fs::read(cluster.data_dir(id).join("state")).unwrap();
        let parts = paxos_state(&state).unwrap();
        let accepted = parts.acceptor.as_ref().unwrap().accepted.as_ref().unwrap();
        assert_eq!(accepted.1.as_str(), "Value_A", "n{id}");
        assert!(accepted.0.round < 1_000_000, "n{id} took a forged ballot");
    }
    let mut unauthenticated = 0;
    for s in &mut servers {
        assert!(s.terminate().success());
    }
    for &id in &cluster.servers {
        let log = fs::read_to_string(cluster.dir.join(format!("n{id}.log"))).unwrap();
        assert!(log.contains(&format!("from {forger_addr}")), "{log}");
        let count: u64 = log
            .split("unauthenticated: ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in\n{log}"));
        unauthenticated += count;
    }
    assert_eq!(unauthenticated, sent, "every forgery counted once");
}

/// Replays of old datagrams change nothing: proposer n2 (the test) runs ballot 1.2 to
/// acceptance at acceptor n1, then promises ballot 2.2; replaying the exact bytes of
/// the old prepare and accept is answered with nacks, and n1's state file is byte for
/// byte what it was. Authentication does not stop a replay (the bytes are genuine);
/// Paxos's rules make it harmless, as they make a late duplicate harmless.
#[test]
fn real_replayed_datagrams_change_no_state() {
    let cluster = Cluster::new("replay", 1, 1);
    let mut n2 = cluster.peer(2);
    let mut node = cluster.start_node(1, &[]);
    let old = Ballot::new(1, NodeId(2));
    let prepare = n2.datagram(1, &Msg::Prepare { ballot: old });
    let accept = n2.datagram(
        1,
        &Msg::Accept {
            ballot: old,
            value: Value::new("Value_A"),
        },
    );
    for wire in [&prepare, &accept] {
        n2.send_raw(&cluster, 1, wire);
        assert!(wait_until(|| n2.recv().is_some()), "{}", cluster.logs());
    }
    let newer = Msg::Prepare {
        ballot: Ballot::new(2, NodeId(2)),
    };
    n2.ask(&cluster, 1, &newer, |m| matches!(m, Msg::Promise { .. }));
    let state = cluster.data_dir(1).join("state");
    let before = fs::read(&state).unwrap();
    for wire in [&prepare, &accept] {
        n2.send_raw(&cluster, 1, wire);
        let nacked = wait_until(|| matches!(n2.recv(), Some(Msg::Nack { .. })));
        assert!(nacked, "a replay was not nacked\n{}", cluster.logs());
    }
    assert_eq!(
        fs::read(&state).unwrap(),
        before,
        "a replay changed the state"
    );
    assert!(node.terminate().success());
}

/// Run `gauntlet node --id 1 <args>` expecting a refusal: exit code 2 and stderr.
/// Bounded: a node that starts after all is killed, and the test fails.
fn refused_start_with(cluster: &Cluster, args: &[&str]) -> String {
    let mut node = cluster.spawn("node", 1, args, &[], Stdio::null());
    let status = node.wait();
    let log = fs::read_to_string(cluster.dir.join("n1.log")).unwrap_or_default();
    fs::remove_file(cluster.dir.join("n1.log")).unwrap();
    assert_eq!(status.code(), Some(2), "{log}");
    log
}

fn refused_start(cluster: &Cluster) -> String {
    refused_start_with(cluster, &[])
}

/// The owner line real mode writes before a state: node `id` of `cluster`.
fn owner_line(cluster: &Cluster, id: u16) -> String {
    let cluster_id = ClusterConfig::load(&cluster.config).unwrap().cluster_id();
    format!("{{\"node\":{id},\"cluster\":\"{cluster_id}\"}}\n")
}

/// An incarnation record of node `id` of `cluster`.
fn incarnation_record(cluster: &Cluster, id: u16, state_stored: bool) -> Vec<u8> {
    let cluster_id = ClusterConfig::load(&cluster.config).unwrap().cluster_id();
    gauntlet::storage::encode_record(
        format!(
            "{{\"node\":{id},\"cluster\":\"{cluster_id}\",\"incarnation\":0,\"state_stored\":{state_stored}}}"
        )
        .as_bytes(),
    )
}

/// A data directory whose state record is truncated, has a flipped bit, holds state
/// that is not the protocol's, or whose incarnation record is damaged or names another
/// node, makes the node refuse to start (exit 2) with an error naming the file, before
/// it records anything, instead of rejoining with amnesia (or with another node's
/// memory).
#[test]
fn real_node_refuses_a_damaged_data_dir() {
    let cluster = Cluster::new("damaged", 1, 1);
    let dir = cluster.data_dir(1);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("incarnation"),
        incarnation_record(&cluster, 1, true),
    )
    .unwrap();
    let state = dir.join("state");
    let owned = |json: &str| {
        gauntlet::storage::encode_record(format!("{}{json}", owner_line(&cluster, 1)).as_bytes())
    };
    let record = owned(r#"{"acceptor":{"promised":null,"accepted":null}}"#);

    fs::write(&state, &record[..record.len() - 5]).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains(&*state.to_string_lossy()) && err.contains("corrupt"),
        "{err}"
    );

    let mut flipped = record.clone();
    flipped[14] ^= 0x04;
    fs::write(&state, &flipped).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains(&*state.to_string_lossy()) && err.contains("checksum"),
        "{err}"
    );

    fs::write(&state, owned(r#"{"acceptor":"yes"}"#)).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains(&*state.to_string_lossy()) && err.contains("does not parse as paxos's"),
        "{err}"
    );
    assert!(
        !dir.join("history.jsonl").exists(),
        "a refused start recorded nothing"
    );

    fs::write(&state, &record).unwrap();
    let incarnation = dir.join("incarnation");
    fs::write(&incarnation, gauntlet::storage::encode_record(b"seven")).unwrap();
    let err = refused_start(&cluster);
    assert!(err.contains(&*incarnation.to_string_lossy()), "{err}");

    // Another node's data directory is refused too: its promises are not n1's.
    fs::write(&incarnation, incarnation_record(&cluster, 2, true)).unwrap();
    let err = refused_start(&cluster);
    assert!(err.contains("belongs to n2, not n1"), "{err}");
}

/// The amnesia the trust issue reproduced, each refused with exit 2 and a reason:
/// - `node` on a data directory that does not exist, without `--init` (a mistyped
///   `--data-dir` used to start a fresh node silently);
/// - a node whose `state` file is gone while its incarnation record says it stored
///   one, or while its `chosen_value` is there (it used to start from an empty disk:
///   an agreement violation was reproduced from exactly this);
/// - a node whose incarnation record is gone while its state is there (it used to
///   restart as incarnation 0, reusing message ids, and `check` then refused the whole
///   cluster's histories);
/// - a state copied from another node's data directory (records did not name their
///   node), and one from another cluster;
/// - a second process on a data directory a node is running on (no lock).
///
/// A directory whose node never stored a state (it only ever recorded its starts)
/// starts again fine.
#[test]
fn real_node_refuses_amnesia() {
    let cluster = Cluster::new("amnesia", 1, 1);
    let dir = cluster.data_dir(1);
    let err = refused_start(&cluster);
    assert!(
        err.contains("no such data directory") && err.contains("--init"),
        "{err}"
    );
    assert!(!dir.exists(), "a refused start created nothing");

    // n1 stores a promise, then stops.
    let mut n2 = cluster.peer(2);
    let mut node = cluster.start_node(1, &[]);
    let prepare = Msg::Prepare {
        ballot: Ballot::new(1, NodeId(2)),
    };
    n2.ask(&cluster, 1, &prepare, |m| matches!(m, Msg::Promise { .. }));
    drop(n2); // frees n2's address for the n2 process below
    assert!(node.terminate().success());
    let state = dir.join("state");
    let saved = fs::read(&state).unwrap();

    fs::remove_file(&state).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains("state file is missing") && err.contains("incarnation"),
        "{err}"
    );

    // With only chosen_value left as evidence (and an old incarnation record that
    // predates the state), the state's absence is still refused.
    fs::write(
        dir.join("incarnation"),
        incarnation_record(&cluster, 1, false),
    )
    .unwrap();
    fs::write(dir.join("chosen_value"), "Value_A").unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains("state file is missing") && err.contains("chosen_value"),
        "{err}"
    );
    fs::remove_file(dir.join("chosen_value")).unwrap();

    fs::write(&state, &saved).unwrap();
    fs::remove_file(dir.join("incarnation")).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains("no incarnation record") && err.contains("state"),
        "{err}"
    );
    fs::write(
        dir.join("incarnation"),
        incarnation_record(&cluster, 1, true),
    )
    .unwrap();

    // n1's state in n2's directory (n2 started once, as a new node, so its records
    // are its own).
    let mut other = cluster.spawn("node", 2, &["--init"], &[], Stdio::null());
    assert!(wait_until(|| cluster.starts(2) == 1), "{}", cluster.logs());
    assert!(other.terminate().success());
    assert!(cluster.start_node(2, &[]).terminate().success());
    fs::write(cluster.data_dir(2).join("state"), &saved).unwrap();
    let mut stolen = cluster.spawn("node", 2, &[], &[], Stdio::null());
    assert_eq!(stolen.wait().code(), Some(2));
    let log = fs::read_to_string(cluster.dir.join("n2.log")).unwrap();
    assert!(log.contains("belongs to n1 of cluster"), "{log}");

    // A state from another cluster (same node id, other keys).
    let mut foreign = saved.clone();
    let text = String::from_utf8_lossy(&saved).into_owned();
    let cluster_id = ClusterConfig::load(&cluster.config).unwrap().cluster_id();
    assert!(text.contains(&cluster_id));
    let other_id = "0".repeat(cluster_id.len());
    let payload = gauntlet::storage::decode_record(&saved).unwrap().to_vec();
    let payload = String::from_utf8(payload)
        .unwrap()
        .replace(&cluster_id, &other_id);
    foreign.clear();
    foreign.extend(gauntlet::storage::encode_record(payload.as_bytes()));
    fs::write(&state, &foreign).unwrap();
    let err = refused_start(&cluster);
    assert!(
        err.contains(&format!("belongs to n1 of cluster {other_id}")),
        "{err}"
    );
    fs::write(&state, &saved).unwrap();

    // The lock: while n1 runs, a second process on its directory is refused.
    let mut node = cluster.start_node(1, &[]);
    let shown = dir.to_string_lossy().into_owned();
    let mut second = cluster.spawn("node", 2, &["--data-dir", &shown], &[], Stdio::null());
    assert_eq!(second.wait().code(), Some(2));
    let log = fs::read_to_string(cluster.dir.join("n2.log")).unwrap();
    assert!(
        log.contains("another process is running on this data directory"),
        "{log}"
    );
    assert!(node.terminate().success());
}

/// With no acceptor running, `gauntlet propose` gives up at its timeout: exit 3 and a
/// message saying no value was chosen.
#[test]
fn real_propose_times_out_without_acceptors() {
    let cluster = Cluster::new("timeout", 3, 1);
    let out = gauntlet()
        .args(["propose", "--config"])
        .arg(&cluster.config)
        .args(["--value", "Value_A", "--timeout", "300ms"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no value was chosen within"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Run gauntlet with `args`: exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = gauntlet().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `gauntlet check` refuses a history it cannot read with exit 2, naming the file and
/// the line, and so does a history judged as another protocol; `propose` refuses a
/// node the protocol does not let take requests; `init-cluster` writes a config for
/// the protocol named, refuses an unknown one, and refuses to overwrite a file.
#[test]
fn real_check_propose_and_init_cluster_refuse_bad_input() {
    let cluster = Cluster::new("badinput", 1, 1);
    let path = cluster.dir.join("h.jsonl");
    let header = r#"{"gauntlet_history":2,"protocol":"paxos","node":1,"incarnation":0,"cluster":[1,2],"params":{"acceptors":[1],"learners":[1],"proposers":[2]},"wall_ms":5}"#;
    fs::write(
        &path,
        format!("{header}\n{{\"seq\":0,\"wall_ms\":5,\"at_ms\"\n"),
    )
    .unwrap();
    let shown = path.to_string_lossy().into_owned();
    let (code, stderr) = run(&["check", &shown]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("h.jsonl:2"), "{stderr}");
    fs::write(&path, format!("{header}\n")).unwrap();
    let (code, stderr) = run(&["check", "--protocol", "naive", &shown]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("h.jsonl:1: a history of paxos, judged as naive"),
        "{stderr}"
    );

    let config = cluster.config.to_string_lossy().into_owned();
    let (code, stderr) = run(&["propose", "--config", &config, "--id", "1", "--value", "A"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("n1 is not a proposer"), "{stderr}");

    // A directory of its own: the key files go beside the cluster file, and the test
    // cluster's own are in cluster.dir/keys (init-cluster refuses to overwrite them).
    let init_dir = cluster.dir.join("init");
    fs::create_dir_all(&init_dir).unwrap();
    let out = init_dir.join("init.toml").to_string_lossy().into_owned();
    let init = |extra: &[&str]| {
        let mut args = vec!["init-cluster", "--nodes", "3", "--out", &out];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_eq!(init(&["--proposers", "2"]).0, Some(0));
    assert_eq!(
        init(&["--proposers", "2"]).0,
        Some(2),
        "refuses to overwrite"
    );
    assert_eq!(init(&["--proposers", "2", "--force"]).0, Some(0));
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains("protocol = \"paxos\""), "{text}");
    assert_eq!(
        text.matches("\npublic_key = \"").count(),
        5,
        "one public key per node: {text}"
    );
    let secret_file = |id: u16| init_dir.join("keys").join(format!("n{id}.secret"));
    let secrets = || -> Vec<String> {
        (1..=5)
            .map(|id| fs::read_to_string(secret_file(id)).unwrap())
            .collect()
    };
    let first_secrets = secrets();
    for (k, secret) in first_secrets.iter().enumerate() {
        let public = NodeKey::from_hex(secret.trim()).unwrap().public().to_hex();
        assert!(text.contains(&public), "n{}'s public key", k + 1);
        assert!(!text.contains(secret.trim()), "no secret in cluster.toml");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [PathBuf::from(&out), secret_file(1)] {
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "{} is its owner's only",
                path.display()
            );
        }
    }
    let (code, stderr) = init(&["--force", "--host", "0.0.0.0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--allow-non-loopback"), "{stderr}");
    let (code, stderr) = init(&["--force", "--host", "0.0.0.0", "--allow-non-loopback"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(fs::read_to_string(&out).unwrap().contains("0.0.0.0:5001"));
    assert_eq!(init(&["--force", "--proposers", "2"]).0, Some(0));
    let again = fs::read_to_string(&out).unwrap();
    let keys = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("public_key = "))
            .map(String::from)
            .collect()
    };
    assert!(
        keys(&again).iter().all(|k| !keys(&text).contains(k)),
        "every init-cluster draws fresh keys"
    );
    assert!(
        secrets().iter().all(|k| !first_secrets.contains(k)),
        "and fresh secret key files"
    );
    assert!(text.contains("proposers = [4, 5]") && text.contains("127.0.0.1:5005"));
    let (code, stderr) = init(&["--force", "--protocol", "nope"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`nope` is not a protocol here"), "{stderr}");
    assert_eq!(
        init(&["--force", "--protocol", "naive", "--proposers", "0"]).0,
        Some(0)
    );
    let text = fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("protocol = \"naive\"") && !text.contains("\n[params]"),
        "{text}"
    );
}

/// The naive vote, a protocol real mode knows nothing about, runs with the same
/// commands: `init-cluster --protocol naive` (three servers and one client node, all
/// voters), three `node` processes, `propose` on the client node, which prints the
/// decided value; every server writes it to chosen_value, stops cleanly, and `check`
/// (which reads the protocol from the histories) finds every property held.
#[test]
fn real_naive_cluster_decides_and_checks() {
    let cluster = Cluster::init("naive", "naive", 3, 1);
    let mut servers: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    let client = cluster.propose(4, "Value_N", &[]);
    assert_eq!(finish(client, &cluster), "Value_N");
    let all_decided = wait_until(|| {
        cluster
            .servers
            .iter()
            .all(|&id| cluster.chosen_value(id).as_deref() == Some("Value_N"))
    });
    assert!(all_decided, "chosen_value files\n{}", cluster.logs());
    for s in &mut servers {
        let status = s.terminate();
        assert!(status.success(), "{} stopped with {status}", s.name);
    }
    let (code, out) = cluster.check();
    assert_eq!(code, 0, "{out}\n{}", cluster.logs());
    assert!(
        out.contains("from 4 file(s)") && out.contains("all properties held"),
        "{out}"
    );
}

/// The learner that missed the decision, the trust issue's 4 of 20 kill -9 trials:
/// learner n3 is killed (SIGKILL) while client n4 gets `Value_A` chosen by n1 and n2;
/// `propose` exits with its answer, so no proposer is left. Restarted, n3 asks the
/// acceptors (its poll, with `learner_asks_acceptors` as `init-cluster` writes it)
/// and learns `Value_A` from their answers: no acceptor promised anything after the
/// decision (no new ballot ran), and `gauntlet check` finds every property held.
/// Before, n3 nudged proposers that no longer existed and never learned.
#[test]
fn real_learner_killed_through_the_decision_learns_after_restart() {
    let cluster = Cluster::new("catchup", 3, 1);
    let mut servers: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    servers[2].kill9();
    assert_eq!(
        finish(cluster.propose(4, "Value_A", &[]), &cluster),
        "Value_A"
    );
    assert_eq!(cluster.chosen_value(3), None);
    servers[2] = cluster.start_node(3, &[]);
    let learned = wait_until(|| {
        cluster.chosen_value(3).as_deref() == Some("Value_A")
            && fs::read_to_string(cluster.history(3)).is_ok_and(|h| h.contains("\"Learned\""))
    });
    assert!(learned, "n3 did not learn\n{}", cluster.logs());
    // The ballot n3 learned at is the one n4 decided at: no proposer ran another.
    let ballot_of = |id: u16, note: &str| {
        let history = fs::read_to_string(cluster.history(id)).unwrap();
        let at = history
            .find(&format!("\"{note}\":{{\"ballot\":"))
            .unwrap_or_else(|| panic!("no {note} in n{id}'s history:\n{history}"));
        history[at..]
            .split('}')
            .next()
            .unwrap()
            .rsplit(':')
            .take(3)
            .collect::<Vec<_>>()
            .join(":")
    };
    assert_eq!(ballot_of(3, "Learned"), ballot_of(4, "Decided"));
    for s in &mut servers {
        assert!(s.terminate().success(), "{} did not stop cleanly", s.name);
    }
    let (code, out) = cluster.check();
    assert_eq!(code, 0, "{out}\n{}", cluster.logs());
}

/// The last best chain node `id` recorded in its history (block ids from genesis).
fn last_chain(cluster: &Cluster, id: u16) -> Vec<String> {
    let text = fs::read_to_string(cluster.history(id)).unwrap_or_default();
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e.pointer("/kind/Protocol/Tip/chain").cloned())
        .find_map(|c| serde_json::from_value::<Vec<String>>(c).ok())
        .unwrap_or_default()
}

/// The proof-of-work chain in real mode: `init-cluster --protocol pow` (five nodes, n1
/// the only bootstrap address), five `node` processes that find each other, mine
/// (blocks sealed for real) and converge: every node's chain reaches height 4 and,
/// without its last 2 blocks, is a prefix of every other's; they stop cleanly and
/// `check` finds every property held.
#[test]
fn real_pow_chain_finds_peers_mines_and_converges() {
    let cluster = Cluster::init("pow", "pow", 5, 0);
    let mut servers: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    let converged = wait_until(|| {
        let chains: Vec<Vec<String>> = cluster
            .servers
            .iter()
            .map(|&id| last_chain(&cluster, id))
            .collect();
        chains.iter().all(|c| c.len() > 4)
            && chains.iter().all(|a| {
                let keep = a.len() - 2;
                chains
                    .iter()
                    .all(|b| b.len() >= keep && b[..keep] == a[..keep])
            })
    });
    assert!(converged, "chains did not converge\n{}", cluster.logs());
    for s in &mut servers {
        let status = s.terminate();
        assert!(status.success(), "{} stopped with {status}", s.name);
    }
    let (code, out) = cluster.check();
    assert_eq!(code, 0, "{out}\n{}", cluster.logs());
    assert!(
        out.contains("from 5 file(s)") && out.contains("all properties held"),
        "{out}"
    );
}

/// The requests PBFT replica `id` executed, in order, from its history.
fn executed(cluster: &Cluster, id: u16) -> Vec<String> {
    let text = fs::read_to_string(cluster.history(id)).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| {
            let request = e.pointer("/kind/Protocol/Executed/request")?;
            Some(request.as_str()?.to_string())
        })
        .collect()
}

/// How many datagrams node `id`'s last clean stop counted as unauthenticated.
fn unauthenticated(cluster: &Cluster, id: u16) -> u64 {
    let log = fs::read_to_string(cluster.dir.join(format!("n{id}.log"))).unwrap();
    log.rsplit("unauthenticated: ")
        .next()
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in\n{log}"))
}

/// PBFT as a user runs it from the README: `init-cluster --protocol pbft --nodes 4
/// --proposers 1` writes four replicas and a client node, with every public key in
/// cluster.toml and each secret key in its own file; four `node` processes start.
/// - `propose` on the client node sends `Req_1` to every replica, gets `f + 1 = 2`
///   matching replies and prints it.
/// - Forged datagrams, each a well-formed PBFT message: a request and a pre-prepare
///   claiming to be from client n5 and primary n1 but signed with a key of the
///   forger's own, sent to n2 and n3, are dropped and counted as unauthenticated in
///   their logs, and no replica ever hears of `Forged`. A prepare with view
///   `u64::MAX`, genuinely signed with n1's key, is recorded as malformed by n2.
/// - kill -9 of backup n4: `Req_2` is still answered, by the three left.
/// - n4 restarted, kill -9 of the primary n1: the others change view and `Req_3` is
///   answered in the new view.
/// - n1 restarted: all four replicas execute `Req_1, Req_2, Req_3` in that order (n1
///   and n4 catch up), stop cleanly, and `check` over the five histories exits 0.
#[test]
fn real_pbft_cluster_answers_through_kills_and_refuses_forgeries() {
    use gauntlet::protocols::pbft::msg::Msg as PbftMsg;
    use gauntlet::protocols::pbft::Replica;
    let cluster = Cluster::init("pbft", "pbft", 4, 1);
    let mut replicas: Vec<Proc> = cluster
        .servers
        .iter()
        .map(|&id| cluster.start_node(id, &[]))
        .collect();
    assert_eq!(finish(cluster.propose(5, "Req_1", &[]), &cluster), "Req_1");

    // Forgeries: well-formed, signed with a key that is no node's.
    let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let publics = ClusterConfig::load(&cluster.config)
        .unwrap()
        .nodes
        .iter()
        .map(|n| (n.id, n.public_key))
        .collect::<std::collections::BTreeMap<_, _>>();
    let forged = [
        (
            5,
            PbftMsg::Request {
                request: gauntlet::value::Value::new("Forged"),
            },
        ),
        (
            1,
            PbftMsg::PrePrepare {
                view: 0,
                seq: 9,
                request: Some(gauntlet::value::Value::new("Forged")),
                digest: 0,
                sig: 0,
            },
        ),
    ];
    let mut sent = [0u64; 2];
    for (k, to) in [2u16, 3].into_iter().enumerate() {
        for (claimed, msg) in &forged {
            let wrong = Keyring::new(
                NodeId(*claimed),
                NodeKey::generate().unwrap(),
                publics.clone(),
            );
            let mut wire = encode_datagram::<Replica>(NodeId(*claimed), 1, msg).expect("fits");
            wrong.seal(NodeId(to), &mut wire);
            forger.send_to(&wire, cluster.address(to)).unwrap();
            sent[k] += 1;
        }
    }
    // A counter no replica could step past, with a genuine signature of n1's.
    let top_view = PbftMsg::Prepare {
        view: u64::MAX,
        seq: 1,
        digest: 0,
        sig: 0,
    };
    let mut wire = encode_datagram::<Replica>(NodeId(1), u64::MAX / 2, &top_view).expect("fits");
    cluster.keyring(1).seal(NodeId(2), &mut wire);
    forger.send_to(&wire, cluster.address(2)).unwrap();
    let recorded = wait_until(|| {
        fs::read_to_string(cluster.history(2)).is_ok_and(|h| {
            h.contains("over the highest") && h.matches("\"Malformed\"").count() >= 3
        })
    });
    assert!(
        recorded,
        "n2 did not record the bad datagrams\n{}",
        cluster.logs()
    );

    // Phase 1: a backup dies.
    replicas[3].kill9();
    assert_eq!(finish(cluster.propose(5, "Req_2", &[]), &cluster), "Req_2");

    // Phase 2: the backup is back; the primary dies.
    replicas[3] = cluster.start_node(4, &[]);
    replicas[0].kill9();
    assert_eq!(finish(cluster.propose(5, "Req_3", &[]), &cluster), "Req_3");
    let changed = (2..=4).any(|id| {
        fs::read_to_string(cluster.history(id)).is_ok_and(|h| h.contains("\"NewViewInstalled\""))
    });
    assert!(
        changed,
        "Req_3 answered without a view change\n{}",
        cluster.logs()
    );

    replicas[0] = cluster.start_node(1, &[]);
    let all = ["Req_1", "Req_2", "Req_3"].map(String::from).to_vec();
    let caught_up = wait_until(|| {
        cluster
            .servers
            .iter()
            .all(|&id| executed(&cluster, id) == all)
    });
    assert!(
        caught_up,
        "replicas did not all execute {all:?}\n{}",
        cluster.logs()
    );
    for s in &mut replicas {
        let status = s.terminate();
        assert!(status.success(), "{} stopped with {status}", s.name);
    }
    for (k, id) in [2u16, 3].into_iter().enumerate() {
        assert_eq!(unauthenticated(&cluster, id), sent[k], "n{id}'s count");
    }
    // n2 ran once: its stop line counts the forgeries and the view it could not take.
    let n2_log = fs::read_to_string(cluster.dir.join("n2.log")).unwrap();
    assert!(
        n2_log.contains("malformed datagrams dropped: 3 (unauthenticated: 2"),
        "{n2_log}"
    );
    for id in 1..=5 {
        let history = fs::read_to_string(cluster.history(id)).unwrap();
        assert!(
            !history.contains("Forged"),
            "n{id} heard of Forged:\n{history}"
        );
    }
    let (code, out) = cluster.check();
    assert_eq!(code, 0, "{out}\n{}", cluster.logs());
    assert!(
        out.contains("from 5 file(s)") && out.contains("all properties held"),
        "{out}"
    );
}
