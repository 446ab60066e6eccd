#!/usr/bin/env bash
# The lab as real processes, in one terminal: a Paxos cluster.toml from init-cluster,
# three servers (acceptor + learner) on loopback UDP, client A proposes Value_A, client
# B proposes Value_B one second later.
# Then it shows each server's chosen_value file, stops the servers with SIGTERM and runs
# `gauntlet check` on every node's history.
#
#   scripts/real-lab.sh [DIR] [BASE_PORT]     (default: a new temporary dir, port 5001)
#
# Each node's log is DIR/n<id>.log; its data directory is DIR/data/n<id>.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
gauntlet="$PWD/target/release/gauntlet"
if [ -n "${CARGO_TARGET_DIR:-}" ]; then gauntlet="$CARGO_TARGET_DIR/release/gauntlet"; fi

dir="${1:-$(mktemp -d -t gauntlet-lab.XXXXXX)}"
port="${2:-5001}"
mkdir -p "$dir"
cd "$dir"
"$gauntlet" init-cluster --protocol paxos --nodes 3 --proposers 2 --base-port "$port" --force

pids=()
stop() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait; }
trap stop EXIT
for id in 1 2 3; do
    "$gauntlet" node --config cluster.toml --id "$id" --init 2>"n$id.log" &
    pids+=("$!")
done
sleep 0.5

echo "client A (n4) proposes Value_A"
echo "  chosen: $("$gauntlet" propose --config cluster.toml --id 4 --value Value_A 2>n4.log)"
sleep 1
echo "client B (n5) proposes Value_B one second later"
echo "  chosen: $("$gauntlet" propose --config cluster.toml --id 5 --value Value_B 2>n5.log)"
sleep 0.5
for id in 1 2 3; do
    echo "n$id chosen_value: $(cat "data/n$id/chosen_value" 2>/dev/null || echo '(none yet)')"
done

stop
trap - EXIT
echo
echo "gauntlet check data/*/history.jsonl"
"$gauntlet" check data/*/history.jsonl
echo
echo "logs and histories are in $dir"
