#!/usr/bin/env python3
"""Migrate gauntlet corpus files from format 1 to format 2 (protocol-neutral scenarios).

Format 1 scenarios carried Paxos's roles on each node and Paxos's timing at the top;
format 2 moves them into the protocol's own section, `params`, and always names the
protocol. Usage: scripts/migrate-corpus-v2.py FILE... (rewrites each file in place and
renames it to the format-2 file name, `<protocol>-<property>[-bugs]-<seed>.json`).
"""
import json, os, sys

def migrate(entry):
    if entry.get("format") != 1:
        return None
    sc = entry["scenario"]
    protocol = sc.get("protocol", "paxos")
    nodes = sc["cluster"]["nodes"]
    params = None
    if protocol == "paxos":
        roles = {n["id"]: n.get("roles", {}) for n in nodes}
        params = {
            "acceptors": [i for i, r in roles.items() if r.get("acceptor")],
            "proposers": [i for i, r in roles.items() if r.get("proposer")],
            "learners": [i for i, r in roles.items() if r.get("learner")],
        }
        if "timing" in sc:
            params["timing"] = sc["timing"]
    out = {
        "seed": sc["seed"],
        "protocol": protocol,
        "cluster": {"nodes": [{"id": n["id"]} for n in nodes]},
    }
    for key in ("network", "workload", "faults", "liveness_bound_ms"):
        if key in sc:
            out[key] = sc[key]
    if params is not None:
        out["params"] = params
    if sc.get("bugs"):
        out["bugs"] = sc["bugs"]
    entry["scenario"] = out
    entry["format"] = 2
    return entry

def file_name(entry):
    sc = entry["scenario"]
    expect = entry["expect"]
    what = "pass" if expect["outcome"] == "pass" else expect["property"]
    bugs = "-" + "+".join(sc["bugs"]) if sc.get("bugs") else ""
    return f"{sc['protocol']}-{what}{bugs}-{sc['seed']:016x}.json"

for path in sys.argv[1:]:
    with open(path) as f:
        entry = json.load(f)
    new = migrate(entry)
    if new is None:
        print(f"{path}: not format 1, left alone")
        continue
    target = os.path.join(os.path.dirname(path), file_name(new))
    with open(path, "w") as f:
        f.write(json.dumps(new, indent=2) + "\n")
    if target != path:
        os.rename(path, target)
    print(f"{path} -> {target}")
