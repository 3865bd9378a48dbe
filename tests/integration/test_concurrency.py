"""Concurrent load on the same keys, with real boto3 clients in threads (issue 14, item 6,
"Threads"): overwrites, deletes, listing, copies, tagging, multipart uploads, versioning turned
on and suspended, and bucket policies put and deleted while requests run.

Every body names itself (key, writer, sequence number) and is registered before it is sent, so
each check is exact: a GET returns one complete body that was written to that key (never a mix
of two, never a truncated one), a listing shows only sizes and ETags of complete bodies, and
after the load the listing, HEAD and GET agree key by key.

The same file runs in the normal, the ASan+UBSan and the ThreadSanitizer builds (see
scripts/test-tsan.sh); the server is stopped at the end of each test and must exit 0 with no
sanitizer report in its log. COFFER_CONCURRENCY_SECONDS sets how long each load runs (4 s).
"""

import hashlib
import json
import os
import random
import socket
import subprocess
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, error_of, make_s3, raw_request, server_env, sigv4_headers

SECONDS = float(os.environ.get("COFFER_CONCURRENCY_SECONDS", "4"))
SEG = 64 * 1024  # coffer's encryption segment
SIZES = (40, 4096, SEG - 1, SEG, SEG + 1, 3 * SEG + 17, 1024 * 1024 + 5)
KEYS = ("k0", "k1", "dir/k2")
MIN_PART = 5 * 1024 * 1024


def body_for(tag, size):
    """`tag|` then a pattern derived from the tag, `size` bytes in all: names itself."""
    head = tag.encode() + b"|"
    seed = hashlib.sha256(head).digest()
    reps = (size - len(head)) // len(seed) + 1
    return head + (seed * reps)[: size - len(head)]


class Registry:
    """Every body offered to the server, registered before it is sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.etags = {}  # ETag (quoted) -> size
        self.bodies = {}  # md5 hex -> tag
        self.later = []  # ETags seen before the PUT that made them had answered (SSE-KMS)
        self.quiet = False  # set by finish(): no PUT in flight any more

    def add(self, tag, body, etag=None):
        md5 = hashlib.md5(body).hexdigest()
        with self.lock:
            self.bodies[md5] = tag
            self.etags[f'"{md5}"'] = len(body)
            if etag:
                self.etags[etag] = len(body)

    def add_etag(self, etag, size):
        """An ETag that is not the body's MD5 (SSE-KMS), known once the PUT has answered."""
        with self.lock:
            self.etags[etag] = size

    def check_body(self, key, body, keys=None):
        """The body is one complete registered body written to `key` (or one of `keys`)."""
        md5 = hashlib.md5(body).hexdigest()
        with self.lock:
            tag = self.bodies.get(md5)
        assert tag is not None, (f"GET {key}: {len(body)} bytes that were never written "
                                 f"(a mix or a truncation), starting {body[:60]!r}")
        assert tag.split("|")[0] in (keys or (key,)), (key, tag)
        return tag

    def check_listed(self, where, entry, final=False):
        with self.lock:
            size = self.etags.get(entry["ETag"])
            if size is None and not (final or self.quiet):
                self.later.append((where, entry))  # checked by finish()
                return
        assert size == entry["Size"], (
            f"{where}: listed {entry['Key']} with ETag {entry['ETag']} size {entry['Size']}:"
            " not a complete body")


    def finish(self):
        """Once every PUT has answered: the ETags seen early belong to complete bodies."""
        self.quiet = True
        for where, entry in self.later:
            self.check_listed(where, entry, final=True)


class Load:
    """Worker threads, each with its own client, looping until the time is up."""

    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.errors = []
        self.counts = {}
        self.threads = []

    def add(self, name, fn):
        s3 = make_s3(self.server.endpoint)  # one client per thread, made here (not thread-safe)
        rng = random.Random(name)

        def loop():
            n = 0
            try:
                while not self.stop.is_set():
                    fn(s3, rng, n)
                    n += 1
                    self.counts[name] = n
            except Exception as e:  # noqa: BLE001 - reported by run()
                self.errors.append(f"{name} after {n} rounds: {type(e).__name__}: {e}")
                self.stop.set()
            self.counts[name] = n

        self.threads.append(threading.Thread(target=loop, name=name, daemon=True))

    def run(self, seconds=SECONDS, min_rounds=3):
        """Runs `seconds`, and on a slow machine longer (up to 8 times) until every worker has
        done `min_rounds` rounds, so that they really overlapped."""
        for t in self.threads:
            t.start()
        self.stop.wait(seconds)
        deadline = time.monotonic() + 7 * seconds
        while (not self.stop.is_set() and time.monotonic() < deadline and
               any(self.counts.get(t.name, 0) < min_rounds for t in self.threads)):
            time.sleep(0.1)
        self.stop.set()
        for t in self.threads:
            t.join(120)
            assert not t.is_alive(), f"{t.name} still running 120 s after the stop"
        if self.errors and not self.server.running:  # e.g. a sanitizer stopped it: say why
            self.errors.append("coffer is no longer running\n" + self.server.logs())
        assert not self.errors, "\n".join(self.errors)
        print("rounds per worker:", self.counts)
        few = {t.name: self.counts.get(t.name, 0) for t in self.threads
               if self.counts.get(t.name, 0) < min_rounds}
        assert not few, f"workers that barely ran (no real overlap): {few}"
        return self.counts


def status_code(fn, *allowed, **kw):
    """Calls fn(**kw); returns its result, or the S3 error code if it is one of `allowed`."""
    try:
        return fn(**kw)
    except ClientError as e:
        st, code = error_of(e)
        if code in allowed or str(st) in allowed:
            return code
        raise


def read_body(s3, bucket, key, registry, keys=None, **kw):
    # A listed "null" version may meanwhile have become a delete marker (a DELETE while
    # versioning is Suspended replaces it): GET of a marker's version id is 405, as in AWS.
    gone = ("NoSuchKey", "NoSuchVersion") + (("MethodNotAllowed",) if "VersionId" in kw else ())
    r = status_code(s3.get_object, *gone, Bucket=bucket, Key=key, **kw)
    if isinstance(r, str):
        return r
    body = r["Body"].read()
    assert len(body) == r["ContentLength"], (key, len(body), r["ContentLength"])
    registry.check_body(key, body, keys)
    if r.get("ServerSideEncryption") == "aws:kms":  # its ETag is not the MD5 (as in AWS)
        registry.check_listed(f"GET {key}", {"Key": key, "ETag": r["ETag"], "Size": len(body)})
    elif "-" not in r["ETag"]:  # a single PUT's ETag is the MD5 of the body
        assert r["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', (key, r["ETag"])
    return r


@pytest.fixture
def srv(coffer_factory):
    return coffer_factory()


# --------------------------------------------------------------------------
# overwrites, deletes, GETs, listings, copies, tags and policies on the same keys
# --------------------------------------------------------------------------

DENY_PUT = {"Version": "2012-10-17", "Statement": [{
    "Sid": "deny-put", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::%s/denied/*"}]}
DENY_GET = {"Version": "2012-10-17", "Statement": [{
    "Sid": "deny-get", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/denied/*"}]}


def policy_text(doc, bucket):
    return json.dumps(doc) % bucket


def tag_safe(tag):
    return tag.replace("|", ":")  # '|' is not allowed in a tag value


def tagset_for(tag):
    return [{"Key": "writer", "Value": tag}, {"Key": "a", "Value": tag + "a"},
            {"Key": "b", "Value": tag + "b"}]


def check_tags(key, tagset):
    if not tagset:  # a PUT without tags replaced the object
        return
    got = {t["Key"]: t["Value"] for t in tagset}
    w = got.get("writer")
    assert got == {"writer": w, "a": w + "a", "b": w + "b"}, f"{key}: mixed tag set {got}"


def test_same_keys_mixed_load(srv):
    bucket = "conc"
    s3 = srv.client()
    s3.create_bucket(Bucket=bucket)
    reg = Registry()
    load = Load(srv)
    policies = [policy_text(DENY_PUT, bucket), policy_text(DENY_GET, bucket)]

    def writer(w):
        def put(c, rng, n):
            key = rng.choice(KEYS)
            tag = f"{key}|w{w}|{n}"
            body = body_for(tag, rng.choice(SIZES))
            reg.add(tag, body)
            t = tag_safe(tag)
            kw = {"Tagging": f"writer={t}&a={t}a&b={t}b"} if n % 2 else {}
            if n % 3 == 2:  # SSE-KMS under the account's aws/s3 key, made by the first of them
                kw["ServerSideEncryption"] = "aws:kms"
            r = c.put_object(Bucket=bucket, Key=key, Body=body, **kw)
            if r["ServerSideEncryption"] == "aws:kms":
                reg.add_etag(r["ETag"], len(body))
            else:
                assert r["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        return put

    def reader(c, rng, n):
        read_body(c, bucket, rng.choice(KEYS), reg)

    def ranged_reader(c, rng, n):
        key = rng.choice(KEYS)
        r = status_code(c.get_object, "NoSuchKey", "InvalidRange", Bucket=bucket, Key=key,
                        Range="bytes=0-70000")
        if not isinstance(r, str):
            part = r["Body"].read()
            tag = part.split(b"|")[0:3]
            assert tag[0].decode() == key, (key, part[:40])
            full = body_for(b"|".join(tag).decode(), int(r["ContentRange"].split("/")[1]))
            assert part == full[:70001], f"{key}: range of a body that was never written"

    def deleter(c, rng, n):
        time.sleep(0.05)
        r = c.delete_object(Bucket=bucket, Key=rng.choice(KEYS))
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
        if n % 5 == 0:
            r = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in KEYS]})
            assert not r.get("Errors"), r["Errors"]

    def lister(c, rng, n):
        r = c.list_objects_v2(Bucket=bucket)
        keys = [o["Key"] for o in r.get("Contents", [])]
        assert keys == sorted(keys) and len(keys) == len(set(keys)), keys
        for o in r.get("Contents", []):
            reg.check_listed("ListObjectsV2", o)
        r = c.list_objects(Bucket=bucket, Prefix="dir/", Delimiter="/")
        for o in r.get("Contents", []):
            reg.check_listed("ListObjects", o)

    def copier(c, rng, n):
        r = status_code(c.copy_object, "NoSuchKey", Bucket=bucket, Key="copy",
                        CopySource={"Bucket": bucket, "Key": rng.choice(KEYS)})
        if not isinstance(r, str):
            got = status_code(c.head_object, "404", Bucket=bucket, Key="copy")
            assert got["ETag"] == r["CopyObjectResult"]["ETag"]  # only this thread writes it
            reg.add_etag(got["ETag"], got["ContentLength"])
            read_body(c, bucket, "copy", reg, keys=KEYS)

    def tagger(c, rng, n):
        key = rng.choice(KEYS)
        tag = f"{key}|t|{n}"
        status_code(c.put_object_tagging, "NoSuchKey", Bucket=bucket, Key=key,
                    Tagging={"TagSet": tagset_for(tag_safe(tag))})
        r = status_code(c.get_object_tagging, "NoSuchKey", Bucket=bucket, Key=key)
        if not isinstance(r, str):
            check_tags(key, r["TagSet"])

    def policy_changer(c, rng, n):
        if n % 3 == 2:
            c.delete_bucket_policy(Bucket=bucket)
        else:
            c.put_bucket_policy(Bucket=bucket, Policy=policies[n % 3])
        r = status_code(c.get_bucket_policy, "NoSuchBucketPolicy", Bucket=bucket)
        if not isinstance(r, str):
            assert r["Policy"] in policies, r["Policy"]

    def policy_prober(c, rng, n):
        body = body_for(f"denied/x|p|{n}", 100)
        reg.add(f"denied/x|p|{n}", body)
        r = status_code(c.put_object, "AccessDenied", Bucket=bucket, Key="denied/x", Body=body)
        if not isinstance(r, str):
            reg.add_etag(r["ETag"], len(body))
        r = status_code(c.get_object, "AccessDenied", "NoSuchKey", Bucket=bucket, Key="denied/x")
        if not isinstance(r, str):
            reg.check_body("denied/x", r["Body"].read())

    def churner(c, rng, n):
        """Connections that come and go: a request line cut short, a PUT whose body stops
        halfway (that object must never appear), one request per connection."""
        key = rng.choice(KEYS)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            s.sendall(f"GET /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        body = body_for(f"{key}|cut|{n}", 200_000)  # never registered: must never be read
        host = f"127.0.0.1:{srv.port}"
        h = sigv4_headers("PUT", host, f"/{bucket}/{key}", {"Content-Length": str(len(body))}, body)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
            s.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\n{head}\r\n".encode() + body[:70_000])
        r = raw_request(srv.port, "GET", f"/{bucket}/{key}", headers={"Connection": "close"})
        assert r.status in (200, 404), r
        if r.status == 200:
            reg.check_body(key, r.body)

    def configurer(c, rng, n):
        """Bucket default encryption and CORS put and deleted while objects are written."""
        step = n % 4
        if step == 0:
            c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
        elif step == 1:
            c.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
                {"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"]}]})
        elif step == 2:
            c.delete_bucket_encryption(Bucket=bucket)
        else:
            c.delete_bucket_cors(Bucket=bucket)
        r = raw_request(srv.port, "OPTIONS", f"/{bucket}/k0", auth=None, headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "PUT"})
        assert r.status in (200, 403), r
        if r.status == 200:
            assert r.header("Access-Control-Allow-Origin") == "https://app.example", r

    for w in range(3):
        load.add(f"writer{w}", writer(w))
    for i in range(2):
        load.add(f"reader{i}", reader)
    load.add("churn", churner)
    load.add("configurer", configurer)
    load.add("ranged", ranged_reader)
    load.add("deleter", deleter)
    load.add("lister", lister)
    load.add("copier", copier)
    load.add("tagger", tagger)
    load.add("policy", policy_changer)
    load.add("prober", policy_prober)
    load.run()
    reg.finish()

    # Quiet now: the listing, HEAD and GET agree on every key.
    s3.delete_bucket_policy(Bucket=bucket)
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    for key in KEYS + ("copy", "denied/x"):
        r = read_body(s3, bucket, key, reg, keys=KEYS if key == "copy" else None)
        if key not in listed:
            assert r == "NoSuchKey", f"{key} is readable but not listed"
            continue
        assert not isinstance(r, str), f"{key} is listed but GET says {r}"
        h = s3.head_object(Bucket=bucket, Key=key)
        assert (h["ETag"], h["ContentLength"]) == (r["ETag"], r["ContentLength"]) == (
            listed[key]["ETag"], listed[key]["Size"]), key
        check_tags(key, s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])
    # the policy still works after all that
    s3.put_bucket_policy(Bucket=bucket, Policy=policies[0])
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="denied/y", Body=b"x")
    assert error_of(e) == (403, "AccessDenied")


# --------------------------------------------------------------------------
# multipart uploads of the same keys, with GETs and single PUTs in between
# --------------------------------------------------------------------------

def multipart_etag(parts):
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def test_multipart_same_keys(srv):
    bucket = "mpconc"
    s3 = srv.client()
    s3.create_bucket(Bucket=bucket)
    reg = Registry()
    load = Load(srv)
    keys = ("m0", "m1")
    for key in keys:
        body = body_for(f"{key}|first|0", 100)
        reg.add(f"{key}|first|0", body)
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    def uploader(u):
        def upload(c, rng, n):
            key = rng.choice(keys)
            tag = f"{key}|u{u}|{n}"
            whole = body_for(tag, MIN_PART + rng.choice((1, SEG + 3, 200_000)))
            parts = [whole[:MIN_PART], whole[MIN_PART:]]
            reg.add(tag, whole, multipart_etag(parts))
            up = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            done = [{"PartNumber": i + 1,
                     "ETag": c.upload_part(Bucket=bucket, Key=key, UploadId=up,
                                           PartNumber=i + 1, Body=p)["ETag"]}
                    for i, p in reversed(list(enumerate(parts)))]
            if n % 4 == 3:
                c.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
                return
            r = c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                            MultipartUpload={"Parts": done[::-1]})
            assert r["ETag"] == multipart_etag(parts)
        return upload

    def putter(c, rng, n):
        key = rng.choice(keys)
        tag = f"{key}|s|{n}"
        body = body_for(tag, rng.choice(SIZES))
        reg.add(tag, body)
        c.put_object(Bucket=bucket, Key=key, Body=body)
        time.sleep(0.1)

    def reader(c, rng, n):
        read_body(c, bucket, rng.choice(keys), reg)

    def lister(c, rng, n):
        for o in c.list_objects_v2(Bucket=bucket).get("Contents", []):
            reg.check_listed("ListObjectsV2", o)
        for u in c.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            assert u["Key"] in keys
            r = status_code(c.list_parts, "NoSuchUpload", Bucket=bucket, Key=u["Key"],
                            UploadId=u["UploadId"])
            if not isinstance(r, str):
                for p in r.get("Parts", []):
                    assert p["PartNumber"] in (1, 2) and p["Size"] > 0, p

    for u in range(3):
        load.add(f"uploader{u}", uploader(u))
    load.add("putter", putter)
    for i in range(2):
        load.add(f"reader{i}", reader)
    load.add("lister", lister)
    load.run(seconds=SECONDS * 1.5, min_rounds=2)

    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert sorted(listed) == list(keys)
    for key in keys:
        r = read_body(s3, bucket, key, reg)
        assert (r["ETag"], r["ContentLength"]) == (listed[key]["ETag"], listed[key]["Size"])


# --------------------------------------------------------------------------
# versioning turned on and suspended while versions are written and deleted
# --------------------------------------------------------------------------

def test_versioning_toggled_under_load(srv):
    bucket = "verconc"
    s3 = srv.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    reg = Registry()
    load = Load(srv)

    def versions(c):
        r = c.list_object_versions(Bucket=bucket)
        return r.get("Versions", []), r.get("DeleteMarkers", [])

    def writer(w):
        def put(c, rng, n):
            key = rng.choice(KEYS)
            tag = f"{key}|w{w}|{n}"
            body = body_for(tag, rng.choice(SIZES[:5]))
            reg.add(tag, body)
            c.put_object(Bucket=bucket, Key=key, Body=body)
        return put

    def toggler(c, rng, n):
        status = "Suspended" if n % 2 == 0 else "Enabled"
        c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        assert c.get_bucket_versioning(Bucket=bucket)["Status"] in ("Enabled", "Suspended")
        time.sleep(0.1)

    def deleter(c, rng, n):
        time.sleep(0.05)
        if n % 2:
            c.delete_object(Bucket=bucket, Key=rng.choice(KEYS))
            return
        vs, dms = versions(c)
        if vs or dms:
            v = rng.choice(vs + dms)
            r = c.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 204

    def reader(c, rng, n):
        read_body(c, bucket, rng.choice(KEYS), reg)
        vs, _ = versions(c)
        for v in vs:
            reg.check_listed("ListObjectVersions", v)
        if vs:
            v = rng.choice(vs)
            read_body(c, bucket, v["Key"], reg, VersionId=v["VersionId"])

    for w in range(3):
        load.add(f"writer{w}", writer(w))
    load.add("toggler", toggler)
    load.add("deleter", deleter)
    for i in range(2):
        load.add(f"reader{i}", reader)
    load.run()

    vs, dms = versions(s3)
    for key in KEYS:
        mine = [v for v in vs + dms if v["Key"] == key]
        ids = [v["VersionId"] for v in mine]
        assert len(ids) == len(set(ids)), f"{key}: a version id listed twice: {ids}"
        assert ids.count("null") <= 1, f"{key}: more than one null version: {ids}"
        latest = [v for v in mine if v["IsLatest"]]
        assert len(latest) == (1 if mine else 0), f"{key}: IsLatest on {latest}"
        for v in (v for v in vs if v["Key"] == key):
            r = read_body(s3, bucket, key, reg, VersionId=v["VersionId"])
            assert (r["ETag"], r["ContentLength"]) == (v["ETag"], v["Size"]), (key, v)
        r = read_body(s3, bucket, key, reg)
        if not latest or latest[0] in dms:
            assert r == "NoSuchKey", f"{key}: latest is a delete marker (or none) but GET works"
        else:
            assert r["VersionId"] == latest[0]["VersionId"], (key, r["VersionId"], latest)


# --------------------------------------------------------------------------
# root key rotation (another process rewriting the keyring and the data keys) under load
# --------------------------------------------------------------------------

def test_key_rotation_under_load(srv):
    bucket = "rotconc"
    s3 = srv.client()
    s3.create_bucket(Bucket=bucket)
    reg = Registry()
    load = Load(srv)
    rotations = []

    def writer(w):
        def put(c, rng, n):
            key = rng.choice(KEYS)
            tag = f"{key}|w{w}|{n}"
            body = body_for(tag, rng.choice(SIZES[:6]))
            reg.add(tag, body)
            c.put_object(Bucket=bucket, Key=key, Body=body)
        return put

    def reader(c, rng, n):
        read_body(c, bucket, rng.choice(KEYS), reg)

    def rotator(c, rng, n):
        cmd = "rotate" if n % 3 == 0 else "rewrap"
        p = subprocess.run([COFFER_BIN, "keys", cmd, "--data-dir", str(srv.data_dir),
                            "--root-key-file", str(srv.root_key)],
                           capture_output=True, text=True, env=server_env(), timeout=120)
        assert p.returncode == 0, f"coffer keys {cmd}: {p.returncode}\n{p.stdout}\n{p.stderr}"
        assert "ThreadSanitizer" not in p.stderr, p.stderr
        assert " 0 failed" in p.stdout, p.stdout
        rotations.append(cmd)
        time.sleep(0.2)

    for w in range(2):
        load.add(f"writer{w}", writer(w))
    for i in range(2):
        load.add(f"reader{i}", reader)
    load.add("rotator", rotator)
    load.run(min_rounds=2)
    assert "rotate" in rotations

    for key in KEYS:
        assert not isinstance(read_body(s3, bucket, key, reg), str), key
