"""Restart persistence and --ephemeral."""

import datetime
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from conftest import etag_of


def _populate(c):
    c.create_bucket(Bucket="p-east")
    c.create_bucket(Bucket="p-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    c.put_bucket_encryption(Bucket="p-west", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
         "BucketKeyEnabled": True}]})
    objs = {
        ("p-east", "empty"): b"",
        ("p-east", "one"): b"1",
        ("p-east", "dir/seg-boundary"): os.urandom(64 * 1024),
        ("p-east", "dir/big"): os.urandom(300 * 1024 + 7),
        ("p-west", "ünïcode key"): b"unicode body",
        ("p-west", "overwritten"): b"first",
    }
    for (b, k), data in objs.items():
        c.put_object(Bucket=b, Key=k, Body=data, Metadata={"k": k.encode("ascii", "replace").decode()},
                     ContentType="application/x-test", CacheControl="max-age=9",
                     Expires=datetime.datetime(2040, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc))
    c.put_object(Bucket="p-west", Key="overwritten", Body=b"second")
    objs[("p-west", "overwritten")] = b"second"
    c.put_object(Bucket="p-east", Key="deleted", Body=b"gone")
    c.delete_object(Bucket="p-east", Key="deleted")
    c.copy_object(Bucket="p-west", Key="copy", CopySource="p-east/dir/big")
    objs[("p-west", "copy")] = objs[("p-east", "dir/big")]
    return objs


def _snapshot(c, objs):
    snap = {"buckets": [(b["Name"], b["CreationDate"]) for b in c.list_buckets()["Buckets"]]}
    snap["locations"] = {b: c.get_bucket_location(Bucket=b).get("LocationConstraint")
                         for b in ("p-east", "p-west")}
    snap["encryption"] = {b: c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]
                          for b in ("p-east", "p-west")}
    snap["listing"] = {b: [(o["Key"], o["ETag"], o["Size"], o["LastModified"])
                           for o in c.list_objects_v2(Bucket=b).get("Contents", [])]
                       for b in ("p-east", "p-west")}
    heads = {}
    for (b, k), data in objs.items():
        g = c.get_object(Bucket=b, Key=k)
        body = g["Body"].read()
        assert body == data
        heads[(b, k)] = {f: g.get(f) for f in ("ETag", "LastModified", "Metadata", "ContentType",
                                               "CacheControl", "Expires", "ContentLength",
                                               "ServerSideEncryption")}
        assert heads[(b, k)]["ETag"] == etag_of(data)
    snap["objects"] = heads
    return snap


def test_restart_keeps_everything(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    objs = _populate(c)
    before = _snapshot(c, objs)
    srv.stop()
    srv.start()
    after = _snapshot(srv.client(), objs)
    assert after == before
    c = srv.client()
    with pytest.raises(Exception):
        c.head_object(Bucket="p-east", Key="deleted")
    # still writable after the restart
    c.put_object(Bucket="p-east", Key="post-restart", Body=b"ok")
    srv.restart()
    assert srv.client().get_object(Bucket="p-east", Key="post-restart")["Body"].read() == b"ok"
    assert _snapshot(srv.client(), objs)["objects"] == before["objects"]


def test_acknowledged_writes_survive_sigkill(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="crash")
    data = {f"k{i}": os.urandom(1000 * i + 1) for i in range(20)}
    for k, v in data.items():
        c.put_object(Bucket="crash", Key=k, Body=v)
    c.delete_object(Bucket="crash", Key="k0")
    srv.kill()
    srv.start()
    c = srv.client()
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="crash")["Contents"]]
    assert sorted(keys) == sorted(k for k in data if k != "k0")
    for k, v in data.items():
        if k != "k0":
            assert c.get_object(Bucket="crash", Key=k)["Body"].read() == v
    # tmp/ is emptied at start-up
    assert list((srv.data_dir / "tmp").iterdir()) == []


def _open_data_dir(pid):
    """The directory holding coffer.db, from the process's open files."""
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith("/coffer.db") or target.endswith("/coffer.db-wal"):
            return Path(target).parent
    return None


def _printed_dirs(text):
    return [Path(m) for m in re.findall(r"(/[^\s'\"]+)", text)]


def test_ephemeral(coffer_factory, tmp_path):
    srv = coffer_factory(ephemeral=True, workdir=tmp_path / "eph")
    c = srv.client()
    c.create_bucket(Bucket="eph")
    c.put_object(Bucket="eph", Key="k", Body=b"temporary")
    assert c.get_object(Bucket="eph", Key="k")["Body"].read() == b"temporary"
    data_dir = _open_data_dir(srv.pid)
    if data_dir is None:
        for p in _printed_dirs(srv.stdout_text() + srv.stderr_text()):
            if p.is_dir() and ((p / "coffer.db").exists() or (p / "blobs").exists()):
                data_dir = p
                break
    if data_dir is not None:
        assert data_dir.is_dir()
    srv.stop()

    # a second ephemeral server starts empty
    srv2 = coffer_factory(ephemeral=True, workdir=tmp_path / "eph2")
    assert srv2.client().list_buckets()["Buckets"] == []
    srv2.stop()
    # nothing was left in the working directory either
    leftovers = [p.name for p in (tmp_path / "eph").iterdir()
                 if not re.match(r"std(out|err)\.\d+\.log$", p.name)]
    assert leftovers == []

    if data_dir is None:
        pytest.skip("could not find the ephemeral data dir (no open coffer.db, no printed "
                    "path); only the 'removed on exit' check is skipped")
    assert not data_dir.exists(), f"ephemeral data dir {data_dir} left behind"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_finishes_in_flight_request(coffer_factory, sig):
    """SIGTERM/SIGINT: the upload already in progress completes, then exit 0."""
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="inflight")
    body = os.urandom(256 * 1024)
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        head = (f"PUT /inflight/obj HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        sock.sendall(head + body[:1000])
        time.sleep(0.5)          # let the server pick the request up (not an assertion)
        srv.proc.send_signal(sig)
        time.sleep(0.2)
        sock.sendall(body[1000:])
        resp = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            resp += chunk
    finally:
        sock.close()
    status_line = resp.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 200"), resp[:500]
    proc = srv.proc
    srv.proc = None
    assert proc.wait(timeout=10) == 0, srv.logs()
    srv.check_sanitizers()
    srv.start()
    assert srv.client().get_object(Bucket="inflight", Key="obj")["Body"].read() == body
