"""Blobs kept upstream (issue 16): the object tests run over both blob stores, local files and
an S3-compatible upstream (Ceph RGW, started once by test.sh with scripts/ceph-dev.sh), and the
upstream's stored objects are checked the way the data dir is: only random ids and ciphertext.

COFFER_TEST_RGW names the RGW endpoint (user test/test), COFFER_TEST_CEPH_DIR the cluster's
directory (for stopping and starting the gateway). Without them the upstream cases skip, with
the reason.
"""

import base64
import hashlib
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import (COFFER_BIN, REPO, CofferServer, error_of, inline_blob_ids, make_s3,
                      raw_request, server_env, sigv4_headers)

RGW = os.environ.get("COFFER_TEST_RGW")
CEPH_DIR = os.environ.get("COFFER_TEST_CEPH_DIR")
UP_BUCKET = "coffer-upstream-tests"
MiB = 1024 * 1024
PART = 5 * MiB                  # --blob-store-part-size: S3's smallest, so parts come cheap
HDR, SEG, TAG = 40, 65536, 16   # blob format: header, plaintext segment, GCM tag
ID_RE = re.compile(r"^[0-9a-f]{32}$")
NO_RGW = ("no Ceph cluster: test.sh starts one with scripts/ceph-dev.sh and sets "
          "COFFER_TEST_RGW (Ceph packages missing, or the cluster did not start)")


@pytest.fixture(scope="module")
def upstream():
    if not RGW:
        pytest.skip(NO_RGW)
    c = make_s3(RGW)
    try:
        c.create_bucket(Bucket=UP_BUCKET)
    except ClientError as e:
        if error_of(e)[1] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    return c


class Store:
    """A coffer server over one blob store, and a look at what that store holds."""

    def __init__(self, kind, srv, upstream=None, prefix=None):
        self.kind, self.srv, self.up, self.prefix = kind, srv, upstream, prefix

    def blob_ids(self):
        """Ids of the blobs the store holds (files or upstream objects), inline rows aside."""
        if self.kind == "file":
            return {p.name for p in (self.srv.data_dir / "blobs").rglob("*")
                    if p.is_file() and ID_RE.match(p.name)}
        return {k[len(self.prefix) + len("blobs/"):] for k in self.up_keys()}

    def up_keys(self, sub="blobs/"):
        keys = []
        for page in self.up.get_paginator("list_objects_v2").paginate(Bucket=UP_BUCKET,
                                                                      Prefix=self.prefix + sub):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def read_blob(self, blob):
        if self.kind == "file":
            return (self.srv.data_dir / "blobs" / blob[:2] / blob[2:4] / blob).read_bytes()
        return self.up.get_object(Bucket=UP_BUCKET, Key=self.key(blob))["Body"].read()

    def write_blob(self, blob, data):
        if self.kind == "file":
            path = self.srv.data_dir / "blobs" / blob[:2] / blob[2:4] / blob
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            self.up.put_object(Bucket=UP_BUCKET, Key=self.key(blob), Body=data)

    def key(self, blob):
        return f"{self.prefix}blobs/{blob}"

    def fsck(self, *extra):
        return subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(self.srv.data_dir),
                               "--root-key-file", str(self.srv.root_key), *store_args(self),
                               *extra],
                              capture_output=True, text=True, env=server_env(up_env()),
                              timeout=300)


def up_env():
    return {"COFFER_BLOB_STORE_ACCESS_KEY_ID": "test",
            "COFFER_BLOB_STORE_SECRET_ACCESS_KEY": "test"}


def store_args(st):
    if st.kind == "file":
        return []
    return ["--blob-store", f"s3://{UP_BUCKET}/{st.prefix.rstrip('/')}",
            "--blob-store-endpoint", RGW, "--blob-store-part-size", str(PART),
            "--blob-store-retry-seconds", "2"]


@pytest.fixture(params=["file", "s3"])
def store(request, coffer_factory):
    """The object tests' server: over local files, then over the upstream (own prefix each)."""
    kind = request.param
    up = request.getfixturevalue("upstream") if kind == "s3" else None
    st = Store(kind, None, up, f"t-{uuid.uuid4().hex[:12]}/" if kind == "s3" else None)
    st.srv = coffer_factory(extra_args=store_args(st), env=up_env())
    return st


def body_of(n, seed=b""):
    """n bytes that differ per position (a misplaced segment shows)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def new_customer_key():
    return uuid.uuid4().hex     # 32 bytes, as boto3 takes it (a str; it adds the MD5)


def sse_c(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


# ---------------------------------------------------------------- objects

SIZES = [0, 1, 16384, 16385, 3 * SEG + 7, PART, PART + 1, 2 * PART + 123]


def test_objects_round_trip(store):
    c = store.srv.client()
    c.create_bucket(Bucket="obj")
    for n in SIZES:
        body = body_of(n, b"%d" % n)
        r = c.put_object(Bucket="obj", Key=f"k{n}", Body=body)
        assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
        g = c.get_object(Bucket="obj", Key=f"k{n}")
        assert g["Body"].read() == body, n
        assert g["ContentLength"] == n
        assert c.head_object(Bucket="obj", Key=f"k{n}")["ContentLength"] == n
    # every body over the inline limit is one blob in the store; the rest are inline rows
    assert len(store.blob_ids()) == sum(1 for n in SIZES if n > 16384)
    assert len(inline_blob_ids(store.srv.data_dir)) == sum(1 for n in SIZES if n <= 16384)
    # the same after a restart
    store.srv.restart()
    c = store.srv.client()
    for n in SIZES:
        assert c.get_object(Bucket="obj", Key=f"k{n}")["Body"].read() == body_of(n, b"%d" % n)


RANGES = [(0, 0), (1, 1), (HDR, HDR), (SEG - 1, SEG), (SEG, 2 * SEG - 1), (PART - 5, PART + 5),
          (0, 2 * PART + 122), (2 * PART + 100, 2 * PART + 122), (3 * SEG + 1, 3 * SEG + 1)]


def test_ranges(store):
    c = store.srv.client()
    c.create_bucket(Bucket="rng")
    n = 2 * PART + 123
    body = body_of(n)
    c.put_object(Bucket="rng", Key="k", Body=body)
    for a, b in RANGES:
        r = c.get_object(Bucket="rng", Key="k", Range=f"bytes={a}-{b}")
        assert r["Body"].read() == body[a:b + 1], (a, b)
        assert r["ContentRange"] == f"bytes {a}-{b}/{n}"
    assert c.get_object(Bucket="rng", Key="k", Range="bytes=-100")["Body"].read() == body[-100:]
    assert c.get_object(Bucket="rng", Key="k",
                        Range=f"bytes={n - 70000}-")["Body"].read() == body[n - 70000:]
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="rng", Key="k", Range=f"bytes={n}-")
    assert error_of(ei) == (416, "InvalidRange")
    # a ranged read that stops early leaves the server serving
    r = c.get_object(Bucket="rng", Key="k")
    assert r["Body"].read(1000) == body[:1000]
    r["Body"].close()
    assert c.get_object(Bucket="rng", Key="k", Range="bytes=5-9")["Body"].read() == body[5:10]


@pytest.mark.parametrize("mode", ["SSE-S3", "SSE-KMS", "SSE-C"])
def test_multipart_every_sse_mode(store, mode):
    c = store.srv.client()
    c.create_bucket(Bucket="mpu")
    key = new_customer_key()
    extra = {"SSE-S3": {"ServerSideEncryption": "AES256"},
             "SSE-KMS": {"ServerSideEncryption": "aws:kms"},
             "SSE-C": sse_c(key)}[mode]
    part_extra = sse_c(key) if mode == "SSE-C" else {}
    up = c.create_multipart_upload(Bucket="mpu", Key="m", **extra)
    parts = [body_of(PART + 11, b"p1"), body_of(PART, b"p2"), body_of(70000, b"p3")]
    done = []
    for i, p in enumerate(parts, 1):
        r = c.upload_part(Bucket="mpu", Key="m", UploadId=up["UploadId"], PartNumber=i, Body=p,
                          **part_extra)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    c.complete_multipart_upload(Bucket="mpu", Key="m", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    whole = b"".join(parts)
    g = c.get_object(Bucket="mpu", Key="m", **part_extra)
    assert g["Body"].read() == whole
    a = PART + 11 - 3
    g = c.get_object(Bucket="mpu", Key="m", Range=f"bytes={a}-{a + PART}", **part_extra)
    assert g["Body"].read() == whole[a:a + PART + 1]
    assert len(store.blob_ids()) == 3
    if mode == "SSE-C":
        with pytest.raises(ClientError) as ei:
            c.get_object(Bucket="mpu", Key="m", **sse_c(new_customer_key()))
        assert error_of(ei)[0] == 403


def test_copy_and_part_copy(store):
    c = store.srv.client()
    c.create_bucket(Bucket="cpy")
    body = body_of(PART + 4000, b"copy")
    c.put_object(Bucket="cpy", Key="src", Body=body)
    c.copy_object(Bucket="cpy", Key="dst", CopySource={"Bucket": "cpy", "Key": "src"})
    assert c.get_object(Bucket="cpy", Key="dst")["Body"].read() == body
    key = new_customer_key()
    c.copy_object(Bucket="cpy", Key="dst-c", CopySource={"Bucket": "cpy", "Key": "src"},
                  **sse_c(key))
    assert c.get_object(Bucket="cpy", Key="dst-c", **sse_c(key))["Body"].read() == body
    up = c.create_multipart_upload(Bucket="cpy", Key="pc")
    r1 = c.upload_part_copy(Bucket="cpy", Key="pc", UploadId=up["UploadId"], PartNumber=1,
                            CopySource={"Bucket": "cpy", "Key": "src"},
                            CopySourceRange=f"bytes=100-{PART + 99}")
    r2 = c.upload_part_copy(Bucket="cpy", Key="pc", UploadId=up["UploadId"], PartNumber=2,
                            CopySource={"Bucket": "cpy", "Key": "src"},
                            CopySourceRange="bytes=0-99")
    c.complete_multipart_upload(
        Bucket="cpy", Key="pc", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
                                   {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert c.get_object(Bucket="cpy", Key="pc")["Body"].read() == body[100:PART + 100] + body[:100]


def wait_until(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


# ---------------------------------------------------------------- how a blob goes up

def start_put(port, path, body, timeout=30):
    """A socket on which a signed PUT of body (with its Content-Length) has sent its headers and
    nothing of the body yet."""
    host = f"127.0.0.1:{port}"
    headers = sigv4_headers("PUT", host, path, {}, body)
    headers.update({"Host": host, "Content-Length": str(len(body))})
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(f"PUT {path} HTTP/1.1\r\n".encode() +
                 "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")
    return sock


def read_head(sock):
    """The answer's status line and headers (or what came before the connection closed)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def chunked_put(port, path, body, piece=256 * 1024):
    """PUT with Transfer-Encoding: chunked and no Content-Length: the size is unknown until
    the end (signed with the whole body's SHA-256, which coffer checks at the end)."""
    host = f"127.0.0.1:{port}"
    headers = sigv4_headers("PUT", host, path, {}, body)
    headers["Host"] = host
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("PUT", path, body=(body[i:i + piece] for i in range(0, len(body), piece)),
                     headers=headers, encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_known_size_is_one_streamed_put_unknown_size_goes_in_parts(s3store):
    """A body whose length the request gives goes up as one PUT while it arrives (the upstream
    object's ETag is a plain MD5); one sent with Transfer-Encoding: chunked, size unknown, as a
    multipart upload of --blob-store-part-size parts (ETag "-N")."""
    store = s3store
    c = store.srv.client()
    c.create_bucket(Bucket="how")
    n = 2 * PART + 123
    known = body_of(n, b"known")
    c.put_object(Bucket="how", Key="known", Body=known)
    (blob,) = store.blob_ids()
    head = store.up.head_object(Bucket=UP_BUCKET, Key=store.key(blob))
    assert head["ContentLength"] == HDR + n + (n // SEG + 1) * TAG
    assert "-" not in head["ETag"], head["ETag"]
    assert hashlib.md5(store.read_blob(blob)).hexdigest() == head["ETag"].strip('"')

    unknown = body_of(n, b"unknown")
    status, answer = chunked_put(store.srv.port, "/how/unknown", unknown)
    assert status == 200, answer
    (blob2,) = store.blob_ids() - {blob}
    head2 = store.up.head_object(Bucket=UP_BUCKET, Key=store.key(blob2))
    assert head2["ContentLength"] == head["ContentLength"]
    assert head2["ETag"].endswith('-3"'), head2["ETag"]    # 5 MiB, 5 MiB, the rest
    for key, body in (("known", known), ("unknown", unknown)):
        g = c.get_object(Bucket="how", Key=key)
        assert g["Body"].read() == body
        assert g["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    # a copy (its size known from the source) and a part copy are streamed too
    c.copy_object(Bucket="how", Key="copy", CopySource={"Bucket": "how", "Key": "unknown"})
    (blob3,) = store.blob_ids() - {blob, blob2}
    assert "-" not in store.up.head_object(Bucket=UP_BUCKET, Key=store.key(blob3))["ETag"]
    assert c.get_object(Bucket="how", Key="copy")["Body"].read() == unknown
    assert store.up.list_multipart_uploads(Bucket=UP_BUCKET,
                                           Prefix=store.prefix).get("Uploads", []) == []


def test_a_streamed_put_that_fails_leaves_nothing_upstream(s3store):
    """A streamed PUT that fails leaves nothing upstream and the old version in place: a wrong
    Content-MD5 (checked once the blob is committed: the new blob is then deleted), a client
    gone mid-body (the upstream PUT is cut short and never completes)."""
    store = s3store
    c = store.srv.client()
    c.create_bucket(Bucket="fail")
    old = body_of(PART + 10, b"old")
    c.put_object(Bucket="fail", Key="k", Body=old)
    before = store.blob_ids()
    # a stored size of a whole number of MiB: the last 1 MiB send would complete the blob
    n = 10 * MiB - HDR - 160 * TAG
    assert HDR + n + (n // SEG + 1) * TAG == 10 * MiB
    body = body_of(n, b"new")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as ei:
        c.put_object(Bucket="fail", Key="k", Body=body, ContentMD5=wrong)
    assert error_of(ei) == (400, "BadDigest")
    assert store.blob_ids() == before

    # a client that sends headers and half the body, then goes away
    sock = start_put(store.srv.port, "/fail/k", body)
    sock.sendall(body[:PART + PART // 2])
    time.sleep(0.5)
    sock.close()
    # coffer drops the upstream request; RGW never gets the full length
    time.sleep(1.0)
    assert store.blob_ids() == before
    assert store.up.list_multipart_uploads(Bucket=UP_BUCKET,
                                           Prefix=store.prefix).get("Uploads", []) == []
    assert c.get_object(Bucket="fail", Key="k")["Body"].read() == old


def test_a_streamed_put_waits_for_a_slow_client(s3store):
    """A client that stops for 32 s in the middle of a large body (longer than the 30 s in
    which coffer gives up on a store that takes nothing, shorter than its 60 s body timeout)
    still gets its object: the upstream request waits with it."""
    store = s3store
    c = store.srv.client()
    c.create_bucket(Bucket="slow")
    n = PART + MiB
    body = body_of(n, b"slow")
    sock = start_put(store.srv.port, "/slow/k", body, timeout=90)
    try:
        sock.sendall(body[:MiB + 12345])
        time.sleep(32)
        sock.sendall(body[MiB + 12345:])
        answer = read_head(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert c.get_object(Bucket="slow", Key="k")["Body"].read() == body
    (blob,) = store.blob_ids()
    assert "-" not in store.up.head_object(Bucket=UP_BUCKET, Key=store.key(blob))["ETag"]


@pytest.mark.parametrize("declared", [2 * PART, 2 * PART + 100, 2 * PART - 100])
def test_aws_chunked_body_and_its_declared_length(store, declared):
    """aws-chunked with x-amz-decoded-content-length: stored whole (upstream, streamed as one
    PUT) when it matches the bytes sent; otherwise 400 IncompleteBody on both stores (upstream,
    the streamed PUT is cut), nothing stored."""
    c = store.srv.client()
    c.create_bucket(Bucket="len")
    data = body_of(2 * PART, b"framed")
    framed = b"".join(b"%x\r\n" % len(data[i:i + SEG]) + data[i:i + SEG] + b"\r\n"
                      for i in range(0, len(data), SEG)) + b"0\r\n\r\n"
    r = raw_request(store.srv.port, "PUT", "/len/k", body=framed, auth=None,
                    headers={"Content-Encoding": "aws-chunked",
                             "x-amz-decoded-content-length": str(declared),
                             "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
    if declared == len(data):
        assert r.status == 200, r
        assert r.header("ETag") == '"%s"' % hashlib.md5(data).hexdigest()
        assert c.get_object(Bucket="len", Key="k")["Body"].read() == data
        (blob,) = store.blob_ids()
        if store.kind == "s3":
            etag = store.up.head_object(Bucket=UP_BUCKET, Key=store.key(blob))["ETag"]
            assert "-" not in etag, etag
        return
    assert r.status == 400, r
    assert b"<Code>IncompleteBody</Code>" in r.body, r
    assert store.blob_ids() == set()
    assert c.list_objects_v2(Bucket="len").get("KeyCount") == 0


def test_versioning_and_delete_remove_blobs(store):
    c = store.srv.client()
    c.create_bucket(Bucket="ver")
    c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    bodies = [body_of(100_000 + i, b"v%d" % i) for i in range(3)]
    vids = [c.put_object(Bucket="ver", Key="k", Body=b)["VersionId"] for b in bodies]
    assert len(store.blob_ids()) == 3
    for v, b in zip(vids, bodies):
        assert c.get_object(Bucket="ver", Key="k", VersionId=v)["Body"].read() == b
    before = store.blob_ids()
    c.delete_object(Bucket="ver", Key="k", VersionId=vids[1])
    assert wait_until(lambda: len(store.blob_ids()) == 2)
    assert store.blob_ids() < before
    c.delete_object(Bucket="ver", Key="k")   # a delete marker: the versions stay
    assert len(store.blob_ids()) == 2
    assert c.get_object(Bucket="ver", Key="k", VersionId=vids[2])["Body"].read() == bodies[2]
    # unversioned: an overwrite and a delete each remove the blob they replace
    c.create_bucket(Bucket="plain")
    c.put_object(Bucket="plain", Key="k", Body=body_of(200_000, b"a"))
    c.put_object(Bucket="plain", Key="k", Body=body_of(200_000, b"b"))
    assert wait_until(lambda: len(store.blob_ids()) == 3)
    c.delete_object(Bucket="plain", Key="k")
    assert wait_until(lambda: len(store.blob_ids()) == 2)
    c.delete_objects(Bucket="ver", Delete={"Objects": [{"Key": "k", "VersionId": v}
                                                       for v in (vids[0], vids[2])]})
    assert wait_until(lambda: len(store.blob_ids()) == 0)


def test_fsck_finds_damage_and_removes_orphans(store):
    c = store.srv.client()
    c.create_bucket(Bucket="fsk")
    body = body_of(3 * SEG + 5, b"fsck")
    c.put_object(Bucket="fsk", Key="a", Body=body)
    c.put_object(Bucket="fsk", Key="b", Body=b"small")
    store.srv.stop()
    p = store.fsck()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 objects checked" in p.stdout and " 0 damaged" in p.stdout, p.stdout
    (blob,) = store.blob_ids()
    good = store.read_blob(blob)
    bad = bytearray(good)
    bad[HDR + SEG + TAG + 7] ^= 0x01          # a byte of the second segment
    store.write_blob(blob, bytes(bad))
    p = store.fsck()
    assert p.returncode != 0
    assert f"damaged: s3://fsk/a ({blob})" in p.stdout, p.stdout
    store.write_blob(blob, good)
    orphan = os.urandom(16).hex()
    store.write_blob(orphan, good)
    p = store.fsck("--dry-run")
    assert f"unreferenced: blob {orphan}" in p.stdout, p.stdout
    assert orphan in store.blob_ids()
    p = store.fsck()
    assert f"unreferenced, removed: blob {orphan}" in p.stdout, p.stdout
    assert store.blob_ids() == {blob}
    store.srv.start()
    assert store.srv.client().get_object(Bucket="fsk", Key="a")["Body"].read() == body


def test_flipped_byte_fails_the_get(store):
    c = store.srv.client()
    c.create_bucket(Bucket="tmp")
    body = body_of(5 * SEG, b"tamper")
    c.put_object(Bucket="tmp", Key="k", Body=body)
    (blob,) = store.blob_ids()
    good = store.read_blob(blob)
    for where in (5, HDR + 3, HDR + 2 * (SEG + TAG) + 100, len(good) - 1):
        bad = bytearray(good)
        bad[where] ^= 0x40
        store.write_blob(blob, bytes(bad))
        got = b""
        try:
            got = c.get_object(Bucket="tmp", Key="k")["Body"].read()
        except Exception:
            pass    # an error status, or a response cut short
        # an error, or a response cut short after the segments that did authenticate
        assert body.startswith(got) and len(got) < len(body), where
    store.write_blob(blob, good)
    assert c.get_object(Bucket="tmp", Key="k")["Body"].read() == body


# ---------------------------------------------------------------- what the upstream sees

def test_upstream_sees_only_ids_and_ciphertext(s3store):
    store = s3store
    c = store.srv.client()
    canary = b"UPSTREAM-CANARY-" + uuid.uuid4().hex.encode()
    bucket, key = "secret-bucket-name", "secret/object-key-name.txt"
    ssec_key = new_customer_key()
    c.create_bucket(Bucket=bucket)
    c.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "tk", "Value": "tagval9"}]})
    c.put_object(Bucket=bucket, Key=key, Body=canary * 4000, ContentType="text/secret-type",
                 Metadata={"owner": "meta-value-7"}, Tagging="obj=tagvalue8")
    c.put_object(Bucket=bucket, Key=key + ".c", Body=canary * 4000, **sse_c(ssec_key))
    c.put_object(Bucket=bucket, Key=key + ".k", Body=canary * 4000,
                 ServerSideEncryption="aws:kms")
    up = c.create_multipart_upload(Bucket=bucket, Key=key + ".m")
    r = c.upload_part(Bucket=bucket, Key=key + ".m", UploadId=up["UploadId"], PartNumber=1,
                      Body=canary * 400_000)
    c.complete_multipart_upload(Bucket=bucket, Key=key + ".m", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1,
                                                            "ETag": r["ETag"]}]})
    keys = store.up_keys(sub="")
    assert len(keys) == 5
    for k in keys:
        assert re.fullmatch(re.escape(store.prefix) + r"(blobs/[0-9a-f]{32}|owner)", k), k
    needles = [canary, bucket.encode(), key.encode(), b"object-key-name", b"text/secret-type",
               b"meta-value-7", b"tagvalue8", b"tagval9", ssec_key.encode(),
               base64.b64encode(ssec_key.encode()), canary[:16]]
    for k in keys:
        obj = store.up.get_object(Bucket=UP_BUCKET, Key=k)
        data = obj["Body"].read()
        for n in needles:
            assert n not in data, (k, n)
        # nothing of the object in the upstream's own metadata either
        assert obj.get("Metadata", {}) == {}
        assert obj.get("ContentType") == "application/octet-stream"
        assert "TagCount" not in obj


# ---------------------------------------------------------------- faults (upstream only)

@pytest.fixture
def s3store(upstream, coffer_factory):
    st = Store("s3", None, upstream, f"t-{uuid.uuid4().hex[:12]}/")
    st.srv = coffer_factory(extra_args=store_args(st), env=up_env())
    return st


def test_kill_during_uploads_loses_nothing_acknowledged(s3store):
    store = s3store
    c = store.srv.client()
    c.create_bucket(Bucket="kill")
    acked = {}
    stop = threading.Event()

    def writer(t):
        cl = store.srv.client()
        i = 0
        while not stop.is_set():
            k = f"w{t}-{i}"
            body = body_of([40_000, PART + 3, 9000][i % 3], k.encode())
            try:
                cl.put_object(Bucket="kill", Key=k, Body=body)
                acked[k] = hashlib.sha256(body).hexdigest()
            except Exception:
                return
            i += 1

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    time.sleep(3.0)
    store.srv.proc.send_signal(signal.SIGKILL)
    store.srv.proc.wait()
    store.srv.proc = None
    stop.set()
    for th in threads:
        th.join(60)
    assert len(acked) >= 3
    # an unfinished upload of a blob, as a kill during a large PUT leaves (made here for sure)
    dangling = store.up.create_multipart_upload(Bucket=UP_BUCKET,
                                                Key=store.key(os.urandom(16).hex()))
    store.up.upload_part(Bucket=UP_BUCKET, Key=dangling["Key"], UploadId=dangling["UploadId"],
                         PartNumber=1, Body=b"x" * 1000)
    p = store.fsck()       # offline: orphans of the kill are removed at once
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0 damaged" in p.stdout, p.stdout
    assert re.search(r"fsck: (\d+) unfinished upstream uploads \(\1 aborted\)", p.stdout), p.stdout
    assert f"unfinished upstream upload, aborted: blob {dangling['Key'][-32:]}" in p.stdout
    assert store.up.list_multipart_uploads(Bucket=UP_BUCKET,
                                           Prefix=store.prefix).get("Uploads", []) == []
    store.srv.start()
    c = store.srv.client()
    for k, digest in acked.items():
        assert hashlib.sha256(c.get_object(Bucket="kill", Key=k)["Body"].read()).hexdigest() \
            == digest, k
    # every stored blob belongs to an object: the orphans are gone
    listed = [o["Key"] for o in c.list_objects_v2(Bucket="kill").get("Contents", [])]
    assert len(store.blob_ids()) == sum(
        1 for k in listed if c.head_object(Bucket="kill", Key=k)["ContentLength"] > 16384)


def ceph(cmd):
    if not CEPH_DIR:
        pytest.skip("COFFER_TEST_CEPH_DIR unset: the gateway cannot be stopped from here")
    subprocess.run([str(REPO / "scripts" / "ceph-dev.sh"), cmd, CEPH_DIR], check=True,
                   timeout=120, capture_output=True)


def test_gateway_outage_gives_503_and_recovers(s3store):
    store = s3store
    c = store.srv.client()
    c.create_bucket(Bucket="out")
    big = body_of(PART + 77, b"before")
    c.put_object(Bucket="out", Key="big", Body=big)
    c.put_object(Bucket="out", Key="small", Body=b"inline bytes")
    ceph("rgw-stop")
    try:
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket="out", Key="new", Body=body_of(200_000))
        assert error_of(ei) == (503, "SlowDown")
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket="out", Key="big", Body=body_of(PART * 2, b"lost"))
        assert error_of(ei) == (503, "SlowDown")
        with pytest.raises(ClientError) as ei:
            c.get_object(Bucket="out", Key="big")
        assert error_of(ei) == (503, "ServiceUnavailable")
        # nothing published; metadata and inline bodies still answer
        with pytest.raises(ClientError) as ei:
            c.head_object(Bucket="out", Key="new")
        assert error_of(ei)[0] == 404
        assert c.head_object(Bucket="out", Key="big")["ContentLength"] == PART + 77
        assert [o["Key"] for o in c.list_objects_v2(Bucket="out")["Contents"]] == ["big",
                                                                                  "small"]
        assert c.get_object(Bucket="out", Key="small")["Body"].read() == b"inline bytes"
    finally:
        ceph("rgw-start")
    # back without a restart of coffer
    assert c.get_object(Bucket="out", Key="big")["Body"].read() == big
    after = body_of(300_000, b"after")
    c.put_object(Bucket="out", Key="new", Body=after)
    assert c.get_object(Bucket="out", Key="new")["Body"].read() == after
    assert store.srv.running


# ---------------------------------------------------------------- configuration

def run_coffer(args, env):
    return subprocess.run([COFFER_BIN, *args], capture_output=True, text=True,
                          env=server_env(env), timeout=60)


def test_bad_configuration_is_refused(tmp_path):
    base = ["--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0"]
    secret = "SeCrEt-" + uuid.uuid4().hex
    env = {"COFFER_BLOB_STORE_ACCESS_KEY_ID": "test",
           "COFFER_BLOB_STORE_SECRET_ACCESS_KEY": secret}
    cases = [
        (["--blob-store", "s3:/nope"], "must be file or s3://BUCKET[/PREFIX]"),
        (["--blob-store", "s3://UPPER/x", "--blob-store-endpoint", "http://h"],
         "must be file or s3://"),
        (["--blob-store", "s3://ok-bucket"], "needs --blob-store-endpoint"),
        (["--blob-store", "s3://ok-bucket", "--blob-store-endpoint", "ftp://h"],
         "must be http(s)://HOST[:PORT]"),
        (["--blob-store", "s3://ok-bucket", "--blob-store-endpoint", "http://h/path"],
         "must be http(s)://HOST[:PORT]"),
        (["--blob-store-part-size", "1000"], "invalid value '1000' for --blob-store-part-size"),
    ]
    for args, msg in cases:
        p = run_coffer(base + args, env)
        assert p.returncode != 0, args
        assert msg in p.stderr, (args, p.stderr)
        assert secret not in p.stdout + p.stderr
    p = run_coffer(base + ["--blob-store", "s3://ok-bucket", "--blob-store-endpoint",
                           "http://127.0.0.1:1"], {})
    assert p.returncode != 0 and "needs credentials" in p.stderr, p.stderr
    # credentials from a file; the secret shows nowhere
    cred = tmp_path / "cred"
    cred.write_text(f"[default]\naws_access_key_id = test\naws_secret_access_key = {secret}\n")
    p = run_coffer(base + ["--blob-store", "s3://ok-bucket", "--blob-store-endpoint",
                           "http://127.0.0.1:1", "--blob-store-retry-seconds", "0",
                           "--blob-store-credentials-file", str(cred), "--log-level", "debug"],
                   {})
    assert p.returncode != 0
    assert "does not answer" in p.stderr, p.stderr
    assert secret not in p.stdout + p.stderr
    p = run_coffer(["--help"], env)
    assert "--blob-store-endpoint" in p.stdout and secret not in p.stdout + p.stderr


def test_wrong_upstream_secret_fails_at_start(upstream, tmp_path):
    env = {"COFFER_BLOB_STORE_ACCESS_KEY_ID": "test",
           "COFFER_BLOB_STORE_SECRET_ACCESS_KEY": "not-the-secret"}
    p = run_coffer(["--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                    "--blob-store", f"s3://{UP_BUCKET}/x", "--blob-store-endpoint", RGW], env)
    assert p.returncode != 0
    assert "HTTP 403 SignatureDoesNotMatch" in p.stderr, p.stderr
    assert "not-the-secret" not in p.stdout + p.stderr


def test_a_data_dir_keeps_to_its_store(upstream, coffer_factory, tmp_path):
    """A prefix is claimed by the data dir that first used it; a data dir remembers its store."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    args = ["--blob-store", f"s3://{UP_BUCKET}/{prefix}", "--blob-store-endpoint", RGW]
    a = coffer_factory(extra_args=args, env=up_env())
    a.client().create_bucket(Bucket="mine")
    a.client().put_object(Bucket="mine", Key="k", Body=body_of(100_000))
    claim = upstream.get_object(Bucket=UP_BUCKET, Key=f"{prefix}/owner")["Body"].read()
    assert re.fullmatch(rb"coffer-blob-store-owner v1 [0-9a-f]{32}\n", claim), claim
    # another data dir on the same prefix is refused: its fsck would take a's blobs for orphans
    p = run_coffer(["--data-dir", str(tmp_path / "other"), "--listen", "127.0.0.1:0", *args],
                   up_env())
    assert p.returncode != 0
    assert "belongs to another coffer data dir" in p.stderr, p.stderr
    a.stop()
    # a's data dir without its store, or with another one, is refused
    base = ["--data-dir", str(a.data_dir), "--root-key-file", str(a.root_key),
            "--listen", "127.0.0.1:0"]
    p = run_coffer(base, up_env())
    assert p.returncode != 0
    assert f"keeps its blobs in s3://{UP_BUCKET}/{prefix}: start it with --blob-store" in p.stderr
    p = run_coffer(base + ["--blob-store", f"s3://{UP_BUCKET}/elsewhere",
                           "--blob-store-endpoint", RGW], up_env())
    assert p.returncode != 0
    assert f"not s3://{UP_BUCKET}/elsewhere" in p.stderr, p.stderr
    a.start()
    assert a.client().get_object(Bucket="mine", Key="k")["Body"].read() == body_of(100_000)
    # a data dir of the file store, with blob files, is not started over an upstream
    f = coffer_factory()
    f.client().create_bucket(Bucket="files")
    f.client().put_object(Bucket="files", Key="k", Body=body_of(100_000))
    f.stop()
    p = run_coffer(["--data-dir", str(f.data_dir), "--root-key-file", str(f.root_key),
                    "--listen", "127.0.0.1:0", "--blob-store",
                    f"s3://{UP_BUCKET}/t-{uuid.uuid4().hex[:12]}", "--blob-store-endpoint", RGW],
                   up_env())
    assert p.returncode != 0
    assert "keeps its blobs in local files" in p.stderr, p.stderr


# ---------------------------------------------------------------- backup and restore

def coffer_cli(*args, env=None, timeout=120):
    return subprocess.run([COFFER_BIN, *args], capture_output=True, text=True,
                          env=server_env(env or up_env()), timeout=timeout)


def test_backup_and_restore_onto_a_new_machine(s3store, tmp_path):
    store = s3store
    srv = store.srv
    c = srv.client()
    c.create_bucket(Bucket="bkp")
    canary = b"BACKUP-CANARY-" + uuid.uuid4().hex.encode()
    ckey = new_customer_key()
    before = {"big": body_of(PART + 5, b"big"), "small": canary,
              "kms": body_of(90_000, b"kms")}
    c.put_object(Bucket="bkp", Key="big", Body=before["big"], Metadata={"m": "meta-canary"})
    c.put_object(Bucket="bkp", Key="small", Body=before["small"])
    c.put_object(Bucket="bkp", Key="kms", Body=before["kms"], ServerSideEncryption="aws:kms")
    c.put_object(Bucket="bkp", Key="ssec", Body=before["big"], **sse_c(ckey))
    args = ["--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key),
            *store_args(store)]
    p = coffer_cli("backup", *args)        # beside the running server
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.fullmatch(r"backup: (backups/\d{8}T\d{6}Z-[0-9a-f]{8}\.cbk)\n", p.stdout)
    assert m, p.stdout
    sealed = store.up.get_object(Bucket=UP_BUCKET, Key=store.prefix + m.group(1))["Body"].read()
    assert sealed[:4] == b"CBK1"
    for needle in (canary, b"bkp", b"meta-canary", b"CREATE TABLE", b"SQLite format"):
        assert needle not in sealed, needle
    # acknowledged after the snapshot: lost with the machine, its blob an orphan upstream
    c.put_object(Bucket="bkp", Key="after", Body=body_of(200_000, b"after"))
    # deleted after the snapshot: its blob is removed upstream, so the restored row has none
    c.delete_object(Bucket="bkp", Key="kms")
    srv.kill()                             # the machine is gone; the root key file was kept
    new = tmp_path / "new-machine"
    rargs = ["--data-dir", str(new), "--root-key-file", str(srv.root_key), *store_args(store)]
    p = coffer_cli("restore", *rargs)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == f"restore: {m.group(1)} into {new}\n"
    assert (new / "coffer.db").exists() and (new / "blob-store").exists()
    # a second restore into the same dir is refused
    p = coffer_cli("restore", *rargs)
    assert p.returncode != 0 and "restore into a new data dir" in p.stderr, p.stderr
    p = coffer_cli("fsck", *rargs)         # offline: the orphan of "after" goes
    assert p.returncode == 1, p.stdout + p.stderr
    assert "4 objects checked" in p.stdout and " 1 damaged" in p.stdout, p.stdout
    assert re.search(r"damaged: s3://bkp/kms \([0-9a-f]{32}\): blob file missing", p.stdout)
    assert p.stdout.count("unreferenced, removed: blob ") == 1, p.stdout
    s2 = CofferServer(tmp_path / "srv-new", data_dir=new, root_key=srv.root_key,
                      extra_args=store_args(store), env=up_env())
    s2.start()
    try:
        c2 = s2.client()
        for k in ("big", "small"):
            assert c2.get_object(Bucket="bkp", Key=k)["Body"].read() == before[k], k
        with pytest.raises(ClientError) as ei:      # what fsck reported: delete it again
            c2.get_object(Bucket="bkp", Key="kms")
        assert error_of(ei)[0] == 500
        c2.delete_object(Bucket="bkp", Key="kms")
        assert c2.get_object(Bucket="bkp", Key="ssec", **sse_c(ckey))["Body"].read() \
            == before["big"]
        assert c2.head_object(Bucket="bkp", Key="big")["Metadata"] == {"m": "meta-canary"}
        with pytest.raises(ClientError) as ei:
            c2.get_object(Bucket="bkp", Key="after")
        assert error_of(ei) == (404, "NoSuchKey")
        c2.put_object(Bucket="bkp", Key="later", Body=b"x" * 100_000)
    finally:
        s2.stop()


def test_restore_refuses_damaged_backups_and_wrong_keys(s3store, tmp_path):
    store = s3store
    srv = store.srv
    srv.client().create_bucket(Bucket="dmg")
    srv.client().put_object(Bucket="dmg", Key="k", Body=b"v" * 70_000)
    args = ["--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key),
            *store_args(store)]
    p = coffer_cli("backup", *args)
    assert p.returncode == 0, p.stderr
    name = p.stdout.split()[1]
    good = store.up.get_object(Bucket=UP_BUCKET, Key=store.prefix + name)["Body"].read()
    # a foreign keyring: the backup's root key is not there
    other_key = tmp_path / "other.key"
    p = coffer_cli("keys", "list", "--data-dir", str(tmp_path / "scratch"), "--root-key-file",
                   str(other_key))
    p = coffer_cli("restore", "--data-dir", str(tmp_path / "r0"), "--root-key-file",
                   str(other_key), *store_args(store))
    assert p.returncode != 0
    assert "which the keyring lacks" in p.stderr or "cannot read the root keyring" in p.stderr, \
        p.stderr
    assert not (tmp_path / "r0" / "coffer.db").exists()
    for i, where in enumerate((3, 30, len(good) // 2, len(good) - 1)):
        bad = bytearray(good)
        bad[where] ^= 0x20
        later = f"backups/99991231T235959Z-{i:08x}.cbk"    # sorts last: the one restored
        store.up.put_object(Bucket=UP_BUCKET, Key=store.prefix + later, Body=bytes(bad))
        out = tmp_path / f"r{i + 1}"
        p = coffer_cli("restore", "--data-dir", str(out), "--root-key-file", str(srv.root_key),
                       *store_args(store))
        assert p.returncode != 0, where
        assert not (out / "coffer.db").exists() and not (out / "coffer.db.restoring").exists()
        store.up.delete_object(Bucket=UP_BUCKET, Key=store.prefix + later)
    # cut short
    store.up.put_object(Bucket=UP_BUCKET, Key=store.prefix + "backups/99991231T235959Z-cut.cbk",
                        Body=good[:-100])
    p = coffer_cli("restore", "--data-dir", str(tmp_path / "rc"), "--root-key-file",
                   str(srv.root_key), *store_args(store))
    assert p.returncode != 0 and not (tmp_path / "rc" / "coffer.db").exists()
    # the good one, named explicitly, restores
    p = coffer_cli("restore", "--data-dir", str(tmp_path / "ok"), "--root-key-file",
                   str(srv.root_key), "--backup", name, *store_args(store))
    assert p.returncode == 0, p.stderr


def test_scheduled_backups_keep_the_newest(upstream, coffer_factory):
    st = Store("s3", None, upstream, f"t-{uuid.uuid4().hex[:12]}/")
    st.srv = coffer_factory(extra_args=store_args(st) + ["--backup-interval", "1",
                                                         "--backup-keep", "2"], env=up_env())

    def taken():
        return re.findall(r"sealed into (backups/\S+\.cbk)", st.srv.stderr_text())

    assert wait_until(lambda: len(taken()) >= 4, timeout=30), st.srv.stderr_text()[-2000:]
    st.srv.stop()
    names = taken()
    assert sorted(k[len(st.prefix):] for k in st.up_keys(sub="backups/")) == sorted(names)[-2:]
    assert "older backups deleted (--backup-keep 2)" in st.srv.stderr_text()


def test_backup_to_a_file_with_local_blobs(coffer_factory, tmp_path):
    srv = coffer_factory()
    srv.client().create_bucket(Bucket="loc")
    srv.client().put_object(Bucket="loc", Key="k", Body=body_of(100_000))
    args = ["--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key)]
    p = coffer_cli("backup", *args, env={})
    assert p.returncode != 0 and "give --output FILE" in p.stderr, p.stderr
    out = tmp_path / "meta.cbk"
    p = coffer_cli("backup", *args, "--output", str(out), env={})
    assert p.returncode == 0 and p.stdout == f"backup: {out}\n", p.stderr
    assert out.read_bytes()[:4] == b"CBK1" and oct(out.stat().st_mode & 0o777) == "0o600"
    srv.stop()
    new = tmp_path / "restored"
    p = coffer_cli("restore", "--data-dir", str(new), "--root-key-file", str(srv.root_key),
                   "--input", str(out), env={})
    assert p.returncode == 0, p.stderr
    # the blobs stayed where they were: copy them over, as one would with local files
    import shutil
    shutil.copytree(srv.data_dir / "blobs", new / "blobs")
    s2 = coffer_factory(data_dir=new, root_key=srv.root_key)
    assert s2.client().get_object(Bucket="loc", Key="k")["Body"].read() == body_of(100_000)


# ---------------------------------------------------------------- coffer blobs migrate

def local_blob_files(data_dir):
    return [p for p in (Path(data_dir) / "blobs").rglob("*") if p.is_file()]


def test_blobs_migrate_to_upstream_while_serving_and_back(upstream, coffer_factory, tmp_path):
    prefix = f"t-{uuid.uuid4().hex[:12]}/"
    st = Store("s3", None, upstream, prefix)
    up_args = store_args(st)
    srv = coffer_factory()                       # a data dir of local files, serving
    c = srv.client()
    c.create_bucket(Bucket="mig")
    bodies = {f"k{i}": body_of(n, b"%d" % i)
              for i, n in enumerate([100, 70_000, PART + 9, 3 * SEG])}
    for k, b in bodies.items():
        c.put_object(Bucket="mig", Key=k, Body=b)
    n_files = len(local_blob_files(srv.data_dir))
    assert n_files == 3
    base = ["--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key)]
    # 1. beside a server that does not know of the migration: copies, keeps the old ones
    p = coffer_cli("blobs", "migrate", "--to", "upstream", *base, *up_args)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 blobs copied" in p.stdout and "old copies kept" in p.stdout, p.stdout
    assert len(local_blob_files(srv.data_dir)) == 3 and len(st.blob_ids()) == 3
    assert c.get_object(Bucket="mig", Key="k2")["Body"].read() == bodies["k2"]
    # 2. the server restarted with the store: it reads both and writes upstream
    srv.stop()
    srv.extra_args = up_args
    srv.env = up_env()
    srv.start()
    c = srv.client()
    c.put_object(Bucket="mig", Key="new", Body=body_of(80_000, b"new"))
    assert len(st.blob_ids()) == 4 and len(local_blob_files(srv.data_dir)) == 3
    # 3. again, beside that server: the old copies go, and the data dir is upstream's
    p = coffer_cli("blobs", "migrate", "--to", "upstream", *base, *up_args)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 there already, 3 removed" in p.stdout and "finished" in p.stdout, p.stdout
    assert local_blob_files(srv.data_dir) == []
    for k, b in bodies.items():
        assert c.get_object(Bucket="mig", Key=k)["Body"].read() == b, k
    srv.stop()
    p = coffer_cli("fsck", *base, *up_args)
    assert p.returncode == 0 and "5 objects checked" in p.stdout and " 0 damaged" in p.stdout, \
        p.stdout + p.stderr
    assert "migrating" not in (srv.data_dir / "blob-store").read_text()
    p = coffer_cli("blobs", "migrate", "--to", "upstream", *base, *up_args)
    assert p.returncode == 0 and "in the upstream store already" in p.stdout, p.stdout
    # 4. and back to local files, offline
    p = coffer_cli("blobs", "migrate", "--to", "files", *base, *up_args)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "4 blobs copied" in p.stdout and "finished" in p.stdout, p.stdout
    assert not (srv.data_dir / "blob-store").exists()
    assert st.blob_ids() == set() and len(local_blob_files(srv.data_dir)) == 4
    p = coffer_cli("fsck", *base, env={})
    assert p.returncode == 0 and " 0 damaged" in p.stdout, p.stdout + p.stderr
    srv.extra_args = []
    srv.start()
    c = srv.client()
    for k, b in {**bodies, "new": body_of(80_000, b"new")}.items():
        assert c.get_object(Bucket="mig", Key=k)["Body"].read() == b, k


def test_blobs_migrate_refusals(tmp_path):
    base = ["--data-dir", str(tmp_path / "d")]
    p = coffer_cli("blobs", "migrate", "--to", "sideways", *base)
    assert p.returncode == 2 and "usage: coffer blobs migrate" in p.stderr
    p = coffer_cli("blobs", "migrate", "--to", "upstream", *base, env={})
    assert p.returncode != 0 and "give the upstream store" in p.stderr, p.stderr


def test_with_backups_removed_blobs_wait_for_the_next_backup(upstream, coffer_factory, tmp_path):
    """With --backup-interval, a blob replaced or deleted after a backup stays upstream until
    the next backup: a restore from the latest one then gives back what it names, whole."""
    st = Store("s3", None, upstream, f"t-{uuid.uuid4().hex[:12]}/")
    args = store_args(st) + ["--backup-interval", "3600"]      # none fires during the test
    srv = coffer_factory(extra_args=args, env=up_env())
    c = srv.client()
    c.create_bucket(Bucket="grave")
    old = body_of(150_000, b"old")
    c.put_object(Bucket="grave", Key="over", Body=old)
    c.put_object(Bucket="grave", Key="gone", Body=body_of(120_000, b"gone"))
    base = ["--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key), *args]
    p = coffer_cli("backup", *base)
    assert p.returncode == 0, p.stderr
    ids_at_backup = st.blob_ids()
    c.put_object(Bucket="grave", Key="over", Body=body_of(160_000, b"new"))
    c.delete_object(Bucket="grave", Key="gone")
    # both old blobs are still there, marked
    assert ids_at_backup <= st.blob_ids()
    assert len(st.up_keys(sub="graveyard/")) == 2
    srv.kill()
    new = tmp_path / "restored"
    p = coffer_cli("restore", "--data-dir", str(new), "--root-key-file", str(srv.root_key),
                   *store_args(st))
    assert p.returncode == 0, p.stderr
    s2 = CofferServer(tmp_path / "s2", data_dir=new, root_key=srv.root_key, extra_args=args,
                      env=up_env())
    s2.start()
    try:
        c2 = s2.client()
        assert c2.get_object(Bucket="grave", Key="over")["Body"].read() == old
        assert c2.get_object(Bucket="grave", Key="gone")["Body"].read() == body_of(120_000,
                                                                                   b"gone")
        # the next backup deletes the marked blobs no row names ("gone", deleted again: the
        # same mark) and only unmarks the ones the restored rows name again (the old "over")
        c2.delete_object(Bucket="grave", Key="gone")
        assert len(st.up_keys(sub="graveyard/")) == 2
        p = coffer_cli("backup", "--data-dir", str(new), "--root-key-file", str(srv.root_key),
                       *args)
        assert p.returncode == 0, p.stderr
        assert st.up_keys(sub="graveyard/") == []
        assert c2.get_object(Bucket="grave", Key="over")["Body"].read() == old
        # "over" (old) and the orphan of the lost "new" (fsck's to remove)
        assert len(st.blob_ids()) == 2
    finally:
        s2.stop()


def test_a_streamed_get_resumes_when_the_gateway_comes_back(upstream, coffer_factory):
    """A GET whose upstream connection breaks midway (radosgw stopped and started while the
    client reads slowly) goes on where it broke: the client gets every byte, once."""
    st = Store("s3", None, upstream, f"t-{uuid.uuid4().hex[:12]}/")
    args = store_args(st)
    args[args.index("--blob-store-retry-seconds") + 1] = "30"
    srv = coffer_factory(extra_args=args, env=up_env())
    c = srv.client()
    c.create_bucket(Bucket="res")
    body = body_of(24 * 1024 * 1024, b"resume")
    c.put_object(Bucket="res", Key="k", Body=body)
    r = c.get_object(Bucket="res", Key="k")
    got = r["Body"].read(1024 * 1024)
    ceph("rgw-stop")           # coffer's upstream stream is paused behind this slow client
    try:
        time.sleep(0.5)
    finally:
        ceph("rgw-start")
    got += r["Body"].read()
    assert len(got) == len(body) and got == body
    log = srv.stderr_text()
    assert re.search(r"upstream: GET \S+ broke at byte \d+ .*; resuming there", log), log[-3000:]
    assert "retries spent" not in log


def test_another_coffer_over_tls_as_the_upstream(coffer_factory, tmp_path):
    """Any S3 store will do, over https with a CA bundle: here a second coffer (local files)
    serves as the upstream, its self-signed certificate as the bundle."""
    upstream_srv = coffer_factory()
    upstream_srv.client().create_bucket(Bucket="blobs-up")
    ca = upstream_srv.data_dir / "tls.pem"
    endpoint = f"https://localhost:{upstream_srv.port}"
    args = ["--blob-store", "s3://blobs-up/front", "--blob-store-endpoint", endpoint,
            "--blob-store-ca-file", str(ca), "--blob-store-part-size", str(PART),
            "--blob-store-retry-seconds", "2"]
    front = coffer_factory(extra_args=args, env=up_env())
    c = front.client()
    c.create_bucket(Bucket="secret-name")
    body = body_of(2 * PART + 1000, b"tls")
    c.put_object(Bucket="secret-name", Key="k", Body=body)
    assert c.get_object(Bucket="secret-name", Key="k")["Body"].read() == body
    assert c.get_object(Bucket="secret-name", Key="k",
                        Range=f"bytes={PART - 3}-{PART + 3}")["Body"].read() == \
        body[PART - 3:PART + 4]
    listed = [o["Key"] for o in upstream_srv.client().list_objects_v2(
        Bucket="blobs-up")["Contents"]]
    assert "front/owner" in listed
    assert [k for k in listed if k != "front/owner"] and all(
        re.fullmatch(r"front/blobs/[0-9a-f]{32}", k) for k in listed if k != "front/owner")
    # without the bundle the certificate is not trusted: refused at start-up
    bad = args[:args.index("--blob-store-ca-file")] + args[args.index("--blob-store-ca-file") + 2:]
    p = subprocess.run([COFFER_BIN, "--data-dir", str(tmp_path / "other"), "--listen",
                        "127.0.0.1:0", bad[0], "s3://blobs-up/other", *bad[2:]],
                       capture_output=True, text=True, env=server_env(up_env()), timeout=60)
    assert p.returncode != 0
    assert "certificate" in p.stderr.lower(), p.stderr


def test_upstream_slowdown_is_retried(coffer_factory):
    """An upstream that answers 503 SlowDown (a coffer over its connection cap) is retried with
    backoff: every client PUT succeeds."""
    upstream_srv = coffer_factory(extra_args=["--max-connections", "2"])
    upstream_srv.client().create_bucket(Bucket="busy-up")
    args = ["--blob-store", "s3://busy-up/f", "--blob-store-endpoint", upstream_srv.endpoint,
            "--blob-store-retry-seconds", "30"]
    front = coffer_factory(extra_args=args, env=up_env())
    front.client().create_bucket(Bucket="many")
    bodies = {f"k{i}": body_of(100_000 + i, b"%d" % i) for i in range(12)}
    errors = []

    def put(k):
        try:
            front.client().put_object(Bucket="many", Key=k, Body=bodies[k])
        except Exception as e:        # reported below
            errors.append((k, repr(e)))

    threads = [threading.Thread(target=put, args=(k,)) for k in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    c = front.client()
    for k, b in bodies.items():
        assert c.get_object(Bucket="many", Key=k)["Body"].read() == b, k
    assert re.search(r"upstream: (PUT|GET) \S+: HTTP 503; retry \d+", front.stderr_text())


def test_sequential_readers_stream_the_blob(coffer_factory):
    """A reader that never says which range it wants (CopyObject, fsck) gets the blob in two
    GETs, the head and then one stream of the rest, not one GET per 64 KiB segment; so does a
    client's GET. Counted in the debug log of a second coffer serving as the upstream."""
    upstream_srv = coffer_factory(extra_args=["--log-level", "debug"])
    upstream_srv.client().create_bucket(Bucket="seq-up")
    front = coffer_factory(extra_args=["--blob-store", "s3://seq-up/f", "--blob-store-endpoint",
                                       upstream_srv.endpoint], env=up_env())
    c = front.client()
    c.create_bucket(Bucket="seq")
    body = body_of(40 * SEG + 5, b"seq")          # 41 segments
    c.put_object(Bucket="seq", Key="src", Body=body)
    (blob,) = {m for m in re.findall(r"PUT /seq-up/f/blobs/([0-9a-f]{32})",
                                     upstream_srv.stderr_text())}

    def gets():
        return len(re.findall(rf"GET /seq-up/f/blobs/{blob} -> GetObject",
                              upstream_srv.stderr_text()))

    c.copy_object(Bucket="seq", Key="dst", CopySource={"Bucket": "seq", "Key": "src"})
    assert gets() == 2          # the head (header and first segment), then the rest
    assert c.get_object(Bucket="seq", Key="src")["Body"].read() == body
    assert gets() == 4
    assert c.get_object(Bucket="seq", Key="dst")["Body"].read() == body


def test_a_streamed_put_holds_back_its_last_byte(coffer_factory):
    """A streamed PUT completes upstream only when coffer commits the blob: with a wrong
    x-amz-checksum-crc32 (found after the whole body, before the commit) the upstream never
    gets the full length, so it never stores the blob. A second coffer as the upstream, which
    reads as fast as it is sent, logs the PUT starting and never answering 200. (The last
    sealed segment reaches the blob store only at the commit, and the store keeps back the
    blob's last byte until then as well.)"""
    upstream_srv = coffer_factory(extra_args=["--log-level", "debug"])
    upstream_srv.client().create_bucket(Bucket="hold-up")
    front = coffer_factory(extra_args=["--blob-store", "s3://hold-up/f", "--blob-store-endpoint",
                                       upstream_srv.endpoint, "--blob-store-part-size",
                                       str(PART)], env=up_env())
    c = front.client()
    c.create_bucket(Bucket="hold")
    # a stored size of a whole number of MiB: the last 1 MiB send would hold the last byte
    n = 10 * MiB - HDR - 160 * TAG
    body = body_of(n, b"hold")
    with pytest.raises(ClientError) as ei:
        c.put_object(Bucket="hold", Key="k", Body=body, ChecksumCRC32="AAAAAA==")
    assert error_of(ei) == (400, "BadDigest")
    log = upstream_srv.stderr_text()
    started = re.findall(r"\] PUT /hold-up/f/blobs/([0-9a-f]{32}) -> PutObject", log)
    assert len(started) == 1, log[-2000:]
    assert not re.search(rf"PUT /hold-up/f/blobs/{started[0]} -> 200", log)
    assert upstream_srv.client().list_objects_v2(Bucket="hold-up",
                                                 Prefix="f/blobs/").get("KeyCount") == 0
    # the same body with its right digest is stored, in one PUT
    c.put_object(Bucket="hold", Key="k", Body=body)
    assert c.get_object(Bucket="hold", Key="k")["Body"].read() == body
    assert len(re.findall(r"PUT /hold-up/f/blobs/[0-9a-f]{32} -> 200",
                          upstream_srv.stderr_text())) == 1
