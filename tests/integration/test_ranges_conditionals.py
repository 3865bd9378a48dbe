"""Range GETs (across 64 KiB segment boundaries), conditional requests and
response-* overrides."""

import datetime
import email.utils
import os
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, error_of, etag_of, unique_name

SEG = 64 * 1024
SIZE = 300 * 1024


@pytest.fixture(scope="module")
def big(s3):
    bucket = unique_name("rng")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    yield bucket, "big", data
    empty_and_delete(s3, bucket)


def http_date(dt):
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


# first-last, inclusive; None = open
RANGES = [
    ("bytes=0-0", 0, 0),
    ("bytes=0-99", 0, 99),
    ("bytes=100-", 100, SIZE - 1),
    ("bytes=-100", SIZE - 100, SIZE - 1),
    ("bytes=0-65535", 0, SEG - 1),
    ("bytes=0-65536", 0, SEG),
    ("bytes=65535-65535", SEG - 1, SEG - 1),
    ("bytes=65536-65536", SEG, SEG),
    ("bytes=65537-65537", SEG + 1, SEG + 1),
    ("bytes=65535-65536", SEG - 1, SEG),
    ("bytes=65535-131072", SEG - 1, 2 * SEG),
    ("bytes=65536-131071", SEG, 2 * SEG - 1),
    ("bytes=65537-131073", SEG + 1, 2 * SEG + 1),
    ("bytes=131071-196609", 2 * SEG - 1, 3 * SEG + 1),
    ("bytes=196607-262144", 3 * SEG - 1, 4 * SEG),
    ("bytes=262143-", 4 * SEG - 1, SIZE - 1),
    ("bytes=262144-262144", 4 * SEG, 4 * SEG),
    ("bytes=1-307198", 1, SIZE - 2),
    ("bytes=0-307199", 0, SIZE - 1),
    ("bytes=307199-307199", SIZE - 1, SIZE - 1),
    ("bytes=307199-", SIZE - 1, SIZE - 1),
    ("bytes=300000-999999", 300000, SIZE - 1),      # last beyond end: clamped
    ("bytes=-1", SIZE - 1, SIZE - 1),
    ("bytes=-65537", SIZE - 65537, SIZE - 1),
    ("bytes=-400000", 0, SIZE - 1),                  # suffix longer than object
]


@pytest.mark.parametrize("rng,first,last", RANGES, ids=[r[0] for r in RANGES])
def test_range_get(s3, big, rng, first, last):
    bucket, key, data = big
    g = s3.get_object(Bucket=bucket, Key=key, Range=rng)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == f"bytes {first}-{last}/{SIZE}"
    assert g["ContentLength"] == last - first + 1
    body = g["Body"].read()
    assert body == data[first:last + 1]
    assert g["ETag"] == etag_of(data)
    assert g["AcceptRanges"] == "bytes"


def test_range_raw_headers(raw, big):
    bucket, key, data = big
    r = raw("GET", f"/{bucket}/{key}", headers={"Range": "bytes=65530-65545"})
    assert r.status == 206
    assert r.header("Content-Range") == f"bytes 65530-65545/{SIZE}"
    assert r.header("Content-Length") == "16"
    assert r.body == data[65530:65546]
    assert r.header("x-amz-server-side-encryption") == "AES256"


def test_range_on_small_and_empty_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    g = s3.get_object(Bucket=bucket, Key="small", Range="bytes=2-5")
    assert g["Body"].read() == b"2345"
    assert g["ContentRange"] == "bytes 2-5/10"
    g = s3.get_object(Bucket=bucket, Key="small", Range="bytes=-3")
    assert g["Body"].read() == b"789"
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="small", Range="bytes=10-")
    assert error_of(ei) == (416, "InvalidRange")


@pytest.mark.parametrize("rng", [
    f"bytes={SIZE}-",
    f"bytes={SIZE}-{SIZE + 10}",
    "bytes=400000-500000",
    "bytes=-0",
])
def test_range_unsatisfiable(s3, raw, big, rng):
    bucket, key, _ = big
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, Range=rng)
    assert error_of(ei) == (416, "InvalidRange")
    r = raw("GET", f"/{bucket}/{key}", headers={"Range": rng})
    assert r.status == 416
    assert r.xml().findtext("Code") == "InvalidRange"


@pytest.mark.parametrize("rng", [
    "bytes=abc",
    "bytes=5-2",
    "items=0-10",
    "bytes=--5",
    "bytes=1-2-3",
])
def test_range_invalid_syntax_returns_whole(s3, big, rng):
    bucket, key, data = big
    g = s3.get_object(Bucket=bucket, Key=key, Range=rng)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in g
    assert g["ContentLength"] == SIZE
    assert g["Body"].read() == data


def test_head_with_range(s3, big):
    bucket, key, _ = big
    h = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert h["ContentLength"] == 10
    # (botocore 1.29's HeadObjectOutput has no ContentRange member: read the header)
    assert h["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes 10-19/{SIZE}"


# ---------------------------------------------------------------- conditionals

@pytest.fixture
def cobj(s3, bucket):
    data = b"conditional body"
    s3.put_object(Bucket=bucket, Key="c", Body=data)
    h = s3.head_object(Bucket=bucket, Key="c")
    return bucket, "c", data, h["ETag"], h["LastModified"]


def _get(s3, bucket, key, **kw):
    try:
        g = s3.get_object(Bucket=bucket, Key=key, **kw)
        g["Body"].read()
        return g["ResponseMetadata"]["HTTPStatusCode"], None
    except ClientError as e:
        return error_of(e)


def test_if_match(s3, cobj):
    bucket, key, data, etag, lm = cobj
    assert _get(s3, bucket, key, IfMatch=etag)[0] == 200
    assert _get(s3, bucket, key, IfMatch=etag.strip('"'))[0] == 200
    assert _get(s3, bucket, key, IfMatch='"00000000000000000000000000000000"') == \
        (412, "PreconditionFailed")


def test_if_none_match(s3, cobj):
    bucket, key, data, etag, lm = cobj
    assert _get(s3, bucket, key, IfNoneMatch=etag)[0] == 304
    assert _get(s3, bucket, key, IfNoneMatch='"00000000000000000000000000000000"')[0] == 200


def test_if_modified_since(s3, cobj):
    bucket, key, data, etag, lm = cobj
    day = datetime.timedelta(days=1)
    assert _get(s3, bucket, key, IfModifiedSince=lm - day)[0] == 200
    assert _get(s3, bucket, key, IfModifiedSince=lm)[0] == 304


def test_if_unmodified_since(s3, cobj):
    bucket, key, data, etag, lm = cobj
    day = datetime.timedelta(days=1)
    assert _get(s3, bucket, key, IfUnmodifiedSince=lm)[0] == 200
    assert _get(s3, bucket, key, IfUnmodifiedSince=lm + day)[0] == 200
    assert _get(s3, bucket, key, IfUnmodifiedSince=lm - day) == (412, "PreconditionFailed")


def test_precedence_if_match_true_beats_if_unmodified_since_false(s3, cobj):
    bucket, key, data, etag, lm = cobj
    day = datetime.timedelta(days=1)
    assert _get(s3, bucket, key, IfMatch=etag, IfUnmodifiedSince=lm - day)[0] == 200


def test_precedence_if_match_false_with_if_unmodified_since_true(s3, cobj):
    bucket, key, data, etag, lm = cobj
    day = datetime.timedelta(days=1)
    assert _get(s3, bucket, key, IfMatch='"0123"', IfUnmodifiedSince=lm + day) == \
        (412, "PreconditionFailed")


def test_precedence_if_none_match_false_and_if_modified_since_true(s3, cobj):
    bucket, key, data, etag, lm = cobj
    day = datetime.timedelta(days=1)
    assert _get(s3, bucket, key, IfNoneMatch=etag, IfModifiedSince=lm - day)[0] == 304


def test_conditional_raw_304_412(raw, cobj):
    bucket, key, data, etag, lm = cobj
    r = raw("GET", f"/{bucket}/{key}", headers={"If-None-Match": etag})
    assert r.status == 304
    assert r.body == b""
    assert r.header("ETag") == etag
    r = raw("GET", f"/{bucket}/{key}", headers={"If-Modified-Since": http_date(lm)})
    assert r.status == 304
    r = raw("GET", f"/{bucket}/{key}", headers={"If-Match": '"nope"'})
    assert r.status == 412
    assert r.xml().findtext("Code") == "PreconditionFailed"
    assert data not in r.body


def test_conditional_head(s3, cobj):
    bucket, key, data, etag, lm = cobj
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, IfMatch='"nope"')
    assert error_of(ei)[0] == 412
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key, IfNoneMatch=etag)
    assert error_of(ei)[0] == 304
    assert s3.head_object(Bucket=bucket, Key=key, IfMatch=etag)["ETag"] == etag


def test_conditional_with_range(s3, cobj):
    bucket, key, data, etag, lm = cobj
    g = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, Range="bytes=0-3")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == data[:4]
    assert _get(s3, bucket, key, IfMatch='"x"', Range="bytes=0-3") == (412, "PreconditionFailed")


def test_conditional_missing_key_is_404(s3, bucket):
    assert _get(s3, bucket, "nokey", IfMatch='"x"') == (404, "NoSuchKey")


# ---------------------------------------------------------------- response-*

OVERRIDES = {
    "response-content-type": ("Content-Type", "text/x-override"),
    "response-content-disposition": ("Content-Disposition", 'attachment; filename="dl.bin"'),
    "response-cache-control": ("Cache-Control", "no-cache, no-store"),
    "response-expires": ("Expires", "Thu, 01 Dec 2044 16:00:00 GMT"),
    "response-content-language": ("Content-Language", "de-CH"),
    "response-content-encoding": ("Content-Encoding", "x-override-enc"),
}


def _override_obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"override me",
                  ContentType="text/plain", CacheControl="max-age=1",
                  ContentLanguage="en", ContentDisposition="inline")
    return "o"


@pytest.mark.parametrize("param", sorted(OVERRIDES))
def test_response_override_single(raw, s3, bucket, param):
    key = _override_obj(s3, bucket)
    header, value = OVERRIDES[param]
    q = urllib.parse.urlencode({param: value}, quote_via=urllib.parse.quote)
    r = raw("GET", f"/{bucket}/{key}?{q}")
    assert r.status == 200
    assert r.header(header) == value
    assert r.body == b"override me"


def test_response_overrides_all_boto3(s3, bucket):
    key = _override_obj(s3, bucket)
    expires = datetime.datetime(2044, 12, 1, 16, 0, 0, tzinfo=datetime.timezone.utc)
    g = s3.get_object(
        Bucket=bucket, Key=key,
        ResponseContentType="application/x-custom",
        ResponseContentDisposition='attachment; filename="x.txt"',
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="x-enc",
        ResponseExpires=expires)
    assert g["ContentType"] == "application/x-custom"
    assert g["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert g["CacheControl"] == "no-cache"
    assert g["ContentLanguage"] == "fr"
    assert g["ContentEncoding"] == "x-enc"
    assert g["Expires"] == expires
    assert g["Body"].read() == b"override me"
    # stored metadata unchanged
    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["ContentType"] == "text/plain"
    assert h["CacheControl"] == "max-age=1"
    assert h["ContentLanguage"] == "en"
    assert h["ContentDisposition"] == "inline"
