"""Replays, through boto3, what the AWS Terraform provider sends for an `aws_s3_bucket` and its
companion resources: create, read (refresh), destroy.

The read sequence and the error codes it tolerates follow resourceBucketRead in
hashicorp/terraform-provider-aws internal/service/s3/bucket.go (the v4 provider, aws-sdk-go v1):
HeadBucket, GetBucketPolicy (NoSuchBucketPolicy), GetBucketAcl (nothing tolerated),
GetBucketCors (NoSuchCORSConfiguration), GetBucketWebsite (NotImplemented,
NoSuchWebsiteConfiguration), GetBucketVersioning, GetBucketAccelerateConfiguration
(MethodNotAllowed, UnsupportedArgument), GetBucketRequestPayment, GetBucketLogging,
GetBucketLifecycleConfiguration (NoSuchLifecycleConfiguration), GetBucketReplication
(ReplicationConfigurationNotFoundError), GetBucketEncryption
(ServerSideEncryptionConfigurationNotFoundError), GetObjectLockConfiguration
(ObjectLockConfigurationNotFoundError), the region from HeadBucket's x-amz-bucket-region, then
GetBucketTagging (NoSuchTagSet). A step that answers anything else fails the apply, as it
fails the provider. Each companion resource's create, read and delete calls come after.

The steps of bucket ACLs, ownership controls, public access block, Object Lock configuration
and lifecycle are tests of their own."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name



def code_of(e):
    return e.response["Error"]["Code"]


def call(fn, tolerated=(), **kw):
    """One provider call: its answer, or None for a tolerated error code (else it raises)."""
    try:
        return fn(**kw)
    except ClientError as e:
        if code_of(e) in tolerated:
            return None
        raise


def status(r):
    return r["ResponseMetadata"]["HTTPStatusCode"]


# ---- resourceBucketRead, step by step, each with what AWS answers a new bucket -------------

def read_policy(s3, b, want=None):
    r = call(s3.get_bucket_policy, ("NoSuchBucketPolicy",), Bucket=b)
    assert (r and json.loads(r["Policy"])) == want


def read_acl(s3, b):
    r = call(s3.get_bucket_acl, Bucket=b)
    assert status(r) == 200
    assert [g["Permission"] for g in r["Grants"]] == ["FULL_CONTROL"]
    assert r["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    assert r["Grants"][0]["Grantee"]["ID"] == r["Owner"]["ID"]


def read_cors(s3, b, want=None):
    r = call(s3.get_bucket_cors, ("NoSuchCORSConfiguration",), Bucket=b)
    assert (r and r["CORSRules"]) == want


def read_website(s3, b, want=None):
    r = call(s3.get_bucket_website, ("NotImplemented", "NoSuchWebsiteConfiguration"), Bucket=b)
    if want is None:
        assert r is None
        # and the tolerated answer is AWS's own, not NotImplemented
        with pytest.raises(ClientError) as ei:
            s3.get_bucket_website(Bucket=b)
        assert code_of(ei.value) == "NoSuchWebsiteConfiguration"
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    else:
        del r["ResponseMetadata"]
        assert r == want


def read_versioning(s3, b, want=None):
    r = call(s3.get_bucket_versioning, Bucket=b)
    assert r.get("Status") == want


def read_accelerate(s3, b, want=None):
    r = call(s3.get_bucket_accelerate_configuration,
             ("MethodNotAllowed", "UnsupportedArgument"), Bucket=b)
    assert r is not None and r.get("Status") == want


def read_request_payment(s3, b, want="BucketOwner"):
    assert call(s3.get_bucket_request_payment, Bucket=b)["Payer"] == want


def read_logging(s3, b, want=None):
    assert call(s3.get_bucket_logging, Bucket=b).get("LoggingEnabled") == want


def read_lifecycle(s3, b):
    r = call(s3.get_bucket_lifecycle_configuration, ("NoSuchLifecycleConfiguration",), Bucket=b)
    assert r is None
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_lifecycle_configuration(Bucket=b)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def read_replication(s3, b, want=None):
    r = call(s3.get_bucket_replication, ("ReplicationConfigurationNotFoundError",), Bucket=b)
    assert (r and r["ReplicationConfiguration"]) == want


def read_encryption(s3, b, want="AES256"):
    r = call(s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",),
             Bucket=b)
    rule = r["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == want


def read_object_lock(s3, b):
    r = call(s3.get_object_lock_configuration, ("ObjectLockConfigurationNotFoundError",),
             Bucket=b)
    assert r is None
    with pytest.raises(ClientError) as ei:
        s3.get_object_lock_configuration(Bucket=b)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def read_region(s3, b):
    h = s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPHeaders"]
    assert h["x-amz-bucket-region"] == "us-east-1"


def read_tags(s3, b, want=None):
    r = call(s3.get_bucket_tagging, ("NoSuchTagSet",), Bucket=b)
    assert (r and r["TagSet"]) == want


# The provider's order. Steps whose feature is built in another branch are named, so that a
# test can leave them out.
READ = [("policy", read_policy), ("acl", read_acl), ("cors", read_cors),
        ("website", read_website), ("versioning", read_versioning),
        ("accelerate", read_accelerate), ("request_payment", read_request_payment),
        ("logging", read_logging), ("lifecycle", read_lifecycle),
        ("replication", read_replication), ("encryption", read_encryption),
        ("object_lock", read_object_lock), ("region", read_region), ("tags", read_tags)]
ELSEWHERE = {"acl", "lifecycle", "object_lock"}


def head(s3, b):
    r = s3.head_bucket(Bucket=b)
    assert status(r) == 200
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"


def refresh(s3, b, expect=None, only=None):
    """resourceBucketRead: HeadBucket, then every step in order (expect: step -> want)."""
    head(s3, b)
    for name, step in READ:
        if only is not None and name not in only:
            continue
        if expect and name in expect:
            step(s3, b, expect[name])
        else:
            step(s3, b)


def create_bucket(s3):
    """resourceBucketCreate in us-east-1: CreateBucket without a LocationConstraint."""
    b = unique_name("tf")
    r = s3.create_bucket(Bucket=b)
    assert status(r) == 200 and r["Location"] == f"/{b}"
    return b


def destroy_bucket(s3, b):
    """resourceBucketDelete: DeleteBucket (NoSuchBucket tolerated), then the refresh that
    finds it gone (404 on HeadBucket removes it from state)."""
    assert status(s3.delete_bucket(Bucket=b)) == 204
    assert call(s3.delete_bucket, ("NoSuchBucket",), Bucket=b) is None
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=b)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bucket_create_read_destroy(s3):
    b = create_bucket(s3)
    refresh(s3, b, only={n for n, _ in READ} - ELSEWHERE)
    refresh(s3, b, only={n for n, _ in READ} - ELSEWHERE)  # a plan after apply: same answers
    destroy_bucket(s3, b)


# ---- companion resources: create (Put), read (Get), delete -----------------------------------

def companions_create(s3, b, target, dest):
    """Each companion's create and its read back, as the provider does after a Put."""
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "env", "Value": "test"}]})
    # aws_s3_bucket_versioning
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    read_versioning(s3, b, "Enabled")
    # aws_s3_bucket_server_side_encryption_configuration
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
        "BucketKeyEnabled": True}]})
    read_encryption(s3, b, "aws:kms")
    # aws_s3_bucket_cors_configuration
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": CORS})
    read_cors(s3, b, CORS)
    # aws_s3_bucket_website_configuration (its endpoint comes from GetBucketLocation)
    s3.put_bucket_website(Bucket=b, WebsiteConfiguration=WEBSITE)
    read_website(s3, b, WEBSITE)
    assert s3.get_bucket_location(Bucket=b).get("LocationConstraint") is None
    # aws_s3_bucket_logging
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={"LoggingEnabled": logging_of(target)})
    read_logging(s3, b, logging_of(target))
    # aws_s3_bucket_accelerate_configuration
    s3.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={"Status": "Enabled"})
    read_accelerate(s3, b, "Enabled")
    # aws_s3_bucket_request_payment_configuration
    s3.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={"Payer": "Requester"})
    read_request_payment(s3, b, "Requester")
    # aws_s3_bucket_policy
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy_of(b)))
    read_policy(s3, b, policy_of(b))
    # aws_s3_bucket_notification with no target (the only kind coffer stores)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={})
    got = s3.get_bucket_notification_configuration(Bucket=b)
    assert set(got) == {"ResponseMetadata"}
    # aws_s3_bucket_replication_configuration (source and destination versioned)
    s3.put_bucket_replication(Bucket=b, ReplicationConfiguration=replication_of(dest))
    read_replication(s3, b, replication_of(dest))


def companions_destroy(s3, b):
    """Each companion's delete: a Delete call, or a Put back to the default."""
    assert status(s3.delete_bucket_replication(Bucket=b)) == 204
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={})
    assert status(s3.delete_bucket_policy(Bucket=b)) == 204
    s3.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    s3.put_bucket_accelerate_configuration(Bucket=b,
                                           AccelerateConfiguration={"Status": "Suspended"})
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={})
    assert status(s3.delete_bucket_website(Bucket=b)) == 204
    assert status(s3.delete_bucket_cors(Bucket=b)) == 204
    assert status(s3.delete_bucket_encryption(Bucket=b)) == 204
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert status(s3.delete_bucket_tagging(Bucket=b)) == 204


CORS = [{"AllowedHeaders": ["*"], "AllowedMethods": ["PUT", "POST"],
         "AllowedOrigins": ["https://example.com"], "ExposeHeaders": ["ETag"],
         "MaxAgeSeconds": 3000}]
WEBSITE = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
           "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"},
                             "Redirect": {"ReplaceKeyPrefixWith": "documents/"}}]}


def logging_of(target):
    return {"TargetBucket": target, "TargetPrefix": "log/"}


def policy_of(b):
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {
            "aws:PrincipalAccount": "111122223333"}}}]}


def replication_of(dest):
    return {"Role": "arn:aws:iam::000000000000:role/tf-replication", "Rules": [{
        "ID": "all", "Priority": 1, "Filter": {"Prefix": ""}, "Status": "Enabled",
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{dest}", "StorageClass": "STANDARD"}}]}


def test_bucket_with_companion_resources(s3):
    b, target, dest = create_bucket(s3), create_bucket(s3), create_bucket(s3)
    s3.put_bucket_versioning(Bucket=dest, VersioningConfiguration={"Status": "Enabled"})
    companions_create(s3, b, target, dest)
    # the refresh of a plan: the bucket's read sees every companion's document
    refresh(s3, b, only={n for n, _ in READ} - ELSEWHERE, expect={
        "policy": policy_of(b), "cors": CORS, "website": WEBSITE, "versioning": "Enabled",
        "accelerate": "Enabled", "request_payment": "Requester",
        "logging": logging_of(target), "replication": replication_of(dest),
        "encryption": "aws:kms", "tags": [{"Key": "env", "Value": "test"}]})
    companions_destroy(s3, b)
    refresh(s3, b, only={n for n, _ in READ} - ELSEWHERE, expect={
        "versioning": "Suspended", "accelerate": "Suspended"})
    for name in (b, target, dest):
        destroy_bucket(s3, name)


# ---- steps whose feature another branch builds -------------------------------------------------

def test_read_with_acl(s3):
    b = create_bucket(s3)
    try:
        refresh(s3, b, only={n for n, _ in READ} - {"lifecycle", "object_lock"})
    finally:
        s3.delete_bucket(Bucket=b)


def test_read_with_lifecycle(s3):
    b = create_bucket(s3)
    try:
        refresh(s3, b, only={n for n, _ in READ} - {"acl", "object_lock"})
    finally:
        s3.delete_bucket(Bucket=b)


def test_read_with_object_lock(s3):
    b = create_bucket(s3)
    try:
        refresh(s3, b, only={n for n, _ in READ} - {"acl", "lifecycle"})
    finally:
        s3.delete_bucket(Bucket=b)


def test_bucket_acl_resource(s3):
    b = create_bucket(s3)
    try:
        s3.put_bucket_acl(Bucket=b, ACL="private")
        read_acl(s3, b)
        with pytest.raises(ClientError) as ei:
            s3.put_bucket_acl(Bucket=b, ACL="public-read")
        assert code_of(ei.value) == "AccessControlListNotSupported"
    finally:
        s3.delete_bucket(Bucket=b)


def test_ownership_controls_resource(s3):
    b = create_bucket(s3)
    try:
        got = s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]
        assert got == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        got = s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]
        assert got == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
        assert status(s3.delete_bucket_ownership_controls(Bucket=b)) == 204
        with pytest.raises(ClientError) as ei:
            s3.get_bucket_ownership_controls(Bucket=b)
        assert code_of(ei.value) == "OwnershipControlsNotFoundError"
    finally:
        s3.delete_bucket(Bucket=b)


def test_public_access_block_resource(s3):
    b = create_bucket(s3)
    flags = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
    try:
        s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=flags)
        assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == flags
        assert status(s3.delete_public_access_block(Bucket=b)) == 204
        with pytest.raises(ClientError) as ei:
            s3.get_public_access_block(Bucket=b)
        assert code_of(ei.value) == "NoSuchPublicAccessBlockConfiguration"
    finally:
        s3.delete_bucket(Bucket=b)


def test_lifecycle_configuration_resource(s3):
    b = create_bucket(s3)
    rules = [{"ID": "expire", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
              "Expiration": {"Days": 7}}]
    try:
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
        assert s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"] == rules
        assert status(s3.delete_bucket_lifecycle(Bucket=b)) == 204
        read_lifecycle(s3, b)
    finally:
        s3.delete_bucket(Bucket=b)


def test_object_lock_configuration_resource(s3):
    b = unique_name("tf")
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    try:
        cfg = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
            "Mode": "GOVERNANCE", "Days": 1}}}
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=cfg)
        assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == cfg
    finally:
        s3.delete_bucket(Bucket=b)
