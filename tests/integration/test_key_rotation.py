"""Root key rotation: `coffer keys list | rotate | rewrap | retire ID`.

rotate adds a new active root key to the keyring file and re-wraps every SSE-S3
data key and every KMS key's material under it. It is metadata only (no blob
is rewritten), works while the server runs (the server picks up the new keyring)
and can be resumed with rewrap; retire refuses while anything still depends on
the key, and never takes the active key."""

import hashlib
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import COFFER_BIN, server_env

SEG = 64 * 1024
ARN_RE = re.compile(r"^arn:aws:kms:us-east-1:000000000000:key/[0-9a-f-]{36}$")
LIST_RE = re.compile(r"^([A-Za-z0-9_-]+)\t(active|inactive)\t(\d+) objects\t(\d+) KMS keys$")
# root key ids made by coffer: unique per key, never a counter (older keyrings had rk1, rk2, ...)
ID_RE = re.compile(r"^rk-[0-9a-f]{16}$")
POLL_TIMEOUT = 15.0


@pytest.fixture(autouse=True)
def _need_binary():
    if not os.path.exists(COFFER_BIN):
        pytest.skip(f"coffer binary not built: {COFFER_BIN}")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def keys(data_dir, root_key, *args, timeout=120):
    return subprocess.run(
        [COFFER_BIN, "keys", *args, "--data-dir", str(data_dir),
         "--root-key-file", str(root_key)],
        capture_output=True, text=True, env=server_env(), timeout=timeout)


def keys_ok(srv, *args):
    p = keys(srv.data_dir, srv.root_key, *args)
    assert p.returncode == 0, f"coffer keys {args} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def key_list(srv):
    """coffer keys list -> {id: (state, objects, kms_keys)}, in file order."""
    out = keys_ok(srv, "list")
    rows = {}
    for line in out.splitlines():
        m = LIST_RE.match(line)
        assert m, f"unexpected keys list line {line!r}\n{out}"
        rows[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)))
    return rows


def root_key_ids(path):
    return [line.split()[0] for line in Path(path).read_text().splitlines()
            if re.match(r"^[A-Za-z0-9_-]+ [0-9a-f]{64}$", line)]


def new_key_id(out):
    """The id `coffer keys rotate` printed; a fresh one of coffer's form."""
    m = re.search(r"^new active root key (\S+)$", out, re.M)
    assert m, out
    assert ID_RE.match(m.group(1)), out
    return m.group(1)


def blob_hashes(data_dir):
    """Hash of every stored blob: the files, and the bodies kept inline in coffer.db."""
    out = {}
    for p in sorted((Path(data_dir) / "blobs").rglob("*")):
        if p.is_file():
            out[str(p.relative_to(data_dir))] = hashlib.sha256(p.read_bytes()).hexdigest()
    con = sqlite3.connect(str(Path(data_dir) / "coffer.db"))
    for blob_id, body in con.execute("SELECT blob_id, body FROM inline_blobs"):
        out["inline:" + blob_id] = hashlib.sha256(body).hexdigest()
    con.close()
    return out


def rotation_summary(out, new_id):
    m = re.search(r"rotation to " + new_id + r": (\d+) data keys and (\d+) KMS keys re-wrapped, "
                  r"(\d+) failed", out)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def sse_c(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


class Dataset:
    """Objects written to a server and how to check them."""

    def __init__(self):
        self.objs = {}      # key -> (body, kind, extra get kwargs)

    def write(self, c, bucket, n_sse_s3=6, prefix="o"):
        sizes = [0, 1, 100, SEG - 1, SEG, SEG + 1, 3 * SEG + 7, 4096]
        for i in range(n_sse_s3):
            k = f"{prefix}{i}"
            body = os.urandom(sizes[i % len(sizes)])
            p = c.put_object(Bucket=bucket, Key=k, Body=body)
            assert p["ServerSideEncryption"] == "AES256"
            self.objs[(bucket, k)] = (body, "sse-s3", {})

    def write_kms(self, c, bucket, key="kms-obj", key_ref=None):
        body = os.urandom(SEG + 33)
        kw = {"SSEKMSKeyId": key_ref} if key_ref else {}
        p = c.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms", **kw)
        assert ARN_RE.match(p["SSEKMSKeyId"])
        self.objs[(bucket, key)] = (body, "kms", {})
        return p["SSEKMSKeyId"]

    def write_ssec(self, c, bucket, key="ssec-obj"):
        body = os.urandom(2 * SEG + 5)
        ck = os.urandom(32)
        c.put_object(Bucket=bucket, Key=key, Body=body, **sse_c(ck))
        self.objs[(bucket, key)] = (body, "sse-c", sse_c(ck))

    def count(self, kind):
        return sum(1 for v in self.objs.values() if v[1] == kind)

    def check(self, c):
        for (bucket, k), (body, kind, kw) in self.objs.items():
            g = c.get_object(Bucket=bucket, Key=k, **kw)
            assert g["Body"].read() == body, (bucket, k, kind)
            if kind == "sse-s3":
                assert g["ServerSideEncryption"] == "AES256"
            elif kind == "kms":
                assert g["ServerSideEncryption"] == "aws:kms"
            # a range across a segment boundary, too
            if len(body) > SEG + 2:
                r = c.get_object(Bucket=bucket, Key=k, Range=f"bytes={SEG - 2}-{SEG + 1}", **kw)
                assert r["Body"].read() == body[SEG - 2:SEG + 2], (bucket, k)


def wait_active_in_server(srv, c, ds, bucket, want_id, before):
    """After a rotation the running server re-reads the keyring (it checks the file at most
    about once a second). Upload SSE-S3 objects until one is wrapped under want_id, by
    polling `keys list`; returns how many were written."""
    deadline = time.monotonic() + POLL_TIMEOUT
    n = 0
    while True:
        k = f"after-{n}"
        body = os.urandom(50 + n)
        c.put_object(Bucket=bucket, Key=k, Body=body)
        ds.objs[(bucket, k)] = (body, "sse-s3", {})
        n += 1
        if key_list(srv)[want_id][1] > before:
            return n
        assert time.monotonic() < deadline, \
            f"the running server never wrapped a new object under {want_id}"
        time.sleep(0.1)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

def test_list_fresh_store(coffer_factory):
    srv = coffer_factory()
    ids = root_key_ids(srv.root_key)
    assert len(ids) == 1 and ID_RE.match(ids[0]), ids
    assert key_list(srv) == {ids[0]: ("active", 0, 0)}


def test_rotate_while_server_runs(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="rot")
    c.create_bucket(Bucket="rot2")
    ds = Dataset()
    ds.write(c, "rot", 8)
    ds.write(c, "rot2", 3, prefix="x")
    kms_arn = ds.write_kms(c, "rot")
    ds.write_ssec(c, "rot")
    n_s3 = ds.count("sse-s3")
    k1 = root_key_ids(srv.root_key)[0]
    assert key_list(srv) == {k1: ("active", n_s3, 1)}
    before = blob_hashes(srv.data_dir)
    assert before, "no blob files found"

    p = keys(srv.data_dir, srv.root_key, "rotate")
    assert p.returncode == 0, p
    k2 = new_key_id(p.stdout)
    assert p.stdout.splitlines()[0] == "new active root key " + k2, p.stdout
    assert k2 != k1
    assert rotation_summary(p.stdout, k2) == (n_s3, 1, 0)
    assert re.search(r"re-wrapped \d+ data keys under " + k2, p.stdout), p.stdout
    assert root_key_ids(srv.root_key) == [k1, k2]
    assert key_list(srv) == {k1: ("inactive", 0, 0), k2: ("active", n_s3, 1)}

    # metadata only: not one blob file changed, appeared or vanished
    assert blob_hashes(srv.data_dir) == before

    # everything still reads back through the running server
    ds.check(c)

    # new uploads end up under k2 once the server has seen the new keyring
    n_after = wait_active_in_server(srv, c, ds, "rot", k2, n_s3)
    # anything the server still wrapped under k1 in between is finished by rewrap
    out = keys_ok(srv, "rewrap")
    assert rotation_summary(out, k2)[2] == 0
    rows = key_list(srv)
    assert rows == {k1: ("inactive", 0, 0), k2: ("active", n_s3 + n_after, 1)}, rows

    # the KMS object is still under its KMS key, whose material moved to k2
    g = c.get_object(Bucket="rot", Key="kms-obj")
    assert g["SSEKMSKeyId"] == kms_arn
    ds.check(c)

    # retire: k1 goes, k2 (active) refuses
    out = keys_ok(srv, "retire", k1)
    assert out.strip() == "retired " + k1
    assert root_key_ids(srv.root_key) == [k2]
    assert not any(line.startswith(k1) for line in srv.root_key.read_text().splitlines())
    p = keys(srv.data_dir, srv.root_key, "retire", k2)
    assert p.returncode == 1, p
    assert root_key_ids(srv.root_key) == [k2]
    assert key_list(srv) == {k2: ("active", n_s3 + n_after, 1)}

    # the running server is still fine, and so is a restarted one (keyring without k1)
    ds.check(c)
    c.put_object(Bucket="rot", Key="late", Body=b"late")
    ds.objs[("rot", "late")] = (b"late", "sse-s3", {})
    srv.restart()
    c = srv.client()
    ds.check(c)
    assert c.put_object(Bucket="rot", Key="kms2", Body=b"k", ServerSideEncryption="aws:kms")[
        "SSEKMSKeyId"] == kms_arn
    rows = key_list(srv)
    assert rows[k2][1] == n_s3 + n_after + 1


def test_rotate_with_server_stopped_then_restart(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="rot")
    ds = Dataset()
    ds.write(c, "rot", 5)
    ds.write_kms(c, "rot", key_ref="alias/rotating")
    ds.write_kms(c, "rot", key="kms-default")
    ds.write_ssec(c, "rot")
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    before = blob_hashes(srv.data_dir)
    out = keys_ok(srv, "rotate")
    k2 = new_key_id(out)
    assert rotation_summary(out, k2) == (5, 2, 0)
    assert blob_hashes(srv.data_dir) == before
    keys_ok(srv, "retire", k1)
    srv.start()
    c = srv.client()
    ds.check(c)
    c.put_object(Bucket="rot", Key="new", Body=b"new")
    assert key_list(srv) == {k2: ("active", 6, 2)}


def test_rotate_twice(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="rot")
    ds = Dataset()
    ds.write(c, "rot", 4)
    ds.write_kms(c, "rot")
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    before = blob_hashes(srv.data_dir)
    k2 = new_key_id(keys_ok(srv, "rotate"))
    out = keys_ok(srv, "rotate")
    k3 = new_key_id(out)
    assert len({k1, k2, k3}) == 3
    assert rotation_summary(out, k3) == (4, 1, 0)
    assert key_list(srv) == {k1: ("inactive", 0, 0), k2: ("inactive", 0, 0),
                             k3: ("active", 4, 1)}
    keys_ok(srv, "retire", k2)
    keys_ok(srv, "retire", k1)
    assert root_key_ids(srv.root_key) == [k3]
    assert blob_hashes(srv.data_dir) == before
    srv.start()
    ds.check(srv.client())
    # ids are never reused: a fourth key has a fourth id, even though two were retired
    srv.stop()
    assert new_key_id(keys_ok(srv, "rotate")) not in (k1, k2, k3)


def test_retire_refusals(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="ret")
    k1 = root_key_ids(srv.root_key)[0]
    # the only (active) key, no data: refused
    p = keys(srv.data_dir, srv.root_key, "retire", k1)
    assert p.returncode == 1, p
    assert root_key_ids(srv.root_key) == [k1]
    # with data under it, before any rotation: refused
    c.put_object(Bucket="ret", Key="k", Body=b"data")
    p = keys(srv.data_dir, srv.root_key, "retire", k1)
    assert p.returncode == 1, p
    assert k1 in p.stderr
    assert root_key_ids(srv.root_key) == [k1]
    # an unknown id
    p = keys(srv.data_dir, srv.root_key, "retire", "rk9")
    assert p.returncode == 1, p
    assert c.get_object(Bucket="ret", Key="k")["Body"].read() == b"data"


def test_retire_refused_while_old_key_still_wraps(coffer_factory, tmp_path):
    """An object wrapped under the old key after a rotation (a server that had not yet
    seen the new key, simulated deterministically with a keyring copy that lacks it) keeps
    the old key from being retired until `keys rewrap` moves it."""
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="late")
    ds = Dataset()
    ds.write(c, "late", 3)
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    k2 = new_key_id(keys_ok(srv, "rotate"))
    # the same keys with the old one still active (the last line): what a server that had not
    # yet re-read the keyring file would use. A keyring without k2 would not start at all: the
    # data dir recorded k2 when it was made.
    lines = srv.root_key.read_text().splitlines()
    old_ring = tmp_path / "old-ring.key"
    old_ring.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
    os.chmod(old_ring, 0o600)
    assert key_list(srv) == {k1: ("inactive", 0, 0), k2: ("active", 3, 0)}

    # a server still on the old active key writes two objects under k1
    stale = coffer_factory(data_dir=srv.data_dir, root_key=old_ring,
                           workdir=tmp_path / "stale")
    sc = stale.client()
    for k in ("s1", "s2"):
        body = os.urandom(SEG + 1)
        sc.put_object(Bucket="late", Key=k, Body=body)
        ds.objs[("late", k)] = (body, "sse-s3", {})
    stale.stop()

    assert key_list(srv) == {k1: ("inactive", 2, 0), k2: ("active", 3, 0)}
    p = keys(srv.data_dir, srv.root_key, "retire", k1)
    assert p.returncode == 1, p
    assert "2 data keys" in p.stderr, p.stderr
    assert root_key_ids(srv.root_key) == [k1, k2]

    before = blob_hashes(srv.data_dir)
    out = keys_ok(srv, "rewrap")
    assert rotation_summary(out, k2) == (2, 0, 0)
    assert blob_hashes(srv.data_dir) == before
    assert key_list(srv) == {k1: ("inactive", 0, 0), k2: ("active", 5, 0)}
    # a second rewrap has nothing to do
    assert rotation_summary(keys_ok(srv, "rewrap"), k2) == (0, 0, 0)
    keys_ok(srv, "retire", k1)
    srv.start()
    ds.check(srv.client())


def test_rewrap_without_rotation_is_noop(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="noop")
    c.put_object(Bucket="noop", Key="k", Body=b"k")
    c.put_object(Bucket="noop", Key="m", Body=b"m", ServerSideEncryption="aws:kms")
    k1 = root_key_ids(srv.root_key)[0]
    out = keys_ok(srv, "rewrap")
    assert rotation_summary(out, k1) == (0, 0, 0)
    assert key_list(srv) == {k1: ("active", 1, 1)}
    assert c.get_object(Bucket="noop", Key="m")["Body"].read() == b"m"


def test_kms_keys_created_after_rotation_use_new_root(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="kmsrot")
    c.put_object(Bucket="kmsrot", Key="a", Body=b"a", ServerSideEncryption="aws:kms",
                 SSEKMSKeyId="alias/before")
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    k2 = new_key_id(keys_ok(srv, "rotate"))
    srv.start()
    c = srv.client()
    c.put_object(Bucket="kmsrot", Key="b", Body=b"b", ServerSideEncryption="aws:kms",
                 SSEKMSKeyId="alias/after")
    p = subprocess.run([COFFER_BIN, "kms", "create-key", "--data-dir", str(srv.data_dir),
                        "--root-key-file", str(srv.root_key)],
                       capture_output=True, text=True, env=server_env(), timeout=60)
    assert p.returncode == 0, p
    assert key_list(srv) == {k1: ("inactive", 0, 0), k2: ("active", 0, 3)}
    keys_ok(srv, "retire", k1)
    srv.restart()
    c = srv.client()
    assert c.get_object(Bucket="kmsrot", Key="a")["Body"].read() == b"a"
    assert c.get_object(Bucket="kmsrot", Key="b")["Body"].read() == b"b"


def test_missing_root_key_reported_by_list(coffer_factory, tmp_path):
    """Data wrapped by a key not in the keyring file shows up in `keys list`."""
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="miss")
    c.put_object(Bucket="miss", Key="k", Body=b"k")
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    k2 = new_key_id(keys_ok(srv, "rotate"))
    # a server with k1 still active writes one more object under k1 ...
    lines = srv.root_key.read_text().splitlines()
    old_ring = tmp_path / "old-ring.key"
    old_ring.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
    os.chmod(old_ring, 0o600)
    stale = coffer_factory(data_dir=srv.data_dir, root_key=old_ring, workdir=tmp_path / "stale")
    stale.client().put_object(Bucket="miss", Key="s", Body=b"s")
    stale.stop()
    # ... and k1 is then lost from the keyring file (edited by hand: retire would refuse)
    srv.root_key.write_text("\n".join([lines[0], lines[2]]) + "\n")
    out = keys_ok(srv, "list")
    assert re.search("^" + k1 + r"\tMISSING FROM KEYRING\t1 objects\t0 KMS keys$", out, re.M), out
    assert re.search("^" + k2 + r"\tactive\t1 objects\t0 KMS keys$", out, re.M), out


def test_interrupted_rotation_listed_as_pending_not_missing(coffer_factory):
    """`keys rotate` killed between recording its new key and writing it to the key file (found
    by the crash campaign, tests/crash/) leaves a pending record nothing depends on: `keys list`
    says so rather than MISSING FROM KEYRING, fsck is clean, and the next start forgets it."""
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="cut")
    c.put_object(Bucket="cut", Key="k", Body=b"kept")
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    ghost = "rk-00000000deadbeef"
    with sqlite3.connect(srv.data_dir / "coffer.db") as db:  # what the killed rotation left
        db.execute("INSERT INTO root_keys (id, kcv, pending, recorded_ms) VALUES (?, ?, 1, 0)",
                   (ghost, bytes(8)))
    db.close()
    out = keys_ok(srv, "list")
    assert out.splitlines() == [
        f"{k1}\tactive\t1 objects\t0 KMS keys",
        f"{ghost}\tPENDING ROTATION (never written to the keyring; the next start forgets it)"
        "\t0 objects\t0 KMS keys"], out
    p = subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(srv.data_dir), "--root-key-file",
                        str(srv.root_key)], capture_output=True, text=True, env=server_env())
    assert p.returncode == 0, p
    srv.start()
    assert "recorded by a rotation that did not write it" in srv.stderr_text()
    assert srv.client().get_object(Bucket="cut", Key="k")["Body"].read() == b"kept"
    assert key_list(srv) == {k1: ("active", 1, 0)}


@pytest.mark.parametrize("args", [["frobnicate"], ["retire"]])
def test_keys_usage_errors(coffer_factory, args):
    srv = coffer_factory(start=False)
    srv.start()
    srv.stop()
    p = keys(srv.data_dir, srv.root_key, *args)
    assert p.returncode == 2, p


def test_keys_no_subcommand(tmp_path):
    p = subprocess.run([COFFER_BIN, "keys", "--data-dir", str(tmp_path / "d"),
                        "--root-key-file", str(tmp_path / "rk")],
                       capture_output=True, text=True, env=server_env(), timeout=60)
    assert p.returncode == 2, p


def test_root_key_file_mode_kept(coffer_factory):
    import stat
    srv = coffer_factory()
    srv.stop()
    k1 = root_key_ids(srv.root_key)[0]
    keys_ok(srv, "rotate")
    assert stat.S_IMODE(srv.root_key.stat().st_mode) == 0o600
    keys_ok(srv, "retire", k1)
    assert stat.S_IMODE(srv.root_key.stat().st_mode) == 0o600
