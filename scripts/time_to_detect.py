#!/usr/bin/env python3
"""Time to detect every re-injected bug with the built-in loop (issue 13's done-when table).

For each bug of the registry (`diverge list --json`), runs `diverge fuzz --target T --jobs 1` on a
build with the bug compiled in, once per mutator (havoc, structured), per start (`seeds`: the
shipped corpus; `cold`: an empty corpus, the pool only) and per RNG seed, stopping at the first
finding whose signature is one of the bug's registry signatures or after `--cap` seconds. Prints
a Markdown table of medians (seconds from the campaign's start, as `diverge fuzz --json` reports
`after_secs`) and writes every run to `--out` as JSON.

Builds: the registry's bug builds (`diverge list --bug-builds`: no two bugs of a build touch the
same target, implied features count), restricted to the bugs asked for, one `cargo build --release
-p diverge --features ...` per build in one shared target directory (`target/bug-smoke`, as
ci/bug-smoke.sh), the binary copied out per build.

    python3 scripts/time_to_detect.py [--bugs a,b] [--seeds 5] [--cap 60] [--mutators havoc,structured]
                                      [--starts seeds,cold] [--out ttd.json]

A median is over every seed: a run that found nothing counts as more than the cap, so the median is
`>cap` when fewer than half of the runs found the bug. Runs are sequential (one job each); on a
shared machine the seconds are noisy, so each row also gives how many runs found it.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.path.join(ROOT, "target", "bug-smoke")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def registry(diverge):
    out = subprocess.run([diverge, "list", "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["bugs"]


def groups(diverge, bugs):
    """The registry's bug builds (`diverge list --bug-builds`: no two bugs of a build touch one
    target), each restricted to the bugs asked for."""
    out = subprocess.run([diverge, "list", "--bug-builds"], cwd=ROOT, check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        features = set(line.split("\t")[0].split(","))
        group = [b for b in bugs if b["feature"] in features]
        if group:
            yield group


def build(features, dest):
    cmd = ["cargo", "build", "--release", "-p", "diverge", "--features", ",".join(features)]
    log(f"building: {' '.join(cmd)} (CARGO_TARGET_DIR={TARGET_DIR})")
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET_DIR)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copy2(os.path.join(TARGET_DIR, "release", "diverge"), dest)


def run_one(diverge, bug, mutator, start, seed, cap, empty, scratch):
    signatures = {r["signature"] for r in bug["regressions"]}
    findings = tempfile.mkdtemp(dir=scratch)
    cmd = [diverge, "fuzz", "--target", bug["target"], "--jobs", "1", "--seed", str(seed),
           "--duration", str(cap), "--mutator", mutator, "--findings", findings, "--json"]
    if start == "cold":
        cmd += ["--corpus", empty]
    # --stop-on-finding takes one pattern: the whole signature for one-signature bugs; for bugs
    # with several, the first (a common prefix would also stop on other divergences the bug causes,
    # e.g. `drand-vs-spec: <reject>/NilDereference`, before a registry signature is reached). The
    # earliest hit of any registry signature is what counts.
    cmd += ["--stop-on-finding", sorted(signatures)[0]]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap + 120)
    shutil.rmtree(findings, ignore_errors=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    hits, other = [], []
    for t in report["targets"]:
        for f in t["findings"]:
            (hits if f["signature"] in signatures else other).append(f)
    execs = sum(t["execs"] for t in report["targets"])
    found = min((f["after_secs"] for f in hits), default=None)
    return {"bug": bug["name"], "target": bug["target"], "mutator": mutator, "start": start, "seed": seed,
            "found_after_secs": found, "execs": execs, "other_findings": sorted({f["signature"] for f in other})}


def median_text(runs, cap):
    values = [r["found_after_secs"] if r["found_after_secs"] is not None else float("inf") for r in runs]
    m = statistics.median(values) if values else float("inf")
    found = sum(1 for r in runs if r["found_after_secs"] is not None)
    return (f">{cap}" if m == float("inf") else f"{m:.2f}") + f" ({found}/{len(runs)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bugs", help="comma-separated bug names (default: every phase0 and DKG bug of the registry)")
    ap.add_argument("--seeds", type=int, default=5, help="RNG seeds per cell (1..N)")
    ap.add_argument("--cap", type=int, default=60, help="seconds per run")
    ap.add_argument("--mutators", default="havoc,structured")
    ap.add_argument("--starts", default="seeds,cold")
    ap.add_argument("--out", default="time-to-detect.json")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-p", "diverge"], cwd=ROOT, check=True)
    plain = os.path.join(ROOT, "target", "release", "diverge")
    bugs = registry(plain)
    if args.bugs:
        wanted = args.bugs.split(",")
        unknown = [w for w in wanted if w not in {b["name"] for b in bugs}]
        if unknown:
            sys.exit(f"unknown bug(s): {', '.join(unknown)} (diverge list)")
        bugs = [b for b in bugs if b["name"] in wanted]
    else:
        # The network incidents are detected by their own oracles and schedules (architecture §12).
        bugs = [b for b in bugs if not b["target"].startswith("p2p_")]

    scratch = tempfile.mkdtemp(prefix="diverge-ttd-")
    empty = os.path.join(scratch, "empty")
    os.makedirs(empty)
    runs = []
    try:
        for k, group in enumerate(groups(plain, bugs)):
            binary = os.path.join(scratch, f"diverge-{k}")
            build([b["feature"] for b in group], binary)
            for bug in group:
                for mutator in args.mutators.split(","):
                    for start in args.starts.split(","):
                        for seed in range(1, args.seeds + 1):
                            r = run_one(binary, bug, mutator, start, seed, args.cap, empty, scratch)
                            runs.append(r)
                            got = "not found" if r["found_after_secs"] is None else f"{r['found_after_secs']:.2f} s"
                            log(f"{bug['name']} {mutator} {start} seed {seed}: {got} ({r['execs']} execs)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with open(args.out, "w") as f:
            json.dump({"cap_secs": args.cap, "seeds": args.seeds, "runs": runs}, f, indent=1)

    mutators, starts = args.mutators.split(","), args.starts.split(",")
    cols = [(m, s) for s in starts for m in mutators]
    print("| bug | target | " + " | ".join(f"{m}, {s}" for m, s in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for bug in bugs:
        cells = [median_text([r for r in runs if r["bug"] == bug["name"] and r["mutator"] == m and r["start"] == s], args.cap) for m, s in cols]
        print(f"| {bug['name']} | {bug['target']} | " + " | ".join(cells) + " |")
    print(f"\nmedian seconds to the bug's registry signature over seeds 1..{args.seeds} (runs that found it), "
          f"one job, cap {args.cap} s; every run in {args.out}")


if __name__ == "__main__":
    main()
