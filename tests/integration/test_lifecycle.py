"""Bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration with AWS's validation, the
x-amz-expiration header, and the rules applied by the sweeper through the run-now paths
(POST /_coffer/lifecycle/run?now=..., coffer lifecycle run --now ...), on versioned and
unversioned buckets, with blobs, delete markers and upload parts removed from the data dir.
A kill -9 during a sweep loses nothing that should stay, and fsck agrees."""

import datetime
import hashlib
import json
import re
import subprocess
import threading
import time

import pytest

from conftest import (COFFER_BIN, CofferServer, error_of, raw_request, run_aws, server_env,
                      stored_blob_ids, unique_name)

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
BODY = b"lifecycle body " * 100  # every object has a blob file of its own


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ahead(n):
    return iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=n))


def run_now(srv, now=None):
    path = "/_coffer/lifecycle/run" + (f"?now={now}" if now else "")
    r = raw_request(srv.port, "POST", path, auth=None)
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    return json.loads(r.body)


def blob_files(srv):
    """Ids of the stored blobs: files, and small bodies kept inline."""
    return stored_blob_ids(srv.data_dir)


def keys_of(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def versions_of(s3, bucket):
    r = s3.list_object_versions(Bucket=bucket)
    vs = [(v["Key"], v["VersionId"], v["IsLatest"], False) for v in r.get("Versions", [])]
    ms = [(m["Key"], m["VersionId"], m["IsLatest"], True) for m in r.get("DeleteMarkers", [])]
    return vs + ms


def put_raw(srv, bucket, xml, md5=True):
    body = xml.encode()
    headers = {"Content-Type": "application/xml"}
    if md5:
        import base64
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return raw_request(srv.port, "PUT", f"/{bucket}?lifecycle", headers=headers, body=body)


def error_code_msg(r):
    x = r.xml()
    return x.findtext("Code"), x.findtext("Message")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = CofferServer(tmp_path_factory.mktemp("lifecycle"),
                     extra_args=["--lifecycle-interval", "0"])
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def s3(srv):
    return srv.client()


def purge(s3, bucket):
    """Removes every version, marker and upload, then the bucket: a bucket left behind with
    rules would be swept by the next test's run."""
    s3.delete_bucket_lifecycle(Bucket=bucket)
    for key, vid, _latest, _marker in versions_of(s3, bucket):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=vid)
    for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture
def bkt(s3):
    name = unique_name("lc")
    s3.create_bucket(Bucket=name)
    yield name
    purge(s3, name)


@pytest.fixture
def vbkt(s3, bkt):
    s3.put_bucket_versioning(Bucket=bkt, VersioningConfiguration={"Status": "Enabled"})
    return bkt


def rules(*rs):
    return {"Rules": list(rs)}


# ---- configuration -----------------------------------------------------------------------


def test_get_without_configuration_is_404(s3, bkt):
    with pytest.raises(Exception) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bkt)
    assert error_of(e) == (404, "NoSuchLifecycleConfiguration")
    assert e.value.response["Error"]["BucketName"] == bkt
    assert e.value.response["Error"]["Message"] == "The lifecycle configuration does not exist"


def test_missing_bucket(s3):
    name = unique_name("nolc")
    for call in (lambda: s3.get_bucket_lifecycle_configuration(Bucket=name),
                 lambda: s3.delete_bucket_lifecycle(Bucket=name),
                 lambda: s3.put_bucket_lifecycle_configuration(
                     Bucket=name, LifecycleConfiguration=rules(
                         {"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}))):
        with pytest.raises(Exception) as e:
            call()
        assert error_of(e) == (404, "NoSuchBucket")


def test_round_trip_every_element(s3, bkt):
    cfg = rules(
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 30},
         "Transitions": [{"Days": 10, "StorageClass": "GLACIER"}]},
        {"ID": "and", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"},
                                                     {"Key": "k2", "Value": ""}],
                            "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 30,
                                           "StorageClass": "STANDARD_IA"}]},
        {"ID": "date", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
         "Expiration": {"Date": datetime.datetime(2031, 1, 1,
                                                  tzinfo=datetime.timezone.utc)}},
        {"ID": "markers", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 5},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    )
    r = s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=cfg)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_lifecycle_configuration(Bucket=bkt)
    assert got["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-transition-default-minimum-object-size"] == "all_storage_classes_128K"
    out = got["Rules"]
    assert [x["ID"] for x in out] == ["logs", "and", "date", "markers", "uploads"]
    assert out[0] == {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                      "Expiration": {"Days": 30},
                      "Transitions": [{"Days": 10, "StorageClass": "GLACIER"}]}
    assert out[1]["Filter"]["And"] == cfg["Rules"][1]["Filter"]["And"]
    assert out[1]["Status"] == "Disabled"
    assert out[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3,
                                                     "NewerNoncurrentVersions": 2}
    assert out[1]["NoncurrentVersionTransitions"] == [{"NoncurrentDays": 30,
                                                       "StorageClass": "STANDARD_IA"}]
    assert out[2]["Expiration"]["Date"] == cfg["Rules"][2]["Expiration"]["Date"]
    assert out[2]["Filter"] == {"Tag": {"Key": "t", "Value": "1"}}
    assert out[3]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert out[4]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    # a second put replaces the whole configuration
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "only", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}))
    out = s3.get_bucket_lifecycle_configuration(Bucket=bkt)["Rules"]
    assert out == [{"ID": "only", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
    r = s3.delete_bucket_lifecycle(Bucket=bkt)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(Exception) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bkt)
    assert error_of(e) == (404, "NoSuchLifecycleConfiguration")
    # deleting what is not there succeeds, as AWS
    assert s3.delete_bucket_lifecycle(Bucket=bkt)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_legacy_prefix_form_and_canonical_document(srv, bkt):
    r = put_raw(srv, bkt, "<LifecycleConfiguration xmlns=\"%s\"><Rule><ID>old</ID>"
                "<Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Days>2</Days>"
                "</Expiration></Rule></LifecycleConfiguration>" % NS)
    assert r.status == 200, r
    g = raw_request(srv.port, "GET", f"/{bkt}?lifecycle")
    assert g.status == 200
    assert g.body.decode().endswith(
        "<LifecycleConfiguration xmlns=\"%s\"><Rule><Expiration><Days>2</Days></Expiration>"
        "<ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status></Rule>"
        "</LifecycleConfiguration>" % NS), g.body


def R(body):
    return f"<LifecycleConfiguration><Rule>{body}</Rule></LifecycleConfiguration>"


ON = "<Status>Enabled</Status>"
ALL = "<Filter></Filter>"
TAG = "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
REFUSALS = [
    ("", 400, "MalformedXML", None),
    ("<LifecycleConfiguration></LifecycleConfiguration>", 400, "MalformedXML", None),
    ("<LifecycleConfiguration><Rule>", 400, "MalformedXML", None),
    (R(ALL + "<Expiration><Days>1</Days></Expiration>"), 400, "MalformedXML", None),
    (R("<Status>On</Status>" + ALL + "<Expiration><Days>1</Days></Expiration>"), 400,
     "MalformedXML", None),
    (R(ON + "<Expiration><Days>1</Days></Expiration>"), 400, "MalformedXML", None),
    (R(ON + ALL + "<Prefix>a</Prefix><Expiration><Days>1</Days></Expiration>"), 400,
     "MalformedXML", None),
    (R(ON + "<Filter><Prefix>a</Prefix><ObjectSizeLessThan>4</ObjectSizeLessThan></Filter>"
       "<Expiration><Days>1</Days></Expiration>"), 400, "MalformedXML", None),
    (R(ON + ALL + "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
       "</ExpiredObjectDeleteMarker></Expiration>"), 400, "MalformedXML", None),
    (R(ON + ALL + "<Expiration><Days>one</Days></Expiration>"), 400, "MalformedXML", None),
    (R(ON + ALL + "<Expiration><Date>2030-02-30T00:00:00Z</Date></Expiration>"), 400,
     "MalformedXML", None),
    (R(ON + ALL + "<Transition><Days>40</Days><StorageClass>FAST</StorageClass></Transition>"),
     400, "MalformedXML", None),
    (R(ON + ALL + "<Expiration><Days>0</Days></Expiration>"), 400, "InvalidArgument",
     "'Days' for Expiration action must be a positive integer"),
    (R(ON + ALL + "<Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>"), 400,
     "InvalidArgument", "'Date' must be at midnight GMT"),
    (R("<ID>" + "x" * 256 + "</ID>" + ON + ALL + "<Expiration><Days>1</Days></Expiration>"),
     400, "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    (R(ON + ALL + "<NoncurrentVersionExpiration><NoncurrentDays>-1</NoncurrentDays>"
       "</NoncurrentVersionExpiration>"), 400, "InvalidArgument",
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    (R(ON + ALL + "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
       "<NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>"),
     400, "InvalidArgument",
     "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
     "integer"),
    (R(ON + ALL + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0"
       "</DaysAfterInitiation></AbortIncompleteMultipartUpload>"), 400, "InvalidArgument",
     "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
     "integer"),
    (R(ON + TAG + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
       "</DaysAfterInitiation></AbortIncompleteMultipartUpload>"), 400, "InvalidRequest",
     "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    (R(ON + ALL), 400, "InvalidRequest", "At least one action needs to be specified in a rule"),
    ("<LifecycleConfiguration>" + "<Rule><ID>same</ID>" + ON + ALL
     + "<Expiration><Days>1</Days></Expiration></Rule>" * 1 + "<Rule><ID>same</ID>" + ON + ALL
     + "<Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>", 400,
     "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"),
    (R(ON + ALL + "<Transition><Days>5</Days><StorageClass>STANDARD_IA</StorageClass>"
       "</Transition>"), 400, "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass "
     "'STANDARD_IA'"),
    (R(ON + "<Filter><Tag><Key>aws:k</Key><Value>v</Value></Tag></Filter>"
       "<Expiration><Days>1</Days></Expiration>"), 400, "InvalidTag", None),
]


@pytest.mark.parametrize("xml,status,code,message", REFUSALS)
def test_validation_errors(srv, s3, bkt, xml, status, code, message):
    r = put_raw(srv, bkt, xml)
    assert r.status == status, r
    got_code, got_msg = error_code_msg(r)
    assert got_code == code, r
    if message is not None:
        assert got_msg == message
    # nothing was stored
    with pytest.raises(Exception) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bkt)
    assert error_of(e) == (404, "NoSuchLifecycleConfiguration")


def test_too_many_rules(srv, bkt):
    def doc(n):
        return "<LifecycleConfiguration>" + "".join(
            f"<Rule><ID>r{i}</ID>{ON}<Filter><Prefix>p{i}/</Prefix></Filter>"
            "<Expiration><Days>1</Days></Expiration></Rule>" for i in range(n)) + \
            "</LifecycleConfiguration>"
    assert put_raw(srv, bkt, doc(1000)).status == 200
    r = put_raw(srv, bkt, doc(1001))
    assert r.status == 400 and error_code_msg(r)[0] == "MalformedXML"


def test_bad_content_md5(srv, bkt):
    body = R(ON + ALL + "<Expiration><Days>1</Days></Expiration>").encode()
    r = raw_request(srv.port, "PUT", f"/{bkt}?lifecycle",
                    headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}, body=body)
    assert r.status == 400 and error_code_msg(r)[0] == "BadDigest", r


def test_aws_cli_round_trip(srv, bkt, tmp_path):
    cfg = {"Rules": [{"ID": "cli", "Status": "Enabled", "Filter": {"Prefix": "x/"},
                      "Expiration": {"Days": 5},
                      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]}
    f = tmp_path / "lc.json"
    f.write_text(json.dumps(cfg))
    run_aws(srv.endpoint, "s3api", "put-bucket-lifecycle-configuration", "--bucket", bkt,
            "--lifecycle-configuration", f"file://{f}", cwd=str(tmp_path), home=tmp_path)
    p = run_aws(srv.endpoint, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bkt,
                cwd=str(tmp_path), home=tmp_path)
    got = json.loads(p.stdout)
    assert got["Rules"] == cfg["Rules"]
    run_aws(srv.endpoint, "s3api", "delete-bucket-lifecycle", "--bucket", bkt,
            cwd=str(tmp_path), home=tmp_path)
    p = run_aws(srv.endpoint, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bkt,
                cwd=str(tmp_path), home=tmp_path, check=False)
    assert p.returncode != 0 and "NoSuchLifecycleConfiguration" in p.stderr


# ---- x-amz-expiration --------------------------------------------------------------------

EXP_RE = re.compile(r'^expiry-date="(\w{3}, \d\d \w{3} \d{4} 00:00:00 GMT)", rule-id="([^"]*)"$')


def expected_expiry(last_modified, days):
    t = last_modified + datetime.timedelta(days=days)
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight < t:
        midnight += datetime.timedelta(days=1)
    return midnight.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_expiration_header_on_put_head_get(s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "week", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 7}},
        {"ID": "day", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "short", "Value": "1"}]}},
         "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}}))
    put = s3.put_object(Bucket=bkt, Key="logs/a", Body=b"x")
    head = s3.head_object(Bucket=bkt, Key="logs/a")
    get = s3.get_object(Bucket=bkt, Key="logs/a")
    want = expected_expiry(head["LastModified"], 7)
    for r in (put, head, get):
        m = EXP_RE.match(r["Expiration"])
        assert m, r["Expiration"]
        assert m.group(1) == want and m.group(2) == "week"
    # the earlier of two matching rules
    s3.put_object(Bucket=bkt, Key="logs/b", Body=b"x", Tagging="short=1")
    head = s3.head_object(Bucket=bkt, Key="logs/b")
    assert head["Expiration"] == 'expiry-date="%s", rule-id="day"' % expected_expiry(
        head["LastModified"], 1)
    # a copy into the rule's prefix is a write like a PUT
    cp = s3.copy_object(Bucket=bkt, Key="logs/copy", CopySource={"Bucket": bkt, "Key": "logs/a"})
    assert EXP_RE.match(cp["Expiration"]).group(2) == "week"
    # and so is a completed multipart upload
    up = s3.create_multipart_upload(Bucket=bkt, Key="logs/mp")["UploadId"]
    part = s3.upload_part(Bucket=bkt, Key="logs/mp", UploadId=up, PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(
        Bucket=bkt, Key="logs/mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert EXP_RE.match(done["Expiration"]).group(2) == "week"
    # no matching enabled rule: no header
    put = s3.put_object(Bucket=bkt, Key="other", Body=b"x")
    assert "Expiration" not in put
    assert "Expiration" not in s3.head_object(Bucket=bkt, Key="other")


def test_expiration_header_date_rule(s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "fixed", "Status": "Enabled", "Filter": {},
         "Expiration": {"Date": datetime.datetime(2031, 3, 4,
                                                  tzinfo=datetime.timezone.utc)}}))
    put = s3.put_object(Bucket=bkt, Key="k", Body=b"x")
    assert put["Expiration"] == 'expiry-date="Tue, 04 Mar 2031 00:00:00 GMT", rule-id="fixed"'


# ---- the sweeper, through the run-now path -------------------------------------------------


def test_expiration_days_unversioned(srv, s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 2}}))
    for k in ("logs/a", "logs/b", "keep/c"):
        s3.put_object(Bucket=bkt, Key=k, Body=BODY)
    before = set(blob_files(srv))
    assert run_now(srv, days_ahead(1))["expired"] == 0  # not yet due
    assert keys_of(s3, bkt) == ["keep/c", "logs/a", "logs/b"]
    n = run_now(srv, days_ahead(3))
    assert n["expired"] == 2 and n["removed"] == 0 and n["aborted"] == 0
    assert keys_of(s3, bkt) == ["keep/c"]
    assert s3.get_object(Bucket=bkt, Key="keep/c")["Body"].read() == BODY
    assert len(before - set(blob_files(srv))) == 2  # the two blobs are gone
    assert run_now(srv, days_ahead(3))["expired"] == 0  # nothing left to do


def test_disabled_rule_does_nothing(srv, s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}}))
    s3.put_object(Bucket=bkt, Key="a", Body=b"x")
    run_now(srv, days_ahead(30))
    assert keys_of(s3, bkt) == ["a"]


def test_expiration_date(srv, s3, bkt):
    day = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "d", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": day}}))
    s3.put_object(Bucket=bkt, Key="a", Body=b"x")
    run_now(srv, iso(day - datetime.timedelta(seconds=1)))
    assert keys_of(s3, bkt) == ["a"]
    assert run_now(srv, iso(day))["expired"] == 1
    assert keys_of(s3, bkt) == []


def test_tag_and_size_filters(srv, s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
         "Expiration": {"Days": 1}},
        {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 100},
         "Expiration": {"Days": 1}},
        {"ID": "small", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 3},
         "Expiration": {"Days": 1}},
        {"ID": "and", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "a", "Value": "1"},
                                                     {"Key": "b", "Value": "2"}]}},
         "Expiration": {"Days": 1}}))
    put = lambda k, body, tags=None: s3.put_object(  # noqa: E731
        Bucket=bkt, Key=k, Body=body, **({"Tagging": tags} if tags else {}))
    put("tagged", b"0123456789", "t=1")
    put("tagged-other", b"0123456789", "t=2")
    put("big", b"x" * 101)
    put("exactly100", b"x" * 100)
    put("tiny", b"xy")
    put("three", b"xyz")
    put("p/both", b"0123456789", "a=1&b=2")
    put("p/one", b"0123456789", "a=1")
    put("q/both", b"0123456789", "a=1&b=2")
    n = run_now(srv, days_ahead(2))
    assert n["expired"] == 4
    assert keys_of(s3, bkt) == ["exactly100", "p/one", "q/both", "tagged-other", "three"]


def test_versioned_expiration_adds_delete_marker(srv, s3, vbkt):
    s3.put_bucket_lifecycle_configuration(Bucket=vbkt, LifecycleConfiguration=rules(
        {"ID": "e", "Status": "Enabled", "Filter": {"Prefix": "a"}, "Expiration": {"Days": 1}}))
    v1 = s3.put_object(Bucket=vbkt, Key="a", Body=BODY)["VersionId"]
    s3.put_object(Bucket=vbkt, Key="b", Body=BODY)
    blobs = blob_files(srv)
    n = run_now(srv, days_ahead(2))
    assert n == {"expired": 1, "removed": 0, "aborted": 0, "scanned": 2}
    vs = versions_of(s3, vbkt)
    marker = [v for v in vs if v[0] == "a" and v[3]]
    assert len(marker) == 1 and marker[0][2] is True  # the marker is the current version
    assert ("a", v1, False, False) in vs  # the data is still there, noncurrent
    assert blob_files(srv) == blobs  # nothing removed from disk
    with pytest.raises(Exception) as e:
        s3.get_object(Bucket=vbkt, Key="a")
    assert error_of(e) == (404, "NoSuchKey")
    assert s3.get_object(Bucket=vbkt, Key="a", VersionId=v1)["Body"].read() == BODY
    # the marker is current now: a second run adds nothing
    assert run_now(srv, days_ahead(2))["expired"] == 0


def test_noncurrent_expiration_and_newer_versions(srv, s3, vbkt):
    s3.put_bucket_lifecycle_configuration(Bucket=vbkt, LifecycleConfiguration=rules(
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}))
    ids = [s3.put_object(Bucket=vbkt, Key="k", Body=BODY + bytes([i]))["VersionId"]
           for i in range(5)]
    blobs = set(blob_files(srv))
    assert run_now(srv, days_ahead(0.5))["removed"] == 0  # not noncurrent for a day yet
    n = run_now(srv, days_ahead(2))
    # current + the 2 newest noncurrent versions are kept; the 2 oldest go
    assert n["removed"] == 2 and n["expired"] == 0
    left = [v[1] for v in versions_of(s3, vbkt)]
    assert sorted(left) == sorted(ids[2:])
    assert len(blobs - set(blob_files(srv))) == 2
    assert s3.get_object(Bucket=vbkt, Key="k")["Body"].read() == BODY + bytes([4])


def test_noncurrent_days_count_from_when_superseded(srv, s3, vbkt):
    s3.put_bucket_lifecycle_configuration(Bucket=vbkt, LifecycleConfiguration=rules(
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 3}}))
    old = s3.put_object(Bucket=vbkt, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=vbkt, Key="k", Body=b"2")
    # superseded now: due at the midnight after now + 3 days
    assert run_now(srv, days_ahead(2.9))["removed"] == 0
    assert run_now(srv, days_ahead(4.01))["removed"] == 1
    assert old not in [v[1] for v in versions_of(s3, vbkt)]


def test_expired_object_delete_marker(srv, s3, vbkt):
    s3.put_bucket_lifecycle_configuration(Bucket=vbkt, LifecycleConfiguration=rules(
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}))
    s3.put_object(Bucket=vbkt, Key="gone", Body=BODY)
    s3.delete_object(Bucket=vbkt, Key="gone")  # marker over one noncurrent version
    s3.put_object(Bucket=vbkt, Key="kept", Body=BODY)
    s3.delete_object(Bucket=vbkt, Key="lone")  # a marker with nothing under it
    n = run_now(srv, days_ahead(0.1))
    assert n["removed"] == 1  # only the lone marker: the other still has a version under it
    assert sorted((v[0], v[3]) for v in versions_of(s3, vbkt)) == [
        ("gone", False), ("gone", True), ("kept", False)]
    n = run_now(srv, days_ahead(3))
    # the noncurrent version goes, and then its marker is alone and goes too
    assert n["removed"] == 2
    assert [(v[0], v[3]) for v in versions_of(s3, vbkt)] == [("kept", False)]


def test_suspended_bucket_expiration(srv, s3, bkt):
    s3.put_bucket_versioning(Bucket=bkt, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "e", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}))
    s3.put_object(Bucket=bkt, Key="a", Body=BODY)
    blobs = set(blob_files(srv))
    assert run_now(srv, days_ahead(2))["expired"] == 1
    # the null version is replaced by a null delete marker, and its blob removed
    assert versions_of(s3, bkt) == [("a", "null", True, True)]
    assert len(blobs - set(blob_files(srv))) == 1


def test_abort_incomplete_uploads_removes_part_blobs(srv, s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "mp", "Status": "Enabled", "Filter": {"Prefix": "up/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}))
    before = set(blob_files(srv))
    old = s3.create_multipart_upload(Bucket=bkt, Key="up/big")["UploadId"]
    for n in (1, 2):
        s3.upload_part(Bucket=bkt, Key="up/big", UploadId=old, PartNumber=n, Body=BODY)
    other = s3.create_multipart_upload(Bucket=bkt, Key="elsewhere")["UploadId"]
    s3.upload_part(Bucket=bkt, Key="elsewhere", UploadId=other, PartNumber=1, Body=BODY)
    parts = set(blob_files(srv)) - before
    assert len(parts) == 3
    assert run_now(srv, days_ahead(1))["aborted"] == 0
    n = run_now(srv, days_ahead(3))
    assert n["aborted"] == 1 and n["expired"] == 0
    ups = s3.list_multipart_uploads(Bucket=bkt).get("Uploads", [])
    assert [u["UploadId"] for u in ups] == [other]
    assert len(parts - set(blob_files(srv))) == 2  # the aborted upload's two part blobs
    with pytest.raises(Exception) as e:
        s3.list_parts(Bucket=bkt, Key="up/big", UploadId=old)
    assert error_of(e) == (404, "NoSuchUpload")
    s3.abort_multipart_upload(Bucket=bkt, Key="elsewhere", UploadId=other)


def test_run_endpoint_refusals(srv):
    r = raw_request(srv.port, "POST", "/_coffer/lifecycle/run?now=tomorrow", auth=None)
    assert r.status == 400 and error_code_msg(r)[0] == "InvalidArgument", r
    r = raw_request(srv.port, "GET", "/_coffer/lifecycle/run", auth=None)
    assert r.status == 405, r
    n = run_now(srv)  # no now: the clock
    assert set(n) == {"expired", "removed", "aborted", "scanned"}


def test_run_endpoint_refused_in_aws_profile(coffer_factory):
    s = coffer_factory(extra_args=["--profile", "aws", "--lifecycle-interval", "0"])
    r = raw_request(s.port, "POST", "/_coffer/lifecycle/run", auth=None)
    assert r.status == 403 and error_code_msg(r)[0] == "AccessDenied", r


def test_cli_run_while_server_runs(srv, s3, bkt):
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "e", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}))
    s3.put_object(Bucket=bkt, Key="a", Body=BODY)
    args = [COFFER_BIN, "lifecycle", "run", "--data-dir", str(srv.data_dir),
            "--root-key-file", str(srv.root_key)]
    p = subprocess.run(args + ["--now", "2000-01-01"], capture_output=True, text=True,
                       env=server_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert keys_of(s3, bkt) == ["a"]
    p = subprocess.run(args + ["--now", days_ahead(2)], capture_output=True, text=True,
                       env=server_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert re.search(r"lifecycle: \d+ looked at, 1 expired, 0 removed, 0 uploads aborted",
                     p.stdout), p.stdout
    assert keys_of(s3, bkt) == []
    p = subprocess.run(args[:3] + ["--now", "soon"], capture_output=True, text=True,
                       env=server_env(), timeout=60)
    assert p.returncode == 2 and "ISO 8601" in p.stderr
    p = subprocess.run([COFFER_BIN, "lifecycle"], capture_output=True, text=True,
                       env=server_env(), timeout=60)
    assert p.returncode == 2 and "usage: coffer lifecycle run" in p.stderr


def test_background_sweeper(coffer_factory):
    """With --lifecycle-interval 1 the server applies the rules itself."""
    s = coffer_factory(extra_args=["--lifecycle-interval", "1"])
    c = s.client()
    name = unique_name("lcbg")
    c.create_bucket(Bucket=name)
    c.put_object(Bucket=name, Key="a", Body=b"x")
    # Date rules in the past expire at once (AWS accepts past dates too)
    c.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=rules(
        {"ID": "past", "Status": "Enabled", "Filter": {},
         "Expiration": {"Date": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)}}))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and keys_of(c, name):
        time.sleep(0.2)
    assert keys_of(c, name) == []
    assert "lifecycle" in s.stderr_text()


# ---- crash safety ----------------------------------------------------------------------------

FSCK_RE = re.compile(r"fsck: (\d+) objects checked .*?, (\d+) damaged, (\d+) unreferenced blobs")


def fsck(s):
    p = subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(s.data_dir), "--root-key-file",
                        str(s.root_key)], capture_output=True, text=True, env=server_env(),
                       timeout=300)
    m = FSCK_RE.search(p.stdout)
    assert p.returncode == 0 and m, p.stdout + p.stderr
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_kill_during_sweep_loses_nothing(coffer_factory, tmp_path):
    n_expire, n_keep = 600, 100
    s = coffer_factory(data_dir=tmp_path / "data", root_key=tmp_path / "root.key",
                       extra_args=["--lifecycle-interval", "0", "--durability", "relaxed"])
    c = s.client()
    name = unique_name("lccrash")
    c.create_bucket(Bucket=name)
    keep = {f"keep/{i:05d}": hashlib.sha256(b"k%d" % i).digest() * 40 for i in range(n_keep)}
    expire = [f"old/{i:05d}" for i in range(n_expire)]

    def put_all(items):
        for k, body in items:
            c.put_object(Bucket=name, Key=k, Body=body)
    items = list(keep.items()) + [(k, BODY) for k in expire]
    threads = [threading.Thread(target=put_all, args=(items[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=rules(
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "old/"},
         "Expiration": {"Days": 1}}))
    # The sweep runs with durability full (a sync per removal), so that it lasts long enough to
    # be killed part-way; filling the bucket did not need it.
    s.stop()
    s.extra_args = ["--lifecycle-interval", "0"]
    s.start()
    blobs = len(blob_files(s))
    assert blobs == n_keep + n_expire
    # kill -9 while POST /_coffer/lifecycle/run is sweeping
    out = {}

    def sweep():
        try:
            out["r"] = raw_request(s.port, "POST",
                                   "/_coffer/lifecycle/run?now=" + days_ahead(2), auth=None)
        except OSError as e:
            out["e"] = e
    t = threading.Thread(target=sweep)
    t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(blob_files(s)) > blobs - 100 and "r" not in out:
        time.sleep(0.005)
    s.kill()
    t.join()
    assert "r" not in out or out["r"].status != 200, "the sweep finished before the kill"
    objects, damaged, unreferenced = fsck(s)
    assert damaged == 0
    left = objects
    assert n_keep < left < n_keep + n_expire  # killed part-way
    s.start()
    c = s.client()
    # every kept object intact; what was removed is gone for good, the rest is whole
    for k, body in keep.items():
        assert c.get_object(Bucket=name, Key=k)["Body"].read() == body
    for k in keys_of(c, name):
        if k.startswith("old/"):
            assert c.get_object(Bucket=name, Key=k)["Body"].read() == BODY
    n = run_now(s, days_ahead(2))
    assert n["expired"] == left - n_keep
    assert keys_of(c, name) == sorted(keep)
    s.stop()
    objects, damaged, unreferenced = fsck(s)
    assert (objects, damaged, unreferenced) == (n_keep, 0, 0)
    assert len(blob_files(s)) == n_keep  # no orphan left behind
    s.start()
    purge(s.client(), name)


def test_transitions_change_only_the_reported_storage_class(s3, bkt):
    s3.put_object(Bucket=bkt, Key="cold/a", Body=b"frozen", Tagging="t=1")
    s3.put_object(Bucket=bkt, Key="warm/b", Body=b"warm")
    s3.put_bucket_lifecycle_configuration(Bucket=bkt, LifecycleConfiguration=rules(
        {"ID": "past", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
         "Transitions": [{"Date": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
                          "StorageClass": "STANDARD_IA"},
                         {"Date": datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc),
                          "StorageClass": "GLACIER"}]},
        {"ID": "future", "Status": "Enabled", "Filter": {"Prefix": "warm/"},
         "Transitions": [{"Days": 30, "StorageClass": "DEEP_ARCHIVE"}]}))
    head = s3.head_object(Bucket=bkt, Key="cold/a")
    assert head["StorageClass"] == "GLACIER"  # the latest due transition
    assert "StorageClass" not in s3.head_object(Bucket=bkt, Key="warm/b")
    # one tier: the object is still read as before
    assert s3.get_object(Bucket=bkt, Key="cold/a")["Body"].read() == b"frozen"
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bkt)["Contents"]}
    assert listed == {"cold/a": "GLACIER", "warm/b": "STANDARD"}
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects(Bucket=bkt)["Contents"]}
    assert listed == {"cold/a": "GLACIER", "warm/b": "STANDARD"}
    attrs = s3.get_object_attributes(Bucket=bkt, Key="cold/a", ObjectAttributes=["StorageClass"])
    assert attrs["StorageClass"] == "GLACIER"
    s3.delete_bucket_lifecycle(Bucket=bkt)
    assert "StorageClass" not in s3.head_object(Bucket=bkt, Key="cold/a")


def test_kill_cli_during_noncurrent_sweep(coffer_factory, tmp_path):
    """coffer lifecycle run killed part-way through a versioned bucket's noncurrent versions:
    every current version intact, each old one whole or gone, fsck clean, no orphan."""
    n_keys, n_versions = 150, 3
    s = coffer_factory(data_dir=tmp_path / "data", root_key=tmp_path / "root.key",
                       extra_args=["--lifecycle-interval", "0", "--durability", "relaxed"])
    c = s.client()
    name = unique_name("lcvkill")
    c.create_bucket(Bucket=name)
    c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def body(k, v):
        return hashlib.sha256(f"{k}/{v}".encode()).digest() * 50

    def put_keys(ks):
        for v in range(n_versions):
            for k in ks:
                c.put_object(Bucket=name, Key=k, Body=body(k, v))
    keys = [f"k{i:04d}" for i in range(n_keys)]
    threads = [threading.Thread(target=put_keys, args=(keys[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=rules(
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}))
    s.stop()
    blobs = len(blob_files(s))
    assert blobs == n_keys * n_versions
    # durability full (the default): a sync per removal, long enough to be killed part-way
    proc = subprocess.Popen([COFFER_BIN, "lifecycle", "run", "--now", days_ahead(3),
                             "--data-dir", str(s.data_dir), "--root-key-file", str(s.root_key)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(blob_files(s)) > blobs - 40 and proc.poll() is None:
        time.sleep(0.005)
    proc.kill()
    proc.communicate()
    assert proc.returncode == -9, "the sweep finished before the kill"
    objects, damaged, _ = fsck(s)
    assert damaged == 0 and n_keys < objects < n_keys * n_versions
    s.start()
    c = s.client()
    for k in keys:
        vs = c.list_object_versions(Bucket=name, Prefix=k)["Versions"]
        assert vs[0]["IsLatest"]
        assert c.get_object(Bucket=name, Key=k)["Body"].read() == body(k, n_versions - 1)
        for v in vs[1:]:
            data = c.get_object(Bucket=name, Key=k, VersionId=v["VersionId"])["Body"].read()
            assert data in (body(k, 0), body(k, 1))
    n = run_now(s, days_ahead(3))
    assert n["removed"] == objects - n_keys and n["expired"] == 0
    s.stop()
    assert fsck(s) == (n_keys, 0, 0)
    assert len(blob_files(s)) == n_keys


def test_locked_versions_are_never_expired(srv, s3):
    """Object Lock wins over lifecycle: a retention still ahead by the real clock (even in a run
    told a later `now`) or a legal hold keeps a version; unlocked ones go as usual."""
    b = unique_name("lclock")
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    governed = s3.put_object(Bucket=b, Key="k", Body=b"governed", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=until)["VersionId"]
    held = s3.put_object(Bucket=b, Key="k", Body=b"held",
                         ObjectLockLegalHoldStatus="ON")["VersionId"]
    plain = s3.put_object(Bucket=b, Key="k", Body=b"plain")["VersionId"]
    current = s3.put_object(Bucket=b, Key="k", Body=b"current")["VersionId"]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rules(
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}))
    n = run_now(srv, days_ahead(30))
    assert n["removed"] == 1, n
    left = sorted(v[1] for v in versions_of(s3, b))
    assert left == sorted([governed, held, current])
    assert plain not in left
    for vid, body in ((governed, b"governed"), (held, b"held")):
        assert s3.get_object(Bucket=b, Key="k", VersionId=vid)["Body"].read() == body
    # once unlocked, the next run takes them
    s3.put_object_legal_hold(Bucket=b, Key="k", VersionId=held, LegalHold={"Status": "OFF"})
    s3.put_object_retention(Bucket=b, Key="k", VersionId=governed, Retention={},
                            BypassGovernanceRetention=True)
    assert run_now(srv, days_ahead(30))["removed"] == 2
    assert [v[1] for v in versions_of(s3, b)] == [current]
    s3.delete_bucket_lifecycle(Bucket=b)
    s3.delete_object(Bucket=b, Key="k", VersionId=current)
    s3.delete_bucket(Bucket=b)
