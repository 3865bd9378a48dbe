#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""coffer benchmark orchestrator (run it through bench/run, which builds loadgen and coffer).

Starts coffer on ephemeral loopback ports with temporary data dirs, drives it with loadgen,
measures the same HTTP workloads against an nginx (WebDAV PUT) baseline started in the same
session and, with --reference URL, against an S3 endpoint the user runs; prints one table.
Python standard library only.
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import zlib

MiB = 1 << 20

TARGETS = {  # metric id -> (comparison, value) from the issue
    "large_put": (">=", 450),
    "large_get": (">=", 800),
    "get_c16": (">=", 15000),
    "put_full_c16": (">=", 2000),
    "put_full_c64": (">=", 2000),
    "put_relaxed_c16": (">=", 5000),
    "put_relaxed_c64": (">=", 5000),
    "cold_start": ("<=", 30),
    "peak_rss": ("<=", 32),
    "mp_ratio_sse_s3_c1": (">=", 0.85),  # multipart within 15% of a single PUT
    "mp_ratio_sse_c_c1": (">=", 0.85),
    "cksum_ratio": (">=", 0.90),  # x-amz-checksum-crc32 costs under 10%
}

# --only groups; "multipart" brings "large" along (its ratio needs the single PUT)
GROUPS = ("large", "small", "relaxed", "cold", "ceiling", "nginx", "multipart", "checksum")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_health(host, port, timeout=0.5):
    """One TCP connect + GET /_localstack/health; returns the status code or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"GET /_localstack/health HTTP/1.1\r\nHost: %s:%d\r\n"
                      b"Connection: close\r\n\r\n" % (host.encode(), port))
            data = b""
            while b"\r\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            parts = data.split(b" ", 2)
            return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
    except OSError:
        return None


def wait_ready(port, proc, limit_s=10.0):
    """Polls until the health endpoint answers 200; returns seconds waited (None on failure)."""
    t0 = time.perf_counter()
    deadline = t0 + limit_s
    attempts = 0
    while time.perf_counter() < deadline and attempts < 200000:
        attempts += 1
        if proc.poll() is not None:
            return None
        if probe_health("127.0.0.1", port) == 200:
            return time.perf_counter() - t0
        time.sleep(0.0005)
    return None


def proc_status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])  # kB
    except OSError:
        pass
    return None


def children(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            out = [int(x) for x in f.read().split()]
    except OSError:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                            out.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
    return out


def cpu_busy(seconds=1.0):
    """Share of all CPUs busy (including steal) over `seconds`, from /proc/stat."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    try:
        t0, i0 = snap()
        time.sleep(seconds)
        t1, i1 = snap()
        return 1.0 - (i1 - i0) / max(1, t1 - t0)
    except (OSError, ValueError, IndexError):
        return None


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        log("PROBLEM: " + msg)
        self.items.append(msg)


PROBLEMS = Problems()


class Server:
    """A server process we started: coffer or nginx."""

    name = "server"

    def __init__(self, work):
        self.work = work
        self.proc = None
        self.port = None
        self.stderr_path = None

    def pids(self):
        return [self.proc.pid]

    def vmhwm_kib(self):
        vals = [proc_status(p, "VmHWM") for p in self.pids()]
        vals = [v for v in vals if v is not None]
        return sum(vals) if vals else None

    def stop(self, limit_s=15.0):
        """SIGTERM, wait; returns (exit code, seconds). Kills after limit_s."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None, 0.0)
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            PROBLEMS.add(f"{self.name} did not exit within {limit_s:.0f} s of SIGTERM; killed")
            self.proc.kill()
            rc = self.proc.wait(timeout=5)
        return rc, time.perf_counter() - t0


class Coffer(Server):
    def __init__(self, binary, work, tag, durability="full", data_dir=None, key_file=None):
        super().__init__(work)
        self.binary = binary
        self.tag = tag
        self.name = f"coffer[{tag}]"
        self.durability = durability
        self.data_dir = data_dir or os.path.join(work, f"coffer-{tag}-data")
        self.key_file = key_file or os.path.join(work, f"coffer-{tag}.key")

    def start(self, limit_s=10.0):
        """Spawns coffer; returns seconds from spawn to the first 200 from the health check."""
        self.port = free_port()
        self.stderr_path = os.path.join(self.work, f"coffer-{self.tag}.log")
        err = open(self.stderr_path, "ab")
        out = open(os.path.join(self.work, f"coffer-{self.tag}.stdout"), "ab")
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
               "--root-key-file", self.key_file, "--durability", self.durability]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     cwd=self.work, close_fds=True)
        waited = wait_ready(self.port, self.proc, limit_s)
        t1 = time.perf_counter()
        err.close()
        out.close()
        if waited is None:
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            raise RuntimeError(f"{self.name} did not become ready (exit {rc}); see {self.stderr_path}")
        return t1 - t0


class Nginx(Server):
    name = "nginx"

    def __init__(self, binary, work):
        super().__init__(work)
        self.binary = binary
        self.dir = os.path.join(work, "nginx")
        self.www = os.path.join(self.dir, "www")
        for d in ("www", "tmp", "logs"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def start(self, limit_s=10.0):
        self.port = free_port()
        d = self.dir
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = f"""# generated by bench/bench.py: plain unencrypted file server, WebDAV PUT
daemon off;
worker_processes auto;
{user}
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_max_body_size 0;
    client_body_buffer_size 1m;  # PUT bodies reach the temp file in 1 MiB writes
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.www};
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
        }}
        location = /_localstack/health {{
            default_type application/json;
            return 200 '{{"services": {{"s3": "running"}}}}';
        }}
    }}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.stderr_path = os.path.join(d, "logs", "stderr.log")
        err = open(self.stderr_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([self.binary, "-p", d, "-c", path, "-e",
                                      os.path.join(d, "logs", "error.log")],
                                     stdout=err, stderr=err, stdin=subprocess.DEVNULL,
                                     close_fds=True)
        waited = wait_ready(self.port, self.proc, limit_s)
        t1 = time.perf_counter()
        err.close()
        if waited is None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            raise RuntimeError(f"nginx did not become ready; see {d}/logs")
        return t1 - t0


class Endpoint:
    """Where loadgen sends requests."""

    def __init__(self, label, host, port, bucket, loadgen, host_header=None, creds=None,
                 kind="s3"):
        self.label = label
        self.host = host
        self.port = port
        self.bucket = bucket
        self.loadgen = loadgen
        self.host_header = host_header
        self.creds = creds  # (access key, secret key, region) or None
        self.kind = kind

    def lg(self, mode, *args, timeout=120):
        cmd = [self.loadgen, mode, "--host", self.host, "--port", str(self.port),
               "--bucket", self.bucket]
        if self.host_header:
            cmd += ["--host-header", self.host_header]
        if self.creds:
            cmd += ["--access-key", self.creds[0], "--secret-key", self.creds[1],
                    "--region", self.creds[2]]
        cmd += [str(a) for a in args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            PROBLEMS.add(f"{self.label}: loadgen {mode} exceeded {timeout} s")
            return None
        if p.stderr.strip():
            log(f"{self.label}: loadgen {mode}: {p.stderr.strip()}")
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            PROBLEMS.add(f"{self.label}: loadgen {mode} failed (exit {p.returncode}): "
                         f"{p.stderr.strip()[:300]}")
            return None
        return json.loads(lines[-1])


def check_small(res, label, what):
    if res is None:
        return
    if res.get("bad_status") or res.get("conn_errors"):
        st = {k: v for k, v in res.get("status", {}).items() if not k.startswith("2")}
        PROBLEMS.add(f"{label}: {what}: {res.get('bad_status')} non-2xx responses {st}, "
                     f"{res.get('conn_errors')} connection errors")


def drop_dirty():
    """Flushes dirty pages so that one phase's writeback does not throttle the next."""
    try:
        os.sync()
    except OSError:
        pass


def run_large(ep, args, res, label, put_only=False):
    size = args.large_mib * MiB
    puts, gets = [], []
    for i in range(args.large_reps):
        drop_dirty()
        r = ep.lg("put-large", "--key", f"{args.key_prefix}large-{i}", "--size", size,
                  "--timeout", args.large_timeout, timeout=args.large_timeout + 10)
        if r is None or not (200 <= r["status"] < 300):
            PROBLEMS.add(f"{label}: large PUT #{i} failed: {r}")
            continue
        puts.append(r)
        if put_only:
            continue
        g = ep.lg("get-large", "--key", f"{args.key_prefix}large-{i}",
                  "--timeout", args.large_timeout, timeout=args.large_timeout + 10)
        if g is None or not (200 <= g["status"] < 300) or g["bytes"] != size:
            PROBLEMS.add(f"{label}: large GET #{i} failed or short: {g}")
            continue
        gets.append(g)
    if puts:
        res["large_put"] = statistics.median(r["mb_per_s"] for r in puts)
        res["large_put_runs"] = [r["mb_per_s"] for r in puts]
        res["large_put_commit_ms"] = statistics.median(r["commit_ms"] for r in puts)
    if gets:
        res["large_get"] = statistics.median(r["mb_per_s"] for r in gets)
        res["large_get_runs"] = [r["mb_per_s"] for r in gets]
        res["large_get_ttfb_ms"] = statistics.median(r["ttfb_ms"] for r in gets)
    log(f"{label}: large PUT {res.get('large_put_runs')} MB/s"
        + ("" if put_only else f", GET {res.get('large_get_runs')} MB/s"))


def run_small_gets(ep, args, res, label):
    r = ep.lg("put-small", "--size", args.small_size, "--conns", 16, "--count", args.nkeys,
              "--prefix", f"{args.key_prefix}g", "--timeout", 60, timeout=90)
    check_small(r, label, "4 KiB preload")
    if r is None or r["ok"] != args.nkeys:
        PROBLEMS.add(f"{label}: preload of {args.nkeys} objects incomplete: {r}")
        return
    res["cleanup"].append((f"{args.key_prefix}g", 0, r["seq_end"]))
    for c in args.conns:
        g = ep.lg("get-small", "--nkeys", args.nkeys, "--prefix", f"{args.key_prefix}g",
                  "--conns", c, "--duration", args.duration, "--warmup", args.warmup,
                  timeout=args.duration + args.warmup + 30)
        check_small(g, label, f"4 KiB GET c{c}")
        if g:
            res[f"get_c{c}"] = g["ops_per_s"]
            res[f"get_c{c}_detail"] = g
            log(f"{label}: 4 KiB GET c{c}: {g['ops_per_s']:.0f} ops/s "
                f"(p50 {g['lat_ms']['p50']:.2f} ms, p99 {g['lat_ms']['p99']:.2f} ms)")


def run_small_puts(ep, args, res, label, tag):
    for c in args.conns:
        drop_dirty()
        prefix = f"{args.key_prefix}p{tag}c{c}-"
        r = ep.lg("put-small", "--size", args.small_size, "--conns", c,
                  "--duration", args.duration, "--warmup", args.warmup, "--prefix", prefix,
                  timeout=args.duration + args.warmup + 30)
        check_small(r, label, f"4 KiB PUT c{c} ({tag})")
        if r:
            res["cleanup"].append((prefix, 0, r["seq_end"]))
            res[f"put_{tag}_c{c}"] = r["ops_per_s"]
            res[f"put_{tag}_c{c}_detail"] = r
            log(f"{label}: 4 KiB PUT c{c} ({tag}): {r['ops_per_s']:.0f} ops/s "
                f"(p50 {r['lat_ms']['p50']:.2f} ms, p99 {r['lat_ms']['p99']:.2f} ms)")


def sanity(ep, args, label):
    """One small object round trip, so that a broken endpoint is reported, not benchmarked."""
    r = ep.lg("put-small", "--size", args.small_size, "--conns", 1, "--count", 1,
              "--prefix", f"{args.key_prefix}check-", timeout=30)
    if r is None or r["ok"] != 1:
        raise RuntimeError(f"{label}: cannot PUT a 4 KiB object: {r}")
    g = ep.lg("req", "--method", "GET", "--path",
              f"/{ep.bucket}/{args.key_prefix}check-00000000", timeout=30)
    if g is None or g["status"] != 200 or g["body_bytes"] != args.small_size:
        raise RuntimeError(f"{label}: GET of the object just written returned {g}")


def run_ceiling(args, work):
    """Large PUT/GET against loadgen's storage-less sink: the loopback ceiling of one stream."""
    port = free_port()
    size = args.large_mib * MiB
    reps = args.large_reps
    p = subprocess.Popen([args.loadgen, "sink", "--host", "127.0.0.1", "--port", str(port),
                          "--size", str(size), "--duration", "60", "--count", str(2 * reps)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    res = {}
    try:
        if p.stdout.readline().strip() != "Ready.":
            PROBLEMS.add("loopback sink did not start")
            return res
        ep = Endpoint("sink", "127.0.0.1", port, "bench", args.loadgen)
        puts, gets = [], []
        for i in range(reps):
            r = ep.lg("put-large", "--key", "x", "--size", size, "--timeout", 60, timeout=70)
            g = ep.lg("get-large", "--key", "x", "--timeout", 60, timeout=70)
            if r and r["status"] == 200:
                puts.append(r["mb_per_s"])
            if g and g["status"] == 200 and g["bytes"] == size:
                gets.append(g["mb_per_s"])
        if puts:
            res["large_put"] = statistics.median(puts)
        if gets:
            res["large_get"] = statistics.median(gets)
        res["large_put_runs"], res["large_get_runs"] = puts, gets
    finally:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait(timeout=5)
    log(f"loopback ceiling: PUT {res.get('large_put_runs')} MB/s, "
        f"GET {res.get('large_get_runs')} MB/s")
    return res


def make_body(work):
    """A 1 MiB random file that put-large/multipart repeat as the body (written before timing)."""
    data = os.urandom(MiB)
    path = os.path.join(work, "body-1MiB.bin")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def crc32_b64(data, size):
    """base64 of the big-endian CRC32 of `data` repeated to `size` bytes (x-amz-checksum-crc32)."""
    crc = 0
    full, rest = divmod(size, len(data))
    for _ in range(full):
        crc = zlib.crc32(data, crc)
    crc = zlib.crc32(data[:rest], crc)
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def ssec_args(key):
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return ["--header", "x-amz-server-side-encryption-customer-algorithm: AES256",
            "--header", f"x-amz-server-side-encryption-customer-key: {b64(key)}",
            "--header", f"x-amz-server-side-encryption-customer-key-MD5: "
                        f"{b64(hashlib.md5(key).digest())}"]


def ok2xx(r):
    return r is not None and 200 <= r.get("status", 0) < 300


def run_multipart(ep, args, res, label, body):
    """Multipart uploads (Create, parts in sequence on one connection or over N, Complete),
    each followed by a GET of the whole object; SSE-S3 and SSE-C. The ratio's denominator is
    the single large PUT of the same run (SSE-S3: workload 1; SSE-C: measured here)."""
    size, psize = args.mp_mib * MiB, args.part_mib * MiB
    key = os.urandom(32)
    tmo = args.mp_timeout
    for tag, name, hdrs in (("sse_s3", "SSE-S3", []), ("sse_c", "SSE-C", ssec_args(key))):
        if tag == "sse_c":
            runs = []
            for i in range(args.large_reps):
                drop_dirty()
                k = f"{args.key_prefix}ssec-large-{i}"
                r = ep.lg("put-large", "--key", k, "--size", args.large_mib * MiB, "--body-file",
                          body, *hdrs, "--timeout", args.large_timeout,
                          timeout=args.large_timeout + 10)
                if ok2xx(r):
                    runs.append(r["mb_per_s"])
                else:
                    PROBLEMS.add(f"{label}: large PUT SSE-C #{i} failed: {r}")
                ep.lg("req", "--method", "DELETE", "--path", f"/{ep.bucket}/{k}", timeout=30)
            if runs:
                res["large_put_sse_c"] = statistics.median(runs)
            res["large_put_sse_c_runs"] = runs
            log(f"{label}: large PUT SSE-C {runs} MB/s")
        single = res.get("large_put" if tag == "sse_s3" else "large_put_sse_c")
        gets_all = []
        for n in args.mp_conns:
            puts, gets = [], []
            for i in range(args.mp_reps):
                k = f"{args.key_prefix}mp-{tag}-c{n}-{i}"
                drop_dirty()
                r = ep.lg("multipart", "--key", k, "--size", size, "--part-size", psize,
                          "--conns", n, "--body-file", body, *hdrs, "--timeout", tmo,
                          timeout=tmo + 10)
                if not ok2xx(r):
                    PROBLEMS.add(f"{label}: multipart {name} c{n} #{i} failed: {r}")
                    continue
                puts.append(r)
                g = ep.lg("get-large", "--key", k, *hdrs, "--timeout", tmo, timeout=tmo + 10)
                if not ok2xx(g) or g["bytes"] != size:
                    PROBLEMS.add(f"{label}: GET of multipart object {name} c{n} #{i} failed "
                                 f"or short: {g}")
                else:
                    gets.append(g)
                d = ep.lg("req", "--method", "DELETE", "--path", f"/{ep.bucket}/{k}", timeout=30)
                if d is None or d["status"] != 204:
                    PROBLEMS.add(f"{label}: DELETE of {k} returned {d}")
            base = f"mp_put_{tag}_c{n}"
            res[f"{base}_results"] = puts
            res[f"mp_get_{tag}_c{n}_results"] = gets
            if puts:
                res[base] = statistics.median(r["mb_per_s"] for r in puts)
                res[f"{base}_parts"] = statistics.median(r["parts_mb_per_s"] for r in puts)
                if single:
                    res[f"mp_ratio_{tag}_c{n}"] = res[base] / single
            gets_all += gets
            log(f"{label}: multipart {name} c{n}: PUT {[r['mb_per_s'] for r in puts]} MB/s "
                f"(parts only {[r['parts_mb_per_s'] for r in puts]}), "
                f"GET {[g['mb_per_s'] for g in gets]} MB/s")
        if gets_all:
            res[f"mp_get_{tag}"] = statistics.median(g["mb_per_s"] for g in gets_all)


def run_checksum(ep, args, res, label, body, data):
    """Single-stream PUT of a large object with and without x-amz-checksum-crc32 (CRC computed
    before timing); the two variants alternate so that drift hits both alike."""
    size = args.large_mib * MiB
    crc = crc32_b64(data, size)
    # the server must actually verify the header: a wrong CRC32 has to be refused (400 BadDigest)
    small = 64 * 1024
    good = crc32_b64(data, small)
    bad = base64.b64encode(bytes(b ^ 0xFF for b in base64.b64decode(good))).decode()
    k = f"{args.key_prefix}cksum-check"
    rb = ep.lg("put-large", "--key", k, "--size", small, "--body-file", body,
               "--header", f"x-amz-checksum-crc32: {bad}", timeout=30)
    rg = ep.lg("put-large", "--key", k, "--size", small, "--body-file", body,
               "--header", f"x-amz-checksum-crc32: {good}", timeout=30)
    res["cksum_wrong_status"] = rb and rb["status"]
    res["cksum_right_status"] = rg and rg["status"]
    if rb is None or rb["status"] != 400 or not ok2xx(rg):
        PROBLEMS.add(f"{label}: x-amz-checksum-crc32 check: wrong CRC gave {rb and rb['status']} "
                     f"(want 400), right CRC gave {rg and rg['status']} (want 200)")
    ep.lg("req", "--method", "DELETE", "--path", f"/{ep.bucket}/{k}", timeout=30)
    runs = {"plain": [], "crc32": []}
    for i in range(args.cksum_reps):
        order = ("plain", "crc32") if i % 2 == 0 else ("crc32", "plain")
        for v in order:
            drop_dirty()
            extra = ["--header", f"x-amz-checksum-crc32: {crc}"] if v == "crc32" else []
            r = ep.lg("put-large", "--key", f"{args.key_prefix}cksum-{v}", "--size", size,
                      "--body-file", body, *extra, "--timeout", args.large_timeout,
                      timeout=args.large_timeout + 10)
            if ok2xx(r):
                runs[v].append(r["mb_per_s"])
            else:
                PROBLEMS.add(f"{label}: PUT ({v}) #{i} failed: {r}")
    for v in runs:
        ep.lg("req", "--method", "DELETE", "--path", f"/{ep.bucket}/{args.key_prefix}cksum-{v}",
              timeout=30)
        res[f"cksum_put_{v}_runs"] = runs[v]
        if runs[v]:
            res[f"cksum_put_{v}"] = statistics.median(runs[v])
    if res.get("cksum_put_plain") and res.get("cksum_put_crc32"):
        res["cksum_ratio"] = res["cksum_put_crc32"] / res["cksum_put_plain"]
    log(f"{label}: PUT without checksum {runs['plain']} MB/s, with CRC32 {runs['crc32']} MB/s")


def profile_phase(pid, work, name, fn, seconds_limit=60):
    """Runs fn() under `perf record -g -p PID`; returns the top of the report or None."""
    perf = shutil.which("perf")
    if not perf:
        return None
    data = os.path.join(work, f"perf-{name}.data")
    p = subprocess.Popen([perf, "record", "-F", "499", "-g", "-p", str(pid), "-o", data],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        fn()
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    try:
        out = subprocess.run([perf, "report", "-i", data, "--stdio", "--no-children",
                              "--sort", "dso,symbol", "-g", "none", "--percent-limit", "1.5"],
                             capture_output=True, text=True, timeout=seconds_limit).stdout
    except subprocess.TimeoutExpired:
        return None
    rows = []
    for ln in out.splitlines():
        if not ln.strip() or ln.startswith("#"):
            continue
        parts = ln.split()
        while parts and parts[-1] == "-":  # empty columns perf adds for some sort keys
            parts.pop()
        rows.append(" ".join(parts))
    return rows[:14]


def cold_starts(make, runs, label):
    times, problems = [], []
    for i in range(runs):
        drop_dirty()  # an fsync at start-up must not wait for earlier phases' writeback
        srv = make(i)
        try:
            times.append(srv.start() * 1e3)
        except RuntimeError as e:
            problems.append(str(e))
            continue
        rc, _ = srv.stop()
        if rc != 0:
            problems.append(f"{srv.name} exited {rc} on SIGTERM")
    for p in problems:
        PROBLEMS.add(f"{label}: {p}")
    return times


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("ops/s",):
        return f"{v:,.0f}"
    if unit in ("ms", "MiB"):
        return f"{v:.1f}"
    if unit == "x":
        return f"{v:.3f}"
    return f"{v:,.1f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coffer", required=True, help="coffer binary")
    ap.add_argument("--loadgen", required=True, help="compiled loadgen")
    ap.add_argument("--work-dir", required=True, help="scratch dir (data dirs, logs)")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--no-baseline", action="store_true", help="skip the nginx baseline")
    ap.add_argument("--reference", metavar="URL",
                    help="S3 endpoint already running, e.g. http://127.0.0.1:4566 (LocalStack)")
    ap.add_argument("--ref-access-key", default=os.environ.get("AWS_ACCESS_KEY_ID", "test"))
    ap.add_argument("--ref-secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    ap.add_argument("--ref-region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    ap.add_argument("--ref-bucket", help="bucket to use on the reference (default: a new one)")
    ap.add_argument("--keep-ref-objects", action="store_true",
                    help="do not delete what the benchmark wrote to the reference")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per 4 KiB phase")
    ap.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each")
    ap.add_argument("--conns", default="16,64", help="concurrency levels, comma-separated")
    ap.add_argument("--large-mib", type=int, default=256)
    ap.add_argument("--large-reps", type=int, default=3)
    ap.add_argument("--nkeys", type=int, default=1000, help="objects preloaded for 4 KiB GET")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--perf", action="store_true",
                    help="after measuring, profile coffer with perf during each workload")
    ap.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 32 MiB large object, 64 MiB multipart, 1 rep, 1 s phases")
    ap.add_argument("--only", metavar="LIST",
                    help="comma-separated workload groups to run (default: all): "
                         + ", ".join(GROUPS) + "; multipart also runs large (its ratio's "
                         "denominator)")
    ap.add_argument("--mp-mib", type=int, default=1024, help="multipart object size (MiB)")
    ap.add_argument("--part-mib", type=int, default=8, help="multipart part size (MiB)")
    ap.add_argument("--mp-conns", default="1,2",
                    help="connections sending parts, comma-separated (1 = sequential)")
    ap.add_argument("--mp-reps", type=int, default=1, help="multipart uploads per variant")
    ap.add_argument("--cksum-reps", type=int, default=3,
                    help="PUTs with and without x-amz-checksum-crc32 (each)")
    args = ap.parse_args()
    if args.quick:
        args.large_mib, args.large_reps, args.duration, args.warmup = 32, 1, 1.0, 0.3
        args.cold_runs, args.nkeys = 3, 200
        args.mp_mib, args.cksum_reps = 64, 1
    args.conns = [int(c) for c in args.conns.split(",") if c.strip()]
    args.mp_conns = [int(c) for c in args.mp_conns.split(",") if c.strip()]
    if args.only:
        sel = {g.strip() for g in args.only.split(",") if g.strip()}
        bad = sel - set(GROUPS)
        if bad or not sel:
            ap.error(f"--only: unknown group(s) {sorted(bad)}; choose from {', '.join(GROUPS)}")
        if "multipart" in sel:
            sel.add("large")
    else:
        sel = set(GROUPS)
    args.sel = sel
    if not (1 <= args.large_reps <= 10 and 1 <= args.large_mib <= 4096 and
            0 < args.duration <= 60 and 0 <= args.warmup <= 10 and 1 <= args.cold_runs <= 20 and
            all(1 <= c <= 1024 for c in args.conns) and 1 <= args.nkeys <= 100000 and
            5 <= args.part_mib <= 1024 and args.part_mib <= args.mp_mib <= 8192 and
            args.mp_mib // args.part_mib <= 10000 and 1 <= args.mp_reps <= 5 and
            1 <= args.cksum_reps <= 10 and args.mp_conns and
            all(1 <= c <= 16 for c in args.mp_conns)):
        ap.error("a size, count or duration is out of its bounded range")
    args.small_size = 4096
    args.large_timeout = 120
    args.mp_timeout = 180
    args.key_prefix = "cb-"
    coffer_bin = os.path.abspath(args.coffer)
    work = os.path.abspath(args.work_dir)
    t_begin = time.time()

    results = {"coffer": {"cleanup": []}, "nginx": None, "reference": None,
               "env": {"cpus": os.cpu_count(), "coffer": coffer_bin,
                       "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                       "uname": " ".join(os.uname()[2:3] + os.uname()[4:5]),
                       "large_mib": args.large_mib, "large_reps": args.large_reps,
                       "duration": args.duration, "warmup": args.warmup,
                       "conns": args.conns, "only": sorted(sel), "mp_mib": args.mp_mib,
                       "part_mib": args.part_mib, "mp_conns": args.mp_conns,
                       "mp_reps": args.mp_reps, "cksum_reps": args.cksum_reps}}
    C = results["coffer"]
    creds = ("test", "test", "us-east-1")
    busy = cpu_busy(1.0)
    results["env"]["busy_before"] = busy
    if busy is not None and busy > 0.15:
        PROBLEMS.add(f"the machine was {busy:.0%} busy before the run started (other processes):"
                     " every number below is lower and noisier than on an idle machine")

    # ---- coffer, durability full: workloads 1 and 2 (GET, PUT full)
    log(f"coffer: {coffer_bin}")
    full = Coffer(coffer_bin, work, "full", "full")
    full.start()
    ep = Endpoint("coffer", "127.0.0.1", full.port, "bench", args.loadgen, creds=creds)
    r = ep.lg("req", "--method", "PUT", "--path", "/bench")
    if r is None or r["status"] != 200:
        raise SystemExit(f"coffer: cannot create the bucket: {r}")
    sanity(ep, args, "coffer")
    if "large" in sel:
        run_large(ep, args, C, "coffer")
    if "small" in sel:
        run_small_gets(ep, args, C, "coffer")
        run_small_puts(ep, args, C, "coffer", "full")
    C["rss_full_kib"] = full.vmhwm_kib()
    C["rss_now_full_kib"] = proc_status(full.proc.pid, "VmRSS")
    C["threads_full"] = proc_status(full.proc.pid, "Threads")
    if "multipart" in sel or "checksum" in sel:
        body, body_data = make_body(work)  # before any timing
        if "multipart" in sel:
            run_multipart(ep, args, C, "coffer", body)
        if "checksum" in sel:
            run_checksum(ep, args, C, "coffer", body, body_data)
        # kept apart from peak_rss (VmHWM after workloads 1-2) so that row stays comparable
        C["rss_full_after_mp_kib"] = full.vmhwm_kib()
    profiles = {}
    if args.perf:
        log("coffer: profiling each workload with perf (not part of the measurements)")
        pid = full.proc.pid
        profiles["large PUT"] = profile_phase(pid, work, "large-put", lambda: ep.lg(
            "put-large", "--key", "prof-large", "--size", args.large_mib * MiB, timeout=130))
        profiles["large GET"] = profile_phase(pid, work, "large-get", lambda: ep.lg(
            "get-large", "--key", "prof-large", timeout=130))
        profiles["4 KiB GET c16"] = profile_phase(pid, work, "get-c16", lambda: ep.lg(
            "get-small", "--nkeys", args.nkeys, "--prefix", f"{args.key_prefix}g",
            "--conns", 16, "--duration", 3, timeout=40))
        profiles["4 KiB PUT c16 full"] = profile_phase(pid, work, "put-c16", lambda: ep.lg(
            "put-small", "--conns", 16, "--duration", 3, "--prefix", "prof-p", timeout=40))
    rc, stop_s = full.stop()
    C["stop_full"] = (rc, stop_s)
    if rc != 0:
        PROBLEMS.add(f"coffer (full) exited {rc} on SIGTERM")

    # ---- coffer, durability relaxed: PUT workloads
    if "relaxed" in sel and ("large" in sel or "small" in sel):
        relaxed = Coffer(coffer_bin, work, "relaxed", "relaxed")
        relaxed.start()
        ep_r = Endpoint("coffer-relaxed", "127.0.0.1", relaxed.port, "bench", args.loadgen,
                        creds=creds)
        ep_r.lg("req", "--method", "PUT", "--path", "/bench")
        if "large" in sel:
            run_large(ep_r, args, C.setdefault("relaxed_large", {}), "coffer-relaxed",
                      put_only=True)
        if "small" in sel:
            run_small_puts(ep_r, args, C, "coffer-relaxed", "relaxed")
        C["rss_relaxed_kib"] = relaxed.vmhwm_kib()
        rc, _ = relaxed.stop()
        if rc != 0:
            PROBLEMS.add(f"coffer (relaxed) exited {rc} on SIGTERM")

    # ---- cold start (fresh data dir) and restart (the data dir written above)
    if "cold" in sel:
        C["cold_runs"] = cold_starts(
            lambda i: Coffer(coffer_bin, work, f"cold{i}", "full"), args.cold_runs,
            "coffer cold start")
        C["restart_runs"] = cold_starts(
            lambda i: Coffer(coffer_bin, work, f"restart{i}", "full", data_dir=full.data_dir,
                             key_file=full.key_file), args.cold_runs, "coffer restart")
        if C["cold_runs"]:
            C["cold_start"] = statistics.median(C["cold_runs"])
        if C["restart_runs"]:
            C["restart"] = statistics.median(C["restart_runs"])
        log(f"coffer: cold start {['%.1f' % t for t in C['cold_runs']]} ms, "
            f"restart {['%.1f' % t for t in C['restart_runs']]} ms")
    rss = [v for v in (C.get("rss_full_kib"), C.get("rss_relaxed_kib")) if v]
    if rss:
        C["peak_rss"] = max(rss) / 1024.0

    # coffer's own log: warnings and errors
    warn_lines = []
    for fn in sorted(os.listdir(work)):
        if fn.startswith("coffer-") and fn.endswith(".log"):
            with open(os.path.join(work, fn), errors="replace") as f:
                for line in f:
                    if " WARN " in line or " ERROR " in line or "ERROR" in line[:40]:
                        warn_lines.append(f"{fn}: {line.strip()}")
    if warn_lines:
        PROBLEMS.add(f"coffer logged {len(warn_lines)} warning/error lines, e.g.: "
                     + " | ".join(warn_lines[:5]))

    # ---- what one loopback stream can carry here at all (no storage, no crypto)
    if "ceiling" in sel:
        results["ceiling"] = run_ceiling(args, work)

    # ---- nginx baseline (workloads 1-3 only: it has no multipart and ignores checksums)
    if not args.no_baseline and "nginx" in sel and ({"large", "small", "cold"} & sel):
        if not os.access(args.nginx, os.X_OK):
            PROBLEMS.add(f"nginx not found at {args.nginx}: no in-session baseline "
                         "(bench/run installs it with apt-get when it can)")
        else:
            N = results["nginx"] = {"cleanup": []}
            ng = Nginx(args.nginx, work)
            try:
                os.makedirs(os.path.join(ng.www, "bench"), exist_ok=True)
                ng.start()
                ep_n = Endpoint("nginx", "127.0.0.1", ng.port, "bench", args.loadgen,
                                creds=creds)
                sanity(ep_n, args, "nginx")
                if "large" in sel:
                    run_large(ep_n, args, N, "nginx")
                if "small" in sel:
                    run_small_gets(ep_n, args, N, "nginx")
                    run_small_puts(ep_n, args, N, "nginx", "plain")
                N["peak_rss"] = (ng.vmhwm_kib() or 0) / 1024.0
                N["processes"] = len(ng.pids())
                ng.stop()
                shutil.rmtree(ng.www, ignore_errors=True)
                os.makedirs(os.path.join(ng.www, "bench"), exist_ok=True)
                if "cold" in sel:
                    N["cold_runs"] = cold_starts(lambda i: Nginx(args.nginx, work),
                                                 args.cold_runs, "nginx cold start")
                    if N["cold_runs"]:
                        N["cold_start"] = statistics.median(N["cold_runs"])
            except RuntimeError as e:
                PROBLEMS.add(f"nginx baseline failed: {e}")
                ng.stop()
            for c in args.conns:
                for t in ("full", "relaxed"):
                    if f"put_plain_c{c}" in N:
                        N[f"put_{t}_c{c}"] = N[f"put_plain_c{c}"]

    # ---- reference endpoint
    if args.reference:
        u = urllib.parse.urlsplit(args.reference)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit("--reference must be an http://HOST:PORT URL (no TLS)")
        port = u.port or 80
        hh = u.netloc
        bucket = args.ref_bucket or f"coffer-bench-{os.getpid()}-{int(time.time())}"
        R = results["reference"] = {"cleanup": [], "url": args.reference, "bucket": bucket}
        ep_x = Endpoint("reference", u.hostname, port, bucket, args.loadgen, host_header=hh,
                        creds=(args.ref_access_key, args.ref_secret_key, args.ref_region))
        mk = ep_x.lg("req", "--method", "PUT", "--path", f"/{bucket}")
        created = mk is not None and mk["status"] == 200 and not args.ref_bucket
        if mk is None or mk["status"] not in (200, 409):
            PROBLEMS.add(f"reference: creating bucket {bucket} returned {mk}")
        try:
            sanity(ep_x, args, "reference")
            if "large" in sel:
                run_large(ep_x, args, R, "reference")
            if "small" in sel:
                run_small_gets(ep_x, args, R, "reference")
                run_small_puts(ep_x, args, R, "reference", "plain")
            for c in args.conns:
                for t in ("full", "relaxed"):
                    if f"put_plain_c{c}" in R:
                        R[f"put_{t}_c{c}"] = R[f"put_plain_c{c}"]
        except RuntimeError as e:
            PROBLEMS.add(f"reference benchmark failed: {e}")
        if not args.keep_ref_objects:
            log("reference: deleting the objects written by the benchmark")
            keys = [f"{args.key_prefix}large-{i}" for i in range(args.large_reps)]
            keys.append(f"{args.key_prefix}check-00000000")
            for k in keys:
                ep_x.lg("req", "--method", "DELETE", "--path", f"/{bucket}/{k}", timeout=30)
            for prefix, start, end in R["cleanup"]:
                if end > start:
                    d = ep_x.lg("delete", "--prefix", prefix, "--seq-start", start,
                                "--count", end - start, "--conns", 16, "--timeout", 60,
                                timeout=90)
                    check_small(d, "reference", "cleanup DELETE")
            if created:
                ep_x.lg("req", "--method", "DELETE", "--path", f"/{bucket}", timeout=30)

    busy = cpu_busy(1.0)
    results["env"]["busy_after"] = busy
    if busy is not None and busy > 0.15:
        PROBLEMS.add(f"the machine was {busy:.0%} busy right after the run (other processes)")
    results["elapsed_s"] = time.time() - t_begin
    results["problems"] = PROBLEMS.items
    results["profiles"] = profiles
    report(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)
        log(f"results written to {args.json}")


def report(results, args):
    C, N, R = results["coffer"], results["nginx"], results["reference"]
    env = results["env"]
    sel = args.sel
    rows = [  # (label, id, unit, group)
        (f"large PUT {args.large_mib} MiB, 1 stream (full)", "large_put", "MB/s", "large"),
        (f"large GET {args.large_mib} MiB, 1 stream", "large_get", "MB/s", "large"),
    ]
    for c in args.conns:
        rows.append((f"4 KiB GET c{c}", f"get_c{c}", "ops/s", "small"))
    for t in ("full", "relaxed"):
        for c in args.conns:
            rows.append((f"4 KiB PUT c{c} durability {t}", f"put_{t}_c{c}", "ops/s", "small"))
    rows += [
        ("cold start, fresh data dir (median)", "cold_start", "ms", "cold"),
        ("restart, data dir of this run (median)", "restart", "ms", "cold"),
        ("peak RSS, VmHWM after workloads", "peak_rss", "MiB", "small"),
    ]
    mp = f"{args.mp_mib // 1024} GiB" if args.mp_mib % 1024 == 0 else f"{args.mp_mib} MiB"
    for tag, name in (("sse_s3", "SSE-S3"), ("sse_c", "SSE-C")):
        if tag == "sse_c":
            rows.append((f"large PUT {args.large_mib} MiB, 1 stream, SSE-C", "large_put_sse_c",
                         "MB/s", "multipart"))
        for n in args.mp_conns:
            cn = "1 conn" if n == 1 else f"{n} conns"
            rows.append((f"multipart PUT {mp}, {args.part_mib} MiB parts, {cn}, {name}",
                         f"mp_put_{tag}_c{n}", "MB/s", "multipart"))
            rows.append((f"  multipart / single PUT, {cn}, {name}", f"mp_ratio_{tag}_c{n}", "x",
                         "multipart"))
        rows.append((f"GET {mp} multipart object, 1 stream, {name}", f"mp_get_{tag}", "MB/s",
                     "multipart"))
    rows += [
        (f"PUT {args.large_mib} MiB, no checksum header", "cksum_put_plain", "MB/s", "checksum"),
        (f"PUT {args.large_mib} MiB, x-amz-checksum-crc32", "cksum_put_crc32", "MB/s",
         "checksum"),
        ("  CRC32 PUT / PUT without checksum", "cksum_ratio", "x", "checksum"),
    ]
    rows = [r[:3] for r in rows if r[3] in sel or C.get(r[1]) is not None]
    head = ["metric", "unit", "coffer", "target", "ok"]
    if N is not None:
        head += ["nginx", "coffer/nginx"]
    if R is not None:
        head += ["reference", "coffer/ref"]
    table = [head]
    for label, key, unit in rows:
        v = C.get(key)
        tgt = TARGETS.get(key)
        ok = "-"
        if tgt is not None and v is not None:
            ok = "PASS" if (v >= tgt[1] if tgt[0] == ">=" else v <= tgt[1]) else "FAIL"
        row = [label, unit, fmt(v, unit), f"{tgt[0]} {tgt[1]:,}" if tgt else "-", ok]
        if N is not None:
            nv = N.get(key)
            row += [fmt(nv, unit), ratio(v, nv)]
        if R is not None:
            rv = R.get(key)
            row += [fmt(rv, unit), ratio(v, rv)]
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    lines.append("")
    lines.append(f"coffer benchmark  {env['date']}  {env['cpus']} CPUs  kernel {env['uname']}")
    lines.append(f"binary: {env['coffer']}")
    b0, b1 = env.get("busy_before"), env.get("busy_after")
    if b0 is not None and b1 is not None:
        lines.append(f"CPU busy with other work: {b0:.0%} before the run, {b1:.0%} after it "
                     f"(idle machine: ~0%)")
    lines.append(f"large object: {args.large_mib} MiB x {args.large_reps} (median); 4 KiB phases: "
                 f"{args.duration:g} s measured after {args.warmup:g} s warm-up, keep-alive; "
                 f"MB/s = 10^6 bytes/s")
    if "multipart" in sel or "checksum" in sel:
        lines.append(f"multipart: {args.mp_mib} MiB in {args.part_mib} MiB parts x "
                     f"{args.mp_reps} per variant, Create to Complete; checksum: "
                     f"{args.large_mib} MiB x {args.cksum_reps} per variant (median)")
    if args.only:
        lines.append(f"--only: {', '.join(sorted(sel))}")
    if R is not None:
        lines.append(f"reference: {R['url']} (bucket {R['bucket']})")
    lines.append("")
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [c.rjust(widths[j + 2]) for j, c in enumerate(r[2:])]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    ce = results.get("ceiling") or {}
    if ce.get("large_put") or ce.get("large_get"):
        lines.append(f"one-stream loopback ceiling here (loadgen sink: no storage, no crypto): "
                     f"PUT {fmt(ce.get('large_put'), 'MB/s')} MB/s, "
                     f"GET {fmt(ce.get('large_get'), 'MB/s')} MB/s")
    lines.append("ratios are coffer / other: above 1 is better for MB/s and ops/s, below 1 is "
                 "better for ms and MiB.")
    if N is not None:
        lines.append("nginx baseline: plain files, no encryption, no fsync (WebDAV PUT writes a "
                     "temp file and renames it), GET via sendfile; both PUT rows compare to the "
                     "same nginx number; its RSS sums master and workers.")
    if "multipart" in sel:
        lines.append("multipart / single PUT: the multipart rate over the single large PUT of "
                     "the same SSE mode in this run (SSE-S3: the first row; SSE-C: its own row).")
    if "checksum" in sel:
        lines.append("without a checksum header coffer still computes its default CRC64NVME "
                     "(as AWS does), so the CRC32 ratio is CRC32 + compare vs CRC64NVME.")
    # details
    lines.append("")
    lines.append("details (latency p50 / p99 ms; non-2xx; connection errors):")
    for name, res in (("coffer", C), ("nginx", N), ("reference", R)):
        if not res:
            continue
        for key in sorted(k for k in res if k.endswith("_detail")):
            d = res[key]
            lines.append(f"  {name:9s} {key[:-7]:18s} {d['ops_per_s']:>10,.0f} ops/s  "
                         f"p50 {d['lat_ms']['p50']:7.2f}  p99 {d['lat_ms']['p99']:7.2f}  "
                         f"max {d['lat_ms']['max']:8.2f}  non-2xx {d['bad_status']}  "
                         f"conn-err {d['conn_errors']}")
        if res.get("large_put_runs"):
            lines.append(f"  {name:9s} large PUT runs MB/s {res['large_put_runs']}  "
                         f"(median wait for the response after the last byte: "
                         f"{res.get('large_put_commit_ms', 0):.1f} ms)")
        if res.get("large_get_runs"):
            lines.append(f"  {name:9s} large GET runs MB/s {res['large_get_runs']}  "
                         f"(median time to first byte {res.get('large_get_ttfb_ms', 0):.1f} ms)")
    ce = results.get("ceiling") or {}
    if ce.get("large_put_runs") or ce.get("large_get_runs"):
        lines.append(f"  ceiling   loopback, storage-less sink, same client: PUT runs MB/s "
                     f"{ce.get('large_put_runs')}, GET runs MB/s {ce.get('large_get_runs')}")
    rl = C.get("relaxed_large", {})
    if rl.get("large_put_runs"):
        lines.append(f"  coffer    large PUT durability relaxed runs MB/s {rl['large_put_runs']}")
    for tag, name in (("sse_s3", "SSE-S3"), ("sse_c", "SSE-C")):
        for n in args.mp_conns:
            pr = C.get(f"mp_put_{tag}_c{n}_results") or []
            gr = C.get(f"mp_get_{tag}_c{n}_results") or []
            if pr:
                waits = [(round(r["part_wait_ms"]["p50"], 1), round(r["part_wait_ms"]["max"], 1))
                         for r in pr]
                lines.append(
                    f"  coffer    multipart {name} c{n}: MB/s {[r['mb_per_s'] for r in pr]}, "
                    f"parts only {[r['parts_mb_per_s'] for r in pr]}, create "
                    f"{[round(r['create_ms'], 1) for r in pr]} ms, complete "
                    f"{[round(r['complete_ms'], 1) for r in pr]} ms, {pr[0]['parts']} parts, "
                    f"wait per part after its last byte p50/max {waits} ms; "
                    f"GET MB/s {[g['mb_per_s'] for g in gr]}")
    if C.get("large_put_sse_c_runs"):
        lines.append(f"  coffer    large PUT SSE-C runs MB/s {C['large_put_sse_c_runs']}")
    if C.get("cksum_put_plain_runs") or C.get("cksum_put_crc32_runs"):
        lines.append(f"  coffer    PUT runs MB/s without checksum {C.get('cksum_put_plain_runs')}, "
                     f"with CRC32 {C.get('cksum_put_crc32_runs')}; a wrong CRC32 got "
                     f"{C.get('cksum_wrong_status')}, the right one {C.get('cksum_right_status')}")
    if C.get("cold_runs"):
        lines.append(f"  coffer    cold start runs ms {['%.1f' % t for t in C['cold_runs']]}; "
                     f"restart runs ms {['%.1f' % t for t in C.get('restart_runs', [])]}")
    if N and N.get("cold_runs"):
        lines.append(f"  nginx     cold start runs ms {['%.1f' % t for t in N['cold_runs']]}")
    relaxed_rss = (f", relaxed instance {C['rss_relaxed_kib']} kB"
                   if C.get("rss_relaxed_kib") else "")
    lines.append(f"  coffer    VmHWM full instance {C.get('rss_full_kib')} kB{relaxed_rss}; "
                 f"threads {C.get('threads_full')}; "
                 f"SIGTERM to exit {C.get('stop_full', (None, 0))[1] * 1e3:.0f} ms")
    if C.get("rss_full_after_mp_kib"):
        lines.append(f"  coffer    VmHWM full instance after multipart/checksum "
                     f"{C['rss_full_after_mp_kib']} kB")
    if results.get("profiles"):
        lines.append("")
        lines.append("perf profiles of coffer (self time, dso/symbol, >= 1.5%):")
        for phase, rows_ in results["profiles"].items():
            lines.append(f"  -- {phase}")
            for ln in rows_ or ["(perf gave no output)"]:
                lines.append("     " + ln.strip())
    lines.append("")
    if results["problems"]:
        lines.append("problems seen:")
        for p in results["problems"]:
            lines.append("  - " + p)
    else:
        lines.append("problems seen: none")
    lines.append(f"total time {results['elapsed_s']:.0f} s")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
