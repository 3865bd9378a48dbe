"""The bucket sub-resources coffer stores but does not act on, as AWS answers them: accelerate,
requestPayment, logging, website, replication and notification configuration. Defaults, round
trips (stored in canonical form), AWS's refusals, MethodNotAllowed for other methods, and the
IAM action of each in bucket policies."""
import hashlib
import base64
import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, unique_name

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def fails(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


def put_raw(raw, path, body):
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return raw("PUT", path, body=body, headers={"Content-MD5": md5})


def raw_error(r):
    x = r.xml()
    return r.status, x.findtext("Code"), x.findtext("Message")


@pytest.fixture
def versioned(s3):
    name = unique_name("v")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    s3.delete_bucket(Bucket=name)


# ---- accelerate ---------------------------------------------------------------------------

def test_accelerate_round_trip(s3, bucket):
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    for status in ("Enabled", "Suspended"):
        s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                               AccelerateConfiguration={"Status": status})
        assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == status


def test_accelerate_refusals(s3, raw, bucket):
    assert raw_error(put_raw(raw, f"/{bucket}?accelerate",
                             b"<AccelerateConfiguration><Status>On</Status>"
                             b"</AccelerateConfiguration>"))[:2] == (400, "MalformedXML")
    assert raw_error(put_raw(raw, f"/{bucket}?accelerate",
                             b"<AccelerateConfiguration/>"))[:2] == (400, "MalformedXML")
    dotted = unique_name("dot") + ".x"
    s3.create_bucket(Bucket=dotted)
    try:
        assert fails(s3.put_bucket_accelerate_configuration, Bucket=dotted,
                     AccelerateConfiguration={"Status": "Enabled"}) == (
            400, "InvalidRequest", "S3 Transfer Acceleration is not supported for buckets with "
            "periods (.) in their names")
    finally:
        s3.delete_bucket(Bucket=dotted)
    assert fails(s3.put_bucket_accelerate_configuration, Bucket=unique_name("none"),
                 AccelerateConfiguration={"Status": "Enabled"})[:2] == (404, "NoSuchBucket")


def test_accelerate_with_the_cli(aws, bucket):
    aws("s3api", "put-bucket-accelerate-configuration", "--bucket", bucket,
        "--accelerate-configuration", "Status=Enabled")
    out = aws("s3api", "get-bucket-accelerate-configuration", "--bucket", bucket)
    assert json.loads(out.stdout)["Status"] == "Enabled"


# ---- requestPayment -----------------------------------------------------------------------

def test_request_payment(s3, raw, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    r = raw("GET", f"/{bucket}?requestPayment")
    assert r.body.endswith(b"<RequestPaymentConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                           b"2006-03-01/\"><Payer>Requester</Payer>"
                           b"</RequestPaymentConfiguration>") or \
        r.xml().findtext(NS + "Payer") == "Requester"
    for bad in (b"<RequestPaymentConfiguration><Payer>Someone</Payer>"
                b"</RequestPaymentConfiguration>",
                b"<RequestPaymentConfiguration/>",
                b"<Other><Payer>Requester</Payer></Other>",
                b"<RequestPaymentConfiguration><Payer>Requester</Payer><Payer>Requester</Payer>"
                b"</RequestPaymentConfiguration>"):
        assert raw_error(put_raw(raw, f"/{bucket}?requestPayment", bad))[:2] == \
            (400, "MalformedXML"), bad
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"


# ---- logging ------------------------------------------------------------------------------

def test_logging(s3, raw, bucket):
    got = s3.get_bucket_logging(Bucket=bucket)
    assert "LoggingEnabled" not in got
    r = raw("GET", f"/{bucket}?logging")
    assert r.status == 200 and r.xml().tag == NS + "BucketLoggingStatus" and len(r.xml()) == 0
    target = unique_name("logs")
    s3.create_bucket(Bucket=target)
    try:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "access/"}})
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
            "TargetBucket": target, "TargetPrefix": "access/"}
        # disabled again with an empty status
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    finally:
        s3.delete_bucket(Bucket=target)
    missing = unique_name("gone")
    r = put_raw(raw, f"/{bucket}?logging",
                f"<BucketLoggingStatus><LoggingEnabled><TargetBucket>{missing}</TargetBucket>"
                f"<TargetPrefix>p</TargetPrefix></LoggingEnabled></BucketLoggingStatus>".encode())
    assert raw_error(r) == (400, "InvalidTargetBucketForLogging",
                            "The target bucket for logging does not exist")
    assert r.xml().findtext("TargetBucket") == missing
    # a missing TargetPrefix is an empty one
    assert put_raw(raw, f"/{bucket}?logging",
                   f"<BucketLoggingStatus><LoggingEnabled><TargetBucket>{bucket}</TargetBucket>"
                   f"</LoggingEnabled></BucketLoggingStatus>".encode()).status == 200
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": bucket, "TargetPrefix": ""}
    for bad in (b"<BucketLoggingStatus><LoggingEnabled><TargetPrefix>p</TargetPrefix>"
                b"</LoggingEnabled></BucketLoggingStatus>",
                b"<BucketLoggingStatus><Bogus/></BucketLoggingStatus>",
                b"<BucketLoggingStatus><LoggingEnabled><TargetBucket>x</TargetBucket>"
                b"<TargetPrefix>p</TargetPrefix><TargetObjectKeyFormat/></LoggingEnabled>"
                b"</BucketLoggingStatus>",
                b"not xml"):
        assert raw_error(put_raw(raw, f"/{bucket}?logging", bad))[:2] == \
            (400, "MalformedXML"), bad


def test_logging_key_format_is_stored(raw, s3, bucket):
    body = (f"<BucketLoggingStatus><LoggingEnabled><TargetBucket>{bucket}</TargetBucket>"
            "<TargetPrefix>l/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix>"
            "<PartitionDateSource>EventTime</PartitionDateSource></PartitionedPrefix>"
            "</TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>").encode()
    assert put_raw(raw, f"/{bucket}?logging", body).status == 200
    le = raw("GET", f"/{bucket}?logging").xml().find(NS + "LoggingEnabled")
    assert le.findtext(f"{NS}TargetObjectKeyFormat/{NS}PartitionedPrefix/"
                       f"{NS}PartitionDateSource") == "EventTime"


# ---- website ------------------------------------------------------------------------------

WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "docs/"},
         "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "example.com", "Protocol": "https"}},
    ],
}


def test_website_round_trip_and_delete(s3, raw, bucket):
    st, code, _ = fails(s3.get_bucket_website, Bucket=bucket)
    assert (st, code) == (404, "NoSuchWebsiteConfiguration")
    r = raw("GET", f"/{bucket}?website")
    assert r.xml().findtext("BucketName") == bucket
    assert r.xml().findtext("Message") == \
        "The specified bucket does not have a website configuration"
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=WEBSITE)
    got = s3.get_bucket_website(Bucket=bucket)
    del got["ResponseMetadata"]
    assert got == WEBSITE
    r = s3.delete_bucket_website(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert fails(s3.get_bucket_website, Bucket=bucket)[1] == "NoSuchWebsiteConfiguration"
    # deleting again is still 204, as AWS answers
    assert s3.delete_bucket_website(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_website_stored_canonically(raw, bucket):
    body = (b"<WebsiteConfiguration>\n  <ErrorDocument><Key> e.html </Key></ErrorDocument>\n"
            b"  <!-- comment --><IndexDocument><Suffix>i.html</Suffix></IndexDocument>"
            b"</WebsiteConfiguration>")
    assert put_raw(raw, f"/{bucket}?website", body).status == 200
    got = raw("GET", f"/{bucket}?website").body
    assert got.endswith(b"<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        b"<IndexDocument><Suffix>i.html</Suffix></IndexDocument><ErrorDocument>"
                        b"<Key>e.html</Key></ErrorDocument></WebsiteConfiguration>"), got


def test_website_redirect_all(s3, bucket):
    cfg = {"RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=cfg)
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"] == \
        cfg["RedirectAllRequestsTo"]


@pytest.mark.parametrize("cfg,want", [
    ({"ErrorDocument": {"Key": "e.html"}},
     ("InvalidArgument", "A value for IndexDocument Suffix must be provided if "
      "RedirectAllRequestsTo is empty")),
    ({"IndexDocument": {"Suffix": "a/index.html"}},
     ("InvalidArgument", "The IndexDocument Suffix is not well formed")),
    ({"IndexDocument": {"Suffix": ""}},
     ("InvalidArgument", "The IndexDocument Suffix is not well formed")),
    ({"RedirectAllRequestsTo": {"HostName": "h"}, "IndexDocument": {"Suffix": "i.html"}},
     ("InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other "
      "Routing Rules.")),
    ({"RedirectAllRequestsTo": {"HostName": "h", "Protocol": "ftp"}},
     ("InvalidRequest", "Invalid protocol, protocol can be http or https. If not defined the "
      "protocol will be selected automatically.")),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Condition": {}, "Redirect": {"HostName": "h"}}]},
     ("InvalidRequest", "Condition cannot be empty. To redirect all requests without a "
      "condition, the condition element shouldn't be present.")),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Redirect": {"ReplaceKeyPrefixWith": "a", "ReplaceKeyWith": "b"}}]},
     ("InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both.")),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Redirect": {"HttpRedirectCode": "200"}}]},
     ("InvalidArgument", "The provided HTTP redirect code (200) is not valid. Valid codes are "
      "3XX except 300.")),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Condition": {"HttpErrorCodeReturnedEquals": "302"}, "Redirect": {"HostName": "h"}}]},
     ("InvalidArgument", "The provided HTTP error code (302) is not valid. Valid codes are 4XX "
      "or 5XX.")),
])
def test_website_refusals(s3, bucket, cfg, want):
    assert fails(s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration=cfg) == (400, *want)
    assert fails(s3.get_bucket_website, Bucket=bucket)[1] == "NoSuchWebsiteConfiguration"


def test_website_malformed(raw, bucket):
    for bad in (b"<WebsiteConfiguration><IndexDocument/></WebsiteConfiguration>",
                b"<WebsiteConfiguration><IndexDocument><Suffix>a</Suffix></IndexDocument>"
                b"<IndexDocument><Suffix>b</Suffix></IndexDocument></WebsiteConfiguration>",
                b"<WebsiteConfiguration><IndexDocument><Suffix>a</Suffix></IndexDocument>"
                b"<RoutingRules/></WebsiteConfiguration>",
                b"<WebsiteConfiguration><IndexDocument><Suffix>a</Suffix></IndexDocument>"
                b"<RoutingRules><RoutingRule><Condition><KeyPrefixEquals>x</KeyPrefixEquals>"
                b"</Condition></RoutingRule></RoutingRules></WebsiteConfiguration>",
                b"<WebsiteConfiguration><Index><Suffix>a</Suffix></Index>"
                b"</WebsiteConfiguration>"):
        assert raw_error(put_raw(raw, f"/{bucket}?website", bad))[:2] == \
            (400, "MalformedXML"), bad


# ---- replication --------------------------------------------------------------------------

def repl(dest, **rule):
    r = {"ID": "r1", "Priority": 1, "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dest}", "StorageClass": "STANDARD"}}
    r.update(rule)
    return {"Role": "arn:aws:iam::000000000000:role/replication", "Rules": [r]}


REPL_XML = ("<ReplicationConfiguration><Role>r</Role><Rule><Status>Enabled</Status><Destination>"
            "<Bucket>arn:aws:s3:::{dest}</Bucket></Destination></Rule></ReplicationConfiguration>")


def test_replication(s3, raw, bucket, versioned):
    st, code, msg = fails(s3.get_bucket_replication, Bucket=bucket)
    assert (st, code, msg) == (404, "ReplicationConfigurationNotFoundError",
                               "The replication configuration was not found")
    assert raw("GET", f"/{bucket}?replication").xml().findtext("BucketName") == bucket
    r = put_raw(raw, f"/{bucket}?replication", REPL_XML.format(dest=versioned).encode())
    assert r.xml().findtext("BucketName") == bucket
    # the source must be versioned
    assert fails(s3.put_bucket_replication, Bucket=bucket,
                 ReplicationConfiguration=repl(versioned)) == (
        400, "InvalidRequest",
        "Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    # the destination must exist and be versioned
    # AWS answers a destination that does not exist as one that is not versioned
    assert fails(s3.put_bucket_replication, Bucket=versioned,
                 ReplicationConfiguration=repl(unique_name("gone"))) == (
        400, "InvalidRequest", "Destination bucket must have versioning enabled.")
    assert fails(s3.put_bucket_replication, Bucket=versioned,
                 ReplicationConfiguration=repl(bucket)) == (
        400, "InvalidRequest", "Destination bucket must have versioning enabled.")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    cfg = repl(bucket)
    s3.put_bucket_replication(Bucket=versioned, ReplicationConfiguration=cfg)
    got = s3.get_bucket_replication(Bucket=versioned)["ReplicationConfiguration"]
    assert got == cfg
    assert s3.delete_bucket_replication(Bucket=versioned)["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    assert fails(s3.get_bucket_replication, Bucket=versioned)[1] == \
        "ReplicationConfigurationNotFoundError"


def test_replication_refusals(s3, raw, versioned):
    cfg = repl(versioned)
    del cfg["Rules"][0]["DeleteMarkerReplication"]
    assert fails(s3.put_bucket_replication, Bucket=versioned, ReplicationConfiguration=cfg) == (
        400, "InvalidRequest", "DeleteMarkerReplication must be specified for this version of "
        "Cross Region Replication configuration schema.")
    cfg = repl(versioned)
    cfg["Rules"][0]["Destination"]["Bucket"] = versioned
    assert fails(s3.put_bucket_replication, Bucket=versioned,
                 ReplicationConfiguration=cfg)[:2] == (400, "InvalidArgument")
    for bad in (b"<ReplicationConfiguration><Rule><Status>Enabled</Status><Destination>"
                b"<Bucket>arn:aws:s3:::x</Bucket></Destination></Rule>"
                b"</ReplicationConfiguration>",  # no Role
                b"<ReplicationConfiguration><Role>r</Role></ReplicationConfiguration>",
                b"<ReplicationConfiguration><Role>r</Role><Rule><Status>On</Status>"
                b"<Destination><Bucket>arn:aws:s3:::x</Bucket></Destination></Rule>"
                b"</ReplicationConfiguration>"):
        assert raw_error(put_raw(raw, f"/{versioned}?replication", bad))[:2] == \
            (400, "MalformedXML"), bad


# ---- notification -------------------------------------------------------------------------

def test_notification(s3, raw, bucket):
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    del got["ResponseMetadata"]
    assert got == {}
    r = raw("GET", f"/{bucket}?notification")
    assert r.status == 200 and r.xml().tag == NS + "NotificationConfiguration"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    st, code, msg = fails(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert (st, code) == (501, "NotImplemented")
    assert "SQS, SNS, Lambda or EventBridge" in msg and "not" in msg
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "QueueConfigurations" not in got
    assert raw_error(put_raw(raw, f"/{bucket}?notification",
                             b"<NotificationConfiguration><Bogus/></NotificationConfiguration>")
                     )[:2] == (400, "MalformedXML")


# ---- methods, missing buckets, policies ---------------------------------------------------

SUBS = ["accelerate", "requestPayment", "logging", "website", "replication", "notification"]


@pytest.mark.parametrize("sub", SUBS)
def test_other_methods_not_allowed(raw, bucket, sub):
    r = raw("POST", f"/{bucket}?{sub}")
    assert r.status == 405 and r.xml().findtext("Code") == "MethodNotAllowed"


@pytest.mark.parametrize("sub", SUBS)
def test_missing_bucket(raw, sub):
    name = unique_name("none")
    assert raw("GET", f"/{name}?{sub}").xml().findtext("Code") == "NoSuchBucket"
    r = put_raw(raw, f"/{name}?{sub}", b"<x/>")
    assert r.status == 404 and r.xml().findtext("Code") == "NoSuchBucket"


def test_deleted_bucket_forgets_its_configuration(s3):
    name = unique_name("gone")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "i"}})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert fails(s3.get_bucket_website, Bucket=name)[1] == "NoSuchWebsiteConfiguration"
    finally:
        s3.delete_bucket(Bucket=name)


ACTIONS = [
    ("s3:GetAccelerateConfiguration", "get_bucket_accelerate_configuration", {}),
    ("s3:PutAccelerateConfiguration", "put_bucket_accelerate_configuration",
     {"AccelerateConfiguration": {"Status": "Enabled"}}),
    ("s3:GetBucketRequestPayment", "get_bucket_request_payment", {}),
    ("s3:PutBucketRequestPayment", "put_bucket_request_payment",
     {"RequestPaymentConfiguration": {"Payer": "Requester"}}),
    ("s3:GetBucketLogging", "get_bucket_logging", {}),
    ("s3:PutBucketLogging", "put_bucket_logging", {"BucketLoggingStatus": {}}),
    ("s3:GetBucketWebsite", "get_bucket_website", {}),
    ("s3:PutBucketWebsite", "put_bucket_website",
     {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "i"}}}),
    ("s3:DeleteBucketWebsite", "delete_bucket_website", {}),
    ("s3:GetReplicationConfiguration", "get_bucket_replication", {}),
    ("s3:PutReplicationConfiguration", "delete_bucket_replication", {}),
    ("s3:GetBucketNotification", "get_bucket_notification_configuration", {}),
    ("s3:PutBucketNotification", "put_bucket_notification_configuration",
     {"NotificationConfiguration": {}}),
]


def test_policy_actions(s3, bucket):
    call = {a: (getattr(s3, m), kw) for a, m, kw in ACTIONS}
    for action, (fn, kw) in call.items():
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": action,
                "Resource": f"arn:aws:s3:::{bucket}"}]}))
        assert fails(fn, Bucket=bucket, **kw)[:2] == (403, "AccessDenied"), action
        s3.delete_bucket_policy(Bucket=bucket)
        try:
            fn(Bucket=bucket, **kw)
        except ClientError as e:  # allowed now: only AWS's own answers remain
            assert error_of(e)[1] in ("NoSuchWebsiteConfiguration",
                                      "ReplicationConfigurationNotFoundError"), action


def test_website_with_the_cli(aws, bucket):
    aws("s3", "website", f"s3://{bucket}/", "--index-document", "index.html",
        "--error-document", "error.html")
    got = json.loads(aws("s3api", "get-bucket-website", "--bucket", bucket).stdout)
    assert got == {"IndexDocument": {"Suffix": "index.html"},
                   "ErrorDocument": {"Key": "error.html"}}
    aws("s3api", "delete-bucket-website", "--bucket", bucket)
    r = aws("s3api", "get-bucket-website", "--bucket", bucket, check=False)
    assert r.returncode != 0 and "NoSuchWebsiteConfiguration" in r.stderr
