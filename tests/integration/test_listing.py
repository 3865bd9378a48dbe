"""ListObjects (v1) and ListObjectsV2."""

import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_of, etag_of, unique_name


def _fill(s3, bucket, keys, workers=8):
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))


def _ns(root):
    return root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""


ORDER_KEYS = ["a", "a/b", "a0", "ab", "é", "z", "B", "~", "Ａ", "😀"]
BINARY_ORDER = sorted(ORDER_KEYS, key=lambda k: k.encode("utf-8"))


def test_binary_utf8_order(s3, bucket):
    # sanity of the expectation itself: UTF-8 byte order, not code-unit order
    assert BINARY_ORDER == ["B", "a", "a/b", "a0", "ab", "z", "~", "é", "Ａ", "😀"]
    _fill(s3, bucket, ORDER_KEYS)
    v2 = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in v2["Contents"]] == BINARY_ORDER
    assert v2["KeyCount"] == len(ORDER_KEYS)
    assert v2["IsTruncated"] is False
    v1 = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in v1["Contents"]] == BINARY_ORDER
    assert v1["IsTruncated"] is False
    # pagination across the multi-byte keys keeps the order
    got, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=3, **kw)
        got += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert got == BINARY_ORDER
    got, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=bucket, MaxKeys=3, Marker=marker)
        got += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        marker = got[-1]
    assert got == BINARY_ORDER


def test_contents_fields(s3, bucket):
    s3.put_object(Bucket=bucket, Key="f", Body=b"12345")
    for page in (s3.list_objects(Bucket=bucket), s3.list_objects_v2(Bucket=bucket)):
        (o,) = page["Contents"]
        assert o["Key"] == "f"
        assert o["Size"] == 5
        assert o["ETag"] == etag_of(b"12345")
        assert o["StorageClass"] == "STANDARD"
        assert o["LastModified"].tzinfo is not None
    assert s3.list_objects(Bucket=bucket)["Name"] == bucket
    assert s3.list_objects_v2(Bucket=bucket)["Name"] == bucket


TREE = [
    "docs/a", "docs/b/c",
    "photos/2006/feb/sample.jpg", "photos/2006/feb/sample2.jpg",
    "photos/2006/jan/sample.jpg", "photos/summer.jpg",
    "readme.txt",
]


@pytest.fixture
def tree(s3, bucket):
    _fill(s3, bucket, TREE)
    return bucket


def test_delimiter_root(s3, tree):
    for page in (s3.list_objects(Bucket=tree, Delimiter="/"),
                 s3.list_objects_v2(Bucket=tree, Delimiter="/")):
        assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["docs/", "photos/"]
        assert [o["Key"] for o in page["Contents"]] == ["readme.txt"]
        assert page["Delimiter"] == "/"
        assert page["IsTruncated"] is False
    assert s3.list_objects_v2(Bucket=tree, Delimiter="/")["KeyCount"] == 3


def test_prefix_and_delimiter(s3, tree):
    for page in (s3.list_objects(Bucket=tree, Prefix="photos/2006/", Delimiter="/"),
                 s3.list_objects_v2(Bucket=tree, Prefix="photos/2006/", Delimiter="/")):
        assert [p["Prefix"] for p in page["CommonPrefixes"]] == \
            ["photos/2006/feb/", "photos/2006/jan/"]
        assert "Contents" not in page
        assert page["Prefix"] == "photos/2006/"
    page = s3.list_objects_v2(Bucket=tree, Prefix="photos/", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["photos/2006/"]
    assert [o["Key"] for o in page["Contents"]] == ["photos/summer.jpg"]
    assert page["KeyCount"] == 2


def test_prefix_only(s3, tree):
    page = s3.list_objects_v2(Bucket=tree, Prefix="photos/2006/f")
    assert [o["Key"] for o in page["Contents"]] == \
        ["photos/2006/feb/sample.jpg", "photos/2006/feb/sample2.jpg"]
    assert "CommonPrefixes" not in page
    page = s3.list_objects_v2(Bucket=tree, Prefix="nothing-here")
    assert page["KeyCount"] == 0
    assert "Contents" not in page
    assert page["IsTruncated"] is False


def test_non_slash_delimiter(s3, bucket):
    _fill(s3, bucket, ["a-b-c", "a-d", "ab", "x-y"])
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="-")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a-", "x-"]
    assert [o["Key"] for o in page["Contents"]] == ["ab"]
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="-", Prefix="a-")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a-b-"]
    assert [o["Key"] for o in page["Contents"]] == ["a-d"]


def test_v1_pagination_without_delimiter(s3, tree):
    got, marker, pages = [], "", 0
    while True:
        page = s3.list_objects(Bucket=tree, MaxKeys=2, Marker=marker)
        pages += 1
        assert page["MaxKeys"] == 2
        assert page.get("Marker", "") == marker
        keys = [o["Key"] for o in page.get("Contents", [])]
        assert len(keys) <= 2
        got += keys
        # NextMarker is only returned when a delimiter was given
        assert "NextMarker" not in page
        if not page["IsTruncated"]:
            break
        marker = keys[-1]
    assert got == TREE
    assert pages == 4


def test_v1_pagination_with_delimiter(s3, tree):
    got, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=1, Marker=marker)
        items = [p["Prefix"] for p in page.get("CommonPrefixes", [])] + \
                [o["Key"] for o in page.get("Contents", [])]
        assert len(items) == 1
        got += items
        if not page["IsTruncated"]:
            assert "NextMarker" not in page
            break
        assert page["NextMarker"] == items[-1]
        marker = page["NextMarker"]
    assert got == ["docs/", "photos/", "readme.txt"]


def test_v1_marker_inside_tree(s3, tree):
    page = s3.list_objects(Bucket=tree, Marker="photos/2006/feb/sample.jpg")
    assert [o["Key"] for o in page["Contents"]] == TREE[3:]
    page = s3.list_objects(Bucket=tree, Marker="zzz")
    assert "Contents" not in page
    assert page["IsTruncated"] is False


def test_v2_continuation(s3, tree):
    got, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=tree, MaxKeys=3, **kw)
        keys = [o["Key"] for o in page.get("Contents", [])]
        assert page["KeyCount"] == len(keys)
        assert page["MaxKeys"] == 3
        if token:
            assert page["ContinuationToken"] == token
        else:
            assert "ContinuationToken" not in page
        got += keys
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        assert page["NextContinuationToken"]
        token = page["NextContinuationToken"]
    assert got == TREE


def test_v2_continuation_with_delimiter(s3, tree):
    got, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=tree, Delimiter="/", MaxKeys=1, **kw)
        items = [p["Prefix"] for p in page.get("CommonPrefixes", [])] + \
                [o["Key"] for o in page.get("Contents", [])]
        assert page["KeyCount"] == len(items) == 1
        got += items
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert got == ["docs/", "photos/", "readme.txt"]


def test_v2_start_after(s3, tree):
    page = s3.list_objects_v2(Bucket=tree, StartAfter="photos/2006/jan/sample.jpg")
    assert [o["Key"] for o in page["Contents"]] == ["photos/summer.jpg", "readme.txt"]
    assert page["StartAfter"] == "photos/2006/jan/sample.jpg"
    page = s3.list_objects_v2(Bucket=tree, StartAfter="docs/")
    assert [o["Key"] for o in page["Contents"]] == TREE
    page = s3.list_objects_v2(Bucket=tree, StartAfter="docs/a", MaxKeys=1)
    assert [o["Key"] for o in page["Contents"]] == ["docs/b/c"]
    assert page["IsTruncated"] is True
    # a continuation token takes precedence over StartAfter
    page2 = s3.list_objects_v2(Bucket=tree, StartAfter="docs/a", MaxKeys=1,
                               ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page2["Contents"]] == ["photos/2006/feb/sample.jpg"]
    page3 = s3.list_objects_v2(Bucket=tree, StartAfter="readme.txt",
                               ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page3["Contents"]] == TREE[2:]


def test_fetch_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"1")
    (o,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert "Owner" not in o
    (o,) = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert o["Owner"]["ID"]
    (o,) = s3.list_objects_v2(Bucket=bucket, FetchOwner=False)["Contents"]
    assert "Owner" not in o
    (o,) = s3.list_objects(Bucket=bucket)["Contents"]
    assert o["Owner"]["ID"]


ENC_KEYS = ["with space", "café/ü", "a+b", "percent%20", "amp&lt", "日本語 キー"]


def test_encoding_type_url_boto3(s3, bucket):
    # boto3 asks for encoding-type=url and decodes; keys must come back intact
    _fill(s3, bucket, ENC_KEYS)
    expected = sorted(ENC_KEYS, key=lambda k: k.encode())
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == expected
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="caf")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["café/"]
    assert page["Prefix"] == "caf"
    page = s3.list_objects_v2(Bucket=bucket, StartAfter="café/ü")
    assert page["StartAfter"] == "café/ü"
    assert [o["Key"] for o in page["Contents"]] == expected[expected.index("café/ü") + 1:]


@pytest.mark.parametrize("query", ["list-type=2&encoding-type=url", "encoding-type=url"])
def test_encoding_type_url_raw(raw, s3, bucket, query):
    _fill(s3, bucket, ENC_KEYS)
    r = raw("GET", f"/{bucket}?{query}")
    assert r.status == 200, r
    root = r.xml()
    ns = _ns(root)
    assert root.findtext(f"{ns}EncodingType") == "url"
    raw_keys = [c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")]
    for k in raw_keys:
        assert " " not in k and k.isascii(), k
    assert sorted(urllib.parse.unquote_plus(k) for k in raw_keys) == sorted(ENC_KEYS)


def test_no_encoding_type_raw(raw, s3, bucket):
    _fill(s3, bucket, ENC_KEYS)
    r = raw("GET", f"/{bucket}?list-type=2")
    root = r.xml()
    ns = _ns(root)
    assert root.find(f"{ns}EncodingType") is None
    assert sorted(c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")) == \
        sorted(ENC_KEYS)


def test_invalid_encoding_type(raw, bucket):
    r = raw("GET", f"/{bucket}?list-type=2&encoding-type=base64")
    assert r.status == 400
    assert r.xml().findtext("Code") == "InvalidArgument"


def test_max_keys_zero(s3, tree):
    page = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert page["KeyCount"] == 0
    assert "Contents" not in page
    assert page["IsTruncated"] is False
    assert page["MaxKeys"] == 0
    page = s3.list_objects(Bucket=tree, MaxKeys=0)
    assert "Contents" not in page
    assert page["IsTruncated"] is False


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_invalid_max_keys(raw, bucket, value):
    for q in (f"list-type=2&max-keys={value}", f"max-keys={value}"):
        r = raw("GET", f"/{bucket}?{q}")
        assert r.status == 400, (q, r)
        assert r.xml().findtext("Code") == "InvalidArgument"


@pytest.mark.parametrize("token", ["not-a-token", "AAAA", "%%%"])
def test_invalid_continuation_token(s3, tree, token):
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=tree, ContinuationToken=token)
    assert error_of(ei) == (400, "InvalidArgument")


def test_list_missing_bucket(s3):
    name = unique_name("nob")
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=name)
    assert error_of(ei) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as ei:
        s3.list_objects(Bucket=name)
    assert error_of(ei) == (404, "NoSuchBucket")


def test_list_raw_v2_document(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    r = raw("GET", f"/{bucket}?list-type=2&prefix=&max-keys=7")
    assert r.status == 200
    assert r.header("Content-Type", "").startswith("application/xml")
    root = r.xml()
    ns = _ns(root)
    assert root.tag == f"{ns}ListBucketResult"
    assert root.findtext(f"{ns}Name") == bucket
    assert root.findtext(f"{ns}KeyCount") == "1"
    assert root.findtext(f"{ns}MaxKeys") == "7"
    assert root.findtext(f"{ns}IsTruncated") == "false"


# ---------------------------------------------------------------- many keys

MANY = 3005


@pytest.fixture(scope="module")
def many(s3):
    bucket = unique_name("many")
    s3.create_bucket(Bucket=bucket)
    keys = [f"dir{i % 7}/key-{i:05d}" for i in range(MANY)]
    _fill(s3, bucket, keys, workers=16)
    yield bucket, sorted(keys)
    empty_and_delete(s3, bucket)


def test_many_keys_v1_paginator(s3, many):
    bucket, keys = many
    got, pages = [], 0
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket):
        pages += 1
        got += [o["Key"] for o in page.get("Contents", [])]
        assert len(page.get("Contents", [])) <= 1000
    assert got == keys
    assert pages == 4


def test_many_keys_v2_paginator(s3, many):
    bucket, keys = many
    got, pages = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        pages += 1
        assert page["KeyCount"] == len(page.get("Contents", []))
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == keys
    assert pages == 4


def test_many_keys_small_pages(s3, many):
    bucket, keys = many
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 333}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == keys
    got = []
    for page in s3.get_paginator("list_objects").paginate(
            Bucket=bucket, Prefix="dir3/", PaginationConfig={"PageSize": 100}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == [k for k in keys if k.startswith("dir3/")]


def test_many_keys_delimiter(s3, many):
    bucket, keys = many
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [f"dir{i}/" for i in range(7)]
    assert page["KeyCount"] == 7
    assert page["IsTruncated"] is False


def test_max_keys_capped_at_1000(s3, many):
    bucket, keys = many
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert len(page["Contents"]) == 1000
    assert page["IsTruncated"] is True
    assert [o["Key"] for o in page["Contents"]] == keys[:1000]
