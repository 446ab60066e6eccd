#!/usr/bin/env bash
# The comparison issue 16 asks for, literally: stateright 0.31's own Paxos example
# (its model: 3 servers, 2 or 3 clients, an unordered non-duplicating network) against
# gauntlet's check-model on the same scope parameters (3 acceptors, 2 or 3 proposers,
# learner n1, no faults but reordering, liveness off), in one run on one machine.
# docs/model-checking.md ("Against stateright's own Paxos example") reads its output.
#
# Both run on ONE core: each command is pinned with `taskset -c $CPU`, and the
# example sizes its worker pool with num_cpus::get(), which follows the affinity
# mask, so stateright runs one worker thread; gauntlet's search is single-threaded.
# Each row is the median wall time of $SAMPLES runs (alternating checkers) and the
# largest peak resident memory (/usr/bin/time's %M) over them.
#
# The example is built from the registry's own source of stateright 0.31.0 (not
# copied into this repository), into $CARGO_TARGET_DIR/stateright-example.
#
# Usage: benches/against_stateright.sh [SAMPLES] (default 3). Env: CPU (default 0),
# GAUNTLET_3P_DEPTH (the depth bound of gauntlet's 3-proposer rows, default 14),
# SKIP_BUILD=1 to use the binaries already built.
set -euo pipefail

SAMPLES=${1:-3}
CPU=${CPU:-0}
DEPTH_3P=${GAUNTLET_3P_DEPTH:-14}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SR_SRC=$(ls -d "$HOME"/.cargo/registry/src/*/stateright-0.31.0 | head -1)
SR=$TARGET/stateright-example/release/examples/paxos
GAUNTLET=$TARGET/release/gauntlet
WORK=$(mktemp -d /tmp/against-stateright.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release --offline --locked --example paxos \
        --manifest-path "$SR_SRC/Cargo.toml" --target-dir "$TARGET/stateright-example"
    cargo build --release --bin gauntlet --manifest-path "$ROOT/Cargo.toml"
fi

# gauntlet's scopes: 3 acceptors n1-n3, proposers n4.. proposing Value_A.., learner n1.
scope() {
    local proposers=$1 nodes="" workload="" ids="" letters=(A B C D)
    for i in $(seq 1 $((3 + proposers))); do nodes+="{\"id\": $i},"; done
    for i in $(seq 1 "$proposers"); do
        workload+="{\"proposer\": $((3 + i)), \"value\": \"Value_${letters[$((i - 1))]}\", \"at_ms\": 0},"
        ids+="$((3 + i)),"
    done
    cat > "$WORK/paxos-3+$proposers.json" <<EOF
{"seed": 1, "protocol": "paxos", "cluster": {"nodes": [${nodes%,}]},
 "workload": [${workload%,}], "liveness_bound_ms": 2000,
 "params": {"acceptors": [1, 2, 3], "proposers": [${ids%,}], "learners": [1]}}
EOF
}
scope 2
scope 3

# One run: prints "STATES SECONDS PEAK_KB".
run_stateright() { # clients order(bfs|dfs)
    local out
    out=$( { /usr/bin/time -f "TIME %e %M" taskset -c "$CPU" "$SR" "check-$2" "$1" 2>&1; } |
        grep -E '^Done\.|^TIME')
    local states
    states=$(echo "$out" | sed -n 's/^Done\..* unique=\([0-9]*\),.*/\1/p')
    echo "$states $(echo "$out" | awk '/^TIME/ {print $2, $3}')"
}
run_gauntlet() { # proposers order(bfs|dfs) [extra flags]
    local proposers=$1 order=$2
    shift 2
    local flags=(--scenario "$WORK/paxos-3+$proposers.json" --no-liveness "$@")
    if [ "$order" = dfs ]; then flags+=(--dfs); fi
    local out
    out=$( { /usr/bin/time -f "TIME %e %M" taskset -c "$CPU" "$GAUNTLET" check-model \
        "${flags[@]}" --failures-dir "$WORK/failures" 2>&1; } | grep -E '^explored|^TIME')
    local states
    states=$(echo "$out" | sed -n 's/^explored \([0-9]*\) states.*/\1/p')
    echo "$states $(echo "$out" | awk '/^TIME/ {print $2, $3}')"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# One row: the median wall, the largest peak and states/s of the runs in file $1.
row() { # file label checker
    local states wall kb rate
    states=$(awk 'NR == 1 {print $1}' "$1")
    wall=$(awk '{print $2}' "$1" | median)
    kb=$(awk '{print $3}' "$1" | sort -g | tail -1)
    rate=$(awk -v s="$states" -v w="$wall" 'BEGIN {printf "%.0f", s / (w > 0 ? w : 1e-9)}')
    printf '%-28s %-26s %10s states  median %7.2f s  %9s states/s  peak %7.1f MB  (runs: %s)\n' \
        "$2" "$3" "$states" "$wall" "$rate" "$(awk -v k="$kb" 'BEGIN {print k / 1024}')" \
        "$(awk '{printf "%ss ", $2}' "$1")"
    echo "$states $wall $kb" > "$1.row"
}

ratio() { # label gauntlet-file stateright-file what
    read -r s2 w2 k2 < "$2.row"
    read -r s1 w1 k1 < "$3.row"
    awk -v l="$1" -v what="$4" -v s1="$s1" -v w1="$w1" -v k1="$k1" -v s2="$s2" -v w2="$w2" -v k2="$k2" \
        'BEGIN {printf "%-28s gauntlet/stateright %s: %.2fx states/s, %.2fx peak memory\n",
                l, what, (s2 / w2) / (s1 / w1), k2 / k1}'
}

# One scope: stateright breadth-first and depth-first, and gauntlet depth-first (its
# breadth-first search holds the whole frontier: 2.5 GB on 3+2 exhausted, see the
# docs), $SAMPLES times each, alternating; a row each and the two ratios.
compare() { # label clients [gauntlet flags]
    local label=$1 clients=$2
    shift 2
    : > "$WORK/srb" && : > "$WORK/srd" && : > "$WORK/g"
    for _ in $(seq 1 "$SAMPLES"); do
        run_stateright "$clients" bfs >> "$WORK/srb"
        run_gauntlet "$clients" dfs "$@" >> "$WORK/g"
        run_stateright "$clients" dfs >> "$WORK/srd"
    done
    row "$WORK/srb" "$label" "stateright example, bfs"
    row "$WORK/srd" "$label" "stateright example, dfs"
    row "$WORK/g" "$label" "gauntlet check-model --dfs${*:+ $*}"
    ratio "$label" "$WORK/g" "$WORK/srb" "(stateright bfs)"
    ratio "$label" "$WORK/g" "$WORK/srd" "(stateright dfs)"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); both checkers pinned to CPU $CPU"
# --no-symmetry: the example explores its states unreduced, so gauntlet's rows do too
# (its default symmetry reduction counts one state per class of renamings, which
# would make states/s compare unlike things). The last row is gauntlet's default, for
# the time to cover the same scope.
compare "paxos 3+2, exhausted" 2 --no-symmetry
compare "paxos 3+3" 3 --depth "$DEPTH_3P" --no-symmetry
: > "$WORK/gs"
for _ in $(seq 1 "$SAMPLES"); do run_gauntlet 3 dfs --depth "$DEPTH_3P" >> "$WORK/gs"; done
row "$WORK/gs" "paxos 3+3" "gauntlet check-model --dfs --depth $DEPTH_3P (symmetry)"
echo "machine after: load $(cut -d' ' -f1-3 /proc/loadavg)"
