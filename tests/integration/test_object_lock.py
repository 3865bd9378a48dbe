"""S3 Object Lock: bucket configuration, per-version retention and legal hold, what they refuse
(deletes, shortening, versioning suspension) in every SSE mode, the governance bypass and its
permission, multipart uploads under a default retention, DeleteObjects, and the admin side
(fsck, root key rewrap and retirement) leaving locked versions alone. boto3, the aws CLI and
raw signed requests."""

import base64
import datetime
import hashlib
import json
import os
import subprocess
import time
import zlib

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, server_env, unique_name

UTC = datetime.timezone.utc
LOCKED_MSG = "Access Denied because object protected by object lock."


def future(days=1, seconds=0):
    return (datetime.datetime.now(UTC) + datetime.timedelta(days=days, seconds=seconds)).replace(
        microsecond=0)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*a, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


def lock_bucket(s3, **cfg):
    b = unique_name("lk")
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    if cfg:
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": cfg}})
    return b


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


SSEC_KEY = os.urandom(32)
SSE_MODES = {
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "aws:kms"}, {}),
    "sse-c": ({"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY},
              {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}),
}


# ---- bucket configuration ----------------------------------------------------------------------

def test_create_bucket_with_lock_turns_versioning_on_for_good(s3):
    b = lock_bucket(s3)
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    st, code, msg = err(s3.put_bucket_versioning, Bucket=b,
                        VersioningConfiguration={"Status": "Suspended"})
    assert (st, code) == (409, "InvalidBucketState")
    assert msg == ("An Object Lock configuration is present on this bucket, so the versioning "
                   "state cannot be changed.")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"


def test_bucket_without_lock(s3, bucket):
    st, code, msg = err(s3.get_object_lock_configuration, Bucket=bucket)
    assert (st, code) == (404, "ObjectLockConfigurationNotFoundError")
    assert msg == "Object Lock configuration does not exist for this bucket"
    assert err(s3.get_object_lock_configuration, Bucket=unique_name("none"))[:2] == (
        404, "NoSuchBucket")
    # an unversioned bucket cannot take Object Lock
    st, code, msg = err(s3.put_object_lock_configuration, Bucket=bucket,
                        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert (st, code) == (409, "InvalidBucketState")
    assert msg == "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
    # suspending versioning stays possible without Object Lock
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    # lock headers on a bucket without Object Lock
    st, code, msg = err(s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())
    assert (st, code, msg) == (400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration")
    # the missing configuration is named before a bad value (AWS)
    st, code, msg = err(s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                        ObjectLockLegalHoldStatus="MAYBE")
    assert (st, code, msg) == (400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration")
    st, code, msg = err(s3.create_multipart_upload, Bucket=bucket, Key="k",
                        ObjectLockLegalHoldStatus="ON")
    assert (st, code, msg) == (400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for call in (lambda: s3.get_object_retention(Bucket=bucket, Key="k"),
                 lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),
                 lambda: s3.put_object_legal_hold(Bucket=bucket, Key="k",
                                                  LegalHold={"Status": "ON"})):
        st, code, msg = err(call)
        assert (st, code, msg) == (400, "InvalidRequest",
                                   "Bucket is missing Object Lock Configuration")


def test_enable_on_existing_versioned_bucket(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="before", Body=b"old")
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 2}}})
    got = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert got == {"ObjectLockEnabled": "Enabled",
                   "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 2}}}
    assert err(s3.put_bucket_versioning, Bucket=bucket,
               VersioningConfiguration={"Status": "Suspended"})[:2] == (409, "InvalidBucketState")
    # the default applies to new versions only
    assert err(s3.get_object_retention, Bucket=bucket, Key="before")[:2] == (
        404, "NoSuchObjectLockConfiguration")
    s3.put_object(Bucket=bucket, Key="after", Body=b"new")
    r = s3.get_object_retention(Bucket=bucket, Key="after")["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    want = datetime.datetime.now(UTC) + datetime.timedelta(days=730)
    assert abs((r["RetainUntilDate"] - want).total_seconds()) < 60
    # replacing the rule with none removes the default
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled"})
    assert "Rule" not in s3.get_object_lock_configuration(
        Bucket=bucket)["ObjectLockConfiguration"]
    s3.put_object(Bucket=bucket, Key="later", Body=b"x")
    assert err(s3.get_object_retention, Bucket=bucket, Key="later")[:2] == (
        404, "NoSuchObjectLockConfiguration")
    s3.put_object_retention(Bucket=bucket, Key="after", BypassGovernanceRetention=True,
                            Retention={})


def _cfg(body):
    return ("<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + body + "</ObjectLockConfiguration>").encode()


RULE = "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>{}" \
       "</DefaultRetention></Rule>"


@pytest.mark.parametrize("body,status,code,msg", [
    (_cfg(RULE.format("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")), 400,
     "MalformedXML", None),
    (_cfg(RULE.format("<Mode>GOVERNANCE</Mode>")), 400, "MalformedXML", None),
    (_cfg(RULE.format("<Days>1</Days>")), 400, "MalformedXML", None),
    (_cfg(RULE.format("<Mode>FOREVER</Mode><Days>1</Days>")), 400, "MalformedXML", None),
    (_cfg(RULE.format("<Mode>governance</Mode><Days>1</Days>")), 400, "MalformedXML", None),
    (_cfg(RULE.format("<Mode>GOVERNANCE</Mode><Days>abc</Days>")), 400, "MalformedXML", None),
    (_cfg(RULE.format("<Mode>GOVERNANCE</Mode><Days>0</Days>")), 400, "InvalidArgument",
     "Default retention period must be a positive integer value"),
    (_cfg(RULE.format("<Mode>COMPLIANCE</Mode><Years>-1</Years>")), 400, "InvalidArgument",
     "Default retention period must be a positive integer value"),
    (_cfg(RULE.format("<Mode>COMPLIANCE</Mode><Years>101</Years>")), 400, "InvalidArgument",
     "Default retention period is too large."),
    (_cfg("<ObjectLockEnabled>Disabled</ObjectLockEnabled>"), 400, "MalformedXML", None),
    (_cfg(""), 400, "MalformedXML", None),
    (_cfg("<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention>"
          "</Rule>"), 400, "MalformedXML", None),
    (_cfg("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule></Rule>"), 400, "MalformedXML",
     None),
    (b"<Other/>", 400, "MalformedXML", None),
    (b"not xml", 400, "MalformedXML", None),
    (b"", 400, "MalformedXML", None),
])
def test_lock_configuration_validation(s3, raw, body, status, code, msg):
    b = lock_bucket(s3)
    r = raw("PUT", f"/{b}?object-lock", body=body, headers={"Content-MD5": md5_b64(body)})
    assert r.status == status, r
    assert r.xml().findtext("Code") == code, r
    if msg is not None:
        assert r.xml().findtext("Message") == msg, r
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}


@pytest.mark.parametrize("path,body", [
    ("", _cfg("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")),
    ("k?retention", b"<Retention/>"),
    ("k?legal-hold", b"<LegalHold><Status>ON</Status></LegalHold>"),
])
def test_lock_bodies_check_content_md5(s3, raw, path, body):
    b = lock_bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    url = f"/{b}/{path}" if path else f"/{b}?object-lock"
    r = raw("PUT", url, body=body, headers={"Content-MD5": md5_b64(body + b" ")})
    assert r.status == 400 and r.xml().findtext("Code") == "BadDigest", r
    r = raw("PUT", url, body=body, headers={"Content-MD5": "not-md5"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidDigest", r
    assert "ObjectLockLegalHoldStatus" not in s3.head_object(Bucket=b, Key="k")
    r = raw("PUT", url, body=body, headers={"Content-MD5": md5_b64(body)})
    assert r.status == 200, r


def test_lock_routes_refuse_other_methods(s3, raw):
    b = lock_bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    for path in (f"/{b}?object-lock", f"/{b}/k?retention", f"/{b}/k?legal-hold"):
        r = raw("DELETE", path)
        assert r.status == 405, r
        assert r.xml().findtext("Code") == "MethodNotAllowed"


# ---- per version, in every SSE mode ------------------------------------------------------------

def _put(s3, b, key, body, sse, **lock):
    return s3.put_object(Bucket=b, Key=key, Body=body, **SSE_MODES[sse][0], **lock)["VersionId"]


def _read(s3, b, key, sse, vid=None):
    kw = {"VersionId": vid} if vid else {}
    return s3.get_object(Bucket=b, Key=key, **SSE_MODES[sse][1], **kw)


@pytest.mark.parametrize("sse", sorted(SSE_MODES))
@pytest.mark.parametrize("lock", ["GOVERNANCE", "COMPLIANCE", "LEGAL_HOLD"])
def test_locked_version_survives_deletes_and_overwrites(s3, sse, lock):
    b = lock_bucket(s3)
    until = future(days=2)
    kw = ({"ObjectLockLegalHoldStatus": "ON"} if lock == "LEGAL_HOLD" else
          {"ObjectLockMode": lock, "ObjectLockRetainUntilDate": until})
    body = os.urandom(70000)
    vid = _put(s3, b, "k", body, sse, **kw)
    # HEAD and GET report the lock
    g = _read(s3, b, "k", sse)
    assert g["Body"].read() == body
    h = s3.head_object(Bucket=b, Key="k", **SSE_MODES[sse][1])
    for resp in (g, h):
        if lock == "LEGAL_HOLD":
            assert resp["ObjectLockLegalHoldStatus"] == "ON"
            assert "ObjectLockMode" not in resp
        else:
            assert resp["ObjectLockMode"] == lock
            assert resp["ObjectLockRetainUntilDate"] == until
            assert "ObjectLockLegalHoldStatus" not in resp
    # the lock is read and set without the SSE-C key (AWS)
    if lock == "LEGAL_HOLD":
        assert s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"] == {"Status": "ON"}
    else:
        assert s3.get_object_retention(Bucket=b, Key="k", VersionId=vid)["Retention"] == {
            "Mode": lock, "RetainUntilDate": until}
    # deleting the version is refused, with or without the bypass header
    for bypass in (False, True):
        extra = {"BypassGovernanceRetention": True} if bypass else {}
        if lock == "GOVERNANCE" and bypass:
            continue
        st, code, msg = err(s3.delete_object, Bucket=b, Key="k", VersionId=vid, **extra)
        assert (st, code, msg) == (403, "AccessDenied", LOCKED_MSG)
    # a plain DELETE adds a delete marker; the version stays
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True
    assert _read(s3, b, "k", sse, vid)["Body"].read() == body
    # an overwrite is a new version; so is a copy onto the same key
    vid2 = _put(s3, b, "k", b"second", sse)
    assert vid2 != vid
    src = {"Bucket": b, "Key": "k", "VersionId": vid}
    cp_extra = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": SSEC_KEY}
    c = s3.copy_object(Bucket=b, Key="k", CopySource=src, MetadataDirective="REPLACE",
                       Metadata={"x": "y"}, **SSE_MODES[sse][0],
                       **(cp_extra if sse == "sse-c" else {}))
    assert c["VersionId"] not in (vid, vid2)
    assert _read(s3, b, "k", sse, vid)["Body"].read() == body
    assert _read(s3, b, "k", sse)["Body"].read() == body   # the copy
    # the copy does not inherit the source's lock
    assert "ObjectLockMode" not in _read(s3, b, "k", sse)
    # unlocking: governance with the bypass, a legal hold by lifting it; compliance never
    if lock == "GOVERNANCE":
        s3.delete_object(Bucket=b, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    elif lock == "LEGAL_HOLD":
        s3.put_object_legal_hold(Bucket=b, Key="k", VersionId=vid, LegalHold={"Status": "OFF"})
        assert s3.get_object_legal_hold(Bucket=b, Key="k", VersionId=vid)["LegalHold"] == {
            "Status": "OFF"}
        s3.delete_object(Bucket=b, Key="k", VersionId=vid)
    else:
        assert err(s3.put_object_retention, Bucket=b, Key="k", VersionId=vid,
                   BypassGovernanceRetention=True, Retention={})[:2] == (403, "AccessDenied")
        assert _read(s3, b, "k", sse, vid)["Body"].read() == body
        return
    assert err(s3.head_object, Bucket=b, Key="k", VersionId=vid, **SSE_MODES[sse][1])[0] == 404


def test_retention_rules(s3):
    b = lock_bucket(s3)
    d1, d2, d3 = future(1), future(2), future(3)
    vc = s3.put_object(Bucket=b, Key="c", Body=b"c", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=d2)["VersionId"]
    vg = s3.put_object(Bucket=b, Key="g", Body=b"g", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=d2)["VersionId"]

    def ret(key, vid, **kw):
        return s3.put_object_retention(Bucket=b, Key=key, VersionId=vid, **kw)

    def denied(key, vid, **kw):
        assert err(ret, key, vid, **kw) == (403, "AccessDenied", LOCKED_MSG)

    # COMPLIANCE: extended only, by anyone; never shortened, weakened or removed
    ret("c", vc, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": d3})
    denied("c", vc, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": d1})
    denied("c", vc, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": d1},
           BypassGovernanceRetention=True)
    denied("c", vc, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d3},
           BypassGovernanceRetention=True)
    denied("c", vc, Retention={}, BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=b, Key="c")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": d3}
    # GOVERNANCE: extended freely, made COMPLIANCE freely; shortened or removed with the bypass
    ret("g", vg, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d3})
    denied("g", vg, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d1})
    denied("g", vg, Retention={})
    ret("g", vg, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d1},
        BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=b, Key="g")["Retention"]["RetainUntilDate"] == d1
    ret("g", vg, Retention={}, BypassGovernanceRetention=True)
    assert err(s3.get_object_retention, Bucket=b, Key="g")[:3] == (
        404, "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration")
    s3.delete_object(Bucket=b, Key="g", VersionId=vg)
    # an unlocked version can get a retention, then COMPLIANCE from GOVERNANCE
    v = s3.put_object(Bucket=b, Key="u", Body=b"u")["VersionId"]
    ret("u", v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d1})
    ret("u", v, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": d1})
    denied("u", v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d2},
           BypassGovernanceRetention=True)
    # a date in the past, a missing version, a delete marker
    st, code, msg = err(ret, "u", v, Retention={"Mode": "GOVERNANCE",
                                                "RetainUntilDate": future(-1)})
    assert (st, code, msg) == (400, "InvalidArgument",
                               "The retain until date must be in the future!")
    assert err(ret, "u", "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", Retention={})[:2] == (
        404, "NoSuchVersion")
    assert err(s3.get_object_retention, Bucket=b, Key="nokey")[:2] == (404, "NoSuchKey")
    m = s3.delete_object(Bucket=b, Key="u")["VersionId"]
    assert err(s3.get_object_retention, Bucket=b, Key="u", VersionId=m)[:2] == (
        405, "MethodNotAllowed")
    assert err(s3.get_object_retention, Bucket=b, Key="u")[:2] == (404, "NoSuchKey")


RET = ("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}</Retention>")


@pytest.mark.parametrize("path,body,code", [
    ("retention", RET.format("<Mode>GOVERNANCE</Mode>"), "MalformedXML"),
    ("retention", RET.format("<RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate>"),
     "MalformedXML"),
    ("retention", RET.format("<Mode>FOREVER</Mode>"
                             "<RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate>"),
     "MalformedXML"),
    ("retention", RET.format("<Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow"
                             "</RetainUntilDate>"), "MalformedXML"),
    ("retention", RET.format("<Mode>GOVERNANCE</Mode><Mode>GOVERNANCE</Mode>"
                             "<RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate>"),
     "MalformedXML"),
    ("retention", "<LegalHold><Status>ON</Status></LegalHold>", "MalformedXML"),
    ("retention", "garbage", "MalformedXML"),
    ("legal-hold", "<LegalHold><Status>on</Status></LegalHold>", "MalformedXML"),
    ("legal-hold", "<LegalHold><Status>MAYBE</Status></LegalHold>", "MalformedXML"),
    ("legal-hold", "<LegalHold></LegalHold>", "MalformedXML"),
    ("legal-hold", "<Retention/>", "MalformedXML"),
    ("legal-hold", "", "MalformedXML"),
])
def test_version_lock_body_validation(s3, raw, path, body, code):
    b = lock_bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    data = body.encode()
    r = raw("PUT", f"/{b}/k?{path}", body=data, headers={"Content-MD5": md5_b64(data)})
    assert r.status == 400, r
    assert r.xml().findtext("Code") == code, r
    h = s3.head_object(Bucket=b, Key="k")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h


def test_retention_date_with_offset_and_fraction(s3, raw):
    b = lock_bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    body = RET.format("<Mode>GOVERNANCE</Mode>"
                      "<RetainUntilDate>2099-01-01T02:00:00.5+02:00</RetainUntilDate>").encode()
    r = raw("PUT", f"/{b}/k?retention", body=body, headers={"Content-MD5": md5_b64(body)})
    assert r.status == 200, r
    r = raw("GET", f"/{b}/k?retention")
    assert r.xml().findtext("{*}RetainUntilDate") == "2099-01-01T00:00:00.500Z", r
    r = raw("HEAD", f"/{b}/k")
    assert r.header("x-amz-object-lock-retain-until-date") == "2099-01-01T00:00:00.500Z"
    assert r.header("x-amz-object-lock-mode") == "GOVERNANCE"


@pytest.mark.parametrize("headers,msg", [
    ({"x-amz-object-lock-mode": "GOVERNANCE"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"),
    ({"x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"),
    ({"x-amz-object-lock-mode": "FOREVER",
      "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"},
     "Unknown wormMode directive."),
    ({"x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "2020-01-01T00:00:00Z"},
     "The retain until date must be in the future!"),
    ({"x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "next week"},
     "The retain until date must be provided in ISO 8601 format"),
    ({"x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "2099-13-01T00:00:00Z"},
     "The retain until date must be provided in ISO 8601 format"),
    ({"x-amz-object-lock-legal-hold": "YES"}, "Legal Hold must be either of 'ON' or 'OFF'"),
])
@pytest.mark.parametrize("op", ["put", "mpu", "copy"])
def test_lock_header_validation(s3, raw, headers, msg, op):
    b = lock_bucket(s3)
    s3.put_object(Bucket=b, Key="src", Body=b"src")
    body = b"payload"
    h = dict(headers)
    if op == "put":
        h["Content-MD5"] = md5_b64(body)
        r = raw("PUT", f"/{b}/k", body=body, headers=h)
    elif op == "copy":
        h["x-amz-copy-source"] = f"/{b}/src"
        r = raw("PUT", f"/{b}/k", headers=h)
    else:
        r = raw("POST", f"/{b}/k?uploads", headers=h)
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidArgument", r
    assert r.xml().findtext("Message") == msg, r
    assert err(s3.head_object, Bucket=b, Key="k")[0] == 404
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []


def test_put_with_lock_headers_needs_md5_or_checksum(s3, raw):
    b = lock_bucket(s3)
    lock = {"x-amz-object-lock-mode": "GOVERNANCE",
            "x-amz-object-lock-retain-until-date": iso(future())}
    r = raw("PUT", f"/{b}/k", body=b"data", headers=lock)
    assert r.status == 400, r
    assert r.xml().findtext("Code") == "InvalidRequest"
    assert r.xml().findtext("Message") == (
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with "
        "Object Lock parameters")
    r = raw("PUT", f"/{b}/k", body=b"data", headers={"x-amz-object-lock-legal-hold": "ON"})
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidRequest", r
    assert err(s3.head_object, Bucket=b, Key="k")[0] == 404
    # Content-MD5, or an x-amz-checksum-* header, will do
    r = raw("PUT", f"/{b}/k", body=b"data", headers={**lock, "Content-MD5": md5_b64(b"data")})
    assert r.status == 200, r
    crc = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    r = raw("PUT", f"/{b}/k2", body=b"data", headers={**lock, "x-amz-checksum-crc32": crc})
    assert r.status == 200, r
    sha = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    r2 = raw("PUT", f"/{b}/k3", body=b"data", headers={**lock, "x-amz-checksum-sha256": sha})
    assert r2.status == 200, r2
    assert s3.head_object(Bucket=b, Key="k3")["ObjectLockMode"] == "GOVERNANCE"
    # without lock headers, a PUT needs neither
    assert raw("PUT", f"/{b}/plain", body=b"data").status == 200
    # boto3 (flexible checksums) and the aws CLI send what is needed on their own
    s3.put_object(Bucket=b, Key="boto", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=b, Key="boto")["ObjectLockLegalHoldStatus"] == "ON"


def test_legal_hold_api(s3):
    b = lock_bucket(s3)
    v = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    assert err(s3.get_object_legal_hold, Bucket=b, Key="k")[:2] == (
        404, "NoSuchObjectLockConfiguration")
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=b, Key="k", VersionId=v)["LegalHold"] == {
        "Status": "ON"}
    assert s3.head_object(Bucket=b, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    assert err(s3.delete_object, Bucket=b, Key="k", VersionId=v,
               BypassGovernanceRetention=True) == (403, "AccessDenied", LOCKED_MSG)
    # a legal hold and a retention are independent: lifting one leaves the other
    s3.put_object_retention(Bucket=b, Key="k", Retention={"Mode": "GOVERNANCE",
                                                          "RetainUntilDate": future()})
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "OFF"})
    assert err(s3.delete_object, Bucket=b, Key="k", VersionId=v)[:2] == (403, "AccessDenied")
    s3.delete_object(Bucket=b, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert err(s3.get_object_legal_hold, Bucket=b, Key="k", VersionId=v)[:2] == (
        404, "NoSuchVersion")
    assert err(s3.put_object_legal_hold, Bucket=b, Key="k", VersionId="null",
               LegalHold={"Status": "ON"})[:2] == (404, "NoSuchVersion")


# ---- default retention, multipart, DeleteObjects, DeleteBucket ------------------------------------

def test_multipart_under_default_retention(s3):
    b = lock_bucket(s3, Mode="COMPLIANCE", Days=1)
    part = os.urandom(5 * 1024 * 1024)
    up = s3.create_multipart_upload(Bucket=b, Key="mp")
    p1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=part)
    p2 = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=2, Body=b"tail")
    done = s3.complete_multipart_upload(
        Bucket=b, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    r = s3.get_object_retention(Bucket=b, Key="mp")["Retention"]
    assert r["Mode"] == "COMPLIANCE"
    want = datetime.datetime.now(UTC) + datetime.timedelta(days=1)
    assert abs((r["RetainUntilDate"] - want).total_seconds()) < 60
    assert err(s3.delete_object, Bucket=b, Key="mp", VersionId=done["VersionId"])[:2] == (
        403, "AccessDenied")
    assert s3.get_object(Bucket=b, Key="mp")["Body"].read() == part + b"tail"
    # headers given at CreateMultipartUpload win over the default, applied at Complete
    until = future(days=5)
    up = s3.create_multipart_upload(Bucket=b, Key="mp2", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=until,
                                    ObjectLockLegalHoldStatus="ON")
    assert err(s3.get_object_retention, Bucket=b, Key="mp2")[:2] == (404, "NoSuchKey")
    p1 = s3.upload_part(Bucket=b, Key="mp2", UploadId=up["UploadId"], PartNumber=1, Body=b"one")
    v2 = s3.complete_multipart_upload(
        Bucket=b, Key="mp2", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]})["VersionId"]
    h = s3.head_object(Bucket=b, Key="mp2")
    assert (h["ObjectLockMode"], h["ObjectLockRetainUntilDate"],
            h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", until, "ON")
    # the legal hold keeps it even with the bypass
    assert err(s3.delete_object, Bucket=b, Key="mp2", VersionId=v2,
               BypassGovernanceRetention=True)[:2] == (403, "AccessDenied")
    # another upload completed onto the same key is a new version; the locked one is untouched
    up = s3.create_multipart_upload(Bucket=b, Key="mp2")
    p1 = s3.upload_part(Bucket=b, Key="mp2", UploadId=up["UploadId"], PartNumber=1, Body=b"two")
    v3 = s3.complete_multipart_upload(
        Bucket=b, Key="mp2", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]})["VersionId"]
    assert v3 != v2
    assert s3.get_object(Bucket=b, Key="mp2", VersionId=v2)["Body"].read() == b"one"
    assert s3.get_object(Bucket=b, Key="mp2")["Body"].read() == b"two"
    assert s3.head_object(Bucket=b, Key="mp2", VersionId=v2)["ObjectLockLegalHoldStatus"] == "ON"
    # a bucket holding locked versions is not empty
    st, code, _ = err(s3.delete_bucket, Bucket=b)
    assert (st, code) == (409, "BucketNotEmpty")


def test_delete_objects_reports_each_locked_key(s3):
    b = lock_bucket(s3)
    vg = s3.put_object(Bucket=b, Key="gov", Body=b"g", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=future())["VersionId"]
    vc = s3.put_object(Bucket=b, Key="comp", Body=b"c", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=future())["VersionId"]
    vh = s3.put_object(Bucket=b, Key="hold", Body=b"h",
                       ObjectLockLegalHoldStatus="ON")["VersionId"]
    vf = s3.put_object(Bucket=b, Key="free", Body=b"f")["VersionId"]
    objs = [{"Key": "gov", "VersionId": vg}, {"Key": "comp", "VersionId": vc},
            {"Key": "hold", "VersionId": vh}, {"Key": "free", "VersionId": vf},
            {"Key": "marker-only"}]
    r = s3.delete_objects(Bucket=b, Delete={"Objects": objs})
    errors = {e["Key"]: e for e in r["Errors"]}
    assert sorted(errors) == ["comp", "gov", "hold"]
    for k, v in (("gov", vg), ("comp", vc), ("hold", vh)):
        assert errors[k]["Code"] == "AccessDenied"
        assert errors[k]["Message"] == LOCKED_MSG
        assert errors[k]["VersionId"] == v
    assert sorted(d["Key"] for d in r["Deleted"]) == ["free", "marker-only"]
    # with the bypass, the governed one goes; compliance and the legal hold stay
    r = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                          Delete={"Objects": objs[:3], "Quiet": True})
    assert sorted(e["Key"] for e in r["Errors"]) == ["comp", "hold"]
    left = {(v["Key"], v["VersionId"]) for v in s3.list_object_versions(Bucket=b)["Versions"]}
    assert left == {("comp", vc), ("hold", vh)}


def test_aws_cli(s3, aws):
    b = lock_bucket(s3)
    aws("s3api", "put-object-lock-configuration", "--bucket", b, "--object-lock-configuration",
        json.dumps({"ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}}))
    out = json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", b).stdout)
    assert out["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": "GOVERNANCE", "Days": 3}
    p = aws("s3api", "put-object", "--bucket", b, "--key", "k", "--object-lock-legal-hold-status",
            "ON", "--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date",
            iso(future(2)))
    vid = json.loads(p.stdout)["VersionId"]
    out = json.loads(aws("s3api", "get-object-retention", "--bucket", b, "--key", "k").stdout)
    assert out["Retention"]["Mode"] == "COMPLIANCE"
    out = json.loads(aws("s3api", "get-object-legal-hold", "--bucket", b, "--key", "k").stdout)
    assert out["LegalHold"]["Status"] == "ON"
    p = aws("s3api", "delete-object", "--bucket", b, "--key", "k", "--version-id", vid,
            "--bypass-governance-retention", check=False)
    assert p.returncode != 0 and "AccessDenied" in p.stderr, p
    aws("s3api", "put-object-legal-hold", "--bucket", b, "--key", "k", "--legal-hold",
        "Status=OFF")
    p = aws("s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration",
            "Status=Suspended", check=False)
    assert p.returncode != 0 and "InvalidBucketState" in p.stderr, p


# ---- the bypass needs its permission -------------------------------------------------------------

ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::000000000000:user/bob"


def _client(srv, ak, sk):
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def _policy(b, *stmts):
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def test_bypass_needs_permission(coffer_factory):
    srv = coffer_factory(
        env={"S3_SKIP_SIGNATURE_VALIDATION": "0"},
        extra_args=["--credentials", "test:test,AKALICE:alicesecret,AKBOB:bobsecret",
                    "--principals", f"AKALICE={ALICE},AKBOB={BOB}"])
    owner = _client(srv, "test", "test")
    alice = _client(srv, "AKALICE", "alicesecret")
    bob = _client(srv, "AKBOB", "bobsecret")
    b = lock_bucket(owner)
    vids = [owner.put_object(Bucket=b, Key=f"k{i}", Body=b"x", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=future())["VersionId"] for i in range(4)]
    res = f"arn:aws:s3:::{b}/*"
    # alice (another account) may delete versions but not bypass governance
    owner.put_bucket_policy(Bucket=b, Policy=_policy(b, {
        "Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": ["s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:GetObjectRetention"],
        "Resource": res}))
    assert err(alice.delete_object, Bucket=b, Key="k0", VersionId=vids[0],
               BypassGovernanceRetention=True) == (403, "AccessDenied", LOCKED_MSG)
    assert err(alice.put_object_retention, Bucket=b, Key="k0", BypassGovernanceRetention=True,
               Retention={})[:2] == (403, "AccessDenied")
    # bob (the bucket's account) is denied the bypass explicitly
    owner.put_bucket_policy(Bucket=b, Policy=_policy(b, {
        "Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"], "Resource": res}, {
        "Effect": "Deny", "Principal": {"AWS": BOB}, "Action": "s3:BypassGovernanceRetention",
        "Resource": res}))
    assert err(bob.delete_object, Bucket=b, Key="k1", VersionId=vids[1],
               BypassGovernanceRetention=True) == (403, "AccessDenied", LOCKED_MSG)
    r = bob.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                           Delete={"Objects": [{"Key": "k1", "VersionId": vids[1]}]})
    assert [e["Code"] for e in r["Errors"]] == ["AccessDenied"]
    # with the permission granted, alice's bypass works
    alice.delete_object(Bucket=b, Key="k0", VersionId=vids[0], BypassGovernanceRetention=True)
    # the owner keeps its default access; without the header nobody bypasses
    assert err(owner.delete_object, Bucket=b, Key="k2", VersionId=vids[2])[:2] == (
        403, "AccessDenied")
    owner.delete_object(Bucket=b, Key="k2", VersionId=vids[2], BypassGovernanceRetention=True)
    left = sorted(v["Key"] for v in owner.list_object_versions(Bucket=b)["Versions"])
    assert left == ["k1", "k3"]


# ---- the admin side -------------------------------------------------------------------------------

def _cmd(srv, *args):
    return subprocess.run([COFFER_BIN, *args, "--data-dir", str(srv.data_dir),
                           "--root-key-file", str(srv.root_key)],
                          capture_output=True, text=True, env=server_env(), timeout=120)


def test_fsck_and_root_key_retirement_keep_locked_versions(coffer_factory):
    srv = coffer_factory()
    s3 = srv.client()
    b = lock_bucket(s3, Mode="COMPLIANCE", Days=1)
    bodies = {k: os.urandom(n) for k, n in (("small", 100), ("big", 200000))}
    vids = {k: s3.put_object(Bucket=b, Key=k, Body=v)["VersionId"] for k, v in bodies.items()}
    s3.put_object(Bucket=b, Key="kms", Body=b"kms body", ServerSideEncryption="aws:kms")
    srv.stop()
    p = _cmd(srv, "fsck")
    assert p.returncode == 0, p
    assert "0 damaged, 0 unreferenced blobs (0 removed)" in p.stdout, p
    old = _cmd(srv, "keys", "list").stdout.split()[0]
    # rotation rewraps the locked versions' data keys (metadata only: no blob is rewritten, none
    # removed), a second rewrap finds nothing left, and the old key may then be retired
    blobs = sorted(p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file())
    p = _cmd(srv, "keys", "rotate")
    assert p.returncode == 0, p
    assert _cmd(srv, "keys", "rewrap").returncode == 0
    p = _cmd(srv, "keys", "retire", old)
    assert p.returncode == 0, p
    assert sorted(p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()) == blobs
    srv.start()
    s3 = srv.client()
    for k, v in bodies.items():
        assert s3.get_object(Bucket=b, Key=k, VersionId=vids[k])["Body"].read() == v
        assert s3.get_object_retention(Bucket=b, Key=k)["Retention"]["Mode"] == "COMPLIANCE"
        assert err(s3.delete_object, Bucket=b, Key=k, VersionId=vids[k])[:2] == (
            403, "AccessDenied")
    assert s3.get_object(Bucket=b, Key="kms")["Body"].read() == b"kms body"


def test_lock_survives_restart_and_expires(coffer_factory):
    srv = coffer_factory()
    s3 = srv.client()
    b = lock_bucket(s3)
    v = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=future(days=0, seconds=3))["VersionId"]
    srv.stop()
    srv.start()
    s3 = srv.client()
    assert err(s3.delete_object, Bucket=b, Key="k", VersionId=v)[:2] == (403, "AccessDenied")
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    time.sleep(3.5)
    # once its date has passed, a COMPLIANCE version may go; the retention still reads back
    assert s3.get_object_retention(Bucket=b, Key="k")["Retention"]["Mode"] == "COMPLIANCE"
    s3.delete_object(Bucket=b, Key="k", VersionId=v)
    s3.delete_bucket(Bucket=b)


# ---- POST Object ----------------------------------------------------------------------------------

def test_post_object_form_fields(server, s3):
    from test_post_object import post_form, presign
    b = lock_bucket(s3)
    until = iso(future(2))
    lock = {"x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": until,
            "x-amz-object-lock-legal-hold": "ON"}
    url, fields = presign(s3, b, "form", fields=dict(lock),
                          conditions=[{k: v} for k, v in lock.items()])
    r = post_form(server.port, b, fields, b"from a form")
    assert r.status == 204, r
    h = s3.head_object(Bucket=b, Key="form")
    assert h["ObjectLockMode"] == "COMPLIANCE"
    assert h["ObjectLockLegalHoldStatus"] == "ON"
    assert err(s3.delete_object, Bucket=b, Key="form", VersionId=h["VersionId"])[:2] == (
        403, "AccessDenied")
    # a bad field is refused as the header would be, and nothing is stored
    bad = {"x-amz-object-lock-mode": "FOREVER", "x-amz-object-lock-retain-until-date": until}
    url, fields = presign(s3, b, "bad", fields=dict(bad),
                          conditions=[{k: v} for k, v in bad.items()])
    r = post_form(server.port, b, fields, b"x")
    assert r.status == 400, r
    assert r.xml().findtext("Message") == "Unknown wormMode directive."
    assert err(s3.head_object, Bucket=b, Key="bad")[0] == 404
