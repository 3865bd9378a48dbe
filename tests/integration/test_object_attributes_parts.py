"""GetObjectAttributes' ObjectParts as AWS answers it: the parts of an object uploaded with an
additional checksum are listed with each part's checksum and paged by x-amz-max-parts and
x-amz-part-number-marker (PartNumberMarker, NextPartNumberMarker, MaxParts, IsTruncated); an
object uploaded without one gets its parts count alone (AWS: "the response doesn't return the
Part element"). Bad paging headers are InvalidArgument naming the header."""
import base64
import hashlib
import os
import zlib

import pytest

MIB = 1024 * 1024
SIZES = [5 * MIB, 5 * MIB, 321]


def b64(b):
    return base64.b64encode(b).decode()


def sdk_digest(alg, data):
    if alg == "CRC32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    return b64(hashlib.new(alg.lower(), data).digest())


def upload(s3, bucket, key, alg=None):
    """A 3-part upload through boto3 (alg: the SDK computes each part's checksum)."""
    extra = {"ChecksumAlgorithm": alg} if alg else {}
    u = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    parts, sums = [], []
    for i, size in enumerate(SIZES):
        body = os.urandom(size)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=u["UploadId"], PartNumber=i + 1,
                           Body=body, **extra)
        p = {"PartNumber": i + 1, "ETag": r["ETag"]}
        if alg:
            sums.append(sdk_digest(alg, body))
            assert r["Checksum" + alg] == sums[-1]
            p["Checksum" + alg] = sums[-1]
        parts.append(p)
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=u["UploadId"],
                                 MultipartUpload={"Parts": parts})
    return sums


def attrs(s3, bucket, key, **kw):
    return s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"],
                                    **kw)["ObjectParts"]


@pytest.mark.parametrize("alg", ["CRC32", "SHA1", "SHA256"])
def test_parts_listed_with_their_checksums_and_paged(s3, bucket, alg):
    sums = upload(s3, bucket, "o", alg)
    whole = attrs(s3, bucket, "o")
    assert whole == {
        "TotalPartsCount": 3, "PartNumberMarker": 0, "NextPartNumberMarker": 3,
        "MaxParts": 1000, "IsTruncated": False,
        "Parts": [{"PartNumber": i + 1, "Size": SIZES[i], "Checksum" + alg: sums[i]}
                  for i in range(3)]}
    first = attrs(s3, bucket, "o", MaxParts=2)
    assert (first["MaxParts"], first["IsTruncated"], first["NextPartNumberMarker"]) == (2, True, 2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    rest = attrs(s3, bucket, "o", MaxParts=2, PartNumberMarker=first["NextPartNumberMarker"])
    assert (rest["PartNumberMarker"], rest["IsTruncated"], rest["NextPartNumberMarker"]) == \
        (2, False, 3)
    assert rest["Parts"] == [{"PartNumber": 3, "Size": SIZES[2], "Checksum" + alg: sums[2]}]
    beyond = attrs(s3, bucket, "o", PartNumberMarker=3)
    assert beyond["IsTruncated"] is False and "Parts" not in beyond
    assert beyond["TotalPartsCount"] == 3 and "NextPartNumberMarker" not in beyond
    none = attrs(s3, bucket, "o", MaxParts=0)
    assert none["MaxParts"] == 0 and none["IsTruncated"] is True and "Parts" not in none
    # more than 1000 is taken as 1000, as ListParts does
    assert attrs(s3, bucket, "o", MaxParts=5000)["MaxParts"] == 1000


def test_parts_of_an_sse_c_object_need_its_key_and_show_sealed_checksums(s3, bucket, raw):
    key = os.urandom(32)
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    u = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256", **sse)
    parts, sums = [], []
    for i, size in enumerate(SIZES[1:]):
        body = os.urandom(size)
        r = s3.upload_part(Bucket=bucket, Key="c", UploadId=u["UploadId"], PartNumber=i + 1,
                           Body=body, ChecksumAlgorithm="SHA256", **sse)
        sums.append(sdk_digest("SHA256", body))
        parts.append({"PartNumber": i + 1, "ETag": r["ETag"], "ChecksumSHA256": sums[-1]})
    s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=u["UploadId"],
                                 MultipartUpload={"Parts": parts})
    # this botocore does not encode SSE-C keys for GetObjectAttributes: pass them encoded
    got = attrs(s3, bucket, "c", SSECustomerAlgorithm="AES256", SSECustomerKey=b64(key),
                SSECustomerKeyMD5=b64(hashlib.md5(key).digest()))
    assert [p["ChecksumSHA256"] for p in got["Parts"]] == sums
    r = raw("GET", f"/{bucket}/c?attributes", headers={"x-amz-object-attributes": "ObjectParts"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidRequest"


@pytest.mark.parametrize("alg", ["CRC32C", "CRC64NVME"])
def test_server_computed_part_checksums(raw, bucket, alg):
    """CRC32C and CRC64NVME (FULL_OBJECT), which this botocore cannot compute: the parts get
    the upload's algorithm from the server, and GetObjectAttributes shows the values UploadPart
    answered."""
    r = raw("POST", f"/{bucket}/k?uploads", headers={"x-amz-checksum-algorithm": alg})
    uid = r.xml().findtext("{*}UploadId")
    sums, xml_parts = [], ""
    for i, size in enumerate(SIZES[1:]):
        r = raw("PUT", f"/{bucket}/k?partNumber={i + 1}&uploadId={uid}", body=os.urandom(size))
        assert r.status == 200, r
        sums.append(r.header("x-amz-checksum-" + alg.lower()))
        assert sums[-1]
        xml_parts += (f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{r.header('ETag')}</ETag>"
                      f"<Checksum{alg}>{sums[-1]}</Checksum{alg}></Part>")
    r = raw("POST", f"/{bucket}/k?uploadId={uid}",
            body=f"<CompleteMultipartUpload>{xml_parts}</CompleteMultipartUpload>".encode())
    assert r.status == 200, r
    r = raw("GET", f"/{bucket}/k?attributes",
            headers={"x-amz-object-attributes": "ObjectParts", "x-amz-max-parts": "1"})
    assert r.status == 200, r
    op = r.xml().find("{*}ObjectParts")
    assert [c.tag.split("}")[1] for c in op] == [
        "PartsCount", "PartNumberMarker", "NextPartNumberMarker", "MaxParts", "IsTruncated",
        "Part"]
    assert op.findtext("{*}IsTruncated") == "true"
    assert op.find("{*}Part").findtext("{*}Checksum" + alg) == sums[0]
    r = raw("GET", f"/{bucket}/k?attributes",
            headers={"x-amz-object-attributes": "ObjectParts", "x-amz-part-number-marker": "1"})
    part = r.xml().find("{*}ObjectParts/{*}Part")
    assert part.findtext("{*}PartNumber") == "2" and part.findtext("{*}Checksum" + alg) == sums[1]


def test_without_checksums_only_the_count(s3, bucket):
    upload(s3, bucket, "n")
    assert attrs(s3, bucket, "n") == {"TotalPartsCount": 3}
    assert attrs(s3, bucket, "n", MaxParts=1, PartNumberMarker=1) == {"TotalPartsCount": 3}


def test_single_part_object_has_no_object_parts(s3, bucket):
    s3.put_object(Bucket=bucket, Key="s", Body=b"x", ChecksumAlgorithm="SHA256")
    a = s3.get_object_attributes(Bucket=bucket, Key="s", ObjectAttributes=["ObjectParts"])
    assert "ObjectParts" not in a


@pytest.mark.parametrize("header,value,message", [
    ("x-amz-max-parts", "abc", "Provided x-amz-max-parts not an integer or within integer range"),
    ("x-amz-max-parts", "", "Provided x-amz-max-parts not an integer or within integer range"),
    ("x-amz-max-parts", "99999999999",
     "Provided x-amz-max-parts not an integer or within integer range"),
    ("x-amz-max-parts", "-1", "Argument x-amz-max-parts must be an integer between 0 and "
     "2147483647"),
    ("x-amz-part-number-marker", "1x",
     "Provided x-amz-part-number-marker not an integer or within integer range"),
    ("x-amz-part-number-marker", "-5", "Argument x-amz-part-number-marker must be an integer "
     "between 0 and 2147483647"),
])
def test_bad_paging_headers(raw, bucket, header, value, message):
    raw("PUT", f"/{bucket}/o", body=b"x")
    r = raw("GET", f"/{bucket}/o?attributes",
            headers={"x-amz-object-attributes": "ObjectParts", header: value})
    assert r.status == 400, r
    x = r.xml()
    assert x.findtext("Code") == "InvalidArgument"
    assert x.findtext("Message") == message
    assert x.findtext("ArgumentName") == header
    assert x.findtext("ArgumentValue") == value
