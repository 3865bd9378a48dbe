"""Signature checking: off by default (LocalStack), on with S3_SKIP_SIGNATURE_VALIDATION=0 or
the aws profile, against the configured credentials (test/test unless --credentials).

Header SigV4 (boto3, aws CLI, curl --aws-sigv4), presigned URLs (GET and PUT from a plain HTTP
client, expiry, tampering), and the AWS errors for each failure."""
import datetime
import hashlib
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import raw_request

CHECKING = {"S3_SKIP_SIGNATURE_VALIDATION": "0"}


def client(srv, ak="test", sk="test"):
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1},
                                      signature_version="s3v4"))


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*a, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message")


@pytest.fixture
def checking(coffer_factory):
    return coffer_factory(env=CHECKING)


def test_localstack_default_accepts_any_credentials(server):
    s3 = client(server, "anything", "wrong-secret")
    s3.list_buckets()  # no error: LocalStack does not check signatures by default


def test_good_signature_and_odd_keys(checking):
    s3 = client(checking)
    s3.create_bucket(Bucket="sig-ok")
    key = "dir/a b+c%d~é"
    s3.put_object(Bucket="sig-ok", Key=key, Body=b"hello")
    assert s3.get_object(Bucket="sig-ok", Key=key)["Body"].read() == b"hello"
    got = s3.list_objects_v2(Bucket="sig-ok", Prefix="dir/a b", Delimiter="/")
    assert [o["Key"] for o in got["Contents"]] == [key]


def test_wrong_secret_and_unknown_key(checking):
    assert err(client(checking, "test", "wrong").list_buckets)[:2] == (403,
                                                                         "SignatureDoesNotMatch")
    assert err(client(checking, "nobody", "test").list_buckets)[:2] == (403,
                                                                          "InvalidAccessKeyId")


def test_anonymous_is_denied(checking):
    r = raw_request(checking.port, "GET", "/", auth=None)
    assert r.status == 403 and r.xml().findtext("Code") == "AccessDenied"


def test_anonymous_request_to_a_missing_bucket_is_404(checking):
    """AWS answers an anonymous request for a bucket that does not exist 404 NoSuchBucket; for
    a bucket that exists, and for creating one, 403 AccessDenied."""
    for method, path in (("GET", "/no-such-bkt"), ("GET", "/no-such-bkt/k"),
                         ("PUT", "/no-such-bkt/k"), ("HEAD", "/no-such-bkt")):
        r = raw_request(checking.port, method, path, auth=None)
        assert r.status == 404, (method, path, r)
        if method != "HEAD":
            assert r.xml().findtext("Code") == "NoSuchBucket"
            assert r.xml().findtext("BucketName") == "no-such-bkt"
    client(checking).create_bucket(Bucket="anon-exists")
    for method, path in (("GET", "/anon-exists"), ("GET", "/anon-exists/k"),
                         ("PUT", "/new-anon-bucket")):
        r = raw_request(checking.port, method, path, auth=None)
        assert r.status == 403 and r.xml().findtext("Code") == "AccessDenied", (method, path, r)


def v2_client(srv, sk="test"):
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id="test",
                        aws_secret_access_key=sk, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}, signature_version="s3"))


def test_sigv2_header_and_query(checking):
    s3 = v2_client(checking)
    s3.create_bucket(Bucket="sig-v2")
    key = "dir/a b+c~é"
    s3.put_object(Bucket="sig-v2", Key=key, Body=b"signed with v2", ContentType="text/plain",
                  Metadata={"color": "blue"})
    got = s3.get_object(Bucket="sig-v2", Key=key)
    assert got["Body"].read() == b"signed with v2" and got["Metadata"] == {"color": "blue"}
    assert [o["Key"] for o in s3.list_objects(Bucket="sig-v2")["Contents"]] == [key]
    assert err(v2_client(checking, "wrong").list_buckets)[:2] == (403, "SignatureDoesNotMatch")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sig-v2", "Key": key},
                                    ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "Expires=" in url
    assert urllib.request.urlopen(url).read() == b"signed with v2"
    i = url.index("Signature=") + len("Signature=")
    bad = url[:i] + ("B" if url[i] != "B" else "C") + url[i + 1:]
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(bad)
    assert ei.value.code == 403
    expired = re.sub(r"Expires=\d+", "Expires=1000000000", url)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(expired)
    assert ei.value.code == 403 and b"Request has expired" in ei.value.read()


def test_s3cmd_with_sigv2(checking, tmp_path):
    cfg = tmp_path / "s3cfg"
    cfg.write_text(f"""[default]
access_key = test
secret_key = test
host_base = 127.0.0.1:{checking.port}
host_bucket = 127.0.0.1:{checking.port}
use_https = False
signature_v2 = True
""")
    f = tmp_path / "f.txt"
    f.write_bytes(b"s3cmd v2")
    run = lambda *a: subprocess.run(["/usr/bin/s3cmd", "-c", str(cfg), *a], capture_output=True,
                                    text=True, timeout=120)
    for args in (["mb", "s3://sig-s3cmd"], ["put", str(f), "s3://sig-s3cmd/f.txt"],
                 ["get", "s3://sig-s3cmd/f.txt", str(tmp_path / "back.txt")]):
        p = run(*args)
        assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "back.txt").read_bytes() == b"s3cmd v2"


def test_custom_credentials(coffer_factory):
    srv = coffer_factory(env=CHECKING, extra_args=["--credentials", "AKIDCOFFER:s3cr3t,alt:pw"])
    client(srv, "AKIDCOFFER", "s3cr3t").list_buckets()
    client(srv, "alt", "pw").list_buckets()
    assert err(client(srv, "test", "test").list_buckets)[:2] == (403, "InvalidAccessKeyId")


def test_presigned_get_put_expiry_and_tampering(checking):
    s3 = client(checking)
    s3.create_bucket(Bucket="sig-pre")
    s3.put_object(Bucket="sig-pre", Key="k", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sig-pre", "Key": "k"},
                                    ExpiresIn=300)
    assert urllib.request.urlopen(url).read() == b"presigned body"

    put = s3.generate_presigned_url("put_object", Params={"Bucket": "sig-pre", "Key": "up"},
                                    ExpiresIn=300)
    req = urllib.request.Request(put, data=b"uploaded with a presigned URL", method="PUT")
    assert urllib.request.urlopen(req).status == 200
    assert s3.get_object(Bucket="sig-pre", Key="up")["Body"].read() == \
        b"uploaded with a presigned URL"

    # same length, one hex digit changed
    i = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    bad = url[:i] + ("0" if url[i] != "0" else "1") + url[i + 1:]
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(bad)
    assert ei.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in ei.value.read()

    # the key in the path is signed too
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url.replace("/sig-pre/k?", "/sig-pre/up?"))
    assert ei.value.code == 403

    short = s3.generate_presigned_url("get_object", Params={"Bucket": "sig-pre", "Key": "k"},
                                      ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(short)
    body = ei.value.read()
    assert ei.value.code == 403
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body


def test_presigned_expires_over_a_week(checking):
    s3 = client(checking)
    url = s3.generate_presigned_url("list_buckets", ExpiresIn=3600)
    url = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url)
    assert ei.value.code == 400
    body = ei.value.read()
    assert b"<Code>AuthorizationQueryParametersError</Code>" in body
    assert (b"<Message>X-Amz-Expires must be less than a week (in seconds) that is 604800"
            b"</Message>") in body


def test_presigned_expires_negative_and_zero(checking):
    """AWS's messages for a negative X-Amz-Expires; 0 is below AWS's minimum of 1, so such a URL
    is never served (it has expired the moment it was signed)."""
    s3 = client(checking)
    s3.create_bucket(Bucket="sig-exp")
    s3.put_object(Bucket="sig-exp", Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sig-exp", "Key": "k"},
                                    ExpiresIn=3600)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=-5"))
    body = ei.value.read()
    assert ei.value.code == 400
    assert b"<Code>AuthorizationQueryParametersError</Code>" in body
    assert b"<Message>X-Amz-Expires must be non-negative</Message>" in body
    # SDKs refuse to sign for 0 s (botocore's CRT signer asserts > 0): botocore's own signer.
    from botocore.awsrequest import AWSRequest
    req = AWSRequest(method="GET", url=f"{checking.endpoint}/sig-exp/k")
    botocore.auth.S3SigV4QueryAuth(Credentials("test", "test"), "s3", "us-east-1",
                                   expires=0).add_auth(req)
    zero = req.url
    assert "X-Amz-Expires=0" in zero
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(zero)
    body = ei.value.read()
    assert ei.value.code == 403
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body
    assert urllib.request.urlopen(url).read() == b"x"  # the same URL with 3600 is served


def test_sigv2_date_before_1970_is_access_denied(checking):
    """A SigV2 request whose x-amz-date lies before the epoch: AWS answers 403 AccessDenied,
    not RequestTimeTooSkewed (which a date far in the past within the epoch gets)."""
    import base64
    import hmac

    def v2_get(date):
        # AWS's rule: with x-amz-date, the Date line of the string to sign is empty (botocore's
        # HmacV1Auth would sign a Date line of its own, so the signature is made here).
        to_sign = f"GET\n\n\n\nx-amz-date:{date}\n/"
        sig = base64.b64encode(hmac.new(b"test", to_sign.encode(), hashlib.sha1).digest())
        return raw_request(checking.port, "GET", "/", headers={"x-amz-date": date},
                           auth=f"AWS test:{sig.decode()}")

    r = v2_get("Wed, 31 Dec 1969 23:59:59 GMT")
    assert r.status == 403 and r.xml().findtext("Code") == "AccessDenied", r
    r = v2_get("Thu, 01 Jan 1970 00:00:01 GMT")
    assert r.status == 403 and r.xml().findtext("Code") == "RequestTimeTooSkewed", r
    r = v2_get(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
    assert r.status == 200, r


def signed(port, method, path, body=b"", headers=None, when=None, send_body=None):
    host = f"127.0.0.1:{port}"
    req = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                     headers=dict(headers or {}))
    req.headers["Host"] = host
    auth = S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1")
    if when is not None:
        real = botocore.auth.datetime.datetime

        class Fixed(real):
            @classmethod
            def utcnow(cls):
                return when

        botocore.auth.datetime.datetime = Fixed
        try:
            auth.add_auth(req)
        finally:
            botocore.auth.datetime.datetime = real
    else:
        auth.add_auth(req)
    return raw_request(port, method, path, headers=dict(req.headers.items()),
                       body=send_body if send_body is not None else body, auth=None)


def test_clock_skew(checking):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    r = signed(checking.port, "GET", "/", when=old)
    assert r.status == 403 and r.xml().findtext("Code") == "RequestTimeTooSkewed"
    near = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    assert signed(checking.port, "GET", "/", when=near).status == 200


def test_payload_hash_is_checked(checking):
    client(checking).create_bucket(Bucket="sig-sha")
    body = b"the body that was signed"
    ok = signed(checking.port, "PUT", "/sig-sha/k", body=body)
    assert ok.status == 200
    # signed for one body (its SHA-256 in x-amz-content-sha256), sent with another
    lie = signed(checking.port, "PUT", "/sig-sha/k", body=body, send_body=b"x" * len(body))
    assert lie.status == 400 and lie.xml().findtext("Code") == "XAmzContentSHA256Mismatch"
    assert client(checking).get_object(Bucket="sig-sha", Key="k")["Body"].read() == body


def test_aws_cli_and_curl_sigv4(checking, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="",
               AWS_EC2_METADATA_DISABLED="true")
    aws = ["/usr/bin/aws", "--endpoint-url", checking.endpoint]
    assert subprocess.run(aws + ["s3", "mb", "s3://sig-cli"], env=env,
                          capture_output=True).returncode == 0
    f = tmp_path / "f.txt"
    f.write_bytes(b"from the aws cli")
    p = subprocess.run(aws + ["s3", "cp", str(f), "s3://sig-cli/f.txt"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = subprocess.run(["/usr/bin/curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:s3",
                          "--user", "test:test", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                          f"{checking.endpoint}/sig-cli/f.txt"], capture_output=True)
    assert out.stdout == b"from the aws cli", out
    bad = subprocess.run(["/usr/bin/curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:s3",
                          "--user", "test:nope", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                          f"{checking.endpoint}/sig-cli/f.txt"], capture_output=True)
    assert b"<Code>SignatureDoesNotMatch</Code>" in bad.stdout


def test_aws_profile_checks_signatures(coffer_factory):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    client(srv).list_buckets()
    assert err(client(srv, "test", "wrong").list_buckets)[:2] == (403, "SignatureDoesNotMatch")


def streaming_put(port, bucket, key, chunks, tamper_chunk=None):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload signed by hand (seed + chained chunk
    signatures), optionally with one chunk's bytes changed after signing."""
    import hmac
    import http.client

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    now = datetime.datetime.utcnow()
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    skey = h(h(h(h(b"AWS4test", day), "us-east-1"), "s3"), "aws4_request")
    data = b"".join(chunks)
    headers = {"host": f"127.0.0.1:{port}",
               "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "x-amz-date": amz, "x-amz-decoded-content-length": str(len(data)),
               "content-encoding": "aws-chunked"}
    signed_headers = ";".join(sorted(headers))
    canon = (f"PUT\n/{bucket}/{key}\n\n" +
             "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)) +
             f"\n{signed_headers}\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(canon.encode()).hexdigest()}"
    seed = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
    body, prev = b"", seed
    for i, c in enumerate(chunks + [b""]):
        s2 = (f"AWS4-HMAC-SHA256-PAYLOAD\n{amz}\n{scope}\n{prev}\n"
              f"{hashlib.sha256(b'').hexdigest()}\n{hashlib.sha256(c).hexdigest()}")
        sig = hmac.new(skey, s2.encode(), hashlib.sha256).hexdigest()
        payload = (b"X" + c[1:]) if i == tamper_chunk else c
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + payload + b"\r\n"
        prev = sig
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential=test/{scope}, "
                                f"SignedHeaders={signed_headers}, Signature={seed}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", f"/{bucket}/{key}", body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def test_streaming_chunk_signatures(checking):
    s3 = client(checking)
    s3.create_bucket(Bucket="sig-stream")
    chunks = [os.urandom(70000), os.urandom(65536), os.urandom(100)]
    status, _ = streaming_put(checking.port, "sig-stream", "ok", chunks)
    assert status == 200
    assert s3.get_object(Bucket="sig-stream", Key="ok")["Body"].read() == b"".join(chunks)
    for bad in (0, 2):
        status, body = streaming_put(checking.port, "sig-stream", "bad", chunks, tamper_chunk=bad)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket="sig-stream", Key="bad")


def streaming_trailer_put(port, bucket, key, chunks, tamper=None):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER upload signed by hand: chained chunk
    signatures, then the CRC32 trailer and its x-amz-trailer-signature (chained on the final
    chunk's). tamper: None, "signature" (a wrong one), "value" (the trailer changed after
    signing), "missing" (no signature line), "chunk" (a chunk changed after signing)."""
    import base64
    import hmac
    import http.client
    import zlib

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    now = datetime.datetime.utcnow()
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    skey = h(h(h(h(b"AWS4test", day), "us-east-1"), "s3"), "aws4_request")
    data = b"".join(chunks)
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    headers = {"host": f"127.0.0.1:{port}", "x-amz-content-sha256": mode,
               "x-amz-date": amz, "x-amz-decoded-content-length": str(len(data)),
               "content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32"}
    signed_headers = ";".join(sorted(headers))
    canon = (f"PUT\n/{bucket}/{key}\n\n" +
             "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)) +
             f"\n{signed_headers}\n{mode}")
    sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(canon.encode()).hexdigest()}"
    seed = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
    body, prev = b"", seed
    for i, c in enumerate(chunks + [b""]):
        s2 = (f"AWS4-HMAC-SHA256-PAYLOAD\n{amz}\n{scope}\n{prev}\n"
              f"{hashlib.sha256(b'').hexdigest()}\n{hashlib.sha256(c).hexdigest()}")
        sig = hmac.new(skey, s2.encode(), hashlib.sha256).hexdigest()
        payload = (b"X" + c[1:]) if (tamper == "chunk" and i == 0) else c
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + payload
        body += b"\r\n" if c else b""  # the trailer lines follow the final chunk's header
        prev = sig
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    trailer = f"x-amz-checksum-crc32:{crc}\n"
    s3 = (f"AWS4-HMAC-SHA256-TRAILER\n{amz}\n{scope}\n{prev}\n"
          f"{hashlib.sha256(trailer.encode()).hexdigest()}")
    tsig = hmac.new(skey, s3.encode(), hashlib.sha256).hexdigest()
    if tamper == "signature":
        tsig = tsig[:-1] + ("0" if tsig[-1] != "0" else "1")
    if tamper == "value":
        crc = base64.b64encode(b"\0\0\0\0").decode()
    body += f"x-amz-checksum-crc32:{crc}\r\n".encode()
    if tamper != "missing":
        body += f"x-amz-trailer-signature:{tsig}\r\n".encode()
    body += b"\r\n"
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential=test/{scope}, "
                                f"SignedHeaders={signed_headers}, Signature={seed}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", f"/{bucket}/{key}", body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def test_streaming_trailer_signature(checking):
    s3 = client(checking)
    s3.create_bucket(Bucket="sig-trailer")
    chunks = [os.urandom(70000), os.urandom(100)]
    status, body = streaming_trailer_put(checking.port, "sig-trailer", "ok", chunks)
    assert status == 200, body
    assert s3.get_object(Bucket="sig-trailer", Key="ok")["Body"].read() == b"".join(chunks)
    for tamper in ("signature", "value", "missing", "chunk"):
        status, body = streaming_trailer_put(checking.port, "sig-trailer", "bad", chunks,
                                             tamper=tamper)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, (tamper, body)
    with pytest.raises(ClientError):  # nothing stored
        s3.head_object(Bucket="sig-trailer", Key="bad")
