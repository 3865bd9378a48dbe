"""CopyObject."""

import datetime
import os
import re
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_of, etag_of, hdrs, unique_name


@pytest.fixture
def src(s3, bucket):
    data = os.urandom(150 * 1024)       # three segments
    s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="image/x-test",
                  Metadata={"origin": "source", "n": "1"}, CacheControl="max-age=5",
                  ContentDisposition="inline", ContentLanguage="it")
    return bucket, "src", data


@pytest.fixture
def bucket2(s3):
    name = unique_name("b2")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def test_copy_same_bucket(s3, src):
    bucket, key, data = src
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    assert isinstance(r["CopyObjectResult"]["LastModified"], datetime.datetime)
    assert hdrs(r)["x-amz-server-side-encryption"] == "AES256"
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == data
    assert g["ETag"] == etag_of(data)
    assert g["ServerSideEncryption"] == "AES256"
    # source untouched
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_copy_cross_bucket(s3, src, bucket2):
    bucket, key, data = src
    r = s3.copy_object(Bucket=bucket2, Key="copied/dst", CopySource=f"{bucket}/{key}")
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    assert s3.get_object(Bucket=bucket2, Key="copied/dst")["Body"].read() == data
    # independent objects: deleting the source leaves the copy readable
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.get_object(Bucket=bucket2, Key="copied/dst")["Body"].read() == data


def test_copy_result_xml(raw, s3, src):
    bucket, key, data = src
    r = raw("PUT", f"/{bucket}/dst-raw", headers={"x-amz-copy-source": f"/{bucket}/{key}"})
    assert r.status == 200, r
    root = r.xml()
    assert re.sub(r"^\{.*\}", "", root.tag) == "CopyObjectResult"
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    assert root.findtext(f"{ns}ETag") == etag_of(data)
    lm = root.findtext(f"{ns}LastModified")
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", lm), lm
    assert r.header("x-amz-server-side-encryption") == "AES256"


@pytest.mark.parametrize("key", [
    "dir/spaced name+plus%percent ü?.txt",
    "日本/キー#1",
    "a//b",
])
def test_copy_source_url_encoded(s3, raw, bucket, key):
    data = b"encoded source " + key.encode()
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    # boto3 URL-encodes the copy source
    s3.copy_object(Bucket=bucket, Key="dst1", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="dst1")["Body"].read() == data
    # raw, fully encoded, with and without leading slash
    enc = urllib.parse.quote(key, safe="")
    for source in (f"/{bucket}/{enc}", f"{bucket}/{enc}"):
        r = raw("PUT", f"/{bucket}/dst2", headers={"x-amz-copy-source": source})
        assert r.status == 200, (source, r)
        assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == data
        s3.delete_object(Bucket=bucket, Key="dst2")


def test_metadata_directive_copy_keeps_metadata(s3, src):
    bucket, key, data = src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="COPY")
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"origin": "source", "n": "1"}
    assert h["ContentType"] == "image/x-test"
    assert h["CacheControl"] == "max-age=5"
    assert h["ContentDisposition"] == "inline"
    assert h["ContentLanguage"] == "it"


def test_metadata_directive_default_is_copy(s3, src):
    bucket, key, data = src
    # new metadata without REPLACE is ignored
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   Metadata={"ignored": "yes"})
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"origin": "source", "n": "1"}


def test_metadata_directive_replace(s3, src):
    bucket, key, data = src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"fresh": "value"},
                   ContentType="text/x-new")
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"fresh": "value"}
    assert h["ContentType"] == "text/x-new"
    assert "CacheControl" not in h
    assert "ContentLanguage" not in h
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == data


def test_metadata_directive_invalid(raw, src):
    bucket, key, _ = src
    r = raw("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/{key}",
                                              "x-amz-metadata-directive": "MERGE"})
    assert r.status == 400
    assert r.xml().findtext("Code") == "InvalidArgument"


def test_copy_onto_itself_without_change_rejected(s3, src):
    bucket, key, data = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert error_of(ei) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       MetadataDirective="COPY")
    assert error_of(ei) == (400, "InvalidRequest")
    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["Metadata"] == {"origin": "source", "n": "1"}
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_copy_onto_itself_with_replace(s3, src):
    bucket, key, data = src
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       MetadataDirective="REPLACE", Metadata={"changed": "yes"})
    assert r["CopyObjectResult"]["ETag"] == etag_of(data)
    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["Metadata"] == {"changed": "yes"}
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_copy_preconditions(s3, src):
    bucket, key, data = src
    h = s3.head_object(Bucket=bucket, Key=key)
    etag, lm = h["ETag"], h["LastModified"]
    day = datetime.timedelta(days=1)
    cs = {"Bucket": bucket, "Key": key}

    failing = [
        {"CopySourceIfMatch": '"00000000000000000000000000000000"'},
        {"CopySourceIfNoneMatch": etag},
        {"CopySourceIfModifiedSince": lm},
        {"CopySourceIfUnmodifiedSince": lm - day},
    ]
    for i, cond in enumerate(failing):
        with pytest.raises(ClientError) as ei:
            s3.copy_object(Bucket=bucket, Key=f"f{i}", CopySource=cs, **cond)
        assert error_of(ei) == (412, "PreconditionFailed"), cond
        with pytest.raises(ClientError) as ei2:
            s3.head_object(Bucket=bucket, Key=f"f{i}")
        assert error_of(ei2)[0] == 404

    passing = [
        {"CopySourceIfMatch": etag},
        {"CopySourceIfNoneMatch": '"00000000000000000000000000000000"'},
        {"CopySourceIfModifiedSince": lm - day},
        {"CopySourceIfUnmodifiedSince": lm},
        {"CopySourceIfUnmodifiedSince": lm + day},
        # AWS precedence: if-match true + if-unmodified-since false -> copy
        {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": lm - day},
    ]
    for i, cond in enumerate(passing):
        r = s3.copy_object(Bucket=bucket, Key=f"p{i}", CopySource=cs, **cond)
        assert r["CopyObjectResult"]["ETag"] == etag_of(data), cond
        assert s3.get_object(Bucket=bucket, Key=f"p{i}")["Body"].read() == data


def test_copy_missing_source_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})
    assert error_of(ei) == (404, "NoSuchKey")


def test_copy_missing_source_bucket(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst",
                       CopySource={"Bucket": unique_name("nob"), "Key": "k"})
    assert error_of(ei) == (404, "NoSuchBucket")


def test_copy_missing_destination_bucket(s3, src):
    bucket, key, _ = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=unique_name("nob"), Key="dst",
                       CopySource={"Bucket": bucket, "Key": key})
    assert error_of(ei) == (404, "NoSuchBucket")


@pytest.mark.parametrize("source", ["justabucket", "justabucket/"])
def test_copy_invalid_source_header(raw, bucket, source):
    r = raw("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": source})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument"


def test_copy_overwrites_existing_destination(s3, src):
    bucket, key, data = src
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old", Metadata={"old": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key})
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == data
    assert g["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    r = s3.copy_object(Bucket=bucket, Key="empty2", CopySource=f"{bucket}/empty")
    assert r["CopyObjectResult"]["ETag"] == etag_of(b"")
    g = s3.get_object(Bucket=bucket, Key="empty2")
    assert g["ContentLength"] == 0
    assert g["Body"].read() == b""
