"""GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize as asked in
x-amz-object-attributes; SSE-C objects need their key, as for HEAD."""
import base64
import hashlib
import os
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError


def test_single_object_attributes(s3, bucket):
    body = b"attributes of a plain object"
    s3.put_object(Bucket=bucket, Key="o", Body=body, ChecksumAlgorithm="CRC32")
    a = s3.get_object_attributes(Bucket=bucket, Key="o",
                                 ObjectAttributes=["ETag", "Checksum", "StorageClass",
                                                   "ObjectSize"])
    assert a["ETag"] == hashlib.md5(body).hexdigest()
    assert a["Checksum"]["ChecksumCRC32"] == base64.b64encode(
        zlib.crc32(body).to_bytes(4, "big")).decode()
    assert a["StorageClass"] == "STANDARD"
    assert a["ObjectSize"] == len(body)
    only = s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in only and only["ObjectSize"] == len(body)


def test_multipart_object_parts(s3, bucket, tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(os.urandom(11 * 1024 * 1024))
    s3.upload_file(str(f), bucket, "mp", Config=TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    a = s3.get_object_attributes(Bucket=bucket, Key="mp",
                                 ObjectAttributes=["ObjectParts", "ObjectSize", "ETag"])
    # uploaded without an additional checksum: AWS gives the count, no Part elements
    # (test_object_attributes_parts.py has the listed and paged parts)
    assert a["ObjectParts"] == {"TotalPartsCount": 3}
    assert a["ETag"].endswith("-3")


def b64(b):
    return base64.b64encode(b).decode()


def test_errors(s3, bucket, raw):
    key = os.urandom(32)
    other = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="c", Body=b"x", SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key)
    with pytest.raises(ClientError) as ei:
        s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"])
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # this botocore does not encode SSE-C keys for GetObjectAttributes: pass them encoded
    got = s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"],
                                   SSECustomerAlgorithm="AES256", SSECustomerKey=b64(key),
                                   SSECustomerKeyMD5=b64(hashlib.md5(key).digest()))
    assert got["ObjectSize"] == 1
    with pytest.raises(ClientError) as ei:
        s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"],
                                 SSECustomerAlgorithm="AES256", SSECustomerKey=b64(other),
                                 SSECustomerKeyMD5=b64(hashlib.md5(other).digest()))
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as ei:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert ei.value.response["Error"]["Code"] == "NoSuchKey"
    r = raw("GET", f"/{bucket}/c?attributes", headers={"x-amz-object-attributes": "Bogus"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidArgument"
    r = raw("GET", f"/{bucket}/c?attributes")
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidArgument"
