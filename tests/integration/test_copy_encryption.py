"""CopyObject re-encryption (sse-rules.md 3.1-3.3, issue 3 "Copy and
re-encryption"): SSE-C source (x-amz-copy-source-server-side-encryption-
customer-*) to SSE-S3, SSE-S3 to SSE-C, SSE-C key rotation in place, errors for
a missing / wrong source key, and the copy-onto-itself rule."""

import base64
import hashlib
import os
import re

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_of, etag_of, hdrs, run_aws, unique_name

SEG = 64 * 1024
ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')

ALG = "x-amz-server-side-encryption-customer-algorithm"
KEY = "x-amz-server-side-encryption-customer-key"
KMD5 = "x-amz-server-side-encryption-customer-key-MD5"
SSE = "x-amz-server-side-encryption"
CALG = "x-amz-copy-source-server-side-encryption-customer-algorithm"
CKEY = "x-amz-copy-source-server-side-encryption-customer-key"
CKMD5 = "x-amz-copy-source-server-side-encryption-customer-key-MD5"

M_NO_KEY = ("The object was stored using a form of Server Side Encryption. "
            "The correct parameters must be provided to retrieve the object.")
M_WRONG_KEY = ("Requests specifying Server Side Encryption with Customer provided keys "
               "must provide the correct secret key.")
M_MD5 = "The calculated MD5 hash of the key did not match the hash that was provided."
M_BAD_ALG = "The Encryption request you specified is not valid. Supported value: AES256."
M_BAD_KEY = "The secret key was invalid for the specified algorithm."
M_INCOMPATIBLE = ("Server Side Encryption with Customer provided key is incompatible "
                  "with the encryption method specified")
M_NOT_APPLICABLE = "The encryption parameters are not applicable to this object."
M_COPY_SELF = ("This copy request is illegal because it is trying to copy an object to "
               "itself without changing the object's metadata, storage class, website "
               "redirect location or encryption attributes.")


def b64(data):
    return base64.b64encode(data).decode()


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def ssec(key, md5=None, alg="AES256"):
    return {"SSECustomerAlgorithm": alg, "SSECustomerKey": key} if md5 is None else {
        "SSECustomerAlgorithm": alg, "SSECustomerKey": b64(key), "SSECustomerKeyMD5": md5}


def src_ssec(key):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def raw_ssec(key, md5=None, alg="AES256"):
    return {ALG: alg, KEY: b64(key), KMD5: md5 or md5_b64(key)}


def raw_src_ssec(key, md5=None, alg="AES256"):
    return {CALG: alg, CKEY: b64(key), CKMD5: md5 or md5_b64(key)}


def client_err(ei):
    e = ei.value
    assert isinstance(e, ClientError), repr(e)
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
            e.response["Error"].get("Message"))


def raw_err(r):
    root = r.xml()
    return r.status, root.findtext("Code"), root.findtext("Message")


def lower(headers):
    return {k.lower(): v for k, v in dict(headers).items()}


def assert_sse_s3(headers):
    h = lower(headers)
    assert h.get(SSE.lower()) == "AES256", h
    assert ALG.lower() not in h and KMD5.lower() not in h, h


def assert_sse_c(headers, key):
    h = lower(headers)
    assert h.get(ALG.lower()) == "AES256", h
    assert h.get(KMD5.lower()) == md5_b64(key), h
    assert SSE.lower() not in h, h
    assert KEY.lower() not in h, h


def read_plain(s3, bucket, key):
    g = s3.get_object(Bucket=bucket, Key=key)
    return g, g["Body"].read()


def read_ssec(s3, bucket, key, ckey):
    g = s3.get_object(Bucket=bucket, Key=key, **ssec(ckey))
    return g, g["Body"].read()


@pytest.fixture
def bucket2(s3):
    name = unique_name("cenc2")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def k1():
    return os.urandom(32)


@pytest.fixture
def k2():
    return os.urandom(32)


@pytest.fixture
def ssec_src(s3, bucket, k1):
    """A three-segment SSE-C object with metadata."""
    data = os.urandom(2 * SEG + 777)
    p = s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="image/x-ssec",
                      Metadata={"origin": "ssec"}, **ssec(k1))
    return bucket, "src", data, p["ETag"]


@pytest.fixture
def plain_src(s3, bucket):
    data = os.urandom(SEG + 300)
    s3.put_object(Bucket=bucket, Key="plain", Body=data, ContentType="text/x-plain",
                  Metadata={"origin": "plain"})
    return bucket, "plain", data


# --------------------------------------------------------------------------
# mode pairs
# --------------------------------------------------------------------------

def test_ssec_to_sse_s3(s3, ssec_src, bucket2, k1):
    bucket, key, data, src_etag = ssec_src
    r = s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)   # SSE-S3: MD5 of the plaintext
    assert r["ServerSideEncryption"] == "AES256"
    assert "SSECustomerAlgorithm" not in r
    assert_sse_s3(hdrs(r))
    g, body = read_plain(s3, bucket2, "dst")
    assert body == data
    assert g["ETag"] == etag_of(data)
    assert g["ServerSideEncryption"] == "AES256"
    assert g["ContentType"] == "image/x-ssec"
    assert g["Metadata"] == {"origin": "ssec"}
    assert_sse_s3(hdrs(g))
    # the copy is no SSE-C object
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket2, Key="dst", **ssec(k1))
    assert client_err(ei) == (400, "InvalidRequest", M_NOT_APPLICABLE)
    # the source is unchanged
    g, body = read_ssec(s3, bucket, key, k1)
    assert body == data and g["ETag"] == src_etag


def test_ssec_to_sse_s3_explicit_header_same_bucket(s3, ssec_src, k1):
    bucket, key, data, _ = ssec_src
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       ServerSideEncryption="AES256", **src_ssec(k1))
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    assert read_plain(s3, bucket, "dst")[1] == data


def test_ssec_to_bucket_with_explicit_default(s3, ssec_src, bucket2, k1):
    """AWS-validated: copy of an SSE-C source into a default-encrypted bucket becomes
    SSE-S3 with an MD5 ETag."""
    s3.put_bucket_encryption(Bucket=bucket2, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    bucket, key, data, _ = ssec_src
    r = s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1))
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    g, body = read_plain(s3, bucket2, "dst")
    assert body == data
    assert g["ServerSideEncryption"] == "AES256"


def test_sse_s3_to_ssec(s3, plain_src, bucket2, k2):
    bucket, key, data = plain_src
    r = s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **ssec(k2))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["SSECustomerAlgorithm"] == "AES256"
    assert r["SSECustomerKeyMD5"] == md5_b64(k2)
    assert "ServerSideEncryption" not in r
    assert_sse_c(hdrs(r), k2)
    etag = r["CopyObjectResult"]["ETag"]
    assert ETAG_RE.match(etag), etag
    assert etag != etag_of(data), "SSE-C ETag must not be the MD5 of the plaintext"
    g, body = read_ssec(s3, bucket2, "dst", k2)
    assert body == data
    assert g["ETag"] == etag
    assert g["ContentType"] == "text/x-plain"
    assert g["Metadata"] == {"origin": "plain"}
    assert_sse_c(hdrs(g), k2)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket2, Key="dst")
    assert client_err(ei) == (400, "InvalidRequest", M_NO_KEY)
    # the source is still a plain SSE-S3 object
    g, body = read_plain(s3, bucket, key)
    assert body == data and g["ServerSideEncryption"] == "AES256"


def test_ssec_to_ssec_other_key_other_object(s3, ssec_src, bucket2, k1, k2):
    bucket, key, data, src_etag = ssec_src
    r = s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1), **ssec(k2))
    assert r["SSECustomerKeyMD5"] == md5_b64(k2)
    assert "ServerSideEncryption" not in r
    etag = r["CopyObjectResult"]["ETag"]
    assert etag != etag_of(data)
    g, body = read_ssec(s3, bucket2, "dst", k2)
    assert body == data and g["ETag"] == etag
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket2, Key="dst", **ssec(k1))
    assert client_err(ei) == (403, "AccessDenied", M_WRONG_KEY)
    # source still under k1
    assert read_ssec(s3, bucket, key, k1)[1] == data
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, **ssec(k2))
    assert error_of(ei) == (403, "AccessDenied")


def test_ssec_to_ssec_same_key_other_object(s3, ssec_src, k1):
    bucket, key, data, src_etag = ssec_src
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1), **ssec(k1))
    assert r["SSECustomerKeyMD5"] == md5_b64(k1)
    g, body = read_ssec(s3, bucket, "dst", k1)
    assert body == data
    assert g["ETag"] == r["CopyObjectResult"]["ETag"]
    assert g["ETag"] != etag_of(data)


def test_ssec_key_rotation_in_place(s3, ssec_src, k1, k2):
    bucket, key, data, src_etag = ssec_src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1), **ssec(k2))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["SSECustomerKeyMD5"] == md5_b64(k2)
    # the new key works, metadata kept (COPY directive)
    g, body = read_ssec(s3, bucket, key, k2)
    assert body == data
    assert g["ContentType"] == "image/x-ssec"
    assert g["Metadata"] == {"origin": "ssec"}
    h = s3.head_object(Bucket=bucket, Key=key, **ssec(k2))
    assert h["SSECustomerKeyMD5"] == md5_b64(k2)
    # the old key is now the wrong key
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, **ssec(k1))
    assert client_err(ei) == (403, "AccessDenied", M_WRONG_KEY)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, **ssec(k1))
    assert error_of(ei) == (403, "403")
    # and rotating back needs the new key as the source key
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1), **ssec(k1))
    assert error_of(ei) == (403, "AccessDenied")
    assert read_ssec(s3, bucket, key, k2)[1] == data


def test_ssec_in_place_to_sse_s3(s3, ssec_src, k1):
    """Dropping SSE-C in place changes the encryption: allowed."""
    bucket, key, data, _ = ssec_src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    g, body = read_plain(s3, bucket, key)
    assert body == data and g["ServerSideEncryption"] == "AES256"


def test_sse_s3_in_place_to_ssec(s3, plain_src, k2):
    bucket, key, data = plain_src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **ssec(k2))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["SSECustomerKeyMD5"] == md5_b64(k2)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key)
    assert client_err(ei) == (400, "InvalidRequest", M_NO_KEY)
    assert read_ssec(s3, bucket, key, k2)[1] == data


def test_copy_ssec_raw_headers(raw, s3, ssec_src, k1, k2):
    bucket, key, data, _ = ssec_src
    r = raw("PUT", f"/{bucket}/rawdst",
            headers={"x-amz-copy-source": f"/{bucket}/{key}", **raw_src_ssec(k1),
                     **raw_ssec(k2)})
    assert r.status == 200, r
    root = r.xml()
    assert root.tag.split("}")[-1] == "CopyObjectResult"
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    etag = root.findtext(f"{ns}ETag")
    assert ETAG_RE.match(etag) and etag != etag_of(data)
    assert_sse_c(r.headers.items(), k2)
    g = raw("GET", f"/{bucket}/rawdst", headers=raw_ssec(k2))
    assert g.status == 200 and g.body == data
    assert g.header("ETag") == etag
    # range over a segment boundary of the re-encrypted copy
    g = raw("GET", f"/{bucket}/rawdst", headers={**raw_ssec(k2), "Range": f"bytes={SEG - 3}-{SEG + 3}"})
    assert g.status == 206 and g.body == data[SEG - 3:SEG + 4]


def test_copy_ssec_metadata_replace(s3, ssec_src, k1, k2):
    bucket, key, data, _ = ssec_src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"fresh": "1"},
                   ContentType="text/x-new", **src_ssec(k1), **ssec(k2))
    h = s3.head_object(Bucket=bucket, Key="dst", **ssec(k2))
    assert h["Metadata"] == {"fresh": "1"}
    assert h["ContentType"] == "text/x-new"


def test_copy_ssec_source_if_match(s3, ssec_src, k1):
    bucket, key, data, src_etag = ssec_src
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       CopySourceIfMatch=src_etag, **src_ssec(k1))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": key},
                       CopySourceIfMatch=etag_of(data), **src_ssec(k1))
    assert error_of(ei) == (412, "PreconditionFailed")


# --------------------------------------------------------------------------
# source key errors
# --------------------------------------------------------------------------

def test_copy_ssec_source_without_key(s3, raw, ssec_src, bucket2):
    bucket, key, data, _ = ssec_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key})
    assert client_err(ei) == (400, "InvalidRequest", M_NO_KEY)
    r = raw("PUT", f"/{bucket2}/dst", headers={"x-amz-copy-source": f"/{bucket}/{key}"})
    assert raw_err(r) == (400, "InvalidRequest", M_NO_KEY)
    assert data[:32] not in r.body
    assert raw("HEAD", f"/{bucket2}/dst").status == 404
    # with only the destination key (no source key) it is still refused
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **ssec(os.urandom(32)))
    assert client_err(ei) == (400, "InvalidRequest", M_NO_KEY)
    assert raw("HEAD", f"/{bucket2}/dst").status == 404


def test_copy_ssec_source_without_key_onto_itself(s3, ssec_src, k1):
    bucket, key, data, etag = ssec_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       ServerSideEncryption="AES256")
    assert error_of(ei) == (400, "InvalidRequest")
    g, body = read_ssec(s3, bucket, key, k1)
    assert body == data and g["ETag"] == etag


def test_copy_ssec_source_wrong_key(s3, ssec_src, bucket2, k1, k2):
    """Wrong source key: 403 AccessDenied (the message for a copy source is not
    snapshot-covered: LocalStack answers plain 'Access Denied')."""
    bucket, key, data, etag = ssec_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k2))
    assert error_of(ei) == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k2), **ssec(k1))
    assert error_of(ei) == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket2, Key="dst")
    assert error_of(ei)[0] == 404
    # wrong source key onto itself does not change the object
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k2), **ssec(k2))
    assert error_of(ei) == (403, "AccessDenied")
    g, body = read_ssec(s3, bucket, key, k1)
    assert body == data and g["ETag"] == etag


# (id, copy-source headers, status, code, message)
SRC_CASES = [
    ("md5-mismatch", lambda k, o: raw_src_ssec(k, md5=md5_b64(o)), 400, "InvalidArgument", M_MD5),
    ("algorithm-AES128", lambda k, o: raw_src_ssec(k, alg="AES128"),
     400, "InvalidEncryptionAlgorithmError", M_BAD_ALG),
    ("key-16-bytes", lambda k, o: raw_src_ssec(k[:16]), 400, "InvalidArgument", M_BAD_KEY),
    ("no-md5", lambda k, o: {CALG: "AES256", CKEY: b64(k)}, None, None, None),
    ("key-without-algorithm", lambda k, o: {CKEY: b64(k), CKMD5: md5_b64(k)},
     400, "InvalidArgument", None),
]


@pytest.mark.parametrize("case", SRC_CASES, ids=[c[0] for c in SRC_CASES])
def test_copy_source_key_params_malformed(raw, s3, ssec_src, bucket2, k1, case):
    _id, make, status, code, message = case
    bucket, key, data, etag = ssec_src
    r = raw("PUT", f"/{bucket2}/dst",
            headers={"x-amz-copy-source": f"/{bucket}/{key}", **make(k1, os.urandom(32))})
    if status is None:
        # copy source key without its MD5: as for GET without MD5 (see test_sse_c.py
        # test_get_right_key_without_md5): 403 per the reference table, 200 per
        # third-party AWS captures; a success must have copied correctly
        if r.status == 200:
            assert read_plain(s3, bucket2, "dst")[1] == data
            return
        assert raw_err(r) == (403, "AccessDenied", M_WRONG_KEY), r
    else:
        got = raw_err(r)
        assert got[:2] == (status, code), r
        if message is not None:
            assert got[2] == message, r
    assert raw("HEAD", f"/{bucket2}/dst").status == 404


def test_copy_source_ssec_headers_on_plain_source(s3, plain_src, bucket2, k1):
    """SSE-C copy-source headers on a non-SSE-C source: 400 InvalidRequest (reference
    row 'SSE-C headers on a non-SSE-C object'; copy source case unverified)."""
    bucket, key, data = plain_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1))
    assert error_of(ei) == (400, "InvalidRequest")


# --------------------------------------------------------------------------
# destination errors
# --------------------------------------------------------------------------

def test_copy_destination_ssec_md5_mismatch(s3, plain_src, bucket2, k1, k2):
    bucket, key, data = plain_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       **ssec(k1, md5=md5_b64(k2)))
    assert client_err(ei) == (400, "InvalidArgument", M_MD5)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket2, Key="dst")
    assert error_of(ei)[0] == 404


def test_copy_destination_ssec_bad_algorithm(s3, plain_src, bucket2, k1):
    bucket, key, data = plain_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket2, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                       SSECustomerAlgorithm="AES128", SSECustomerKey=k1)
    assert client_err(ei) == (400, "InvalidEncryptionAlgorithmError", M_BAD_ALG)


def test_copy_destination_ssec_with_sse_header(s3, raw, plain_src, bucket2, k1):
    bucket, key, data = plain_src
    r = raw("PUT", f"/{bucket2}/dst",
            headers={"x-amz-copy-source": f"/{bucket}/{key}", **raw_ssec(k1), SSE: "AES256"})
    assert raw_err(r) == (400, "InvalidArgument", M_INCOMPATIBLE), r
    assert r.xml().findtext("ArgumentName") == SSE
    assert raw("HEAD", f"/{bucket2}/dst").status == 404


def test_copy_destination_ssec_existing_dest_unharmed(s3, plain_src, ssec_src, k1, k2):
    """A refused copy onto an existing SSE-C destination leaves it intact."""
    bucket, key, data, etag = ssec_src
    pbucket, pkey, pdata = plain_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": pbucket, "Key": pkey},
                       **ssec(k2, md5=md5_b64(k1)))
    assert error_of(ei) == (400, "InvalidArgument")
    g, body = read_ssec(s3, bucket, key, k1)
    assert body == data and g["ETag"] == etag


# --------------------------------------------------------------------------
# copy onto itself
# --------------------------------------------------------------------------

def test_copy_onto_itself_without_change_refused(s3, plain_src):
    bucket, key, data = plain_src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert client_err(ei) == (400, "InvalidRequest", M_COPY_SELF)
    assert read_plain(s3, bucket, key)[1] == data


def test_ssec_in_place_same_key_allowed(s3, ssec_src, k1):
    """Naming SSE-C destination headers makes an in-place copy legal even with the same
    key (AWS-validated: any SSE header allows the copy in place; LocalStack counts the
    SSE-C key MD5 as such)."""
    bucket, key, data, etag = ssec_src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       **src_ssec(k1), **ssec(k1))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["SSECustomerKeyMD5"] == md5_b64(k1)
    g, body = read_ssec(s3, bucket, key, k1)
    assert body == data
    assert g["Metadata"] == {"origin": "ssec"}


def test_copy_in_place_no_params_with_explicit_bucket_encryption(s3, bucket):
    """AWS-validated (LocalStack test_copy_in_place_with_bucket_encryption): with an
    explicitly configured bucket default, a parameterless copy in place is allowed."""
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
         "BucketKeyEnabled": False}]})
    s3.put_object(Bucket=bucket, Key="test-enc", Body=b"")
    r = s3.copy_object(Bucket=bucket, Key="test-enc",
                       CopySource={"Bucket": bucket, "Key": "test-enc"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == etag_of(b"")


def test_copy_in_place_no_params_after_delete_bucket_encryption(s3, plain_src):
    """After DeleteBucketEncryption the bucket is back on the implicit default: a
    parameterless copy in place is refused again."""
    bucket, key, data = plain_src
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.delete_bucket_encryption(Bucket=bucket)
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert client_err(ei) == (400, "InvalidRequest", M_COPY_SELF)


def test_copy_onto_itself_with_sse_aes256_allowed(s3, plain_src):
    bucket, key, data = plain_src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       ServerSideEncryption="AES256")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    g, body = read_plain(s3, bucket, key)
    assert body == data
    assert g["Metadata"] == {"origin": "plain"}
    assert g["ContentType"] == "text/x-plain"


# --------------------------------------------------------------------------
# aws CLI: s3 cp between SSE-C keys
# --------------------------------------------------------------------------

def test_cli_s3_cp_rotates_sse_c_key(server, s3, ssec_src, k1, k2, tmp_path):
    """`aws s3 cp s3://.. s3://..` with --sse-c-copy-source(-key) and --sse-c(-key):
    a HeadObject on the source with the copy-source key, then CopyObject."""
    bucket, key, data, _ = ssec_src
    (tmp_path / "k1.bin").write_bytes(k1)
    (tmp_path / "k2.bin").write_bytes(k2)
    p = run_aws(server.endpoint, "s3", "cp", f"s3://{bucket}/{key}", f"s3://{bucket}/cli-dst",
                "--sse-c-copy-source", "AES256", "--sse-c-copy-source-key", "fileb://k1.bin",
                "--sse-c", "AES256", "--sse-c-key", "fileb://k2.bin", cwd=str(tmp_path))
    assert f"copy: s3://{bucket}/{key} to s3://{bucket}/cli-dst" in p.stdout, p.stdout
    assert read_ssec(s3, bucket, "cli-dst", k2)[1] == data
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="cli-dst", **ssec(k1))
    assert error_of(ei) == (403, "AccessDenied")
    # without the copy-source key the CLI's HeadObject gets 400
    p = run_aws(server.endpoint, "s3", "cp", f"s3://{bucket}/{key}", f"s3://{bucket}/cli-dst2",
                cwd=str(tmp_path), check=False)
    assert p.returncode != 0
    assert "An error occurred (400) when calling the HeadObject operation: Bad Request" \
        in p.stderr, p.stderr
