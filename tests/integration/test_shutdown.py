"""SIGTERM: idle and half-received connections close at once, requests in flight get the
grace period (--shutdown-grace), then the process exits 0; an upload cut by the stop is
absent after a restart, one that finished is complete. Never partial.

Bounds are generous (the grace plus several seconds): they separate "exits" from "hangs".
"""

import hashlib
import os
import signal
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_of

FLOOD_ADDR = "127.0.0.2"
HALF = b"GET /_localstack/health HT"
MiB = 1 << 20


def connect(port, source="127.0.0.1", send=b""):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    if send:
        s.sendall(send)
    return s


def sigterm(srv):
    srv.proc.send_signal(signal.SIGTERM)
    return time.monotonic()


def wait_exit(srv, t0, limit):
    """Exit code and seconds since t0; fails (and kills) if the process outlives limit."""
    try:
        rc = srv.proc.wait(timeout=max(0.1, limit - (time.monotonic() - t0)))
    except Exception:
        srv.kill()
        raise AssertionError(f"coffer still running {limit} s after SIGTERM\n" + srv.logs())
    took = time.monotonic() - t0
    srv.proc = None
    srv.check_sanitizers()
    return rc, took


def sees_close(s, timeout):
    """True once the server has closed s (end of stream or reset) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def test_sigterm_during_flood(coffer_factory):
    """1,100 half requests, idle keep-alive connections and silent ones: exit at once, though
    the grace is long (nothing is in flight)."""
    srv = coffer_factory(extra_args=["--shutdown-grace", "30"])
    flood = [connect(srv.port, FLOOD_ADDR, HALF) for _ in range(1100)]
    # a complete request line with half the headers: a request libmicrohttpd has begun
    flood += [connect(srv.port, FLOOD_ADDR, b"GET /x HTTP/1.1\r\nHost: a\r\n") for _ in range(20)]
    flood += [connect(srv.port) for _ in range(20)]  # silent
    idle = []
    for _ in range(20):
        s = connect(srv.port, send=b"GET /_localstack/health HTTP/1.1\r\nHost: a\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        idle.append(s)
    time.sleep(0.5)
    t0 = sigterm(srv)
    rc, took = wait_exit(srv, t0, 10)
    assert rc == 0, srv.logs()
    assert took < 10
    for s in idle + flood[:50]:
        assert sees_close(s, 5)
    for s in idle + flood:
        s.close()


class Upload(threading.Thread):
    """Streams a PUT of `size` bytes (a 1 MiB random block repeated) on a raw socket, pausing
    `pause` seconds after each MiB; records the status line or the error."""

    def __init__(self, port, path, size, pause=0.0):
        super().__init__(daemon=True)
        self.port, self.path, self.size, self.pause = port, path, size, pause
        self.block = os.urandom(MiB)
        self.sent = 0
        self.status = None
        self.error = None
        self.md5 = hashlib.md5()
        self.started_body = threading.Event()

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            s.sendall(f"PUT {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Length: {self.size}\r\n\r\n".encode())
            while self.sent < self.size:
                n = min(MiB, self.size - self.sent)
                s.sendall(self.block[:n])
                self.md5.update(self.block[:n])
                self.sent += n
                self.started_body.set()
                if self.pause:
                    time.sleep(self.pause)
            line = s.makefile("rb").readline()
            self.status = line.decode(errors="replace").strip()
            s.close()
        except OSError as e:
            self.error = e
            self.started_body.set()


def tmp_files(srv):
    tmp = srv.data_dir / "tmp"
    return [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []


def test_sigterm_during_large_upload_finishes_it(coffer_factory):
    """An upload in flight continues after SIGTERM and is stored whole; then the process exits
    by itself (well before the grace ends)."""
    srv = coffer_factory(extra_args=["--shutdown-grace", "60"])
    srv.client().create_bucket(Bucket="upl")
    size = 256 * MiB
    up = Upload(srv.port, "/upl/big", size)
    up.start()
    while up.sent < 32 * MiB and up.is_alive():
        time.sleep(0.01)
    # an idle connection is closed at once, while the upload goes on
    idle = connect(srv.port, send=b"GET /_localstack/health HTTP/1.1\r\nHost: a\r\n\r\n")
    assert idle.recv(65536).startswith(b"HTTP/1.1 200")
    t0 = sigterm(srv)
    assert sees_close(idle, 5)
    idle.close()
    up.join(120)
    assert up.status is not None and up.status.startswith("HTTP/1.1 200"), (up.status, up.error)
    rc, took = wait_exit(srv, t0, 60)
    assert rc == 0, srv.logs()
    assert tmp_files(srv) == []
    srv.start()
    body = srv.client().get_object(Bucket="upl", Key="big")["Body"]
    got = hashlib.md5()
    n = 0
    for chunk in iter(lambda: body.read(MiB), b""):
        got.update(chunk)
        n += len(chunk)
    assert n == size
    assert got.hexdigest() == up.md5.hexdigest()


def test_sigterm_cuts_a_slow_upload_after_the_grace(coffer_factory):
    """An upload too slow to finish in the grace is cut: the process exits within the grace
    (plus a margin), and after a restart the object is absent, the one it would have replaced
    intact, and nothing partial is left."""
    srv = coffer_factory(extra_args=["--shutdown-grace", "2"])
    s3 = srv.client()
    s3.create_bucket(Bucket="upl")
    s3.put_object(Bucket="upl", Key="big", Body=b"the old object")
    up = Upload(srv.port, "/upl/big", 300 * MiB, pause=0.2)  # ~5 MiB/s: a minute at least
    up.start()
    up.started_body.wait(10)
    time.sleep(0.5)
    t0 = sigterm(srv)
    rc, took = wait_exit(srv, t0, 2 + 8)
    assert rc == 0, srv.logs()
    assert "still in flight" in srv.stderr_text(), srv.logs()
    up.join(30)
    assert not (up.status or "").startswith("HTTP/1.1 200"), up.status
    assert tmp_files(srv) == []
    srv.start()
    s3 = srv.client()
    assert s3.get_object(Bucket="upl", Key="big")["Body"].read() == b"the old object"


def test_sigterm_during_fresh_upload_leaves_nothing(coffer_factory):
    """Same, with no object before: none after."""
    srv = coffer_factory(extra_args=["--shutdown-grace", "1"])
    srv.client().create_bucket(Bucket="upl")
    up = Upload(srv.port, "/upl/new", 300 * MiB, pause=0.2)
    up.start()
    up.started_body.wait(10)
    time.sleep(0.3)
    t0 = sigterm(srv)
    rc, _ = wait_exit(srv, t0, 1 + 8)
    assert rc == 0, srv.logs()
    up.join(30)
    srv.start()
    with pytest.raises(ClientError) as e:
        srv.client().head_object(Bucket="upl", Key="new")
    assert error_of(e)[0] == 404
    names = [o["Key"] for o in srv.client().list_objects_v2(Bucket="upl").get("Contents", [])]
    assert names == []
