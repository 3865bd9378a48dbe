"""CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation,
Put/GetBucketEncryption."""

import base64
import datetime
import hashlib

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_of, make_s3, unique_name


def test_create_bucket_without_configuration(s3, raw):
    name = unique_name("cb")
    try:
        r = s3.create_bucket(Bucket=name)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert r["Location"] == f"/{name}"
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        loc = s3.get_bucket_location(Bucket=name)
        # us-east-1 buckets report an empty LocationConstraint
        assert loc.get("LocationConstraint") in (None, "")
        rr = raw("GET", f"/{name}?location")
        assert rr.status == 200
        root = rr.xml()
        assert root.tag.endswith("LocationConstraint")
        assert (root.text or "") == ""
    finally:
        empty_and_delete(s3, name)


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_create_bucket_with_location_constraint(s3, region):
    name = unique_name("cbl")
    try:
        r = s3.create_bucket(Bucket=name,
                             CreateBucketConfiguration={"LocationConstraint": region})
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == region
    finally:
        empty_and_delete(s3, name)


def test_create_bucket_with_matching_client_region(server):
    """What the seed script does: eu-west-1 client, LocationConstraint eu-west-1."""
    c = make_s3(server.endpoint, region="eu-west-1")
    name = unique_name("cbr")
    try:
        c.create_bucket(Bucket=name,
                        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert c.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    finally:
        empty_and_delete(c, name)


def test_create_bucket_location_constraint_us_east_1_rejected(s3):
    name = unique_name("cbu")
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_of(ei) == (400, "InvalidLocationConstraint")
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert error_of(ei)[0] == 404


def test_create_bucket_malformed_configuration(raw):
    name = unique_name("cbm")
    r = raw("PUT", f"/{name}", body=b"<CreateBucketConfiguration><LocationConstr")
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "MalformedXML"
    assert raw("HEAD", f"/{name}").status == 404


INVALID_NAMES = [
    "ab",                      # too short
    "a" * 64,                  # too long
    "UpperCase",               # upper case
    "under_score",             # underscore
    "-leading-hyphen",
    "trailing-hyphen-",
    ".leading-dot",
    "trailing-dot.",
    "two..dots",
    "192.168.5.4",             # IP address format
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_create_bucket_invalid_name(s3, name):
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name)
    assert error_of(ei) == (400, "InvalidBucketName")
    assert ei.value.response["Error"].get("BucketName") == name
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name not in names


@pytest.mark.parametrize("name", ["abc", "a" * 63, "a.b-c.1", "0-9"])
def test_create_bucket_valid_edge_names(s3, name):
    # these names are valid; make them unique-ish only where the rules allow
    try:
        s3.create_bucket(Bucket=name)
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        empty_and_delete(s3, name)


def test_create_bucket_twice_other_region(s3):
    """Outside us-east-1 a second CreateBucket by the owner is 409."""
    name = unique_name("twice")
    cfg = {"LocationConstraint": "eu-west-1"}
    try:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
        s3.put_object(Bucket=name, Key="k", Body=b"keep me")
        with pytest.raises(ClientError) as ei:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
        assert error_of(ei) == (409, "BucketAlreadyOwnedByYou")
        assert ei.value.response["Error"].get("BucketName") == name
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"keep me"
    finally:
        empty_and_delete(s3, name)


def test_create_bucket_twice_us_east_1(s3):
    """AWS (and LocalStack): in us-east-1 re-creating a bucket you own is 200 OK (the legacy
    rule), with its Location, and changes nothing; a bucket of another region named again
    without a constraint is still 409."""
    name = unique_name("twice1")
    other = unique_name("twice-eu")
    try:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"keep me")
        r = s3.create_bucket(Bucket=name)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert r["Location"] == f"/{name}"
        s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        with pytest.raises(ClientError) as ei:
            s3.create_bucket(Bucket=other)
        assert error_of(ei) == (409, "BucketAlreadyOwnedByYou")
        assert s3.get_bucket_location(Bucket=other)["LocationConstraint"] == "eu-west-1"
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"keep me"
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert names.count(name) == 1
    finally:
        empty_and_delete(s3, name)
        empty_and_delete(s3, other)


def test_head_bucket(s3, bucket, raw):
    r = s3.head_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    rr = raw("HEAD", f"/{bucket}")
    assert rr.status == 200
    assert rr.body == b""
    assert rr.header("x-amz-bucket-region") == "us-east-1"


def test_head_missing_bucket_no_body(s3, raw):
    name = unique_name("nohead")
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert error_of(ei) == (404, "404")
    rr = raw("HEAD", f"/{name}")
    assert rr.status == 404
    assert rr.body == b""
    assert rr.header("x-amz-request-id")
    assert rr.header("x-amz-id-2")


def test_delete_bucket(s3):
    name = unique_name("del")
    s3.create_bucket(Bucket=name)
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert error_of(ei)[0] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # the name can be used again
    s3.create_bucket(Bucket=name)
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    s3.delete_bucket(Bucket=name)


def test_delete_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(ei) == (409, "BucketNotEmpty")
    assert ei.value.response["Error"].get("BucketName") == bucket
    assert s3.get_object(Bucket=bucket, Key="x")["Body"].read() == b"1"
    s3.delete_object(Bucket=bucket, Key="x")
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_missing_bucket(s3):
    name = unique_name("nodel")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=name)
    assert error_of(ei) == (404, "NoSuchBucket")
    assert ei.value.response["Error"].get("BucketName") == name


def test_list_buckets(s3, raw):
    names = sorted(unique_name("lb") for _ in range(3))
    try:
        for n in names:
            s3.create_bucket(Bucket=n)
        r = s3.list_buckets()
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert r["Owner"]["ID"]
        listed = [b["Name"] for b in r["Buckets"]]
        for n in names:
            assert n in listed
        assert listed == sorted(listed)
        now = datetime.datetime.now(datetime.timezone.utc)
        for b in r["Buckets"]:
            if b["Name"] in names:
                cd = b["CreationDate"]
                assert cd.tzinfo is not None
                assert abs((now - cd).total_seconds()) < 86400
        rr = raw("GET", "/")
        assert rr.status == 200
        assert rr.header("Content-Type", "").startswith("application/xml")
        root = rr.xml()
        assert root.tag.endswith("ListAllMyBucketsResult")
    finally:
        for n in names:
            empty_and_delete(s3, n)


def test_list_buckets_after_delete(s3):
    name = unique_name("lbd")
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_get_bucket_location_missing_bucket(s3):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_location(Bucket=unique_name("noloc"))
    assert error_of(ei) == (404, "NoSuchBucket")


# ---------------------------------------------------------------- encryption

def test_default_bucket_encryption(s3, bucket):
    r = s3.get_bucket_encryption(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    rules = r["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules == [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BucketKeyEnabled": False,
    }]


def test_put_get_bucket_encryption_aes256(s3, bucket):
    r = s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rules[0].get("BucketKeyEnabled", False) is False
    # objects written afterwards are still SSE-S3
    p = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert p["ServerSideEncryption"] == "AES256"


def test_put_bucket_encryption_bucket_key_enabled_echoed(s3, bucket):
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
             "BucketKeyEnabled": True}]})
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert rules[0]["BucketKeyEnabled"] is True


def _md5b64(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


@pytest.mark.parametrize("body", [
    b"this is not xml",
    b"<ServerSideEncryptionConfiguration><Rule>",
    b"",
])
def test_put_bucket_encryption_malformed_xml(s3, bucket, raw, body):
    r = raw("PUT", f"/{bucket}?encryption", body=body,
            headers={"Content-MD5": _md5b64(body), "Content-Type": "application/xml"})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "MalformedXML"
    # the default stays in place
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_put_bucket_encryption_no_rules(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_encryption(Bucket=bucket,
                                 ServerSideEncryptionConfiguration={"Rules": []})
    assert error_of(ei) == (400, "MalformedXML")


def test_bucket_encryption_missing_bucket(s3):
    name = unique_name("noenc")
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_encryption(Bucket=name)
    assert error_of(ei) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    assert error_of(ei) == (404, "NoSuchBucket")


def test_bucket_encryption_missing_bucket_checked_before_xml(raw):
    body = b"garbage"
    r = raw("PUT", f"/{unique_name('noenc')}?encryption", body=body,
            headers={"Content-MD5": _md5b64(body)})
    assert r.status == 404
    assert r.xml().findtext("Code") == "NoSuchBucket"


def test_get_bucket_accelerate_configuration_default(s3, bucket, raw):
    # AWS answers a bucket that never had transfer acceleration with an empty document.
    r = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in r
    rr = raw("GET", f"/{bucket}?accelerate")
    assert rr.status == 200
    root = rr.xml()
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}AccelerateConfiguration"
    assert len(root) == 0 and (root.text or "").strip() == ""


def test_get_bucket_accelerate_configuration_missing_bucket(s3):
    name = unique_name("nab")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_accelerate_configuration(Bucket=name)
    assert error_of(e) == (404, "NoSuchBucket")


def test_put_bucket_accelerate_configuration_stored(s3, bucket):
    # stored, never acted on (test_bucket_subresources.py has the rest)
    s3.put_bucket_accelerate_configuration(
        Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
