"""Path-style and virtual-hosted-style addressing."""

import os

import pytest

from conftest import empty_and_delete, etag_of, unique_name

VHOST_PATTERNS = [
    "{b}.s3.localhost.localstack.cloud:{port}",
    "{b}.s3.localhost.localstack.cloud",
    "{b}.s3.amazonaws.com",
    "{b}.s3.us-east-1.amazonaws.com",
    "{b}.s3.eu-west-1.amazonaws.com",
    "{b}.localhost:{port}",
    "{b}.localhost",
]

PATH_HOSTS = [
    "s3.localhost.localstack.cloud:{port}",
    "localhost.localstack.cloud:{port}",
    "localhost:{port}",
    "127.0.0.1:{port}",
    "s3.amazonaws.com",
    "s3.us-east-1.amazonaws.com",
]


def _ns(root):
    return root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""


@pytest.mark.parametrize("pattern", VHOST_PATTERNS)
def test_virtual_host(server, s3, raw, pattern):
    b = unique_name("vh")
    s3.create_bucket(Bucket=b)
    try:
        host = pattern.format(b=b, port=server.port)
        data = os.urandom(70000)
        r = raw("PUT", "/dir/obj.bin", host=host, body=data)
        assert r.status == 200, (host, r)
        assert r.header("ETag") == etag_of(data)
        # visible through path style
        assert s3.get_object(Bucket=b, Key="dir/obj.bin")["Body"].read() == data
        # GET through the virtual host
        r = raw("GET", "/dir/obj.bin", host=host)
        assert r.status == 200
        assert r.body == data
        # list the bucket (v1 and v2)
        for q in ("/", "/?list-type=2"):
            r = raw("GET", q, host=host)
            assert r.status == 200, (host, q, r)
            root = r.xml()
            ns = _ns(root)
            assert root.tag == f"{ns}ListBucketResult", r
            assert root.findtext(f"{ns}Name") == b
            keys = [c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")]
            assert keys == ["dir/obj.bin"]
        r = raw("HEAD", "/", host=host)
        assert r.status == 200
        r = raw("GET", "/missing", host=host)
        assert r.status == 404
        assert r.xml().findtext("Code") == "NoSuchKey"
        r = raw("DELETE", "/dir/obj.bin", host=host)
        assert r.status == 204
        assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    finally:
        empty_and_delete(s3, b)


def test_virtual_host_create_and_delete_bucket(server, s3, raw):
    b = unique_name("vhc")
    host = f"{b}.s3.localhost.localstack.cloud:{server.port}"
    try:
        r = raw("PUT", "/", host=host)
        assert r.status == 200, r
        assert s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200
        r = raw("DELETE", "/", host=host)
        assert r.status == 204
        assert raw("HEAD", f"/{b}").status == 404
    finally:
        empty_and_delete(s3, b)


def test_virtual_host_missing_bucket(server, raw):
    host = f"{unique_name('nob')}.s3.localhost.localstack.cloud:{server.port}"
    r = raw("GET", "/k", host=host)
    assert r.status == 404
    assert r.xml().findtext("Code") == "NoSuchBucket"


def test_virtual_host_dotted_bucket(server, s3, raw):
    b = unique_name("dot") + ".with.dots"
    s3.create_bucket(Bucket=b)
    try:
        host = f"{b}.s3.amazonaws.com"
        r = raw("PUT", "/k", host=host, body=b"dotted")
        assert r.status == 200, r
        assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"dotted"
    finally:
        empty_and_delete(s3, b)


@pytest.mark.parametrize("pattern", PATH_HOSTS)
def test_path_style_hosts(server, s3, raw, bucket, pattern):
    host = pattern.format(port=server.port)
    r = raw("PUT", f"/{bucket}/p/k", host=host, body=b"path style")
    assert r.status == 200, (host, r)
    r = raw("GET", f"/{bucket}/p/k", host=host)
    assert r.status == 200
    assert r.body == b"path style"
    r = raw("GET", f"/{bucket}?list-type=2", host=host)
    root = r.xml()
    ns = _ns(root)
    assert root.findtext(f"{ns}Name") == bucket
    r = raw("GET", "/", host=host)
    assert r.status == 200
    assert r.xml().tag.endswith("ListAllMyBucketsResult")


def test_boto3_virtual_addressing(s3_vhost, s3):
    b = unique_name("bv")
    urls = []
    s3_vhost.meta.events.register("before-send", lambda request, **kw: urls.append(request.url))
    s3_vhost.create_bucket(Bucket=b)
    assert urls[-1].startswith(f"http://{b}.s3.localhost.localstack.cloud:"), urls
    try:
        p = s3_vhost.put_object(Bucket=b, Key="x/y z", Body=b"virtual")
        assert p["ResponseMetadata"]["HTTPStatusCode"] == 200
        g = s3_vhost.get_object(Bucket=b, Key="x/y z")
        assert g["Body"].read() == b"virtual"
        assert g["ServerSideEncryption"] == "AES256"
        keys = [o["Key"] for o in s3_vhost.list_objects_v2(Bucket=b)["Contents"]]
        assert keys == ["x/y z"]
        assert s3.get_object(Bucket=b, Key="x/y z")["Body"].read() == b"virtual"
        s3_vhost.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "x/y z"})
        assert s3_vhost.get_object(Bucket=b, Key="copy")["Body"].read() == b"virtual"
        r = s3_vhost.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "x/y z"},
                                                                  {"Key": "copy"}]})
        assert len(r["Deleted"]) == 2
        s3_vhost.delete_bucket(Bucket=b)
        assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    finally:
        empty_and_delete(s3, b)


def test_path_style_trailing_slash_is_bucket(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    r = raw("GET", f"/{bucket}/")
    assert r.status == 200, r
    root = r.xml()
    ns = _ns(root)
    assert root.tag == f"{ns}ListBucketResult"
    assert [c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")] == ["k"]
