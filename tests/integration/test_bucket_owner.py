"""Bucket owners: every bucket belongs to the account whose principal created it.

With signatures checked, the owner's principals have default access and other accounts none;
ListBuckets lists the caller's buckets; a name another account owns is BucketAlreadyExists;
x-amz-expected-bucket-owner is checked. With signatures unchecked (the LocalStack default) the
access key still picks the account (12 digits: that account), as in LocalStack, but nobody is
kept out."""

import re
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import make_s3

ALICE = "arn:aws:iam::111122223333:user/alice"
DEFAULT_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(srv, key="test", secret="test", token=None, region="us-east-1"):
    c = make_s3(srv.endpoint, region=region)
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        region_name=region, config=c.meta.config)


def err(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def names(c):
    return sorted(b["Name"] for b in c.list_buckets()["Buckets"])


@pytest.fixture
def signed(coffer_factory):
    return coffer_factory(
        env={"S3_SKIP_SIGNATURE_VALIDATION": "0"},
        extra_args=["--credentials",
                    "test:test,AKALICE:alicesecret,111122223333:rootsecret,444455556666:other",
                    "--principals", f"AKALICE={ALICE}"])


def test_creator_owns_and_others_are_kept_out(signed):
    root, alice = client(signed), client(signed, "AKALICE", "alicesecret")
    b = name("alice")
    assert alice.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200
    alice.put_object(Bucket=b, Key="k", Body=b"alice's")
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"alice's"
    assert [o["Key"] for o in alice.list_objects_v2(Bucket=b)["Contents"]] == ["k"]
    # The default account's root is another account here: no access without a policy.
    assert err(root.get_object, Bucket=b, Key="k") == (403, "AccessDenied")
    assert err(root.head_bucket, Bucket=b) == (403, "403")
    assert err(root.put_object, Bucket=b, Key="x", Body=b"x") == (403, "AccessDenied")
    assert err(root.delete_bucket, Bucket=b) == (403, "AccessDenied")
    # ... and cannot take the name.
    assert err(root.create_bucket, Bucket=b) == (409, "BucketAlreadyExists")
    # The owner re-creating it in us-east-1 is AWS's legacy 200; elsewhere 409.
    assert alice.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200
    west = client(signed, "AKALICE", "alicesecret", region="eu-west-1")
    assert err(west.create_bucket, Bucket=b, CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"}) == (409, "BucketAlreadyOwnedByYou")
    # A bucket that does not exist is 404 for any account.
    assert err(alice.get_object, Bucket=name("none"), Key="k") == (404, "NoSuchBucket")
    assert err(root.list_objects_v2, Bucket=name("none")) == (404, "NoSuchBucket")
    # A policy lets the other account in, as in AWS.
    alice.put_bucket_policy(Bucket=b, Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
        '"arn:aws:iam::000000000000:root"},"Action":"s3:GetObject","Resource":'
        f'"arn:aws:s3:::{b}/*"}}]}}'))
    assert root.get_object(Bucket=b, Key="k")["Body"].read() == b"alice's"
    assert err(root.put_object, Bucket=b, Key="x", Body=b"x") == (403, "AccessDenied")
    # The owner's data is untouched by all of the above.
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"alice's"


def test_list_buckets_lists_the_callers_own(signed):
    root, alice = client(signed), client(signed, "AKALICE", "alicesecret")
    other = client(signed, "444455556666", "other")
    mine, hers, theirs = name("root"), name("alice"), name("other")
    root.create_bucket(Bucket=mine)
    alice.create_bucket(Bucket=hers)
    other.create_bucket(Bucket=theirs)
    assert names(root) == [mine]
    assert names(alice) == [hers]
    assert names(other) == [theirs]
    # alice's account root (a 12-digit key is that account) sees alice's bucket too.
    assert names(client(signed, "111122223333", "rootsecret")) == [hers]
    r, a = root.list_buckets()["Owner"], alice.list_buckets()["Owner"]
    assert r == {"ID": DEFAULT_ID, "DisplayName": "webfile"}
    assert re.fullmatch(r"[0-9a-f]{64}", a["ID"]) and a["ID"] != DEFAULT_ID, a
    assert a["DisplayName"] == "111122223333"
    # The same account always gets the same canonical id.
    assert client(signed, "111122223333", "rootsecret").list_buckets()["Owner"] == a


def test_owner_root_manages_the_policy_even_when_it_denies_everyone(signed):
    alice = client(signed, "AKALICE", "alicesecret")
    alice_root = client(signed, "111122223333", "rootsecret")
    b = name("locked")
    alice.create_bucket(Bucket=b)
    alice.put_bucket_policy(Bucket=b, Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",'
        f'"Resource":["arn:aws:s3:::{b}","arn:aws:s3:::{b}/*"]}}]}}'))
    assert err(alice.get_bucket_policy, Bucket=b) == (403, "AccessDenied")
    assert err(alice_root.list_objects_v2, Bucket=b) == (403, "AccessDenied")
    # The owner account's root can always fix the policy; the default account's root cannot.
    assert "Deny" in alice_root.get_bucket_policy(Bucket=b)["Policy"]
    assert err(client(signed).delete_bucket_policy, Bucket=b) == (403, "AccessDenied")
    alice_root.delete_bucket_policy(Bucket=b)
    alice.list_objects_v2(Bucket=b)


def test_expected_bucket_owner(signed):
    alice, root = client(signed, "AKALICE", "alicesecret"), client(signed)
    b, mine = name("exp"), name("exp-root")
    alice.create_bucket(Bucket=b)
    alice.put_object(Bucket=b, Key="k", Body=b"v", ExpectedBucketOwner="111122223333")
    assert alice.get_object(Bucket=b, Key="k", ExpectedBucketOwner="111122223333")[
        "Body"].read() == b"v"
    assert err(alice.get_object, Bucket=b, Key="k",
               ExpectedBucketOwner="000000000000") == (403, "AccessDenied")
    assert err(alice.put_object, Bucket=b, Key="k", Body=b"overwritten",
               ExpectedBucketOwner="999999999999") == (403, "AccessDenied")
    assert err(alice.list_objects_v2, Bucket=b,
               ExpectedBucketOwner="000000000000") == (403, "AccessDenied")
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    # A copy checks its source's owner with x-amz-source-expected-bucket-owner.
    alice.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k"},
                      ExpectedSourceBucketOwner="111122223333",
                      ExpectedBucketOwner="111122223333")
    assert err(alice.copy_object, Bucket=b, Key="d", CopySource={"Bucket": b, "Key": "k"},
               ExpectedSourceBucketOwner="000000000000") == (403, "AccessDenied")
    assert err(alice.head_object, Bucket=b, Key="d") == (404, "404")
    # The default account's buckets answer to 000000000000.
    root.create_bucket(Bucket=mine)
    root.put_object(Bucket=mine, Key="k", Body=b"r", ExpectedBucketOwner="000000000000")
    assert err(root.head_bucket, Bucket=mine, ExpectedBucketOwner="111122223333") == (403, "403")


def test_assumed_role_of_another_account_owns_what_it_creates(signed):
    sts = boto3.client("sts", endpoint_url=signed.endpoint, aws_access_key_id="test",
                       aws_secret_access_key="test", region_name="us-east-1")
    cred = sts.assume_role(RoleArn="arn:aws:iam::777788889999:role/builder",
                           RoleSessionName="ci")["Credentials"]
    role = client(signed, cred["AccessKeyId"], cred["SecretAccessKey"], cred["SessionToken"])
    b = name("role")
    role.create_bucket(Bucket=b)
    role.put_object(Bucket=b, Key="k", Body=b"built")
    assert b in names(role)
    assert b not in names(client(signed))
    assert err(client(signed).get_object, Bucket=b, Key="k") == (403, "AccessDenied")
    assert role.get_object(Bucket=b, Key="k")["Body"].read() == b"built"


def test_owners_survive_a_restart(signed):
    alice = client(signed, "AKALICE", "alicesecret")
    b = name("persist")
    alice.create_bucket(Bucket=b)
    signed.stop()
    signed.start()
    alice, root = client(signed, "AKALICE", "alicesecret"), client(signed)
    assert b in names(alice) and b not in names(root)
    assert err(root.create_bucket, Bucket=b) == (409, "BucketAlreadyExists")


def test_unchecked_signatures_pick_the_account_but_keep_nobody_out(coffer_factory):
    srv = coffer_factory()
    test, acct = client(srv), client(srv, "111111111111", "anything")
    b = name("ls")
    acct.create_bucket(Bucket=b)
    # LocalStack: a 12-digit access key is that account; ListBuckets is per account.
    assert b in names(acct) and b not in names(test)
    assert err(test.create_bucket, Bucket=b) == (409, "BucketAlreadyExists")
    # Without IAM enforcement every account can use it (LocalStack's default).
    test.put_object(Bucket=b, Key="k", Body=b"shared")
    assert acct.get_object(Bucket=b, Key="k")["Body"].read() == b"shared"
    assert acct.list_buckets()["Owner"]["DisplayName"] == "111111111111"
    assert test.list_buckets()["Owner"]["ID"] == DEFAULT_ID
