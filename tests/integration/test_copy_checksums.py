"""CopyObject records a checksum of the copy, as AWS does for every new object: the algorithm
the request names (x-amz-checksum-algorithm), else the source's, else CRC64NVME. It is computed
over the bytes copied, returned in CopyObjectResult and on HEAD/GET with checksum mode, and
sealed like any other checksum for SSE-C and SSE-KMS copies."""

import base64
import hashlib
import os
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32_b64(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def sha256_b64(data):
    return b64(hashlib.sha256(data).digest())


def test_copy_keeps_the_source_algorithm(s3, bucket):
    data = os.urandom(200 * 1024)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ChecksumSHA256"] == sha256_b64(data)
    h = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == sha256_b64(data)


def test_copy_with_a_requested_algorithm(s3, bucket):
    data = b"copy me " * 5000
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                       ChecksumAlgorithm="CRC32")
    assert r["CopyObjectResult"]["ChecksumCRC32"] == crc32_b64(data)
    g = s3.get_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert g["ChecksumCRC32"] == crc32_b64(data)
    assert g["Body"].read() == data


def test_copy_with_an_unknown_algorithm_is_refused(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    r = raw("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/src",
                                              "x-amz-checksum-algorithm": "MD5"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidRequest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dst")


def test_copy_default_is_crc64nvme(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"plain")
    r = raw("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/src"})
    assert r.status == 200
    assert r.xml().findtext("{http://s3.amazonaws.com/doc/2006-03-01/}ChecksumCRC64NVME")
    h = raw("HEAD", f"/{bucket}/dst", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == \
        r.xml().findtext("{http://s3.amazonaws.com/doc/2006-03-01/}ChecksumCRC64NVME")


def test_copy_between_customer_keys_keeps_a_sealed_checksum(s3, bucket):
    k1, k2 = os.urandom(32), os.urandom(32)
    data = os.urandom(70 * 1024)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256",
                  SSECustomerAlgorithm="AES256", SSECustomerKey=k1)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1,
                   SSECustomerAlgorithm="AES256", SSECustomerKey=k2)
    h = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED",
                       SSECustomerAlgorithm="AES256", SSECustomerKey=k2)
    assert h["ChecksumSHA256"] == sha256_b64(data)


# --------------------------------------------------------------------------
# the default CRC64NVME, computed independently here
# --------------------------------------------------------------------------

def _crc64nvme_table():
    poly = 0x9A6C9329AC4BC9B5  # CRC-64/NVME, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_T = _crc64nvme_table()


def crc64nvme_b64(data):
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = _T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFFFFFFFFFF
    return b64(crc.to_bytes(8, "big"))


def test_crc64nvme_reference():
    assert crc64nvme_b64(b"123456789") == b64(bytes.fromhex("ae8b14860a799888"))


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536 + 17])
def test_default_checksum_of_a_put(raw, bucket, size):
    """Without a checksum header the server records CRC64NVME (computed partly on its hasher
    thread); it must be the CRC of exactly the bytes stored, in order."""
    data = os.urandom(size)
    r = raw("PUT", f"/{bucket}/d{size}", body=data)
    assert r.status == 200
    assert r.header("x-amz-checksum-crc64nvme") == crc64nvme_b64(data)
    h = raw("HEAD", f"/{bucket}/d{size}", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == crc64nvme_b64(data)
    assert h.header("x-amz-checksum-type") == "FULL_OBJECT"


def test_default_checksum_of_parts_and_the_object(s3, raw, bucket):
    p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(200 * 1024 + 3)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    r1 = raw("PUT", f"/{bucket}/mp?partNumber=1&uploadId={up}", body=p1)
    r2 = raw("PUT", f"/{bucket}/mp?partNumber=2&uploadId={up}", body=p2)
    assert r1.header("x-amz-checksum-crc64nvme") == crc64nvme_b64(p1)
    assert r2.header("x-amz-checksum-crc64nvme") == crc64nvme_b64(p2)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r1.header("etag")},
                  {"PartNumber": 2, "ETag": r2.header("etag")}]})
    h = raw("HEAD", f"/{bucket}/mp", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == crc64nvme_b64(p1 + p2)
