"""SSE-KMS with coffer's local keyring: PutObject/GetObject/HeadObject with
aws:kms (the account's aws/s3 key, key id, key ARN, alias, alias ARN), the
encryption context and bucket-key headers, the header-combination errors of the
reference table (sse-rules.md 3.2), key validation (LocalStack's
S3_SKIP_KMS_KEY_VALIDATION), disabled and pending-deletion keys, bucket default
aws:kms, and copies between SSE-KMS and the other modes.

Messages are asserted where the reference table (or the issue) gives them;
otherwise status and code only."""

import base64
import json
import os
import re
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import (COFFER_BIN, empty_and_delete, error_of, etag_of, hdrs,
                      server_env, unique_name)

SEG = 64 * 1024
SIZE = 3 * SEG + 1234

SSE = "x-amz-server-side-encryption"
KMS_ID = "x-amz-server-side-encryption-aws-kms-key-id"
CTX = "x-amz-server-side-encryption-context"
BKEY = "x-amz-server-side-encryption-bucket-key-enabled"
ALG = "x-amz-server-side-encryption-customer-algorithm"
CKEY = "x-amz-server-side-encryption-customer-key"
KMD5 = "x-amz-server-side-encryption-customer-key-MD5"

ARN_PREFIX = "arn:aws:kms:us-east-1:000000000000:"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_ARN_RE = re.compile(r"^arn:aws:kms:us-east-1:000000000000:key/(" + UUID + r")$")
ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')

M_NOT_DECLARED = ("Server Side Encryption with AWS KMS managed key requires HTTP header "
                  "x-amz-server-side-encryption : aws:kms")
M_INCOMPATIBLE = ("Server Side Encryption with Customer provided key is incompatible "
                  "with the encryption method specified")


# --------------------------------------------------------------------------
# local helpers
# --------------------------------------------------------------------------

def b64(data):
    return base64.b64encode(data).decode()


def ctx_header(obj):
    return b64(json.dumps(obj).encode())


def key_id_of(arn):
    m = KEY_ARN_RE.match(arn or "")
    assert m, f"not a key ARN of the local account: {arn!r}"
    return m.group(1)


def raw_err(r):
    """(status, Code, Message) of a raw error response."""
    root = r.xml()
    return r.status, root.findtext("Code"), root.findtext("Message")


def client_err(ei):
    e = ei.value
    assert isinstance(e, ClientError), repr(e)
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
            e.response["Error"].get("Message"))


def lower(headers):
    return {k.lower(): v for k, v in dict(headers).items()}


def assert_kms(resp, arn, bucket_key=False):
    """A boto3 response (put/get/head/copy) describes SSE-KMS under arn."""
    assert resp["ServerSideEncryption"] == "aws:kms", resp
    assert resp["SSEKMSKeyId"] == arn, resp
    h = hdrs(resp)
    assert h.get(SSE) == "aws:kms", h
    assert h.get(KMS_ID) == arn, h
    if bucket_key:
        assert resp.get("BucketKeyEnabled") is True, resp
        assert h.get(BKEY) == "true", h
    else:
        assert "BucketKeyEnabled" not in resp, resp
        assert BKEY not in h, h
    assert ALG.lower() not in h and KMD5.lower() not in h, h


def assert_sse_s3(resp):
    assert resp["ServerSideEncryption"] == "AES256", resp
    h = hdrs(resp)
    assert KMS_ID not in h, h
    assert BKEY not in h, h


def kms_cli(srv, *args, timeout=60):
    """coffer kms ARGS against srv's data dir (safe while the server runs)."""
    return subprocess.run(
        [COFFER_BIN, "kms", *args, "--data-dir", str(srv.data_dir),
         "--root-key-file", str(srv.root_key)],
        capture_output=True, text=True, env=server_env(), timeout=timeout)


def kms_ok(srv, *args):
    p = kms_cli(srv, *args)
    assert p.returncode == 0, f"coffer kms {args} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def create_key(srv, alias=None):
    """coffer kms create-key [--alias]; returns (id, arn)."""
    out = kms_ok(srv, "create-key", *(["--alias", alias] if alias else []))
    kid, arn = out.strip().split("\t")
    assert arn == ARN_PREFIX + "key/" + kid
    return kid, arn


def put_kms(c, bucket, key, body, key_ref=None, **kw):
    args = dict(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms", **kw)
    if key_ref is not None:
        args["SSEKMSKeyId"] = key_ref
    return c.put_object(**args)


# --------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 1000, SEG, SIZE])
def test_put_get_head_default_aws_s3_key(s3, bucket, size):
    data = os.urandom(size)
    p = put_kms(s3, bucket, "obj", data)
    arn = p["SSEKMSKeyId"]
    key_id_of(arn)
    assert_kms(p, arn)
    assert ETAG_RE.match(p["ETag"]), p["ETag"]
    if size > 0:
        assert p["ETag"] != etag_of(data), "SSE-KMS ETag must not be the MD5 of the body"
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == data
    assert_kms(g, arn)
    assert g["ETag"] == p["ETag"]
    assert g["ContentLength"] == size
    h = s3.head_object(Bucket=bucket, Key="obj")
    assert_kms(h, arn)
    assert h["ETag"] == p["ETag"]
    assert h["ContentLength"] == size


def test_aws_s3_key_is_one_key(s3, bucket):
    """aws:kms without a key id twice: the same (account aws/s3) key."""
    a = put_kms(s3, bucket, "a", b"first")["SSEKMSKeyId"]
    b = put_kms(s3, bucket, "b", b"second")["SSEKMSKeyId"]
    assert a == b
    key_id_of(a)
    # and the alias alias/aws/s3 names that key
    c = put_kms(s3, bucket, "c", b"third", key_ref="alias/aws/s3")["SSEKMSKeyId"]
    assert c == a


def test_etag_not_md5_raw(raw, bucket):
    data = b"kms etag check " * 100
    r = raw("PUT", f"/{bucket}/e", headers={SSE: "aws:kms"}, body=data)
    assert r.status == 200, r
    assert ETAG_RE.match(r.header("ETag")), r
    assert r.header("ETag") != etag_of(data)
    assert r.header(SSE) == "aws:kms"
    key_id_of(r.header(KMS_ID))
    assert r.header(BKEY) is None
    assert r.header(CTX) is None, "no context was sent, none is echoed"


def test_key_reference_forms_resolve_to_one_arn(s3, bucket):
    alias_name = unique_name("alias/forms")
    data = os.urandom(5000)
    arn = put_kms(s3, bucket, "first", data, key_ref=alias_name)["SSEKMSKeyId"]
    kid = key_id_of(arn)
    refs = {
        "id": kid,
        "arn": arn,
        "alias": alias_name,
        "alias-arn": ARN_PREFIX + alias_name,
    }
    for name, ref in refs.items():
        p = put_kms(s3, bucket, f"via-{name}", data + name.encode(), key_ref=ref)
        assert_kms(p, arn)
    for name in ("first",) + tuple(refs):
        body = data if name == "first" else data + name.encode()
        g = s3.get_object(Bucket=bucket, Key="first" if name == "first" else f"via-{name}")
        assert g["Body"].read() == body, name
        assert_kms(g, arn)


def test_distinct_keys_distinct_arns(s3, bucket):
    a = put_kms(s3, bucket, "a", b"A", key_ref=unique_name("alias/one"))["SSEKMSKeyId"]
    b = put_kms(s3, bucket, "b", b"B", key_ref=unique_name("alias/two"))["SSEKMSKeyId"]
    default = put_kms(s3, bucket, "c", b"C")["SSEKMSKeyId"]
    assert len({a, b, default}) == 3
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"A"
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"B"
    assert s3.head_object(Bucket=bucket, Key="a")["SSEKMSKeyId"] == a
    assert s3.head_object(Bucket=bucket, Key="b")["SSEKMSKeyId"] == b


def test_unknown_key_id_created_on_first_use(s3, bucket):
    """LocalStack profile (S3_SKIP_KMS_KEY_VALIDATION on by default): a key id never
    seen is created with that id."""
    import uuid
    kid = str(uuid.uuid4())
    p = put_kms(s3, bucket, "k", b"created on use", key_ref=kid)
    assert_kms(p, ARN_PREFIX + "key/" + kid)
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"created on use"
    assert_kms(g, ARN_PREFIX + "key/" + kid)
    # an unknown key ARN, too
    kid2 = str(uuid.uuid4())
    p = put_kms(s3, bucket, "k2", b"by arn", key_ref=ARN_PREFIX + "key/" + kid2)
    assert_kms(p, ARN_PREFIX + "key/" + kid2)


def test_unknown_alias_created_on_first_use(s3, bucket):
    alias_name = unique_name("alias/new")
    p = put_kms(s3, bucket, "k", b"x", key_ref=alias_name)
    arn = p["SSEKMSKeyId"]
    key_id_of(arn)
    assert put_kms(s3, bucket, "k2", b"y", key_ref=alias_name)["SSEKMSKeyId"] == arn
    # an unknown alias ARN, too
    alias2 = unique_name("alias/newarn")
    arn2 = put_kms(s3, bucket, "k3", b"z", key_ref=ARN_PREFIX + alias2)["SSEKMSKeyId"]
    key_id_of(arn2)
    assert arn2 != arn
    assert put_kms(s3, bucket, "k4", b"w", key_ref=alias2)["SSEKMSKeyId"] == arn2


def test_overwrite_changes_mode(s3, bucket):
    p = put_kms(s3, bucket, "o", b"kms version")
    assert_kms(p, p["SSEKMSKeyId"])
    p2 = s3.put_object(Bucket=bucket, Key="o", Body=b"sse-s3 version")
    assert_sse_s3(p2)
    assert p2["ETag"] == etag_of(b"sse-s3 version")
    h = s3.head_object(Bucket=bucket, Key="o")
    assert_sse_s3(h)
    assert s3.get_object(Bucket=bucket, Key="o")["Body"].read() == b"sse-s3 version"
    p3 = put_kms(s3, bucket, "o", b"kms again")
    assert_kms(s3.head_object(Bucket=bucket, Key="o"), p3["SSEKMSKeyId"])
    assert s3.get_object(Bucket=bucket, Key="o")["Body"].read() == b"kms again"


def test_metadata_with_sse_kms(s3, bucket):
    p = put_kms(s3, bucket, "m", b"meta", ContentType="text/x-kms",
                Metadata={"colour": "blue"})
    h = s3.head_object(Bucket=bucket, Key="m")
    assert h["ContentType"] == "text/x-kms"
    assert h["Metadata"] == {"colour": "blue"}
    assert_kms(h, p["SSEKMSKeyId"])
    # internal bookkeeping never leaks as a header
    assert not [k for k in hdrs(h) if k.startswith("coffer")], hdrs(h)


def test_sse_header_on_get_of_kms_object(s3, raw, bucket):
    """Reads take no x-amz-server-side-encryption (AWS GetObject/HeadObject docs)."""
    put_kms(s3, bucket, "g", b"kms body")
    r = raw("GET", f"/{bucket}/g", headers={SSE: "aws:kms"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument"
    assert b"kms body" not in r.body
    r = raw("HEAD", f"/{bucket}/g", headers={SSE: "aws:kms"})
    assert r.status == 400, r
    assert r.body == b""


def test_sse_c_headers_on_kms_object(s3, bucket):
    put_kms(s3, bucket, "g", b"kms body")
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="g", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=os.urandom(32))
    assert client_err(ei) == (400, "InvalidRequest",
                              "The encryption parameters are not applicable to this object.")


def test_list_shows_kms_objects(s3, bucket):
    put_kms(s3, bucket, "l1", b"1")
    s3.put_object(Bucket=bucket, Key="l2", Body=b"22")
    got = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert got == {"l1": 1, "l2": 2}


def test_dsse_accepted_and_echoed(s3, raw, bucket):
    """aws:kms:dsse is a valid x-amz-server-side-encryption value (sse-rules.md 3.1); AWS
    answers with the algorithm that was asked for."""
    r = raw("PUT", f"/{bucket}/d", headers={SSE: "aws:kms:dsse"}, body=b"dual layer")
    assert r.status == 200, r
    key_id_of(r.header(KMS_ID))
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"dual layer"
    assert r.header(SSE) == "aws:kms:dsse", r
    assert s3.head_object(Bucket=bucket, Key="d")["ServerSideEncryption"] == "aws:kms:dsse"


def test_aws_cli_sse_kms_flow(aws, s3, bucket, tmp_path):
    src = tmp_path / "in.bin"
    data = os.urandom(200 * 1024)
    src.write_bytes(data)
    alias_name = unique_name("alias/cli")
    aws("s3", "cp", str(src), f"s3://{bucket}/cli.bin", "--sse", "aws:kms",
        "--sse-kms-key-id", alias_name)
    out = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "cli.bin").stdout)
    assert out["ServerSideEncryption"] == "aws:kms"
    arn = out["SSEKMSKeyId"]
    key_id_of(arn)
    assert out["ContentLength"] == len(data)
    dst = tmp_path / "out.bin"
    aws("s3", "cp", f"s3://{bucket}/cli.bin", str(dst))
    assert dst.read_bytes() == data
    # s3api put-object with the key ARN names the same key
    out = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "api.bin",
                         "--body", str(src), "--server-side-encryption", "aws:kms",
                         "--ssekms-key-id", arn).stdout)
    assert out["ServerSideEncryption"] == "aws:kms"
    assert out["SSEKMSKeyId"] == arn
    assert s3.get_object(Bucket=bucket, Key="api.bin")["Body"].read() == data


# --------------------------------------------------------------------------
# ranges
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kms_big(s3):
    bucket = unique_name("kmsrng")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(SIZE)
    p = put_kms(s3, bucket, "big", data, key_ref=unique_name("alias/range"))
    yield bucket, data, p["SSEKMSKeyId"]
    empty_and_delete(s3, bucket)


RANGES = [
    ("bytes=0-0", 0, 0),
    ("bytes=0-99", 0, 99),
    ("bytes=100000-100999", 100000, 100999),
    ("bytes=100-", 100, SIZE - 1),
    ("bytes=-100", SIZE - 100, SIZE - 1),
    ("bytes=-1", SIZE - 1, SIZE - 1),
    ("bytes=0-65535", 0, SEG - 1),
    ("bytes=0-65536", 0, SEG),
    ("bytes=65535-65536", SEG - 1, SEG),
    ("bytes=65536-131071", SEG, 2 * SEG - 1),
    ("bytes=131071-196609", 2 * SEG - 1, 3 * SEG + 1),
    ("bytes=196608-", 3 * SEG, SIZE - 1),
    (f"bytes={SIZE - 1}-999999999", SIZE - 1, SIZE - 1),
]


@pytest.mark.parametrize("rng,first,last", RANGES, ids=[r[0] for r in RANGES])
def test_range_get_sse_kms(s3, kms_big, rng, first, last):
    bucket, data, arn = kms_big
    g = s3.get_object(Bucket=bucket, Key="big", Range=rng)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == f"bytes {first}-{last}/{SIZE}"
    assert g["Body"].read() == data[first:last + 1]
    assert_kms(g, arn)


def test_range_unsatisfiable_sse_kms(s3, kms_big):
    bucket, _data, _arn = kms_big
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={SIZE}-")
    assert error_of(ei) == (416, "InvalidRange")


# --------------------------------------------------------------------------
# encryption context and bucket key
# --------------------------------------------------------------------------

def test_encryption_context_accepted_and_echoed(s3, bucket):
    ctx = ctx_header({"project": "coffer", "team": "kms"})
    p = put_kms(s3, bucket, "c", b"with context", SSEKMSEncryptionContext=ctx)
    assert hdrs(p).get(CTX) == ctx, hdrs(p)
    assert p.get("SSEKMSEncryptionContext") == ctx
    assert_kms(p, p["SSEKMSKeyId"])
    g = s3.get_object(Bucket=bucket, Key="c")
    assert g["Body"].read() == b"with context"
    assert_kms(g, p["SSEKMSKeyId"])
    # reads carry no context (sse-rules.md 3.1: "same as PUT (no context)")
    assert CTX not in hdrs(g), hdrs(g)
    assert CTX not in hdrs(s3.head_object(Bucket=bucket, Key="c"))


def test_encryption_context_raw_echo_and_empty_object(raw, bucket):
    ctx = ctx_header({})
    r = raw("PUT", f"/{bucket}/c", headers={SSE: "aws:kms", CTX: ctx}, body=b"ctx")
    assert r.status == 200, r
    assert r.header(CTX) == ctx
    r = raw("GET", f"/{bucket}/c")
    assert r.status == 200 and r.body == b"ctx", r


def test_encryption_context_with_explicit_key(s3, bucket):
    alias_name = unique_name("alias/ctx")
    ctx = ctx_header({"a": "1", "b": "two words", "unicode": "caf\u00e9"})
    p = put_kms(s3, bucket, "c", b"ctx+key", key_ref=alias_name, SSEKMSEncryptionContext=ctx)
    assert hdrs(p).get(CTX) == ctx
    g = s3.get_object(Bucket=bucket, Key="c")
    assert g["Body"].read() == b"ctx+key"
    assert_kms(g, p["SSEKMSKeyId"])


BAD_CONTEXTS = {
    "not-base64": "%%%not base64%%%",
    "not-json": b64(b"this is not json"),
    "json-array": b64(b'["a", "b"]'),
    "json-string": b64(b'"just a string"'),
    "number-value": b64(b'{"a": 1}'),
    "nested-value": b64(b'{"a": {"b": "c"}}'),
    "null-value": b64(b'{"a": null}'),
    "bool-value": b64(b'{"a": true}'),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTEXTS))
def test_malformed_encryption_context(s3, raw, bucket, case):
    r = raw("PUT", f"/{bucket}/bad", headers={SSE: "aws:kms", CTX: BAD_CONTEXTS[case]},
            body=b"must not be stored")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument", r
    assert r.xml().findtext("ArgumentName") == CTX, r
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="bad")
    assert error_of(ei) == (404, "404")


def test_malformed_encryption_context_boto3(s3, bucket):
    with pytest.raises(ClientError) as ei:
        put_kms(s3, bucket, "bad", b"x", SSEKMSEncryptionContext=b64(b"[1,2]"))
    assert error_of(ei) == (400, "InvalidArgument")


def test_bucket_key_enabled_echoed(s3, bucket):
    p = put_kms(s3, bucket, "bk", b"bucket key", BucketKeyEnabled=True)
    arn = p["SSEKMSKeyId"]
    assert_kms(p, arn, bucket_key=True)
    g = s3.get_object(Bucket=bucket, Key="bk")
    assert g["Body"].read() == b"bucket key"
    assert_kms(g, arn, bucket_key=True)
    assert_kms(s3.head_object(Bucket=bucket, Key="bk"), arn, bucket_key=True)
    # not set: absent everywhere
    p = put_kms(s3, bucket, "nobk", b"no bucket key")
    assert_kms(p, arn)
    assert_kms(s3.head_object(Bucket=bucket, Key="nobk"), arn)
    assert_kms(s3.get_object(Bucket=bucket, Key="nobk"), arn)


def test_bucket_key_false_not_echoed(raw, bucket):
    r = raw("PUT", f"/{bucket}/f", headers={SSE: "aws:kms", BKEY: "false"}, body=b"f")
    assert r.status == 200, r
    assert r.header(BKEY) is None, r
    r = raw("HEAD", f"/{bucket}/f")
    assert r.status == 200 and r.header(BKEY) is None, r


# --------------------------------------------------------------------------
# header-combination errors
# --------------------------------------------------------------------------

@pytest.fixture
def stored(s3, bucket):
    """A bucket holding one object "k" that the failing writes must leave intact."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    return bucket


def assert_untouched(s3, bucket):
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"original"
    assert_sse_s3(g)


@pytest.mark.parametrize("sse", [None, "AES256"])
def test_kms_key_id_without_aws_kms(s3, raw, stored, sse):
    headers = {KMS_ID: "alias/whatever"}
    if sse:
        headers[SSE] = sse
    r = raw("PUT", f"/{stored}/k", headers=headers, body=b"replacement")
    assert raw_err(r) == (400, "InvalidArgument", M_NOT_DECLARED), r
    assert r.xml().findtext("ArgumentName") == KMS_ID
    assert_untouched(s3, stored)


def test_kms_key_id_without_aws_kms_boto3(s3, stored):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=stored, Key="k", Body=b"replacement", SSEKMSKeyId="alias/x")
    assert client_err(ei) == (400, "InvalidArgument", M_NOT_DECLARED)
    assert_untouched(s3, stored)


def test_sse_c_with_aws_kms(s3, raw, stored):
    key = os.urandom(32)
    import hashlib
    headers = {SSE: "aws:kms", ALG: "AES256", CKEY: b64(key),
               KMD5: b64(hashlib.md5(key).digest())}
    r = raw("PUT", f"/{stored}/k", headers=headers, body=b"replacement")
    assert raw_err(r) == (400, "InvalidArgument", M_INCOMPATIBLE), r
    assert r.xml().findtext("ArgumentName") == SSE
    assert_untouched(s3, stored)
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=stored, Key="k", Body=b"replacement", ServerSideEncryption="aws:kms",
                      SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert client_err(ei) == (400, "InvalidArgument", M_INCOMPATIBLE)
    assert_untouched(s3, stored)


@pytest.mark.parametrize("value", ["aes256", "AES128", "kms", "aws:KMS", "aws:kms:foo", ""])
def test_unsupported_sse_value(s3, raw, stored, value):
    r = raw("PUT", f"/{stored}/k", headers={SSE: value}, body=b"replacement")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument", r
    assert_untouched(s3, stored)


def test_unsupported_sse_value_boto3(s3, stored):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=stored, Key="k", Body=b"replacement", ServerSideEncryption="bogus")
    assert error_of(ei) == (400, "InvalidArgument")
    assert_untouched(s3, stored)


@pytest.mark.parametrize("ref", ["arn:aws:kms:us-east-1", "alias/", "bad key id!",
                                 "arn:aws:kms:us-east-1:000000000000:thing/abc"])
def test_invalid_key_reference(s3, raw, stored, ref):
    """A key reference that cannot name a key (even in the create-on-use profile)."""
    r = raw("PUT", f"/{stored}/k", headers={SSE: "aws:kms", KMS_ID: ref}, body=b"replacement")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "KMS.NotFoundException", r
    assert_untouched(s3, stored)


# --------------------------------------------------------------------------
# key validation on (S3_SKIP_KMS_KEY_VALIDATION=0)
# --------------------------------------------------------------------------

@pytest.fixture
def validating(coffer_factory):
    return coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "0"})


def test_validation_unknown_key_id(validating):
    import uuid
    c = validating.client()
    c.create_bucket(Bucket="val")
    kid = str(uuid.uuid4())
    with pytest.raises(ClientError) as ei:
        put_kms(c, "val", "k", b"x", key_ref=kid)
    status, code, msg = client_err(ei)
    assert (status, code) == (400, "KMS.NotFoundException")
    assert msg == f"Key '{ARN_PREFIX}key/{kid}' does not exist"
    with pytest.raises(ClientError) as ei:
        put_kms(c, "val", "k", b"x", key_ref=ARN_PREFIX + "key/" + kid)
    assert error_of(ei) == (400, "KMS.NotFoundException")
    with pytest.raises(ClientError) as ei:
        put_kms(c, "val", "k", b"x", key_ref="alias/never-made")
    assert error_of(ei) == (400, "KMS.NotFoundException")
    with pytest.raises(ClientError) as ei:
        put_kms(c, "val", "k", b"x", key_ref=ARN_PREFIX + "alias/never-made")
    assert error_of(ei) == (400, "KMS.NotFoundException")
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="val", Key="k")
    assert error_of(ei) == (404, "404")
    # nothing was created by the failed attempts
    p = kms_cli(validating, "describe", kid)
    assert p.returncode == 1, p
    assert kid not in kms_ok(validating, "list")


def test_validation_aws_s3_key_still_created(validating):
    """No key id: the account's aws/s3 key is created on first use even when validating."""
    c = validating.client()
    c.create_bucket(Bucket="val")
    arn = put_kms(c, "val", "k", b"default key")["SSEKMSKeyId"]
    key_id_of(arn)
    assert c.get_object(Bucket="val", Key="k")["Body"].read() == b"default key"


def test_validation_cli_created_key_works(validating):
    c = validating.client()
    c.create_bucket(Bucket="val")
    alias_name = unique_name("alias/made")
    kid, arn = create_key(validating, alias=alias_name)     # while the server runs
    for ref in (alias_name, kid, arn, ARN_PREFIX + alias_name):
        p = put_kms(c, "val", "k", ref.encode(), key_ref=ref)
        assert_kms(p, arn)
        g = c.get_object(Bucket="val", Key="k")
        assert g["Body"].read() == ref.encode()
        assert_kms(g, arn)
    # a key created without an alias works by id
    kid2, arn2 = create_key(validating)
    assert_kms(put_kms(c, "val", "k2", b"x", key_ref=kid2), arn2)


def test_validation_raw_error_body(validating):
    c = validating.client()
    c.create_bucket(Bucket="val")
    r = validating.http("PUT", "/val/k", headers={SSE: "aws:kms", KMS_ID: "fake-key-id"},
                        body=b"x")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "KMS.NotFoundException"


def test_skip_validation_explicit_one(coffer_factory):
    """S3_SKIP_KMS_KEY_VALIDATION=1 is the default behaviour: create on use."""
    import uuid
    srv = coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "1"})
    c = srv.client()
    c.create_bucket(Bucket="val")
    kid = str(uuid.uuid4())
    assert_kms(put_kms(c, "val", "k", b"x", key_ref=kid), ARN_PREFIX + "key/" + kid)


def test_aws_profile_refuses_kms_over_http(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    c = srv.client()
    c.create_bucket(Bucket="prof")
    with pytest.raises(ClientError) as ei:
        put_kms(c, "prof", "k", b"x")
    assert error_of(ei) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="prof", Key="k")
    assert error_of(ei) == (404, "404")
    # plain SSE-S3 still works there
    assert c.put_object(Bucket="prof", Key="k", Body=b"y")["ServerSideEncryption"] == "AES256"


# --------------------------------------------------------------------------
# key states (admin CLI while the server runs)
# --------------------------------------------------------------------------

def test_disabled_key(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="states")
    alias_name = "alias/disable-me"
    kid, arn = create_key(srv, alias=alias_name)
    data = os.urandom(SEG + 10)
    assert_kms(put_kms(c, "states", "old", data, key_ref=alias_name), arn)
    s3_obj = c.put_object(Bucket="states", Key="plain", Body=b"plain")
    assert s3_obj["ServerSideEncryption"] == "AES256"

    assert kms_ok(srv, "disable", kid).split() == [kid, "Disabled"]
    for ref in (alias_name, kid, arn):
        with pytest.raises(ClientError) as ei:
            put_kms(c, "states", "new", b"refused", key_ref=ref)
        assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled."), ref
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="states", Key="new")
    assert error_of(ei) == (404, "404")
    # reading an object under it
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="states", Key="old")
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")
    r = srv.http("GET", "/states/old")
    assert raw_err(r) == (400, "KMS.DisabledException", f"{arn} is disabled."), r
    assert data[:64] not in r.body
    # other keys and modes are unaffected
    assert c.get_object(Bucket="states", Key="plain")["Body"].read() == b"plain"
    other = put_kms(c, "states", "other", b"other key")
    assert other["SSEKMSKeyId"] != arn

    assert kms_ok(srv, "enable", alias_name).split() == [kid, "Enabled"]
    g = c.get_object(Bucket="states", Key="old")
    assert g["Body"].read() == data
    assert_kms(g, arn)
    assert_kms(put_kms(c, "states", "new", b"accepted", key_ref=alias_name), arn)
    assert c.get_object(Bucket="states", Key="new")["Body"].read() == b"accepted"


def test_disabled_aws_s3_default_key(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="states")
    arn = put_kms(c, "states", "a", b"a")["SSEKMSKeyId"]
    kms_ok(srv, "disable", "alias/aws/s3")
    with pytest.raises(ClientError) as ei:
        put_kms(c, "states", "b", b"b")
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")
    kms_ok(srv, "enable", arn)
    assert put_kms(c, "states", "b", b"b")["SSEKMSKeyId"] == arn


def test_pending_deletion_key(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="states")
    kid, arn = create_key(srv, alias="alias/doomed")
    assert_kms(put_kms(c, "states", "old", b"old data", key_ref=kid), arn)
    out = kms_ok(srv, "schedule-deletion", kid, "--days", "7")
    assert out.split() == [kid, "PendingDeletion"]
    msg = f"{arn} is pending deletion."
    with pytest.raises(ClientError) as ei:
        put_kms(c, "states", "new", b"refused", key_ref="alias/doomed")
    assert client_err(ei) == (400, "KMS.KMSInvalidStateException", msg)
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="states", Key="old")
    assert client_err(ei) == (400, "KMS.KMSInvalidStateException", msg)
    # cancel-deletion leaves the key disabled (AWS), enable restores it
    assert kms_ok(srv, "cancel-deletion", kid).split() == [kid, "Disabled"]
    with pytest.raises(ClientError) as ei:
        c.get_object(Bucket="states", Key="old")
    assert error_of(ei) == (400, "KMS.DisabledException")
    kms_ok(srv, "enable", kid)
    assert c.get_object(Bucket="states", Key="old")["Body"].read() == b"old data"


def test_disabled_key_in_validating_server(coffer_factory):
    srv = coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "0"})
    c = srv.client()
    c.create_bucket(Bucket="states")
    kid, arn = create_key(srv, alias="alias/v")
    kms_ok(srv, "disable", kid)
    with pytest.raises(ClientError) as ei:
        put_kms(c, "states", "k", b"x", key_ref="alias/v")
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")


def test_disabled_bucket_default_key(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="states")
    kid, arn = create_key(srv, alias="alias/bucketdefault")
    c.put_bucket_encryption(Bucket="states", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": "alias/bucketdefault"}}]})
    kms_ok(srv, "disable", kid)
    with pytest.raises(ClientError) as ei:
        c.put_object(Bucket="states", Key="k", Body=b"x")
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")
    # an explicit AES256 is not affected by the default's key
    assert c.put_object(Bucket="states", Key="k", Body=b"x",
                        ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"


def test_kms_objects_survive_restart(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="restart")
    ctx = ctx_header({"k": "v"})
    objs = {
        "default": (os.urandom(SEG * 2 + 3), {}),
        "alias": (os.urandom(777), {"key_ref": "alias/restart"}),
        "ctx": (os.urandom(100), {"SSEKMSEncryptionContext": ctx}),
        "bk": (b"bk", {"BucketKeyEnabled": True}),
    }
    arns = {}
    for k, (data, kw) in objs.items():
        arns[k] = put_kms(c, "restart", k, data, **kw)["SSEKMSKeyId"]
    srv.restart()
    c = srv.client()
    for k, (data, kw) in objs.items():
        g = c.get_object(Bucket="restart", Key=k)
        assert g["Body"].read() == data, k
        assert_kms(g, arns[k], bucket_key=(k == "bk"))
    assert put_kms(c, "restart", "again", b"x", key_ref="alias/restart")["SSEKMSKeyId"] == arns["alias"]
    assert put_kms(c, "restart", "again2", b"x")["SSEKMSKeyId"] == arns["default"]


def test_kms_body_not_on_disk(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="disk")
    marker = b"KMS-PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    put_kms(c, "disk", "k", marker * 50)
    srv.stop()
    for p in srv.data_dir.rglob("*"):
        if p.is_file():
            assert marker not in p.read_bytes(), p


# --------------------------------------------------------------------------
# bucket default aws:kms
# --------------------------------------------------------------------------

def set_default_kms(s3, bucket, key_id=None, bucket_key=None):
    by_default = {"SSEAlgorithm": "aws:kms"}
    if key_id is not None:
        by_default["KMSMasterKeyID"] = key_id
    rule = {"ApplyServerSideEncryptionByDefault": by_default}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    s3.put_bucket_encryption(Bucket=bucket,
                             ServerSideEncryptionConfiguration={"Rules": [rule]})


def test_bucket_default_kms_with_alias(s3, bucket):
    alias_name = unique_name("alias/bdef")
    arn = put_kms(s3, bucket, "probe", b"p", key_ref=alias_name)["SSEKMSKeyId"]
    set_default_kms(s3, bucket, alias_name, bucket_key=True)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias_name}
    assert rules[0]["BucketKeyEnabled"] is True

    data = os.urandom(SEG + 99)
    p = s3.put_object(Bucket=bucket, Key="plain", Body=data)
    assert_kms(p, arn, bucket_key=True)
    assert p["ETag"] != etag_of(data)
    g = s3.get_object(Bucket=bucket, Key="plain")
    assert g["Body"].read() == data
    assert_kms(g, arn, bucket_key=True)
    assert_kms(s3.head_object(Bucket=bucket, Key="plain"), arn, bucket_key=True)


def test_bucket_default_kms_explicit_aes256_overrides(s3, bucket):
    set_default_kms(s3, bucket, unique_name("alias/bdef"), bucket_key=True)
    p = s3.put_object(Bucket=bucket, Key="aes", Body=b"aes body", ServerSideEncryption="AES256")
    assert_sse_s3(p)
    assert p["ETag"] == etag_of(b"aes body")
    h = s3.head_object(Bucket=bucket, Key="aes")
    assert_sse_s3(h)
    assert s3.get_object(Bucket=bucket, Key="aes")["Body"].read() == b"aes body"


def test_bucket_default_kms_explicit_other_key_overrides(s3, bucket):
    set_default_kms(s3, bucket, unique_name("alias/bdef"))
    other = unique_name("alias/other")
    p = put_kms(s3, bucket, "o", b"other", key_ref=other)
    q = s3.put_object(Bucket=bucket, Key="d", Body=b"default")
    assert p["SSEKMSKeyId"] != q["SSEKMSKeyId"]
    assert s3.head_object(Bucket=bucket, Key="o")["SSEKMSKeyId"] == p["SSEKMSKeyId"]


def test_bucket_default_kms_sse_c_overrides(s3, raw, bucket):
    import hashlib
    set_default_kms(s3, bucket, unique_name("alias/bdef"), bucket_key=True)
    key = os.urandom(32)
    p = s3.put_object(Bucket=bucket, Key="c", Body=b"customer", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=key)
    h = hdrs(p)
    assert h.get(ALG.lower()) == "AES256", h
    assert h.get(KMD5.lower()) == b64(hashlib.md5(key).digest())
    assert SSE not in h and KMS_ID not in h and BKEY not in h, h
    # it really is SSE-C: no key, no read
    r = raw("GET", f"/{bucket}/c")
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidRequest", r
    g = s3.get_object(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert g["Body"].read() == b"customer"


def test_bucket_default_kms_without_key_id_uses_aws_s3(s3, bucket):
    aws_s3 = put_kms(s3, bucket, "probe", b"p")["SSEKMSKeyId"]
    set_default_kms(s3, bucket)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    assert rules[0].get("BucketKeyEnabled", False) is False
    p = s3.put_object(Bucket=bucket, Key="d", Body=b"d")
    assert_kms(p, aws_s3)
    assert_kms(s3.get_object(Bucket=bucket, Key="d"), aws_s3)


def test_bucket_default_kms_with_key_arn(s3, bucket):
    import uuid
    kid = str(uuid.uuid4())
    arn = ARN_PREFIX + "key/" + kid
    set_default_kms(s3, bucket, arn)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == arn
    p = s3.put_object(Bucket=bucket, Key="d", Body=b"d")
    assert_kms(p, arn)


def test_bucket_default_kms_then_delete_resets(s3, bucket):
    set_default_kms(s3, bucket, unique_name("alias/bdef"))
    assert s3.put_object(Bucket=bucket, Key="a", Body=b"a")["ServerSideEncryption"] == "aws:kms"
    s3.delete_bucket_encryption(Bucket=bucket)
    p = s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    assert_sse_s3(p)
    # the earlier object keeps its mode
    assert s3.head_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "aws:kms"


def test_bucket_default_kms_applies_to_copy_destination(s3, bucket):
    alias_name = unique_name("alias/bdefcopy")
    arn = put_kms(s3, bucket, "probe", b"p", key_ref=alias_name)["SSEKMSKeyId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ServerSideEncryption="AES256")
    set_default_kms(s3, bucket, alias_name)
    cp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert_kms(cp, arn)
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == b"copy me"
    assert_kms(g, arn)


def test_bucket_default_kms_put_does_not_validate_key(coffer_factory):
    """PutBucketEncryption does not validate the key id (sse-rules.md 3.3); with validation
    on, the write that would use an unknown key fails with KMS.NotFoundException."""
    srv = coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "0"})
    c = srv.client()
    c.create_bucket(Bucket="novalidate")
    set_default_kms(c, "novalidate", "alias/not-there")
    with pytest.raises(ClientError) as ei:
        c.put_object(Bucket="novalidate", Key="k", Body=b"x")
    assert error_of(ei) == (400, "KMS.NotFoundException")
    assert c.put_object(Bucket="novalidate", Key="k", Body=b"x",
                        ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"


# --------------------------------------------------------------------------
# copy
# --------------------------------------------------------------------------

def copy(s3, bucket, src, dst, **kw):
    return s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": src}, **kw)


def test_copy_kms_to_sse_s3(s3, bucket):
    data = os.urandom(SEG + 17)
    put_kms(s3, bucket, "src", data)
    cp = copy(s3, bucket, "src", "dst")
    assert_sse_s3(cp)
    assert cp["CopyObjectResult"]["ETag"] == etag_of(data)
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == data
    assert_sse_s3(g)
    assert g["ETag"] == etag_of(data)
    # explicit AES256 as well
    cp = copy(s3, bucket, "src", "dst2", ServerSideEncryption="AES256")
    assert_sse_s3(cp)
    assert cp["CopyObjectResult"]["ETag"] == etag_of(data)


def test_copy_sse_s3_to_kms(s3, bucket):
    data = os.urandom(SEG * 2)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    alias_name = unique_name("alias/cp")
    cp = copy(s3, bucket, "src", "dst", ServerSideEncryption="aws:kms", SSEKMSKeyId=alias_name)
    arn = cp["SSEKMSKeyId"]
    assert_kms(cp, arn)
    assert cp["CopyObjectResult"]["ETag"] != etag_of(data)
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == data
    assert_kms(g, arn)
    assert put_kms(s3, bucket, "probe", b"p", key_ref=alias_name)["SSEKMSKeyId"] == arn
    # the source is unchanged
    assert_sse_s3(s3.head_object(Bucket=bucket, Key="src"))


def test_copy_kms_rekey_in_place(s3, bucket):
    """KMS key A -> key B onto itself: allowed (the encryption changes)."""
    a, b = unique_name("alias/a"), unique_name("alias/b")
    data = os.urandom(5000)
    arn_a = put_kms(s3, bucket, "obj", data, key_ref=a,
                    Metadata={"keep": "me"})["SSEKMSKeyId"]
    cp = copy(s3, bucket, "obj", "obj", ServerSideEncryption="aws:kms", SSEKMSKeyId=b)
    arn_b = cp["SSEKMSKeyId"]
    assert arn_b != arn_a
    assert_kms(cp, arn_b)
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == data
    assert_kms(g, arn_b)
    assert g["Metadata"] == {"keep": "me"}
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 1


def test_copy_kms_in_place_with_context_and_bucket_key(s3, bucket):
    put_kms(s3, bucket, "obj", b"ctx copy")
    ctx = ctx_header({"copied": "yes"})
    cp = copy(s3, bucket, "obj", "obj", ServerSideEncryption="aws:kms",
              SSEKMSEncryptionContext=ctx, BucketKeyEnabled=True)
    assert hdrs(cp).get(CTX) == ctx
    assert_kms(cp, cp["SSEKMSKeyId"], bucket_key=True)
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == b"ctx copy"
    assert_kms(g, cp["SSEKMSKeyId"], bucket_key=True)


def test_copy_kms_to_kms_other_key_keeps_source(s3, bucket):
    a, b = unique_name("alias/a"), unique_name("alias/b")
    data = os.urandom(SEG * 3 + 1)
    arn_a = put_kms(s3, bucket, "src", data, key_ref=a)["SSEKMSKeyId"]
    cp = copy(s3, bucket, "src", "dst", ServerSideEncryption="aws:kms", SSEKMSKeyId=b)
    assert cp["SSEKMSKeyId"] != arn_a
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == data
    g = s3.get_object(Bucket=bucket, Key="src")
    assert g["Body"].read() == data
    assert_kms(g, arn_a)


def test_copy_kms_in_place_without_change_refused(s3, bucket):
    put_kms(s3, bucket, "obj", b"same")
    with pytest.raises(ClientError) as ei:
        copy(s3, bucket, "obj", "obj")
    assert error_of(ei) == (400, "InvalidRequest")


def test_copy_kms_to_sse_c_and_back(s3, bucket):
    import hashlib
    data = os.urandom(SEG + 1)
    key = os.urandom(32)
    arn = put_kms(s3, bucket, "obj", data, key_ref=unique_name("alias/ssec"))["SSEKMSKeyId"]
    # SSE-KMS -> SSE-C, in place
    cp = copy(s3, bucket, "obj", "obj", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    h = hdrs(cp)
    assert h.get(ALG.lower()) == "AES256"
    assert h.get(KMD5.lower()) == b64(hashlib.md5(key).digest())
    assert SSE not in h and KMS_ID not in h, h
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="obj")
    assert error_of(ei) == (400, "InvalidRequest")
    g = s3.get_object(Bucket=bucket, Key="obj", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=key)
    assert g["Body"].read() == data
    # SSE-C -> SSE-KMS, in place, with the source key
    cp = copy(s3, bucket, "obj", "obj", CopySourceSSECustomerAlgorithm="AES256",
              CopySourceSSECustomerKey=key, ServerSideEncryption="aws:kms",
              SSEKMSKeyId=arn)
    assert_kms(cp, arn)
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == data
    assert_kms(g, arn)
    # SSE-C -> SSE-KMS without the source key fails
    copy(s3, bucket, "obj", "c", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    with pytest.raises(ClientError) as ei:
        copy(s3, bucket, "c", "d", ServerSideEncryption="aws:kms")
    assert error_of(ei) == (400, "InvalidRequest")


def test_copy_kms_to_other_bucket_with_default(s3, bucket):
    other = unique_name("b")
    s3.create_bucket(Bucket=other)
    try:
        alias_name = unique_name("alias/dest")
        arn_dest = put_kms(s3, other, "probe", b"p", key_ref=alias_name)["SSEKMSKeyId"]
        set_default_kms(s3, other, alias_name, bucket_key=True)
        arn_src = put_kms(s3, bucket, "src", b"cross bucket")["SSEKMSKeyId"]
        cp = s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
        assert_kms(cp, arn_dest, bucket_key=True)
        assert arn_src != arn_dest
        g = s3.get_object(Bucket=other, Key="dst")
        assert g["Body"].read() == b"cross bucket"
        assert_kms(g, arn_dest, bucket_key=True)
    finally:
        empty_and_delete(s3, other)


def test_copy_from_disabled_key_source(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="copies")
    kid, arn = create_key(srv, alias="alias/src")
    put_kms(c, "copies", "src", b"locked", key_ref=kid)
    kms_ok(srv, "disable", kid)
    with pytest.raises(ClientError) as ei:
        copy(c, "copies", "src", "dst")
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="copies", Key="dst")
    assert error_of(ei) == (404, "404")
    # nor can it be the destination key
    c.put_object(Bucket="copies", Key="plain", Body=b"p")
    with pytest.raises(ClientError) as ei:
        copy(c, "copies", "plain", "dst", ServerSideEncryption="aws:kms", SSEKMSKeyId=kid)
    assert client_err(ei) == (400, "KMS.DisabledException", f"{arn} is disabled.")


# --------------------------------------------------------------------------
# tampering (server stopped, metadata edited with sqlite3)
# --------------------------------------------------------------------------

def _db(srv):
    import sqlite3
    return sqlite3.connect(str(srv.data_dir / "coffer.db"))


def _assert_refused(srv, path, secret):
    r = srv.http("GET", path, timeout=30)
    assert r.status >= 400, f"tampered SSE-KMS object served: {r!r}"
    assert secret[:32] not in r.body


@pytest.fixture
def tamper_srv(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="tamper")
    a = os.urandom(SEG + 50)
    b = os.urandom(SEG + 50)
    ctx = ctx_header({"purpose": "tamper"})
    arn_a = put_kms(c, "tamper", "a", a, key_ref="alias/ta", SSEKMSEncryptionContext=ctx)[
        "SSEKMSKeyId"]
    arn_b = put_kms(c, "tamper", "b", b, key_ref="alias/tb")["SSEKMSKeyId"]
    srv.stop()
    return srv, a, b, key_id_of(arn_a), key_id_of(arn_b)


def test_tampered_encryption_context_detected(tamper_srv):
    """The context is bound into the wrap: editing the stored one breaks the read."""
    srv, a, _b, _ka, _kb = tamper_srv
    db = _db(srv)
    (headers,) = db.execute("SELECT headers FROM objects WHERE bucket='tamper' AND key='a'"
                            ).fetchone()
    assert "coffer-kms-context:" in headers, headers
    assert "tamper" in headers
    db.execute("UPDATE objects SET headers=? WHERE bucket='tamper' AND key='a'",
               (headers.replace('"purpose":"tamper"', '"purpose":"tampex"'),))
    db.commit()
    db.close()
    srv.start()
    _assert_refused(srv, "/tamper/a", a)
    assert srv.client().get_object(Bucket="tamper", Key="b")["Body"].read() == tamper_srv[2]


def test_object_moved_to_other_kms_key_detected(tamper_srv):
    """Pointing an object at another KMS key does not decrypt it."""
    srv, a, _b, _ka, kb = tamper_srv
    db = _db(srv)
    db.execute("UPDATE objects SET kek_id=? WHERE bucket='tamper' AND key='a'", (kb,))
    db.commit()
    db.close()
    srv.start()
    _assert_refused(srv, "/tamper/a", a)


def test_swapped_kms_key_material_detected(tamper_srv):
    """Key material is bound to its key id: swapping two keys' wrapped material fails."""
    srv, a, b, ka, kb = tamper_srv
    db = _db(srv)
    (ma,) = db.execute("SELECT material FROM kms_keys WHERE id=?", (ka,)).fetchone()
    (mb,) = db.execute("SELECT material FROM kms_keys WHERE id=?", (kb,)).fetchone()
    db.execute("UPDATE kms_keys SET material=? WHERE id=?", (mb, ka))
    db.execute("UPDATE kms_keys SET material=? WHERE id=?", (ma, kb))
    db.commit()
    db.close()
    srv.start()
    _assert_refused(srv, "/tamper/a", a)
    _assert_refused(srv, "/tamper/b", b)


def test_tampered_kms_blob_detected(tamper_srv):
    srv, a, _b, _ka, _kb = tamper_srv
    db = _db(srv)
    (blob_id,) = db.execute("SELECT blob_id FROM objects WHERE bucket='tamper' AND key='a'"
                            ).fetchone()
    db.close()
    paths = [p for p in (srv.data_dir / "blobs").rglob(blob_id) if p.is_file()]
    assert len(paths) == 1, paths
    raw_blob = bytearray(paths[0].read_bytes())
    raw_blob[len(raw_blob) // 2] ^= 0x01
    paths[0].write_bytes(bytes(raw_blob))
    srv.start()
    r = srv.http("GET", "/tamper/a", timeout=30)
    assert not (r.status == 200 and r.error is None and r.body == a), \
        "tampered SSE-KMS blob served in full"
    if r.status == 200:
        assert r.body == a[:len(r.body)], "unauthenticated bytes were sent"
