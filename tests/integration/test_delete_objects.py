"""DeleteObjects (multi-object delete)."""

import base64
import hashlib
import xml.sax.saxutils

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, unique_name


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_delete_several_some_missing(s3, bucket):
    present = ["a", "b/c", "d e", "ü"]
    for k in present:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")
    targets = present + ["missing-1", "missing/2"]
    r = s3.delete_objects(Bucket=bucket,
                          Delete={"Objects": [{"Key": k} for k in targets]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(targets)
    assert not r.get("Errors")
    assert _keys(s3, bucket) == ["keep"]
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"keep"


def test_delete_quiet(s3, bucket):
    for k in ("q1", "q2", "q3"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "q1"}, {"Key": "q2"}, {"Key": "nope"}], "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in r
    assert not r.get("Errors")
    assert _keys(s3, bucket) == ["q3"]


def test_delete_1000_keys(s3, bucket):
    from concurrent.futures import ThreadPoolExecutor
    real = [f"k{i:04d}" for i in range(0, 1000, 10)]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"."), real))
    keys = [f"k{i:04d}" for i in range(1000)]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(r["Deleted"]) == 1000
    assert sorted(d["Key"] for d in r["Deleted"]) == keys
    assert _keys(s3, bucket) == []


def test_delete_1001_keys_malformed(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k0000", Body=b".")
    keys = [f"k{i:04d}" for i in range(1001)]
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert error_of(ei) == (400, "MalformedXML")
    assert _keys(s3, bucket) == ["k0000"]


def _md5(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


@pytest.mark.parametrize("body", [
    b"not xml at all",
    b"<Delete><Object><Key>a</Key></Object>",
    b"<Delete></Delete>",
    b"<Delete><Object></Object></Delete>",
])
def test_delete_malformed_body(raw, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    r = raw("POST", f"/{bucket}?delete", body=body, headers={"Content-MD5": _md5(body)})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "MalformedXML"
    assert _keys(s3, bucket) == ["a"]


def test_delete_raw_xml_response(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a&b", Body=b"x")
    body = ("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            f"<Object><Key>{xml.sax.saxutils.escape('a&b')}</Key></Object>"
            "<Object><Key>zz</Key></Object></Delete>").encode()
    r = raw("POST", f"/{bucket}?delete", body=body, headers={"Content-MD5": _md5(body)})
    assert r.status == 200, r
    root = r.xml()
    assert root.tag.endswith("DeleteResult")
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    keys = sorted(d.findtext(f"{ns}Key") for d in root.findall(f"{ns}Deleted"))
    assert keys == ["a&b", "zz"]
    assert _keys(s3, bucket) == []


def test_delete_objects_missing_bucket(s3):
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket=unique_name("nob"), Delete={"Objects": [{"Key": "a"}]})
    assert error_of(ei) == (404, "NoSuchBucket")
