"""Bucket CORS: Put/Get/DeleteBucketCors (boto3 and the aws CLI), the OPTIONS preflight and the
CORS headers of actual requests, LocalStack's default for buckets without rules and its
environment variables (localstack profile), and AWS's behaviour (aws profile)."""

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from conftest import (COFFER_BIN, VHOST_SUFFIX, empty_and_delete, error_of, raw_request,
                      run_aws, server_env, unique_name)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the "
               "evalution of Origin, request method / Access-Control-Request-Method or "
               "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
                "Access-Control-Max-Age", "Access-Control-Allow-Credentials")

RULES = [
    {"ID": "app", "AllowedOrigins": ["http://app.example.com"], "AllowedMethods": ["PUT", "GET"],
     "AllowedHeaders": ["x-amz-*", "Content-Type"],
     "ExposeHeaders": ["ETag", "x-amz-server-side-encryption"], "MaxAgeSeconds": 3000},
    {"AllowedOrigins": ["http://*.sub.example.com"], "AllowedMethods": ["DELETE"]},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"]},
]


def err_xml(resp):
    root = ET.fromstring(resp.body)
    return {child.tag: child.text for child in root}


def cors_headers(resp):
    return {h: resp.header(h) for h in CORS_HEADERS if resp.header(h) is not None}


def preflight(port, path, origin=None, method=None, headers=None, host=None):
    h = {}
    if origin is not None:
        h["Origin"] = origin
    if method is not None:
        h["Access-Control-Request-Method"] = method
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return raw_request(port, "OPTIONS", path, headers=h, auth=None, host=host)


@pytest.fixture
def cors_bucket(s3):
    name = unique_name("cors")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=name, Key="k", Body=b"cors body")
    yield name
    empty_and_delete(s3, name)


# ---- configuration -------------------------------------------------------------------------

def test_put_get_delete_bucket_cors(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(e) == (404, "NoSuchCORSConfiguration")
    assert e.value.response["Error"]["Message"] == "The CORS configuration does not exist"
    assert e.value.response["Error"]["BucketName"] == bucket

    r = s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got == RULES

    # Replaced as a whole.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[2:]})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES[2:]

    r = s3.delete_bucket_cors(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(e) == (404, "NoSuchCORSConfiguration")
    # Deleting what is not there is still 204, as in S3.
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_get_bucket_cors_document(raw, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[:1]})
    r = raw("GET", f"/{bucket}?cors")
    assert r.status == 200 and r.header("Content-Type") == "application/xml"
    assert r.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>'
        b"<ID>app</ID><AllowedHeader>x-amz-*</AllowedHeader>"
        b"<AllowedHeader>Content-Type</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
        b"<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://app.example.com</AllowedOrigin>"
        b"<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-server-side-encryption"
        b"</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>")


def test_cors_on_missing_bucket(s3):
    name = unique_name("nob")
    for call in (lambda: s3.get_bucket_cors(Bucket=name),
                 lambda: s3.delete_bucket_cors(Bucket=name),
                 lambda: s3.put_bucket_cors(Bucket=name,
                                            CORSConfiguration={"CORSRules": RULES})):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == (404, "NoSuchBucket")


@pytest.mark.parametrize("rule,message", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]},
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "OPTIONS"]},
     "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"),
    ({"AllowedOrigins": ["http://*.*.example.com"], "AllowedMethods": ["GET"]},
     'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.'),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]},
     'AllowedHeader "x-*-*" can not have more than one wildcard.'),
])
def test_put_bucket_cors_invalid_request(s3, bucket, rule, message):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert error_of(e) == (400, "InvalidRequest")
    assert e.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(e) == (404, "NoSuchCORSConfiguration")


def rule_xml(n, body="<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"):
    return ("<CORSConfiguration>" + f"<CORSRule>{body}</CORSRule>" * n
            + "</CORSConfiguration>").encode()


@pytest.mark.parametrize("body", [
    b"",
    b"<CORSConfiguration>",
    b"<CORSConfiguration/>",
    b"<NotCors><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"</CORSRule></NotCors>",
    rule_xml(1, "<AllowedMethod>GET</AllowedMethod>"),
    rule_xml(1, "<AllowedOrigin>*</AllowedOrigin>"),
    rule_xml(1, "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                "<MaxAgeSeconds>soon</MaxAgeSeconds>"),
    rule_xml(101),
    b'<!DOCTYPE x [<!ENTITY e "GET">]>' + rule_xml(1).replace(b">GET<", b">&e;<"),
], ids=["empty", "unclosed", "no-rules", "wrong-root", "no-origin", "no-method", "max-age",
        "101-rules", "doctype"])
def test_put_bucket_cors_malformed(raw, bucket, body):
    r = raw("PUT", f"/{bucket}?cors", body=body)
    assert r.status == 400, r
    assert err_xml(r)["Code"] == "MalformedXML"


def test_put_bucket_cors_limits(raw, s3, bucket):
    assert raw("PUT", f"/{bucket}?cors", body=rule_xml(100)).status == 200
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100
    # Over S3's 64 KB configuration size.
    big = rule_xml(1, "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                      + "<ExposeHeader>x-long-header-name</ExposeHeader>" * 2000)
    r = raw("PUT", f"/{bucket}?cors", body=big)
    assert r.status == 400 and err_xml(r)["Code"] == "MalformedXML"
    # A wrong Content-MD5 is refused like any other configuration body.
    r = raw("PUT", f"/{bucket}?cors", body=rule_xml(1),
            headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
    assert r.status == 400 and err_xml(r)["Code"] == "BadDigest"


def test_aws_cli_put_get_bucket_cors(server, s3, bucket, tmp_path):
    cfg = {"CORSRules": [{"AllowedOrigins": ["http://cli.example.com"],
                          "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
                          "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]}
    run_aws(server.endpoint, "s3api", "put-bucket-cors", "--bucket", bucket,
            "--cors-configuration", json.dumps(cfg), cwd=str(tmp_path))
    p = run_aws(server.endpoint, "s3api", "get-bucket-cors", "--bucket", bucket,
                "--output", "json", cwd=str(tmp_path))
    assert json.loads(p.stdout) == cfg
    run_aws(server.endpoint, "s3api", "delete-bucket-cors", "--bucket", bucket,
            cwd=str(tmp_path))
    p = run_aws(server.endpoint, "s3api", "get-bucket-cors", "--bucket", bucket,
                cwd=str(tmp_path), check=False)
    assert p.returncode != 0 and "NoSuchCORSConfiguration" in p.stderr


def test_delete_bucket_drops_cors(s3):
    name = unique_name("drop")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": RULES})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(ClientError) as e:
            s3.get_bucket_cors(Bucket=name)
        assert error_of(e) == (404, "NoSuchCORSConfiguration")
    finally:
        empty_and_delete(s3, name)


# ---- preflight with rules --------------------------------------------------------------------

def test_preflight_matched(server, cors_bucket):
    r = preflight(server.port, f"/{cors_bucket}/k", "http://app.example.com", "PUT",
                  "X-Amz-Date, content-type,x-amz-server-side-encryption")
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Type") is None
    assert cors_headers(r) == {
        "Access-Control-Allow-Origin": "http://app.example.com",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT, GET",
        "Access-Control-Allow-Headers":
            "x-amz-date, content-type, x-amz-server-side-encryption",
        "Access-Control-Expose-Headers": "ETag, x-amz-server-side-encryption",
        "Access-Control-Max-Age": "3000",
    }
    assert r.header("Vary") == VARY
    assert r.header("x-amz-request-id")


def test_preflight_wildcard_rule(server, cors_bucket):
    # An object that does not exist: preflights never look at objects.
    r = preflight(server.port, f"/{cors_bucket}/no/such/key", "http://anywhere.test", "GET",
                  "Range")
    assert r.status == 200, r
    assert cors_headers(r) == {"Access-Control-Allow-Origin": "*",
                               "Access-Control-Allow-Methods": "GET, HEAD",
                               "Access-Control-Allow-Headers": "range"}
    # Bucket level, and the origin wildcard of the second rule.
    r = preflight(server.port, f"/{cors_bucket}", "http://x.sub.example.com", "DELETE")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "http://x.sub.example.com"
    assert r.header("Access-Control-Allow-Methods") == "DELETE"


@pytest.mark.parametrize("origin,method,headers", [
    ("http://other.test", "PUT", None),                   # origin allowed only for GET/HEAD
    ("http://app.example.com", "PUT", "authorization"),  # header not allowed by rule 1
    ("http://app.example.com", "POST", None),            # method nowhere allowed
    ("http://sub.example.com", "DELETE", None),          # '*' needs at least one character
    ("http://APP.example.com", "PUT", None),             # origins are case-sensitive
])
def test_preflight_refused(server, cors_bucket, origin, method, headers):
    r = preflight(server.port, f"/{cors_bucket}/k", origin, method, headers)
    assert r.status == 403, r
    e = err_xml(r)
    assert e["Code"] == "AccessForbidden"
    assert e["Message"] == NOT_ALLOWED
    assert e["Method"] == method and e["ResourceType"] == "OBJECT"
    assert not cors_headers(r)


def test_preflight_without_origin(server, cors_bucket):
    for path in (f"/{cors_bucket}/k", f"/{cors_bucket}", "/", "/no-such-bucket-x/k"):
        r = preflight(server.port, path, None, "GET")
        assert r.status == 400, r
        e = err_xml(r)
        assert e["Code"] == "BadRequest"
        assert e["Message"] == "Insufficient information. Origin request header needed."


def test_preflight_without_request_method_localstack(server, cors_bucket):
    # LocalStack matches it as method OPTIONS, which no rule can allow.
    r = preflight(server.port, f"/{cors_bucket}/k", "http://app.example.com", None)
    assert r.status == 403
    e = err_xml(r)
    assert e["Code"] == "AccessForbidden" and "Method" not in e


def test_preflight_virtual_host(server, cors_bucket):
    host = f"{cors_bucket}.s3.{VHOST_SUFFIX}:{server.port}"
    r = preflight(server.port, "/k", "http://app.example.com", "GET", host=host)
    assert r.status == 200, r
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"


def test_preflight_is_not_signed_even_when_signatures_are_checked(coffer_factory):
    srv = coffer_factory(env={"S3_SKIP_SIGNATURE_VALIDATION": "0"})
    s3 = srv.client()
    s3.create_bucket(Bucket="sig-cors")
    s3.put_bucket_cors(Bucket="sig-cors", CORSConfiguration={"CORSRules": RULES})
    r = preflight(srv.port, "/sig-cors/k", "http://app.example.com", "PUT")
    assert r.status == 200, r
    # An unsigned actual request is refused, and the refusal still carries CORS headers so
    # that the page can read the error.
    r = raw_request(srv.port, "GET", "/sig-cors/k", auth=None,
                    headers={"Origin": "http://app.example.com"})
    assert r.status == 403, r
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"


# ---- actual requests with rules ----------------------------------------------------------------

def test_actual_request_headers(raw, cors_bucket):
    r = raw("GET", f"/{cors_bucket}/k", headers={"Origin": "http://app.example.com"})
    assert r.status == 200 and r.body == b"cors body"
    assert cors_headers(r) == {
        "Access-Control-Allow-Origin": "http://app.example.com",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT, GET",
        "Access-Control-Expose-Headers": "ETag, x-amz-server-side-encryption",
        "Access-Control-Max-Age": "3000",
    }
    assert r.header("Vary") == VARY
    # HEAD is allowed only by the wildcard rule.
    r = raw("HEAD", f"/{cors_bucket}/k", headers={"Origin": "http://app.example.com"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Access-Control-Allow-Credentials") is None


def test_actual_request_unmatched_proceeds_without_headers(raw, cors_bucket):
    r = raw("PUT", f"/{cors_bucket}/k2", body=b"x", headers={"Origin": "http://other.test"})
    assert r.status == 200
    assert not cors_headers(r) and r.header("Vary") is None
    # No Origin: not a cross-origin request, nothing added.
    r = raw("GET", f"/{cors_bucket}/k")
    assert r.status == 200 and not cors_headers(r)


def test_actual_request_errors_carry_headers(raw, cors_bucket):
    r = raw("GET", f"/{cors_bucket}/missing", headers={"Origin": "http://app.example.com"})
    assert r.status == 404 and err_xml(r)["Code"] == "NoSuchKey"
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"
    r = raw("GET", f"/{cors_bucket}/k", headers={"Origin": "http://app.example.com",
                                                 "Range": "bytes=100-200"})
    assert r.status == 416
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"


def test_actual_request_streamed_body(raw, s3, cors_bucket):
    body = bytes(range(256)) * 1200  # several cipher segments
    s3.put_object(Bucket=cors_bucket, Key="big", Body=body)
    r = raw("GET", f"/{cors_bucket}/big", headers={"Origin": "http://app.example.com"})
    assert r.status == 200 and r.body == body
    assert r.header("Access-Control-Expose-Headers") == "ETag, x-amz-server-side-encryption"
    r = raw("GET", f"/{cors_bucket}/big", headers={"Origin": "http://app.example.com",
                                                   "Range": "bytes=70000-70009"})
    assert r.status == 206 and r.body == body[70000:70010]
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"


# ---- LocalStack's default (bucket without rules) ---------------------------------------------

def test_localstack_default_for_buckets_without_rules(server, raw, bucket):
    origin = f"http://localhost:{server.port}"
    r = preflight(server.port, f"/{bucket}/k", origin, "PUT", "X-Amz-Meta-A, content-type")
    assert r.status == 200, r
    assert r.header("Access-Control-Allow-Origin") == origin
    assert r.header("Access-Control-Allow-Credentials") == "true"
    assert r.header("Access-Control-Allow-Methods") == "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"
    allow = r.header("Access-Control-Allow-Headers").split(",")
    assert allow[:2] == ["x-amz-meta-a", "content-type"]
    assert "authorization" in allow and "x-amz-content-sha256" in allow
    expose = r.header("Access-Control-Expose-Headers").split(",")
    for h in ("etag", "x-amz-version-id", "x-amz-request-id", "x-amz-server-side-encryption"):
        assert h in expose
    assert r.header("Vary") == "Origin"

    r = raw("GET", f"/{bucket}", headers={"Origin": "https://app.localstack.cloud"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "https://app.localstack.cloud"
    # Service level and LocalStack's own endpoints too.
    r = raw("GET", "/", headers={"Origin": origin})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == origin
    r = raw("GET", "/_localstack/health", headers={"Origin": origin}, auth=None)
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == origin


def test_localstack_default_refuses_other_origins(server, raw, bucket):
    r = preflight(server.port, f"/{bucket}/k", "http://evil.test", "GET")
    assert r.status == 403
    e = err_xml(r)
    assert e["Code"] == "AccessForbidden"
    assert e["Message"] == "CORSResponse: CORS is not enabled for this bucket."
    assert e["Method"] == "GET" and e["ResourceType"] == "BUCKET"
    r = preflight(server.port, "/no-such-bucket-cors/k", "http://evil.test", "PUT")
    assert r.status == 403
    assert err_xml(r)["Message"] == "CORSResponse: Bucket not found"
    # The actual request proceeds, without CORS headers.
    r = raw("GET", f"/{bucket}", headers={"Origin": "http://evil.test"})
    assert r.status == 200 and not cors_headers(r)


def test_rules_replace_the_default(server, raw, cors_bucket):
    origin = f"http://localhost:{server.port}"
    # The wildcard rule answers, not LocalStack's default.
    r = raw("GET", f"/{cors_bucket}/k", headers={"Origin": origin})
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Access-Control-Allow-Methods") == "GET, HEAD"
    r = preflight(server.port, f"/{cors_bucket}/k", origin, "PUT")
    assert r.status == 403 and err_xml(r)["Message"] == NOT_ALLOWED


def test_localstack_endpoints_follow_the_gateway(coffer_factory):
    srv = coffer_factory()
    make_bucket(srv, "keep-me")
    origin = f"http://localhost:{srv.port}"
    r = preflight(srv.port, "/_localstack/state/reset", origin, "POST", "content-type")
    assert r.status == 204 and r.header("Access-Control-Allow-Origin") == origin
    assert "content-type" in r.header("Access-Control-Allow-Headers").split(",")
    r = preflight(srv.port, "/_localstack/health", "http://evil.test", "GET")
    assert r.status == 403 and r.body == b""
    # A page elsewhere cannot reset the state with a simple (unpreflighted) POST.
    r = raw_request(srv.port, "POST", "/_localstack/state/reset", auth=None,
                    headers={"Origin": "http://evil.test", "Content-Type": "text/plain"})
    assert r.status == 403 and r.body == b"" and not cors_headers(r)
    assert [b["Name"] for b in srv.client().list_buckets()["Buckets"]] == ["keep-me"]
    r = raw_request(srv.port, "GET", "/_localstack/health", auth=None,
                    headers={"Origin": origin})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == origin


# ---- environment variables ---------------------------------------------------------------------

def make_bucket(srv, name, rules=None):
    s3 = srv.client()
    s3.create_bucket(Bucket=name)
    if rules:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    return s3


def test_env_disable_cors_checks(coffer_factory):
    srv = coffer_factory(env={"DISABLE_CORS_CHECKS": "1"})
    make_bucket(srv, "checks-off")
    r = preflight(srv.port, "/checks-off/k", "http://evil.test", "PUT", "x-amz-date")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Access-Control-Allow-Credentials") is None
    r = raw_request(srv.port, "GET", "/checks-off/k", headers={"Origin": "http://evil.test"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "*"


def test_env_disable_cors_headers(coffer_factory):
    srv = coffer_factory(env={"DISABLE_CORS_HEADERS": "1"})
    make_bucket(srv, "headers-off")
    origin = f"http://localhost:{srv.port}"
    r = raw_request(srv.port, "GET", "/headers-off/k", headers={"Origin": origin})
    assert r.status == 200 and not cors_headers(r)
    r = preflight(srv.port, "/headers-off/k", origin, "GET")
    assert r.status == 200 and not cors_headers(r)
    # Bucket rules still apply: the variable only concerns the default.
    srv.client().put_bucket_cors(Bucket="headers-off", CORSConfiguration={"CORSRules": RULES})
    r = raw_request(srv.port, "GET", "/headers-off/k", headers={"Origin": origin})
    assert r.header("Access-Control-Allow-Origin") == "*"


def test_env_extra_cors_lists(coffer_factory):
    srv = coffer_factory(env={"EXTRA_CORS_ALLOWED_ORIGINS": "http://one.test, http://two.test",
                              "EXTRA_CORS_ALLOWED_HEADERS": "x-custom-a,x-custom-b",
                              "EXTRA_CORS_EXPOSE_HEADERS": "x-custom-exposed"})
    make_bucket(srv, "extra-lists")
    r = preflight(srv.port, "/extra-lists/k", "http://two.test", "PUT")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "http://two.test"
    assert r.header("Access-Control-Allow-Headers").endswith(",x-custom-a,x-custom-b")
    assert r.header("Access-Control-Expose-Headers").endswith(",x-custom-exposed")
    assert preflight(srv.port, "/extra-lists/k", "http://three.test", "PUT").status == 403


def test_env_disable_custom_cors_s3(coffer_factory):
    srv = coffer_factory(env={"DISABLE_CUSTOM_CORS_S3": "1"})
    make_bucket(srv, "custom-off", RULES)
    origin = f"http://localhost:{srv.port}"
    # Rules ignored: LocalStack's gateway default answers, and a preflight is 204.
    r = preflight(srv.port, "/custom-off/k", origin, "PUT")
    assert r.status == 204
    assert r.header("Access-Control-Allow-Methods") == "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"
    r = raw_request(srv.port, "GET", "/custom-off/k", headers={"Origin": origin})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == origin
    # An origin the gateway does not allow is refused outright, even one the rules allow.
    r = raw_request(srv.port, "GET", "/custom-off/k",
                    headers={"Origin": "http://app.example.com"})
    assert r.status == 403 and r.body == b""
    assert preflight(srv.port, "/custom-off/k", "http://app.example.com", "GET").status == 403


def test_cors_options_in_help(tmp_path):
    p = subprocess.run([COFFER_BIN, "--help"], capture_output=True, text=True,
                       env=server_env(), cwd=str(tmp_path), timeout=30)
    for opt in ("--disable-cors-headers", "DISABLE_CORS_HEADERS", "--disable-cors-checks",
                "--disable-custom-cors-s3", "EXTRA_CORS_ALLOWED_ORIGINS",
                "--extra-cors-allowed-headers", "EXTRA_CORS_EXPOSE_HEADERS"):
        assert opt in p.stdout, opt


# ---- aws profile ---------------------------------------------------------------------------------

def test_aws_profile(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"],
                         env={"EXTRA_CORS_ALLOWED_ORIGINS": "http://one.test"})
    s3 = make_bucket(srv, "aws-cors")
    origin = f"http://localhost:{srv.port}"
    # No rules: no default, whatever the origin or LocalStack's variables.
    for o in (origin, "http://one.test"):
        r = raw_request(srv.port, "GET", "/aws-cors/k", headers={"Origin": o})
        assert r.status == 200 and not cors_headers(r)
        r = preflight(srv.port, "/aws-cors/k", o, "GET")
        assert r.status == 403
        assert err_xml(r)["Message"] == "CORSResponse: CORS is not enabled for this bucket."
    r = preflight(srv.port, "/aws-cors-missing/k", origin, "GET")
    assert r.status == 403 and err_xml(r)["Message"] == "CORSResponse: Bucket not found"
    # AWS checks the requested method before anything else.
    for method, shown in ((None, "null"), ("PATCH", "PATCH")):
        r = preflight(srv.port, "/aws-cors/k", origin, method)
        assert r.status == 400, r
        e = err_xml(r)
        assert e["Code"] == "BadRequest"
        assert e["Message"] == f"Invalid Access-Control-Request-Method: {shown}"
    r = preflight(srv.port, "/aws-cors/k", None, "GET")
    assert r.status == 400 and err_xml(r)["Code"] == "BadRequest"

    s3.put_bucket_cors(Bucket="aws-cors", CORSConfiguration={"CORSRules": RULES})
    r = preflight(srv.port, "/aws-cors/k", "http://app.example.com", "PUT", "x-amz-date")
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "http://app.example.com"
    r = raw_request(srv.port, "GET", "/aws-cors/k", headers={"Origin": "http://app.example.com"})
    assert r.status == 200 and r.header("Access-Control-Max-Age") == "3000"
