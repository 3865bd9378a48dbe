"""SSE-C (customer-provided keys): PutObject/GetObject/HeadObject through boto3
and raw HTTP, every malformed header combination of the reference error table
(sse-rules.md 3.2), reads without / with the wrong key, range GETs, the key
never reaching the disk or the logs, tampering, and the seed 004 header flow.

Messages are the AWS-validated ones from the reference table; where the table
has none (or marks it unverified) only status and code are asserted."""

import base64
import hashlib
import os
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import (empty_and_delete, error_of, etag_of, hdrs, md5_hex, raw_request,
                      unique_name)

SEG = 64 * 1024
SIZE = 300 * 1024
BLOB_RE = re.compile(r"^[0-9a-f]{32}$")

ALG = "x-amz-server-side-encryption-customer-algorithm"
KEY = "x-amz-server-side-encryption-customer-key"
KMD5 = "x-amz-server-side-encryption-customer-key-MD5"
SSE = "x-amz-server-side-encryption"

M_INCOMPATIBLE = ("Server Side Encryption with Customer provided key is incompatible "
                  "with the encryption method specified")
M_BAD_ALG = "The Encryption request you specified is not valid. Supported value: AES256."
M_NEED_ALG = ("Requests specifying Server Side Encryption with Customer provided keys "
              "must provide a valid encryption algorithm.")
M_NEED_KEY = ("Requests specifying Server Side Encryption with Customer provided keys "
              "must provide an appropriate secret key.")
M_BAD_KEY = "The secret key was invalid for the specified algorithm."
M_MD5 = "The calculated MD5 hash of the key did not match the hash that was provided."
M_NO_KEY = ("The object was stored using a form of Server Side Encryption. "
            "The correct parameters must be provided to retrieve the object.")
M_WRONG_KEY = ("Requests specifying Server Side Encryption with Customer provided keys "
               "must provide the correct secret key.")
M_NOT_APPLICABLE = "The encryption parameters are not applicable to this object."

ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')


# --------------------------------------------------------------------------
# local helpers
# --------------------------------------------------------------------------

def b64(data):
    return base64.b64encode(data).decode()


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def ssec(key, alg="AES256", md5=None):
    """The SSE-C header trio for a raw request (md5 defaults to the right one)."""
    return {ALG: alg, KEY: b64(key), KMD5: md5 if md5 is not None else md5_b64(key)}


def boto_ssec(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def raw_err(r):
    """(status, Code, Message) of a raw error response."""
    root = r.xml()
    return r.status, root.findtext("Code"), root.findtext("Message")


def client_err(ei):
    e = ei.value
    assert isinstance(e, ClientError), repr(e)
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
            e.response["Error"].get("Message"))


def assert_ssec_echo(headers, key):
    """Response headers of an SSE-C request: algorithm and key MD5, no SSE-S3 header."""
    h = {k.lower(): v for k, v in dict(headers).items()}
    assert h.get(ALG.lower()) == "AES256", h
    assert h.get(KMD5.lower()) == md5_b64(key), h
    assert SSE not in h, h
    assert KEY.lower() not in h, "the customer key was echoed"


def assert_no_ssec_echo(headers):
    h = {k.lower(): v for k, v in dict(headers).items()}
    assert ALG.lower() not in h, h
    assert KMD5.lower() not in h, h
    assert KEY.lower() not in h, h


# --------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 1000, SEG - 1, SEG, SEG + 1, 3 * SEG + 17])
def test_put_get_head_boto3(s3, bucket, size):
    key = os.urandom(32)
    data = os.urandom(size)
    p = s3.put_object(Bucket=bucket, Key="obj", Body=data, **boto_ssec(key))
    assert p["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert p["SSECustomerAlgorithm"] == "AES256"
    assert p["SSECustomerKeyMD5"] == md5_b64(key)
    assert "ServerSideEncryption" not in p
    assert_ssec_echo(hdrs(p), key)
    etag = p["ETag"]
    assert ETAG_RE.match(etag), etag
    assert etag != etag_of(data), "SSE-C ETag must not be the MD5 of the plaintext"

    g = s3.get_object(Bucket=bucket, Key="obj", **boto_ssec(key))
    assert g["Body"].read() == data
    assert g["ContentLength"] == size
    assert g["ETag"] == etag
    assert g["SSECustomerAlgorithm"] == "AES256"
    assert g["SSECustomerKeyMD5"] == md5_b64(key)
    assert "ServerSideEncryption" not in g
    assert_ssec_echo(hdrs(g), key)

    h = s3.head_object(Bucket=bucket, Key="obj", **boto_ssec(key))
    assert h["ContentLength"] == size
    assert h["ETag"] == etag
    assert h["SSECustomerAlgorithm"] == "AES256"
    assert h["SSECustomerKeyMD5"] == md5_b64(key)
    assert "ServerSideEncryption" not in h
    assert_ssec_echo(hdrs(h), key)


def test_metadata_and_content_type_with_sse_c(s3, bucket):
    key = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="m", Body=b"meta body", ContentType="text/x-ssec",
                  Metadata={"colour": "blue", "n": "7"}, CacheControl="no-cache",
                  **boto_ssec(key))
    h = s3.head_object(Bucket=bucket, Key="m", **boto_ssec(key))
    assert h["ContentType"] == "text/x-ssec"
    assert h["Metadata"] == {"colour": "blue", "n": "7"}
    assert h["CacheControl"] == "no-cache"
    g = s3.get_object(Bucket=bucket, Key="m", **boto_ssec(key))
    assert g["ContentType"] == "text/x-ssec"
    assert g["Metadata"] == {"colour": "blue", "n": "7"}
    assert g["Body"].read() == b"meta body"


def test_put_get_head_raw_headers(raw, bucket):
    key = os.urandom(32)
    data = os.urandom(70000)
    r = raw("PUT", f"/{bucket}/rawobj", headers=ssec(key), body=data)
    assert r.status == 200, r
    assert_ssec_echo(r.headers.items(), key)
    etag = r.header("ETag")
    assert ETAG_RE.match(etag), etag
    assert etag != etag_of(data)

    r = raw("GET", f"/{bucket}/rawobj", headers=ssec(key))
    assert r.status == 200, r
    assert r.error is None
    assert r.body == data
    assert r.header("Content-Length") == str(len(data))
    assert r.header("ETag") == etag
    assert_ssec_echo(r.headers.items(), key)

    r = raw("HEAD", f"/{bucket}/rawobj", headers=ssec(key))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == str(len(data))
    assert r.header("ETag") == etag
    assert_ssec_echo(r.headers.items(), key)


def test_header_names_case_insensitive(raw, bucket):
    key = os.urandom(32)
    headers = {ALG.upper(): "AES256", KEY.lower(): b64(key), KMD5.lower(): md5_b64(key)}
    r = raw("PUT", f"/{bucket}/case", headers=headers, body=b"case")
    assert r.status == 200, r
    r = raw("GET", f"/{bucket}/case", headers={k.title(): v for k, v in ssec(key).items()})
    assert r.status == 200, r
    assert r.body == b"case"


def test_seed_004_header_flow(raw, bucket, tmp_path):
    """Seed 004: a random keystring kept in a file; the header dict built exactly as
    the guide does (base64 key, base64 MD5 of the raw key); upload and download."""
    keystring = os.urandom(32)
    keyfile = tmp_path / "sse-c.key"
    keyfile.write_bytes(keystring)
    key = base64.b64encode(keyfile.read_bytes())
    md5key = base64.b64encode(hashlib.md5(keyfile.read_bytes()).digest())
    header = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": key.decode(),
        "x-amz-server-side-encryption-customer-key-MD5": md5key.decode(),
    }
    content = b"uploaded test.txt contents\n" * 50
    r = raw("PUT", f"/{bucket}/test.txt", headers=dict(header), body=content)
    assert r.status == 200, r
    r = raw("GET", f"/{bucket}/test.txt", headers=dict(header))
    assert r.status == 200, r
    assert r.body == content
    # the key file is all the client has; without it the object is unreadable
    r = raw("GET", f"/{bucket}/test.txt")
    assert raw_err(r) == (400, "InvalidRequest", M_NO_KEY)


def test_etag_not_md5_and_differs_between_uploads(s3, bucket):
    key = os.urandom(32)
    data = b"identical body, identical key\n" * 100
    etags = []
    for i in range(3):
        p = s3.put_object(Bucket=bucket, Key=f"same{i}", Body=data, **boto_ssec(key))
        etags.append(p["ETag"])
    # overwriting the same key with the same bytes and key also changes the ETag
    p = s3.put_object(Bucket=bucket, Key="same0", Body=data, **boto_ssec(key))
    etags.append(p["ETag"])
    for e in etags:
        assert ETAG_RE.match(e), e
        assert e != etag_of(data)
    assert len(set(etags)) == len(etags), etags
    # the ETag is stable across reads and matches the listing
    listing = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    for i in range(3):
        h = s3.head_object(Bucket=bucket, Key=f"same{i}", **boto_ssec(key))
        assert listing[f"same{i}"]["ETag"] == h["ETag"]
        assert listing[f"same{i}"]["Size"] == len(data)
    assert s3.head_object(Bucket=bucket, Key="same0", **boto_ssec(key))["ETag"] == etags[3]


def test_content_md5_verified_on_sse_c_put(raw, s3, bucket):
    key = os.urandom(32)
    data = b"content-md5 checked under SSE-C"
    good = b64(hashlib.md5(data).digest())
    bad = b64(hashlib.md5(b"other").digest())
    r = raw("PUT", f"/{bucket}/cm", headers={**ssec(key), "Content-MD5": good}, body=data)
    assert r.status == 200, r
    r = raw("PUT", f"/{bucket}/cm", headers={**ssec(key), "Content-MD5": bad},
            body=b"replacement bytes")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "BadDigest"
    # the stored object is unharmed
    g = s3.get_object(Bucket=bucket, Key="cm", **boto_ssec(key))
    assert g["Body"].read() == data
    # a bad digest does not create a new key either
    r = raw("PUT", f"/{bucket}/cm-new", headers={**ssec(key), "Content-MD5": bad}, body=data)
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "BadDigest"
    assert raw("HEAD", f"/{bucket}/cm-new").status == 404
    # boto3 sends Content-MD5 itself when asked
    p = s3.put_object(Bucket=bucket, Key="cm2", Body=data, ContentMD5=good, **boto_ssec(key))
    assert p["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_delete_and_list_without_key(s3, bucket):
    key = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="gone", Body=b"12345", **boto_ssec(key))
    lst = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in lst] == [("gone", 5)]
    d = s3.delete_object(Bucket=bucket, Key="gone")
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="gone", **boto_ssec(key))
    assert error_of(ei)[0] == 404
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_batch_without_key(s3, bucket):
    key = os.urandom(32)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"batch{i}", Body=b"b" * i, **boto_ssec(key))
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"batch{i}"} for i in range(3)]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["batch0", "batch1", "batch2"]
    assert not r.get("Errors")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_large_sse_c_object(s3, bucket):
    key = os.urandom(32)
    data = os.urandom(5 * 1024 * 1024 + 12345)
    p = s3.put_object(Bucket=bucket, Key="large", Body=data, **boto_ssec(key))
    assert p["ETag"] != etag_of(data)
    g = s3.get_object(Bucket=bucket, Key="large", **boto_ssec(key))
    assert g["ContentLength"] == len(data)
    assert hashlib.md5(g["Body"].read()).hexdigest() == md5_hex(data)
    tail = s3.get_object(Bucket=bucket, Key="large", Range="bytes=-70000", **boto_ssec(key))
    assert tail["Body"].read() == data[-70000:]


def test_concurrent_right_and_wrong_keys(server, bucket, s3):
    """Interleaved readers with the right key, a wrong key and no key: the right key
    always gets the exact bytes, the others never get any (no per-object key cache
    that a wrong key could ride on)."""
    import concurrent.futures
    key = os.urandom(32)
    data = os.urandom(2 * SEG + 99)
    s3.put_object(Bucket=bucket, Key="conc", Body=data, **boto_ssec(key))
    variants = [("right", ssec(key)), ("wrong", ssec(K_OTHER)), ("none", {})]

    def one(i):
        name, headers = variants[i % 3]
        r = raw_request(server.port, "GET", f"/{bucket}/conc", headers=dict(headers))
        return name, r

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(60)))
    for name, r in results:
        if name == "right":
            assert r.status == 200 and r.body == data, (name, r)
        elif name == "wrong":
            assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY), (name, r)
        else:
            assert raw_err(r) == (400, "InvalidRequest", M_NO_KEY), (name, r)


def test_overwrite_changes_mode(s3, raw, bucket):
    """plain -> SSE-C -> SSE-C (other key) -> plain on one key."""
    k1, k2 = os.urandom(32), os.urandom(32)
    s3.put_object(Bucket=bucket, Key="o", Body=b"plain 1")
    s3.put_object(Bucket=bucket, Key="o", Body=b"ssec 1", **boto_ssec(k1))
    r = raw("GET", f"/{bucket}/o")
    assert raw_err(r) == (400, "InvalidRequest", M_NO_KEY)
    assert s3.get_object(Bucket=bucket, Key="o", **boto_ssec(k1))["Body"].read() == b"ssec 1"
    s3.put_object(Bucket=bucket, Key="o", Body=b"ssec 2", **boto_ssec(k2))
    r = raw("GET", f"/{bucket}/o", headers=ssec(k1))
    assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY)
    assert s3.get_object(Bucket=bucket, Key="o", **boto_ssec(k2))["Body"].read() == b"ssec 2"
    p = s3.put_object(Bucket=bucket, Key="o", Body=b"plain 2")
    assert p["ServerSideEncryption"] == "AES256"
    g = s3.get_object(Bucket=bucket, Key="o")
    assert g["Body"].read() == b"plain 2"
    assert g["ETag"] == etag_of(b"plain 2")
    assert_no_ssec_echo(hdrs(g))


def test_conditional_get_with_sse_c_etag(s3, bucket):
    key = os.urandom(32)
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond", **boto_ssec(key))["ETag"]
    g = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, **boto_ssec(key))
    assert g["Body"].read() == b"cond"
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, **boto_ssec(key))
    assert error_of(ei)[0] == 304
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfMatch=etag_of(b"cond"), **boto_ssec(key))
    assert error_of(ei) == (412, "PreconditionFailed")


# --------------------------------------------------------------------------
# malformed SSE-C on PUT (reference table 3.2)
# --------------------------------------------------------------------------

K = os.urandom(32)
K_OTHER = os.urandom(32)
K16 = os.urandom(16)
K33 = os.urandom(33)

# (id, headers, status, code, message or None when the table gives none)
PUT_CASES = [
    ("key-and-md5-without-algorithm", {KEY: b64(K), KMD5: md5_b64(K)},
     400, "InvalidArgument", M_NEED_ALG),
    ("key-without-algorithm", {KEY: b64(K)}, 400, "InvalidArgument", M_NEED_ALG),
    ("md5-without-algorithm", {KMD5: md5_b64(K)}, 400, "InvalidArgument", M_NEED_ALG),
    ("algorithm-without-key", {ALG: "AES256"}, 400, "InvalidArgument", M_NEED_KEY),
    ("algorithm-and-md5-without-key", {ALG: "AES256", KMD5: md5_b64(K)},
     400, "InvalidArgument", M_NEED_KEY),
    ("algorithm-AES128", ssec(K, alg="AES128"),
     400, "InvalidEncryptionAlgorithmError", M_BAD_ALG),
    ("algorithm-aes256-lowercase", ssec(K, alg="aes256"),
     400, "InvalidEncryptionAlgorithmError", M_BAD_ALG),
    ("algorithm-aws-kms", ssec(K, alg="aws:kms"),
     400, "InvalidEncryptionAlgorithmError", M_BAD_ALG),
    ("md5-missing", {ALG: "AES256", KEY: b64(K)}, 400, "InvalidArgument", M_BAD_KEY),
    ("key-16-bytes", ssec(K16), 400, "InvalidArgument", M_BAD_KEY),
    ("key-33-bytes", ssec(K33), 400, "InvalidArgument", M_BAD_KEY),
    ("key-not-base64", {ALG: "AES256", KEY: "this is *not* base64!", KMD5: md5_b64(K)},
     400, "InvalidArgument", None),
    ("md5-mismatch", ssec(K, md5=md5_b64(K_OTHER)), 400, "InvalidArgument", M_MD5),
    ("md5-of-base64-text", ssec(K, md5=md5_b64(b64(K).encode())),
     400, "InvalidArgument", M_MD5),
    ("md5-hex-instead-of-base64", ssec(K, md5=hashlib.md5(K).hexdigest()),
     400, "InvalidArgument", M_MD5),
    ("md5-not-base64", ssec(K, md5="%%%not-base64%%%"), 400, "InvalidArgument", None),
]


@pytest.fixture
def stored(s3, bucket):
    """An SSE-C object under K at 'k' that the failing PUTs must leave alone."""
    data = b"previously stored " + os.urandom(2000)
    etag = s3.put_object(Bucket=bucket, Key="k", Body=data, **boto_ssec(K))["ETag"]
    return bucket, data, etag


def assert_stored_unharmed(s3, stored):
    bucket, data, etag = stored
    g = s3.get_object(Bucket=bucket, Key="k", **boto_ssec(K))
    assert g["Body"].read() == data
    assert g["ETag"] == etag


@pytest.mark.parametrize("case", PUT_CASES, ids=[c[0] for c in PUT_CASES])
def test_put_malformed_sse_c(s3, raw, stored, case):
    _id, headers, status, code, message = case
    bucket = stored[0]
    for target in ("k", "fresh"):
        r = raw("PUT", f"/{bucket}/{target}", headers=dict(headers),
                body=b"must not be stored " * 50)
        assert r.status == status, r
        got = raw_err(r)
        assert got[1] == code, r
        if message is not None:
            assert got[2] == message, r
        assert r.header("x-amz-request-id")
    assert_stored_unharmed(s3, stored)
    assert raw("HEAD", f"/{bucket}/fresh").status == 404


@pytest.mark.parametrize("sse_value", ["AES256"])
def test_put_sse_c_with_sse_header(s3, raw, stored, sse_value):
    bucket = stored[0]
    r = raw("PUT", f"/{bucket}/k", headers={**ssec(K), SSE: sse_value}, body=b"nope")
    assert raw_err(r) == (400, "InvalidArgument", M_INCOMPATIBLE), r
    root = r.xml()
    assert root.findtext("ArgumentName") == SSE
    assert root.findtext("ArgumentValue") == sse_value
    assert_stored_unharmed(s3, stored)


ARG_CASES = [
    ("algorithm-AES128", ssec(K, alg="AES128"), SSE, "AES128"),
    ("key-and-md5-without-algorithm", {KEY: b64(K), KMD5: md5_b64(K)}, SSE, None),
    ("md5-mismatch", ssec(K, md5=md5_b64(K_OTHER)), SSE, None),
]


@pytest.mark.parametrize("case", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_put_error_argument_fields(raw, stored, case):
    """ArgumentName/ArgumentValue of the SSE-C errors. Not in the reference table;
    from LocalStack's AWS-validated captures as summarised by third-party research
    (every SSE-C argument error names x-amz-server-side-encryption, the algorithm
    error also echoes the value)."""
    _id, headers, arg_name, arg_value = case
    r = raw("PUT", f"/{stored[0]}/k", headers=dict(headers), body=b"nope")
    assert r.status == 400, r
    root = r.xml()
    assert root.findtext("ArgumentName") == arg_name, r
    if arg_value is not None:
        assert root.findtext("ArgumentValue") == arg_value, r


def test_put_sse_c_with_sse_header_boto3(s3, stored):
    bucket = stored[0]
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"nope", ServerSideEncryption="AES256",
                      **boto_ssec(K))
    assert client_err(ei) == (400, "InvalidArgument", M_INCOMPATIBLE)
    assert_stored_unharmed(s3, stored)


def test_put_md5_mismatch_boto3(s3, stored):
    """boto3 sends a caller-given SSECustomerKeyMD5 unchanged."""
    bucket = stored[0]
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"nope", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=b64(K), SSECustomerKeyMD5=md5_b64(K_OTHER))
    assert client_err(ei) == (400, "InvalidArgument", M_MD5)
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"nope", SSECustomerAlgorithm="AES128",
                      SSECustomerKey=K)
    assert client_err(ei) == (400, "InvalidEncryptionAlgorithmError", M_BAD_ALG)
    assert_stored_unharmed(s3, stored)


# --------------------------------------------------------------------------
# reads
# --------------------------------------------------------------------------

# (id, headers, status, code, message)
READ_CASES = [
    ("no-key", {}, 400, "InvalidRequest", M_NO_KEY),
    ("wrong-key", ssec(K_OTHER), 403, "AccessDenied", M_WRONG_KEY),
    ("right-key-md5-of-other-key", ssec(K, md5=md5_b64(K_OTHER)),
     400, "InvalidArgument", M_MD5),
    ("wrong-key-with-its-md5-mismatching", ssec(K_OTHER, md5=md5_b64(K)),
     400, "InvalidArgument", M_MD5),
    ("algorithm-AES128", ssec(K, alg="AES128"),
     400, "InvalidEncryptionAlgorithmError", M_BAD_ALG),
    ("key-without-algorithm", {KEY: b64(K), KMD5: md5_b64(K)},
     400, "InvalidArgument", M_NEED_ALG),
    ("algorithm-without-key", {ALG: "AES256"}, 400, "InvalidArgument", M_NEED_KEY),
]


@pytest.mark.parametrize("case", READ_CASES, ids=[c[0] for c in READ_CASES])
def test_get_sse_c_object_bad_key_params(s3, raw, stored, case):
    _id, headers, status, code, message = case
    bucket, data, _etag = stored
    r = raw("GET", f"/{bucket}/k", headers=dict(headers))
    assert r.status == status, r
    assert raw_err(r) == (status, code, message), r
    assert data[:64] not in r.body
    # a range request is refused the same way
    r = raw("GET", f"/{bucket}/k", headers={**headers, "Range": "bytes=0-9"})
    assert raw_err(r) == (status, code, message), r
    assert_stored_unharmed(s3, stored)


@pytest.mark.parametrize("case", READ_CASES, ids=[c[0] for c in READ_CASES])
def test_head_sse_c_object_bad_key_params(raw, stored, case):
    _id, headers, status, _code, _message = case
    bucket = stored[0]
    r = raw("HEAD", f"/{bucket}/k", headers=dict(headers))
    assert r.status == status, r
    assert r.body == b""
    assert r.header("ETag") is None
    assert r.header(KMD5) is None


def test_get_right_key_without_md5(raw, stored):
    """Open question. The reference table puts 'no MD5 on GET' under the wrong-key row
    (403 AccessDenied); a third-party compliance suite run against AWS, and an AWS
    re:Post report, say AWS serves the object (200) when the key is right and only the
    MD5 is missing. The table's row may come from botocore double-encoding a base64 key
    when no MD5 is given (a 44-byte key). Either answer is accepted; never other bytes."""
    bucket, data, etag = stored
    headers = {ALG: "AES256", KEY: b64(K)}
    r = raw("GET", f"/{bucket}/k", headers=headers)
    if r.status == 200:
        assert r.body == data and r.header("ETag") == etag, r
    else:
        assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY), r
    h = raw("HEAD", f"/{bucket}/k", headers=headers)
    assert h.status == r.status, h
    assert h.body == b""


@pytest.mark.parametrize("bad_key", [K16, K33, b"1234567890"], ids=["16", "33", "10"])
def test_get_wrong_length_key(raw, stored, bad_key):
    """Open question. The table: 'key not 32 bytes' -> 400 InvalidArgument 'The secret
    key was invalid for the specified algorithm.' (recorded on PUT). On reads, LocalStack's
    AWS-validated snapshots and a third-party suite run against AWS report 403
    AccessDenied (the wrong-key answer) for a 10-byte key with its MD5. Either is
    accepted; the object is never served."""
    bucket, data, _etag = stored
    r = raw("GET", f"/{bucket}/k", headers=ssec(bad_key))
    assert raw_err(r) in ((400, "InvalidArgument", M_BAD_KEY),
                          (403, "AccessDenied", M_WRONG_KEY)), r
    h = raw("HEAD", f"/{bucket}/k", headers=ssec(bad_key))
    assert h.status == r.status and h.body == b"", h


def test_get_head_without_key_boto3(s3, stored):
    bucket = stored[0]
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="k")
    assert client_err(ei) == (400, "InvalidRequest", M_NO_KEY)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(ei) == (400, "400")          # HEAD: no body
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="k", **boto_ssec(K_OTHER))
    assert client_err(ei) == (403, "AccessDenied", M_WRONG_KEY)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="k", **boto_ssec(K_OTHER))
    assert error_of(ei) == (403, "403")


def test_get_sse_c_object_with_sse_header(raw, stored):
    """The SSE-C trio together with x-amz-server-side-encryption on a read."""
    bucket = stored[0]
    r = raw("GET", f"/{bucket}/k", headers={**ssec(K), SSE: "AES256"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument"


def test_sse_c_headers_on_plain_object(s3, raw, bucket):
    data = b"an SSE-S3 object"
    s3.put_object(Bucket=bucket, Key="plain", Body=data)
    r = raw("GET", f"/{bucket}/plain", headers=ssec(K))
    assert raw_err(r) == (400, "InvalidRequest", M_NOT_APPLICABLE), r
    assert data not in r.body
    r = raw("HEAD", f"/{bucket}/plain", headers=ssec(K))
    assert r.status == 400, r
    assert r.body == b""
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="plain", **boto_ssec(K))
    assert client_err(ei) == (400, "InvalidRequest", M_NOT_APPLICABLE)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="plain", **boto_ssec(K))
    assert error_of(ei) == (400, "400")
    # without the headers it reads normally
    g = s3.get_object(Bucket=bucket, Key="plain")
    assert g["Body"].read() == data
    assert g["ServerSideEncryption"] == "AES256"
    assert_no_ssec_echo(hdrs(g))


def test_sse_header_on_get_of_sse_s3_object(s3, raw, bucket):
    """Must not send x-amz-server-side-encryption on GET/HEAD (AWS API docs): 400.
    The code is unverified in the reference; old captures say InvalidArgument."""
    s3.put_object(Bucket=bucket, Key="s3obj", Body=b"sse-s3 body")
    r = raw("GET", f"/{bucket}/s3obj", headers={SSE: "AES256"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument"
    assert b"sse-s3 body" not in r.body
    r = raw("HEAD", f"/{bucket}/s3obj", headers={SSE: "AES256"})
    assert r.status == 400, r
    assert r.body == b""
    # the object itself is fine
    assert s3.get_object(Bucket=bucket, Key="s3obj")["Body"].read() == b"sse-s3 body"


def test_read_missing_key_with_sse_c_is_404(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="nope", **boto_ssec(K))
    assert error_of(ei) == (404, "NoSuchKey")


# --------------------------------------------------------------------------
# ranges
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ssec_big(s3):
    bucket = unique_name("ssecrng")
    s3.create_bucket(Bucket=bucket)
    key = os.urandom(32)
    data = os.urandom(SIZE)
    etag = s3.put_object(Bucket=bucket, Key="big", Body=data, **boto_ssec(key))["ETag"]
    yield bucket, "big", data, key, etag
    empty_and_delete(s3, bucket)


RANGES = [
    ("bytes=0-0", 0, 0),
    ("bytes=0-99", 0, 99),
    ("bytes=150000-150999", 150000, 150999),          # middle
    ("bytes=100-", 100, SIZE - 1),
    ("bytes=-100", SIZE - 100, SIZE - 1),             # suffix
    ("bytes=-1", SIZE - 1, SIZE - 1),
    ("bytes=-65537", SIZE - 65537, SIZE - 1),
    ("bytes=0-65535", 0, SEG - 1),
    ("bytes=0-65536", 0, SEG),
    ("bytes=65535-65535", SEG - 1, SEG - 1),
    ("bytes=65536-65536", SEG, SEG),
    ("bytes=65537-65537", SEG + 1, SEG + 1),
    ("bytes=65535-65536", SEG - 1, SEG),
    ("bytes=65536-131071", SEG, 2 * SEG - 1),
    ("bytes=65537-131073", SEG + 1, 2 * SEG + 1),
    ("bytes=131071-196609", 2 * SEG - 1, 3 * SEG + 1),
    ("bytes=196607-262144", 3 * SEG - 1, 4 * SEG),
    ("bytes=262143-", 4 * SEG - 1, SIZE - 1),
    ("bytes=262144-262144", 4 * SEG, 4 * SEG),
    ("bytes=1-307198", 1, SIZE - 2),
    ("bytes=0-307199", 0, SIZE - 1),
    ("bytes=307199-", SIZE - 1, SIZE - 1),
    ("bytes=300000-999999", 300000, SIZE - 1),
]


@pytest.mark.parametrize("rng,first,last", RANGES, ids=[r[0] for r in RANGES])
def test_range_get_sse_c(s3, ssec_big, rng, first, last):
    bucket, key, data, ckey, etag = ssec_big
    g = s3.get_object(Bucket=bucket, Key=key, Range=rng, **boto_ssec(ckey))
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == f"bytes {first}-{last}/{SIZE}"
    assert g["ContentLength"] == last - first + 1
    assert g["Body"].read() == data[first:last + 1]
    assert g["ETag"] == etag
    assert g["SSECustomerAlgorithm"] == "AES256"
    assert g["SSECustomerKeyMD5"] == md5_b64(ckey)


def test_range_sse_c_raw_and_errors(raw, ssec_big):
    bucket, key, data, ckey, _etag = ssec_big
    r = raw("GET", f"/{bucket}/{key}", headers={**ssec(ckey), "Range": "bytes=65530-65545"})
    assert r.status == 206, r
    assert r.header("Content-Range") == f"bytes 65530-65545/{SIZE}"
    assert r.body == data[65530:65546]
    assert_ssec_echo(r.headers.items(), ckey)
    r = raw("GET", f"/{bucket}/{key}", headers={**ssec(ckey), "Range": f"bytes={SIZE}-"})
    assert r.status == 416, r
    assert r.xml().findtext("Code") == "InvalidRange"
    r = raw("GET", f"/{bucket}/{key}", headers={**ssec(K_OTHER), "Range": "bytes=0-0"})
    assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY), r


def test_full_get_sse_c_big(s3, ssec_big):
    bucket, key, data, ckey, etag = ssec_big
    g = s3.get_object(Bucket=bucket, Key=key, **boto_ssec(ckey))
    assert g["Body"].read() == data
    assert g["ETag"] == etag


# --------------------------------------------------------------------------
# the key never reaches the disk or the logs
# --------------------------------------------------------------------------

def key_needles(name, key):
    digest = hashlib.md5(key).digest()
    forms = {
        f"{name} raw": key,
        f"{name} base64": b64(key).encode(),
        f"{name} base64 unpadded": b64(key).rstrip("=").encode(),
        f"{name} urlsafe base64": base64.urlsafe_b64encode(key).rstrip(b"="),
        f"{name} hex": key.hex().encode(),
        f"{name} HEX": key.hex().upper().encode(),
        f"{name} md5 raw": digest,
        f"{name} md5 hex": digest.hex().encode(),
        f"{name} md5 HEX": digest.hex().upper().encode(),
        f"{name} md5 base64": b64(digest).encode(),
        f"{name} md5 base64 unpadded": b64(digest).rstrip("=").encode(),
        f"{name} md5 urlsafe base64": base64.urlsafe_b64encode(digest).rstrip(b"="),
    }
    return forms


def test_customer_key_never_on_disk_or_in_logs(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    key = os.urandom(32)
    other = os.urandom(32)           # used only in refused requests
    token = b"SSEC-CANARY-" + os.urandom(16).hex().encode()
    big = (token * (200 * 1024 // len(token) + 1))[:200 * 1024]
    small = (b"SMALL-SSEC-" + os.urandom(16).hex().encode())[:40]
    c.create_bucket(Bucket="ssec-disk")
    c.put_object(Bucket="ssec-disk", Key="big", Body=big, **boto_ssec(key))
    c.put_object(Bucket="ssec-disk", Key="small", Body=small, **boto_ssec(key))
    c.put_object(Bucket="ssec-disk", Key="empty", Body=b"", **boto_ssec(key))
    c.put_object(Bucket="ssec-disk", Key="overwritten", Body=big, **boto_ssec(key))
    c.put_object(Bucket="ssec-disk", Key="overwritten", Body=small, **boto_ssec(key))
    c.put_object(Bucket="ssec-disk", Key="deleted", Body=big, **boto_ssec(key))
    c.delete_object(Bucket="ssec-disk", Key="deleted")
    c.copy_object(Bucket="ssec-disk", Key="copied", CopySource="ssec-disk/big",
                  CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key,
                  **boto_ssec(key))
    # raw requests with the key as headers
    r = srv.http("PUT", "/ssec-disk/raw", headers=ssec(key), body=small)
    assert r.status == 200, r
    # refused requests carrying keys and MD5s
    assert srv.http("GET", "/ssec-disk/big", headers=ssec(other)).status == 403
    assert srv.http("HEAD", "/ssec-disk/big", headers=ssec(other)).status == 403
    assert srv.http("GET", "/ssec-disk/big", headers=ssec(key, md5=md5_b64(other))).status == 400
    assert srv.http("PUT", "/ssec-disk/x", headers=ssec(key, md5=md5_b64(other)),
                    body=small).status == 400
    assert srv.http("PUT", "/ssec-disk/x", headers=ssec(other, md5=md5_b64(key)),
                    body=small).status == 400
    assert srv.http("PUT", "/ssec-disk/x", headers={ALG: "AES256", KEY: b64(other)},
                    body=small).status == 400
    # sanity: readable with the key
    for k, v in (("big", big), ("small", small), ("empty", b""), ("overwritten", small),
                 ("copied", big), ("raw", small)):
        assert c.get_object(Bucket="ssec-disk", Key=k, **boto_ssec(key))["Body"].read() == v
        c.head_object(Bucket="ssec-disk", Key=k, **boto_ssec(key))
    srv.stop()

    needles = {**key_needles("key", key), **key_needles("other key", other),
               "canary token": token, "canary token[:16]": token[:16],
               "small canary": small, "small canary[:16]": small[:16]}
    files = [p for p in srv.workdir.rglob("*") if p.is_file()
             and p.resolve() != srv.root_key.resolve()]
    assert any(p.name.startswith("stdout") for p in files)
    assert any(p.name.startswith("stderr") for p in files)
    assert len([p for p in files if srv.data_dir in p.parents]) >= 2
    total = 0
    for f in files:
        data = f.read_bytes()
        total += len(data)
        for name, needle in needles.items():
            assert needle not in data, f"{name} found in {f}"
    assert total >= 2 * len(big)          # the ciphertext is there
    # nor in any file or directory name
    for p in srv.workdir.rglob("*"):
        rel = str(p.relative_to(srv.workdir)).encode()
        for name, needle in needles.items():
            if len(needle) >= 16:
                assert needle.lower() not in rel.lower(), f"{name} in path {p}"


def test_sse_c_survives_restart(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    key = os.urandom(32)
    data = os.urandom(2 * SEG + 5)
    c.create_bucket(Bucket="ssec-restart")
    etag = c.put_object(Bucket="ssec-restart", Key="o", Body=data, **boto_ssec(key))["ETag"]
    srv.restart()
    c = srv.client()
    g = c.get_object(Bucket="ssec-restart", Key="o", **boto_ssec(key))
    assert g["Body"].read() == data
    assert g["ETag"] == etag
    assert g["SSECustomerKeyMD5"] == md5_b64(key)
    r = srv.http("GET", "/ssec-restart/o", headers=ssec(K_OTHER))
    assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY)
    r = srv.http("GET", "/ssec-restart/o")
    assert raw_err(r) == (400, "InvalidRequest", M_NO_KEY)


# --------------------------------------------------------------------------
# tampering
# --------------------------------------------------------------------------

def _blobs(data_dir):
    return [p for p in (Path(data_dir) / "blobs").rglob("*")
            if p.is_file() and BLOB_RE.match(p.name)]


def test_tampered_sse_c_blob_detected(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    key = os.urandom(32)
    c.create_bucket(Bucket="ssec-tamper")
    original = os.urandom(3 * SEG)
    c.put_object(Bucket="ssec-tamper", Key="obj", Body=original, **boto_ssec(key))
    assert c.get_object(Bucket="ssec-tamper", Key="obj", **boto_ssec(key))["Body"].read() == original
    srv.stop()

    blobs = [b for b in _blobs(srv.data_dir) if b.stat().st_size >= 3 * SEG]
    assert len(blobs) == 1, blobs
    blob = blobs[0]
    raw = bytearray(blob.read_bytes())
    assert raw.find(original[SEG:SEG + 64]) < 0
    mid = len(raw) // 2                       # in the second segment
    raw[mid] ^= 0x01
    blob.write_bytes(bytes(raw))

    srv.start()
    r = srv.http("GET", "/ssec-tamper/obj", headers=ssec(key), timeout=30)
    if r.status < 500:
        assert r.status == 200, r
        assert r.error is not None, "a tampered SSE-C object was served completely"
        assert len(r.body) < len(original)
        assert r.body == original[:len(r.body)], "unauthenticated bytes were sent"
    assert original[SEG:SEG + 32] not in r.body
    # a range inside the damaged segment fails
    r = srv.http("GET", "/ssec-tamper/obj",
                 headers={**ssec(key), "Range": f"bytes={SEG + 10}-{SEG + 20}"}, timeout=30)
    if r.status < 500:
        assert r.error is not None and r.body == b"", r
    # the first segment is intact and authenticates
    r = srv.http("GET", "/ssec-tamper/obj",
                 headers={**ssec(key), "Range": f"bytes=0-{SEG - 1}"}, timeout=30)
    assert r.status == 206, r
    assert r.error is None
    assert r.body == original[:SEG]
    # a wrong key is still refused, never decrypted
    r = srv.http("GET", "/ssec-tamper/obj", headers=ssec(K_OTHER), timeout=30)
    assert r.status == 403, r


def test_tampered_sse_c_first_bytes_detected(coffer_factory, tmp_path):
    """Flip a byte at the very start of the blob (header / first segment)."""
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    key = os.urandom(32)
    c.create_bucket(Bucket="ssec-tamper2")
    original = os.urandom(SEG + 100)
    c.put_object(Bucket="ssec-tamper2", Key="obj", Body=original, **boto_ssec(key))
    srv.stop()
    blobs = [b for b in _blobs(srv.data_dir) if b.stat().st_size >= SEG]
    assert len(blobs) == 1, blobs
    raw = bytearray(blobs[0].read_bytes())
    for off in (0, 40):
        damaged = bytearray(raw)
        damaged[off] ^= 0x80
        blobs[0].write_bytes(bytes(damaged))
        srv.start()
        r = srv.http("GET", "/ssec-tamper2/obj", headers=ssec(key), timeout=30)
        assert not (r.status == 200 and r.error is None), \
            f"offset {off}: tampered blob served in full: {r!r}"
        if r.status == 200:
            assert r.body == original[:len(r.body)], \
                f"offset {off}: unauthenticated bytes were sent"
        else:
            assert r.status >= 400, r
            assert original[:32] not in r.body
        srv.stop()
    blobs[0].write_bytes(bytes(raw))
    srv.start()
    r = srv.http("GET", "/ssec-tamper2/obj", headers=ssec(key), timeout=30)
    assert r.status == 200 and r.body == original, r


def test_swapped_sse_c_blobs_detected(coffer_factory, tmp_path):
    """Two SSE-C objects under the same customer key and of the same size: swapping
    their blob files must not make either object serve the other's bytes."""
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    key = os.urandom(32)
    c.create_bucket(Bucket="ssec-swap")
    a, b = os.urandom(SEG + 500), os.urandom(SEG + 500)
    c.put_object(Bucket="ssec-swap", Key="a", Body=a, **boto_ssec(key))
    c.put_object(Bucket="ssec-swap", Key="b", Body=b, **boto_ssec(key))
    srv.stop()
    blobs = [p for p in _blobs(srv.data_dir) if p.stat().st_size >= SEG]
    assert len(blobs) == 2, blobs
    x, y = blobs[0].read_bytes(), blobs[1].read_bytes()
    blobs[0].write_bytes(y)
    blobs[1].write_bytes(x)
    srv.start()
    for name, mine, other in (("a", a, b), ("b", b, a)):
        r = srv.http("GET", f"/ssec-swap/{name}", headers=ssec(key), timeout=30)
        assert not (r.status == 200 and r.error is None), f"{name}: swapped blob served: {r!r}"
        assert other[:64] not in r.body, f"{name}: served the other object's bytes"
        if r.status == 200:
            assert r.body == mine[:len(r.body)]


# --------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------

def test_localstack_profile_accepts_sse_c_over_http(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "localstack"])
    c = srv.client()
    c.create_bucket(Bucket="ls-ssec")
    key = os.urandom(32)
    c.put_object(Bucket="ls-ssec", Key="o", Body=b"over http", **boto_ssec(key))
    assert c.get_object(Bucket="ls-ssec", Key="o", **boto_ssec(key))["Body"].read() == b"over http"


def test_aws_profile_refuses_sse_c_over_http(coffer_factory):
    """AWS rejects SSE-C over plain HTTP; the exact body is unverified in the
    reference. Plausible (MinIO): 400 InvalidRequest '... must be made over a
    secure connection.'"""
    srv = coffer_factory(extra_args=["--profile", "aws"])
    c = srv.client()
    c.create_bucket(Bucket="aws-ssec")
    key = os.urandom(32)
    r = srv.http("PUT", "/aws-ssec/o", headers=ssec(key), body=b"over http")
    assert r.status == 400, r
    root = r.xml()
    assert root.findtext("Code") == "InvalidRequest", r
    assert "secure connection" in (root.findtext("Message") or ""), r
    assert srv.http("HEAD", "/aws-ssec/o").status == 404
    # plain SSE-S3 still works in that profile
    c.put_object(Bucket="aws-ssec", Key="p", Body=b"plain")
    r = srv.http("GET", "/aws-ssec/p", headers=ssec(key))
    assert r.status == 400, r
