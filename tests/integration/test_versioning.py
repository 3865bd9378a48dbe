"""Bucket versioning through boto3, the aws CLI and raw HTTP: Put/GetBucketVersioning, version
ids on every write, GET/HEAD/DELETE ?versionId, delete markers and their 404/405 answers, the
null version under suspension, ListObjectVersions with its markers, copies of old versions,
DeleteObjects with versions, SSE-C per version, and that deleted versions leave no blob."""

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, error_of, stored_blob_ids, unique_name

VID_RE = re.compile(r"^[A-Za-z0-9._]{32}$")


def versioned_bucket(s3, status="Enabled"):
    name = unique_name("ver")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


def wipe(s3, bucket):
    """Removes every version and marker, then the bucket."""
    resp = s3.list_object_versions(Bucket=bucket)
    for v in resp.get("Versions", []) + resp.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def blob_files(data_dir):
    """Ids of the stored blobs: files, and small bodies kept inline."""
    return stored_blob_ids(data_dir)


def ssec_args(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_versioning_status_round_trip(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versioning_bad_documents(raw, s3, bucket):
    for body in (b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
                 b"<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>",
                 b"<Versioning><Status>Enabled</Status></Versioning>",
                 b"not xml",
                 b"<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status>"
                 b"</VersioningConfiguration>"):
        r = raw("PUT", f"/{bucket}?versioning", body=body)
        assert r.status == 400, body
        assert r.xml().findtext("Code") == "MalformedXML"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    r = raw("GET", "/no-such-bucket-ver?versioning")
    assert r.status == 404 and r.xml().findtext("Code") == "NoSuchBucket"


# --------------------------------------------------------------------------
# versions of one key
# --------------------------------------------------------------------------

def test_unversioned_bucket_sends_no_version_header(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "VersionId" not in r
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    r = s3.delete_object(Bucket=bucket, Key="k")
    assert "VersionId" not in r and "DeleteMarker" not in r


def test_versions_kept_and_readable(s3):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
        v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two!")["VersionId"]
        assert VID_RE.match(v1) and VID_RE.match(v2) and v1 != v2
        assert s3.get_object(Bucket=b, Key="doc")["Body"].read() == b"two!"
        got = s3.get_object(Bucket=b, Key="doc", VersionId=v1)
        assert got["Body"].read() == b"one"
        assert got["VersionId"] == v1
        head = s3.head_object(Bucket=b, Key="doc", VersionId=v2)
        assert head["ContentLength"] == 4 and head["VersionId"] == v2
        # Range reads of an old version.
        part = s3.get_object(Bucket=b, Key="doc", VersionId=v1, Range="bytes=1-1")
        assert part["Body"].read() == b"n"
        # Missing and malformed version ids.
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=b, Key="doc", VersionId="A" * 32)
        assert error_of(ei) == (404, "NoSuchVersion")
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=b, Key="doc", VersionId="bogus")
        assert error_of(ei) == (400, "InvalidArgument")
    finally:
        wipe(s3, b)


def test_delete_marker_rules(s3, raw):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="k", Body=b"data")["VersionId"]
        d = s3.delete_object(Bucket=b, Key="k")
        assert d["DeleteMarker"] is True
        marker = d["VersionId"]
        assert VID_RE.match(marker) and marker != v1
        # Current version is a marker: 404 NoSuchKey naming it.
        r = raw("GET", f"/{b}/k")
        assert r.status == 404 and r.xml().findtext("Code") == "NoSuchKey"
        assert r.header("x-amz-delete-marker") == "true"
        assert r.header("x-amz-version-id") == marker
        r = raw("HEAD", f"/{b}/k")
        assert r.status == 404 and r.header("x-amz-delete-marker") == "true"
        # The marker by version id: 405.
        r = raw("GET", f"/{b}/k?versionId={marker}")
        assert r.status == 405 and r.xml().findtext("Code") == "MethodNotAllowed"
        assert r.header("x-amz-delete-marker") == "true"
        assert r.header("last-modified") is not None
        r = raw("HEAD", f"/{b}/k?versionId={marker}")
        assert r.status == 405
        # Not listed, but the old version is still readable.
        assert s3.list_objects_v2(Bucket=b).get("KeyCount") == 0
        assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"data"
        # Deleting the marker brings the object back.
        d = s3.delete_object(Bucket=b, Key="k", VersionId=marker)
        assert d["DeleteMarker"] is True and d["VersionId"] == marker
        assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"data"
        # Deleting a version for good.
        d = s3.delete_object(Bucket=b, Key="k", VersionId=v1)
        assert d["VersionId"] == v1 and "DeleteMarker" not in d
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=b, Key="k")
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        # Deleting a version that is gone succeeds (idempotent).
        assert s3.delete_object(Bucket=b, Key="k", VersionId=v1)["VersionId"] == v1
    finally:
        wipe(s3, b)


def test_suspended_null_version(s3):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="k", Body=b"v1")["VersionId"]
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
        # AWS sends x-amz-version-id on writes only while versioning is Enabled: none for the
        # null version a suspended bucket writes (PUT, copy, Complete); reads still name it.
        r = s3.put_object(Bucket=b, Key="k", Body=b"null-1")
        assert "x-amz-version-id" not in r["ResponseMetadata"]["HTTPHeaders"]
        r = s3.copy_object(Bucket=b, Key="k", CopySource={"Bucket": b, "Key": "k"},
                           MetadataDirective="REPLACE")
        assert "x-amz-version-id" not in r["ResponseMetadata"]["HTTPHeaders"]
        up = s3.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
        etag = s3.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=b"mp")["ETag"]
        r = s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etag}]})
        assert "x-amz-version-id" not in r["ResponseMetadata"]["HTTPHeaders"]
        r = s3.put_object(Bucket=b, Key="k", Body=b"null-2")
        assert "VersionId" not in r
        vs = s3.list_object_versions(Bucket=b)["Versions"]
        assert [(v["VersionId"], v["IsLatest"]) for v in vs] == [("null", True), (v1, False)]
        assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"null-2"
        assert s3.head_object(Bucket=b, Key="k")["VersionId"] == "null"
        # A delete under suspension is a null delete marker replacing the null version.
        d = s3.delete_object(Bucket=b, Key="k")
        assert d["DeleteMarker"] is True and d["VersionId"] == "null"
        resp = s3.list_object_versions(Bucket=b)
        assert [v["VersionId"] for v in resp["Versions"]] == [v1]
        assert [(m["VersionId"], m["IsLatest"]) for m in resp["DeleteMarkers"]] == [("null", True)]
        # Re-enabled: new ids again, the null marker stays as an older version.
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v3 = s3.put_object(Bucket=b, Key="k", Body=b"v3")["VersionId"]
        assert VID_RE.match(v3)
    finally:
        wipe(s3, b)


def test_objects_from_before_versioning_are_the_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"before")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="old", Body=b"after")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="old", VersionId="null")["Body"].read() == b"before"
    assert s3.get_object(Bucket=bucket, Key="old")["VersionId"] == v
    for ver in ("null", v):
        s3.delete_object(Bucket=bucket, Key="old", VersionId=ver)


# --------------------------------------------------------------------------
# listing
# --------------------------------------------------------------------------

def test_list_object_versions_order_and_pagination(s3):
    b = versioned_bucket(s3)
    try:
        ids = {}
        for key in ("a", "b/x", "b/y", "c"):
            ids[key] = [s3.put_object(Bucket=b, Key=key, Body=key.encode() * (i + 1))["VersionId"]
                        for i in range(2)]
        marker = s3.delete_object(Bucket=b, Key="c")["VersionId"]
        resp = s3.list_object_versions(Bucket=b)
        assert resp["IsTruncated"] is False
        got = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in resp["Versions"]]
        assert got == [("a", ids["a"][1], True), ("a", ids["a"][0], False),
                       ("b/x", ids["b/x"][1], True), ("b/x", ids["b/x"][0], False),
                       ("b/y", ids["b/y"][1], True), ("b/y", ids["b/y"][0], False),
                       ("c", ids["c"][1], False), ("c", ids["c"][0], False)]
        assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in resp["DeleteMarkers"]] == \
            [("c", marker, True)]
        v = resp["Versions"][0]
        assert v["Size"] == 2 and v["ETag"] == '"%s"' % hashlib.md5(b"aa").hexdigest()
        assert v["StorageClass"] == "STANDARD" and "Owner" in v
        # Delimiter rolls b/ up; prefix narrows.
        resp = s3.list_object_versions(Bucket=b, Delimiter="/")
        assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["b/"]
        assert {v["Key"] for v in resp["Versions"]} == {"a", "c"}
        resp = s3.list_object_versions(Bucket=b, Prefix="b/")
        assert len(resp["Versions"]) == 4
        # Pages of 3 walk everything exactly once, resuming inside a key.
        seen, km, vm = [], None, None
        while True:
            kw = {"Bucket": b, "MaxKeys": 3}
            if km is not None:
                kw["KeyMarker"] = km
                if vm is not None:
                    kw["VersionIdMarker"] = vm
            resp = s3.list_object_versions(**kw)
            page = resp.get("Versions", []) + resp.get("DeleteMarkers", [])
            assert len(page) <= 3
            seen += [(x["Key"], x["VersionId"]) for x in page]
            if not resp["IsTruncated"]:
                break
            km, vm = resp["NextKeyMarker"], resp.get("NextVersionIdMarker")
        assert len(seen) == 9 and len(set(seen)) == 9
        # A version-id-marker needs a key marker; a bad one is refused.
        with pytest.raises(ClientError) as ei:
            s3.list_object_versions(Bucket=b, VersionIdMarker=ids["a"][0])
        assert error_of(ei) == (400, "InvalidArgument")
    finally:
        wipe(s3, b)


def test_list_versions_of_unversioned_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in resp["Versions"]] == \
        [("k", "null", True)]


# --------------------------------------------------------------------------
# copy, multipart, DeleteObjects
# --------------------------------------------------------------------------

def test_copy_old_version_restores_it(s3):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="k", Body=b"first")["VersionId"]
        s3.put_object(Bucket=b, Key="k", Body=b"second")
        r = s3.copy_object(Bucket=b, Key="k", CopySource={"Bucket": b, "Key": "k",
                                                          "VersionId": v1})
        assert r["CopySourceVersionId"] == v1
        assert VID_RE.match(r["VersionId"])
        assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"first"
        assert len(s3.list_object_versions(Bucket=b)["Versions"]) == 3
        with pytest.raises(ClientError) as ei:
            s3.copy_object(Bucket=b, Key="k2", CopySource={"Bucket": b, "Key": "k",
                                                           "VersionId": "B" * 32})
        assert error_of(ei) == (404, "NoSuchVersion")
    finally:
        wipe(s3, b)


def test_multipart_gets_a_version(s3):
    b = versioned_bucket(s3)
    try:
        v0 = s3.put_object(Bucket=b, Key="mp", Body=b"small")["VersionId"]
        up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        p1 = os.urandom(5 * 1024 * 1024)
        p2 = b"tail"
        e1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
        e2 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2, Body=p2)["ETag"]
        r = s3.complete_multipart_upload(
            Bucket=b, Key="mp", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                       {"PartNumber": 2, "ETag": e2}]})
        vid = r["VersionId"]
        assert VID_RE.match(vid) and vid != v0
        assert s3.get_object(Bucket=b, Key="mp", VersionId=vid)["Body"].read() == p1 + p2
        assert s3.get_object(Bucket=b, Key="mp", VersionId=v0)["Body"].read() == b"small"
        got = s3.get_object(Bucket=b, Key="mp", VersionId=vid, PartNumber=2)
        assert got["Body"].read() == p2
        # A newer version on top keeps the multipart one readable.
        s3.put_object(Bucket=b, Key="mp", Body=b"newer")
        assert s3.get_object(Bucket=b, Key="mp", VersionId=vid)["Body"].read() == p1 + p2
    finally:
        wipe(s3, b)


def test_delete_objects_with_versions(s3):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="x", Body=b"1")["VersionId"]
        v2 = s3.put_object(Bucket=b, Key="x", Body=b"2")["VersionId"]
        s3.put_object(Bucket=b, Key="y", Body=b"y")
        r = s3.delete_objects(Bucket=b, Delete={"Objects": [
            {"Key": "x", "VersionId": v1}, {"Key": "y"}, {"Key": "x", "VersionId": "bad"}]})
        deleted = {(d["Key"], d.get("VersionId")): d for d in r["Deleted"]}
        assert ("x", v1) in deleted and "DeleteMarker" not in deleted[("x", v1)]
        ym = deleted[("y", None)]
        assert ym["DeleteMarker"] is True and VID_RE.match(ym["DeleteMarkerVersionId"])
        assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("x", "InvalidArgument")]
        vs = s3.list_object_versions(Bucket=b)
        assert [v["VersionId"] for v in vs["Versions"] if v["Key"] == "x"] == [v2]
        # Removing the marker by version through DeleteObjects.
        r = s3.delete_objects(Bucket=b, Delete={"Objects": [
            {"Key": "y", "VersionId": ym["DeleteMarkerVersionId"]}]})
        d = r["Deleted"][0]
        assert d["DeleteMarker"] is True
        assert s3.get_object(Bucket=b, Key="y")["Body"].read() == b"y"
    finally:
        wipe(s3, b)


def test_bucket_with_versions_is_not_empty(s3):
    b = versioned_bucket(s3)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    s3.delete_object(Bucket=b, Key="k")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=b)
    assert error_of(ei) == (409, "BucketNotEmpty")
    wipe(s3, b)


# --------------------------------------------------------------------------
# encryption per version, and nothing left behind
# --------------------------------------------------------------------------

def test_each_version_keeps_its_own_encryption(s3):
    b = versioned_bucket(s3)
    k1, k2 = os.urandom(32), os.urandom(32)
    try:
        va = s3.put_object(Bucket=b, Key="s", Body=b"ssec-one", **ssec_args(k1))["VersionId"]
        vb = s3.put_object(Bucket=b, Key="s", Body=b"ssec-two", **ssec_args(k2))["VersionId"]
        vc = s3.put_object(Bucket=b, Key="s", Body=b"kms", ServerSideEncryption="aws:kms")
        assert vc["ServerSideEncryption"] == "aws:kms"
        assert s3.get_object(Bucket=b, Key="s", VersionId=va,
                             **ssec_args(k1))["Body"].read() == b"ssec-one"
        assert s3.get_object(Bucket=b, Key="s", VersionId=vb,
                             **ssec_args(k2))["Body"].read() == b"ssec-two"
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=b, Key="s", VersionId=va, **ssec_args(k2))
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=b, Key="s", VersionId=vb)
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert s3.get_object(Bucket=b, Key="s")["ServerSideEncryption"] == "aws:kms"
        # Restoring an SSE-C version by copy needs its key as the copy source key.
        r = s3.copy_object(Bucket=b, Key="s", CopySource={"Bucket": b, "Key": "s",
                                                          "VersionId": va},
                           CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1)
        assert s3.get_object(Bucket=b, Key="s")["Body"].read() == b"ssec-one"
        assert r["ServerSideEncryption"] == "AES256"
    finally:
        wipe(s3, b)


def fsck(srv):
    return subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(srv.data_dir),
                           "--root-key-file", str(srv.root_key)],
                          capture_output=True, text=True, timeout=60)


def test_deleted_versions_leave_no_blobs_and_fsck_agrees(coffer_factory):
    srv = coffer_factory()
    s3 = srv.client()
    b = versioned_bucket(s3)
    base = set(blob_files(srv.data_dir))
    for i in range(3):
        s3.put_object(Bucket=b, Key="k", Body=b"canary-version-%d" % i * 100)
    s3.delete_object(Bucket=b, Key="k")
    assert len(set(blob_files(srv.data_dir)) - base) == 3
    srv.stop()
    assert fsck(srv).returncode == 0  # noncurrent versions and a marker are consistent
    srv.start()
    s3 = srv.client()
    wipe(s3, b)
    assert set(blob_files(srv.data_dir)) - base == set()
    srv.stop()
    out = fsck(srv)
    assert out.returncode == 0, out.stdout + out.stderr


def test_versions_survive_restart(coffer_factory):
    srv = coffer_factory()
    s3 = srv.client()
    b = versioned_bucket(s3)
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"two")
    srv.restart()
    s3 = srv.client()
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"


# --------------------------------------------------------------------------
# the aws CLI
# --------------------------------------------------------------------------

def test_cli_versioning_flow(aws, s3, tmp_path):
    b = unique_name("vcli")
    aws("s3", "mb", f"s3://{b}")
    aws("s3api", "put-bucket-versioning", "--bucket", b,
        "--versioning-configuration", "Status=Enabled")
    out = json.loads(aws("s3api", "get-bucket-versioning", "--bucket", b).stdout)
    assert out["Status"] == "Enabled"
    f = tmp_path / "f.txt"
    f.write_bytes(b"cli-one")
    v1 = json.loads(aws("s3api", "put-object", "--bucket", b, "--key", "f.txt",
                        "--body", str(f)).stdout)["VersionId"]
    f.write_bytes(b"cli-two")
    aws("s3", "cp", str(f), f"s3://{b}/f.txt")
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", b).stdout)
    assert len(out["Versions"]) == 2
    dest = tmp_path / "old.txt"
    aws("s3api", "get-object", "--bucket", b, "--key", "f.txt", "--version-id", v1, str(dest))
    assert dest.read_bytes() == b"cli-one"
    aws("s3", "rm", f"s3://{b}/f.txt")
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", b).stdout)
    assert len(out["DeleteMarkers"]) == 1 and out["DeleteMarkers"][0]["IsLatest"] is True
    wipe(s3, b)


def test_tags_belong_to_their_version(s3, raw):
    b = versioned_bucket(s3)
    try:
        v1 = s3.put_object(Bucket=b, Key="t", Body=b"1", Tagging="gen=one")["VersionId"]
        v2 = s3.put_object(Bucket=b, Key="t", Body=b"2", Tagging="gen=two&x=y")["VersionId"]
        assert s3.get_object_tagging(Bucket=b, Key="t", VersionId=v1)["TagSet"] == \
            [{"Key": "gen", "Value": "one"}]
        s3.put_object_tagging(Bucket=b, Key="t", VersionId=v1,
                              Tagging={"TagSet": [{"Key": "gen", "Value": "old"}]})
        assert s3.get_object_tagging(Bucket=b, Key="t", VersionId=v1)["TagSet"] == \
            [{"Key": "gen", "Value": "old"}]
        assert s3.get_object(Bucket=b, Key="t", VersionId=v1)["TagCount"] == 1
        assert s3.get_object(Bucket=b, Key="t")["TagCount"] == 2
        assert s3.get_object_tagging(Bucket=b, Key="t")["VersionId"] == v2
        s3.delete_object_tagging(Bucket=b, Key="t", VersionId=v2)
        assert s3.get_object_tagging(Bucket=b, Key="t", VersionId=v2)["TagSet"] == []
        assert len(s3.get_object_tagging(Bucket=b, Key="t", VersionId=v1)["TagSet"]) == 1
        # A delete marker has no tags: 405 by version id, 404 as the current version.
        marker = s3.delete_object(Bucket=b, Key="t")["VersionId"]
        r = raw("GET", f"/{b}/t?tagging&versionId={marker}")
        assert r.status == 405 and r.header("x-amz-delete-marker") == "true"
        r = raw("GET", f"/{b}/t?tagging")
        assert r.status == 404 and r.xml().findtext("Code") == "NoSuchKey"
    finally:
        wipe(s3, b)


def test_list_object_versions_bad_parameters(raw, bucket):
    r = raw("GET", f"/{bucket}?versions&max-keys=abc")
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidArgument"
    r = raw("GET", f"/{bucket}?versions&encoding-type=base64")
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidArgument"
    r = raw("GET", f"/{bucket}?versions&key-marker=k&version-id-marker=bad")
    assert r.status == 400 and r.xml().findtext("Code") == "InvalidArgument"
    r = raw("GET", "/no-such-bucket-versions?versions")
    assert r.status == 404 and r.xml().findtext("Code") == "NoSuchBucket"
