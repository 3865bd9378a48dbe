"""STS on the S3 port (AWS Query protocol): GetCallerIdentity, AssumeRole, GetSessionToken and
InvalidAction with boto3, the aws CLI and raw forms; AWS's validation errors; and the temporary
credentials at work when signatures are checked (token required and verified, presigned URLs,
the assumed role as the principal of bucket policies)."""
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import raw_request, run_aws, unique_name

NS = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
FORM = "application/x-www-form-urlencoded; charset=utf-8"
CHECKING = {"S3_SKIP_SIGNATURE_VALIDATION": "0"}
ROLE = "arn:aws:iam::000000000000:role/app"
OTHER_ROLE = "arn:aws:iam::111122223333:role/ops/reader"
ALICE = "arn:aws:iam::111122223333:user/alice"


def cfg():
    return Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})


def sts_client(srv, ak="test", sk="test", token=None):
    return boto3.client("sts", endpoint_url=srv.endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, aws_session_token=token,
                        region_name="us-east-1", config=cfg())


def s3_client(srv, creds):
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=creds[0],
                        aws_secret_access_key=creds[1],
                        aws_session_token=creds[2] if len(creds) > 2 else None,
                        region_name="us-east-1", config=cfg())


def temp(creds):
    c = creds["Credentials"]
    return (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def form_post(port, params, signed_as=None, service="sts", content_type=FORM, path="/",
              extra_headers=None):
    """A Query protocol POST (anonymous, or SigV4-signed like botocore's sts client)."""
    body = urlencode(params).encode()
    host = f"127.0.0.1:{port}"
    headers = dict(extra_headers or {})
    if content_type is not None:
        headers["Content-Type"] = content_type
    if signed_as is None:
        return raw_request(port, "POST", path, headers=headers, body=body, auth=None)
    req = AWSRequest(method="POST", url=f"http://{host}{path}", data=body, headers=headers)
    req.headers["Host"] = host
    SigV4Auth(Credentials(*signed_as), service, "us-east-1").add_auth(req)
    return raw_request(port, "POST", path, headers=dict(req.headers.items()), body=body,
                       auth=None)


def sts_error(resp):
    """(status, Type, Code, Message) of an STS ErrorResponse; checks its shape."""
    x = resp.xml()
    assert x.tag == "{%s}ErrorResponse" % NS["s"], resp
    assert re.fullmatch(r"[0-9A-F]{16}", x.findtext("s:RequestId", namespaces=NS) or "")
    e = x.find("s:Error", NS)
    return (resp.status, e.findtext("s:Type", namespaces=NS), e.findtext("s:Code", namespaces=NS),
            e.findtext("s:Message", namespaces=NS))


def client_error(fn, *a, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*a, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


# ---- GetCallerIdentity ----------------------------------------------------------------------

def test_caller_identity_localstack_defaults(server):
    r = sts_client(server).get_caller_identity()
    assert (r["Account"], r["Arn"], r["UserId"]) == (
        "000000000000", "arn:aws:iam::000000000000:root", "AKIAIOSFODNN7EXAMPLE")
    assert r["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"
    # LocalStack: a 12-digit access key is that account.
    r = sts_client(server, ak="123456789012").get_caller_identity()
    assert (r["Account"], r["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:root")
    r = sts_client(server, ak="AKIA1234567890123456").get_caller_identity()
    assert r["Account"] == "000000000000"


def test_caller_identity_aws_cli(server, tmp_path):
    p = run_aws(server.endpoint, "sts", "get-caller-identity", home=tmp_path)
    assert json.loads(p.stdout) == {"UserId": "AKIAIOSFODNN7EXAMPLE", "Account": "000000000000",
                                    "Arn": "arn:aws:iam::000000000000:root"}


def test_caller_identity_document(server):
    r = form_post(server.port, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/xml"
    x = r.xml()
    assert x.tag == "{%s}GetCallerIdentityResponse" % NS["s"]
    res = x.find("s:GetCallerIdentityResult", NS)
    assert [c.tag.split("}")[1] for c in res] == ["Arn", "UserId", "Account"]
    assert x.findtext("s:ResponseMetadata/s:RequestId", namespaces=NS) == r.header(
        "x-amzn-RequestId")


# ---- AssumeRole -----------------------------------------------------------------------------

def test_assume_role_boto3(server):
    sts = sts_client(server)
    before = datetime.now(timezone.utc)
    r = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/path/to/deploy",
                        RoleSessionName="ci-run@1", DurationSeconds=900)
    c = r["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", c["AccessKeyId"])
    assert len(c["SecretAccessKey"]) == 40
    assert len(c["SessionToken"]) > 100
    exp = c["Expiration"]
    assert before + timedelta(seconds=890) <= exp <= before + timedelta(seconds=910)
    u = r["AssumedRoleUser"]
    # AWS: the assumed-role ARN drops the role's path; the role id is stable per role.
    assert u["Arn"] == "arn:aws:sts::111122223333:assumed-role/deploy/ci-run@1"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:ci-run@1", u["AssumedRoleId"])
    again = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/path/to/deploy",
                            RoleSessionName="other")
    assert again["AssumedRoleUser"]["AssumedRoleId"].split(":")[0] == \
        u["AssumedRoleId"].split(":")[0]
    assert temp(again)[0] != c["AccessKeyId"] and temp(again)[1] != c["SecretAccessKey"]
    assert "PackedPolicySize" not in r
    # The session knows who it is.
    me = sts_client(server, *temp(r)).get_caller_identity()
    assert (me["Arn"], me["UserId"], me["Account"]) == (u["Arn"], u["AssumedRoleId"],
                                                        "111122223333")


def test_assume_role_with_session_policy(server):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    r = sts_client(server).assume_role(RoleArn=ROLE, RoleSessionName="sess", Policy=policy)
    assert 1 <= r["PackedPolicySize"] <= 100


def test_assume_role_aws_cli(server, tmp_path):
    p = run_aws(server.endpoint, "sts", "assume-role", "--role-arn", ROLE,
                "--role-session-name", "cli", home=tmp_path)
    out = json.loads(p.stdout)
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/app/cli"
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")


VALIDATION = [
    ({"RoleSessionName": "ss"}, "1 validation error detected: Value null at 'roleArn' failed to "
     "satisfy constraint: Member must not be null"),
    ({}, "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: "
     "Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: "
     "Member must not be null"),
    ({"RoleArn": ROLE, "RoleSessionName": "ss", "DurationSeconds": "899"},
     "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy "
     "constraint: Member must have value greater than or equal to 900"),
    ({"RoleArn": ROLE, "RoleSessionName": "ss", "DurationSeconds": "43201"},
     "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy "
     "constraint: Member must have value less than or equal to 43200"),
    ({"RoleArn": ROLE, "RoleSessionName": "ss", "DurationSeconds": "1h"},
     "1 validation error detected: Value '1h' at 'durationSeconds' failed to satisfy "
     "constraint: Member must be a valid integer"),
    ({"RoleArn": ROLE, "RoleSessionName": "bad name"},
     "1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy "
     "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
    ({"RoleArn": ROLE, "RoleSessionName": "x"},
     "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy "
     "constraint: Member must have length greater than or equal to 2"),
    ({"RoleArn": ROLE, "RoleSessionName": "s" * 65},
     "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
     "constraint: Member must have length less than or equal to 64" % ("s" * 65)),
    ({"RoleArn": "arn:aws", "RoleSessionName": "ss"},
     "1 validation error detected: Value 'arn:aws' at 'roleArn' failed to satisfy "
     "constraint: Member must have length greater than or equal to 20"),
    ({"RoleArn": "arn:aws:iam::000000000000:user/bob", "RoleSessionName": "ss"},
     "arn:aws:iam::000000000000:user/bob is invalid"),
    ({"RoleArn": "arn:aws:iam::0000:role/short-account", "RoleSessionName": "ss"},
     "arn:aws:iam::0000:role/short-account is invalid"),
    ({"RoleArn": ROLE, "RoleSessionName": "ss", "Policy": "x" * 2049},
     "1 validation error detected: Value '%s' at 'policy' failed to satisfy constraint: "
     "Member must have length less than or equal to 2048" % ("x" * 200)),
]


@pytest.mark.parametrize("params,message", VALIDATION)
def test_assume_role_validation(server, params, message):
    r = form_post(server.port, {"Action": "AssumeRole", "Version": "2011-06-15", **params})
    assert sts_error(r) == (400, "Sender", "ValidationError", message)


def test_assume_role_malformed_policy(server):
    r = form_post(server.port, {"Action": "AssumeRole", "RoleArn": ROLE,
                                "RoleSessionName": "ss", "Policy": "{not json"})
    assert sts_error(r) == (400, "Sender", "MalformedPolicyDocument",
                            "The policy is not in the valid JSON format.")


# ---- GetSessionToken ------------------------------------------------------------------------

def test_get_session_token(server):
    sts = sts_client(server)
    now = datetime.now(timezone.utc)
    c = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    assert now + timedelta(seconds=890) <= c["Expiration"] <= now + timedelta(seconds=910)
    # AWS: an account root's session lasts an hour at most, whatever was asked.
    c = sts.get_session_token()["Credentials"]
    assert c["Expiration"] <= now + timedelta(seconds=3610)
    me = sts_client(server, c["AccessKeyId"], c["SecretAccessKey"],
                    c["SessionToken"]).get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:root"
    r = form_post(server.port, {"Action": "GetSessionToken", "DurationSeconds": "129601"})
    assert sts_error(r) == (400, "Sender", "ValidationError",
                            "1 validation error detected: Value '129601' at 'durationSeconds' "
                            "failed to satisfy constraint: Member must have value less than or "
                            "equal to 129600")


def test_get_session_token_with_session_credentials(server):
    creds = temp(sts_client(server).assume_role(RoleArn=ROLE, RoleSessionName="ss"))
    assert client_error(sts_client(server, *creds).get_session_token) == (
        403, "AccessDenied", "Cannot call GetSessionToken with session credentials")


# ---- other actions and routing ----------------------------------------------------------------

def test_invalid_action(server):
    r = form_post(server.port, {"Action": "Foo", "Version": "2011-06-15"})
    assert sts_error(r) == (400, "Sender", "InvalidAction",
                            "Could not find operation Foo for version 2011-06-15")
    r = raw_request(server.port, "GET", "/?Action=DecodeAuthorizationMessage", auth=None)
    assert sts_error(r) == (400, "Sender", "InvalidAction", "Could not find operation "
                            "DecodeAuthorizationMessage for version NO_VERSION_SPECIFIED")
    # A real STS action coffer does not implement is no exception.
    with pytest.raises(ClientError) as ei:
        sts_client(server).get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
    assert ei.value.response["Error"]["Code"] == "InvalidAction"


def test_routing_query_action_and_scope(server):
    # Action in the query string, GET or POST.
    for method in ("GET", "POST"):
        r = raw_request(server.port, method, "/?Action=GetCallerIdentity&Version=2011-06-15",
                        auth=None)
        assert r.status == 200 and r.xml().tag.endswith("GetCallerIdentityResponse"), r
    # The credential scope's service alone (no form Content-Type) makes POST / an STS call.
    r = form_post(server.port, {"Action": "GetCallerIdentity"}, signed_as=("test", "test"),
                  content_type=None)
    assert r.status == 200 and r.xml().tag.endswith("GetCallerIdentityResponse"), r
    # Parameters come from the form body and the query alike.
    r = raw_request(server.port, "POST", "/?Action=AssumeRole&RoleArn=" + ROLE,
                    headers={"Content-Type": FORM}, body=b"RoleSessionName=mixed", auth=None)
    assert r.status == 200, r
    assert r.xml().findtext(".//s:AssumedRoleUser/s:Arn", namespaces=NS).endswith("/app/mixed")


def test_routing_plain_post_root_unchanged(server):
    """POST / without an X-Amz-Target or an Action stays what it was: MethodNotAllowed (S3)."""
    for headers, body in (({}, b""), ({"Content-Type": FORM}, b"Version=2011-06-15"),
                          ({"Content-Type": FORM}, b"")):
        r = raw_request(server.port, "POST", "/", headers=headers, body=body, auth=None)
        assert r.status == 405, r
        assert r.xml().tag == "Error" and r.xml().findtext("Code") == "MethodNotAllowed"
    # A form that is not one is the Query protocol's error.
    r = raw_request(server.port, "POST", "/", headers={"Content-Type": FORM},
                    body=b"Action=GetCallerIdentity&x=%zz", auth=None)
    assert sts_error(r)[:3] == (400, "Sender", "MalformedQueryString")
    # An over-cap form is refused without being read as anything.
    r = raw_request(server.port, "POST", "/", headers={"Content-Type": FORM},
                    body=b"Action=GetCallerIdentity&p=" + b"x" * 70000, auth=None)
    assert sts_error(r)[:3] == (413, "Sender", "RequestEntityTooLarge")


def test_routing_s3_posts_keep_their_meaning(server, s3):
    b = unique_name("route")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="gone", Body=b"x")
    # DeleteObjects with Action= in its query: still DeleteObjects.
    s3.meta.events.register(
        "before-sign.s3.DeleteObjects",
        lambda request, **kw: setattr(request, "url", request.url + "&Action=GetCallerIdentity"))
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "gone"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["gone"]
    s3.meta.events.unregister("before-sign.s3.DeleteObjects")
    # A form upload (POST Object) whose fields include Action: an upload.
    from test_post_object import post_form
    r = post_form(server.port, b, {"key": "form-up", "Action": "GetCallerIdentity"}, b"data")
    assert r.status == 204, r
    assert s3.get_object(Bucket=b, Key="form-up")["Body"].read() == b"data"
    # A urlencoded form POSTed to a bucket is S3's (not multipart/form-data), never STS.
    r = raw_request(server.port, "POST", f"/{b}", headers={"Content-Type": FORM},
                    body=b"Action=GetCallerIdentity", auth=None)
    assert r.status == 412 and r.xml().tag == "Error", r
    assert r.xml().findtext("Condition") == "Bucket POST must be of the enclosure-type " \
        "multipart/form-data"
    s3.delete_object(Bucket=b, Key="form-up")
    s3.delete_bucket(Bucket=b)


def test_health_lists_kms_and_sts(server):
    r = raw_request(server.port, "GET", "/_localstack/health", auth=None)
    services = json.loads(r.body)["services"]
    assert services["kms"] == "available" and services["sts"] == "available"
    assert services["s3"] in ("available", "running")


# ---- temporary credentials with signatures checked ------------------------------------------

@pytest.fixture
def signed(coffer_factory):
    return coffer_factory(env=CHECKING, extra_args=[
        "--credentials", "test:test,AKALICE:alicesecret", "--principals", f"AKALICE={ALICE}"])


def test_signed_sts_requires_valid_credentials(signed):
    assert sts_client(signed).get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    me = sts_client(signed, "AKALICE", "alicesecret").get_caller_identity()
    assert (me["Arn"], me["Account"]) == (ALICE, "111122223333")
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", me["UserId"])
    r = form_post(signed.port, {"Action": "GetCallerIdentity"})
    assert sts_error(r)[:3] == (403, "Sender", "AccessDenied")
    assert client_error(sts_client(signed, "test", "wrong").get_caller_identity)[:2] == (
        403, "SignatureDoesNotMatch")
    assert client_error(sts_client(signed, "nobody", "x").get_caller_identity) == (
        403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    # The body is signed: changing it after signing breaks the signature.
    body = urlencode({"Action": "AssumeRole", "RoleArn": ROLE, "RoleSessionName": "a"}).encode()
    host = f"127.0.0.1:{signed.port}"
    req = AWSRequest(method="POST", url=f"http://{host}/", data=body,
                     headers={"Content-Type": FORM, "Host": host})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(req)
    r = raw_request(signed.port, "POST", "/", headers=dict(req.headers.items()),
                    body=body.replace(b"=a", b"=b"), auth=None)
    assert sts_error(r)[:3] == (403, "Sender", "SignatureDoesNotMatch")


def test_temporary_credentials_on_s3(signed):
    owner = s3_client(signed, ("test", "test"))
    b = unique_name("tmp")
    owner.create_bucket(Bucket=b)
    owner.put_object(Bucket=b, Key="k", Body=b"secret data")
    ak, sk, tok = temp(sts_client(signed).assume_role(RoleArn=ROLE, RoleSessionName="app"))
    role = s3_client(signed, (ak, sk, tok))
    assert role.get_object(Bucket=b, Key="k")["Body"].read() == b"secret data"
    role.put_object(Bucket=b, Key="by-role", Body=b"r")
    # Without the token the key is unknown; a tampered token or one for another key is refused.
    assert client_error(s3_client(signed, (ak, sk)).get_object, Bucket=b, Key="k") == (
        403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
        "records.")
    bad = tok[:40] + ("A" if tok[40] != "A" else "B") + tok[41:]
    assert client_error(s3_client(signed, (ak, sk, bad)).get_object, Bucket=b, Key="k") == (
        400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
    ak2, sk2, tok2 = temp(sts_client(signed).get_session_token())
    assert client_error(s3_client(signed, (ak, sk, tok2)).get_object, Bucket=b, Key="k")[:2] == (
        400, "InvalidToken")
    assert client_error(s3_client(signed, (ak, sk2, tok)).get_object, Bucket=b, Key="k")[:2] == (
        403, "SignatureDoesNotMatch")
    # Presigned URLs carry the token in the query.
    for sig in ("s3v4", "s3"):  # SigV4 and SigV2 presigned URLs
        presigner = boto3.client("s3", endpoint_url=signed.endpoint, aws_access_key_id=ak,
                                 aws_secret_access_key=sk, aws_session_token=tok,
                                 region_name="us-east-1",
                                 config=Config(signature_version=sig,
                                               s3={"addressing_style": "path"}))
        url = presigner.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"})
        assert re.search(r"[?&]X-Amz-Security-Token=", url, re.I), url
        assert urllib.request.urlopen(url, timeout=30).read() == b"secret data"
    forged = re.sub(r"(X-Amz-Security-Token=)([^&]{30})(.)", lambda m: m.group(1) + m.group(2) + (
        "A" if m.group(3) != "A" else "B"), url, flags=re.I)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(forged, timeout=30)
    assert ei.value.code == 400 and b"<Code>InvalidToken</Code>" in ei.value.read()
    # Tokens are sealed under this server's root key: another server refuses them.
    for key in ("k", "by-role"):
        owner.delete_object(Bucket=b, Key=key)
    owner.delete_bucket(Bucket=b)


def test_token_from_another_server_refused(signed, coffer_factory):
    other = coffer_factory(env=CHECKING)
    creds = temp(sts_client(other).assume_role(RoleArn=ROLE, RoleSessionName="xx"))
    assert client_error(s3_client(signed, creds).list_buckets)[:2] == (400, "InvalidToken")
    assert client_error(sts_client(signed, *creds).get_caller_identity) == (
        403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def test_assumed_role_is_the_policy_principal(signed):
    owner = s3_client(signed, ("test", "test"))
    b = unique_name("pol")
    owner.create_bucket(Bucket=b)
    owner.put_object(Bucket=b, Key="k", Body=b"v")
    sts = sts_client(signed)
    same = s3_client(signed, temp(sts.assume_role(RoleArn=ROLE, RoleSessionName="one")))
    other = s3_client(signed, temp(sts.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="r1")))
    other2 = s3_client(signed, temp(sts.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="r2")))
    # No policy: the owner account's role may, another account's role may not.
    assert same.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    assert client_error(other.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    r1 = "arn:aws:sts::111122223333:assumed-role/reader/r1"
    one = "arn:aws:sts::000000000000:assumed-role/app/one"
    owner.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": r1}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{b}/*"},
        {"Effect": "Deny", "Principal": {"AWS": one}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert other.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    assert client_error(other2.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    assert client_error(same.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    assert owner.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    # GetSessionToken sessions act as their caller: alice's session is alice.
    alice = s3_client(signed, temp(sts_client(signed, "AKALICE", "alicesecret")
                                   .get_session_token()))
    assert client_error(alice.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    owner.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    owner.delete_bucket_policy(Bucket=b)
    owner.delete_object(Bucket=b, Key="k")
    owner.delete_bucket(Bucket=b)


def test_role_chaining_limit(signed):
    creds = temp(sts_client(signed).assume_role(RoleArn=ROLE, RoleSessionName="aa"))
    chained = sts_client(signed, *creds)
    assert chained.assume_role(RoleArn=OTHER_ROLE, RoleSessionName="bb", DurationSeconds=3600)
    assert client_error(chained.assume_role, RoleArn=OTHER_ROLE, RoleSessionName="bb",
                        DurationSeconds=3601) == (
        400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit "
        "for roles assumed by role chaining.")


def test_cli_with_temporary_credentials(signed, tmp_path):
    out = json.loads(run_aws(signed.endpoint, "sts", "assume-role", "--role-arn", ROLE,
                             "--role-session-name", "cli", home=tmp_path).stdout)
    c = out["Credentials"]

    from conftest import AWS, aws_env
    env = aws_env(tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                "AWS_SESSION_TOKEN": c["SessionToken"]})
    p = subprocess.run([AWS, "--endpoint-url", signed.endpoint, "sts", "get-caller-identity"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["Arn"] == "arn:aws:sts::000000000000:assumed-role/app/cli"
    p = subprocess.run([AWS, "--endpoint-url", signed.endpoint, "s3api", "list-buckets"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    env["AWS_SESSION_TOKEN"] = c["SessionToken"][:-2]
    p = subprocess.run([AWS, "--endpoint-url", signed.endpoint, "s3api", "list-buckets"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "InvalidToken" in p.stderr


# ---- the JavaScript SDK ---------------------------------------------------------------------

def test_js_sdk_sts_flow(signed):
    from test_js_sdk import JS_DIR, node_binary
    node = node_binary()
    p = subprocess.run([node, "sts_flow.mjs", signed.endpoint, unique_name("js-sts")],
                       cwd=JS_DIR, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["identity"] == {"account": "000000000000",
                               "arn": "arn:aws:iam::000000000000:root",
                               "userId": "AKIAIOSFODNN7EXAMPLE"}
    a = out["assumed"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", a["accessKeyId"]) and a["secretLength"] == 40
    assert 1190 <= a["expiresIn"] <= 1201
    assert a["arn"] == "arn:aws:sts::000000000000:assumed-role/js-role/js-session"
    assert out["roleIdentity"] == {"account": "000000000000", "arn": a["arn"]}
    assert out["s3Body"] == "from a role"
    assert out["noToken"] == {"name": "InvalidAccessKeyId", "status": 403}
    assert out["sessionTokenWithSession"] == {
        "name": "AccessDenied", "status": 403,
        "message": "Cannot call GetSessionToken with session credentials"}


# ---- the token format, written independently: a genuine token, then an expired one ---------

def craft_token(root_key_file, ak, secret, expires, arn, account="000000000000",
                user_id="AROAEXAMPLEEXAMPLE12:x"):
    """A session token built from object/session.h's and crypto/token.h's documented format
    with pyca/cryptography, under the server's active root key."""
    import base64
    import os
    import struct
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    lines = open(root_key_file).read().split("\n")
    assert lines[0] == "coffer-root-keyring v1"
    key_id, key_hex = [l for l in lines[1:] if l.strip()][-1].split()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"coffer-token-v1sts-session").derive(bytes.fromhex(key_hex))
    header = bytes([1, len(key_id)]) + key_id.encode()
    payload = (bytes([1]) + struct.pack(">q", expires) + ak.encode() + secret.encode()
               + account.encode() + bytes([len(arn)]) + arn.encode()
               + bytes([len(user_id)]) + user_id.encode())
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, payload,
                                 b"coffer-token-v1sts-session\x00" + header)
    return base64.urlsafe_b64encode(header + nonce + sealed).decode().rstrip("=")


def test_crafted_and_expired_tokens(signed):
    owner = s3_client(signed, ("test", "test"))
    b = unique_name("exp")
    owner.create_bucket(Bucket=b)
    ak, secret = "ASIA" + "Q" * 16, "s" * 40
    arn = "arn:aws:sts::000000000000:assumed-role/crafted/x"
    good = craft_token(signed.root_key, ak, secret, int(time.time()) + 600, arn)
    assert s3_client(signed, (ak, secret, good)).list_objects_v2(Bucket=b)["KeyCount"] == 0
    assert sts_client(signed, ak, secret, good).get_caller_identity()["Arn"] == arn
    expired = craft_token(signed.root_key, ak, secret, int(time.time()) - 1, arn)
    assert client_error(s3_client(signed, (ak, secret, expired)).list_objects_v2, Bucket=b) == (
        400, "ExpiredToken", "The provided token has expired.")
    assert client_error(sts_client(signed, ak, secret, expired).get_caller_identity) == (
        400, "ExpiredToken", "The security token included in the request is expired")
    # A token for another access key does not lend its secret.
    other = craft_token(signed.root_key, "ASIA" + "R" * 16, secret, int(time.time()) + 600, arn)
    assert client_error(s3_client(signed, (ak, secret, other)).list_objects_v2, Bucket=b)[:2] == (
        400, "InvalidToken")
    owner.delete_bucket(Bucket=b)


def token_key_id(token):
    import base64
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return raw[2:2 + raw[1]].decode()


def test_tokens_across_root_key_rotation(signed):
    from test_key_rotation import keys_ok, new_key_id
    owner = s3_client(signed, ("test", "test"))
    b = unique_name("rot")
    owner.create_bucket(Bucket=b)
    old = temp(sts_client(signed).assume_role(RoleArn=ROLE, RoleSessionName="before"))
    k1 = token_key_id(old[2])
    k2 = new_key_id(keys_ok(signed, "rotate"))
    time.sleep(1.2)  # the server looks at the key file at most once a second
    # Rotation keeps outstanding tokens; new ones are sealed under the new key.
    assert s3_client(signed, old).list_objects_v2(Bucket=b)["KeyCount"] == 0
    new = temp(sts_client(signed).assume_role(RoleArn=ROLE, RoleSessionName="after"))
    assert (token_key_id(old[2]), token_key_id(new[2])) == (k1, k2)
    # Retiring the old key ends its tokens.
    keys_ok(signed, "rewrap")
    keys_ok(signed, "retire", k1)
    time.sleep(1.2)
    sts_client(signed).get_caller_identity()
    assert client_error(s3_client(signed, old).list_objects_v2, Bucket=b)[:2] == (
        400, "InvalidToken")
    assert s3_client(signed, new).list_objects_v2(Bucket=b)["KeyCount"] == 0
    owner.delete_bucket(Bucket=b)
