"""PutObject, GetObject, HeadObject, DeleteObject: bytes, headers, metadata,
Content-MD5, keys; and the streaming memory bound."""

import base64
import datetime
import hashlib
import os
import random
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import ASAN, RFC1123_RE, error_of, etag_of, hdrs, unique_name

KIB = 1024
MIB = 1024 * 1024

SIZES = [0, 1, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 5 * MIB]


@pytest.mark.parametrize("size", SIZES, ids=[str(s) for s in SIZES])
def test_put_get_head_delete_exact_bytes(s3, bucket, size):
    data = os.urandom(size)
    key = f"obj-{size}"
    p = s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert p["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert p["ETag"] == etag_of(data)
    assert hdrs(p)["x-amz-server-side-encryption"] == "AES256"

    g = s3.get_object(Bucket=bucket, Key=key)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200
    body = g["Body"].read()
    assert len(body) == size
    assert body == data
    assert g["ETag"] == etag_of(data)
    assert g["ContentLength"] == size
    assert hdrs(g)["x-amz-server-side-encryption"] == "AES256"
    assert hdrs(g)["accept-ranges"] == "bytes"

    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert h["ContentLength"] == size
    assert h["ETag"] == etag_of(data)
    assert h["ServerSideEncryption"] == "AES256"
    assert hdrs(h)["accept-ranges"] == "bytes"
    assert hdrs(h)["content-length"] == str(size)

    d = s3.delete_object(Bucket=bucket, Key=key)
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key)
    assert error_of(ei) == (404, "NoSuchKey")


def test_head_has_no_body(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello world")
    r = raw("HEAD", f"/{bucket}/k")
    assert r.status == 200
    assert r.body == b""
    assert r.header("Content-Length") == "11"
    assert r.header("ETag") == etag_of(b"hello world")


def test_overwrite_replaces_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version", Metadata={"v": "1"},
                  ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="k", Body=b"2nd")
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"2nd"
    assert g["Metadata"] == {}
    assert g["ContentType"] == "binary/octet-stream"
    assert g["ETag"] == etag_of(b"2nd")


def test_last_modified_and_date_headers(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    for method in ("GET", "HEAD"):
        r = raw(method, f"/{bucket}/k")
        assert r.status == 200
        lm = r.header("Last-Modified")
        assert lm and RFC1123_RE.match(lm), lm
        assert RFC1123_RE.match(r.header("Date", "")), r.header("Date")
        assert r.header("Accept-Ranges") == "bytes"
        assert r.header("x-amz-server-side-encryption") == "AES256"
        assert r.header("ETag") == etag_of(b"abc")
    h = s3.head_object(Bucket=bucket, Key="k")
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - h["LastModified"]).total_seconds()) < 86400


def test_put_response_headers(raw, bucket):
    r = raw("PUT", f"/{bucket}/k", body=b"payload")
    assert r.status == 200
    assert r.header("ETag") == etag_of(b"payload")
    assert r.header("x-amz-server-side-encryption") == "AES256"
    assert r.header("x-amz-request-id")
    assert r.header("x-amz-id-2")
    assert r.body == b""


# ---------------------------------------------------------------- request ids

def test_request_ids_on_every_response(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    missing = unique_name("missing")
    cases = [
        ("GET", "/", 200),
        ("PUT", f"/{bucket}/k2", 200),
        ("GET", f"/{bucket}/k", 200),
        ("HEAD", f"/{bucket}/k", 200),
        ("GET", f"/{bucket}", 200),
        ("GET", f"/{bucket}/nokey", 404),
        ("HEAD", f"/{bucket}/nokey", 404),
        ("GET", f"/{missing}", 404),
        ("HEAD", f"/{missing}", 404),
        ("DELETE", f"/{missing}", 404),
        ("PUT", "/Invalid_Name", 400),
        ("DELETE", f"/{bucket}/k2", 204),
    ]
    seen = set()
    for method, path, status in cases:
        r = raw(method, path)
        assert r.status == status, (method, path, r)
        rid = r.header("x-amz-request-id")
        assert rid, (method, path)
        assert r.header("x-amz-id-2"), (method, path)
        seen.add(rid)
    assert len(seen) == len(cases), "request ids must be unique per request"


# ---------------------------------------------------------------- metadata

def test_user_metadata_round_trip(s3, bucket, raw):
    meta = {"MyKey": "my value", "lower": "x", "UPPER-CASE": "Y"}
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata=meta)
    expected = {k.lower(): v for k, v in meta.items()}
    g = s3.get_object(Bucket=bucket, Key="m")
    assert g["Metadata"] == expected
    h = s3.head_object(Bucket=bucket, Key="m")
    assert h["Metadata"] == expected
    r = raw("HEAD", f"/{bucket}/m")
    names = [k for k in r.headers.keys() if k.lower().startswith("x-amz-meta-")]
    assert sorted(names) == sorted("x-amz-meta-" + k for k in expected)


def test_user_metadata_raw_mixed_case(raw, bucket):
    r = raw("PUT", f"/{bucket}/m", body=b"x",
            headers={"X-Amz-Meta-Camel-Case": "Value With Spaces"})
    assert r.status == 200
    g = raw("GET", f"/{bucket}/m")
    assert g.header("x-amz-meta-camel-case") == "Value With Spaces"
    assert "x-amz-meta-camel-case" in g.headers.keys()


def test_default_content_type(raw, bucket, s3):
    r = raw("PUT", f"/{bucket}/noctype", body=b"abc")
    assert r.status == 200
    g = raw("GET", f"/{bucket}/noctype")
    assert g.header("Content-Type") == "binary/octet-stream"
    assert s3.head_object(Bucket=bucket, Key="noctype")["ContentType"] == "binary/octet-stream"


def test_standard_headers_round_trip(s3, bucket, raw):
    expires = datetime.datetime(2037, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
    s3.put_object(
        Bucket=bucket, Key="h", Body=b"<p>hi</p>",
        ContentType="text/html; charset=utf-8",
        ContentEncoding="x-custom",
        ContentDisposition='attachment; filename="hi.html"',
        ContentLanguage="en-GB",
        CacheControl="max-age=3600, must-revalidate",
        Expires=expires,
    )
    for method in ("GET", "HEAD"):
        r = raw(method, f"/{bucket}/h")
        assert r.status == 200
        assert r.header("Content-Type") == "text/html; charset=utf-8"
        assert r.header("Content-Encoding") == "x-custom"
        assert r.header("Content-Disposition") == 'attachment; filename="hi.html"'
        assert r.header("Content-Language") == "en-GB"
        assert r.header("Cache-Control") == "max-age=3600, must-revalidate"
        assert r.header("Expires") == "Thu, 01 Jan 2037 00:00:00 GMT"
    g = s3.get_object(Bucket=bucket, Key="h")
    assert g["Body"].read() == b"<p>hi</p>"
    assert g["ContentType"] == "text/html; charset=utf-8"
    assert g["ContentLanguage"] == "en-GB"
    assert g["Expires"] == expires


# ---------------------------------------------------------------- Content-MD5

def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_content_md5_correct(s3, bucket):
    data = b"checked content"
    p = s3.put_object(Bucket=bucket, Key="md5", Body=data, ContentMD5=b64md5(data))
    assert p["ETag"] == etag_of(data)
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == data


@pytest.mark.parametrize("md5,code", [
    (b64md5(b"other content"), "BadDigest"),
    ("not base64 at all!!", "InvalidDigest"),
    (base64.b64encode(b"12345678").decode(), "InvalidDigest"),   # 8 bytes, not 16
    (base64.b64encode(b"x" * 17).decode(), "InvalidDigest"),
])
def test_content_md5_rejected_keeps_old_object(s3, bucket, raw, md5, code):
    original = b"the original body"
    s3.put_object(Bucket=bucket, Key="md5", Body=original, Metadata={"gen": "1"})
    r = raw("PUT", f"/{bucket}/md5", body=b"replacement body",
            headers={"Content-MD5": md5, "x-amz-meta-gen": "2"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == code
    g = s3.get_object(Bucket=bucket, Key="md5")
    assert g["Body"].read() == original
    assert g["Metadata"] == {"gen": "1"}
    assert g["ETag"] == etag_of(original)


def test_content_md5_bad_digest_boto3(s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5b", Body=b"one")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5b", Body=b"two", ContentMD5=b64md5(b"three"))
    assert error_of(ei) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="md5b")["Body"].read() == b"one"


def test_content_md5_bad_digest_new_key_not_created(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="never", Body=b"two", ContentMD5=b64md5(b"three"))
    assert error_of(ei) == (400, "BadDigest")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="never")
    assert error_of(ei)[0] == 404
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# ---------------------------------------------------------------- errors

def test_get_missing_key(s3, bucket, raw):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="no/such key")
    assert error_of(ei) == (404, "NoSuchKey")
    assert ei.value.response["Error"]["Key"] == "no/such key"
    r = raw("GET", f"/{bucket}/no/such%20key")
    assert r.status == 404
    root = r.xml()
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Key") == "no/such key"
    assert root.findtext("Message")
    assert root.findtext("RequestId") == r.header("x-amz-request-id")


def test_head_missing_key(s3, bucket, raw):
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="nope")
    assert error_of(ei) == (404, "404")
    r = raw("HEAD", f"/{bucket}/nope")
    assert r.status == 404
    assert r.body == b""


def test_get_from_missing_bucket(s3):
    name = unique_name("nob")
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=name, Key="k")
    assert error_of(ei) == (404, "NoSuchBucket")
    assert ei.value.response["Error"].get("BucketName") == name
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=name, Key="k")
    assert error_of(ei)[0] == 404


def test_put_to_missing_bucket(s3):
    name = unique_name("nob")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=name, Key="k", Body=b"data")
    assert error_of(ei) == (404, "NoSuchBucket")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_missing_key_is_204(s3, bucket):
    r = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_from_missing_bucket(s3):
    with pytest.raises(ClientError) as ei:
        s3.delete_object(Bucket=unique_name("nob"), Key="k")
    assert error_of(ei) == (404, "NoSuchBucket")


# ---------------------------------------------------------------- keys

ODD_KEYS = [
    "ключ/日本語/é",
    "with space",
    "  leading and trailing  ",
    "a+b",
    "100%",
    "%41%20",
    "what?",
    "hash#tag",
    "double//slash",
    "trailing/",
    "/leading-slash",
    "amp&eq=semi;",
    "tilde~star*quote'paren()",
    "emoji-😀",
    "tab\tkey",
]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys(s3, bucket, key):
    data = key.encode("utf-8") * 3
    p = s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert p["ETag"] == etag_of(data)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_odd_keys_are_distinct(s3, bucket):
    for i, k in enumerate(ODD_KEYS):
        s3.put_object(Bucket=bucket, Key=k, Body=str(i).encode())
    for i, k in enumerate(ODD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == str(i).encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed, key=lambda s: s.encode()) == listed
    assert sorted(listed) == sorted(ODD_KEYS)


def test_percent_encoded_path_is_decoded(raw, s3, bucket):
    r = raw("PUT", f"/{bucket}/{urllib.parse.quote('a b/ü+c', safe='/')}", body=b"1")
    assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="a b/ü+c")["Body"].read() == b"1"


def test_key_length_limits(s3, bucket):
    k1024 = "k" * 1024
    s3.put_object(Bucket=bucket, Key=k1024, Body=b"ok")
    assert s3.get_object(Bucket=bucket, Key=k1024)["Body"].read() == b"ok"
    k_utf8 = "é" * 512     # 1024 bytes in UTF-8
    s3.put_object(Bucket=bucket, Key=k_utf8, Body=b"ok2")
    assert s3.get_object(Bucket=bucket, Key=k_utf8)["Body"].read() == b"ok2"
    for long_key in ("k" * 1025, "é" * 512 + "x"):
        with pytest.raises(ClientError) as ei:
            s3.put_object(Bucket=bucket, Key=long_key, Body=b"no")
        assert error_of(ei) == (400, "KeyTooLongError")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted([k1024, k_utf8])


# ---------------------------------------------------------------- memory bound

class PseudoRandomStream:
    """Seekable file-like object yielding `size` pseudo-random bytes, holding
    only a 1 MiB block in memory."""

    BLOCK = 1024 * 1024

    def __init__(self, size, seed=1234):
        self.size = size
        rnd = random.Random(seed)
        self.block = rnd.randbytes(self.BLOCK)
        self.pos = 0

    def _chunk(self, index):
        shift = (index * 7919) % self.BLOCK
        b = self.block
        head = bytes([(index * 31 + 7) & 0xFF])
        return head + b[shift + 1:] + b[:shift]

    def chunk_at(self, pos, n):
        out = []
        while n > 0 and pos < self.size:
            idx, off = divmod(pos, self.BLOCK)
            c = self._chunk(idx)
            take = min(n, self.BLOCK - off, self.size - pos)
            out.append(c[off:off + take])
            pos += take
            n -= take
        return b"".join(out)

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.BLOCK)
        data = self.chunk_at(self.pos, n)
        self.pos += len(data)
        return data

    def seek(self, pos, whence=0):
        if whence == 0:
            self.pos = pos
        elif whence == 1:
            self.pos += pos
        else:
            self.pos = self.size + pos
        return self.pos

    def tell(self):
        return self.pos

    def md5(self):
        h = hashlib.md5()
        for i in range(0, self.size, self.BLOCK):
            h.update(self.chunk_at(i, self.BLOCK))
        return h.hexdigest()


@pytest.mark.slow
def test_memory_bound_1gib(coffer_factory):
    srv = coffer_factory()
    c = srv.client(s3={"payload_signing_enabled": False})
    c.create_bucket(Bucket="big")
    size = 1024 * MIB
    stream = PseudoRandomStream(size)
    expected_md5 = stream.md5()
    assert stream._chunk(0) != stream._chunk(1)
    stream.seek(0)
    p = c.put_object(Bucket="big", Key="gib", Body=stream, ContentLength=size)
    assert p["ETag"] == f'"{expected_md5}"'
    hwm_after_put = srv.vmhwm_kib()

    g = c.get_object(Bucket="big", Key="gib")
    assert g["ContentLength"] == size
    h = hashlib.md5()
    n = 0
    for chunk in g["Body"].iter_chunks(MIB):
        h.update(chunk)
        n += len(chunk)
    assert n == size
    assert h.hexdigest() == expected_md5
    hwm = srv.vmhwm_kib()
    if ASAN:
        pytest.skip(f"VmHWM not meaningful under ASan (put {hwm_after_put} KiB, get {hwm} KiB)")
    assert hwm_after_put < 64 * 1024, f"VmHWM after 1 GiB PUT: {hwm_after_put} KiB"
    assert hwm < 64 * 1024, f"VmHWM after 1 GiB GET: {hwm} KiB"


# ---------------------------------------------------------------- misc clients

def test_explicit_sse_s3_header(s3, bucket):
    p = s3.put_object(Bucket=bucket, Key="explicit", Body=b"e", ServerSideEncryption="AES256")
    assert p["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="explicit")["ServerSideEncryption"] == "AES256"


def test_aws_cli_sync_round_trip(aws, server, bucket, tmp_path):
    up = tmp_path / "up"
    (up / "sub" / "deeper").mkdir(parents=True)
    files = {
        "a.txt": b"alpha\n",
        "sub/b.bin": os.urandom(300 * 1024),
        "sub/deeper/c with space.txt": "ünïcödé\n".encode(),
        "empty": b"",
    }
    for rel, data in files.items():
        (up / rel).write_bytes(data)
    aws("s3", "sync", str(up), f"s3://{bucket}/prefix")
    p = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    listed = sorted(line.split(None, 3)[3] for line in p.stdout.splitlines() if line.strip())
    assert listed == sorted(f"prefix/{k}" for k in files)
    p = aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "prefix/sub/")
    import json
    doc = json.loads(p.stdout)
    assert sorted(o["Key"] for o in doc["Contents"]) == \
        ["prefix/sub/b.bin", "prefix/sub/deeper/c with space.txt"]
    down = tmp_path / "down"
    aws("s3", "sync", f"s3://{bucket}/prefix", str(down))
    for rel, data in files.items():
        assert (down / rel).read_bytes() == data
    aws("s3", "rm", "--recursive", f"s3://{bucket}/prefix/sub")
    p = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert sorted(line.split(None, 3)[3] for line in p.stdout.splitlines() if line.strip()) == \
        ["prefix/a.txt", "prefix/empty"]


def test_concurrent_clients(s3, bucket):
    from concurrent.futures import ThreadPoolExecutor
    rnd = random.Random(7)
    bodies = {f"c/{i:03d}": rnd.randbytes(rnd.choice([0, 1, 1000, 65536, 65537, 200000]))
              for i in range(64)}

    def put_get(item):
        k, v = item
        p = s3.put_object(Bucket=bucket, Key=k, Body=v)
        assert p["ETag"] == etag_of(v)
        return s3.get_object(Bucket=bucket, Key=k)["Body"].read() == v

    with ThreadPoolExecutor(16) as ex:
        assert all(ex.map(put_get, bodies.items()))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == sorted(bodies)


def test_concurrent_overwrites_never_mix(s3, bucket):
    """Many writers on one key: every read is exactly one of the written bodies."""
    from concurrent.futures import ThreadPoolExecutor
    versions = [bytes([i]) * (150 * 1024 + i) for i in range(40)]
    etags = {etag_of(v): v for v in versions}
    s3.put_object(Bucket=bucket, Key="hot", Body=versions[0])

    def writer(v):
        s3.put_object(Bucket=bucket, Key="hot", Body=v)
        return True

    def reader(_):
        g = s3.get_object(Bucket=bucket, Key="hot")
        body = g["Body"].read()
        assert g["ETag"] in etags
        assert body == etags[g["ETag"]]
        return True

    with ThreadPoolExecutor(12) as ex:
        for _round in range(10):
            futs = []
            for i, v in enumerate(versions):
                futs.append(ex.submit(writer, v))
                futs += [ex.submit(reader, i) for _ in range(3)]
            assert all(f.result() for f in futs)
    g = s3.get_object(Bucket=bucket, Key="hot")
    assert g["Body"].read() == etags[g["ETag"]]
