"""Small objects inline in the metadata store (--inline-max, default 16 KiB): a body that small
is sealed exactly as a blob file would be (header, one AES-256-GCM segment, its tag, under its
own data key) and stored in an inline_blobs row of coffer.db written in the same transaction as
the object row, so no file is made for it. Checked here: where each size goes, that reads,
ranges, versions, copies and deletes behave as for files, that tampering with any byte class of
an inline blob fails the GET without sending a wrong byte, that no plaintext or customer key
lands anywhere under the data dir, that key rotation leaves the bodies alone, that fsck checks
and repairs them, that a kill loses no acknowledged inline write, and that a data dir from
before inline storage keeps its blob files."""

import base64
import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, error_of, inline_blob_ids, server_env

HDR = 40        # crypto/aead.h: blob header
TAG = 16        # GCM tag per segment
LIMIT = 16384   # default --inline-max


@pytest.fixture
def coffer(coffer_factory):
    """A server of its own (tests look into its data dir), default settings."""
    return coffer_factory()


def file_ids(data_dir):
    return {p.name for p in (Path(data_dir) / "blobs").rglob("*") if p.is_file()}


def db(data_dir):
    return sqlite3.connect(str(Path(data_dir) / "coffer.db"), timeout=30)


def inline_body(data_dir, blob_id):
    con = db(data_dir)
    row = con.execute("SELECT body FROM inline_blobs WHERE blob_id = ?", (blob_id,)).fetchone()
    con.close()
    return None if row is None else bytes(row[0])


def set_inline_body(data_dir, blob_id, body):
    con = db(data_dir)
    with con:
        n = con.execute("UPDATE inline_blobs SET body = ? WHERE blob_id = ?",
                        (body, blob_id)).rowcount
    con.close()
    assert n == 1


def blob_id_of(data_dir, bucket, key):
    con = db(data_dir)
    row = con.execute("SELECT blob_id FROM objects WHERE bucket = ? AND key = ?",
                      (bucket, key)).fetchone()
    con.close()
    return row[0]


def put_and_locate(srv, c, bucket, key, body, **kw):
    """PUT; returns ("inline" | "file", blob id): where the new blob went."""
    files, inl = file_ids(srv.data_dir), inline_blob_ids(srv.data_dir)
    c.put_object(Bucket=bucket, Key=key, Body=body, **kw)
    new_files = file_ids(srv.data_dir) - files
    new_inline = inline_blob_ids(srv.data_dir) - inl
    assert len(new_files) + len(new_inline) == 1, (new_files, new_inline)
    return ("inline", *new_inline) if new_inline else ("file", *new_files)


def run_coffer(*args, timeout=120):
    return subprocess.run([COFFER_BIN, *args], capture_output=True, text=True,
                          env=server_env(), timeout=timeout)


def fsck(srv, *extra):
    return run_coffer("fsck", "--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key),
                  *extra)


def test_where_each_size_goes_and_reads(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="inl")
    for size, where in ((0, "inline"), (1, "inline"), (4096, "inline"), (LIMIT, "inline"),
                        (LIMIT + 1, "file"), (200_000, "file")):
        body = os.urandom(size)
        got, blob = put_and_locate(coffer, c, "inl", f"k{size}", body)
        assert got == where, size
        if where == "inline":
            # exactly a blob file's bytes: header, the one segment, its tag
            assert len(inline_body(coffer.data_dir, blob)) == HDR + size + TAG
            # (a random byte or two shows up in 56 bytes of ciphertext by chance: only bodies
            # long enough that a match means plaintext are looked for)
            assert size < 16 or body not in inline_body(coffer.data_dir, blob)
        r = c.get_object(Bucket="inl", Key=f"k{size}")
        assert r["Body"].read() == body
        assert r["ContentLength"] == size
        assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
        assert c.head_object(Bucket="inl", Key=f"k{size}")["ContentLength"] == size
    body = c.get_object(Bucket="inl", Key="k4096")["Body"].read()
    r = c.get_object(Bucket="inl", Key="k4096", Range="bytes=100-199")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == "bytes 100-199/4096"
    assert r["Body"].read() == body[100:200]
    r = c.get_object(Bucket="inl", Key="k4096", Range="bytes=-10")
    assert r["Body"].read() == body[-10:]
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="inl", Key="k1", Range="bytes=5-9")
    assert error_of(ei) == (416, "InvalidRange")
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="inl")["Contents"]]
    assert len(keys) == 6
    # the aws CLI's and boto3's multipart-free upload of a small file is inline too
    assert len(inline_blob_ids(coffer.data_dir)) == 4
    assert sorted((coffer.data_dir / "tmp").iterdir()) == []


def test_inline_max_setting(coffer_factory, tmp_path):
    off = coffer_factory(extra_args=["--inline-max", "0"])
    c = off.client()
    c.create_bucket(Bucket="off")
    assert put_and_locate(off, c, "off", "tiny", b"x")[0] == "file"
    assert put_and_locate(off, c, "off", "empty", b"")[0] == "file"
    assert c.get_object(Bucket="off", Key="tiny")["Body"].read() == b"x"
    small = coffer_factory(env={"COFFER_INLINE_MAX": "1000"})
    c = small.client()
    c.create_bucket(Bucket="small")
    assert put_and_locate(small, c, "small", "at", os.urandom(1000))[0] == "inline"
    assert put_and_locate(small, c, "small", "over", os.urandom(1001))[0] == "file"
    # over the cap (one 64 KiB segment) and nonsense are refused at start-up
    for bad in ("65537", "-1", "32k"):
        p = run_coffer("--inline-max", bad, "--data-dir", str(tmp_path / "bad"), timeout=30)
        assert p.returncode != 0
        assert f"invalid value '{bad}' for --inline-max" in p.stderr


def test_no_plaintext_or_customer_key_on_disk(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="canary")
    canaries = {}
    for mode in ("s3", "kms", "c"):
        canaries[mode] = (f"INLINE-CANARY-{mode}-" + os.urandom(12).hex()).encode() * 20
    key = os.urandom(32)
    c.put_object(Bucket="canary", Key="s3", Body=canaries["s3"])
    c.put_object(Bucket="canary", Key="kms", Body=canaries["kms"], ServerSideEncryption="aws:kms")
    c.put_object(Bucket="canary", Key="c", Body=canaries["c"], SSECustomerAlgorithm="AES256",
                 SSECustomerKey=key)
    assert len(inline_blob_ids(coffer.data_dir)) == 3
    forbidden = list(canaries.values()) + [key, base64.b64encode(key), key.hex().encode(),
                                           hashlib.md5(key).digest(),
                                           base64.b64encode(hashlib.md5(key).digest())]

    def scan():
        for p in Path(coffer.data_dir).rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                for f in forbidden:
                    assert f not in data, (p, f[:24])

    scan()                  # the WAL, while the server runs
    coffer.stop()
    scan()                  # coffer.db after the checkpoint at exit
    coffer.start()
    c = coffer.client()
    assert c.get_object(Bucket="canary", Key="s3")["Body"].read() == canaries["s3"]
    assert c.get_object(Bucket="canary", Key="kms")["Body"].read() == canaries["kms"]
    assert c.get_object(Bucket="canary", Key="c", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)["Body"].read() == canaries["c"]


def test_sse_c_inline_wrong_key(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="ssec")
    key, wrong = os.urandom(32), os.urandom(32)
    body = os.urandom(3000)
    where, _ = put_and_locate(coffer, c, "ssec", "o", body, SSECustomerAlgorithm="AES256",
                              SSECustomerKey=key)
    assert where == "inline"
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="ssec", Key="o", SSECustomerAlgorithm="AES256", SSECustomerKey=wrong)
    assert error_of(ei) == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="ssec", Key="o", SSECustomerAlgorithm="AES256", SSECustomerKey=wrong)
    assert error_of(ei)[0] == 403
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="ssec", Key="o")
    assert error_of(ei) == (400, "InvalidRequest")
    assert c.get_object(Bucket="ssec", Key="o", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)["Body"].read() == body


def tamper_cases(size):
    end = HDR + size + TAG
    cases = [(f"header-{i}", "flip", i) for i in range(HDR)]
    cases += [("ct-first", "flip", HDR), ("ct-mid", "flip", HDR + size // 2),
              ("ct-last", "flip", HDR + size - 1), ("tag-first", "flip", end - TAG),
              ("tag-last", "flip", end - 1)]
    cases += [(f"truncate-{n}", "cut", n) for n in (0, 1, HDR - 1, HDR, HDR + 1, end - TAG,
                                                    end - 1)]
    cases += [("extend-1", "extend", 1), ("extend-tag", "extend", TAG)]
    return cases


def test_tamper_every_byte_class(coffer):
    """Each header byte; the first, middle and last ciphertext byte; the first and last tag
    byte; truncation at every boundary; extension; and another object's inline blob of the same
    size put in its place. Every GET (whole and ranged) fails, and sends no object byte."""
    c = coffer.client()
    c.create_bucket(Bucket="tamper")
    size = 5000
    body, other = os.urandom(size), os.urandom(size)
    c.put_object(Bucket="tamper", Key="victim", Body=body)
    c.put_object(Bucket="tamper", Key="other", Body=other)
    blob = blob_id_of(coffer.data_dir, "tamper", "victim")
    good = inline_body(coffer.data_dir, blob)
    swapped = inline_body(coffer.data_dir, blob_id_of(coffer.data_dir, "tamper", "other"))
    assert len(good) == HDR + size + TAG
    cases = tamper_cases(size) + [("swapped", "replace", swapped)]
    for name, how, arg in cases:
        bad = bytearray(good)
        if how == "flip":
            bad[arg] ^= 0x01
        elif how == "cut":
            del bad[arg:]
        elif how == "extend":
            bad += os.urandom(arg)
        else:
            bad = bytearray(arg)
        set_inline_body(coffer.data_dir, blob, bytes(bad))
        for rng in (None, "bytes=10-20", f"bytes={size - 5}-{size - 1}"):
            r = coffer.http("GET", "/tamper/victim", headers={"Range": rng} if rng else {},
                            timeout=30)
            # one segment, checked before the status line: a clean 500, no object header
            assert r.status == 500, (name, rng, r)
            assert b"<Code>InternalError</Code>" in r.body, (name, rng)
            assert body[:16] not in r.body and body[-16:] not in r.body, (name, rng)
            assert "ETag" not in r.headers and "Content-Range" not in r.headers, (name, r)
    set_inline_body(coffer.data_dir, blob, good)
    assert c.get_object(Bucket="tamper", Key="victim")["Body"].read() == body
    assert c.get_object(Bucket="tamper", Key="other")["Body"].read() == other


def test_versions_overwrites_and_deletes(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="ver")
    c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    bodies = [os.urandom(100 + i) for i in range(3)]
    vids = [c.put_object(Bucket="ver", Key="k", Body=b)["VersionId"] for b in bodies]
    assert len(inline_blob_ids(coffer.data_dir)) == 3
    for v, b in zip(vids, bodies):
        assert c.get_object(Bucket="ver", Key="k", VersionId=v)["Body"].read() == b
    c.delete_object(Bucket="ver", Key="k")            # a delete marker: versions stay
    assert len(inline_blob_ids(coffer.data_dir)) == 3
    c.delete_object(Bucket="ver", Key="k", VersionId=vids[1])
    assert len(inline_blob_ids(coffer.data_dir)) == 2
    assert c.get_object(Bucket="ver", Key="k", VersionId=vids[0])["Body"].read() == bodies[0]
    c.delete_objects(Bucket="ver", Delete={"Objects": [{"Key": "k", "VersionId": vids[0]},
                                                       {"Key": "k", "VersionId": vids[2]}]})
    assert inline_blob_ids(coffer.data_dir) == set()
    # unversioned: an overwrite drops the old inline blob in its own transaction
    c.create_bucket(Bucket="plain")
    c.put_object(Bucket="plain", Key="k", Body=b"one")
    (first,) = inline_blob_ids(coffer.data_dir)
    c.put_object(Bucket="plain", Key="k", Body=b"two")
    (second,) = inline_blob_ids(coffer.data_dir)
    assert first != second
    # a small body over a large one removes the file; a large one over a small one the row
    c.put_object(Bucket="plain", Key="k", Body=os.urandom(100_000))
    assert inline_blob_ids(coffer.data_dir) == set() and len(file_ids(coffer.data_dir)) == 1
    c.put_object(Bucket="plain", Key="k", Body=b"three")
    assert len(inline_blob_ids(coffer.data_dir)) == 1
    assert file_ids(coffer.data_dir) == set()
    c.delete_object(Bucket="plain", Key="k")
    assert inline_blob_ids(coffer.data_dir) == set()
    assert c.list_objects_v2(Bucket="plain")["KeyCount"] == 0


def test_copies_and_multipart(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="cpy")
    body = os.urandom(2000)
    c.put_object(Bucket="cpy", Key="src", Body=body, Metadata={"a": "1"})
    c.copy_object(Bucket="cpy", Key="dst", CopySource={"Bucket": "cpy", "Key": "src"})
    c.copy_object(Bucket="cpy", Key="src", CopySource={"Bucket": "cpy", "Key": "src"},
                  Metadata={"a": "2"}, MetadataDirective="REPLACE")
    assert len(inline_blob_ids(coffer.data_dir)) == 2
    assert c.get_object(Bucket="cpy", Key="dst")["Body"].read() == body
    r = c.get_object(Bucket="cpy", Key="src")
    assert r["Body"].read() == body and r["Metadata"] == {"a": "2"}
    # parts are always files, even small ones; the completed object reads across them
    files = file_ids(coffer.data_dir)
    up = c.create_multipart_upload(Bucket="cpy", Key="mp")["UploadId"]
    p1 = c.upload_part_copy(Bucket="cpy", Key="mp", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": "cpy", "Key": "src"},
                            CopySourceRange="bytes=0-999")["CopyPartResult"]["ETag"]
    assert len(file_ids(coffer.data_dir) - files) == 1
    assert len(inline_blob_ids(coffer.data_dir)) == 2
    c.complete_multipart_upload(Bucket="cpy", Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1}]})
    assert c.get_object(Bucket="cpy", Key="mp")["Body"].read() == body[:1000]


def test_key_rotation_leaves_inline_bodies(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="rot")
    body = os.urandom(700)
    c.put_object(Bucket="rot", Key="k", Body=body)
    coffer.stop()
    con = db(coffer.data_dir)
    before = con.execute("SELECT i.body, o.wrapped_dek, o.kek_id FROM inline_blobs i JOIN objects"
                         " o ON o.blob_id = i.blob_id").fetchone()
    con.close()
    p = coffer_cli_keys(coffer, "rotate")
    assert p.returncode == 0, p.stderr
    con = db(coffer.data_dir)
    after = con.execute("SELECT i.body, o.wrapped_dek, o.kek_id FROM inline_blobs i JOIN objects"
                        " o ON o.blob_id = i.blob_id").fetchone()
    con.close()
    assert after[0] == before[0]                        # the body is not rewritten
    assert after[1] != before[1] and after[2] != before[2]   # its data key is re-wrapped
    coffer.start()
    assert coffer.client().get_object(Bucket="rot", Key="k")["Body"].read() == body


def coffer_cli_keys(srv, *args):
    return run_coffer("keys", *args, "--data-dir", str(srv.data_dir), "--root-key-file",
                  str(srv.root_key))


def test_fsck_checks_and_repairs_inline(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="fsk")
    c.put_object(Bucket="fsk", Key="a", Body=b"a" * 300)
    c.put_object(Bucket="fsk", Key="b", Body=os.urandom(100_000))
    coffer.stop()
    p = fsck(coffer)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 objects checked" in p.stdout and " 0 damaged" in p.stdout
    blob = blob_id_of(coffer.data_dir, "fsk", "a")
    good = inline_body(coffer.data_dir, blob)
    bad = bytearray(good)
    bad[HDR + 10] ^= 0x80
    set_inline_body(coffer.data_dir, blob, bytes(bad))
    p = fsck(coffer)
    assert p.returncode != 0
    assert f"damaged: s3://fsk/a ({blob})" in p.stdout, p.stdout
    set_inline_body(coffer.data_dir, blob, good)
    # an inline row no object refers to: reported; removed unless --dry-run
    orphan = os.urandom(16).hex()
    con = db(coffer.data_dir)
    with con:
        con.execute("INSERT INTO inline_blobs VALUES (?, ?)", (orphan, good))
    con.close()
    p = fsck(coffer, "--dry-run")
    assert f"unreferenced: inline blob {orphan}" in p.stdout, p.stdout
    assert orphan in inline_blob_ids(coffer.data_dir)
    p = fsck(coffer)
    assert f"unreferenced, removed: inline blob {orphan}" in p.stdout, p.stdout
    assert orphan not in inline_blob_ids(coffer.data_dir)
    assert blob in inline_blob_ids(coffer.data_dir)
    p = fsck(coffer)
    assert p.returncode == 0 and "0 unreferenced" in p.stdout, p.stdout
    coffer.start()
    assert coffer.client().get_object(Bucket="fsk", Key="a")["Body"].read() == b"a" * 300


def test_kill_loses_no_acknowledged_inline_write(coffer):
    c = coffer.client()
    c.create_bucket(Bucket="kill")
    acked = {}
    for i in range(40):
        acked[f"k{i}"] = os.urandom(50 * i)
        c.put_object(Bucket="kill", Key=f"k{i}", Body=acked[f"k{i}"])
    coffer.kill()
    coffer.start()
    c = coffer.client()
    for k, v in acked.items():
        assert c.get_object(Bucket="kill", Key=k)["Body"].read() == v
    assert fsck(coffer, "--dry-run").returncode == 0


def test_data_dir_from_before_inline_storage(coffer_factory):
    """Schema 11 (no inline_blobs): it migrates in place; its small objects stay blob files and
    read back; new small objects go inline; an overwrite removes the old file."""
    srv = coffer_factory(extra_args=["--inline-max", "0"])
    c = srv.client()
    c.create_bucket(Bucket="old")
    old = {f"o{i}": os.urandom(10 * i) for i in range(5)}
    for k, v in old.items():
        c.put_object(Bucket="old", Key=k, Body=v)
    srv.stop()
    files = file_ids(srv.data_dir)
    assert len(files) == 5
    con = db(srv.data_dir)
    con.executescript("DROP TABLE inline_blobs; PRAGMA user_version = 11;")
    con.close()
    srv.extra_args = []
    srv.start()
    c = srv.client()
    for k, v in old.items():
        assert c.get_object(Bucket="old", Key=k)["Body"].read() == v
    assert file_ids(srv.data_dir) == files
    c.put_object(Bucket="old", Key="new", Body=b"new")
    assert len(inline_blob_ids(srv.data_dir)) == 1
    c.put_object(Bucket="old", Key="o3", Body=b"replaced")
    assert len(file_ids(srv.data_dir)) == 4
    assert c.get_object(Bucket="old", Key="o3")["Body"].read() == b"replaced"
    con = db(srv.data_dir)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 12
    con.close()


def test_lowering_the_limit_keeps_inline_objects_readable(coffer_factory):
    """Objects stored inline stay readable after a restart with --inline-max 0 (reads look for a
    small blob inline whatever the setting); new small bodies then go to files, and an overwrite
    drops the old inline row."""
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="lower")
    bodies = {f"k{i}": os.urandom(100 * i + 1) for i in range(4)}
    for k, v in bodies.items():
        c.put_object(Bucket="lower", Key=k, Body=v)
    assert len(inline_blob_ids(srv.data_dir)) == 4
    srv.stop()
    srv.extra_args = ["--inline-max", "0"]
    srv.start()
    c = srv.client()
    for k, v in bodies.items():
        assert c.get_object(Bucket="lower", Key=k)["Body"].read() == v
    assert put_and_locate(srv, c, "lower", "new", b"small")[0] == "file"
    c.put_object(Bucket="lower", Key="k1", Body=b"over")
    assert len(inline_blob_ids(srv.data_dir)) == 3
    assert c.get_object(Bucket="lower", Key="k1")["Body"].read() == b"over"
    srv.stop()
    p = fsck(srv)
    assert p.returncode == 0 and "5 objects checked" in p.stdout, p.stdout
