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



# FULL_OBJECT multipart checksums: the CRC of the whole object, combined by the server from
# the part CRCs. The expected CRC32C/CRC64NVME comes from coffer itself on a single PUT of the
# same bytes (those are checked against known values in the unit tests), CRC32 also from zlib.
# Debian's botocore predates ChecksumType and CRC64NVME: raw signed requests.

def _single_put_checksum(raw, bucket, key, data, alg):
    r = raw("PUT", f"/{bucket}/{key}", body=data,
            headers={"x-amz-sdk-checksum-algorithm": alg})
    assert r.status == 200, r
    return r.header("x-amz-checksum-" + alg.lower())


def _mpu(raw, bucket, key, parts, headers):
    r = raw("POST", f"/{bucket}/{key}?uploads", headers=headers)
    assert r.status == 200, r
    uid = r.xml().findtext("{*}UploadId")
    etags = []
    for i, d in enumerate(parts):
        p = raw("PUT", f"/{bucket}/{key}?partNumber={i + 1}&uploadId={uid}", body=d)
        assert p.status == 200, p
        etags.append(p.header("ETag"))
    return r, uid, etags


def _complete_body(etags):
    return ("<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{e}</ETag></Part>"
        for i, e in enumerate(etags)) + "</CompleteMultipartUpload>").encode()


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum(s3, raw, bucket, alg):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024 + 3), os.urandom(1001)]
    data = b"".join(parts)
    want = _single_put_checksum(raw, bucket, "single", data, alg)
    if alg == "CRC32":
        assert want == base64.b64encode(crc32_raw(data)).decode()
    r, uid, etags = _mpu(raw, bucket, "o", parts, {"x-amz-checksum-algorithm": alg,
                                                   "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.header("x-amz-checksum-algorithm") == alg
    assert r.header("x-amz-checksum-type") == "FULL_OBJECT"
    lp = raw("GET", f"/{bucket}/o?uploadId={uid}")
    assert lp.xml().findtext("{*}ChecksumAlgorithm") == alg
    assert lp.xml().findtext("{*}ChecksumType") == "FULL_OBJECT"
    hdr = "x-amz-checksum-" + alg.lower()
    c = raw("POST", f"/{bucket}/o?uploadId={uid}", body=_complete_body(etags),
            headers={"x-amz-checksum-type": "FULL_OBJECT", hdr: want})
    assert c.status == 200, c
    assert c.xml().findtext("{*}Checksum" + alg) == want
    assert c.xml().findtext("{*}ChecksumType") == "FULL_OBJECT"
    for method in ("HEAD", "GET"):
        g = raw(method, f"/{bucket}/o", headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.status == 200
        assert g.header(hdr) == want and g.header("x-amz-checksum-type") == "FULL_OBJECT"
    assert raw("GET", f"/{bucket}/o").body == data
    a = raw("GET", f"/{bucket}/o?attributes", headers={"x-amz-object-attributes": "Checksum"})
    assert a.xml().findtext("{*}Checksum/{*}Checksum" + alg) == want
    assert a.xml().findtext("{*}Checksum/{*}ChecksumType") == "FULL_OBJECT"
    if alg == "CRC32":  # and boto3 sees the same
        h = s3.head_object(Bucket=bucket, Key="o", ChecksumMode="ENABLED")
        assert h["ChecksumCRC32"] == want


def test_crc64nvme_defaults_to_full_object(raw, bucket):
    r = raw("POST", f"/{bucket}/o?uploads", headers={"x-amz-checksum-algorithm": "CRC64NVME"})
    assert r.status == 200 and r.header("x-amz-checksum-type") == "FULL_OBJECT"
    r = raw("POST", f"/{bucket}/o?uploads", headers={"x-amz-checksum-algorithm": "CRC32"})
    assert r.status == 200 and r.header("x-amz-checksum-type") == "COMPOSITE"


def test_default_checksum_is_crc64nvme_full_object(raw, bucket):
    """An upload created without an algorithm: the object gets AWS's default checksum, the
    CRC64NVME of the whole object."""
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(4321)]
    want = _single_put_checksum(raw, bucket, "single", b"".join(parts), "CRC64NVME")
    r, uid, etags = _mpu(raw, bucket, "o", parts, {})
    assert r.header("x-amz-checksum-algorithm") is None
    c = raw("POST", f"/{bucket}/o?uploadId={uid}", body=_complete_body(etags))
    assert c.status == 200, c
    assert c.xml().findtext("{*}ChecksumCRC64NVME") == want
    assert c.xml().findtext("{*}ChecksumType") == "FULL_OBJECT"
    h = raw("HEAD", f"/{bucket}/o", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == want
    assert h.header("x-amz-checksum-type") == "FULL_OBJECT"


def test_full_object_checksum_mismatch_on_complete(raw, bucket):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(10)]
    _, uid, etags = _mpu(raw, bucket, "o", parts, {"x-amz-checksum-algorithm": "CRC32",
                                                   "x-amz-checksum-type": "FULL_OBJECT"})
    bad = base64.b64encode(crc32_raw(b"other")).decode()
    c = raw("POST", f"/{bucket}/o?uploadId={uid}", body=_complete_body(etags),
            headers={"x-amz-checksum-crc32": bad})
    assert c.status == 400 and c.xml().findtext("Code") == "BadDigest"
    c = raw("POST", f"/{bucket}/o?uploadId={uid}", body=_complete_body(etags),
            headers={"x-amz-checksum-type": "COMPOSITE"})
    assert c.status == 400 and c.xml().findtext("Code") == "InvalidRequest"
    assert raw("HEAD", f"/{bucket}/o").status == 404  # nothing was stored
    good = base64.b64encode(crc32_raw(b"".join(parts))).decode()
    c = raw("POST", f"/{bucket}/o?uploadId={uid}", body=_complete_body(etags),
            headers={"x-amz-checksum-crc32": good})
    assert c.status == 200 and c.xml().findtext("{*}ChecksumCRC32") == good


@pytest.mark.parametrize("alg,typ,msg", [
    ("SHA256", "FULL_OBJECT",
     "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
    ("SHA1", "FULL_OBJECT",
     "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."),
    ("CRC64NVME", "COMPOSITE",
     "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
    (None, "FULL_OBJECT",
     "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."),
    ("CRC32", "BOTH", "Value for x-amz-checksum-type header is invalid."),
])
def test_checksum_type_errors(raw, bucket, alg, typ, msg):
    h = {"x-amz-checksum-type": typ}
    if alg is not None:
        h["x-amz-checksum-algorithm"] = alg
    r = raw("POST", f"/{bucket}/q?uploads", headers=h)
    assert r.status == 400
    assert r.xml().findtext("Code") == "InvalidRequest"
    assert r.xml().findtext("Message") == msg


def test_part_with_another_algorithm(raw, bucket):
    r = raw("POST", f"/{bucket}/x?uploads", headers={"x-amz-checksum-algorithm": "SHA1"})
    uid = r.xml().findtext("{*}UploadId")
    d = b"some part data"
    crc = base64.b64encode(crc32_raw(d)).decode()
    p = raw("PUT", f"/{bucket}/x?partNumber=1&uploadId={uid}", body=d,
            headers={"x-amz-checksum-crc32": crc})
    assert p.status == 400
    assert p.xml().findtext("Code") == "InvalidRequest"
    assert p.xml().findtext("Message") == ("Checksum Type mismatch occurred, expected checksum "
                                           "Type: sha1, actual checksum Type: crc32")
    lp = raw("GET", f"/{bucket}/x?uploadId={uid}")
    assert lp.xml().find("{*}Part") is None


def test_complete_checks_named_part_checksums(raw, bucket):
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(10)]
    _, uid, etags = _mpu(raw, bucket, "n", parts, {"x-amz-checksum-algorithm": "CRC32"})
    crcs = [base64.b64encode(crc32_raw(p)).decode() for p in parts]

    def body(values):
        return ("<CompleteMultipartUpload>" + "".join(
            f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{e}</ETag>"
            f"<ChecksumCRC32>{v}</ChecksumCRC32></Part>"
            for i, (e, v) in enumerate(zip(etags, values))) + "</CompleteMultipartUpload>").encode()

    c = raw("POST", f"/{bucket}/n?uploadId={uid}", body=body([crcs[0], crcs[0]]))
    assert c.status == 400 and c.xml().findtext("Code") == "InvalidPart"
    c = raw("POST", f"/{bucket}/n?uploadId={uid}", body=body(crcs))
    assert c.status == 200, c
