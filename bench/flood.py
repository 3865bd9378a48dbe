#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Connection-flood benchmark: is a well-behaved client still served while one address holds
thousands of slow or idle connections open, and does SIGTERM still stop the server promptly?

Starts coffer (--ephemeral, on an ephemeral loopback port), opens --conns connections from
--flood-addr (default 127.0.0.2, another loopback address, so that the flood and the client are
different addresses) that send half a request line (--mode half), nothing (idle) or one byte
every few seconds (slow), and re-opens each one a second after the server closes it, as an
attacker would. Meanwhile a client on 127.0.0.1 opens a fresh connection every --interval
seconds and does a 4 KiB PUT and a GET on it; another connection from the flood address sends
a full request, to see what an over-cap client is told. Finally SIGTERM with the flood held
open. Prints a table (and --json). Python standard library only. See bench/README.md.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HALF = b"GET /_localstack/health HT"  # half a request line, then silence


def log(msg):
    print(f"[flood {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def request(port, method, path, body=None, source="127.0.0.1", timeout=10.0):
    """One request on a fresh connection from `source`: (status, S3 error code or '', seconds)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        data = r.read()
        code = ""
        if b"<Code>" in data:
            code = data.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode()
        return r.status, code, time.perf_counter() - t0
    except (OSError, http.client.HTTPException) as e:
        return None, type(e).__name__, time.perf_counter() - t0
    finally:
        conn.close()


def put_get(port, key, body, timeout=10.0):
    """PUT then GET on one fresh keep-alive connection: (ok, seconds, detail)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=("127.0.0.1", 0))
    try:
        conn.request("PUT", f"/flood-bench/{key}", body=body)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            return False, time.perf_counter() - t0, f"PUT {r.status}"
        conn.request("GET", f"/flood-bench/{key}")
        r = conn.getresponse()
        data = r.read()
        if r.status != 200 or data != body:
            return False, time.perf_counter() - t0, f"GET {r.status}"
        return True, time.perf_counter() - t0, "ok"
    except (OSError, http.client.HTTPException) as e:
        return False, time.perf_counter() - t0, type(e).__name__
    finally:
        conn.close()


class Flood:
    """Holds `n` connections from `addr` open, re-opening each a second after it is closed."""

    def __init__(self, port, n, addr, mode):
        self.port, self.n, self.addr, self.mode = port, n, addr, mode
        self.sel = selectors.DefaultSelector()
        self.socks = {}          # socket -> next time to send a byte (slow mode)
        self.reopen_at = []      # times at which to open one more
        self.opened = 0
        self.connect_failed = 0
        self.closed_by_server = 0
        self.answered_503 = 0

    def _open_one(self):
        s = socket.socket()
        s.settimeout(3.0)
        try:
            s.bind((self.addr, 0))
            s.connect(("127.0.0.1", self.port))
            if self.mode == "half":
                s.sendall(HALF)
            elif self.mode == "slow":
                s.sendall(HALF[:1])
        except OSError:
            self.connect_failed += 1
            s.close()
            self.reopen_at.append(time.monotonic() + 1.0)
            return
        s.setblocking(False)
        self.socks[s] = [time.monotonic() + 5.0, 1]
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def open_all(self):
        t0 = time.perf_counter()
        for _ in range(self.n):
            self._open_one()
        return time.perf_counter() - t0

    def _closed(self, s):
        self.sel.unregister(s)
        del self.socks[s]
        s.close()
        self.closed_by_server += 1
        self.reopen_at.append(time.monotonic() + 1.0)

    def _loop(self, pause, held):
        while not pause.is_set():
            for key, _ in self.sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data.startswith(b"HTTP/1.1 503"):
                    self.answered_503 += 1
                self._closed(s)
            now = time.monotonic()
            if self.mode == "slow":
                for s, st in list(self.socks.items()):
                    if now >= st[0] and st[1] < len(HALF):
                        try:
                            s.send(HALF[st[1]:st[1] + 1])
                            st[1] += 1
                        except OSError:
                            pass
                        st[0] = now + 5.0
            due = [t for t in self.reopen_at if t <= now][:500]
            if due:
                self.reopen_at = [t for t in self.reopen_at if t > now] + \
                    [t for t in self.reopen_at if t <= now][500:]
                for _ in due:
                    if pause.is_set():
                        break
                    self._open_one()
            held.value = len(self.socks)

    def close(self):
        for s in list(self.socks):
            s.close()
        self.socks.clear()


def flood_process(port, n, addr, mode, conn, pause, finish, held):
    """The flood, in its own process so that it does not share an interpreter (and its lock)
    with the client being timed. Reports over conn: after opening, when paused, at the end."""
    fl = Flood(port, n, addr, mode)
    secs = fl.open_all()
    held.value = len(fl.socks)
    conn.send(("opened", secs, fl.opened))
    fl._loop(pause, held)
    conn.send(("paused", len(fl.socks)))
    finish.wait()
    conn.send(("stats", fl.closed_by_server, fl.answered_503, fl.connect_failed))
    fl.close()


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coffer", default=os.environ.get("COFFER_BIN", "build/coffer"),
                    help="coffer binary (default $COFFER_BIN or build/coffer)")
    ap.add_argument("--conns", type=int, default=5000, help="flood connections (default 5000)")
    ap.add_argument("--mode", choices=("half", "idle", "slow"), default="half",
                    help="half: half a request line then silence (default); idle: nothing; "
                         "slow: one byte every 5 s")
    ap.add_argument("--flood-addr", default="127.0.0.2", help="source address of the flood")
    ap.add_argument("--duration", type=float, default=30.0,
                    help="seconds of probing while the flood is held (default 30: spans the "
                         "15 s header timeout)")
    ap.add_argument("--interval", type=float, default=0.25, help="seconds between probes")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra coffer argument (repeatable), e.g. --server-arg=--threads=4")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir (server log)")
    args = ap.parse_args()
    args.coffer = os.path.abspath(args.coffer)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.conns + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.conns * 2 + 512), hard))

    port = free_port()
    work = tempfile.mkdtemp(prefix="coffer-flood.")
    logf = open(os.path.join(work, "coffer.log"), "wb")
    cmd = [args.coffer, "--ephemeral", "--listen", f"127.0.0.1:{port}", "--log-level", "info",
           *args.server_arg]
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=work)
    deadline = time.monotonic() + 10
    while request(port, "GET", "/_localstack/health", timeout=1)[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"coffer did not start: see {work}/coffer.log")
        time.sleep(0.05)
    res = {"coffer": args.coffer, "conns": args.conns, "mode": args.mode,
           "cpus": os.cpu_count()}
    status, _, _ = request(port, "PUT", "/flood-bench")
    assert status == 200, status
    body = os.urandom(4096)

    quiet = [put_get(port, f"quiet-{i}", body) for i in range(20)]
    res["quiet_ms_median"] = statistics.median(t for _, t, _ in quiet) * 1000
    res["rss_before_kib"] = proc_kib(proc.pid, "VmRSS")

    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    pause, finish, held_now = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    flood = ctx.Process(target=flood_process,
                        args=(port, args.conns, args.flood_addr, args.mode, child_end, pause,
                              finish, held_now), daemon=True)
    log(f"opening {args.conns} {args.mode} connections from {args.flood_addr}")
    t_flood = time.monotonic()
    flood.start()
    _, res["flood_open_s"], res["flood_open_ok"] = parent_end.recv()
    time.sleep(1.0)
    log(f"probing for {args.duration:.0f} s")
    lat, fails, over, series = [], [], {}, []
    held, fds, rss = [], [], []
    t_end = time.monotonic() + args.duration
    i = 0
    while time.monotonic() < t_end:
        t_probe = time.monotonic() - t_flood
        ok, secs, detail = put_get(port, f"k{i}", body)
        (lat if ok else fails).append(secs if ok else detail)
        series.append((round(t_probe, 2), round(secs * 1000, 1) if ok else detail))
        st, code, _ = request(port, "GET", "/_localstack/health", source=args.flood_addr,
                              timeout=5)
        k = f"{st} {code}".strip() if st is not None else code
        over[k] = over.get(k, 0) + 1
        held.append(held_now.value)
        fds.append(fd_count(proc.pid) or 0)
        rss.append(proc_kib(proc.pid, "VmRSS") or 0)
        i += 1
        time.sleep(args.interval)
    res.update({
        "probes": i, "probe_ok": len(lat),
        "probe_failures": {k: fails.count(k) for k in sorted(set(fails))},
        "probe_ms_median": pct(lat, 50) * 1000, "probe_ms_p99": pct(lat, 99) * 1000,
        "probe_ms_max": max(lat) * 1000 if lat else float("nan"),
        "over_cap_answers": over,
        "flood_held_min": min(held), "flood_held_max": max(held),
        "server_fds_max": max(fds), "server_rss_max_kib": max(rss),
        "server_hwm_kib": proc_kib(proc.pid, "VmHWM"),
        "probe_series": series,  # (seconds since the flood began, ms or failure)
    })

    log("SIGTERM with the flood held open")
    pause.set()  # stop re-opening; the connections held stay open
    _, res["flood_held_at_sigterm"] = parent_end.recv()
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
        res["sigterm_exit_s"] = time.perf_counter() - t0
        res["sigterm_rc"] = rc
    except subprocess.TimeoutExpired:
        res["sigterm_exit_s"] = None
        res["sigterm_rc"] = "still running after 60 s (killed)"
        proc.kill()
        proc.wait()
    finish.set()
    _, res["flood_closed_by_server"], res["flood_closed_with_503"], \
        res["flood_connect_failed"] = parent_end.recv()
    flood.join(30)
    logf.close()
    if args.keep:
        log(f"server log: {work}/coffer.log")
    else:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("flood", f"{res['flood_open_ok']} {args.mode} connections from {args.flood_addr} "
                  f"(opened in {res['flood_open_s']:.2f} s)"),
        ("flood connections open during the run", f"{res['flood_held_min']}-{res['flood_held_max']}"),
        ("closed by the server (with a 503 first)",
         f"{res['flood_closed_by_server']} ({res['flood_closed_with_503']})"),
        ("PUT+GET 4 KiB, fresh connection, quiet", f"{res['quiet_ms_median']:.1f} ms median"),
        ("PUT+GET during the flood", f"{res['probe_ok']}/{res['probes']} ok; median "
         f"{res['probe_ms_median']:.1f} ms, p99 {res['probe_ms_p99']:.1f} ms, max "
         f"{res['probe_ms_max']:.1f} ms"),
        ("failures", ", ".join(f"{k}: {v}" for k, v in res["probe_failures"].items()) or "none"),
        ("request from the flooding address", ", ".join(f"{k}: {v}" for k, v in over.items())),
        ("server fds / RSS (max)", f"{res['server_fds_max']} / "
         f"{res['server_rss_max_kib'] / 1024:.1f} MiB (before {res['rss_before_kib'] / 1024:.1f},"
         f" peak {(res['server_hwm_kib'] or 0) / 1024:.1f})"),
        (f"SIGTERM to exit, {res['flood_held_at_sigterm']} flood connections open",
         f"{res['sigterm_exit_s']:.2f} s (exit {res['sigterm_rc']})"
         if res["sigterm_exit_s"] is not None else str(res["sigterm_rc"])),
    ]
    w = max(len(a) for a, _ in rows)
    print(f"coffer flood benchmark ({os.cpu_count()} CPUs, {args.coffer})")
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")
    slowest = sorted((x for x in series if not isinstance(x[1], str)), key=lambda x: -x[1])[:3]
    print("  slowest probes (s after the flood began, ms): "
          + ", ".join(f"{t:.1f} s: {ms:.0f}" for t, ms in slowest))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
