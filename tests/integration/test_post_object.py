"""POST Object: browser form uploads (multipart/form-data to the bucket URL), authorized by a
POST policy from boto3's generate_presigned_post, posted with http.client and bodies built here.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from conftest import (VHOST_SUFFIX, RawResponse, error_of, etag_of, md5_hex, unique_name)

CHECKING = {"S3_SKIP_SIGNATURE_VALIDATION": "0"}
SSEC_ALG = "x-amz-server-side-encryption-customer-algorithm"
SSEC_KEY = "x-amz-server-side-encryption-customer-key"
SSEC_MD5 = "x-amz-server-side-encryption-customer-key-MD5"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def form_parts(fields, file_name, data, after=(), boundary=None, file_ctype=None):
    """(boundary, list of byte chunks) of a multipart/form-data body. data: bytes or an
    iterable of byte chunks (streamed). after: fields placed after the file."""
    boundary = boundary or uuid.uuid4().hex
    head = b""
    for name, value in fields:
        if isinstance(value, str):
            value = value.encode()
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                 .encode() + value + b"\r\n")
    disp = 'form-data; name="file"'
    if file_name is not None:
        disp += f'; filename="{file_name}"'
    head += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
    if file_ctype:
        head += f"Content-Type: {file_ctype}\r\n".encode()
    head += b"\r\n"
    tail = b"\r\n"
    for name, value in after:
        tail += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                 f"{value}\r\n").encode()
    tail += f"--{boundary}--\r\n".encode()
    chunks = [head]
    if isinstance(data, (bytes, bytearray)):
        chunks.append(bytes(data))
    else:
        chunks.extend(data)
    chunks.append(tail)
    return boundary, chunks


def send(port, path, boundary, chunks, host=None, content_type=None, length=None):
    """POST the chunks (streamed, with a Content-Length) and read the whole answer."""
    host = host or f"127.0.0.1:{port}"
    if length is None:
        chunks = list(chunks)
        length = sum(len(c) for c in chunks)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("Content-Type",
                       content_type or f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        for c in chunks:
            conn.send(c)
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.reason, resp.headers, resp.read())
    finally:
        conn.close()


def post_form(port, bucket, fields, data, file_name="upload.bin", after=(), host=None,
              path=None, file_ctype=None):
    if isinstance(fields, dict):
        fields = list(fields.items())
    boundary, chunks = form_parts(fields, file_name, data, after=after, file_ctype=file_ctype)
    return send(port, path or f"/{bucket}", boundary, chunks, host=host)


def presign(client, bucket, key, fields=None, conditions=None, expires=3600):
    p = client.generate_presigned_post(bucket, key, Fields=fields, Conditions=conditions,
                                       ExpiresIn=expires)
    return p["url"], p["fields"]


def err(resp):
    """(status, Code, Message) of an S3 error answer."""
    x = resp.xml()
    return resp.status, x.findtext("Code"), x.findtext("Message")


def ssec_key():
    k = os.urandom(32)
    return (base64.b64encode(k).decode(), base64.b64encode(hashlib.md5(k).digest()).decode())


# --------------------------------------------------------------------------
# uploads (signature checking off: the LocalStack default)
# --------------------------------------------------------------------------

def test_presigned_post_roundtrip(server, s3, bucket):
    url, fields = presign(s3, bucket, "dir/a b.txt")
    assert urlsplit(url).path == f"/{bucket}"
    body = b"hello from a browser form\n" * 100
    r = post_form(server.port, bucket, fields, body)
    assert r.status == 204, r
    assert r.body == b""
    assert r.header("ETag") == etag_of(body)
    assert r.header("x-amz-server-side-encryption") == "AES256"
    assert r.header("Location") == f"http://127.0.0.1:{server.port}/{bucket}/dir%2Fa%20b.txt"
    got = s3.get_object(Bucket=bucket, Key="dir/a b.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == etag_of(body)
    assert got["ContentType"] == "binary/octet-stream"


def test_virtual_host_style(server, s3, bucket):
    url, fields = presign(s3, bucket, "vh.txt")
    host = f"{bucket}.s3.{VHOST_SUFFIX}:{server.port}"
    r = post_form(server.port, bucket, fields, b"virtual", host=host, path="/")
    assert r.status == 204, r
    assert r.header("Location") == f"http://{host}/vh.txt"
    assert s3.get_object(Bucket=bucket, Key="vh.txt")["Body"].read() == b"virtual"


def test_filename_substitution(server, s3, bucket):
    url, fields = presign(s3, bucket, "uploads/${filename}")
    assert "uploads/${filename}" == fields["key"]
    r = post_form(server.port, bucket, fields, b"pic", file_name="C:\\dir\\photo.jpg")
    assert r.status == 204, r
    assert s3.get_object(Bucket=bucket, Key="uploads/photo.jpg")["Body"].read() == b"pic"


def test_headers_and_metadata(server, s3, bucket):
    extra = {"Content-Type": "text/plain", "Cache-Control": "max-age=60",
             "Content-Disposition": "attachment", "x-amz-meta-Owner": "eric",
             "acl": "private", "x-amz-storage-class": "STANDARD"}
    url, fields = presign(s3, bucket, "meta.txt", fields=extra,
                          conditions=[{k: v} for k, v in extra.items()])
    r = post_form(server.port, bucket, fields, b"m", file_ctype="image/png")
    assert r.status == 204, r
    h = s3.head_object(Bucket=bucket, Key="meta.txt")
    assert h["ContentType"] == "text/plain"
    assert h["CacheControl"] == "max-age=60"
    assert h["ContentDisposition"] == "attachment"
    assert h["Metadata"] == {"owner": "eric"}


def test_line_breaks_in_header_fields_are_dropped(server, s3, bucket):
    # Form fields, unlike HTTP headers, can carry line breaks: such a value must not add lines
    # (user metadata, or coffer's internal lines) to the object's stored headers.
    r = post_form(server.port, bucket, [
        ("key", "crlf"),
        ("Content-Type", "text/plain\r\nx-amz-meta-injected:yes"),
        ("Cache-Control", "no-cache\ncoffer-checksum:CRC32 AAAAAA=="),
        ("Content-Language", "en"),
        ("x-amz-meta-note", "a\nb"),
        ("x-amz-meta-kept", "ok"),
    ], b"body")
    assert r.status == 204, r
    h = s3.head_object(Bucket=bucket, Key="crlf", ChecksumMode="ENABLED")
    assert h["ContentType"] == "binary/octet-stream"
    assert "CacheControl" not in h
    assert h["ContentLanguage"] == "en"
    assert h["Metadata"] == {"kept": "ok"}
    assert "ChecksumCRC32" not in h
    assert s3.get_object(Bucket=bucket, Key="crlf")["Body"].read() == b"body"


def test_success_action_status_201(server, s3, bucket):
    url, fields = presign(s3, bucket, "key-${filename}", fields={"success_action_status": "201"},
                          conditions=[{"success_action_status": "201"}])
    body = b"something body"
    r = post_form(server.port, bucket, fields, body, file_name="my-file")
    assert r.status == 201, r
    x = r.xml()
    assert x.tag == "PostResponse"
    assert x.findtext("Bucket") == bucket
    assert x.findtext("Key") == "key-my-file"
    assert x.findtext("ETag") == etag_of(body)
    assert x.findtext("Location") == f"http://127.0.0.1:{server.port}/{bucket}/key-my-file"
    assert r.header("ETag") == etag_of(body)
    assert r.header("Location") == x.findtext("Location")


@pytest.mark.parametrize("status,want", [("200", 200), ("204", 204), ("404", 204)])
def test_success_action_status_others(server, s3, bucket, status, want):
    url, fields = presign(s3, bucket, "s", fields={"success_action_status": status},
                          conditions=[{"success_action_status": status}])
    r = post_form(server.port, bucket, fields, b"x")
    assert r.status == want, r
    assert r.body == b""


def test_redirect_303(server, s3, bucket):
    target = "http://app.example/done?x=1"
    url, fields = presign(s3, bucket, "dir/r k", fields={"success_action_redirect": target},
                          conditions=[["starts-with", "$success_action_redirect", "http://app"]])
    body = b"redirected"
    r = post_form(server.port, bucket, fields, body)
    assert r.status == 303, r
    loc = r.header("Location")
    assert loc.startswith(target + "&"), loc
    q = parse_qs(urlsplit(loc).query)
    assert q["bucket"] == [bucket] and q["key"] == ["dir/r k"] and q["x"] == ["1"]
    assert q["etag"] == [etag_of(body)]
    assert "key=dir%2Fr+k" in loc
    # the deprecated `redirect` field works too; a relative URL is ignored (204)
    url, fields = presign(s3, bucket, "r2", fields={"redirect": "https://a.example/"},
                          conditions=[{"redirect": "https://a.example/"}])
    r = post_form(server.port, bucket, fields, b"x")
    assert r.status == 303 and r.header("Location").startswith("https://a.example/?bucket="), r
    url, fields = presign(s3, bucket, "r3", fields={"success_action_redirect": "/relative"},
                          conditions=[{"success_action_redirect": "/relative"}])
    assert post_form(server.port, bucket, fields, b"x").status == 204


def test_sse_c(server, s3, bucket):
    k, kmd5 = ssec_key()
    sse = {SSEC_ALG: "AES256", SSEC_KEY: k, SSEC_MD5: kmd5}
    url, fields = presign(s3, bucket, "secret", fields=sse,
                          conditions=[{n: v} for n, v in sse.items()])
    body = b"customer-keyed " * 1000
    r = post_form(server.port, bucket, fields, body)
    assert r.status == 204, r
    assert r.header(SSEC_ALG) == "AES256"
    assert r.header(SSEC_MD5) == kmd5
    assert r.header("x-amz-server-side-encryption") is None
    assert r.header("ETag") != etag_of(body)
    with pytest.raises(Exception) as ei:
        s3.get_object(Bucket=bucket, Key="secret")
    assert error_of(ei)[0] == 400
    got = s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=base64.b64decode(k))
    assert got["Body"].read() == body


def test_sse_c_errors_as_put(server, s3, bucket):
    k, kmd5 = ssec_key()
    bad = {SSEC_ALG: "AES256", SSEC_KEY: k, SSEC_MD5: base64.b64encode(b"0" * 16).decode()}
    url, fields = presign(s3, bucket, "bad", fields=bad,
                          conditions=[{n: v} for n, v in bad.items()])
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (400, "InvalidArgument", "The calculated MD5 hash of the key did not match "
                      "the hash that was provided.")
    both = {SSEC_ALG: "AES256", SSEC_KEY: k, SSEC_MD5: kmd5,
            "x-amz-server-side-encryption": "AES256"}
    url, fields = presign(s3, bucket, "bad", fields=both,
                          conditions=[{n: v} for n, v in both.items()])
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r)[:2] == (400, "InvalidArgument")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="bad")


def test_sse_kms(server, s3, bucket):
    sse = {"x-amz-server-side-encryption": "aws:kms"}
    url, fields = presign(s3, bucket, "kms", fields=sse, conditions=[sse])
    body = b"kms body"
    r = post_form(server.port, bucket, fields, body)
    assert r.status == 204, r
    assert r.header("x-amz-server-side-encryption") == "aws:kms"
    assert r.header("x-amz-server-side-encryption-aws-kms-key-id", "").startswith("arn:aws:kms:")
    h = s3.head_object(Bucket=bucket, Key="kms")
    assert h["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == body


def test_checksum_field(server, s3, bucket):
    body = b"x" * 2048
    good = base64.b64encode(hashlib.sha256(body).digest()).decode()
    f = {"x-amz-checksum-sha256": good}
    url, fields = presign(s3, bucket, "ck", fields=f, conditions=[f])
    r = post_form(server.port, bucket, fields, body)
    assert r.status == 204, r
    assert r.header("x-amz-checksum-sha256") == good
    f = {"x-amz-checksum-sha256": base64.b64encode(b"\0" * 32).decode()}
    url, fields = presign(s3, bucket, "ck2", fields=f, conditions=[f])
    r = post_form(server.port, bucket, fields, body)
    assert err(r)[:2] == (400, "BadDigest")


def test_anonymous_upload_allowed_by_default(server, s3, bucket):
    r = post_form(server.port, bucket, {"key": "anon", "Content-Type": "text/x"}, b"anon")
    assert r.status == 204, r
    assert s3.get_object(Bucket=bucket, Key="anon")["ContentType"] == "text/x"


def test_fields_after_file_ignored(server, s3, bucket):
    url, fields = presign(s3, bucket, "after")
    r = post_form(server.port, bucket, fields, b"a",
                  after=[("x-amz-meta-late", "1"), ("submit", "Upload")])
    assert r.status == 204, r
    assert s3.head_object(Bucket=bucket, Key="after")["Metadata"] == {}
    # the key after the file does not count
    fields = dict(fields)
    key = fields.pop("key")
    r = post_form(server.port, bucket, fields, b"a", after=[("key", key)])
    assert err(r) == (400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  "
                      "If it is specified, please check the order of the fields.")
    assert r.xml().findtext("ArgumentName") == "key"


def test_field_names_case_insensitive(server, s3, bucket):
    url, fields = presign(s3, bucket, "case")
    fields = {("Policy" if k == "policy" else k.upper() if k.startswith("x-amz") else k): v
              for k, v in fields.items()}
    fields["KEY"] = fields.pop("key")
    r = post_form(server.port, bucket, fields, b"c")
    assert r.status == 204, r


# --------------------------------------------------------------------------
# policy failures
# --------------------------------------------------------------------------

def test_content_length_range_too_large_keeps_old_object(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="big", Body=b"old")
    url, fields = presign(s3, bucket, "big", conditions=[["content-length-range", 5, 10]])
    r = post_form(server.port, bucket, fields, b"x" * 200000)
    assert err(r) == (400, "EntityTooLarge",
                      "Your proposed upload exceeds the maximum allowed size")
    assert r.xml().findtext("ProposedSize") == "200000"
    assert r.xml().findtext("MaxSizeAllowed") == "10"
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"old"
    url, fields = presign(s3, bucket, "new", conditions=[["content-length-range", 5, 10]])
    r = post_form(server.port, bucket, fields, b"x" * 11)
    assert err(r)[:2] == (400, "EntityTooLarge")
    with pytest.raises(Exception) as ei:
        s3.head_object(Bucket=bucket, Key="new")
    assert error_of(ei)[0] == 404
    # bounds are inclusive
    for n in (5, 10):
        assert post_form(server.port, bucket, fields, b"y" * n).status == 204


def test_content_length_range_too_small(server, s3, bucket):
    url, fields = presign(s3, bucket, "small", conditions=[["content-length-range", 5, 10]])
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (400, "EntityTooSmall",
                      "Your proposed upload is smaller than the minimum allowed size")
    assert r.xml().findtext("MinSizeAllowed") == "5"


def test_expired_policy(server, s3, bucket):
    url, fields = presign(s3, bucket, "late", expires=-5)
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")


def test_extra_field(server, s3, bucket):
    url, fields = presign(s3, bucket, "extra")
    fields["x-amz-meta-note"] = "sneaky"
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (403, "AccessDenied",
                      "Invalid according to Policy: Extra input fields: x-amz-meta-note")
    # x-ignore-* is exempt
    fields.pop("x-amz-meta-note")
    fields["x-ignore-tracker"] = "1"
    assert post_form(server.port, bucket, fields, b"x").status == 204


def test_condition_failed(server, s3, bucket):
    url, fields = presign(s3, bucket, "x")
    fields["key"] = "y"
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (403, "AccessDenied", 'Invalid according to Policy: Policy Condition '
                      'failed: ["eq", "$key", "x"]')
    # the bucket condition is checked against the request's bucket
    other = unique_name("b")
    s3.create_bucket(Bucket=other)
    try:
        url, fields = presign(s3, bucket, "x")
        r = post_form(server.port, other, fields, b"x")
        assert err(r)[:2] == (403, "AccessDenied")
        assert '"$bucket"' in err(r)[2]
    finally:
        s3.delete_bucket(Bucket=other)


def test_missing_key(server, s3, bucket):
    url, fields = presign(s3, bucket, "k")
    del fields["key"]
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  "
                      "If it is specified, please check the order of the fields.")


def test_malformed_policy(server, s3, bucket):
    fields = {"key": "k", "policy": base64.b64encode(b"{not json").decode(),
              "x-amz-algorithm": "AWS4-HMAC-SHA256",
              "x-amz-credential": "test/20260101/us-east-1/s3/aws4_request",
              "x-amz-date": "20260101T000000Z", "x-amz-signature": "0" * 64}
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r) == (400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    fields["policy"] = base64.b64encode(json.dumps({"conditions": []}).encode()).decode()
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r)[:2] == (400, "InvalidPolicyDocument")


# --------------------------------------------------------------------------
# malformed requests
# --------------------------------------------------------------------------

def test_not_multipart(server, bucket):
    r = send(server.port, f"/{bucket}", "b", [b"key=x"],
             content_type="application/x-www-form-urlencoded")
    assert err(r)[:2] == (412, "PreconditionFailed")
    assert r.xml().findtext("Condition") == \
        "Bucket POST must be of the enclosure-type multipart/form-data"
    r = send(server.port, f"/{bucket}", "b", [b"x"], content_type="multipart/form-data")
    assert err(r)[:2] == (400, "MalformedPOSTRequest")


def test_truncated_body(server, bucket):
    boundary, chunks = form_parts([("key", "t")], "f", b"data")
    body = b"".join(chunks)[:-12]   # no close delimiter
    r = send(server.port, f"/{bucket}", boundary, [body])
    assert err(r)[:2] == (400, "MalformedPOSTRequest")
    r = send(server.port, f"/{bucket}", boundary, [b"--" + boundary.encode() + b"\r\nJunk\r\n\r\n"])
    assert err(r)[:2] == (400, "MalformedPOSTRequest")


def test_no_file(server, bucket):
    boundary = "bnd"
    body = (b"--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--bnd--\r\n")
    r = send(server.port, f"/{bucket}", boundary, [body])
    assert err(r) == (400, "InvalidArgument", "POST requires exactly one file upload per request.")


def test_pre_data_too_large(server, s3, bucket):
    r = post_form(server.port, bucket, {"key": "k", "x-ignore-pad": "p" * 21000}, b"x")
    assert err(r)[:2] == (400, "MaxPostPreDataLengthExceeded")
    assert err(r)[2] == "Your POST request fields preceeding the upload file was too large."
    # many small fields count too
    fields = [("key", "k")] + [(f"x-ignore-{i}", "v" * 200) for i in range(120)]
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r)[:2] == (400, "MaxPostPreDataLengthExceeded")


def test_no_such_bucket(server, s3):
    r = post_form(server.port, "no-such-bucket-post", {"key": "k"}, b"x")
    assert err(r)[:2] == (404, "NoSuchBucket")


# --------------------------------------------------------------------------
# signature checking on
# --------------------------------------------------------------------------

@pytest.fixture
def checking(coffer_factory):
    srv = coffer_factory(env=CHECKING)
    srv.client().create_bucket(Bucket="post-sig")
    return srv


def test_signed_post_checked(checking):
    c = checking.client()
    url, fields = presign(c, "post-sig", "ok")
    r = post_form(checking.port, "post-sig", fields, b"signed")
    assert r.status == 204, r
    assert c.get_object(Bucket="post-sig", Key="ok")["Body"].read() == b"signed"


def test_tampered_signature(checking):
    c = checking.client()
    url, fields = presign(c, "post-sig", "t")
    sig = fields["x-amz-signature"]
    fields["x-amz-signature"] = ("1" if sig[0] == "0" else "0") + sig[1:]
    r = post_form(checking.port, "post-sig", fields, b"x")
    assert err(r)[:2] == (403, "SignatureDoesNotMatch")
    assert r.xml().findtext("StringToSign") == fields["policy"]
    # a policy edited after signing
    url, fields = presign(c, "post-sig", "t")
    pol = json.loads(base64.b64decode(fields["policy"]))
    pol["conditions"].append(["starts-with", "$x-amz-meta-a", ""])
    fields["policy"] = base64.b64encode(json.dumps(pol).encode()).decode()
    fields["x-amz-meta-a"] = "1"
    r = post_form(checking.port, "post-sig", fields, b"x")
    assert err(r)[:2] == (403, "SignatureDoesNotMatch")
    with pytest.raises(Exception):
        c.head_object(Bucket="post-sig", Key="t")


def test_unknown_access_key(checking):
    other = boto3.client("s3", endpoint_url=checking.endpoint, aws_access_key_id="nobody",
                         aws_secret_access_key="x", region_name="us-east-1",
                         config=Config(signature_version="s3v4",
                                       s3={"addressing_style": "path"}))
    url, fields = presign(other, "post-sig", "u")
    r = post_form(checking.port, "post-sig", fields, b"x")
    assert err(r)[:2] == (403, "InvalidAccessKeyId")
    assert r.xml().findtext("AWSAccessKeyId") == "nobody"


def test_missing_signature_field(checking):
    c = checking.client()
    url, fields = presign(c, "post-sig", "m")
    del fields["x-amz-signature"]
    r = post_form(checking.port, "post-sig", fields, b"x")
    assert err(r) == (400, "InvalidArgument", "Bucket POST must contain a field named "
                      "'X-Amz-Signature'.  If it is specified, please check the order of the "
                      "fields.")
    url, fields = presign(c, "post-sig", "m")
    del fields["x-amz-algorithm"]
    del fields["x-amz-credential"]
    r = post_form(checking.port, "post-sig", fields, b"x")
    assert r.xml().findtext("ArgumentName") == "X-Amz-Algorithm"


def test_anonymous_refused_when_checking(checking):
    r = post_form(checking.port, "post-sig", {"key": "anon"}, b"x")
    assert err(r) == (403, "AccessDenied", "Access Denied")


def test_sigv2_post(checking):
    v2 = boto3.client("s3", endpoint_url=checking.endpoint, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1",
                      config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    url, fields = presign(v2, "post-sig", "v2")
    assert "AWSAccessKeyId" in fields and "signature" in fields
    r = post_form(checking.port, "post-sig", fields, b"v2 body")
    assert r.status == 204, r
    fields["signature"] = base64.b64encode(b"\0" * 20).decode()
    r = post_form(checking.port, "post-sig", fields, b"v2 body")
    assert err(r)[:2] == (403, "SignatureDoesNotMatch")


# --------------------------------------------------------------------------
# streaming and encryption at rest
# --------------------------------------------------------------------------

def test_large_upload_streams(coffer_factory):
    from conftest import ASAN
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="post-big")
    url, fields = presign(c, "post-big", "big")
    size = 50 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    md5 = hashlib.md5()
    for _ in range(size // len(block)):
        md5.update(block)

    def gen():
        for _ in range(size // len(block)):
            yield block

    before = srv.vmhwm_kib()
    boundary, chunks = form_parts(list(fields.items()), "big.bin", gen())
    length = len(chunks[0]) + size + len(chunks[-1])
    r = send(srv.port, "/post-big", boundary, chunks, length=length)
    assert r.status == 204, r
    assert r.header("ETag") == '"' + md5.hexdigest() + '"'
    hwm = srv.vmhwm_kib()
    if ASAN:
        pytest.skip(f"VmHWM not meaningful under ASan ({before} -> {hwm} KiB)")
    # a buffered body would add 50 MiB; streaming adds a few segments and buffers
    assert hwm - before < 16 * 1024, f"VmHWM {before} -> {hwm} KiB"
    h = c.head_object(Bucket="post-big", Key="big")
    assert h["ContentLength"] == size


def test_posted_plaintext_never_on_disk(coffer_factory, tmp_path):
    srv = coffer_factory(workdir=tmp_path / "w")
    c = srv.client()
    c.create_bucket(Bucket="post-canary")
    token = b"POST-CANARY-" + os.urandom(16).hex().encode()
    big = (token * (300 * 1024 // len(token) + 1))[:300 * 1024]
    url, fields = presign(c, "post-canary", "plain")
    assert post_form(srv.port, "post-canary", fields, big).status == 204
    k, kmd5 = ssec_key()
    sse = {SSEC_ALG: "AES256", SSEC_KEY: k, SSEC_MD5: kmd5}
    url, fields = presign(c, "post-canary", "ssec", fields=sse,
                          conditions=[{n: v} for n, v in sse.items()])
    assert post_form(srv.port, "post-canary", fields, big).status == 204
    assert c.get_object(Bucket="post-canary", Key="plain")["Body"].read() == big
    srv.stop()
    needles = {"token": token, "token[:16]": token[:16], "ssec key": base64.b64decode(k),
               "ssec key b64": k.encode(), "ssec md5": kmd5.encode()}
    files = [p for p in srv.data_dir.rglob("*") if p.is_file()]
    assert files
    for f in files:
        data = f.read_bytes()
        for name, needle in needles.items():
            assert needle not in data, f"{name} found in {f}"
    for log in (srv.stdout_text(), srv.stderr_text()):
        assert k not in log and token.decode() not in log


def test_aws_profile_refuses_anonymous(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    c = srv.client()
    c.create_bucket(Bucket="post-aws")
    r = post_form(srv.port, "post-aws", {"key": "anon"}, b"x")
    assert err(r) == (403, "AccessDenied", "Access Denied")
    url, fields = presign(c, "post-aws", "signed")
    assert post_form(srv.port, "post-aws", fields, b"ok").status == 204
    # SSE-C needs TLS in the aws profile, whether it comes as headers or as form fields
    k, kmd5 = ssec_key()
    sse = {SSEC_ALG: "AES256", SSEC_KEY: k, SSEC_MD5: kmd5}
    url, fields = presign(c, "post-aws", "ssec", fields=sse,
                          conditions=[{n: v} for n, v in sse.items()])
    r = post_form(srv.port, "post-aws", fields, b"x")
    assert err(r)[:2] == (400, "InvalidRequest")


def test_curl_form_upload(server, s3, bucket, tmp_path):
    """curl -F: a real multipart encoder, Expect: 100-continue, the file from disk."""
    import subprocess
    from conftest import CURL
    data = os.urandom(3 * 1024 * 1024 + 7)
    f = tmp_path / "photo.jpg"
    f.write_bytes(data)
    url, fields = presign(s3, bucket, "curl/${filename}",
                          fields={"Content-Type": "image/jpeg"},
                          conditions=[["starts-with", "$Content-Type", "image/"]])
    args = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for k, v in fields.items():
        args += ["--form-string", f"{k}={v}"]
    args += ["-F", f"file=@{f}", url]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.stdout == "204", p
    got = s3.get_object(Bucket=bucket, Key="curl/photo.jpg")
    assert got["Body"].read() == data
    assert got["ContentType"] == "image/jpeg"


# --------------------------------------------------------------------------
# tagging field, bucket policies, versioning
# --------------------------------------------------------------------------

TAGGING_DOC = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
               "<Tag><Key>stage</Key><Value>dev</Value></Tag></TagSet></Tagging>")


def test_tagging_field(server, s3, bucket):
    f = {"tagging": TAGGING_DOC}
    url, fields = presign(s3, bucket, "tagged", fields=f, conditions=[f])
    r = post_form(server.port, bucket, fields, b"tagged body")
    assert r.status == 204, r
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("stage", "dev"), ("team", "web")]
    # AWS's tag rules apply; nothing is stored on a refusal.
    bad = {"tagging": "<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag>"
                      "</TagSet></Tagging>"}
    url, fields = presign(s3, bucket, "badtag", fields=bad, conditions=[bad])
    r = post_form(server.port, bucket, fields, b"x")
    assert err(r)[:2] == (400, "InvalidTag")
    broken = {"tagging": "<Tagging><TagSet>"}
    url, fields = presign(s3, bucket, "badtag", fields=broken, conditions=[broken])
    assert err(post_form(server.port, bucket, fields, b"x"))[:2] == (400, "MalformedXML")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="badtag")


def test_bucket_policy_applies_to_form_uploads(server, s3, bucket):
    """Seed 004's policy: a form without the SSE field is denied, with it accepted."""
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        url, fields = presign(s3, bucket, "plain")
        r = post_form(server.port, bucket, fields, b"no sse")
        assert err(r)[:2] == (403, "AccessDenied")
        with pytest.raises(Exception):
            s3.head_object(Bucket=bucket, Key="plain")
        sse = {"x-amz-server-side-encryption": "AES256"}
        url, fields = presign(s3, bucket, "enc", fields=sse, conditions=[sse])
        r = post_form(server.port, bucket, fields, b"with sse")
        assert r.status == 204, r
        assert s3.get_object(Bucket=bucket, Key="enc")["Body"].read() == b"with sse"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def test_form_upload_gets_a_version(server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url, fields = presign(s3, bucket, "v")
    r1 = post_form(server.port, bucket, fields, b"one")
    r2 = post_form(server.port, bucket, fields, b"two")
    v1, v2 = r1.header("x-amz-version-id"), r2.header("x-amz-version-id")
    assert v1 and v2 and v1 != v2
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    for v in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
