"""Writes that clients retry or make conditional (issue 12, section 1).

- If-Match / If-None-Match on PutObject, CopyObject (destination) and
  CompleteMultipartUpload: 412 PreconditionFailed, 404 NoSuchKey, 409
  ConditionalRequestConflict, 501 for an If-None-Match other than *; the check
  and the write are one step (16 concurrent clients, every SSE mode, versioned
  and unversioned buckets).
- A repeated CompleteMultipartUpload is answered with the first one's result.
- An empty user-metadata value is kept.
- Content-Encoding "gzip, aws-chunked" on a plain body is stored as gzip.

Debian's boto3 (1.26) and aws CLI (2.9) predate the IfMatch/IfNoneMatch
parameters, so the headers are added to boto3's requests with an event hook
(the wire request is what a newer SDK sends).
"""

import base64
import hashlib
import http.client
import os
import json
import shutil
import socket
import subprocess
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, make_s3, raw_request, sigv4_headers, unique_name

N_CLIENTS = 16
MIB = 1024 * 1024

_hdrs = threading.local()


def _inject(request, **_kw):
    for k, v in getattr(_hdrs, "h", {}).items():
        request.headers[k] = v


def cond_client(server):
    c = make_s3(server.endpoint, max_pool_connections=N_CLIENTS + 4)
    c.meta.events.register("before-sign.s3", _inject)
    return c


def call(headers, fn, *args, **kw):
    """fn(*args, **kw) with extra request headers (this thread only)."""
    _hdrs.h = headers
    try:
        return fn(*args, **kw)
    finally:
        _hdrs.h = {}


def outcome(headers, fn, *args, **kw):
    """("ok", response) or (status, code, error dict)."""
    try:
        return ("ok", call(headers, fn, *args, **kw))
    except ClientError as e:
        st, code = error_of(e)
        return (st, code, e.response["Error"])


INM = {"If-None-Match": "*"}


def if_match(etag):
    return {"If-Match": etag}


@pytest.fixture(scope="module")
def c3(server):
    return cond_client(server)


def new_bucket(c, versioned=False):
    name = unique_name("cw")
    c.create_bucket(Bucket=name)
    if versioned:
        c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


SSEC_KEY = os.urandom(32)


def sse_args(mode):
    if mode == "sse-s3":
        return {}
    if mode == "sse-kms":
        return {"ServerSideEncryption": "aws:kms"}
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}


def read_args(mode):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY} if mode == "sse-c" else {}


def ssec_headers(mode):
    """The SSE-C key as headers (Debian's botocore takes no key on CompleteMultipartUpload)."""
    if mode != "sse-c":
        return {}
    return {"x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": base64.b64encode(SSEC_KEY).decode(),
            "x-amz-server-side-encryption-customer-key-MD5":
                base64.b64encode(hashlib.md5(SSEC_KEY).digest()).decode()}


MODES = ["sse-s3", "sse-kms", "sse-c"]


# --------------------------------------------------------------------------
# PutObject
# --------------------------------------------------------------------------

def test_put_if_none_match(c3):
    b = new_bucket(c3)
    r = outcome(INM, c3.put_object, Bucket=b, Key="k", Body=b"first")
    assert r[0] == "ok"
    st, code, err = outcome(INM, c3.put_object, Bucket=b, Key="k", Body=b"second")
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-None-Match")
    assert err["Message"] == "At least one of the pre-conditions you specified did not hold"
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"first"
    # Once the key is gone, the condition holds again.
    c3.delete_object(Bucket=b, Key="k")
    assert outcome(INM, c3.put_object, Bucket=b, Key="k", Body=b"third")[0] == "ok"
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"third"


def test_put_if_none_match_over_delete_marker(c3):
    """A delete marker is no object: If-None-Match: * succeeds over it (AWS)."""
    b = new_bucket(c3, versioned=True)
    v1 = c3.put_object(Bucket=b, Key="k", Body=b"v1")["VersionId"]
    dm = c3.delete_object(Bucket=b, Key="k")
    assert dm["DeleteMarker"] is True
    r = outcome(INM, c3.put_object, Bucket=b, Key="k", Body=b"v2")
    assert r[0] == "ok" and r[1]["VersionId"] not in (v1, dm["VersionId"])
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"v2"
    # If-Match on a key whose current version is a delete marker: no such key.
    c3.delete_object(Bucket=b, Key="k")
    st, code, _ = outcome(if_match('"*"'), c3.put_object, Bucket=b, Key="k", Body=b"x")
    assert (st, code) == (404, "NoSuchKey")


def test_put_if_match(c3):
    b = new_bucket(c3)
    e1 = c3.put_object(Bucket=b, Key="k", Body=b"one")["ETag"]
    e2 = outcome(if_match(e1), c3.put_object, Bucket=b, Key="k", Body=b"two")[1]["ETag"]
    assert e2 == '"' + hashlib.md5(b"two").hexdigest() + '"'
    # The old ETag no longer matches: nothing is overwritten.
    st, code, err = outcome(if_match(e1), c3.put_object, Bucket=b, Key="k", Body=b"three")
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-Match")
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    # Unquoted ETags and * match too.
    assert outcome(if_match(e2.strip('"')), c3.put_object, Bucket=b, Key="k",
                   Body=b"four")[0] == "ok"
    assert outcome(if_match("*"), c3.put_object, Bucket=b, Key="k", Body=b"five")[0] == "ok"
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"five"
    # A key that does not exist: AWS answers 404 NoSuchKey.
    st, code, err = outcome(if_match(e1), c3.put_object, Bucket=b, Key="absent", Body=b"x")
    assert (st, code, err["Key"]) == (404, "NoSuchKey", "absent")
    with pytest.raises(ClientError) as ei:
        c3.head_object(Bucket=b, Key="absent")
    assert error_of(ei)[0] == 404


def test_put_conditions_raw(server):
    """On the wire: status, code, Condition element; a value other than * is 501."""
    b = unique_name("cw")
    assert raw_request(server.port, "PUT", f"/{b}").status == 200
    assert raw_request(server.port, "PUT", f"/{b}/k", body=b"x",
                       headers={"If-None-Match": "*"}).status == 200
    r = raw_request(server.port, "PUT", f"/{b}/k", body=b"y", headers={"If-None-Match": "*"})
    assert r.status == 412
    assert r.xml().find("Code").text == "PreconditionFailed"
    assert r.xml().find("Condition").text == "If-None-Match"
    assert r.header("ETag") is None and r.header("x-amz-version-id") is None
    r = raw_request(server.port, "PUT", f"/{b}/k", body=b"y",
                    headers={"If-None-Match": '"' + hashlib.md5(b"x").hexdigest() + '"'})
    assert r.status == 501
    assert r.xml().find("Code").text == "NotImplemented"
    assert r.xml().find("Header").text == "If-None-Match"
    r = raw_request(server.port, "PUT", f"/{b}/nope", body=b"y", headers={"If-Match": '"abc"'})
    assert (r.status, r.xml().find("Code").text) == (404, "NoSuchKey")
    r = raw_request(server.port, "PUT", f"/{b}/k", body=b"y", headers={"If-Match": '"abc"'})
    assert (r.status, r.xml().find("Condition").text) == (412, "If-Match")
    assert raw_request(server.port, "GET", f"/{b}/k").body == b"x"
    # No bucket: NoSuchBucket, whatever the conditions.
    r = raw_request(server.port, "PUT", f"/{unique_name('nb')}/k", body=b"y",
                    headers={"If-None-Match": "*"})
    assert (r.status, r.xml().find("Code").text) == (404, "NoSuchBucket")


def test_put_if_match_object_deleted_during_upload(server, c3):
    """The pre-check saw the object, the commit does not: a delete won while the body
    streamed. AWS answers 409 ConditionalRequestConflict then. The body waits for the server's
    100 Continue, which comes only once the pre-check has passed, so the delete always lands
    between the two."""
    b = new_bucket(c3)
    etag = c3.put_object(Bucket=b, Key="k", Body=b"old")["ETag"]
    body = os.urandom(2 * MIB)
    host = f"127.0.0.1:{server.port}"
    path = f"/{b}/k"
    headers = sigv4_headers("PUT", host, path, {"If-Match": etag,
                                                 "Content-Length": str(len(body))}, body)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "Expect: 100-continue\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode())
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(4096)
            assert chunk, interim
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        sock.sendall(body[:MIB])
        c3.delete_object(Bucket=b, Key="k")
        sock.sendall(body[MIB:])
        resp = http.client.HTTPResponse(sock, method="PUT")
        resp.begin()
        data = resp.read()
    assert resp.status == 409, data
    assert b"<Code>ConditionalRequestConflict</Code>" in data
    assert b"<Condition>If-Match</Condition>" in data
    with pytest.raises(ClientError) as ei:
        c3.head_object(Bucket=b, Key="k")
    assert error_of(ei)[0] == 404


def race(server, n, fn):
    """Runs fn(client, i) in n threads released together; returns the outcomes."""
    clients = [cond_client(server) for _ in range(n)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(clients[i], i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None for r in results), results
    return results


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
@pytest.mark.parametrize("mode", MODES)
def test_concurrent_if_none_match_one_wins(server, c3, mode, versioned):
    b = new_bucket(c3, versioned)
    bodies = [f"client {i} ".encode() * 1000 for i in range(N_CLIENTS)]
    res = race(server, N_CLIENTS, lambda c, i: outcome(
        INM, c.put_object, Bucket=b, Key="lock", Body=bodies[i], **sse_args(mode)))
    winners = [i for i, r in enumerate(res) if r[0] == "ok"]
    assert len(winners) == 1, res
    assert sorted(r[:2] for r in res if r[0] != "ok") == [(412, "PreconditionFailed")] * 15
    got = c3.get_object(Bucket=b, Key="lock", **read_args(mode))
    assert got["Body"].read() == bodies[winners[0]]
    assert got["ETag"] == res[winners[0]][1]["ETag"]
    if versioned:
        vs = c3.list_object_versions(Bucket=b).get("Versions", [])
        assert [v["VersionId"] for v in vs] == [res[winners[0]][1]["VersionId"]]


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
@pytest.mark.parametrize("mode", MODES)
def test_concurrent_if_match_one_wins(server, c3, mode, versioned):
    b = new_bucket(c3, versioned)
    old = c3.put_object(Bucket=b, Key="doc", Body=b"v0", **sse_args(mode))["ETag"]
    bodies = [f"update {i}".encode() for i in range(N_CLIENTS)]
    res = race(server, N_CLIENTS, lambda c, i: outcome(
        if_match(old), c.put_object, Bucket=b, Key="doc", Body=bodies[i], **sse_args(mode)))
    winners = [i for i, r in enumerate(res) if r[0] == "ok"]
    assert len(winners) == 1, res
    losers = [r for r in res if r[0] != "ok"]
    assert [(r[0], r[1], r[2]["Condition"]) for r in losers] == \
        [(412, "PreconditionFailed", "If-Match")] * 15
    got = c3.get_object(Bucket=b, Key="doc", **read_args(mode))
    assert got["Body"].read() == bodies[winners[0]]
    if versioned:
        vs = c3.list_object_versions(Bucket=b).get("Versions", [])
        assert len(vs) == 2


# --------------------------------------------------------------------------
# CopyObject (destination)
# --------------------------------------------------------------------------

def test_copy_destination_conditions(c3):
    b = new_bucket(c3)
    c3.put_object(Bucket=b, Key="src", Body=b"source")
    dst_etag = c3.put_object(Bucket=b, Key="dst", Body=b"dest")["ETag"]
    src = {"Bucket": b, "Key": "src"}
    st, code, err = outcome(INM, c3.copy_object, Bucket=b, Key="dst", CopySource=src)
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-None-Match")
    st, code, err = outcome(if_match('"0123"'), c3.copy_object, Bucket=b, Key="dst",
                            CopySource=src)
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-Match")
    assert c3.get_object(Bucket=b, Key="dst")["Body"].read() == b"dest"
    st, code, _ = outcome(if_match(dst_etag), c3.copy_object, Bucket=b, Key="new",
                          CopySource=src)
    assert (st, code) == (404, "NoSuchKey")
    assert outcome(INM, c3.copy_object, Bucket=b, Key="new", CopySource=src)[0] == "ok"
    assert outcome(if_match(dst_etag), c3.copy_object, Bucket=b, Key="dst",
                   CopySource=src)[0] == "ok"
    assert c3.get_object(Bucket=b, Key="dst")["Body"].read() == b"source"
    assert c3.get_object(Bucket=b, Key="new")["Body"].read() == b"source"


# --------------------------------------------------------------------------
# CompleteMultipartUpload
# --------------------------------------------------------------------------

def upload(c, b, key, sizes=(5 * MIB, 1), mode="sse-s3", checksum=None):
    extra = {"ChecksumAlgorithm": checksum} if checksum else {}
    u = c.create_multipart_upload(Bucket=b, Key=key, **sse_args(mode), **extra)
    parts = []
    for n, size in enumerate(sizes, start=1):
        p = c.upload_part(Bucket=b, Key=key, UploadId=u["UploadId"], PartNumber=n,
                          Body=bytes([n]) * size, **read_args(mode), **extra)
        entry = {"ETag": p["ETag"], "PartNumber": n}
        if checksum:
            entry["Checksum" + checksum] = p["Checksum" + checksum]
        parts.append(entry)
    return u["UploadId"], {"Parts": parts}


def test_complete_conditions(c3):
    b = new_bucket(c3)
    etag = c3.put_object(Bucket=b, Key="k", Body=b"exists")["ETag"]
    uid, parts = upload(c3, b, "k")
    st, code, err = outcome(INM, c3.complete_multipart_upload, Bucket=b, Key="k", UploadId=uid,
                            MultipartUpload=parts)
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-None-Match")
    st, code, err = outcome(if_match('"ffff"'), c3.complete_multipart_upload, Bucket=b, Key="k",
                            UploadId=uid, MultipartUpload=parts)
    assert (st, code, err["Condition"]) == (412, "PreconditionFailed", "If-Match")
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"exists"
    # The upload survives a failed condition; the right one completes it.
    r = outcome(if_match(etag), c3.complete_multipart_upload, Bucket=b, Key="k", UploadId=uid,
                MultipartUpload=parts)
    assert r[0] == "ok", r
    assert c3.head_object(Bucket=b, Key="k")["ContentLength"] == 5 * MIB + 1
    # If-Match on a key with no object: NoSuchKey.
    uid2, parts2 = upload(c3, b, "fresh")
    st, code, _ = outcome(if_match(etag), c3.complete_multipart_upload, Bucket=b, Key="fresh",
                          UploadId=uid2, MultipartUpload=parts2)
    assert (st, code) == (404, "NoSuchKey")
    assert outcome(INM, c3.complete_multipart_upload, Bucket=b, Key="fresh", UploadId=uid2,
                   MultipartUpload=parts2)[0] == "ok"


@pytest.mark.parametrize("cond", ["none-match", "match"])
def test_complete_conflict_with_write_during_upload(c3, cond):
    """The key is written while the upload is in progress: the conditional Complete is AWS's
    409 ConditionalRequestConflict, and the upload must be started again (AWS: re-initiate
    and re-upload each part)."""
    b = new_bucket(c3)
    etag = c3.put_object(Bucket=b, Key="k", Body=b"before")["ETag"]
    uid, parts = upload(c3, b, "k")
    c3.put_object(Bucket=b, Key="k", Body=b"during")
    hdrs = INM if cond == "none-match" else if_match(etag)
    st, code, err = outcome(hdrs, c3.complete_multipart_upload, Bucket=b, Key="k",
                            UploadId=uid, MultipartUpload=parts)
    assert (st, code) == (409, "ConditionalRequestConflict")
    assert err["Condition"] == ("If-None-Match" if cond == "none-match" else "If-Match")
    assert err["Message"] == ("The conditional request cannot succeed due to a conflicting "
                              "operation against this resource.")
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"during"
    with pytest.raises(ClientError) as ei:
        c3.list_parts(Bucket=b, Key="k", UploadId=uid)
    assert error_of(ei) == (404, "NoSuchUpload")


@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
def test_concurrent_conditional_completes_one_wins(server, c3, versioned):
    """16 uploads of one key, completed at once with If-None-Match: * (a lock taken with a
    multipart object): exactly one object. For the others the key was written while their
    upload was in progress: AWS's 409 ConditionalRequestConflict, and the upload is over."""
    b = new_bucket(c3, versioned)
    ups = [upload(c3, b, "lock", sizes=(1,)) for _ in range(N_CLIENTS)]
    res = race(server, N_CLIENTS, lambda c, i: outcome(
        INM, c.complete_multipart_upload, Bucket=b, Key="lock", UploadId=ups[i][0],
        MultipartUpload=ups[i][1]))
    assert sum(r[0] == "ok" for r in res) == 1, res
    assert sorted((r[0], r[1], r[2]["Condition"]) for r in res if r[0] != "ok") == \
        [(409, "ConditionalRequestConflict", "If-None-Match")] * 15
    assert c3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    if versioned:
        assert len(c3.list_object_versions(Bucket=b)["Versions"]) == 1


# --------------------------------------------------------------------------
# A repeated CompleteMultipartUpload
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_repeated_complete_same_answer(c3, mode):
    b = new_bucket(c3, versioned=True)
    uid, parts = upload(c3, b, "big", mode=mode, checksum="CRC32")
    extra = ssec_headers(mode)
    first = call(extra, c3.complete_multipart_upload, Bucket=b, Key="big", UploadId=uid,
                 MultipartUpload=parts)
    assert first["ChecksumCRC32"].endswith("-2")
    for _ in range(2):
        again = call(extra, c3.complete_multipart_upload, Bucket=b, Key="big", UploadId=uid,
                     MultipartUpload=parts)
        for f in ("ETag", "VersionId", "ChecksumCRC32", "Bucket", "Key", "Location",
                  "ServerSideEncryption"):
            assert again.get(f) == first.get(f), f
    # Still the same object, one version.
    vs = c3.list_object_versions(Bucket=b)["Versions"]
    assert [v["VersionId"] for v in vs] == [first["VersionId"]]
    # A newer version does not change the answer: the version it made is still there.
    c3.put_object(Bucket=b, Key="big", Body=b"newer", **sse_args(mode))
    again = call(extra, c3.complete_multipart_upload, Bucket=b, Key="big", UploadId=uid,
                 MultipartUpload=parts)
    assert (again["ETag"], again["VersionId"]) == (first["ETag"], first["VersionId"])
    # Other parts than the first Complete's: AWS's InvalidPart, no re-complete.
    other = {"Parts": parts["Parts"][:1]}
    with pytest.raises(ClientError) as ei:
        call(extra, c3.complete_multipart_upload, Bucket=b, Key="big", UploadId=uid,
             MultipartUpload=other)
    assert error_of(ei) == (400, "InvalidPart")
    # The upload is no longer in progress for anything else.
    with pytest.raises(ClientError) as ei:
        c3.upload_part(Bucket=b, Key="big", UploadId=uid, PartNumber=3, Body=b"x",
                       **read_args(mode))
    assert error_of(ei) == (404, "NoSuchUpload")
    assert c3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []


def test_repeated_complete_after_overwrite_or_delete(c3):
    """The object the upload made is gone (overwritten in an unversioned bucket, or its
    version deleted): there is no first answer to repeat, and the upload is NoSuchUpload."""
    b = new_bucket(c3)
    uid, parts = upload(c3, b, "k")
    c3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid, MultipartUpload=parts)
    c3.put_object(Bucket=b, Key="k", Body=b"overwritten")
    with pytest.raises(ClientError) as ei:
        c3.complete_multipart_upload(Bucket=b, Key="k", UploadId=uid, MultipartUpload=parts)
    assert error_of(ei) == (404, "NoSuchUpload")
    assert c3.get_object(Bucket=b, Key="k")["Body"].read() == b"overwritten"

    vb = new_bucket(c3, versioned=True)
    uid, parts = upload(c3, vb, "k")
    done = c3.complete_multipart_upload(Bucket=vb, Key="k", UploadId=uid, MultipartUpload=parts)
    # A delete marker keeps the version: still answered.
    c3.delete_object(Bucket=vb, Key="k")
    again = c3.complete_multipart_upload(Bucket=vb, Key="k", UploadId=uid,
                                         MultipartUpload=parts)
    assert again["VersionId"] == done["VersionId"]
    c3.delete_object(Bucket=vb, Key="k", VersionId=done["VersionId"])
    with pytest.raises(ClientError) as ei:
        c3.complete_multipart_upload(Bucket=vb, Key="k", UploadId=uid, MultipartUpload=parts)
    assert error_of(ei) == (404, "NoSuchUpload")
    # Another key or an id never issued: NoSuchUpload as before.
    with pytest.raises(ClientError) as ei:
        c3.complete_multipart_upload(Bucket=vb, Key="other", UploadId=uid,
                                     MultipartUpload=parts)
    assert error_of(ei) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as ei:
        c3.complete_multipart_upload(Bucket=vb, Key="k", UploadId=uuid.uuid4().hex,
                                     MultipartUpload=parts)
    assert error_of(ei) == (404, "NoSuchUpload")


def test_concurrent_repeats_of_one_complete(server, c3):
    """An SDK's retry racing its original: every Complete of the upload gets the one
    result."""
    b = new_bucket(c3, versioned=True)
    uid, parts = upload(c3, b, "k", sizes=(5 * MIB, 5 * MIB, 3))
    res = race(server, N_CLIENTS, lambda c, i: outcome(
        {}, c.complete_multipart_upload, Bucket=b, Key="k", UploadId=uid, MultipartUpload=parts))
    assert all(r[0] == "ok" for r in res), [r[:2] for r in res if r[0] != "ok"]
    assert len({(r[1]["ETag"], r[1]["VersionId"]) for r in res}) == 1
    assert len(c3.list_object_versions(Bucket=b)["Versions"]) == 1


def test_repeated_complete_with_if_none_match(c3):
    """A Terraform-style lock taken with a conditional Complete: its retry is the first
    answer, not 412 against the object it made itself."""
    b = new_bucket(c3)
    uid, parts = upload(c3, b, "lock", sizes=(1,))
    first = call(INM, c3.complete_multipart_upload, Bucket=b, Key="lock", UploadId=uid,
                 MultipartUpload=parts)
    again = call(INM, c3.complete_multipart_upload, Bucket=b, Key="lock", UploadId=uid,
                 MultipartUpload=parts)
    assert again["ETag"] == first["ETag"]


def test_js_sdk_native_conditions(server):
    """The latest JavaScript SDK v3 has IfNoneMatch / IfMatch of its own (the aws CLI in Debian,
    2.9, has no --if-none-match yet): the same answers through it."""
    js_dir = os.path.join(os.path.dirname(__file__), "js")
    if not os.path.exists(os.path.join(js_dir, "node_modules", "@aws-sdk", "client-s3")):
        pytest.fail("npm dependencies missing: run `npm ci` in tests/integration/js "
                    "(./test.sh does)")
    node = shutil.which("node") or "/usr/bin/node"
    p = subprocess.run([node, "conditional_flow.mjs", server.endpoint, unique_name("js")],
                       cwd=js_dir, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    for name in ("lock", "cas"):
        ok = [r for r in out[name] if r["ok"]]
        assert len(ok) == 1, out[name]
        assert [(r["status"], r["code"]) for r in out[name] if not r["ok"]] == \
            [(412, "PreconditionFailed")] * 15
    winner = next(i for i, r in enumerate(out["lock"]) if r["ok"])
    assert out["lockBody"] == f"holder {winner}"
    assert (out["casMissing"]["status"], out["casMissing"]["code"]) == (404, "NoSuchKey")
    assert (out["copy"]["status"], out["copy"]["code"]) == (412, "PreconditionFailed")
    assert out["complete"]["ok"] and out["completeAgain"]["ok"]
    assert out["completeAgain"]["etag"] == out["complete"]["etag"]


# --------------------------------------------------------------------------
# Empty user-metadata values
# --------------------------------------------------------------------------

def test_empty_metadata_value_kept(server, c3):
    b = new_bucket(c3)
    r = raw_request(server.port, "PUT", f"/{b}/k", body=b"x",
                    headers={"x-amz-meta-a": "", "x-amz-meta-b": "v"})
    assert r.status == 200
    h = raw_request(server.port, "HEAD", f"/{b}/k")
    assert h.header("x-amz-meta-a") == "" and h.header("x-amz-meta-b") == "v"
    assert c3.head_object(Bucket=b, Key="k")["Metadata"] == {"a": "", "b": "v"}
    assert c3.get_object(Bucket=b, Key="k")["Metadata"] == {"a": "", "b": "v"}
    # CopyObject with REPLACE, CreateMultipartUpload.
    c3.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k"},
                   MetadataDirective="REPLACE", Metadata={"e": ""})
    assert c3.head_object(Bucket=b, Key="c")["Metadata"] == {"e": ""}
    c3.copy_object(Bucket=b, Key="c2", CopySource={"Bucket": b, "Key": "k"})
    assert c3.head_object(Bucket=b, Key="c2")["Metadata"] == {"a": "", "b": "v"}
    u = c3.create_multipart_upload(Bucket=b, Key="m", Metadata={"m": ""})
    p = c3.upload_part(Bucket=b, Key="m", UploadId=u["UploadId"], PartNumber=1, Body=b"z")
    c3.complete_multipart_upload(Bucket=b, Key="m", UploadId=u["UploadId"], MultipartUpload={
        "Parts": [{"ETag": p["ETag"], "PartNumber": 1}]})
    assert c3.head_object(Bucket=b, Key="m")["Metadata"] == {"m": ""}
    # POST Object (browser form): an empty x-amz-meta-* field.
    from test_post_object import post_form
    r = post_form(server.port, b, {"key": "form", "x-amz-meta-f": "", "x-amz-meta-g": "w"},
                  b"form body")
    assert r.status in (200, 204), r
    assert c3.head_object(Bucket=b, Key="form")["Metadata"] == {"f": "", "g": "w"}


# --------------------------------------------------------------------------
# Content-Encoding: gzip, aws-chunked on a plain body
# --------------------------------------------------------------------------

@pytest.mark.parametrize("ce,stored", [("gzip, aws-chunked", "gzip"),
                                        ("aws-chunked,gzip", "gzip"),
                                        ("aws-chunked", None)])
def test_aws_chunked_encoding_on_plain_body(server, ce, stored):
    b = unique_name("cw")
    assert raw_request(server.port, "PUT", f"/{b}").status == 200
    body = base64.b64decode("H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==")  # gzip of "hello"
    r = raw_request(server.port, "PUT", f"/{b}/g", body=body,
                    headers={"Content-Encoding": ce, "Content-Type": "text/plain"})
    assert r.status == 200, r
    assert r.header("ETag") == '"' + hashlib.md5(body).hexdigest() + '"'
    g = raw_request(server.port, "GET", f"/{b}/g")
    assert g.status == 200 and g.body == body
    assert g.header("Content-Encoding") == stored
    assert g.header("Content-Type") == "text/plain"


def test_aws_chunked_with_decoded_length_still_decoded(server):
    """The framed form is unchanged: with x-amz-decoded-content-length the body is
    aws-chunked and decoded."""
    b = unique_name("cw")
    assert raw_request(server.port, "PUT", f"/{b}").status == 200
    framed = b"5\r\nhello\r\n0\r\n\r\n"
    r = raw_request(server.port, "PUT", f"/{b}/f", body=framed, auth=None,
                    headers={"Content-Encoding": "gzip, aws-chunked",
                             "x-amz-decoded-content-length": "5",
                             "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
    assert r.status == 200, r
    g = raw_request(server.port, "GET", f"/{b}/f")
    assert g.body == b"hello" and g.header("Content-Encoding") == "gzip"
