"""The data dir knows its root keys (README: "Root keys and the data dir").

The data dir records the id and key check value of every root key it depends on. Started
with a keyring that lacks one of them (or holds another key under its id), coffer refuses
to start with exit status 3, names the key ids and the key file, and writes nothing. A new
root key is made only for a fresh data dir. An object whose root key is absent answers
503 KMS.KeyUnavailableException, and fsck and `keys list` report it."""

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import COFFER_BIN, error_of, server_env

EXIT_ROOT_KEYS = 3
ID_RE = re.compile(r"^rk-[0-9a-f]{16}$")
BUCKET = "guarded"


@pytest.fixture(autouse=True)
def _need_binary():
    if not os.path.exists(COFFER_BIN):
        pytest.skip(f"coffer binary not built: {COFFER_BIN}")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def ring_ids(path):
    return [line.split()[0] for line in Path(path).read_text().splitlines()
            if re.match(r"^[A-Za-z0-9_-]+ [0-9a-f]{64}$", line)]


def tree_hashes(*roots):
    """sha256 and mode of every file under (or at) roots; absent roots map to None."""
    out = {}
    for root in roots:
        root = Path(root)
        if root.is_file():
            files = [root]
        elif root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file())
        else:
            out[str(root)] = None
            continue
        for p in files:
            out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(),
                           stat.S_IMODE(p.stat().st_mode))
    return out


def run_coffer(*args, timeout=60):
    return subprocess.run([COFFER_BIN, *args], capture_output=True, text=True,
                          env=server_env(), timeout=timeout, stdin=subprocess.DEVNULL)


def start_refused(data_dir, key_file, *extra):
    """Starts a server that must refuse: returns (exit status, stdout + stderr)."""
    p = run_coffer("--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
                   "--root-key-file", str(key_file), *extra)
    return p.returncode, p.stdout + p.stderr


def keys_cmd(data_dir, key_file, *args):
    return run_coffer("keys", *args, "--data-dir", str(data_dir), "--root-key-file",
                      str(key_file), timeout=120)


def populated(coffer_factory, workdir, n=3):
    """A stopped server whose data dir holds SSE-S3 objects and an SSE-KMS object."""
    srv = coffer_factory(workdir=workdir)
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    bodies = {}
    for i in range(n):
        bodies[f"o{i}"] = os.urandom(100 + 70000 * i)
        c.put_object(Bucket=BUCKET, Key=f"o{i}", Body=bodies[f"o{i}"])
    bodies["kms"] = b"kms body"
    c.put_object(Bucket=BUCKET, Key="kms", Body=bodies["kms"], ServerSideEncryption="aws:kms")
    srv.stop()
    return srv, bodies


def check_reads(srv, bodies):
    c = srv.client()
    for k, body in bodies.items():
        assert c.get_object(Bucket=BUCKET, Key=k)["Body"].read() == body, k


def assert_refused(rc, out, key_file, ids):
    assert rc == EXIT_ROOT_KEYS, f"exit {rc}\n{out}"
    assert str(key_file) in out, out
    for i in ids:
        assert i in out, f"{i} not named\n{out}"
    assert "Ready." not in out, out


# --------------------------------------------------------------------------
# refusals: nothing is written, the message names the key ids and the file
# --------------------------------------------------------------------------

def test_missing_key_file_is_refused_not_replaced(coffer_factory, tmp_path):
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    ids = ring_ids(srv.root_key)
    missing = tmp_path / "typo" / "root.key"
    missing.parent.mkdir()
    before = tree_hashes(srv.data_dir, srv.root_key)
    rc, out = start_refused(srv.data_dir, missing)
    assert_refused(rc, out, missing, ids)
    assert not missing.exists(), "a new root key was made for a data dir that holds objects"
    assert list(missing.parent.iterdir()) == []
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    # the admin commands refuse the same way, and make no key either
    p = keys_cmd(srv.data_dir, missing, "rotate")
    assert_refused(p.returncode, p.stdout + p.stderr, missing, ids)
    assert not missing.exists()
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    # with the right file it serves as before
    srv.start()
    check_reads(srv, bodies)


def test_key_file_replaced_by_another_keyring(coffer_factory, tmp_path):
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    ids = ring_ids(srv.root_key)
    other = coffer_factory(workdir=tmp_path / "other")
    other.stop()
    original = srv.root_key.read_bytes()
    shutil.copyfile(other.root_key, srv.root_key)
    before = tree_hashes(srv.data_dir, srv.root_key)
    rc, out = start_refused(srv.data_dir, srv.root_key)
    assert_refused(rc, out, srv.root_key, ids)
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    srv.root_key.write_bytes(original)
    srv.start()
    check_reads(srv, bodies)


def test_same_id_different_key_is_refused(coffer_factory, tmp_path):
    """A keyring with the recorded id but another key (e.g. two data dirs from before ids were
    unique, both with "rk1"): the key check value tells them apart."""
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    (rid,) = ring_ids(srv.root_key)
    original = srv.root_key.read_bytes()
    srv.root_key.write_text("coffer-root-keyring v1\n" + rid + " " + os.urandom(32).hex() + "\n")
    before = tree_hashes(srv.data_dir, srv.root_key)
    rc, out = start_refused(srv.data_dir, srv.root_key)
    assert_refused(rc, out, srv.root_key, [rid])
    assert "check value" in out, out
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    srv.root_key.write_bytes(original)
    srv.start()
    check_reads(srv, bodies)


@pytest.mark.parametrize("cut", ["mid-key", "header-only", "empty", "one-key-of-two"])
def test_truncated_key_file(coffer_factory, tmp_path, cut):
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    if cut == "one-key-of-two":
        p = keys_cmd(srv.data_dir, srv.root_key, "rotate")
        assert p.returncode == 0, p
    ids = ring_ids(srv.root_key)
    original = srv.root_key.read_bytes()
    lines = original.decode().splitlines(keepends=True)
    truncated = {
        "mid-key": original[:len(original) - 20],
        "header-only": lines[0].encode(),
        "empty": b"",
        "one-key-of-two": "".join(lines[:2]).encode(),
    }[cut]
    srv.root_key.write_bytes(truncated)
    before = tree_hashes(srv.data_dir, srv.root_key)
    rc, out = start_refused(srv.data_dir, srv.root_key)
    # the key named is the one the file no longer holds (every key, when nothing parses)
    assert_refused(rc, out, srv.root_key, ids[1:] if cut == "one-key-of-two" else ids)
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    srv.root_key.write_bytes(original)
    srv.start()
    check_reads(srv, bodies)


def test_keyring_of_another_data_dir(coffer_factory, tmp_path):
    srv, bodies = populated(coffer_factory, tmp_path / "a")
    other, other_bodies = populated(coffer_factory, tmp_path / "b", n=1)
    ids = ring_ids(srv.root_key)
    before = tree_hashes(srv.data_dir, srv.root_key, other.data_dir, other.root_key)
    rc, out = start_refused(srv.data_dir, other.root_key)
    assert_refused(rc, out, other.root_key, ids)
    assert tree_hashes(srv.data_dir, srv.root_key, other.data_dir, other.root_key) == before
    srv.start()
    check_reads(srv, bodies)
    other.start()
    check_reads(other, other_bodies)


def test_key_file_permissions(coffer_factory, tmp_path):
    """Group/other access to the key file: the aws profile refuses to start, the localstack
    profile warns and serves."""
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    os.chmod(srv.root_key, 0o644)
    before = tree_hashes(srv.data_dir, srv.root_key)
    rc, out = start_refused(srv.data_dir, srv.root_key, "--profile", "aws")
    assert_refused(rc, out, srv.root_key, [])
    assert "0644" in out, out
    assert tree_hashes(srv.data_dir, srv.root_key) == before
    srv.start()
    assert "0644" in srv.stderr_text()
    check_reads(srv, bodies)
    srv.stop()
    assert stat.S_IMODE(srv.root_key.stat().st_mode) == 0o644  # coffer does not chmod it


# --------------------------------------------------------------------------
# what still starts
# --------------------------------------------------------------------------

def test_fresh_data_dir_gets_a_new_key(coffer_factory, tmp_path):
    key = tmp_path / "keys" / "root.key"
    key.parent.mkdir()
    srv = coffer_factory(data_dir=tmp_path / "data", root_key=key)
    ids = ring_ids(key)
    assert len(ids) == 1 and ID_RE.match(ids[0]), ids
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    c.put_object(Bucket=BUCKET, Key="k", Body=b"fresh")
    assert c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"fresh"
    srv.restart()
    assert ring_ids(key) == ids
    assert srv.client().get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"fresh"
    # each fresh data dir gets its own id
    other = coffer_factory(workdir=tmp_path / "other")
    assert ring_ids(other.root_key) != ids


def test_empty_bucket_only_data_dir_is_fresh(coffer_factory, tmp_path):
    """A data dir made before keys were recorded that holds buckets but nothing encrypted may
    get a new key; once it has recorded one, a missing key file is refused."""
    srv = coffer_factory(workdir=tmp_path / "w")
    srv.client().create_bucket(Bucket=BUCKET)
    srv.stop()
    ids = ring_ids(srv.root_key)
    db = srv.data_dir / "coffer.db"
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM root_keys")
    con.close()
    srv.root_key.unlink()
    srv.start()
    new_ids = ring_ids(srv.root_key)
    assert len(new_ids) == 1 and new_ids != ids
    srv.stop()
    moved = tmp_path / "moved.key"
    srv.root_key.rename(moved)
    rc, out = start_refused(srv.data_dir, srv.root_key)
    assert_refused(rc, out, srv.root_key, new_ids)
    assert not srv.root_key.exists()


def test_rotation_then_restart(coffer_factory, tmp_path):
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    (k1,) = ring_ids(srv.root_key)
    p = keys_cmd(srv.data_dir, srv.root_key, "rotate")
    assert p.returncode == 0, p.stdout + p.stderr
    k2 = re.search(r"^new active root key (\S+)$", p.stdout, re.M).group(1)
    assert ID_RE.match(k2) and k2 != k1
    srv.start()
    check_reads(srv, bodies)
    srv.client().put_object(Bucket=BUCKET, Key="after", Body=b"after")
    bodies["after"] = b"after"
    srv.stop()
    # both keys are recorded: a keyring holding only the old one is refused, naming the new one
    lines = srv.root_key.read_text().splitlines()
    old_only = tmp_path / "old-only.key"
    old_only.write_text(lines[0] + "\n" + lines[1] + "\n")
    os.chmod(old_only, 0o600)
    rc, out = start_refused(srv.data_dir, old_only)
    assert_refused(rc, out, old_only, [k2])
    m = re.search(r"lacks root keys that data dir \S+ depends on: (.*?); refusing", out)
    assert m and m.group(1) == k2, out
    # retiring the old key forgets it: the keyring without it starts
    p = keys_cmd(srv.data_dir, srv.root_key, "retire", k1)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ring_ids(srv.root_key) == [k2]
    srv.start()
    check_reads(srv, bodies)
    out = keys_cmd(srv.data_dir, srv.root_key, "list").stdout
    assert re.search("^" + k2 + r"\tactive\t\d+ objects\t1 KMS keys$", out, re.M), out
    assert k1 not in out


def test_legacy_counter_ids_are_kept(coffer_factory, tmp_path):
    """A keyring from before ids were random ("rk1") is used and recorded as it is."""
    key = tmp_path / "legacy.key"
    key.write_text("coffer-root-keyring v1\nrk1 " + os.urandom(32).hex() + "\n")
    os.chmod(key, 0o600)
    srv = coffer_factory(data_dir=tmp_path / "data", root_key=key)
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    c.put_object(Bucket=BUCKET, Key="k", Body=b"legacy")
    srv.restart()
    assert srv.client().get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"legacy"
    out = keys_cmd(srv.data_dir, key, "list").stdout
    assert out.splitlines() == ["rk1\tactive\t1 objects\t0 KMS keys"], out
    srv.stop()
    other = tmp_path / "other.key"
    other.write_text("coffer-root-keyring v1\nrk1 " + os.urandom(32).hex() + "\n")
    os.chmod(other, 0o600)
    rc, out = start_refused(srv.data_dir, other)
    assert_refused(rc, out, other, ["rk1"])


def test_first_start_records_an_existing_keyring(coffer_factory, tmp_path):
    """A data dir from a build that recorded nothing: the first start records its keyring,
    after which another keyring is refused."""
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    ids = ring_ids(srv.root_key)
    db = srv.data_dir / "coffer.db"
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM root_keys")
    con.close()
    srv.start()
    check_reads(srv, bodies)
    srv.stop()
    other = coffer_factory(workdir=tmp_path / "other")
    other.stop()
    rc, out = start_refused(srv.data_dir, other.root_key)
    assert_refused(rc, out, other.root_key, ids)


# --------------------------------------------------------------------------
# an object whose root key is absent: the S3 error, fsck and keys list
# --------------------------------------------------------------------------

def test_object_with_absent_root_key(coffer_factory, tmp_path):
    srv, bodies = populated(coffer_factory, tmp_path / "w")
    ghost = "rk-0123456789abcdef"
    # an object wrapped by a key this keyring never had (as a keyring lost before the data
    # dir recorded keys would leave it): nothing recorded it, so the server starts
    with sqlite3.connect(srv.data_dir / "coffer.db") as con:
        n = con.execute("UPDATE objects SET kek_id = ? WHERE bucket = ? AND key = 'o1'",
                        (ghost, BUCKET)).rowcount
        assert n == 1
        # and the KMS key of the SSE-KMS object, whose material the root key wraps
        assert con.execute("UPDATE kms_keys SET kek_id = ?", (ghost,)).rowcount == 1
    con.close()
    srv.start()
    c = srv.client()
    with pytest.raises(Exception) as e:
        c.get_object(Bucket=BUCKET, Key="o1")
    assert error_of(e) == (503, "KMS.KeyUnavailableException")
    r = srv.http("GET", f"/{BUCKET}/o1")
    assert r.status == 503 and b"<Code>KMS.KeyUnavailableException</Code>" in r.body, r
    assert ghost.encode() not in r.body  # the detail is logged, not sent
    assert ghost in srv.stderr_text()
    with pytest.raises(Exception) as e:
        c.get_object(Bucket=BUCKET, Key="kms")
    assert error_of(e) == (503, "KMS.KeyUnavailableException")
    # the other objects read as ever; HEAD needs no key
    assert c.head_object(Bucket=BUCKET, Key="o1")["ContentLength"] == len(bodies["o1"])
    check_reads(srv, {k: v for k, v in bodies.items() if k not in ("o1", "kms")})
    srv.stop()

    p = run_coffer("fsck", "--dry-run", "--data-dir", str(srv.data_dir), "--root-key-file",
                   str(srv.root_key), timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert re.search(rf"^key absent: s3://{BUCKET}/o1: .*{ghost}", out, re.M), out
    assert re.search(rf"^key absent: s3://{BUCKET}/kms: ", out, re.M), out
    assert re.search(r"\b0 damaged, .*\b2 with a root key absent", out), out
    out = keys_cmd(srv.data_dir, srv.root_key, "list").stdout
    assert re.search("^" + ghost + r"\tMISSING FROM KEYRING\t1 objects\t1 KMS keys$", out,
                     re.M), out
