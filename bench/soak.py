#!/usr/bin/env python3
"""coffer soak: a long mixed load against one coffer process, sampling what should stay flat.

Run it through bench/soak (which compiles loadgen and builds coffer), e.g.
    bench/soak                       # 30 intervals of 60 s (30 minutes)
    bench/soak --smoke               # 4 intervals of 5 s: checks, no figures worth quoting

Every interval runs, at the same time and for 80% of the interval:
  * 4 KiB GETs of random keys among --nkeys preloaded objects (--get-conns connections);
  * 4 KiB PUTs of keys w00000000, w00000001, ... starting at 0 every interval, so the keys
    written in the previous interval are overwritten (--put-conns connections);
  * a side loop: multipart upload of one 12 MiB key (3 parts, overwritten each time), a listing
    of the w* keys, a HEAD and a DELETE of the multipart key;
then DELETEs the upper half of the keys the PUTs wrote, so the number of live objects stays
bounded and every interval exercises create, overwrite, read, list, multipart and delete.

A sampler thread reads coffer's RSS (VmRSS), open descriptors (/proc/PID/fd), thread count
(/proc/PID/status) and the load average every --sample-s seconds. The report gives one line
per interval and compares the mean of the last --window intervals with the first ones.
Python standard library only (plus bench.py next to it).
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (helpers: Coffer, Endpoint, PROBLEMS, proc_status, log)

MiB = 1 << 20


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def fd_kinds(pid):
    """Open descriptors by kind: socket, pipe, anon_inode:[eventfd], sqlite db/wal/shm, file."""
    kinds = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return kinds
    for n in names:
        try:
            t = os.readlink(f"/proc/{pid}/fd/{n}")
        except OSError:
            continue
        if t.startswith(("socket:", "pipe:")):
            k = t.split(":")[0]
        elif t.startswith("anon_inode:"):
            k = t
        elif t.endswith(("-wal", "-shm", "-journal")):
            k = "sqlite " + t.rsplit("-", 1)[1]
        elif t.endswith(".db") or t.endswith(".sqlite"):
            k = "sqlite db"
        else:
            k = "other: " + os.path.basename(t)
        kinds[k] = kinds.get(k, 0) + 1
    return dict(sorted(kinds.items()))


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Sampler(threading.Thread):
    """Samples coffer's RSS, descriptors and threads every `every` seconds."""

    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples = []  # (time, rss KiB, fds, threads, load average)
        self.lock = threading.Lock()
        self.stop_evt = threading.Event()

    def take(self):
        s = (time.monotonic(), B.proc_status(self.pid, "VmRSS"), fd_count(self.pid),
             B.proc_status(self.pid, "Threads"), loadavg())
        with self.lock:
            self.samples.append(s)
        return s

    def run(self):
        while not self.stop_evt.wait(self.every):
            self.take()

    def between(self, t0, t1):
        with self.lock:
            return [s for s in self.samples if t0 <= s[0] <= t1]


def lat(r):
    if not r or not r.get("ok"):
        return None
    return {"ops": r["ok"], "ops_per_s": r["ops_per_s"], "p50": r["lat_ms"]["p50"],
            "p99": r["lat_ms"]["p99"], "max": r["lat_ms"]["max"]}


def count_failures(r, what, fails):
    """Adds failed requests of one loadgen result to `fails`; returns the count."""
    if r is None:
        fails.append(f"{what}: loadgen gave no result")
        return 1
    bad = r.get("bad_status", 0) + r.get("conn_errors", 0)
    if bad:
        fails.append(f"{what}: {r.get('bad_status')} non-2xx, {r.get('conn_errors')} "
                     f"connection errors, statuses {r.get('status')}")
    return bad


def side_loop(ep, until, out, fails):
    """Multipart overwrite, listing, HEAD and DELETE in turn until `until`."""
    n = 0
    while time.monotonic() < until - 2:
        t0 = time.perf_counter()
        r = ep.lg("multipart", "--key", "mp", "--size", 12 * MiB, "--part-size", 5 * MiB,
                  "--timeout", 60, timeout=70)
        if r is None or not (200 <= r.get("status", 0) < 300):
            fails.append(f"multipart: {r}")
        else:
            out["mp_s"].append(time.perf_counter() - t0)
        for method, path, ok in (("GET", f"/{ep.bucket}?list-type=2&prefix=w&max-keys=1000", 200),
                                 ("HEAD", f"/{ep.bucket}/mp", 200),
                                 ("DELETE", f"/{ep.bucket}/mp", 204)):
            r = ep.lg("req", "--method", method, "--path", path, timeout=30)
            if r is None or r.get("status") != ok:
                fails.append(f"{method} {path}: {r}")
        n += 1
    out["side_rounds"] = n


def run_interval(ep, args, i, sampler):
    t0 = time.monotonic()
    busy_s = args.interval_s * 0.8
    res, fails, side = {}, [], {"mp_s": []}
    jobs = {
        "get": lambda: ep.lg("get-small", "--nkeys", args.nkeys, "--prefix", "g",
                             "--conns", args.get_conns, "--duration", busy_s,
                             timeout=busy_s + 40),
        "put": lambda: ep.lg("put-small", "--size", 4096, "--conns", args.put_conns,
                             "--duration", busy_s, "--prefix", "w", "--seq-start", 0,
                             timeout=busy_s + 40),
    }
    threads = [threading.Thread(target=lambda k=k, f=f: res.__setitem__(k, f()))
               for k, f in jobs.items()]
    threads.append(threading.Thread(target=side_loop, args=(ep, t0 + busy_s, side, fails)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = count_failures(res["get"], "GET", fails) + count_failures(res["put"], "PUT", fails)
    written = res["put"]["seq_end"] if res["put"] else 0
    half = written // 2
    if written - half > 0:
        res["delete"] = ep.lg("delete", "--count", written - half, "--seq-start", half,
                              "--conns", args.put_conns, "--prefix", "w", "--timeout", 60,
                              timeout=70)
        bad += count_failures(res["delete"], "DELETE", fails)
    rest = t0 + args.interval_s - time.monotonic()
    if rest > 0:
        time.sleep(rest)
    t1 = time.monotonic()
    end = sampler.take()
    within = sampler.between(t0, t1)
    row = {
        "interval": i + 1, "seconds": round(t1 - t0, 1),
        "get": lat(res["get"]), "put": lat(res["put"]), "delete": lat(res.get("delete")),
        "mp_uploads": len(side["mp_s"]),
        "mp_s_median": statistics.median(side["mp_s"]) if side["mp_s"] else None,
        "live_w_keys": half,
        "rss_kib": end[1], "fds": end[2], "threads": end[3], "load": end[4],
        "rss_kib_max": max(s[1] for s in within if s[1] is not None),
        "fds_max": max(s[2] for s in within if s[2] is not None),
        "threads_max": max(s[3] for s in within if s[3] is not None),
        "load_mean": round(statistics.mean(s[4] for s in within), 2),
        "failures": fails, "failed_requests": bad,
    }
    return row


def fmt_row(r):
    def p(x, k):
        return f"{x[k]:7.2f}" if x else "      -"
    return (f"{r['interval']:3d} {r['seconds']:6.1f} "
            f"{(r['get'] or {}).get('ops_per_s', 0):7.0f} {p(r['get'], 'p50')} {p(r['get'], 'p99')} "
            f"{(r['put'] or {}).get('ops_per_s', 0):6.0f} {p(r['put'], 'p50')} {p(r['put'], 'p99')} "
            f"{p(r['delete'], 'p99')} {r['mp_uploads']:3d} "
            f"{r['rss_kib'] / 1024:7.1f} {r['rss_kib_max'] / 1024:7.1f} {r['fds']:4d} "
            f"{r['fds_max']:4d} {r['threads']:3d} {r['threads_max']:3d} {r['load_mean']:5.2f} "
            f"{len(r['failures']):3d}")


HEADER = ("  # secs  GET/s GETp50 GETp99  PUT/s PUTp50 PUTp99 DELp99  mp  RSSMiB  RSSmax "
          " fds fdmx thr tmx  load err")


def summarise(rows, window):
    """Mean of the first and last `window` intervals for each figure; the ratio last/first."""
    first, last = rows[:window], rows[-window:]
    out = {}
    figures = {
        "rss_mib": lambda r: r["rss_kib"] / 1024,
        "fds": lambda r: r["fds"],
        "threads": lambda r: r["threads"],
        "fds_max": lambda r: r["fds_max"],
        "threads_max": lambda r: r["threads_max"],
        "get_p50_ms": lambda r: r["get"]["p50"] if r["get"] else None,
        "get_p99_ms": lambda r: r["get"]["p99"] if r["get"] else None,
        "put_p50_ms": lambda r: r["put"]["p50"] if r["put"] else None,
        "put_p99_ms": lambda r: r["put"]["p99"] if r["put"] else None,
        "get_ops_per_s": lambda r: r["get"]["ops_per_s"] if r["get"] else None,
        "put_ops_per_s": lambda r: r["put"]["ops_per_s"] if r["put"] else None,
        "load": lambda r: r["load_mean"],
    }
    for name, f in figures.items():
        a = [v for v in map(f, first) if v is not None]
        b = [v for v in map(f, last) if v is not None]
        if a and b:
            ma, mb = statistics.mean(a), statistics.mean(b)
            out[name] = {"first": round(ma, 2), "last": round(mb, 2),
                         "ratio": round(mb / ma, 3) if ma else None}
    return out


def verdicts(rows, summary, args):
    """What the soak asserts; returns a list of failures (empty: all held)."""
    bad = []
    failed = sum(len(r["failures"]) for r in rows)
    if failed:
        bad.append(f"{failed} failed requests or loadgen runs (see the intervals)")
    s = summary
    if s.get("rss_mib", {}).get("ratio", 0) > args.max_rss_ratio:
        bad.append(f"RSS grew: {s['rss_mib']}")
    # descriptors and threads at the end of an interval (load stopped): the same count, give or
    # take connections the kernel has not finished closing
    if s.get("fds", {}).get("last", 0) > s.get("fds", {}).get("first", 0) + args.fd_slack:
        bad.append(f"open descriptors grew: {s['fds']}")
    if s.get("threads", {}).get("last", 0) > s.get("threads", {}).get("first", 0) + 2:
        bad.append(f"threads grew: {s['threads']}")
    for k in ("get_p99_ms", "put_p99_ms"):
        if s.get(k, {}).get("ratio", 0) > args.max_p99_ratio:
            bad.append(f"{k} drifted: {s[k]}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coffer", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--intervals", type=int, default=30)
    ap.add_argument("--interval-s", type=float, default=60.0)
    ap.add_argument("--window", type=int, default=5, help="intervals compared at each end")
    ap.add_argument("--sample-s", type=float, default=5.0)
    ap.add_argument("--nkeys", type=int, default=1000)
    ap.add_argument("--get-conns", type=int, default=8)
    ap.add_argument("--put-conns", type=int, default=4)
    ap.add_argument("--max-rss-ratio", type=float, default=1.25)
    ap.add_argument("--max-p99-ratio", type=float, default=2.0,
                    help="p99 drift allowed (the machine is shared: latency is noisy)")
    ap.add_argument("--fd-slack", type=int, default=8)
    ap.add_argument("--smoke", action="store_true",
                    help="4 intervals of 5 s, 200 keys; window 1 and no p99 check")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    if args.smoke:
        args.intervals, args.interval_s, args.window, args.sample_s = 4, 5.0, 1, 1.0
        args.nkeys, args.max_p99_ratio = 200, float("inf")
        args.max_rss_ratio = 1.5
    args.window = max(1, min(args.window, args.intervals // 2))

    srv = B.Coffer(os.path.abspath(args.coffer), os.path.abspath(args.work_dir), "soak", "full")
    srv.start()
    pid = srv.proc.pid
    ep = B.Endpoint("coffer", "127.0.0.1", srv.port, "bench", args.loadgen,
                    creds=("test", "test", "us-east-1"))
    rows, problems = [], []
    kinds_start = kinds_end = {}
    try:
        r = ep.lg("req", "--method", "PUT", "--path", "/bench")
        if r is None or r["status"] != 200:
            raise SystemExit(f"soak: cannot create the bucket: {r}")
        r = ep.lg("put-small", "--size", 4096, "--conns", 8, "--count", args.nkeys,
                  "--prefix", "g", "--timeout", 120, timeout=130)
        if r is None or r["ok"] != args.nkeys:
            raise SystemExit(f"soak: preload of {args.nkeys} objects failed: {r}")
        sampler = Sampler(pid, args.sample_s)
        start = sampler.take()
        B.log(f"soak: coffer pid {pid}, {args.intervals} x {args.interval_s:.0f} s; after the "
              f"preload RSS {start[1] / 1024:.1f} MiB, {start[2]} fds, {start[3]} threads")
        kinds_start = fd_kinds(pid)
        sampler.start()
        print(HEADER, flush=True)
        for i in range(args.intervals):
            if srv.proc.poll() is not None:
                problems.append(f"coffer exited with {srv.proc.returncode} in interval {i + 1}")
                break
            row = run_interval(ep, args, i, sampler)
            rows.append(row)
            print(fmt_row(row), flush=True)
            for f in row["failures"][:5]:
                B.log(f"interval {row['interval']}: {f}")
        sampler.stop_evt.set()
        kinds_end = fd_kinds(pid)
    finally:
        rc, stop_s = srv.stop()
    if rc != 0:
        problems.append(f"coffer exited {rc} on SIGTERM ({stop_s:.1f} s)")
    summary = summarise(rows, args.window) if rows else {}
    problems += verdicts(rows, summary, args) if rows else ["no interval ran"]
    with open(srv.stderr_path, errors="replace") as f:
        noisy = [ln.strip() for ln in f if " ERROR " in ln or " WARN " in ln]
    if noisy:
        problems.append(f"{len(noisy)} WARN/ERROR lines in coffer's log, first: {noisy[0]}")
    print(f"\nfirst {args.window} vs last {args.window} intervals (mean; ratio last/first):")
    for k, v in summary.items():
        print(f"  {k:14s} {v['first']:10.2f} -> {v['last']:10.2f}   x{v['ratio']}")
    if rows:
        print(f"descriptors after the preload: {kinds_start}")
        print(f"descriptors after the last interval: {kinds_end}")
    print("problems: " + ("; ".join(problems) if problems else "none"), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "summary": summary,
                       "fds_start": kinds_start, "fds_end": kinds_end,
                       "problems": problems, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                       "cpus": os.cpu_count()}, f, indent=1)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
