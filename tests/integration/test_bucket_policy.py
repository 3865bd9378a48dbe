"""Bucket policies: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, MalformedPolicy, and
enforcement (seed 004's deny-unencrypted-uploads flow, aws:SecureTransport over HTTP vs TLS,
aws:SourceIp, s3:prefix, principals mapped from access keys with signature checking on)."""
import json
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import error_of, raw_request, run_aws, unique_name
from test_tls import cert_only

# Seed 004 (OSiRIS "S3 SSE-C" page, "Force Encryption Policy"), verbatim; %s is the bucket.
SEED_004_POLICY = """{
   "Version":"2018-05-24",
   "Id":"PutObjPolicy",
   "Statement":[{
         "Sid":"DenyUnEncryptedObjectUploads",
         "Effect":"Deny",
         "Principal":{
            "AWS":"*"
         },
         "Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::%s/*",
         "Condition":{
            "StringNotEquals":{
               "s3:x-amz-server-side-encryption":"AES256"
            }
         }
      }
   ]
}"""


def doc(bucket, *statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


def stmt(effect, action, resource, principal="*", condition=None, **extra):
    s = {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource}
    if condition is not None:
        s["Condition"] = condition
    s.update(extra)
    return s


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*a, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


def client(srv, ak="test", sk="test", endpoint=None, **kw):
    return boto3.client("s3", endpoint_url=endpoint or srv.endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1},
                                      s3={"addressing_style": "path"}), **kw)


# ---- the seed ------------------------------------------------------------------------------

def test_seed_004_deny_unencrypted_uploads(s3, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=SEED_004_POLICY % bucket)
    st, code, msg = err(s3.put_object, Bucket=bucket, Key="test.txt", Body=b"plain")
    assert (st, code, msg) == (403, "AccessDenied", "Access Denied")
    r = s3.put_object(Bucket=bucket, Key="test.txt", Body=b"sealed", ServerSideEncryption="AES256")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="test.txt")["Body"].read() == b"sealed"
    # The stored text comes back as sent.
    got = s3.get_bucket_policy(Bucket=bucket)
    assert got["Policy"] == SEED_004_POLICY % bucket


def test_seed_004_with_aws_cli(server, bucket, tmp_path):
    pf = tmp_path / "policy.json"
    pf.write_text(SEED_004_POLICY % bucket)
    body = tmp_path / "body.txt"
    body.write_bytes(b"cli body")
    run_aws(server.endpoint, "s3api", "put-bucket-policy", "--bucket", bucket,
            "--policy", f"file://{pf}", cwd=str(tmp_path))
    p = run_aws(server.endpoint, "s3api", "put-object", "--bucket", bucket, "--key", "k",
                "--body", str(body), cwd=str(tmp_path), check=False)
    assert p.returncode != 0 and "AccessDenied" in p.stderr, p
    run_aws(server.endpoint, "s3api", "put-object", "--bucket", bucket, "--key", "k",
            "--body", str(body), "--server-side-encryption", "AES256", cwd=str(tmp_path))
    p = run_aws(server.endpoint, "s3api", "get-bucket-policy", "--bucket", bucket,
                cwd=str(tmp_path))
    assert json.loads(json.loads(p.stdout)["Policy"])["Id"] == "PutObjPolicy"
    run_aws(server.endpoint, "s3api", "delete-bucket-policy", "--bucket", bucket,
            cwd=str(tmp_path))
    p = run_aws(server.endpoint, "s3api", "get-bucket-policy", "--bucket", bucket,
                cwd=str(tmp_path), check=False)
    assert p.returncode != 0 and "NoSuchBucketPolicy" in p.stderr, p


def test_aws_profile_rejects_seed_version(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    s3 = client(srv)
    b = unique_name("pv")
    s3.create_bucket(Bucket=b)
    assert err(s3.put_bucket_policy, Bucket=b, Policy=SEED_004_POLICY % b) == (
        400, "MalformedPolicy", "The policy must contain a valid version string")
    s3.put_bucket_policy(Bucket=b, Policy=(SEED_004_POLICY % b).replace("2018-05-24",
                                                                       "2012-10-17"))
    assert err(s3.put_object, Bucket=b, Key="k", Body=b"x")[1] == "AccessDenied"


def test_seed_004_multipart(s3, bucket):
    """Parts carry no SSE header: their condition keys come from the upload, as in AWS, so an
    encrypted multipart upload passes the deny-unencrypted policy and an unencrypted one cannot
    even start."""
    s3.put_bucket_policy(Bucket=bucket, Policy=SEED_004_POLICY % bucket)
    assert err(s3.create_multipart_upload, Bucket=bucket, Key="mp")[1] == "AccessDenied"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="AES256")
    part = b"p" * (5 * 1024 * 1024)
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                        Body=part)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=2,
                        Body=b"tail")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                            {"PartNumber": 2, "ETag": e2}]})
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == len(part) + 4


def test_denied_put_leaves_object_intact(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    s3.put_bucket_policy(Bucket=bucket, Policy=SEED_004_POLICY % bucket)
    assert err(s3.put_object, Bucket=bucket, Key="keep", Body=b"replacement")[1] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"original"


# ---- the policy operations -----------------------------------------------------------------

def test_get_delete_and_status(s3, bucket):
    assert err(s3.get_bucket_policy, Bucket=bucket) == (
        404, "NoSuchBucketPolicy", "The bucket policy does not exist")
    assert err(s3.get_bucket_policy_status, Bucket=bucket)[1] == "NoSuchBucketPolicy"
    public = doc(bucket, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    r = s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_policy(Bucket=bucket)
    assert got["Policy"] == public
    assert got["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    pinned = doc(bucket, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                              condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    s3.put_bucket_policy(Bucket=bucket, Policy=pinned)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    r = s3.delete_bucket_policy(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert err(s3.get_bucket_policy, Bucket=bucket)[1] == "NoSuchBucketPolicy"
    s3.delete_bucket_policy(Bucket=bucket)  # idempotent, as AWS


def test_no_such_bucket(s3):
    b = unique_name("missing")
    assert err(s3.get_bucket_policy, Bucket=b)[1] == "NoSuchBucket"
    assert err(s3.put_bucket_policy, Bucket=b, Policy=doc(
        b, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{b}/*")))[1] == "NoSuchBucket"


@pytest.mark.parametrize("policy,message", [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ("[]", "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17", "Statement": [', "This policy contains invalid Json"),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    (None, "Invalid effect: Maybe"),
    (None, "Policy has invalid action"),
    (None, "Policy has invalid resource"),
    (None, "Invalid principal in policy"),
    (None, "Policy has an invalid condition operator"),
    (None, "Action does not apply to any resource(s) in statement"),
])
def test_malformed(s3, bucket, policy, message):
    good = stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    if policy is None:
        s = dict(good)
        if message.startswith("Invalid effect"):
            s["Effect"] = "Maybe"
        elif "action" in message:
            s["Action"] = "s3:FlyAway"
        elif "invalid resource" in message:
            s["Resource"] = "arn:aws:s3:::some-other-bucket/*"
        elif "apply" in message:
            s["Resource"] = f"arn:aws:s3:::{bucket}"
        elif "principal" in message:
            s["Principal"] = {"AWS": "not-an-account"}
        else:
            s["Condition"] = {"StringEqualz": {"s3:prefix": "a"}}
        policy = doc(bucket, s)
    assert err(s3.put_bucket_policy, Bucket=bucket, Policy=policy) == (
        400, "MalformedPolicy", message)
    assert err(s3.get_bucket_policy, Bucket=bucket)[1] == "NoSuchBucketPolicy"


def test_content_md5(server, bucket):
    import base64
    import hashlib
    body = doc(bucket, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*")).encode()
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = raw_request(server.port, "PUT", f"/{bucket}?policy", body=body,
                    headers={"Content-MD5": bad})
    assert r.status == 400 and b"<Code>BadDigest</Code>" in r.body
    r = raw_request(server.port, "PUT", f"/{bucket}?policy", body=body,
                    headers={"Content-MD5": good})
    assert r.status == 204


def test_empty_and_oversized(server, bucket):
    r = raw_request(server.port, "PUT", f"/{bucket}?policy", body=b"")
    assert r.status == 400 and b"<Code>MalformedPolicy</Code>" in r.body
    big = doc(bucket, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                           Sid="x" * 21000))
    r = raw_request(server.port, "PUT", f"/{bucket}?policy", body=big.encode())
    assert r.status == 400 and b"<Code>MalformedPolicy</Code>" in r.body
    assert b"maximum allowed document size" in r.body


# ---- conditions ----------------------------------------------------------------------------

def test_secure_transport(coffer_factory, tmp_path):
    srv = coffer_factory()
    ca = cert_only(os.path.join(str(srv.data_dir), "tls.pem"), str(tmp_path / "ca.pem"))
    plain = client(srv)
    tls = client(srv, endpoint=f"https://localhost:{srv.port}", verify=ca)
    b = unique_name("tls")
    plain.create_bucket(Bucket=b)
    plain.put_object(Bucket=b, Key="k", Body=b"secret")
    plain.put_bucket_policy(Bucket=b, Policy=doc(b, stmt(
        "Deny", "s3:GetObject", f"arn:aws:s3:::{b}/*",
        condition={"Bool": {"aws:SecureTransport": "false"}})))
    assert err(plain.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    assert tls.get_object(Bucket=b, Key="k")["Body"].read() == b"secret"
    # HeadObject is s3:GetObject too (no body on a HEAD error).
    assert error_of(pytest.raises(ClientError, plain.head_object, Bucket=b, Key="k"))[0] == 403
    tls.head_object(Bucket=b, Key="k")


def test_source_ip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt(
        "Deny", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
        condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}})))
    assert err(s3.get_object, Bucket=bucket, Key="k")[1] == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt(
        "Deny", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
        condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_prefix_on_list_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="private/b", Body=b"b")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt(
        "Deny", "s3:ListBucket", f"arn:aws:s3:::{bucket}",
        condition={"StringNotLike": {"s3:prefix": "public/*"}})))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="public/")["Contents"]]
    assert keys == ["public/a"]
    assert err(s3.list_objects_v2, Bucket=bucket, Prefix="private/")[1] == "AccessDenied"
    assert err(s3.list_objects, Bucket=bucket)[1] == "AccessDenied"  # no prefix at all


def test_max_keys_and_time(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        bucket,
        stmt("Deny", "s3:ListBucket", f"arn:aws:s3:::{bucket}",
             condition={"NumericGreaterThan": {"s3:max-keys": "100"}}),
        stmt("Deny", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
             condition={"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"},
                        "DateLessThan": {"aws:EpochTime": "4102444800"}})))
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=100)["KeyCount"] == 1
    assert err(s3.list_objects_v2, Bucket=bucket, MaxKeys=101)[1] == "AccessDenied"
    assert err(s3.get_object, Bucket=bucket, Key="k")[1] == "AccessDenied"  # now is in range


def test_delete_objects_per_key(s3, bucket):
    for k in ("logs/1", "data/1"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt(
        "Deny", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/logs/*")))
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "logs/1"},
                                                             {"Key": "data/1"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["data/1"]
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("logs/1", "AccessDenied")]
    assert err(s3.delete_object, Bucket=bucket, Key="logs/1")[1] == "AccessDenied"
    s3.head_object(Bucket=bucket, Key="logs/1")
    s3.delete_bucket_policy(Bucket=bucket)


def test_copy_checks_source_read(s3, bucket):
    src = unique_name("src")
    s3.create_bucket(Bucket=src)
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=src, Policy=doc(src, stmt(
        "Deny", "s3:GetObject", f"arn:aws:s3:::{src}/*")))
    assert err(s3.copy_object, Bucket=bucket, Key="c",
               CopySource={"Bucket": src, "Key": "k"})[1] == "AccessDenied"
    s3.delete_bucket_policy(Bucket=src)
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": src, "Key": "k"})
    s3.delete_object(Bucket=src, Key="k")
    s3.delete_bucket(Bucket=src)


def test_request_object_tag(s3, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt(
        "Deny", "s3:PutObject", f"arn:aws:s3:::{bucket}/*",
        condition={"StringNotEqualsIfExists": {"s3:RequestObjectTag/team": "blue"}})))
    # ...IfExists: a request without the tag satisfies the condition, so it is denied too.
    assert err(s3.put_object, Bucket=bucket, Key="untagged", Body=b"x")[1] == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="blue", Body=b"x", Tagging="team=blue&x=1")
    assert err(s3.put_object, Bucket=bucket, Key="red", Body=b"x",
               Tagging="team=red")[1] == "AccessDenied"


def test_owner_never_locked_out_of_policy(s3, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(bucket, stmt("Deny", "s3:*", [
        f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])))
    assert err(s3.list_objects_v2, Bucket=bucket)[1] == "AccessDenied"
    assert err(s3.put_object, Bucket=bucket, Key="k", Body=b"x")[1] == "AccessDenied"
    s3.get_bucket_policy(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")


def test_concurrent_requests_while_policy_changes(s3, bucket):
    """Readers share cached parsed policies while the policy is replaced and deleted."""
    import threading
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    deny = doc(bucket, stmt("Deny", "s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    allow = doc(bucket, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    seen, errors = set(), []

    def reader():
        try:
            for _ in range(40):
                try:
                    s3.get_object(Bucket=bucket, Key="k")["Body"].read()
                    seen.add(200)
                except ClientError as e:
                    seen.add(error_of(e)[0])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(20):
        if i % 3 == 2:
            s3.delete_bucket_policy(Bucket=bucket)
        else:
            s3.put_bucket_policy(Bucket=bucket, Policy=deny if i % 2 else allow)
    for t in threads:
        t.join()
    assert not errors
    assert seen <= {200, 403}
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# ---- principals ----------------------------------------------------------------------------

ALICE = "arn:aws:iam::111122223333:user/alice"


@pytest.fixture
def signed(coffer_factory):
    return coffer_factory(
        env={"S3_SKIP_SIGNATURE_VALIDATION": "0"},
        extra_args=["--credentials", "test:test,AKALICE:alicesecret",
                    "--principals", f"AKALICE={ALICE}"])


def test_other_principal_needs_allow(signed, tmp_path):
    owner = client(signed)
    alice = client(signed, "AKALICE", "alicesecret")
    b = unique_name("pr")
    owner.create_bucket(Bucket=b)
    owner.put_object(Bucket=b, Key="shared/k", Body=b"for alice")
    owner.put_object(Bucket=b, Key="private/k", Body=b"owner only")
    # No policy: another account's principal has no access at all.
    assert err(alice.get_object, Bucket=b, Key="shared/k")[1] == "AccessDenied"
    assert err(alice.list_objects_v2, Bucket=b)[1] == "AccessDenied"
    assert err(alice.get_object, Bucket=unique_name("none"), Key="k")[1] == "NoSuchBucket"
    owner.put_bucket_policy(Bucket=b, Policy=doc(b, stmt(
        "Allow", "s3:GetObject", f"arn:aws:s3:::{b}/shared/*", principal={"AWS": ALICE})))
    assert alice.get_object(Bucket=b, Key="shared/k")["Body"].read() == b"for alice"
    assert err(alice.get_object, Bucket=b, Key="private/k")[1] == "AccessDenied"
    assert err(alice.put_object, Bucket=b, Key="shared/new", Body=b"x")[1] == "AccessDenied"
    assert err(alice.get_bucket_policy, Bucket=b)[1] == "AccessDenied"
    # The owner (the account root) is not named but keeps its default access.
    assert owner.get_object(Bucket=b, Key="private/k")["Body"].read() == b"owner only"
    # A Deny naming alice's account wins over the Allow.
    owner.put_bucket_policy(Bucket=b, Policy=doc(
        b, stmt("Allow", "s3:GetObject", f"arn:aws:s3:::{b}/*", principal={"AWS": ALICE}),
        stmt("Deny", "s3:GetObject", f"arn:aws:s3:::{b}/shared/*",
             principal={"AWS": "111122223333"})))
    assert err(alice.get_object, Bucket=b, Key="shared/k")[1] == "AccessDenied"
    assert alice.get_object(Bucket=b, Key="private/k")["Body"].read() == b"owner only"
    # aws:username comes from the mapped ARN.
    owner.put_bucket_policy(Bucket=b, Policy=doc(b, stmt(
        "Allow", "s3:ListBucket", f"arn:aws:s3:::{b}", principal={"AWS": ALICE},
        condition={"StringEquals": {"aws:username": "alice"}})))
    alice.list_objects_v2(Bucket=b)


def test_principals_option_validated(coffer_factory):
    srv = coffer_factory(extra_args=["--principals", "AK=not-an-arn"], start=False)
    srv.start(expect_ready=False)
    srv.proc.wait(timeout=20)
    assert srv.proc.returncode != 0


# --------------------------------------------------------------------------
# versions and tags
# --------------------------------------------------------------------------

def test_version_actions_and_existing_object_tags(s3):
    b = unique_name("polver")
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="doc", Body=b"two")
    s3.put_object(Bucket=b, Key="secret", Body=b"s", Tagging="class=secret")
    s3.put_object(Bucket=b, Key="open", Body=b"o", Tagging="class=public")
    s3.put_bucket_policy(Bucket=b, Policy=doc(
        b,
        stmt("Deny", "s3:GetObjectVersion", f"arn:aws:s3:::{b}/*"),
        stmt("Deny", "s3:GetObject", f"arn:aws:s3:::{b}/*",
             condition={"StringEquals": {"s3:ExistingObjectTag/class": "secret"}}),
        stmt("Deny", "s3:ListBucketVersions", f"arn:aws:s3:::{b}")))
    try:
        # The current version reads; a named version needs s3:GetObjectVersion.
        assert s3.get_object(Bucket=b, Key="doc")["Body"].read() == b"two"
        assert err(s3.get_object, Bucket=b, Key="doc", VersionId=v1) [:2] == (403, "AccessDenied")
        assert err(s3.list_object_versions, Bucket=b) [:2] == (403, "AccessDenied")
        # Tags of the stored object decide.
        assert err(s3.get_object, Bucket=b, Key="secret") [:2] == (403, "AccessDenied")
        assert s3.get_object(Bucket=b, Key="open")["Body"].read() == b"o"
        # Retagging changes the answer.
        s3.put_object_tagging(Bucket=b, Key="secret",
                              Tagging={"TagSet": [{"Key": "class", "Value": "public"}]})
        assert s3.get_object(Bucket=b, Key="secret")["Body"].read() == b"s"
    finally:
        s3.delete_bucket_policy(Bucket=b)
        resp = s3.list_object_versions(Bucket=b)
        for v in resp.get("Versions", []) + resp.get("DeleteMarkers", []):
            s3.delete_object(Bucket=b, Key=v["Key"], VersionId=v["VersionId"])
        s3.delete_bucket(Bucket=b)
