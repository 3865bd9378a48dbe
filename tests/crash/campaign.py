#!/usr/bin/python3
"""Runs a crash campaign of any length against a coffer binary and prints a summary.

    nice -n 10 /usr/bin/python3 tests/crash/campaign.py --kills 1000 --seed 1

Exit status: 0 when every acknowledged write survived and every fsck was clean, 1 otherwise.
See crashlib.py for what one cycle does and what is checked.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crashlib  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20, help="server kills (cycles) to run")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: the time)")
    ap.add_argument("--workers", type=int, default=6, help="concurrent writer threads")
    ap.add_argument("--bin", default=os.environ.get("COFFER_BIN", str(REPO / "build/coffer")))
    ap.add_argument("--workdir", help="data dir, key and logs (default: a temporary directory, "
                                      "kept when something failed)")
    ap.add_argument("--time-limit", type=float, help="stop after this many seconds")
    ap.add_argument("--json", help="also write the summary to this file")
    ap.add_argument("--progress", type=int, default=50, help="print progress every N cycles")
    ap.add_argument("--parallel", type=int, default=1,
                    help="split the kills over N independent campaigns (own data dir, own "
                         "server, seeds SEED..SEED+N-1) run at once, and add up their figures")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    if a.parallel > 1:
        return run_parallel(a, seed)
    workdir = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="coffer-crash-"))
    print(f"crash campaign: {a.kills} kills, seed {seed}, {a.workers} workers, "
          f"binary {a.bin}, workdir {workdir}", flush=True)
    camp = crashlib.Campaign(a.bin, workdir, seed, workers=a.workers,
                             log=lambda m: print(m, flush=True))
    summary = camp.run(a.kills, time_limit=a.time_limit, progress_every=a.progress)
    text = json.dumps(summary, indent=2)
    print(text)
    if a.json:
        Path(a.json).write_text(text + "\n")
    if summary["failures"]:
        print(f"FAILED: {summary['failures']} failures; data and logs kept in {workdir}")
        return 1
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"OK: {summary['kills']} kills, {summary['acknowledged writes verified']} "
          f"acknowledged writes verified, 0 failures")
    return 0


def run_parallel(a, seed):
    """Runs N campaign.py children and adds up their summaries."""
    base = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="coffer-crash-"))
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    children = []
    for i in range(a.parallel):
        kills = a.kills // a.parallel + (1 if i < a.kills % a.parallel else 0)
        argv = [sys.executable, __file__, "--kills", str(kills), "--seed", str(seed + i),
                "--workers", str(a.workers), "--bin", a.bin, "--workdir", str(base / f"c{i}"),
                "--json", str(base / f"c{i}.json"), "--progress", str(a.progress)]
        if a.time_limit:
            argv += ["--time-limit", str(a.time_limit)]
        log = open(base / f"c{i}.log", "w")
        children.append((subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), log))
        print(f"campaign {i}: {' '.join(argv)} (log {base / f'c{i}.log'})", flush=True)
    for proc, log in children:
        proc.wait()
        log.close()
    total = {}
    for i in range(a.parallel):
        part = json.loads((base / f"c{i}.json").read_text())
        for k, v in part.items():
            if isinstance(v, (int, float)) and k != "seed":
                total[k] = total.get(k, 0) + v
            elif isinstance(v, dict):
                d = total.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = round(d.get(kk, 0) + vv, 1)
            elif isinstance(v, list):
                total.setdefault(k, []).extend(v)
    total["seeds"] = list(range(seed, seed + a.parallel))
    total["campaigns"] = a.parallel
    total["wall seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(total, indent=2)
    print(text)
    if a.json:
        Path(a.json).write_text(text + "\n")
    if total.get("failures"):
        print(f"FAILED: {total['failures']} failures; data and logs kept in {base}")
        return 1
    print(f"OK: {total['kills']} kills, {total['acknowledged writes verified']} "
          f"acknowledged writes verified, 0 failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
