#!/usr/bin/python3
"""Scale of one bucket: a bucket of --keys objects (default 1,000,000) against one of --small
(default 1,000), same layout: 1,000 "directories" dNNNN/ of keys kNNNNNNN.

1. Starts coffer on a fresh data dir, creates the bucket and PUTs a template object over HTTP,
   stops it, and fills the bucket with build/bench/coffer-ingest (object-layer writes: a blob and
   a row per object, exactly as a PutObject makes them; see bench/ingest.c).
2. Starts a server on each data dir and measures, alternating between the two, --reps times each
   (keep-alive connection, unsigned requests, median and max in ms): ListObjectsV2 pages of 1,000
   keys at the start, the middle and the end; a prefix listing (one directory); a delimiter
   listing (the first 1,000 common prefixes); a prefix+delimiter listing; HEAD and GET of a key
   in the middle.
3. Stops the servers; times `coffer fsck` on each; data dir size per object (du, in blocks and
   apparent); EXPLAIN QUERY PLAN of every SQL statement of storage/ on the large database,
   listing those whose plan scans a table.

Python standard library only. A 1,000,000-key fill takes minutes and about 4-5 GB of disk (one
blob file per object).
"""
import argparse
import http.client
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

BODY = "coffer scale benchmark object\n"
BUCKET = "scale"


def start(binary, d, k, work, tag):
    srv = bench.Coffer(binary, work, tag, "full", data_dir=d, key_file=k)
    srv.start(limit_s=120)
    return srv


def request(conn, method, path, body=None):
    t0 = time.perf_counter()
    conn.request(method, path, body=body)
    r = conn.getresponse()
    data = r.read()
    return (time.perf_counter() - t0) * 1e3, r.status, data


def fill(binary, ingest, d, k, work, count, per_dir):
    srv = start(binary, d, k, work, f"fill{count}")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    for method, path, body in (("PUT", f"/{BUCKET}", None), ("PUT", f"/{BUCKET}/template", BODY)):
        _, st, data = request(conn, method, path, body)
        if st != 200:
            raise RuntimeError(f"{method} {path}: {st} {data[:200]!r}")
    conn.close()
    srv.stop()
    t0 = time.perf_counter()
    subprocess.run([ingest, d, k, BUCKET, "template", BODY, str(count), str(per_dir)], check=True)
    return time.perf_counter() - t0


def key_of(i, per_dir):
    return f"d{i // per_dir:04d}/k{i:07d}"


def cases(count, per_dir):
    mid, last = count // 2, count - 1000
    return [
        ("list page 1 (start)", f"/{BUCKET}?list-type=2&max-keys=1000"),
        ("list page at the middle", f"/{BUCKET}?list-type=2&max-keys=1000&start-after="
         f"{key_of(mid, per_dir).replace('/', '%2F')}"),
        ("list last page (end)", f"/{BUCKET}?list-type=2&max-keys=1000&start-after="
         f"{key_of(last, per_dir).replace('/', '%2F')}"),
        ("list prefix (one directory)", f"/{BUCKET}?list-type=2&max-keys=1000&prefix="
         f"d{(mid // per_dir):04d}%2F"),
        ("list delimiter / (1,000 prefixes)", f"/{BUCKET}?list-type=2&max-keys=1000&delimiter=%2F"),
        ("list prefix + delimiter", f"/{BUCKET}?list-type=2&max-keys=1000&delimiter=%2F&prefix="
         f"d{(mid // per_dir):04d}%2F"),
        ("HEAD middle key", ("HEAD", f"/{BUCKET}/{key_of(mid, per_dir)}")),
        ("GET middle key", ("GET", f"/{BUCKET}/{key_of(mid, per_dir)}")),
    ]


def measure(servers, reps):
    """servers: list of (label, srv, count, per_dir). Returns {label: {case: [ms...]}}."""
    out = {s[0]: {} for s in servers}
    counts = {s[0]: {} for s in servers}
    conns = {s[0]: http.client.HTTPConnection("127.0.0.1", s[1].port, timeout=120) for s in servers}
    for _ in range(reps):
        for label, _srv, count, per_dir in servers:
            for name, what in cases(count, per_dir):
                method, path = what if isinstance(what, tuple) else ("GET", what)
                ms, st, data = request(conns[label], method, path)
                if st != 200:
                    raise RuntimeError(f"{label} {method} {path}: {st} {data[:200]!r}")
                if method == "GET" and path.count("?") and b"<KeyCount>0<" in data:
                    raise RuntimeError(f"{label} {path}: empty listing")
                out[label].setdefault(name, []).append(ms)
                m = re.search(rb"<KeyCount>(\d+)</KeyCount>", data)
                counts[label][name] = int(m.group(1)) if m else None
    for c in conns.values():
        c.close()
    return out, counts


def sql_statements(root):
    """(file, name, sql) of every STO_SQL statement in storage/*.c, macros expanded."""
    stmts = []
    sdir = os.path.join(root, "storage")
    for f in sorted(os.listdir(sdir)):
        if not f.endswith(".c"):
            continue
        pre = subprocess.run(["cc", "-E", "-P", "-I", root, os.path.join(sdir, f)],
                             capture_output=True, text=True).stdout
        for m in re.finditer(r'STO_Q_(\w+)\s*,\s*"\w+"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', pre):
            sql = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
            stmts.append((f, m.group(1), bytes(sql, "utf-8").decode("unicode_escape")))
    return stmts


def explain_all(root, db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = []
    for f, name, sql in sql_statements(root):
        if not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE)", sql, re.I):
            continue
        plan, err = None, None
        for nparams in range(0, 40):  # ?N numbering has gaps and repeats: try until it binds
            try:
                plan = con.execute("EXPLAIN QUERY PLAN " + sql, [None] * nparams).fetchall()
                break
            except sqlite3.ProgrammingError:
                continue
            except sqlite3.Error as e:
                err = e
                break
        if plan is None:
            rows.append((f, name, f"(error: {err})"))
            continue
        rows.append((f, name, "; ".join(p[3] for p in plan)))
    con.close()
    return rows


def du(path, apparent):
    args = ["du", "-s", "--block-size=1"] + (["--apparent-size"] if apparent else []) + [path]
    return int(subprocess.run(args, capture_output=True, text=True).stdout.split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--coffer", default=os.environ.get("COFFER_BIN", "build/coffer"))
    ap.add_argument("--ingest", default="build/bench/coffer-ingest")
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--work", help="keep the data dirs here (reused when already filled)")
    ap.add_argument("--per-dir", type=int, help="keys per directory of the large bucket "
                    "(default: keys / 1000)")
    ap.add_argument("--no-fsck", action="store_true")
    args = ap.parse_args()
    if not (1000 <= args.small <= args.keys <= 10_000_000 and 1 <= args.reps <= 1000):
        ap.error("--small/--keys: 1000 <= small <= keys <= 10,000,000")
    binary, ingest = os.path.abspath(args.coffer), os.path.abspath(args.ingest)
    root = os.path.dirname(HERE)
    work = args.work or tempfile.mkdtemp(prefix="coffer-scale-")
    os.makedirs(work, exist_ok=True)
    sets = []
    for label, count in (("small", args.small), ("large", args.keys)):
        per_dir = max(1, count // 1000)
        if label == "large" and args.per_dir:
            per_dir = args.per_dir
        d, k = os.path.join(work, f"data-{count}"), os.path.join(work, f"key-{count}")
        if not os.path.exists(os.path.join(d, "filled")):
            shutil.rmtree(d, ignore_errors=True)
            secs = fill(binary, ingest, d, k, work, count, per_dir)
            with open(os.path.join(d, "filled"), "w") as f:
                f.write(f"{secs:.1f}\n")
        with open(os.path.join(d, "filled")) as f:
            secs = float(f.read())
        sets.append((label, count, per_dir, d, k, secs))
    try:
        servers = [(label, start(binary, d, k, work, label), count, per_dir)
                   for label, count, per_dir, d, k, _ in sets]
        res, counts = measure(servers, args.reps)
    finally:
        for s in locals().get("servers", []):
            s[1].stop()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{args.reps} repetitions, alternating between the two buckets\n")
    small, large = sets[0], sets[1]
    print(f"| request | {small[1]:,} keys: median (max) ms [entries listed] | {large[1]:,} keys: "
          f"median (max) ms [entries listed] | ratio of medians |")
    print("|---|---|---|---|")

    def entries(label, name):
        n = counts[label].get(name)
        return f" [{n}]" if n is not None else ""
    for name in res["small"]:
        a, b = res["small"][name], res["large"][name]
        print(f"| {name} | {statistics.median(a):.2f} ({max(a):.1f}){entries('small', name)} | "
              f"{statistics.median(b):.2f} ({max(b):.1f}){entries('large', name)} | "
              f"{statistics.median(b) / statistics.median(a):.2f} |")
    print()
    for label, count, per_dir, d, k, secs in sets:
        db = os.path.join(d, "coffer.db")
        fs = ""
        if not args.no_fsck:
            t0 = time.perf_counter()
            p = subprocess.run([binary, "fsck", "--data-dir", d, "--root-key-file", k],
                               capture_output=True, text=True)
            fs = f"fsck {time.perf_counter() - t0:.1f} s (exit {p.returncode}: {p.stdout.strip()}); "
        total_b, total_a = du(d, False), du(d, True)
        dbb = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
        print(f"{label} ({count:,} keys): ingest {secs:.0f} s; {fs}data dir {total_b / count:.0f} "
              f"bytes per object on disk ({total_a / count:.0f} apparent), of which the database "
              f"{dbb / count:.0f}")
    print("\nEXPLAIN QUERY PLAN of every statement in storage/ (on the large database):")
    for f, name, plan in explain_all(root, os.path.join(large[3], "coffer.db")):
        flag = "SCAN " if re.search(r"\bSCAN\b", plan) else "     "
        print(f"{flag} {f}:{name}: {plan}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
