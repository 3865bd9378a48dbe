#!/usr/bin/python3
"""Lifecycle sweeper benchmark: its cost per expired object, and request latency while it runs.

    bench/lifecycle.py --coffer build/coffer [--objects 10000] [--durability full]

Fills a bucket with --objects small objects (plus a few kept ones) over keep-alive
connections, sets a rule that expires them, and measures:

  1. run-now: POST /_coffer/lifecycle/run?now=<+2 days> (one sweep, no pauses): wall time per
     object expired;
  2. background: the server's own sweeper (--lifecycle-interval 1, steps with pauses), while a
     probe does GET and PUT of other keys in a loop: the sweep's wall time, and the probe's
     latency (p50, p99, max) during the sweep against the same probe with no sweep running.

Python standard library only; unsigned requests (localstack profile). Prints a table and JSON.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, workdir, durability, interval):
        self.port = free_port()
        self.log = open(os.path.join(workdir, f"coffer-{self.port}.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir",
             os.path.join(workdir, "data"), "--durability", durability,
             "--lifecycle-interval", str(interval), "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        for line in self.proc.stdout:
            if line.strip() == b"Ready.":
                return
        raise SystemExit("coffer did not start; see " + self.log.name)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()


def request(conn, method, path, body=b"", headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
    return data


def fill(port, bucket, keys, body, threads=8):
    def work(part):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for k in part:
            request(c, "PUT", f"/{bucket}/{k}", body)
        c.close()
    ts = [threading.Thread(target=work, args=(keys[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


class Probe(threading.Thread):
    """GET and PUT of other keys in a loop; latencies in ms."""

    def __init__(self, port, bucket):
        super().__init__(daemon=True)
        self.port, self.bucket = port, bucket
        self.stop_flag = threading.Event()
        self.get_ms, self.put_ms, self.at = [], [], []

    def run(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        i = 0
        while not self.stop_flag.is_set():
            t0 = time.perf_counter()
            request(c, "GET", f"/{self.bucket}/keep/0")
            t1 = time.perf_counter()
            request(c, "PUT", f"/{self.bucket}/keep/probe-{i % 50}", b"p" * 4096)
            t2 = time.perf_counter()
            self.get_ms.append((t1 - t0) * 1000)
            self.put_ms.append((t2 - t1) * 1000)
            self.at.append(t0)
            i += 1
        c.close()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")


def summary(v):
    return {"n": len(v), "p50": round(statistics.median(v), 2), "p99": round(pct(v, 99), 2),
            "max": round(max(v), 2)}


def lifecycle_rule(port, bucket):
    xml = (b"<LifecycleConfiguration><Rule><ID>old</ID><Status>Enabled</Status><Filter>"
           b"<Prefix>old/</Prefix></Filter><Expiration><Date>2020-01-01T00:00:00Z</Date>"
           b"</Expiration></Rule>"
           b"</LifecycleConfiguration>")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    request(c, "PUT", f"/{bucket}?lifecycle", xml)
    c.close()


def prepare(binary, workdir, n, body, durability):
    """A data dir with n objects under old/ and the probe's key, with an expiring rule."""
    srv = Server(binary, workdir, "relaxed", 0)  # filling is not what is measured
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    request(c, "PUT", "/bench-lc")
    request(c, "PUT", "/bench-lc/keep/0", b"k" * 4096)
    c.close()
    t0 = time.monotonic()
    fill(srv.port, "bench-lc", [f"old/{i:08d}" for i in range(n)], body)
    fill_s = time.monotonic() - t0
    lifecycle_rule(srv.port, "bench-lc")
    srv.stop()
    return fill_s


def run_now(binary, workdir, n, durability):
    srv = Server(binary, workdir, durability, 0)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=3600)
    now = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    t0 = time.monotonic()
    counts = json.loads(request(c, "POST", f"/_coffer/lifecycle/run?now={now}"))
    secs = time.monotonic() - t0
    c.close()
    srv.stop()
    assert counts["expired"] == n, counts
    return secs


def background(binary, workdir, n, durability, quiet_s):
    srv = Server(binary, workdir, durability, 3600)  # no sweep yet: the quiet baseline
    probe = Probe(srv.port, "bench-lc")
    probe.start()
    time.sleep(quiet_s)
    probe.stop_flag.set()
    probe.join()
    quiet = (probe.get_ms, probe.put_ms)
    srv.stop()
    srv = Server(binary, workdir, durability, 1)  # the first sweep starts after 1 s
    log = srv.log.name
    probe = Probe(srv.port, "bench-lc")
    probe.start()
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        text = open(log, errors="replace").read()
        m = re.search(r"sweep: (\d+) looked at, (\d+) expired.*\((\d+) ms\)", text)
        if m and int(m.group(2)) >= n:
            break
        time.sleep(0.02)
    seen = time.perf_counter()
    probe.stop_flag.set()
    probe.join()
    srv.stop()
    sweep_ms = int(m.group(3))
    # the probe's samples while the sweep ran: those that started in the sweep's window, which
    # ended at most one poll before it was seen in the log
    start = seen - 0.02 - sweep_ms / 1000
    idx = [i for i, t in enumerate(probe.at) if start <= t <= seen - 0.02]
    return sweep_ms, quiet, ([probe.get_ms[i] for i in idx], [probe.put_ms[i] for i in idx])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--coffer", default=os.environ.get("COFFER_BIN", "build/coffer"))
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--size", type=int, default=4096, help="bytes per expired object")
    ap.add_argument("--durability", default="full", choices=["full", "relaxed"])
    ap.add_argument("--quiet-seconds", type=float, default=5.0)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="coffer-lc-bench-")
    try:
        body = os.urandom(a.size)
        fill_s = prepare(a.coffer, work, a.objects, body, a.durability)
        secs = run_now(a.coffer, work, a.objects, a.durability)
        # fill again for the background sweep (the run above emptied old/)
        prepare(a.coffer, work, a.objects, body, a.durability)
        sweep_ms, quiet, during = background(a.coffer, work, a.objects, a.durability,
                                             a.quiet_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {
        "objects": a.objects, "size": a.size, "durability": a.durability,
        "cpus": os.cpu_count(), "fill_s": round(fill_s, 2),
        "run_now_s": round(secs, 3), "run_now_us_per_object": round(secs / a.objects * 1e6, 1),
        "background_sweep_s": round(sweep_ms / 1000, 3),
        "background_us_per_object": round(sweep_ms * 1000 / a.objects, 1),
        "get_quiet_ms": summary(quiet[0]), "get_during_ms": summary(during[0]),
        "put_quiet_ms": summary(quiet[1]), "put_during_ms": summary(during[1]),
    }
    print(f"lifecycle sweep of {a.objects} objects of {a.size} B, durability {a.durability}, "
          f"{os.cpu_count()} CPUs")
    print(f"  run-now (no pauses):   {res['run_now_s']:8.2f} s  "
          f"{res['run_now_us_per_object']:8.1f} us/object")
    print(f"  background (paused):   {res['background_sweep_s']:8.2f} s  "
          f"{res['background_us_per_object']:8.1f} us/object")
    for op in ("get", "put"):
        q, d = res[f"{op}_quiet_ms"], res[f"{op}_during_ms"]
        print(f"  4 KiB {op.upper()} latency ms  quiet p50 {q['p50']} p99 {q['p99']} max {q['max']}"
              f"  | during sweep p50 {d['p50']} p99 {d['p99']} max {d['max']}")
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
