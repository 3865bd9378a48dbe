"""Encryption at rest: no plaintext under the data dir, tampering detected,
range GETs decrypt only the segments they touch, wrong root key refused."""

import os
import re
from pathlib import Path

import pytest

from conftest import etag_of

SEG = 64 * 1024
BLOB_RE = re.compile(r"^[0-9a-f]{32}$")


def all_files(root):
    return [p for p in Path(root).rglob("*") if p.is_file()]


def blob_files(data_dir):
    return [p for p in all_files(Path(data_dir) / "blobs") if BLOB_RE.match(p.name)]


def test_data_dir_layout(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    c.create_bucket(Bucket="lay")
    c.put_object(Bucket="lay", Key="KEYNAME-marker/with/slashes", Body=b"x" * 100_000)
    c.put_object(Bucket="lay", Key="second", Body=b"")  # small: inline in coffer.db
    srv.stop()
    data = srv.data_dir
    assert (data / "coffer.db").is_file()
    assert (data / "blobs").is_dir()
    assert (data / "tmp").is_dir()
    blobs = blob_files(data)
    assert len(blobs) >= 1
    for b in blobs:
        rel = b.relative_to(data / "blobs").parts
        assert len(rel) == 3, rel
        assert re.fullmatch(r"[0-9a-f]{2}", rel[0]) and re.fullmatch(r"[0-9a-f]{2}", rel[1]), rel
    # nothing else in blobs/ but blob files and their two directory levels
    for p in (data / "blobs").rglob("*"):
        if p.is_file():
            assert BLOB_RE.match(p.name), p
    # object keys never become file names
    for p in data.rglob("*"):
        assert "KEYNAME" not in p.name and "second" not in p.name, p
    # the root key lives where it was told to, outside the data dir
    assert srv.root_key.is_file()
    assert not list(data.rglob("root.key"))


def test_plaintext_canary_never_on_disk(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    token = b"COFFER-CANARY-" + os.urandom(16).hex().encode()
    big = (token * (200 * 1024 // len(token) + 1))[:200 * 1024]
    small = (b"SMALL-CANARY-" + os.urandom(16).hex().encode())[:40]
    assert len(small) == 40
    mixed = os.urandom(3 * SEG + 12345)
    mixed = mixed[:70001] + token + mixed[70001:]
    c.create_bucket(Bucket="canary-a")
    c.create_bucket(Bucket="canary-b")
    c.put_object(Bucket="canary-a", Key="big", Body=big)
    c.put_object(Bucket="canary-b", Key="big-again", Body=big)
    c.put_object(Bucket="canary-a", Key="small", Body=small)
    c.put_object(Bucket="canary-b", Key="mixed", Body=mixed)
    c.copy_object(Bucket="canary-b", Key="copied", CopySource="canary-a/big")
    c.put_object(Bucket="canary-a", Key="deleted", Body=big)
    c.delete_object(Bucket="canary-a", Key="deleted")
    c.put_object(Bucket="canary-a", Key="overwritten", Body=big)
    c.put_object(Bucket="canary-a", Key="overwritten", Body=b"new")
    # sanity: the server really has the plaintext
    assert c.get_object(Bucket="canary-a", Key="big")["Body"].read() == big
    assert c.get_object(Bucket="canary-b", Key="copied")["Body"].read() == big
    assert c.get_object(Bucket="canary-a", Key="small")["Body"].read() == small
    assert c.get_object(Bucket="canary-b", Key="mixed")["Body"].read() == mixed
    srv.stop()

    needles = {
        "token": token,
        "token[:16]": token[:16],
        "small": small,
        "small[:16]": small[:16],
        "mixed[0:32]": mixed[:32],
        "mixed[SEG:SEG+32]": mixed[SEG:SEG + 32],
    }
    files = all_files(srv.data_dir)
    assert files, "data dir is empty?"
    total = 0
    for f in files:
        if f.resolve() == srv.root_key.resolve():
            continue
        data = f.read_bytes()
        total += len(data)
        for name, needle in needles.items():
            assert needle not in data, f"plaintext {name} found in {f}"
    # the stored bodies are there, just not readable
    assert total >= 2 * len(big)
    # and the server did not log bodies
    logs = (srv.stdout_path.read_bytes() + srv.stderr_path.read_bytes())
    for name, needle in needles.items():
        assert needle not in logs, f"plaintext {name} found in the server log"


def _single_blob(data_dir, min_size):
    blobs = [b for b in blob_files(data_dir) if b.stat().st_size >= min_size]
    assert len(blobs) == 1, blobs
    return blobs[0]


def _get(srv, path, rng=None):
    headers = {"Range": rng} if rng else {}
    return srv.http("GET", path, headers=headers, timeout=30)


def test_tampered_blob_detected(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    c.create_bucket(Bucket="tamper")
    original = os.urandom(3 * SEG)          # exactly three 64 KiB segments
    c.put_object(Bucket="tamper", Key="obj", Body=original)
    assert c.get_object(Bucket="tamper", Key="obj")["Body"].read() == original
    srv.stop()

    blob = _single_blob(srv.data_dir, 3 * SEG)
    raw = bytearray(blob.read_bytes())
    assert raw.find(original[SEG:SEG + 64]) < 0
    mid = len(raw) // 2                      # lies in the 2nd segment
    raw[mid] ^= 0x01
    blob.write_bytes(bytes(raw))

    srv.start()
    r = _get(srv, "/tamper/obj")
    if r.status < 500:
        assert r.status == 200
        assert r.error is not None, "a tampered object was served completely"
        assert len(r.body) < len(original)
        assert r.body == original[:len(r.body)], "unauthenticated bytes were sent"
    assert original[SEG:SEG + 32] not in r.body

    # a range inside the corrupted segment fails too
    r = _get(srv, "/tamper/obj", f"bytes={SEG + 10}-{SEG + 20}")
    if r.status < 500:
        assert r.error is not None and r.body == b"", r
    # the first segment alone is intact and authenticates
    r = _get(srv, "/tamper/obj", f"bytes=0-{SEG - 1}")
    assert r.status == 206, r
    assert r.error is None
    assert r.body == original[:SEG]
    r = _get(srv, "/tamper/obj", "bytes=100-200")
    assert r.status == 206 and r.body == original[100:201]
    # so is the last one
    r = _get(srv, "/tamper/obj", f"bytes={2 * SEG}-")
    assert r.status == 206, r
    assert r.error is None
    assert r.body == original[2 * SEG:]
    # the server survived all of this
    assert srv.client().head_object(Bucket="tamper", Key="obj")["ETag"] == etag_of(original)


@pytest.mark.parametrize("where", ["start", "end", "truncate"])
def test_damaged_blob_never_served(coffer_factory, tmp_path, where):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    c.create_bucket(Bucket="dmg")
    original = os.urandom(2 * SEG + 999)
    c.put_object(Bucket="dmg", Key="obj", Body=original)
    srv.stop()
    blob = _single_blob(srv.data_dir, 2 * SEG)
    raw = bytearray(blob.read_bytes())
    if where == "start":
        raw[0] ^= 0x80
    elif where == "end":
        raw[-1] ^= 0x80
    else:
        raw = raw[:-100]
    blob.write_bytes(bytes(raw))
    srv.start()
    r = _get(srv, "/dmg/obj")
    served_completely = r.status == 200 and r.error is None and r.body == original
    assert not served_completely, f"damage at {where} not detected"
    if r.status < 500:
        assert r.body == original[:len(r.body)], "unauthenticated bytes were sent"


def test_wrong_root_key(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    c.create_bucket(Bucket="wrongkey")
    plaintext = b"ROOTKEY-PLAINTEXT-" + os.urandom(8).hex().encode() * 100
    c.put_object(Bucket="wrongkey", Key="obj", Body=plaintext)
    srv.stop()
    key1 = srv.root_key.read_bytes()

    other = coffer_factory(data_dir=srv.data_dir, root_key=tmp_path / "other.key",
                           workdir=tmp_path / "w2", start=False)
    other.start(expect_ready=False)
    if not other.running:
        # refusing to start with a key that does not match the store is fine
        assert other.proc is None or other.proc.returncode != 0
        return
    assert (tmp_path / "other.key").read_bytes() != key1
    r = other.http("GET", "/wrongkey/obj", timeout=30)
    assert not (r.status == 200 and r.error is None), r
    assert plaintext[:32] not in r.body
    if r.status < 500:
        assert r.body == b""
    other.stop()
    # the right key still works
    srv.start()
    assert srv.client().get_object(Bucket="wrongkey", Key="obj")["Body"].read() == plaintext


def test_kms_api_secrets_never_on_disk(coffer_factory, tmp_path):
    """KMS API plaintexts (Encrypt's input, GenerateDataKey's data keys, GenerateRandom) are
    nowhere under the data dir or in the log, and each stored key material version is a
    wrapped one (93 bytes: version 1, salt, nonce, sealed key, tag), never the raw 32 bytes."""
    import base64
    import sqlite3

    import boto3
    from botocore.config import Config

    srv = coffer_factory(workdir=tmp_path / "w")
    kms = boto3.client("kms", endpoint_url=srv.endpoint, aws_access_key_id="test",
                       aws_secret_access_key="test", region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1}))
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    canary = b"KMS-CANARY-" + os.urandom(16).hex().encode()
    blob = kms.encrypt(KeyId=kid, Plaintext=canary)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == canary
    data_keys = [kms.generate_data_key(KeyId=kid, KeySpec="AES_256")["Plaintext"]]
    from test_kms_api import raw_kms
    assert raw_kms(srv.port, "RotateKeyOnDemand", {"KeyId": kid}).status == 200
    data_keys.append(kms.generate_data_key(KeyId=kid, NumberOfBytes=64)["Plaintext"])
    wp = kms.generate_data_key_without_plaintext(KeyId=kid, KeySpec="AES_256")
    data_keys.append(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"])
    random = kms.generate_random(NumberOfBytes=64)["Plaintext"]
    c = srv.client()
    c.create_bucket(Bucket="kms-at-rest")
    c.put_object(Bucket="kms-at-rest", Key="o", Body=canary, ServerSideEncryption="aws:kms",
                 SSEKMSKeyId=kid)
    srv.stop()

    needles = {"canary": canary, "canary[:16]": canary[:16], "random": random}
    for i, k in enumerate(data_keys):
        needles[f"data key {i}"] = k[:16]
        needles[f"data key {i} base64"] = base64.b64encode(k)[:16]
    for f in all_files(srv.data_dir):
        data = f.read_bytes()
        for name, needle in needles.items():
            assert needle not in data, f"{name} found in {f}"
    logs = srv.stdout_path.read_bytes() + srv.stderr_path.read_bytes()
    for name, needle in needles.items():
        assert needle not in logs, f"{name} found in the server log"
    db = sqlite3.connect(str(srv.data_dir / "coffer.db"))
    (material,) = db.execute("SELECT material FROM kms_keys WHERE id = ?", (kid,)).fetchone()
    db.close()
    assert len(material) == 2 * 93, len(material)      # versions 0 and 1
    assert material[0] == 1 and material[93] == 1
