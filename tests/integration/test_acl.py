"""ACLs as AWS has them since April 2023 (ACLs disabled by BucketOwnerEnforced until ownership
changes), Put/Get/DeleteBucketOwnershipControls, Put/Get/DeletePublicAccessBlock with its four
flags enforced, GetBucketPolicyStatus, anonymous access through public grants with signatures
checked, and bucket-policy Deny on the new IAM actions."""
import json
import subprocess
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import raw_request, run_aws, unique_name

OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
OTHER_ID = "a" * 64
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
EC2_ID = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
ALICE = "arn:aws:iam::111122223333:user/alice"
CANNED = ["private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
          "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"]
OPEN_PAB = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False}


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*a, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


def client(srv, ak="test", sk="test"):
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def grants(acl):
    out = []
    for g in acl["Grants"]:
        ge = g["Grantee"]
        out.append((ge["Type"], ge.get("ID") or ge.get("URI"), g["Permission"]))
    return out


def owner_fc():
    return [("CanonicalUser", OWNER_ID, "FULL_CONTROL")]


def acls_on(s3, b):
    s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


@pytest.fixture
def fresh(s3):
    b = unique_name("acl")
    s3.create_bucket(Bucket=b)
    return b


# ---- defaults ----------------------------------------------------------------------------

def test_default_bucket_acl_xml_exactly(server, fresh):
    r = raw_request(server.port, "GET", f"/{fresh}?acl")
    assert r.status == 200
    root = ET.fromstring(r.body)
    assert root.tag == NS + "AccessControlPolicy"
    assert root.find(f"{NS}Owner/{NS}ID").text == OWNER_ID
    assert root.find(f"{NS}Owner/{NS}DisplayName").text == "webfile"
    gs = root.findall(f"{NS}AccessControlList/{NS}Grant")
    assert len(gs) == 1
    grantee = gs[0].find(f"{NS}Grantee")
    assert grantee.get(XSI + "type") == "CanonicalUser"
    assert grantee.find(f"{NS}ID").text == OWNER_ID
    assert grantee.find(f"{NS}DisplayName").text == "webfile"
    assert gs[0].find(f"{NS}Permission").text == "FULL_CONTROL"
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in r.body


def test_defaults_of_a_new_bucket(s3, fresh):
    assert grants(s3.get_bucket_acl(Bucket=fresh)) == owner_fc()
    oc = s3.get_bucket_ownership_controls(Bucket=fresh)["OwnershipControls"]
    assert oc == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # LocalStack's (and AWS's) default block: all four on.
    pab = s3.get_public_access_block(Bucket=fresh)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                   "RestrictPublicBuckets": True}
    s3.put_object(Bucket=fresh, Key="k", Body=b"x")
    acl = s3.get_object_acl(Bucket=fresh, Key="k")
    assert acl["Owner"] == {"ID": OWNER_ID, "DisplayName": "webfile"}
    assert grants(acl) == owner_fc()


def test_missing_bucket_and_key(s3):
    nb = unique_name("none")
    for fn in (s3.get_bucket_acl, s3.get_bucket_ownership_controls, s3.get_public_access_block):
        assert err(fn, Bucket=nb)[:2] == (404, "NoSuchBucket")
    b = unique_name("acl")
    s3.create_bucket(Bucket=b)
    assert err(s3.get_object_acl, Bucket=b, Key="nope")[:2] == (404, "NoSuchKey")
    assert err(s3.put_object_acl, Bucket=b, Key="nope", ACL="private")[:2] == (404, "NoSuchKey")


# ---- ACLs disabled (BucketOwnerEnforced) --------------------------------------------------

@pytest.mark.parametrize("acl", CANNED)
def test_enforced_accepts_only_private_acls(s3, fresh, acl):
    ok = acl in ("private", "bucket-owner-full-control", "bucket-owner-read")
    s3.put_object(Bucket=fresh, Key="k", Body=b"x")
    calls = [
        lambda: s3.put_object(Bucket=fresh, Key="n", Body=b"x", ACL=acl),
        lambda: s3.put_object_acl(Bucket=fresh, Key="k", ACL=acl),
        lambda: s3.copy_object(Bucket=fresh, Key="c", CopySource={"Bucket": fresh, "Key": "k"},
                               ACL=acl),
        lambda: s3.create_multipart_upload(Bucket=fresh, Key="m", ACL=acl),
    ]
    if acl in ("private", "public-read", "public-read-write", "authenticated-read"):
        calls.append(lambda: s3.put_bucket_acl(Bucket=fresh, ACL=acl))
    for call in calls:
        if ok:
            call()
        else:
            assert err(call) == (400, "AccessControlListNotSupported",
                                 "The bucket does not allow ACLs")
    # bucket-owner-read on an object of the bucket owner is the owner's FULL_CONTROL alone.


def test_enforced_accepts_owner_only_policy_body(s3, fresh):
    body = {"Owner": {"ID": OWNER_ID},
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID},
                        "Permission": "FULL_CONTROL"}]}
    s3.put_bucket_acl(Bucket=fresh, AccessControlPolicy=body)
    body["Grants"].append({"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"})
    assert err(s3.put_bucket_acl, Bucket=fresh, AccessControlPolicy=body)[:2] == (
        400, "AccessControlListNotSupported")
    assert err(s3.put_bucket_acl, Bucket=fresh, GrantRead=f'uri="{ALL_USERS}"')[:2] == (
        400, "AccessControlListNotSupported")


def test_create_bucket_acl_with_enforced(s3):
    b = unique_name("acl")
    assert err(s3.create_bucket, Bucket=b, ACL="public-read") == (
        400, "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
    assert err(s3.create_bucket, Bucket=b, ACL="public-read",
               ObjectOwnership="BucketOwnerEnforced")[1] == "InvalidBucketAclWithObjectOwnership"
    assert err(s3.head_bucket, Bucket=b)[0] == 404
    s3.create_bucket(Bucket=b, ACL="private")
    b2 = unique_name("acl")
    s3.create_bucket(Bucket=b2, ACL="public-read", ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=b2)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    assert grants(s3.get_bucket_acl(Bucket=b2)) == owner_fc() + [("Group", ALL_USERS, "READ")]


def test_create_bucket_bad_ownership_header(server):
    b = unique_name("acl")
    r = raw_request(server.port, "PUT", f"/{b}", headers={"x-amz-object-ownership": "Nobody"})
    assert r.status == 400
    x = ET.fromstring(r.body)
    assert x.findtext("Code") == "InvalidArgument"
    assert x.findtext("Message") == "Invalid x-amz-object-ownership header: Nobody"
    assert x.findtext("ArgumentName") == "x-amz-object-ownership"
    assert x.findtext("ArgumentValue") == "Nobody"


# ---- ACLs enabled ------------------------------------------------------------------------

EXPECTED_OBJECT = {
    "private": [],
    "public-read": [("Group", ALL_USERS, "READ")],
    "public-read-write": [("Group", ALL_USERS, "READ"), ("Group", ALL_USERS, "WRITE")],
    "authenticated-read": [("Group", AUTH_USERS, "READ")],
    "aws-exec-read": [("CanonicalUser", EC2_ID, "READ")],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
    "log-delivery-write": [("Group", LOG_DELIVERY, "WRITE"), ("Group", LOG_DELIVERY, "READ_ACP")],
}


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred"])
@pytest.mark.parametrize("acl", CANNED)
def test_canned_acls_stored(s3, fresh, ownership, acl):
    s3.put_bucket_ownership_controls(
        Bucket=fresh, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    s3.put_object(Bucket=fresh, Key="k", Body=b"x", ACL=acl)
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k")) == owner_fc() + EXPECTED_OBJECT[acl]
    s3.put_object_acl(Bucket=fresh, Key="k", ACL="private")
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k")) == owner_fc()
    s3.put_object_acl(Bucket=fresh, Key="k", ACL=acl)
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k")) == owner_fc() + EXPECTED_OBJECT[acl]
    s3.put_bucket_acl(Bucket=fresh, ACL=acl)
    want = [] if acl.startswith("bucket-owner") else EXPECTED_OBJECT[acl]
    assert grants(s3.get_bucket_acl(Bucket=fresh)) == owner_fc() + want


def test_acl_on_copy_multipart_and_versions(s3, fresh):
    acls_on(s3, fresh)
    s3.put_bucket_versioning(Bucket=fresh, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=fresh, Key="k", Body=b"1", ACL="public-read")["VersionId"]
    v2 = s3.put_object(Bucket=fresh, Key="k", Body=b"2")["VersionId"]
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k")) == owner_fc()
    r = s3.get_object_acl(Bucket=fresh, Key="k", VersionId=v1)
    assert grants(r) == owner_fc() + [("Group", ALL_USERS, "READ")]
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"] == v1
    s3.put_object_acl(Bucket=fresh, Key="k", VersionId=v2, ACL="authenticated-read")
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k"))[-1] == ("Group", AUTH_USERS, "READ")
    # A copy takes the request's ACL, never the source's.
    s3.copy_object(Bucket=fresh, Key="c", CopySource={"Bucket": fresh, "Key": "k",
                                                      "VersionId": v1})
    assert grants(s3.get_object_acl(Bucket=fresh, Key="c")) == owner_fc()
    s3.copy_object(Bucket=fresh, Key="c2", CopySource={"Bucket": fresh, "Key": "k"},
                   ACL="public-read")
    assert grants(s3.get_object_acl(Bucket=fresh, Key="c2"))[-1] == ("Group", ALL_USERS, "READ")
    up = s3.create_multipart_upload(Bucket=fresh, Key="m", ACL="public-read")["UploadId"]
    e = s3.upload_part(Bucket=fresh, Key="m", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=fresh, Key="m", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e}]})
    assert grants(s3.get_object_acl(Bucket=fresh, Key="m"))[-1] == ("Group", ALL_USERS, "READ")


def test_grant_headers_and_body(s3, fresh):
    acls_on(s3, fresh)
    s3.put_bucket_acl(Bucket=fresh, GrantRead=f'uri="{ALL_USERS}", id="{OTHER_ID}"',
                      GrantFullControl=f'id="{OWNER_ID}"', GrantWriteACP=f"uri={LOG_DELIVERY}")
    assert grants(s3.get_bucket_acl(Bucket=fresh)) == [
        ("Group", ALL_USERS, "READ"), ("CanonicalUser", OTHER_ID, "READ"),
        ("Group", LOG_DELIVERY, "WRITE_ACP"), ("CanonicalUser", OWNER_ID, "FULL_CONTROL")]
    body = {"Owner": {"ID": OWNER_ID},
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID},
                        "Permission": "FULL_CONTROL"},
                       {"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": "READ_ACP"}]}
    s3.put_object(Bucket=fresh, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=fresh, Key="k", AccessControlPolicy=body)
    assert grants(s3.get_object_acl(Bucket=fresh, Key="k")) == owner_fc() + [
        ("Group", AUTH_USERS, "READ_ACP")]


def test_switching_to_enforced_with_acls(s3, fresh):
    acls_on(s3, fresh)
    s3.put_bucket_acl(Bucket=fresh, ACL="public-read")
    assert err(s3.put_bucket_ownership_controls, Bucket=fresh, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}) == (
        400, "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
    s3.put_bucket_acl(Bucket=fresh, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=fresh, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


# ---- malformed ACLs ----------------------------------------------------------------------

def acl_put(server, path, headers=None, body=None):
    r = raw_request(server.port, "PUT", path, headers=headers, body=body)
    x = ET.fromstring(r.body) if r.body else None
    return r.status, x


def code(x):
    return x.findtext("Code"), x.findtext("Message"), x.findtext("ArgumentName"), \
        x.findtext("ArgumentValue")


def test_bad_headers(server, s3, fresh):
    acls_on(s3, fresh)
    p = f"/{fresh}?acl"
    st, x = acl_put(server, p, {"x-amz-acl": "public-ish"})
    assert st == 400 and code(x) == ("InvalidArgument", "", "x-amz-acl", "public-ish")
    st, x = acl_put(server, p, {"x-amz-acl": "private", "x-amz-grant-read": f'id="{OWNER_ID}"'})
    assert st == 400 and code(x)[:2] == (
        "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
    st, x = acl_put(server, p, {"x-amz-grant-read": "nonsense"})
    assert st == 400 and code(x) == ("InvalidArgument", "Argument format not recognized",
                                     "x-amz-grant-read", "nonsense")
    st, x = acl_put(server, p, {"x-amz-grant-write": 'id="not-hex"'})
    assert st == 400 and code(x) == ("InvalidArgument", "Invalid id", "id", "not-hex")
    st, x = acl_put(server, p, {"x-amz-grant-read": 'uri="http://example.com/everyone"'})
    assert st == 400 and code(x) == ("InvalidArgument", "Invalid group uri", "uri",
                                     "http://example.com/everyone")
    st, x = acl_put(server, p, {"x-amz-grant-read": 'emailAddress="a@example.com"'})
    assert st == 400 and code(x)[0] == "UnresolvableGrantByEmailAddress"
    st, x = acl_put(server, p)
    assert st == 400 and code(x)[:2] == ("MissingSecurityHeader",
                                         "Your request was missing a required header")
    assert x.findtext("MissingHeaderName") == "x-amz-acl"
    st, x = acl_put(server, p, {"x-amz-acl": "private"}, body=b"<AccessControlPolicy/>")
    assert st == 400 and code(x)[:2] == ("UnexpectedContent",
                                         "This request does not support content")
    # PutObject refuses an unknown canned ACL before reading the body.
    r = raw_request(server.port, "PUT", f"/{fresh}/k", headers={"x-amz-acl": "wide-open"},
                    body=b"data")
    assert r.status == 400 and ET.fromstring(r.body).findtext("ArgumentValue") == "wide-open"


OK_GRANT = (f'<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:type="CanonicalUser"><ID>{OWNER_ID}</ID></Grantee>'
            f'<Permission>FULL_CONTROL</Permission></Grant>')


def policy_doc(grants_xml, owner=f"<Owner><ID>{OWNER_ID}</ID></Owner>"):
    return (f'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{owner}'
            f'<AccessControlList>{grants_xml}</AccessControlList></AccessControlPolicy>').encode()


@pytest.mark.parametrize("body", [
    b"<AccessControlPolicy>",
    b"not xml",
    b"<Other/>",
    policy_doc(OK_GRANT, owner=""),
    b'<AccessControlPolicy><Owner><ID>' + OWNER_ID.encode() + b'</ID></Owner></AccessControlPolicy>',
    policy_doc(OK_GRANT.replace("FULL_CONTROL", "EVERYTHING")),
    policy_doc(OK_GRANT.replace(' xsi:type="CanonicalUser"', "")),
    policy_doc(OK_GRANT.replace('"CanonicalUser"', '"Robot"')),
    policy_doc(OK_GRANT.replace("<Permission>FULL_CONTROL</Permission>", "")),
    policy_doc("<Grant><Permission>READ</Permission></Grant>"),
    policy_doc("<Thing/>"),
    b'<!DOCTYPE x [<!ENTITY e "READ">]>' + policy_doc(OK_GRANT),
])
def test_malformed_acl_documents(server, s3, fresh, body):
    acls_on(s3, fresh)
    st, x = acl_put(server, f"/{fresh}?acl", body=body)
    assert st == 400
    assert code(x)[:2] == ("MalformedACLError", "The XML you provided was not well-formed or did "
                                                "not validate against our published schema")


def test_invalid_ids_in_documents(server, s3, fresh):
    acls_on(s3, fresh)
    st, x = acl_put(server, f"/{fresh}?acl", body=policy_doc(OK_GRANT.replace(OWNER_ID, "xyz")))
    assert st == 400 and code(x) == ("InvalidArgument", "Invalid id", "CanonicalUser/ID", "xyz")
    bad_group = ('<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/Nobody</URI>'
                 '</Grantee><Permission>READ</Permission></Grant>')
    st, x = acl_put(server, f"/{fresh}?acl", body=policy_doc(OK_GRANT + bad_group))
    assert st == 400 and code(x) == ("InvalidArgument", "Invalid group uri", "Group/URI",
                                     "http://acs.amazonaws.com/groups/global/Nobody")
    # The document cannot hand the bucket to someone else.
    st, x = acl_put(server, f"/{fresh}?acl",
                    body=policy_doc(OK_GRANT, owner=f"<Owner><ID>{OTHER_ID}</ID></Owner>"))
    assert st == 403 and code(x)[0] == "AccessDenied"


# ---- ownership controls ------------------------------------------------------------------

def test_ownership_controls_lifecycle(server, s3, fresh):
    for o in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"):
        s3.put_bucket_ownership_controls(Bucket=fresh,
                                         OwnershipControls={"Rules": [{"ObjectOwnership": o}]})
        assert s3.get_bucket_ownership_controls(Bucket=fresh)["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": o}]}
    r = s3.delete_bucket_ownership_controls(Bucket=fresh)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    st, c, m = err(s3.get_bucket_ownership_controls, Bucket=fresh)
    assert (st, c, m) == (404, "OwnershipControlsNotFoundError",
                          "The bucket ownership controls were not found")
    # Without ownership controls ACLs work as before 2023.
    s3.put_bucket_acl(Bucket=fresh, ACL="public-read")
    r = raw_request(server.port, "GET", f"/{fresh}?ownershipControls")
    assert r.status == 404
    assert ET.fromstring(r.body).findtext("BucketName") == fresh


@pytest.mark.parametrize("body", [
    b"",
    b"<OwnershipControls/>",
    b"<OwnershipControls><Rule/></OwnershipControls>",
    b"<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>",
    b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>"
    b"<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
    b"<Other><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Other>",
    b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter",
])
def test_ownership_controls_malformed(server, fresh, body):
    r = raw_request(server.port, "PUT", f"/{fresh}?ownershipControls", body=body)
    assert r.status == 400
    assert ET.fromstring(r.body).findtext("Code") == "MalformedXML"


# ---- public access block -----------------------------------------------------------------

def test_public_access_block_lifecycle(server, s3, fresh):
    cfg = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
           "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=fresh, PublicAccessBlockConfiguration=cfg)
    assert s3.get_public_access_block(Bucket=fresh)["PublicAccessBlockConfiguration"] == cfg
    r = raw_request(server.port, "GET", f"/{fresh}?publicAccessBlock")
    assert b"<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>" \
        in r.body
    r = s3.delete_public_access_block(Bucket=fresh)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert err(s3.get_public_access_block, Bucket=fresh) == (
        404, "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found")
    # Absent flags are false.
    raw_request(server.port, "PUT", f"/{fresh}?publicAccessBlock", body=(
        b"<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy>"
        b"</PublicAccessBlockConfiguration>"))
    assert s3.get_public_access_block(Bucket=fresh)["PublicAccessBlockConfiguration"] == dict(
        OPEN_PAB, BlockPublicPolicy=True)


@pytest.mark.parametrize("body", [
    b"",
    b"<Other/>",
    b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
    b"</PublicAccessBlockConfiguration>",
    b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
    b"<BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>",
    b"<PublicAccessBlockConfiguration><BlockPublicAcls>",
])
def test_public_access_block_malformed(server, fresh, body):
    r = raw_request(server.port, "PUT", f"/{fresh}?publicAccessBlock", body=body)
    assert r.status == 400
    assert ET.fromstring(r.body).findtext("Code") == "MalformedXML"


def public_policy(b):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{b}/*"}]})


def test_block_public_acls_and_policy(s3, fresh):
    acls_on(s3, fresh)
    # localstack profile: the default block is only reported (LocalStack enforces none).
    s3.put_bucket_acl(Bucket=fresh, ACL="public-read")
    s3.put_bucket_policy(Bucket=fresh, Policy=public_policy(fresh))
    assert s3.get_bucket_policy_status(Bucket=fresh)["PolicyStatus"]["IsPublic"] is True
    s3.put_public_access_block(Bucket=fresh, PublicAccessBlockConfiguration=dict(
        OPEN_PAB, BlockPublicAcls=True, BlockPublicPolicy=True))
    assert err(s3.put_bucket_acl, Bucket=fresh, ACL="public-read") == (
        403, "AccessDenied", "Access Denied")
    assert err(s3.put_object, Bucket=fresh, Key="k", Body=b"x", ACL="authenticated-read")[:2] == (
        403, "AccessDenied")
    assert err(s3.put_bucket_acl, Bucket=fresh,
               GrantRead=f'uri="{AUTH_USERS}"')[:2] == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket=fresh, ACL="log-delivery-write")  # not public
    assert err(s3.put_bucket_policy, Bucket=fresh, Policy=public_policy(fresh)) == (
        403, "AccessDenied", "Access Denied")
    # A policy naming an account is not public.
    s3.put_bucket_policy(Bucket=fresh, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{fresh}/*"}]}))
    assert s3.get_bucket_policy_status(Bucket=fresh)["PolicyStatus"]["IsPublic"] is False


def test_policy_status_reflects_restrict_public_buckets(s3, fresh):
    s3.put_bucket_policy(Bucket=fresh, Policy=public_policy(fresh))
    assert s3.get_bucket_policy_status(Bucket=fresh)["PolicyStatus"]["IsPublic"] is True
    s3.put_public_access_block(Bucket=fresh, PublicAccessBlockConfiguration=dict(
        OPEN_PAB, RestrictPublicBuckets=True))
    assert s3.get_bucket_policy_status(Bucket=fresh)["PolicyStatus"]["IsPublic"] is False


def test_aws_profile_enforces_the_default_block(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    s3 = client(srv)
    b = unique_name("acl")
    s3.create_bucket(Bucket=b)
    assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == {
        k: True for k in OPEN_PAB}
    assert err(s3.put_bucket_policy, Bucket=b, Policy=public_policy(b))[:2] == (
        403, "AccessDenied")
    acls_on(s3, b)
    assert err(s3.put_bucket_acl, Bucket=b, ACL="public-read")[:2] == (403, "AccessDenied")
    s3.delete_public_access_block(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
    s3.put_bucket_acl(Bucket=b, ACL="public-read")


# ---- enforcement with signatures checked ---------------------------------------------------

@pytest.fixture
def signed(coffer_factory):
    return coffer_factory(
        env={"S3_SKIP_SIGNATURE_VALIDATION": "0"},
        extra_args=["--credentials", "test:test,AKALICE:alicesecret",
                    "--principals", f"AKALICE={ALICE}"])


def anon(srv, method, path, body=None):
    return raw_request(srv.port, method, path, auth=None, body=body)


def test_anonymous_reads_public_read_object(signed):
    s3 = client(signed)
    b = unique_name("acl")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="pub", Body=b"hello")
    s3.put_object(Bucket=b, Key="priv", Body=b"secret")
    # ACLs disabled: nothing public.
    assert anon(signed, "GET", f"/{b}/pub").status == 403
    acls_on(s3, b)
    s3.put_object_acl(Bucket=b, Key="pub", ACL="public-read")
    # The default block is only reported in the localstack profile: the grant applies.
    r = anon(signed, "GET", f"/{b}/pub")
    assert (r.status, r.body) == (200, b"hello")
    assert anon(signed, "HEAD", f"/{b}/pub").status == 200
    assert anon(signed, "GET", f"/{b}/priv").status == 403
    assert anon(signed, "GET", f"/{b}?list-type=2").status == 403
    assert anon(signed, "PUT", f"/{b}/new", body=b"x").status == 403
    assert anon(signed, "GET", f"/{b}/pub?acl").status == 403
    # curl, anonymous, as a browser would fetch it.
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "%{http_code}",
                          f"{signed.endpoint}/{b}/pub"], capture_output=True, check=True)
    assert out.stdout == b"hello200"
    # IgnorePublicAcls: the grant no longer counts.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=dict(
        OPEN_PAB, IgnorePublicAcls=True))
    assert anon(signed, "GET", f"/{b}/pub").status == 403
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=OPEN_PAB)
    assert anon(signed, "GET", f"/{b}/pub").status == 200
    # Back to BucketOwnerEnforced: ACLs stop applying.
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert anon(signed, "GET", f"/{b}/pub").status == 403
    # A missing bucket is still 404 to anyone.
    assert anon(signed, "GET", f"/{unique_name('none')}/k").status == 404


def test_public_read_bucket_lists_and_public_read_write_writes(signed):
    s3 = client(signed)
    b = unique_name("acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter", ACL="public-read")
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    r = anon(signed, "GET", f"/{b}?list-type=2")
    assert r.status == 200 and b"<Key>k</Key>" in r.body
    assert anon(signed, "GET", f"/{b}/k").status == 403  # the object's own ACL is private
    assert anon(signed, "PUT", f"/{b}/w", body=b"x").status == 403
    s3.put_bucket_acl(Bucket=b, ACL="public-read-write")
    assert anon(signed, "PUT", f"/{b}/w", body=b"anon").status == 200
    assert s3.get_object(Bucket=b, Key="w")["Body"].read() == b"anon"
    assert anon(signed, "DELETE", f"/{b}/w").status == 204
    s3.put_bucket_acl(Bucket=b, ACL="private")
    assert anon(signed, "GET", f"/{b}?list-type=2").status == 403


def test_authenticated_read_and_user_grants(signed):
    s3 = client(signed)
    alice = client(signed, "AKALICE", "alicesecret")
    b = unique_name("acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="BucketOwnerPreferred")
    s3.put_object(Bucket=b, Key="k", Body=b"signed only", ACL="authenticated-read")
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"signed only"
    assert anon(signed, "GET", f"/{b}/k").status == 403
    assert err(alice.list_objects_v2, Bucket=b)[1] == "AccessDenied"
    assert err(alice.get_object_acl, Bucket=b, Key="k")[1] == "AccessDenied"


def test_restrict_public_buckets_and_anonymous_policy(signed):
    s3 = client(signed)
    alice = client(signed, "AKALICE", "alicesecret")
    b = unique_name("acl")
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
    assert anon(signed, "GET", f"/{b}/k").status == 200
    assert alice.get_object(Bucket=b, Key="k")["Body"].read() == b"x"
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=dict(
        OPEN_PAB, RestrictPublicBuckets=True))
    assert anon(signed, "GET", f"/{b}/k").status == 403
    assert err(alice.get_object, Bucket=b, Key="k")[1] == "AccessDenied"
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"x"  # the owner's account


def test_policy_deny_on_new_actions(s3, fresh):
    s3.put_object(Bucket=fresh, Key="k", Body=b"x")
    actions = ["s3:GetBucketAcl", "s3:PutBucketAcl", "s3:GetObjectAcl", "s3:PutObjectAcl",
               "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls",
               "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"]
    s3.put_bucket_policy(Bucket=fresh, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": actions,
        "Resource": [f"arn:aws:s3:::{fresh}", f"arn:aws:s3:::{fresh}/*"]}]}))
    oc = {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    calls = [
        lambda: s3.get_bucket_acl(Bucket=fresh),
        lambda: s3.put_bucket_acl(Bucket=fresh, ACL="private"),
        lambda: s3.get_object_acl(Bucket=fresh, Key="k"),
        lambda: s3.put_object_acl(Bucket=fresh, Key="k", ACL="private"),
        lambda: s3.get_bucket_ownership_controls(Bucket=fresh),
        lambda: s3.put_bucket_ownership_controls(Bucket=fresh, OwnershipControls=oc),
        lambda: s3.delete_bucket_ownership_controls(Bucket=fresh),
        lambda: s3.get_public_access_block(Bucket=fresh),
        lambda: s3.put_public_access_block(Bucket=fresh, PublicAccessBlockConfiguration=OPEN_PAB),
        lambda: s3.delete_public_access_block(Bucket=fresh),
    ]
    for call in calls:
        assert err(call)[:2] == (403, "AccessDenied")
    s3.delete_bucket_policy(Bucket=fresh)
    for call in calls:
        call()


def test_versioned_object_acl_action(s3, fresh):
    s3.put_bucket_versioning(Bucket=fresh, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=fresh, Key="k", Body=b"x")["VersionId"]
    s3.put_bucket_policy(Bucket=fresh, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObjectVersionAcl",
        "Resource": f"arn:aws:s3:::{fresh}/*"}]}))
    s3.get_object_acl(Bucket=fresh, Key="k")
    assert err(s3.get_object_acl, Bucket=fresh, Key="k", VersionId=v)[:2] == (
        403, "AccessDenied")
    s3.delete_bucket_policy(Bucket=fresh)


def test_configs_die_with_the_bucket(s3):
    b = unique_name("acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter", ACL="public-read")
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=OPEN_PAB)
    s3.delete_bucket(Bucket=b)
    s3.create_bucket(Bucket=b)
    assert grants(s3.get_bucket_acl(Bucket=b)) == owner_fc()
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"][
        "BlockPublicAcls"] is True


def test_aws_cli(server, fresh, tmp_path):
    out = run_aws(server.endpoint, "s3api", "get-bucket-acl", "--bucket", fresh, home=tmp_path)
    doc = json.loads(out.stdout)
    assert doc["Grants"][0]["Permission"] == "FULL_CONTROL"
    r = run_aws(server.endpoint, "s3api", "put-bucket-acl", "--bucket", fresh, "--acl",
                "public-read", home=tmp_path, check=False)
    assert r.returncode != 0 and "AccessControlListNotSupported" in r.stderr
    run_aws(server.endpoint, "s3api", "put-bucket-ownership-controls", "--bucket", fresh,
            "--ownership-controls", "Rules=[{ObjectOwnership=ObjectWriter}]", home=tmp_path)
    run_aws(server.endpoint, "s3api", "put-public-access-block", "--bucket", fresh,
            "--public-access-block-configuration",
            "BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,"
            "RestrictPublicBuckets=false", home=tmp_path)
    run_aws(server.endpoint, "s3api", "put-bucket-acl", "--bucket", fresh, "--acl",
            "public-read", home=tmp_path)
    doc = json.loads(run_aws(server.endpoint, "s3api", "get-bucket-acl", "--bucket", fresh,
                             home=tmp_path).stdout)
    assert doc["Grants"][1]["Grantee"]["URI"] == ALL_USERS
    doc = json.loads(run_aws(server.endpoint, "s3api", "get-public-access-block", "--bucket",
                             fresh, home=tmp_path).stdout)
    assert doc["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is False


def test_post_object_acl_field(server, s3, fresh):
    from test_post_object import post_form
    r = post_form(server.port, fresh, [("key", "p"), ("acl", "public-read")], b"x")
    assert r.status == 400, r
    assert ET.fromstring(r.body).findtext("Code") == "AccessControlListNotSupported"
    r = post_form(server.port, fresh, [("key", "p"), ("acl", "private")], b"x")
    assert r.status == 204, r
    acls_on(s3, fresh)
    r = post_form(server.port, fresh, [("key", "p"), ("acl", "public-read")], b"x")
    assert r.status == 204, r
    assert grants(s3.get_object_acl(Bucket=fresh, Key="p"))[-1] == ("Group", ALL_USERS, "READ")


def test_anonymous_form_upload_needs_public_write(signed):
    from test_post_object import post_form
    s3 = client(signed)
    b = unique_name("acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
    r = post_form(signed.port, b, [("key", "anon")], b"x")
    assert r.status == 403, r
    s3.put_bucket_acl(Bucket=b, ACL="public-read-write")
    r = post_form(signed.port, b, [("key", "anon")], b"from a form")
    assert r.status == 204, r
    assert s3.get_object(Bucket=b, Key="anon")["Body"].read() == b"from a form"
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=dict(
        OPEN_PAB, IgnorePublicAcls=True))
    assert post_form(signed.port, b, [("key", "anon2")], b"x").status == 403


def test_object_writer_owns_its_objects(signed):
    s3 = client(signed)
    alice = client(signed, "AKALICE", "alicesecret")
    b = unique_name("acl")
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{b}/*"}]}))
    alice.put_object(Bucket=b, Key="a", Body=b"alice's")
    acl = s3.get_object_acl(Bucket=b, Key="a")
    writer = acl["Owner"]["ID"]
    assert writer != OWNER_ID and len(writer) == 64 and "DisplayName" not in acl["Owner"]
    assert grants(acl) == [("CanonicalUser", writer, "FULL_CONTROL")]
    # Her object's ACL lets her read it; the policy alone would not.
    assert alice.get_object(Bucket=b, Key="a")["Body"].read() == b"alice's"
    alice.put_object(Bucket=b, Key="b", Body=b"x", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=b, Key="b")
    assert acl["Owner"]["ID"] == writer
    assert grants(acl) == [("CanonicalUser", writer, "FULL_CONTROL"),
                           ("CanonicalUser", OWNER_ID, "FULL_CONTROL")]
    # BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner.
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    alice.put_object(Bucket=b, Key="c", Body=b"x", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=b, Key="c")
    assert acl["Owner"] == {"ID": OWNER_ID, "DisplayName": "webfile"}
    assert grants(acl) == owner_fc()
    alice.put_object(Bucket=b, Key="d", Body=b"x")
    assert s3.get_object_acl(Bucket=b, Key="d")["Owner"]["ID"] == writer
    # PutObjectAcl keeps the object's owner.
    s3.put_object_acl(Bucket=b, Key="d", ACL="public-read")
    assert grants(s3.get_object_acl(Bucket=b, Key="d")) == [
        ("CanonicalUser", writer, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")]
    # BucketOwnerEnforced: the bucket owner owns everything and the ACLs stop counting.
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert grants(s3.get_object_acl(Bucket=b, Key="a")) == owner_fc()
    assert err(alice.get_object, Bucket=b, Key="a")[:2] == (403, "AccessDenied")
    assert anon(signed, "GET", f"/{b}/d").status == 403


def test_grants_across_accounts(signed):
    owner = client(signed)
    alice = client(signed, "AKALICE", "alicesecret")
    b = unique_name("acl")
    alice.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter",
                        GrantRead=f'id="{OWNER_ID}"', GrantFullControl=f'id="{OTHER_ID}"')
    acl = alice.get_bucket_acl(Bucket=b)
    alice_id = acl["Owner"]["ID"]
    assert alice_id != OWNER_ID and acl["Owner"]["DisplayName"] == "111122223333"
    assert grants(acl) == [("CanonicalUser", OWNER_ID, "READ"),
                           ("CanonicalUser", OTHER_ID, "FULL_CONTROL")]
    alice.put_object(Bucket=b, Key="k", Body=b"x")
    # The 000000000000 account may list alice's bucket through the grant, not read her object.
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=b)["Contents"]] == ["k"]
    assert err(owner.get_object, Bucket=b, Key="k")[:2] == (403, "AccessDenied")
    assert err(owner.get_bucket_acl, Bucket=b)[:2] == (403, "AccessDenied")
    alice.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{OWNER_ID}"',
                         GrantFullControl=f'id="{alice_id}"')
    assert owner.get_object(Bucket=b, Key="k")["Body"].read() == b"x"
    assert err(owner.put_object, Bucket=b, Key="k2", Body=b"x")[:2] == (403, "AccessDenied")
