"""Error document shape, unimplemented operations, Authorization parsing,
unsupported methods."""

import datetime
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import CURL, error_of, unique_name


def _amz_date():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _day():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")


def test_unimplemented_operation_boto3(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.list_bucket_inventory_configurations(Bucket=bucket)
    assert error_of(ei) == (501, "NotImplemented")
    # the server is still fine afterwards
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_unimplemented_operation_xml(raw, bucket):
    r = raw("GET", f"/{bucket}?inventory")
    assert r.status == 501
    assert r.header("Content-Type", "").startswith("application/xml")
    root = r.xml()
    assert root.tag == "Error"
    assert root.findtext("Code") == "NotImplemented"
    assert root.findtext("Message")
    assert root.findtext("RequestId") == r.header("x-amz-request-id")


def test_unimplemented_object_subresource(raw, s3, bucket):
    """PUT /bucket/key?tagging (PutObjectTagging, not in this issue) must not be
    taken for a PutObject that overwrites the body."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
    r = raw("PUT", f"/{bucket}/k?tagging", body=body)
    assert r.status in (200, 501), r
    if r.status == 501:
        assert r.xml().findtext("Code") == "NotImplemented"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_error_document_shape(raw, bucket):
    r = raw("GET", f"/{bucket}/missing-key")
    assert r.status == 404
    assert r.header("Content-Type", "").startswith("application/xml")
    assert r.body.startswith(b"<?xml")
    root = r.xml()
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Message") == "The specified key does not exist."
    assert root.findtext("Resource") == f"/{bucket}/missing-key"
    assert root.findtext("RequestId") == r.header("x-amz-request-id")
    assert r.header("x-amz-id-2")


def test_error_document_no_such_bucket(raw):
    name = unique_name("nob")
    r = raw("GET", f"/{name}")
    assert r.status == 404
    root = r.xml()
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("Message") == "The specified bucket does not exist"
    assert root.findtext("BucketName") == name
    assert root.findtext("Resource") == f"/{name}"
    assert root.findtext("RequestId")


def test_well_formed_authorization_any_credentials(raw, bucket):
    auth = (f"AWS4-HMAC-SHA256 Credential=SOMEONEELSE/{_day()}/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=" + "0" * 64)
    r = raw("GET", f"/{bucket}", auth=auth,
            headers={"x-amz-date": _amz_date(), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 200, r


def test_anonymous_request_accepted(raw, bucket):
    r = raw("GET", f"/{bucket}", auth=None)
    assert r.status == 200, r


@pytest.mark.parametrize("auth", [
    "AWS4-HMAC-SHA256 garbage",
    "AWS4-HMAC-SHA256 Credential=onlyakey",
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request",
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host",
    "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abcd",
])
def test_malformed_authorization(raw, s3, bucket, auth):
    r = raw("GET", f"/{bucket}", auth=auth,
            headers={"x-amz-date": _amz_date(), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "AuthorizationHeaderMalformed"
    assert r.header("x-amz-request-id")
    # a PUT with a malformed header writes nothing
    r = raw("PUT", f"/{bucket}/evil", auth=auth, body=b"x",
            headers={"x-amz-date": _amz_date(), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 400
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_unsupported_authorization_type(raw, bucket):
    r = raw("GET", f"/{bucket}", auth="Bearer abcdef")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument"


@pytest.mark.parametrize("method", ["PATCH", "TRACE"])
def test_unsupported_method(raw, s3, bucket, method):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = raw(method, f"/{bucket}/k")
    assert r.status == 405, r
    if r.body:
        assert r.xml().findtext("Code") == "MethodNotAllowed"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_curl_sigv4(server, s3, bucket, tmp_path):
    """curl --aws-sigv4 works against the server (PUT then GET)."""
    f = tmp_path / "body.txt"
    f.write_bytes(b"curl body\n")
    base = [CURL, "-sS", "--fail-with-body", "--user", "test:test",
            "--aws-sigv4", "aws:amz:us-east-1:s3"]
    url = f"{server.endpoint}/{bucket}/curl.txt"
    p = subprocess.run(base + ["-T", str(f), url], capture_output=True, timeout=60)
    assert p.returncode == 0, p
    p = subprocess.run(base + [url], capture_output=True, timeout=60)
    assert p.returncode == 0, p
    assert p.stdout == b"curl body\n"
    p = subprocess.run(base + ["-o", "/dev/null", "-w", "%{http_code}",
                               f"{server.endpoint}/{bucket}/nope"],
                       capture_output=True, timeout=60)
    assert p.stdout == b"404"
