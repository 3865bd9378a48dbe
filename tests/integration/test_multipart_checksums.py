"""Composite checksums of multipart uploads (x-amz-checksum-algorithm on
CreateMultipartUpload): each part carries the checksum, ListParts shows it, and the object's
checksum is the algorithm over the parts' raw checksums, then "-N", as AWS defines COMPOSITE."""
import base64
import hashlib
import os
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import raw_request


def crc32_raw(data):
    return zlib.crc32(data).to_bytes(4, "big")


@pytest.mark.parametrize("alg", ["CRC32", "SHA256"])
def test_composite_checksum(s3, bucket, alg):
    u = s3.create_multipart_upload(Bucket=bucket, Key="o", ChecksumAlgorithm=alg)
    assert u["ChecksumAlgorithm"] == alg
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(777)]
    raw_fn = crc32_raw if alg == "CRC32" else (lambda d: hashlib.sha256(d).digest())
    raws, etags = [], []
    for i, d in enumerate(parts):
        # the SDK sends the part checksum itself; the server checks and records it
        r = s3.upload_part(Bucket=bucket, Key="o", UploadId=u["UploadId"], PartNumber=i + 1,
                           Body=d, ChecksumAlgorithm=alg)
        raws.append(raw_fn(d))
        etags.append(r["ETag"])
        assert r["Checksum" + alg] == base64.b64encode(raws[-1]).decode()
    listed = s3.list_parts(Bucket=bucket, Key="o", UploadId=u["UploadId"])["Parts"]
    assert [p["Checksum" + alg] for p in listed] == [base64.b64encode(r).decode() for r in raws]
    c = s3.complete_multipart_upload(
        Bucket=bucket, Key="o", UploadId=u["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e,
                                    "Checksum" + alg: base64.b64encode(raws[i]).decode()}
                                   for i, e in enumerate(etags)]})
    want = base64.b64encode(raw_fn(b"".join(raws))).decode() + "-2"
    assert c["Checksum" + alg] == want
    h = s3.head_object(Bucket=bucket, Key="o", ChecksumMode="ENABLED")
    assert h["Checksum" + alg] == want
    r = raw_request(s3.meta.endpoint_url.rsplit(":", 1)[1] and int(
        s3.meta.endpoint_url.rsplit(":", 1)[1]), "HEAD", f"/{bucket}/o",
        headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.header("x-amz-checksum-type") == "COMPOSITE"


def test_part_without_checksum_gets_the_uploads_algorithm(s3, bucket):
    u = s3.create_multipart_upload(Bucket=bucket, Key="p", ChecksumAlgorithm="CRC32")
    d = os.urandom(1234)
    port = int(s3.meta.endpoint_url.rsplit(":", 1)[1])
    r = raw_request(port, "PUT", f"/{bucket}/p?partNumber=1&uploadId={u['UploadId']}", body=d)
    assert r.status == 200, r
    assert r.header("x-amz-checksum-crc32") == base64.b64encode(crc32_raw(d)).decode()


def test_unknown_checksum_algorithm(raw, bucket):
    r = raw("POST", f"/{bucket}/q?uploads", headers={"x-amz-checksum-algorithm": "MD5"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidRequest"
