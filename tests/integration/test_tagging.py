"""Object and bucket tagging: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging,
x-amz-tagging on PutObject / CreateMultipartUpload / CopyObject, x-amz-tagging-count, AWS's
validation errors; with boto3, raw requests and the aws CLI."""

import base64
import hashlib
import json
import os
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, hdrs

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def tags_of(s3, bucket, key, **kw):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]}


def err(excinfo):
    e = excinfo.value.response["Error"]
    return (excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], e["Code"],
            e.get("Message"), e.get("TagKey"))


def tagging_doc(pairs):
    tags = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in pairs)
    return f"<Tagging><TagSet>{tags}</TagSet></Tagging>".encode()


def md5_header(body):
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


# --------------------------------------------------------------------------
# object tagging
# --------------------------------------------------------------------------

def test_object_tagging_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    r = s3.get_object_tagging(Bucket=bucket, Key="k")
    assert r["TagSet"] == []
    assert "x-amz-tagging-count" not in hdrs(s3.head_object(Bucket=bucket, Key="k"))
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")

    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(
        {"project": "coffer", "env": "dev test", "path": "a/b:c@d+e=f.g_h-i", "empty": ""})})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "x-amz-version-id" not in hdrs(r)
    got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    # returned in key order
    assert [t["Key"] for t in got] == ["empty", "env", "path", "project"]
    assert {t["Key"]: t["Value"] for t in got} == {
        "project": "coffer", "env": "dev test", "path": "a/b:c@d+e=f.g_h-i", "empty": ""}
    assert hdrs(s3.head_object(Bucket=bucket, Key="k"))["x-amz-tagging-count"] == "4"
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["TagCount"] == 4
    assert g["Body"].read() == b"hello"
    # the stored line never becomes a response header
    assert not any(h.startswith("coffer") for h in hdrs(g))

    # a new set replaces the old one; tagging changes neither body, ETag nor Last-Modified
    before = s3.head_object(Bucket=bucket, Key="k")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"only": "1"})})
    assert tags_of(s3, bucket, "k") == {"only": "1"}
    after = s3.head_object(Bucket=bucket, Key="k")
    assert after["ETag"] == before["ETag"]
    assert after["LastModified"] == before["LastModified"]

    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == {}
    assert "x-amz-tagging-count" not in hdrs(s3.head_object(Bucket=bucket, Key="k"))
    # deleting again is fine
    assert s3.delete_object_tagging(Bucket=bucket, Key="k")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    # an empty set removes the tags too
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"a": "1"})})
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert tags_of(s3, bucket, "k") == {}
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_get_object_tagging_xml(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="b=2&a=1")
    r = raw("GET", f"/{bucket}/k?tagging")
    assert r.status == 200
    assert r.header("Content-Type", "").startswith("application/xml")
    root = r.xml()
    assert root.tag == NS + "Tagging"
    tags = root.findall(f"{NS}TagSet/{NS}Tag")
    assert [(t.findtext(NS + "Key"), t.findtext(NS + "Value")) for t in tags] == [
        ("a", "1"), ("b", "2")]


def test_unicode_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    tags = {"\u00fc\u00df": "\u6587\u5b57 \u0416", "k" * 128: "v" * 256,
            "\U00020000" * 64: "astral"}
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(tags)})
    assert tags_of(s3, bucket, "k") == tags


def test_missing_key_and_bucket(s3, bucket):
    t = {"TagSet": tagset({"a": "1"})}
    for call, kw in ((s3.get_object_tagging, {}), (s3.put_object_tagging, {"Tagging": t}),
                     (s3.delete_object_tagging, {})):
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket, Key="missing", **kw)
        assert error_of(ei) == (404, "NoSuchKey")
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket + "-nope", Key="k", **kw)
        assert error_of(ei) == (404, "NoSuchBucket")


def test_version_id(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId="null",
                          Tagging={"TagSet": tagset({"a": "1"})})
    assert tags_of(s3, bucket, "k", VersionId="null") == {"a": "1"}
    for call, kw in ((s3.get_object_tagging, {}),
                     (s3.put_object_tagging, {"Tagging": {"TagSet": tagset({"b": "2"})}}),
                     (s3.delete_object_tagging, {})):
        with pytest.raises(ClientError) as ei:
            call(Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", **kw)
        assert error_of(ei) == (404, "NoSuchVersion")
    assert tags_of(s3, bucket, "k") == {"a": "1"}


def test_put_object_with_tagging_header(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="foo=bar&bar")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "bar", "Value": ""}, {"Key": "foo", "Value": "bar"}]
    # URL query decoding: %XX, '+' as space, '=' inside a value
    r = raw("PUT", f"/{bucket}/k2", body=b"y",
            headers={"x-amz-tagging": "a%20b=c%2Bd&e+f=g=h&%C3%BC=%E6%96%87"})
    assert r.status == 200, r
    assert tags_of(s3, bucket, "k2") == {"a b": "c+d", "e f": "g=h", "\u00fc": "\u6587"}
    assert hdrs(s3.head_object(Bucket=bucket, Key="k2"))["x-amz-tagging-count"] == "3"
    # an overwrite without the header leaves no tags
    s3.put_object(Bucket=bucket, Key="k2", Body=b"z")
    assert tags_of(s3, bucket, "k2") == {}
    # an empty header is no tags
    r = raw("PUT", f"/{bucket}/k3", body=b"y", headers={"x-amz-tagging": ""})
    assert r.status == 200, r
    assert tags_of(s3, bucket, "k3") == {}


def test_presigned_put_with_hoisted_tagging(raw, s3, bucket):
    """Presigners that hoist x-amz-* headers put x-amz-tagging in the query string."""
    q = urllib.parse.quote("a=1&b=two words", safe="")
    r = raw("PUT", f"/{bucket}/p?x-amz-tagging={q}", body=b"presigned")
    assert r.status == 200, r
    assert tags_of(s3, bucket, "p") == {"a": "1", "b": "two words"}
    assert s3.get_object(Bucket=bucket, Key="p")["Body"].read() == b"presigned"


def test_multipart_with_tagging(s3, bucket):
    mpu = s3.create_multipart_upload(Bucket=bucket, Key="big", Tagging="part=yes&n=2")
    part1 = os.urandom(5 * 1024 * 1024)
    p1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=mpu["UploadId"], PartNumber=1,
                        Body=part1)
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=mpu["UploadId"], PartNumber=2,
                        Body=b"tail")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=mpu["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert tags_of(s3, bucket, "big") == {"part": "yes", "n": "2"}
    assert s3.get_object(Bucket=bucket, Key="big")["TagCount"] == 2
    # tags of a multipart object (no single blob) can be changed and read back
    s3.put_object_tagging(Bucket=bucket, Key="big", Tagging={"TagSet": tagset({"x": "y"})})
    assert tags_of(s3, bucket, "big") == {"x": "y"}
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == part1 + b"tail"


def test_multipart_bad_tagging_refused(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.create_multipart_upload(Bucket=bucket, Key="big", Tagging="aws:x=1")
    assert err(ei)[:3] == (400, "InvalidTag", "Your TagKey cannot be prefixed with aws:")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_copy_tagging_directive(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", Tagging="a=1&b=2",
                  Metadata={"m": "v"})
    # COPY is the default: the source's tags
    s3.copy_object(Bucket=bucket, Key="c1", CopySource={"Bucket": bucket, "Key": "src"})
    assert tags_of(s3, bucket, "c1") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="COPY", Tagging="ignored=1")
    assert tags_of(s3, bucket, "c2") == {"a": "1", "b": "2"}
    # metadata REPLACE does not touch the tags
    s3.copy_object(Bucket=bucket, Key="c3", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"n": "w"})
    assert tags_of(s3, bucket, "c3") == {"a": "1", "b": "2"}
    assert s3.head_object(Bucket=bucket, Key="c3")["Metadata"] == {"n": "w"}
    # REPLACE takes x-amz-tagging, or nothing
    s3.copy_object(Bucket=bucket, Key="c4", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="new=tag")
    assert tags_of(s3, bucket, "c4") == {"new": "tag"}
    assert s3.head_object(Bucket=bucket, Key="c4")["Metadata"] == {"m": "v"}
    s3.copy_object(Bucket=bucket, Key="c5", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "c5") == {}
    # an unknown directive
    r = raw("PUT", f"/{bucket}/c6", headers={"x-amz-copy-source": f"/{bucket}/src",
                                             "x-amz-tagging-directive": "MERGE"})
    assert r.status == 400, r
    root = r.xml()
    assert root.findtext("Code") == "InvalidArgument"
    assert root.findtext("Message") == "Unknown tagging directive."
    assert root.findtext("ArgumentName") == "x-amz-tagging-directive"
    assert root.findtext("ArgumentValue") == "MERGE"
    # a bad x-amz-tagging with REPLACE
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="c7", CopySource={"Bucket": bucket, "Key": "src"},
                       TaggingDirective="REPLACE", Tagging="a=1&a=2")
    assert error_of(ei) == (400, "InvalidArgument")
    for k in ("c6", "c7"):
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=bucket, Key=k)
        assert error_of(ei)[0] == 404


SSEC_KEY = bytes(range(32))


def ssec_args(key=SSEC_KEY):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def test_sse_c_object_tagging_needs_no_key(s3, bucket):
    """AWS's tagging calls take no SSE-C headers: tags are not encrypted content."""
    s3.put_object(Bucket=bucket, Key="sec", Body=b"secret body", Tagging="t=1", **ssec_args())
    assert tags_of(s3, bucket, "sec") == {"t": "1"}
    s3.put_object_tagging(Bucket=bucket, Key="sec", Tagging={"TagSet": tagset({"t": "2"})})
    assert tags_of(s3, bucket, "sec") == {"t": "2"}
    h = s3.head_object(Bucket=bucket, Key="sec", **ssec_args())
    assert hdrs(h)["x-amz-tagging-count"] == "1"
    g = s3.get_object(Bucket=bucket, Key="sec", **ssec_args())
    assert g["Body"].read() == b"secret body"
    assert g["TagCount"] == 1
    s3.delete_object_tagging(Bucket=bucket, Key="sec")
    assert tags_of(s3, bucket, "sec") == {}
    # the object still needs its key to be read
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="sec")
    assert error_of(ei) == (400, "InvalidRequest")
    # copy of an SSE-C source keeps its tags (COPY)
    s3.put_object_tagging(Bucket=bucket, Key="sec", Tagging={"TagSet": tagset({"c": "d"})})
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "sec"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=SSEC_KEY)
    assert tags_of(s3, bucket, "plain") == {"c": "d"}


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

INVALID_KEY = "The TagKey you have provided is invalid"
INVALID_VALUE = "The TagValue you have provided is invalid"

# (tag set, status, code, message, TagKey element)
OBJECT_REFUSALS = [
    ({f"k{i}": "" for i in range(11)}, 400, "BadRequest",
     "Object tags cannot be greater than 10", None),
    ({"k" * 129: "v"}, 400, "InvalidTag", INVALID_KEY, None),
    ({"\U00020000" * 65: "v"}, 400, "InvalidTag", INVALID_KEY, None),  # 130 UTF-16 units
    ({"k": "v" * 257}, 400, "InvalidTag", INVALID_VALUE, "k"),
    ({"aws:cost": "v"}, 400, "InvalidTag", "Your TagKey cannot be prefixed with aws:", "aws:cost"),
] + [({bad: "v"}, 400, "InvalidTag", INVALID_KEY, bad)
     for bad in ("a,b", "a;b", "a?b", "a!b", "a*b", "a#b", "a%b", "a(b)", "a\tb", "\U0001F600",
                 "a&b", "a<b")] + [
    ({"k": bad}, 400, "InvalidTag", INVALID_VALUE, "k")
    for bad in ("a,b", "a;b", "a|b", "\U0001F600", "a\"b")]


@pytest.mark.parametrize("tags,status,code,message,tag_key", OBJECT_REFUSALS)
def test_put_object_tagging_refused(s3, bucket, tags, status, code, message, tag_key):
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep me", Tagging="old=tag")
    with pytest.raises(ClientError) as ei:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(tags)})
    assert err(ei) == (status, code, message, tag_key)
    # a failed PutObjectTagging leaves the tags and the bytes as they were
    assert tags_of(s3, bucket, "k") == {"old": "tag"}
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"keep me"


def test_duplicate_keys_refused(s3, raw, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = tagging_doc([("a", "1"), ("a", "2")])
    r = raw("PUT", f"/{bucket}/k?tagging", body=body, headers=md5_header(body))
    assert r.status == 400, r
    root = r.xml()
    assert root.findtext("Code") == "InvalidTag"
    assert root.findtext("Message") == "Cannot provide multiple Tags with the same key"
    assert root.findtext("TagKey") == "a"
    # an empty key (boto3 refuses to send one)
    body = tagging_doc([("", "1")])
    r = raw("PUT", f"/{bucket}/k?tagging", body=body, headers=md5_header(body))
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidTag"
    assert r.xml().findtext("Message") == INVALID_KEY
    assert tags_of(s3, bucket, "k") == {}


MALFORMED = [
    b"",
    b"<Tagging><TagSet>",
    b"<Tagging></Tagging>",
    b"<Tags><TagSet></TagSet></Tags>",
    b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
    b"<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>",
    b"<Tagging><TagSet/><TagSet/></Tagging>",
    b"not xml at all",
    b'<!DOCTYPE t [<!ENTITY e "x">]><Tagging><TagSet><Tag><Key>&e;</Key>'
    b"<Value>1</Value></Tag></TagSet></Tagging>",
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_tagging_xml(raw, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="old=tag")
    for path in (f"/{bucket}/k?tagging", f"/{bucket}?tagging"):
        r = raw("PUT", path, body=body, headers=md5_header(body))
        assert r.status == 400, (path, r)
        assert r.xml().findtext("Code") == "MalformedXML"
    assert tags_of(s3, bucket, "k") == {"old": "tag"}


def test_bad_content_md5(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = tagging_doc([("a", "1")])
    r = raw("PUT", f"/{bucket}/k?tagging", body=body, headers=md5_header(b"other"))
    assert r.status == 400
    assert r.xml().findtext("Code") == "BadDigest"
    assert tags_of(s3, bucket, "k") == {}


BAD_HEADER = ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
              "parameters without tag name duplicates.")

# (x-amz-tagging, status, code, message)
HEADER_REFUSALS = [
    ("a=1&a=2", 400, "InvalidArgument", BAD_HEADER),
    ("=1", 400, "InvalidArgument", BAD_HEADER),
    ("a=%FF", 400, "InvalidArgument", BAD_HEADER),
    ("a=%zz", 400, "InvalidArgument", BAD_HEADER),
    ("&".join(f"k{i}" for i in range(11)), 400, "BadRequest",
     "Object tags cannot be greater than 10"),
    ("a,b=1", 400, "InvalidTag", INVALID_KEY),
    ("aws:cost=1", 400, "InvalidTag", "Your TagKey cannot be prefixed with aws:"),
    ("k=" + "v" * 257, 400, "InvalidTag", INVALID_VALUE),
    ("k" * 129, 400, "InvalidTag", INVALID_KEY),
]


@pytest.mark.parametrize("header,status,code,message", HEADER_REFUSALS)
def test_put_object_bad_tagging_header(raw, s3, bucket, header, status, code, message):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old body", Tagging="old=tag")
    r = raw("PUT", f"/{bucket}/k", body=b"new body", headers={"x-amz-tagging": header})
    assert r.status == status, r
    root = r.xml()
    assert root.findtext("Code") == code
    assert root.findtext("Message") == message
    if code == "InvalidArgument":
        assert root.findtext("ArgumentName") == "x-amz-tagging"
        assert root.findtext("ArgumentValue") == header
    # the refused PUT changed nothing
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old body"
    assert tags_of(s3, bucket, "k") == {"old": "tag"}


# --------------------------------------------------------------------------
# bucket tagging
# --------------------------------------------------------------------------

def test_bucket_tagging_round_trip(s3, raw, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(ei)[:3] == (404, "NoSuchTagSet", "The TagSet does not exist")
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset(
        {"team": "storage", "cost-center": "42"})})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "storage"}]
    root = raw("GET", f"/{bucket}?tagging").xml()
    assert root.tag == NS + "Tagging"
    # replaced as a whole
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({"x": "y"})})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "x", "Value": "y"}]
    # bucket tags are not object tags
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert tags_of(s3, bucket, "k") == {}
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(ei) == (404, "NoSuchTagSet")
    assert s3.delete_bucket_tagging(Bucket=bucket)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    # an empty set leaves the bucket without one
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset({"x": "y"})})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(ei) == (404, "NoSuchTagSet")


def test_bucket_tagging_limits(s3, bucket):
    fifty = {f"key-{i:02d}": f"value {i}" for i in range(50)}
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset(fifty)})
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    refusals = [
        ({**fifty, "one-more": ""}, (400, "BadRequest",
                                     "Bucket tag count cannot be greater than 50", None)),
        ({"aws:cloudformation:stack": "x"},
         (400, "InvalidTag", "System tags cannot be added/updated by requester",
          "aws:cloudformation:stack")),
        ({"k" * 129: ""}, (400, "InvalidTag", INVALID_KEY, None)),
        ({"k": "v" * 257}, (400, "InvalidTag", INVALID_VALUE, "k")),
        ({"a,b": ""}, (400, "InvalidTag", INVALID_KEY, "a,b")),
    ]
    for tags, want in refusals:
        with pytest.raises(ClientError) as ei:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tagset(tags)})
        assert err(ei) == want, tags
    # the refused calls left the stored set alone
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50


def test_bucket_tagging_missing_bucket(s3, bucket):
    name = bucket + "-nope"
    for call, kw in ((s3.get_bucket_tagging, {}),
                     (s3.put_bucket_tagging, {"Tagging": {"TagSet": tagset({"a": "1"})}}),
                     (s3.delete_bucket_tagging, {})):
        with pytest.raises(ClientError) as ei:
            call(Bucket=name, **kw)
        assert error_of(ei) == (404, "NoSuchBucket")


# --------------------------------------------------------------------------
# aws CLI
# --------------------------------------------------------------------------

def test_aws_cli_object_tagging(aws, s3, bucket, tmp_path):
    f = tmp_path / "body.txt"
    f.write_bytes(b"cli body")
    aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(f),
        "--tagging", "a=1&b=two words")
    out = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k").stdout)
    assert out["TagSet"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "k").stdout)
    assert head.get("TagCount", 2) == 2  # not every CLI version prints it

    aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k", "--tagging",
        json.dumps({"TagSet": [{"Key": "env", "Value": "ci"}]}))
    out = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k").stdout)
    assert out["TagSet"] == [{"Key": "env", "Value": "ci"}]

    p = aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k", "--tagging",
            json.dumps({"TagSet": [{"Key": "aws:x", "Value": "1"}]}), check=False)
    assert p.returncode != 0
    assert "InvalidTag" in p.stderr

    aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "k")
    out = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k").stdout)
    assert out["TagSet"] == []
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"cli body"


def test_aws_cli_bucket_tagging(aws, bucket):
    p = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert p.returncode != 0
    assert "NoSuchTagSet" in p.stderr
    aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging",
        json.dumps({"TagSet": [{"Key": "team", "Value": "storage"}]}))
    out = json.loads(aws("s3api", "get-bucket-tagging", "--bucket", bucket).stdout)
    assert out["TagSet"] == [{"Key": "team", "Value": "storage"}]
    aws("s3api", "delete-bucket-tagging", "--bucket", bucket)
    p = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert "NoSuchTagSet" in p.stderr


def test_aws_cli_copy_with_tagging(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    aws("s3api", "copy-object", "--bucket", bucket, "--key", "dst", "--copy-source",
        f"{bucket}/src", "--tagging-directive", "REPLACE", "--tagging", "b=2")
    assert tags_of(s3, bucket, "dst") == {"b": "2"}
    aws("s3api", "copy-object", "--bucket", bucket, "--key", "dst2", "--copy-source",
        f"{bucket}/src")
    assert tags_of(s3, bucket, "dst2") == {"a": "1"}


# --------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------

def test_tags_survive_restart(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="tagged")
    c.put_object(Bucket="tagged", Key="k", Body=b"x", Tagging="a=1")
    c.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": tagset({"b": "2"})})
    srv.restart()
    c = srv.client()
    assert tags_of(c, "tagged", "k") == {"a": "1"}
    assert c.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "b", "Value": "2"}]


# --------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------

def test_tagging_races_overwrites(server, s3, bucket):
    """PutObjectTagging is a compare-and-swap on the row it read: racing overwrites and other
    tag changes never make it fail or mix an old body into the object."""
    import threading
    s3.put_object(Bucket=bucket, Key="race", Body=b"gen-0", Tagging="gen=0")
    errors = []

    def tagger(n):
        c = server.client()
        for i in range(15):
            try:
                c.put_object_tagging(Bucket=bucket, Key="race",
                                     Tagging={"TagSet": tagset({"tagger": f"{n}-{i}"})})
            except ClientError as e:  # pragma: no cover - reported below
                errors.append(e.response["Error"])

    def writer():
        c = server.client()
        for i in range(1, 16):
            c.put_object(Bucket=bucket, Key="race", Body=f"gen-{i}".encode(), Tagging=f"gen={i}")

    threads = [threading.Thread(target=tagger, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() == b"gen-15"
    tags = tags_of(s3, bucket, "race")
    assert tags == {"gen": "15"} or list(tags) == ["tagger"], tags
