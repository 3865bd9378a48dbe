"""The KMS API (TrentService, AWS JSON 1.1) on the S3 port, backed by the keyring SSE-KMS uses.

boto3's kms client, the aws CLI and the JavaScript SDK's @aws-sdk/client-kms create keys and
aliases, encrypt and decrypt (the blob names its key), generate data keys, disable, rotate and
schedule deletion; S3 then reads and writes under those keys with AWS's errors. Every error type
gets its negative case; unsupported operations answer UnsupportedOperationException.
"""
import base64
import json
import os
import sqlite3
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, raw_request, run_aws, server_env
from test_js_sdk import JS_DIR, node_binary

ACCOUNT = "000000000000"
ARN_PREFIX = f"arn:aws:kms:us-east-1:{ACCOUNT}:"
SSE = "x-amz-server-side-encryption"
KMS_ID = "x-amz-server-side-encryption-aws-kms-key-id"


def kms_client(srv, **kw):
    return boto3.client("kms", endpoint_url=srv.endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}), **kw)


@pytest.fixture(scope="module")
def kms(server):
    return kms_client(server)


def kms_error(excinfo):
    e = excinfo.value
    assert isinstance(e, ClientError), repr(e)
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
            e.response["Error"].get("Message", ""))


def raw_kms(port, op, body, auth="sigv4"):
    """One TrentService call by hand (the body as bytes or a JSON-able value)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw_request(port, "POST", "/", headers={
        "X-Amz-Target": f"TrentService.{op}",
        "Content-Type": "application/x-amz-json-1.1"}, body=data, auth=auth)


def call(srv, op, body):
    """A TrentService call the Debian boto3 predates (rotation): 200 and its JSON."""
    r = raw_kms(srv.port, op, body)
    assert r.status == 200, (op, r)
    return json.loads(r.body)


def call_error(srv, op, body):
    r = raw_kms(srv.port, op, body)
    assert r.status == 400, (op, r)
    doc = json.loads(r.body)
    return doc["__type"], doc["message"]


def key_arn(key_id):
    return f"{ARN_PREFIX}key/{key_id}"


# ---- keys, metadata, aliases --------------------------------------------------------------------

def test_create_key_and_describe_by_every_reference(kms):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"}]})
    before = time.time()
    md = kms.create_key(Description="app key", Policy=policy,
                        Tags=[{"TagKey": "team", "TagValue": "storage"}])["KeyMetadata"]
    kid = md["KeyId"]
    uuid.UUID(kid)
    alias = f"alias/app-{kid[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=kid)
    expect = {
        "AWSAccountId": ACCOUNT, "KeyId": kid, "Arn": key_arn(kid), "Enabled": True,
        "Description": "app key", "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
        "Origin": "AWS_KMS", "KeyManager": "CUSTOMER", "CustomerMasterKeySpec":
        "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False}
    for ref in (kid, key_arn(kid), alias, f"{ARN_PREFIX}{alias}"):
        got = kms.describe_key(KeyId=ref)["KeyMetadata"]
        created = got.pop("CreationDate").timestamp()
        assert before - 2 <= created <= time.time() + 2, created
        assert got == expect, (ref, got)
    keys = kms.list_keys(Limit=1000)["Keys"]
    assert {"KeyId": kid, "KeyArn": key_arn(kid)} in keys
    assert kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"] == policy
    assert kms.list_resource_tags(KeyId=alias)["Tags"] == [{"TagKey": "team",
                                                             "TagValue": "storage"}]
    # the default policy for a key created without one, and only "default" exists
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    default = json.loads(kms.get_key_policy(KeyId=other, PolicyName="default")["Policy"])
    assert default["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert default["Statement"][0]["Action"] == "kms:*"
    assert kms.list_key_policies(KeyId=other)["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as ei:
        kms.get_key_policy(KeyId=other, PolicyName="other")
    assert kms_error(ei)[:2] == (400, "NotFoundException")
    new_policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    kms.put_key_policy(KeyId=other, PolicyName="default", Policy=new_policy)
    assert kms.get_key_policy(KeyId=other, PolicyName="default")["Policy"] == new_policy
    with pytest.raises(ClientError) as ei:
        kms.put_key_policy(KeyId=other, PolicyName="default", Policy="{not json")
    assert kms_error(ei)[:2] == (400, "MalformedPolicyDocumentException")
    # tags: add, replace, remove
    kms.tag_resource(KeyId=other, Tags=[{"TagKey": "a", "TagValue": "1"},
                                        {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=other, Tags=[{"TagKey": "a", "TagValue": "3"}])
    kms.untag_resource(KeyId=other, TagKeys=["b", "never-there"])
    assert kms.list_resource_tags(KeyId=other)["Tags"] == [{"TagKey": "a", "TagValue": "3"}]
    with pytest.raises(ClientError) as ei:
        kms.tag_resource(KeyId=other, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert kms_error(ei)[:2] == (400, "TagException")
    kms.update_key_description(KeyId=other, Description="renamed")
    assert kms.describe_key(KeyId=other)["KeyMetadata"]["Description"] == "renamed"


def test_create_key_refusals(server, kms):
    for kw, code in ((dict(KeySpec="RSA_2048"), "UnsupportedOperationException"),
                     (dict(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"),
                      "UnsupportedOperationException"),
                     (dict(KeyUsage="GENERATE_VERIFY_MAC"), "UnsupportedOperationException"),
                     (dict(Origin="EXTERNAL"), "UnsupportedOperationException"),
                     (dict(MultiRegion=True), "UnsupportedOperationException"),
                     (dict(Policy="[]"), "MalformedPolicyDocumentException")):
        with pytest.raises(ClientError) as ei:
            kms.create_key(**kw)
        assert kms_error(ei)[:2] == (400, code), kw
    # a KeySpec AWS does not know (boto3 would refuse it before sending)
    r = raw_kms(server.port, "CreateKey", {"KeySpec": "AES_999"})
    assert r.status == 400, r
    doc = json.loads(r.body)
    assert doc["__type"] == "ValidationException"
    assert "Value 'AES_999' at 'keySpec' failed to satisfy constraint" in doc["message"]
    assert r.header("Content-Type") == "application/x-amz-json-1.1"


def test_not_found_and_invalid_references(kms):
    missing = str(uuid.uuid4())
    for ref, msg in ((missing, f"Key '{key_arn(missing)}' does not exist"),
                     (key_arn(missing), f"Key '{key_arn(missing)}' does not exist"),
                     ("alias/none-such", f"Alias {ARN_PREFIX}alias/none-such is not found."),
                     ("bad key id!", "Invalid keyId 'bad key id!'")):
        with pytest.raises(ClientError) as ei:
            kms.describe_key(KeyId=ref)
        assert kms_error(ei) == (400, "NotFoundException", msg), ref
    with pytest.raises(ClientError) as ei:
        kms.encrypt(KeyId=missing, Plaintext=b"x")
    assert kms_error(ei)[:2] == (400, "NotFoundException")


def test_aliases(kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    name = f"alias/t-{a[:8]}"
    kms.create_alias(AliasName=name, TargetKeyId=key_arn(a))
    with pytest.raises(ClientError) as ei:
        kms.create_alias(AliasName=name, TargetKeyId=b)
    assert kms_error(ei) == (400, "AlreadyExistsException",
                             f"An alias with the name {ARN_PREFIX}{name} already exists")
    mine = kms.list_aliases(KeyId=a)["Aliases"]
    assert [x["AliasName"] for x in mine] == [name]
    assert mine[0]["AliasArn"] == f"{ARN_PREFIX}{name}" and mine[0]["TargetKeyId"] == a
    assert mine[0]["CreationDate"] == mine[0]["LastUpdatedDate"]
    time.sleep(0.01)
    kms.update_alias(AliasName=name, TargetKeyId=b)
    assert kms.list_aliases(KeyId=a)["Aliases"] == []
    moved = kms.list_aliases(KeyId=b)["Aliases"][0]
    assert moved["TargetKeyId"] == b and moved["LastUpdatedDate"] > moved["CreationDate"]
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == b
    every = [x["AliasName"] for x in kms.list_aliases()["Aliases"]]
    assert name in every and every == sorted(every)
    for args, code, msg in (
            (dict(AliasName="alias/aws/mine", TargetKeyId=a), "NotAuthorizedException", None),
            (dict(AliasName="nope/x", TargetKeyId=a), "ValidationException",
             'Alias must start with the prefix "alias/". Please see '
             "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"),
            (dict(AliasName="alias/has space", TargetKeyId=a), "ValidationException",
             "1 validation error detected: Value 'alias/has space' at 'aliasName' failed to "
             "satisfy constraint: Member must satisfy regular expression pattern: "
             "^[a-zA-Z0-9:/_-]+$"),
            (dict(AliasName=f"alias/u-{a[:8]}", TargetKeyId=name), "ValidationException",
             "Aliases must refer to keys. Not aliases"),
            (dict(AliasName=f"alias/v-{a[:8]}", TargetKeyId=str(uuid.uuid4())),
             "NotFoundException", None)):
        with pytest.raises(ClientError) as ei:
            kms.create_alias(**args)
        st, c, m = kms_error(ei)
        assert (st, c) == (400, code), args
        if msg is not None:
            assert m == msg
    with pytest.raises(ClientError) as ei:
        kms.update_alias(AliasName="alias/never-made", TargetKeyId=a)
    assert kms_error(ei) == (400, "NotFoundException",
                             f"Alias {ARN_PREFIX}alias/never-made is not found.")
    with pytest.raises(ClientError) as ei:
        kms.delete_alias(AliasName="alias/aws/s3")
    assert kms_error(ei)[:2] == (400, "NotAuthorizedException")
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as ei:
        kms.delete_alias(AliasName=name)
    assert kms_error(ei)[:2] == (400, "NotFoundException")


def test_aws_s3_key_is_aws_managed(kms):
    md = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert md["KeyManager"] == "AWS" and md["KeyState"] == "Enabled"
    assert md["Description"].startswith("Default key that protects my S3 objects")


# ---- cryptography -------------------------------------------------------------------------------

def test_encrypt_decrypt_context_and_tampering(kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    alias = f"alias/enc-{a[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=a)
    ctx = {"tenant": "t1", "purpose": "test"}
    out = kms.encrypt(KeyId=alias, Plaintext=b"secret bytes", EncryptionContext=ctx,
                      GrantTokens=["ignored-token"])
    assert out["KeyId"] == key_arn(a) and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = out["CiphertextBlob"]
    assert b"secret bytes" not in blob
    # Decrypt finds the key from the blob; with KeyId it must be that key
    for kw in ({}, {"KeyId": a}, {"KeyId": alias}, {"KeyId": key_arn(a)}):
        got = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(ctx.items())),
                          **kw)
        assert got["Plaintext"] == b"secret bytes" and got["KeyId"] == key_arn(a), kw
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=b)
    assert kms_error(ei)[:2] == (400, "IncorrectKeyException")
    for bad_ctx in ({}, {"tenant": "t2", "purpose": "test"}, {**ctx, "extra": "x"}):
        with pytest.raises(ClientError) as ei:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=bad_ctx)
        assert kms_error(ei)[:2] == (400, "InvalidCiphertextException"), bad_ctx
    # every byte outside the key id: magic, length, version, salt, nonce, ciphertext, tag
    id_start, id_end = 5, 5 + len(a)
    for i in range(len(blob)):
        if id_start <= i < id_end:
            continue
        t = bytearray(blob)
        t[i] ^= 0x01
        with pytest.raises(ClientError) as ei:
            kms.decrypt(CiphertextBlob=bytes(t), EncryptionContext=ctx)
        assert kms_error(ei)[:2] == (400, "InvalidCiphertextException"), i
    # the header is authenticated: the same blob naming another key does not open
    swapped = blob[:id_start] + b.encode() + blob[id_end:]
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=swapped, EncryptionContext=ctx)
    assert kms_error(ei)[:2] == (400, "InvalidCiphertextException")
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=b"not a blob of ours at all")
    assert kms_error(ei)[:2] == (400, "InvalidCiphertextException")
    # sizes: 4096 bytes is the most
    big = os.urandom(4096)
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=a, Plaintext=big)["CiphertextBlob"])[
        "Plaintext"] == big
    with pytest.raises(ClientError) as ei:
        kms.encrypt(KeyId=a, Plaintext=big + b"x")
    assert kms_error(ei) == (400, "ValidationException",
                             "1 validation error detected: Value at 'plaintext' failed to "
                             "satisfy constraint: Member must have length less than or equal "
                             "to 4096")
    # ReEncrypt: into key b under a new context, the source key found from the blob
    re = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=b,
                        DestinationEncryptionContext={"new": "ctx"})
    assert re["SourceKeyId"] == key_arn(a) and re["KeyId"] == key_arn(b)
    got = kms.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"new": "ctx"})
    assert got["Plaintext"] == b"secret bytes" and got["KeyId"] == key_arn(b)
    with pytest.raises(ClientError) as ei:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=b)   # source context missing
    assert kms_error(ei)[:2] == (400, "InvalidCiphertextException")


def test_encrypt_raw_refusals(server):
    kid = kms_client(server).create_key()["KeyMetadata"]["KeyId"]
    cases = (
        ("Encrypt", {"KeyId": kid, "Plaintext": ""}, "ValidationException",
         "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
         "Member must have length greater than or equal to 1"),
        ("Encrypt", {"Plaintext": "eA=="}, "ValidationException",
         "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
         "Member must not be null"),
        ("Encrypt", {"KeyId": kid, "Plaintext": "not base64!"}, "SerializationException", None),
        ("Encrypt", {"KeyId": kid, "Plaintext": "eA==", "EncryptionContext": {"a": 1}},
         "ValidationException", None),
        ("Encrypt", {"KeyId": kid, "Plaintext": "eA==", "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
         "UnsupportedOperationException", None),
        ("GenerateRandom", {"NumberOfBytes": 0}, "ValidationException",
         "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy "
         "constraint: Member must have value greater than or equal to 1"),
        ("GenerateRandom", {"NumberOfBytes": 1025}, "ValidationException",
         "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
         "constraint: Member must have value less than or equal to 1024"),
        ("DescribeKey", b"{not json", "SerializationException", None),
        ("DescribeKey", b"[1, 2]", "SerializationException", None),
    )
    for op, body, code, msg in cases:
        r = raw_kms(server.port, op, body)
        assert r.status == 400, (op, body, r)
        doc = json.loads(r.body)
        assert doc["__type"] == code, (op, body, doc)
        if msg is not None:
            assert doc["message"] == msg
    # over the body cap: a JSON error, not a reset
    r = raw_kms(server.port, "Encrypt", b'{"KeyId": "' + b"x" * (70 * 1024) + b'"}')
    assert r.status == 400 and json.loads(r.body)["__type"] == "ValidationException", r


def local_aes_gcm(key, nonce, data, decrypt=False):
    """AES-GCM on this machine, with the data key KMS handed out."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:     # the openssl CLI cannot do GCM; CTR shows the same key works
        mode = "-aes-256-ctr" if len(key) == 32 else "-aes-128-ctr"
        p = subprocess.run(["openssl", "enc", mode, "-K", key.hex(), "-iv",
                            (nonce + b"\0" * 4).hex(), "-nosalt"] + (["-d"] if decrypt else []),
                           input=data, capture_output=True, check=True)
        return p.stdout
    g = AESGCM(key)
    return g.decrypt(nonce, data, None) if decrypt else g.encrypt(nonce, data, None)


def test_generate_data_key_then_local_aes(kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    ctx = {"file": "report.pdf"}
    dk = kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext=ctx)
    assert dk["KeyId"] == key_arn(kid) and len(dk["Plaintext"]) == 32
    nonce = os.urandom(12)
    sealed = local_aes_gcm(dk["Plaintext"], nonce, b"document body")
    # later: only the encrypted data key was kept
    back = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"]
    assert back == dk["Plaintext"]
    assert local_aes_gcm(back, nonce, sealed, decrypt=True) == b"document body"
    assert len(kms.generate_data_key(KeyId=kid, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=kid, NumberOfBytes=64)["Plaintext"]) == 64
    wp = kms.generate_data_key_without_plaintext(KeyId=kid, KeySpec="AES_256")
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 32
    for kw, msg in ((dict(KeySpec="AES_256", NumberOfBytes=32),
                     "Please specify either number of bytes or key spec."),
                    ({}, "Please specify either number of bytes or key spec."),
                    (dict(NumberOfBytes=1025),
                     "1 validation error detected: Value '1025' at 'numberOfBytes' failed to "
                     "satisfy constraint: Member must have value less than or equal to 1024")):
        with pytest.raises(ClientError) as ei:
            kms.generate_data_key(KeyId=kid, **kw)
        assert kms_error(ei) == (400, "ValidationException", msg), kw
    r1 = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    r2 = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert len(r1) == 1024 and r1 != r2
    assert len(kms.generate_random(NumberOfBytes=1)["Plaintext"]) == 1


def test_unsupported_and_unknown_operations(server, kms):
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    calls = (lambda: kms.sign(KeyId=kid, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256"),
             lambda: kms.verify(KeyId=kid, Message=b"m", Signature=b"s",
                                SigningAlgorithm="RSASSA_PSS_SHA_256"),
             lambda: kms.get_public_key(KeyId=kid),
             lambda: kms.create_grant(KeyId=kid, GranteePrincipal="arn:aws:iam::1:root",
                                      Operations=["Decrypt"]),
             lambda: kms.list_grants(KeyId=kid),
             lambda: kms.retire_grant(GrantToken="t"),
             lambda: kms.revoke_grant(KeyId=kid, GrantId="g"),
             lambda: kms.generate_data_key_pair(KeyId=kid, KeyPairSpec="RSA_2048"),
             lambda: kms.generate_mac(KeyId=kid, Message=b"m", MacAlgorithm="HMAC_SHA_256"))
    for call in calls:
        with pytest.raises(ClientError) as ei:
            call()
        st, code, msg = kms_error(ei)
        assert (st, code) == (400, "UnsupportedOperationException")
        assert "coffer's KMS does not support" in msg
    r = raw_kms(server.port, "NoSuchOperation", {})
    assert r.status == 400 and json.loads(r.body)["__type"] == "UnknownOperationException", r
    # an S3 request never changes meaning: a POST to a bucket stays S3
    r = raw_request(server.port, "GET", "/", headers={"X-Amz-Target": "TrentService.ListKeys"})
    assert r.status == 200 and b"ListAllMyBucketsResult" in r.body, r


# ---- key states and S3 ----------------------------------------------------------------------------

@pytest.fixture
def validating(coffer_factory):
    srv = coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "0"})
    return srv, kms_client(srv), srv.client()


def test_api_key_serves_sse_kms_and_states_apply(validating):
    srv, kms, s3 = validating
    kid = kms.create_key(Description="for s3")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=kid)
    s3.create_bucket(Bucket="kms-b")
    put = s3.put_object(Bucket="kms-b", Key="o", Body=b"payload", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="alias/app")
    assert put["SSEKMSKeyId"] == key_arn(kid)
    assert s3.get_object(Bucket="kms-b", Key="o")["Body"].read() == b"payload"
    # DisableKey: the KMS API and S3 both refuse, with AWS's errors
    kms.disable_key(KeyId="alias/app")
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and md["Enabled"] is False
    with pytest.raises(ClientError) as ei:
        kms.encrypt(KeyId=kid, Plaintext=b"x")
    assert kms_error(ei) == (400, "DisabledException", f"{key_arn(kid)} is disabled.")
    r = srv.http("GET", "/kms-b/o")
    assert r.status == 400 and b"<Code>KMS.DisabledException</Code>" in r.body, r
    r = srv.http("PUT", "/kms-b/o2", headers={SSE: "aws:kms", KMS_ID: "alias/app"}, body=b"x")
    assert r.status == 400 and b"<Code>KMS.DisabledException</Code>" in r.body, r
    with pytest.raises(ClientError) as ei:
        kms.enable_key_rotation(KeyId=kid)
    assert kms_error(ei)[:2] == (400, "DisabledException")
    kms.enable_key(KeyId=kid)
    assert s3.get_object(Bucket="kms-b", Key="o")["Body"].read() == b"payload"
    # ScheduleKeyDeletion: 7..30 days; then pending deletion everywhere
    blob = kms.encrypt(KeyId=kid, Plaintext=b"before")["CiphertextBlob"]
    with pytest.raises(ClientError) as ei:
        kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=6)
    assert kms_error(ei) == (400, "ValidationException",
                             "PendingWindowInDays should be between 7 and 30, but it is 6")
    with pytest.raises(ClientError) as ei:
        kms.cancel_key_deletion(KeyId=kid)
    assert kms_error(ei) == (400, "KMSInvalidStateException",
                             f"{key_arn(kid)} is not pending deletion.")
    now = time.time()
    sd = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert sd["KeyId"] == key_arn(kid) and sd["KeyState"] == "PendingDeletion"
    assert sd["PendingWindowInDays"] == 7
    assert abs(sd["DeletionDate"].timestamp() - (now + 7 * 86400)) < 5
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md["PendingDeletionWindowInDays"] == 7
    assert abs(md["DeletionDate"].timestamp() - sd["DeletionDate"].timestamp()) < 0.01
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=blob)
    assert kms_error(ei) == (400, "KMSInvalidStateException",
                             f"{key_arn(kid)} is pending deletion.")
    with pytest.raises(ClientError) as ei:
        kms.generate_data_key(KeyId=kid, KeySpec="AES_256")
    assert kms_error(ei) == (400, "KMSInvalidStateException",
                             f"{key_arn(kid)} is pending deletion.")
    with pytest.raises(ClientError) as ei:
        kms.enable_key(KeyId=kid)
    assert kms_error(ei)[:2] == (400, "KMSInvalidStateException")
    r = srv.http("GET", "/kms-b/o")
    assert r.status == 400 and b"<Code>KMS.KMSInvalidStateException</Code>" in r.body, r
    # CancelKeyDeletion leaves the key Disabled, as AWS does
    assert kms.cancel_key_deletion(KeyId=kid)["KeyId"] == key_arn(kid)
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "DeletionDate" not in md
    kms.enable_key(KeyId=kid)
    assert s3.get_object(Bucket="kms-b", Key="o")["Body"].read() == b"payload"


def test_cli_and_s3_created_keys_are_in_the_api(coffer_factory, tmp_path):
    srv = coffer_factory()     # localstack profile: unknown SSE-KMS key ids are created on use
    kms = kms_client(srv)
    s3 = srv.client()
    s3.create_bucket(Bucket="auto")
    s3.put_object(Bucket="auto", Key="a", Body=b"a", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId="alias/made-by-s3")
    made = kms.describe_key(KeyId="alias/made-by-s3")["KeyMetadata"]
    assert made["KeyState"] == "Enabled" and made["KeyManager"] == "CUSTOMER"
    p = subprocess.run([COFFER_BIN, "kms", "create-key", "--alias", "alias/made-by-cli",
                        "--data-dir", str(srv.data_dir), "--root-key-file", str(srv.root_key)],
                       capture_output=True, text=True, env=server_env(), timeout=30)
    assert p.returncode == 0, p.stderr
    cli_id = p.stdout.split()[0]
    assert kms.describe_key(KeyId="alias/made-by-cli")["KeyMetadata"]["KeyId"] == cli_id
    ids = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert {made["KeyId"], cli_id} <= ids
    # and a key made through the API is in `coffer kms list`
    api_id = kms.create_key(Description="via api")["KeyMetadata"]["KeyId"]
    p = subprocess.run([COFFER_BIN, "kms", "list", "--data-dir", str(srv.data_dir),
                        "--root-key-file", str(srv.root_key)],
                       capture_output=True, text=True, env=server_env(), timeout=30)
    assert p.returncode == 0, p.stderr
    assert any(line.startswith(api_id + "\t") and "via api" in line
               for line in p.stdout.splitlines()), p.stdout


# ---- rotation ------------------------------------------------------------------------------------

def test_rotation_keeps_old_data_readable(validating):
    srv, kms, s3 = validating
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket="rot")
    s3.put_object(Bucket="rot", Key="old", Body=b"before rotation",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=kid)
    old_blob = kms.encrypt(KeyId=kid, Plaintext=b"old blob")["CiphertextBlob"]
    status = call(srv, "GetKeyRotationStatus", {"KeyId": kid})
    assert status == {"KeyId": key_arn(kid), "KeyRotationEnabled": False}
    assert call(srv, "ListKeyRotations", {"KeyId": kid}) == {"Rotations": [],
                                                              "Truncated": False}
    assert call(srv, "RotateKeyOnDemand", {"KeyId": kid}) == {"KeyId": key_arn(kid)}
    s3.put_object(Bucket="rot", Key="new", Body=b"after rotation",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=kid)
    new_blob = kms.encrypt(KeyId=kid, Plaintext=b"new blob")["CiphertextBlob"]
    # the new blob names material version 1, the old one version 0
    assert old_blob[5 + len(kid):9 + len(kid)] == b"\0\0\0\0"
    assert new_blob[5 + len(kid):9 + len(kid)] == b"\0\0\0\1"
    rotations = call(srv, "ListKeyRotations", {"KeyId": kid})["Rotations"]
    assert len(rotations) == 1 and rotations[0]["RotationType"] == "ON_DEMAND"
    assert rotations[0]["KeyId"] == key_arn(kid)
    assert abs(rotations[0]["RotationDate"] - time.time()) < 60
    # automatic rotation settings
    assert call_error(srv, "EnableKeyRotation", {"KeyId": kid, "RotationPeriodInDays": 89}) == (
        "ValidationException",
        "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy "
        "constraint: Member must have value greater than or equal to 90")
    call(srv, "EnableKeyRotation", {"KeyId": kid, "RotationPeriodInDays": 90})
    status = call(srv, "GetKeyRotationStatus", {"KeyId": kid})
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert abs(status["NextRotationDate"] - (time.time() + 90 * 86400)) < 60
    assert kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is True
    kms.disable_key_rotation(KeyId=kid)
    assert kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    # a rotation that comes due is done on the key's next use (the test moves the date back)
    kms.enable_key_rotation(KeyId=kid)
    db = sqlite3.connect(str(srv.data_dir / "coffer.db"), timeout=10)
    db.execute("UPDATE kms_keys SET rotated_ms = rotated_ms - 366 * 86400000 WHERE id = ?",
               (kid,))
    db.commit()
    db.close()
    auto_blob = kms.encrypt(KeyId=kid, Plaintext=b"auto blob")["CiphertextBlob"]
    assert auto_blob[5 + len(kid):9 + len(kid)] == b"\0\0\0\2"
    types = [x["RotationType"] for x in call(srv, "ListKeyRotations", {"KeyId": kid})["Rotations"]]
    assert types == ["ON_DEMAND", "AUTOMATIC"]
    # everything still reads, also after a restart
    for _ in range(2):
        assert s3.get_object(Bucket="rot", Key="old")["Body"].read() == b"before rotation"
        assert s3.get_object(Bucket="rot", Key="new")["Body"].read() == b"after rotation"
        assert kms.decrypt(CiphertextBlob=old_blob)["Plaintext"] == b"old blob"
        assert kms.decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"new blob"
        assert kms.decrypt(CiphertextBlob=auto_blob)["Plaintext"] == b"auto blob"
        srv.restart()
        kms, s3 = kms_client(srv), srv.client()
    # a blob naming a material version the key does not have
    forged = new_blob[:5 + len(kid)] + b"\0\0\0\7" + new_blob[9 + len(kid):]
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=forged)
    assert kms_error(ei)[:2] == (400, "InvalidCiphertextException")


# ---- deletion ------------------------------------------------------------------------------------

def test_deletion_date_passed_destroys_the_key(validating):
    srv, kms, s3 = validating
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=kid)
    s3.create_bucket(Bucket="del")
    s3.put_object(Bucket="del", Key="gone", Body=b"unreadable soon",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=kid)
    s3.put_object(Bucket="del", Key="kept", Body=b"sse-s3 object")
    blob = kms.encrypt(KeyId=kid, Plaintext=b"x")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    # seven days pass (the test moves the date back rather than wait)
    db = sqlite3.connect(str(srv.data_dir / "coffer.db"), timeout=10)
    db.execute("UPDATE kms_keys SET deletion_ms = ? WHERE id = ?",
               (int((time.time() - 1) * 1000), kid))
    db.commit()
    db.close()
    r = srv.http("GET", "/del/gone")
    assert r.status == 400 and b"<Code>KMS.NotFoundException</Code>" in r.body, r
    assert f"Key '{key_arn(kid)}' does not exist".encode() in r.body
    with pytest.raises(ClientError) as ei:
        kms.describe_key(KeyId=kid)
    assert kms_error(ei) == (400, "NotFoundException", f"Key '{key_arn(kid)}' does not exist")
    with pytest.raises(ClientError) as ei:
        kms.decrypt(CiphertextBlob=blob)
    assert kms_error(ei)[:2] == (400, "NotFoundException")
    assert kid not in {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert "alias/doomed" not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    db = sqlite3.connect(str(srv.data_dir / "coffer.db"), timeout=10)
    assert db.execute("SELECT count(*) FROM kms_keys WHERE id = ?", (kid,)).fetchone() == (0,)
    db.close()
    assert s3.get_object(Bucket="del", Key="kept")["Body"].read() == b"sse-s3 object"
    srv.stop()
    p = subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(srv.data_dir), "--root-key-file",
                        str(srv.root_key), "--dry-run"], capture_output=True, text=True,
                       env=server_env(), timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr
    assert (f"key deleted: s3://del/gone: KMS key {kid} no longer exists (deleted after its "
            "waiting period; the object cannot be decrypted)") in p.stdout, p.stdout
    assert "s3://del/kept" not in p.stdout


# ---- other clients -------------------------------------------------------------------------------

def test_aws_cli_kms_flow(server, tmp_path):
    def aws(*args):
        return run_aws(server.endpoint, *args, cwd=str(tmp_path))
    kid = json.loads(aws("kms", "create-key", "--description", "cli key").stdout)[
        "KeyMetadata"]["KeyId"]
    alias = f"alias/cli-{kid[:8]}"
    aws("kms", "create-alias", "--alias-name", alias, "--target-key-id", kid)
    md = json.loads(aws("kms", "describe-key", "--key-id", alias).stdout)["KeyMetadata"]
    assert md["KeyId"] == kid and md["Description"] == "cli key"
    (tmp_path / "plain.bin").write_bytes(b"\x00\x01binary plaintext\xff")
    ct_b64 = aws("kms", "encrypt", "--key-id", alias, "--plaintext", "fileb://plain.bin",
                 "--encryption-context", "app=cli", "--query", "CiphertextBlob",
                 "--output", "text").stdout.strip()
    (tmp_path / "ct.bin").write_bytes(base64.b64decode(ct_b64))
    pt_b64 = aws("kms", "decrypt", "--ciphertext-blob", "fileb://ct.bin",
                 "--encryption-context", "app=cli", "--query", "Plaintext",
                 "--output", "text").stdout.strip()
    assert base64.b64decode(pt_b64) == b"\x00\x01binary plaintext\xff"
    p = run_aws(server.endpoint, "kms", "decrypt", "--ciphertext-blob", "fileb://ct.bin",
                cwd=str(tmp_path), check=False)
    assert p.returncode != 0 and "InvalidCiphertextException" in p.stderr
    sd = json.loads(aws("kms", "schedule-key-deletion", "--key-id", kid,
                        "--pending-window-in-days", "7").stdout)
    assert sd["KeyState"] == "PendingDeletion" and sd["PendingWindowInDays"] == 7
    p = run_aws(server.endpoint, "kms", "describe-key", "--key-id", str(uuid.uuid4()),
                cwd=str(tmp_path), check=False)
    assert p.returncode != 0 and "NotFoundException" in p.stderr


def test_js_sdk_kms_flow(server):
    node = node_binary()
    p = subprocess.run([node, "kms_flow.mjs", server.endpoint], cwd=JS_DIR,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    kid = out["keyId"]
    assert out["describe"] == {"KeyId": kid, "KeyState": "Enabled", "KeySpec":
                               "SYMMETRIC_DEFAULT", "Arn": key_arn(kid)}
    assert out["decrypted"] == "hello from the javascript kms client"
    assert out["decryptKeyId"] == key_arn(kid)
    assert out["dataKeyMatches"] is True and out["dataKeyLength"] == 32
    assert out["aliases"] == [f"alias/js-{kid[:8]}"]
    assert out["notFound"] == {"name": "NotFoundException", "status": 400}
    assert out["badCiphertext"] == {"name": "InvalidCiphertextException", "status": 400}
    assert out["unsupported"] == {"name": "UnsupportedOperationException", "status": 400}


# ---- signatures ----------------------------------------------------------------------------------

def test_signatures_in_the_aws_profile(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    r = raw_kms(srv.port, "ListKeys", {}, auth=None)
    assert r.status == 400, r
    assert r.header("Content-Type") == "application/x-amz-json-1.1"
    assert json.loads(r.body) == {"__type": "MissingAuthenticationTokenException",
                                  "message": "Missing Authentication Token"}
    bad = boto3.client("kms", endpoint_url=srv.endpoint, aws_access_key_id="test",
                       aws_secret_access_key="wrong", region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as ei:
        bad.list_keys()
    st, code, msg = kms_error(ei)
    assert (st, code) == (400, "InvalidSignatureException")
    kms = kms_client(srv)
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=kid, Plaintext=b"signed")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"signed"


def test_data_dir_from_before_the_kms_api(coffer_factory):
    """A data dir whose schema predates the KMS API (its keys: one material version, no
    policy, tags or rotations) upgrades in place: old objects read, keys rotate. (Its objects are
    blob files: inline storage came later.)"""
    srv = coffer_factory(env={"S3_SKIP_KMS_KEY_VALIDATION": "0"}, extra_args=["--inline-max", "0"])
    s3 = srv.client()
    s3.create_bucket(Bucket="old-dir")
    s3.put_object(Bucket="old-dir", Key="o", Body=b"written before", ServerSideEncryption="aws:kms")
    srv.stop()
    db = sqlite3.connect(str(srv.data_dir / "coffer.db"))
    db.executescript(
        "DROP TABLE kms_tags; DROP TABLE kms_rotations; DROP INDEX kms_aliases_key;"
        "ALTER TABLE kms_keys DROP COLUMN policy; ALTER TABLE kms_keys DROP COLUMN rotation_days;"
        "ALTER TABLE kms_keys DROP COLUMN rotated_ms; ALTER TABLE kms_aliases DROP COLUMN"
        " created_ms; ALTER TABLE kms_aliases DROP COLUMN updated_ms;"
        "ALTER TABLE buckets DROP COLUMN owner; ALTER TABLE object_parts DROP COLUMN checksum;"
        # step 11 (Object Lock columns) undone too
        "ALTER TABLE objects DROP COLUMN lock_mode; ALTER TABLE objects DROP COLUMN lock_until_ms;"
        "ALTER TABLE objects DROP COLUMN legal_hold; ALTER TABLE object_versions DROP COLUMN"
        " lock_mode; ALTER TABLE object_versions DROP COLUMN lock_until_ms; ALTER TABLE"
        " object_versions DROP COLUMN legal_hold; DROP TABLE inline_blobs;"
        " PRAGMA user_version = 7;")
    db.close()
    srv.start()
    kms, s3 = kms_client(srv), srv.client()
    md = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert md["KeyManager"] == "AWS"
    aliases = kms.list_aliases(KeyId=md["KeyId"])["Aliases"]
    assert aliases[0]["AliasName"] == "alias/aws/s3"
    assert aliases[0]["CreationDate"].timestamp() == md["CreationDate"].timestamp()
    call(srv, "RotateKeyOnDemand", {"KeyId": md["KeyId"]})
    s3.put_object(Bucket="old-dir", Key="n", Body=b"written after", ServerSideEncryption="aws:kms")
    assert s3.get_object(Bucket="old-dir", Key="o")["Body"].read() == b"written before"
    assert s3.get_object(Bucket="old-dir", Key="n")["Body"].read() == b"written after"


def test_aws_profile_key_via_api_then_sse_kms_over_tls(coffer_factory, tmp_path):
    """The aws profile: signed KMS calls create the key and alias, then an SSE-KMS upload over
    TLS names the alias (key ids are validated in this profile)."""
    from test_tls import cert_only, https_client
    srv = coffer_factory(extra_args=["--profile", "aws"])
    ca = cert_only(str(srv.data_dir / "tls.pem"), str(tmp_path / "ca.pem"))
    kms = boto3.client("kms", endpoint_url=f"https://localhost:{srv.port}",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       region_name="us-east-1", verify=ca,
                       config=Config(retries={"total_max_attempts": 1}))
    kid = kms.create_key(Description="aws profile")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/tls-app", TargetKeyId=kid)
    s3 = https_client(srv, ca)
    s3.create_bucket(Bucket="tls-kms")
    put = s3.put_object(Bucket="tls-kms", Key="o", Body=b"over tls",
                        ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/tls-app")
    assert put["SSEKMSKeyId"] == key_arn(kid)
    assert s3.get_object(Bucket="tls-kms", Key="o")["Body"].read() == b"over tls"
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket="tls-kms", Key="p", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="alias/never-created")
    assert ei.value.response["Error"]["Code"] == "KMS.NotFoundException"
    kms.disable_key(KeyId=kid)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket="tls-kms", Key="o")
    assert ei.value.response["Error"]["Code"] == "KMS.DisabledException"


def test_root_key_rotation_rewraps_every_material_version(coffer_factory):
    """`coffer keys rotate` moves all of a KMS key's material versions to the new root key at
    once; `keys retire` of the old root key then succeeds, and old and new data still read."""
    srv = coffer_factory()
    kms, s3 = kms_client(srv), srv.client()
    kid = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket="rk-rot")
    s3.put_object(Bucket="rk-rot", Key="v0", Body=b"zero", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=kid)
    b0 = kms.encrypt(KeyId=kid, Plaintext=b"blob zero")["CiphertextBlob"]
    call(srv, "RotateKeyOnDemand", {"KeyId": kid})
    s3.put_object(Bucket="rk-rot", Key="v1", Body=b"one", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=kid)
    b1 = kms.encrypt(KeyId=kid, Plaintext=b"blob one")["CiphertextBlob"]
    srv.stop()

    def keys(*args):
        p = subprocess.run([COFFER_BIN, "keys", *args, "--data-dir", str(srv.data_dir),
                            "--root-key-file", str(srv.root_key)], capture_output=True,
                           text=True, env=server_env(), timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    old_root = srv.root_key.read_text().splitlines()[1].split()[0]
    keys("rotate")
    keys("retire", old_root)
    srv.start()
    kms, s3 = kms_client(srv), srv.client()
    assert s3.get_object(Bucket="rk-rot", Key="v0")["Body"].read() == b"zero"
    assert s3.get_object(Bucket="rk-rot", Key="v1")["Body"].read() == b"one"
    assert kms.decrypt(CiphertextBlob=b0)["Plaintext"] == b"blob zero"
    assert kms.decrypt(CiphertextBlob=b1)["Plaintext"] == b"blob one"


# ---- paging of the list calls ----------------------------------------------------------------------

def test_list_calls_page_with_limit_and_marker(coffer_factory):
    """ListKeys, ListAliases, ListResourceTags and ListKeyRotations return Limit items, then
    Truncated with a NextMarker that continues exactly where the page ended; a marker this
    server did not issue is InvalidMarkerException."""
    srv = coffer_factory()
    kms = kms_client(srv)
    ids = [kms.create_key(Tags=[{"TagKey": f"t{i}", "TagValue": "v"} for i in range(3)])
           ["KeyMetadata"]["KeyId"] for _ in range(3)]
    for i, kid in enumerate(ids):
        kms.create_alias(AliasName=f"alias/page-{i}", TargetKeyId=kid)
    for _ in range(3):
        call(srv, "RotateKeyOnDemand", {"KeyId": ids[0]})

    def walk(op, field, extra):
        seen, marker, pages = [], None, 0
        while True:
            body = dict(extra, Limit=2)
            if marker is not None:
                body["Marker"] = marker
            doc = call(srv, op, body)
            pages += 1
            assert len(doc[field]) <= 2
            seen += doc[field]
            if not doc["Truncated"]:
                assert "NextMarker" not in doc
                return seen, pages
            assert len(doc[field]) == 2
            marker = doc["NextMarker"]

    keys, pages = walk("ListKeys", "Keys", {})
    assert sorted(k["KeyId"] for k in keys) == sorted(ids) and pages == 2
    aliases, _ = walk("ListAliases", "Aliases", {})
    assert {a["AliasName"] for a in aliases} >= {"alias/page-0", "alias/page-1", "alias/page-2"}
    assert len(aliases) == len({a["AliasName"] for a in aliases})
    tags, pages = walk("ListResourceTags", "Tags", {"KeyId": ids[1]})
    assert sorted(t["TagKey"] for t in tags) == ["t0", "t1", "t2"] and pages == 2
    rotations, pages = walk("ListKeyRotations", "Rotations", {"KeyId": ids[0]})
    assert len(rotations) == 3 and pages == 2
    for op, extra in (("ListKeys", {}), ("ListResourceTags", {"KeyId": ids[1]})):
        assert call_error(srv, op, dict(extra, Marker="not-ours"))[0] == "InvalidMarkerException"
