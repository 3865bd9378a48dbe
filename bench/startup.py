#!/usr/bin/python3
"""Start-up time and idle memory of coffer, optionally against a reference binary.

For each binary, alternately (so that the machine's load hits both alike), RUNS times:
  fresh    spawn on a new data dir and key file, poll GET /_localstack/health until 200 (ms)
  restart  the same on the data dir the fresh run left (ms)
then, on the last restarted server, after SETTLE seconds idle: VmRSS, VmHWM, Threads, and RSS
per mapping group from /proc/PID/smaps (the executable, each shared library, the heap,
anonymous mappings, thread stacks).

--steps adds, per binary, one fresh and one restart start-up under callgrind (instructions of
each start-up step: inclusive cost of the functions main() calls) and under `strace -f -T`
(system calls of the start-up, and the time of each fsync/fdatasync).

Python standard library only; reuses bench.py's server helpers.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

# main()'s start-up steps, as callgrind names them (file:function).
STEPS = [
    ("config + XML init", ["srv_config_load", "srv_xml_global_init"]),
    ("SQLite open + migrations", ["sto_meta_open"]),
    ("keyring load/creation", ["obj_keyguard_open"]),
    ("blob store open", ["sto_blobs_open"]),
    ("GC drain", ["obj_gc_drain"]),
    ("TLS identity (load or generate)", ["cry_tls_identity_load"]),
    ("HTTP daemons + threads start", ["srv_http_start"]),
]


def smaps_groups(pid):
    """RSS in KiB per mapping group."""
    groups = collections.Counter()
    name = None
    exe = os.path.realpath(f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
            if m:
                path = m.group(2).strip()
                if path == "":
                    name = "anonymous (thread stacks, malloc arenas)"
                elif path.startswith("["):
                    name = path
                elif os.path.realpath(path) == exe:
                    name = "the coffer executable"
                else:
                    name = os.path.basename(path)
                    name = re.sub(r"\.so[.0-9]*$", ".so", name)
                continue
            if line.startswith("Rss:"):
                groups[name] += int(line.split()[1])
    return groups


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out


def run_once(binary, work, tag, data_dir, key_file):
    srv = bench.Coffer(binary, work, tag, "full", data_dir=data_dir, key_file=key_file)
    bench.drop_dirty()
    ms = srv.start() * 1e3
    return srv, ms


def measure(binaries, runs, settle, work):
    res = {b: {"fresh": [], "restart": [], "mem": []} for b in binaries}
    for i in range(runs):
        for b in binaries:
            tag = f"{os.path.basename(b)}-{i}"
            d = os.path.join(work, f"d-{tag}")
            k = os.path.join(work, f"k-{tag}")
            srv, ms = run_once(b, work, f"f{tag}", d, k)
            res[b]["fresh"].append(ms)
            srv.stop()
            srv, ms = run_once(b, work, f"r{tag}", d, k)
            res[b]["restart"].append(ms)
            time.sleep(settle)
            pid = srv.proc.pid
            res[b]["mem"].append((status(pid), smaps_groups(pid)))
            rc, _ = srv.stop()
            if rc != 0:
                print(f"warning: {b} exited {rc} on SIGTERM", file=sys.stderr)
            shutil.rmtree(d, ignore_errors=True)
    return res


def wait_then_stop(cmd, port, limit_s=120.0):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < limit_s:
        if bench.probe_health("127.0.0.1", port) == 200:
            break
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd} exited early")
        time.sleep(0.05)
    # strace passes signals on to nothing: stop its child, the server, itself.
    target = proc.pid
    if os.path.basename(cmd[0]) == "strace":
        kids = bench.children(proc.pid)
        target = kids[0] if kids else proc.pid
    os.kill(target, signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def start_args(binary, data_dir, key_file, port):
    return [binary, "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, "--root-key-file",
            key_file, "--log-level", "warn"]


def callgrind_costs(cg):
    """Inclusive instructions per function name, and the program total."""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                         capture_output=True, text=True).stdout
    cost = {}
    for line in ann.splitlines():
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+(\S+):(\S+) \[", line)
        if m:
            fn = m.group(3)
            cost[fn] = max(cost.get(fn, 0), int(m.group(1).replace(",", "")))
    mm = re.search(r"^\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", ann, re.M)
    return cost, int(mm.group(1).replace(",", "")) if mm else 0


def strace_calls(path):
    """System call counts and the duration (ms) of each fsync/fdatasync of an strace -f -T log."""
    calls = collections.Counter()
    syncs = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^\d+\s+(\w+)\(", line)
            if not m:
                continue
            calls[m.group(1)] += 1
            t = re.search(r"<([\d.]+)>$", line.strip())
            if m.group(1) in ("fsync", "fdatasync") and t:
                syncs.append(float(t.group(1)) * 1e3)
    return calls, syncs


def steps(binary, work):
    """Callgrind instructions per step and strace system calls, fresh and restart."""
    out = {}
    st_dir, st_key = os.path.join(work, "st-data"), os.path.join(work, "st.key")
    cg_dir, cg_key = os.path.join(work, "cg-data"), os.path.join(work, "cg.key")
    for kind in ("fresh", "restart"):
        st = os.path.join(work, f"st-{kind}.txt")
        port = bench.free_port()
        wait_then_stop(["strace", "-f", "-T", "-qq", "-o", st] +
                       start_args(binary, st_dir, st_key, port), port)
        cg = os.path.join(work, f"cg-{kind}.out")
        port = bench.free_port()
        wait_then_stop(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}"] +
                       start_args(binary, cg_dir, cg_key, port), port)
        cost, total = callgrind_costs(cg)
        calls, syncs = strace_calls(st)
        out[kind] = {
            "total": total,
            "steps": [(label, sum(cost.get(fn, 0) for fn in fns)) for label, fns in STEPS],
            "main": cost.get("main", 0),
            "calls": calls,
            "syncs": syncs,
        }
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def report(binaries, res, stp):
    ref = binaries[1] if len(binaries) > 1 else None
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("\n| binary | fresh start ms (median; runs) | restart ms (median; runs) | idle VmRSS KiB | "
          "RssAnon KiB | RssFile KiB | threads |")
    print("|---|---|---|---|---|---|---|")
    for b in binaries:
        r = res[b]
        rss = med([m[0]["VmRSS"] for m in r["mem"]])
        anon = med([m[0]["RssAnon"] for m in r["mem"]])
        fil = med([m[0]["RssFile"] for m in r["mem"]])
        thr = med([m[0]["Threads"] for m in r["mem"]])
        print(f"| {b} | {med(r['fresh']):.1f}; {', '.join('%.1f' % x for x in r['fresh'])} | "
              f"{med(r['restart']):.1f}; {', '.join('%.1f' % x for x in r['restart'])} | "
              f"{rss:.0f} | {anon:.0f} | {fil:.0f} | {thr:.0f} |")
    if ref:
        a, b = res[binaries[0]], res[ref]
        print(f"\nratio {binaries[0]} / {ref}: fresh {med(a['fresh']) / med(b['fresh']):.2f}, "
              f"restart {med(a['restart']) / med(b['restart']):.2f}, idle RSS "
              f"{med([m[0]['VmRSS'] for m in a['mem']]) / med([m[0]['VmRSS'] for m in b['mem']]):.2f}")
    print("\nidle RSS per mapping (KiB, last run):")
    keys = collections.Counter()
    for b in binaries:
        keys.update(res[b]["mem"][-1][1])
    print("| mapping | " + " | ".join(os.path.basename(b) for b in binaries) + " |")
    print("|---|" + "---|" * len(binaries))
    for k, _ in keys.most_common(14):
        print(f"| {k} | " + " | ".join(str(res[b]["mem"][-1][1].get(k, 0)) for b in binaries) + " |")
    for b in binaries:
        if b not in stp:
            continue
        for kind, s in stp[b].items():
            print(f"\n{b}, {kind} start-up under callgrind: {s['total']:,} instructions "
                  f"(whole run to exit), main() {s['main']:,}")
            for label, c in s["steps"]:
                print(f"  {label:34s} {c:>14,}")
            top = ", ".join(f"{n} {c}" for n, c in s["calls"].most_common(12))
            print(f"  system calls ({sum(s['calls'].values())}): {top}")
            if s["syncs"]:
                print(f"  fsync/fdatasync: {len(s['syncs'])}, "
                      f"{', '.join('%.1f' % x for x in s['syncs'])} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--coffer", default=os.environ.get("COFFER_BIN", "build/coffer"))
    ap.add_argument("--reference", help="another coffer binary, measured alternately")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--steps", action="store_true", help="callgrind and strace of each start-up")
    args = ap.parse_args()
    if not 1 <= args.runs <= 50:
        ap.error("--runs: 1..50")
    binaries = [os.path.abspath(args.coffer)]
    if args.reference:
        binaries.append(os.path.abspath(args.reference))
    work = tempfile.mkdtemp(prefix="coffer-startup-")
    try:
        res = measure(binaries, args.runs, args.settle, work)
        stp = {}
        if args.steps:
            for b in binaries:
                sub = os.path.join(work, "steps-" + os.path.basename(b))
                os.makedirs(sub)
                stp[b] = steps(b, sub)
        report(binaries, res, stp)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
