#!/usr/bin/python3
"""Writes the seed corpus of fuzz_front (tests/fuzz/corpus/fuzz_front/seed-*): request heads as
clients send them, signed by botocore at the target's fixed clock (2026-11-25T16:00:00Z) with
its credentials (test:test), so that the fuzzer starts from requests that authenticate.
Usage: /usr/bin/python3 tests/fuzz/seed_front.py"""
import base64
import datetime
import hashlib
import os
import sys
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials

NOW = datetime.datetime(2026, 11, 25, 16, 0, 0)
CREDS = botocore.credentials.Credentials("test", "test")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_front")
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
SSEC_KEY = bytes(range(32))
SSEC = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": base64.b64encode(SSEC_KEY).decode(),
    "x-amz-server-side-encryption-customer-key-MD5":
        base64.b64encode(hashlib.md5(SSEC_KEY).digest()).decode(),
}


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW

    @classmethod
    def now(cls, tz=None):
        return NOW.replace(tzinfo=tz) if tz else NOW


def head(method, url, headers, auth=None, body=b""):
    """The request head after signing (auth: 'v4', 'presign', 'v2' or None)."""
    req = botocore.awsrequest.AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    with mock.patch.object(botocore.auth.datetime, "datetime", FrozenDatetime):
        if auth == "v4":
            if "X-Amz-Content-SHA256" not in req.headers:
                req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
            botocore.auth.S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(req)
        elif auth == "presign":
            botocore.auth.S3SigV4QueryAuth(CREDS, "s3", "us-east-1", expires=3600).add_auth(req)
        elif auth == "v2":
            with mock.patch.object(botocore.auth, "formatdate",
                                   lambda usegmt: "Wed, 25 Nov 2026 16:00:00 GMT"):
                botocore.auth.HmacV1Auth(CREDS).add_auth(req)
    parts = urlsplit(req.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def seeds():
    base = "http://localhost:4566"
    yield "list-buckets", head("GET", base + "/", {})
    yield "list-buckets-v4", head("GET", base + "/", {}, "v4")
    body = b"hello world"
    yield "put-v4", head("PUT", base + "/bkt/dir/a%20b.txt", {
        "Content-Length": str(len(body)), "Content-Type": "text/plain",
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "x-amz-checksum-crc32": "DUoRhQ==", "x-amz-sdk-checksum-algorithm": "CRC32",
        "x-amz-tagging": "a=1&b=two", "x-amz-meta-colour": "blue",
        "Cache-Control": "no-cache", "Content-Disposition": "inline",
    }, "v4", body)
    yield "put-aws-chunked", head("PUT", base + "/bkt/big", {
        "Content-Encoding": "aws-chunked", "Content-Length": "200",
        "x-amz-decoded-content-length": "11", "x-amz-trailer": "x-amz-checksum-crc64nvme",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    }, "v4")
    yield "put-unsigned-trailer", head("PUT", base + "/bkt/k", {
        "Content-Encoding": "aws-chunked", "Transfer-Encoding": "chunked",
        "x-amz-decoded-content-length": "5", "x-amz-trailer": "x-amz-checksum-crc32c",
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }, "v4")
    yield "put-ssec", head("PUT", base + "/bkt/secret", dict(SSEC, **{"Content-Length": "0"}),
                           "v4")
    yield "get-conditional", head("GET", base + "/bkt/a?versionId=null", {
        "Range": "bytes=0-99", "If-Match": '"9e107d9d372bb6826bd81d3542a419d6"',
        "If-None-Match": '"x", W/"y"', "If-Modified-Since": "Wed, 25 Nov 2026 15:00:00 GMT",
        "If-Unmodified-Since": "Wed, 25 Nov 2026 17:00:00 GMT",
    }, "v4")
    yield "get-presigned", head("GET", base + "/bkt/a?response-content-type=text%2Fplain", {},
                                "presign")
    yield "copy-ssec", head("PUT", "http://bkt.s3.localhost.localstack.cloud:4566/dst", dict({
        "x-amz-copy-source": "/src-bkt/a%2Fb?versionId=3HL4kqtJlcpXroDTDmJ",
        "x-amz-copy-source-if-match": '"9e107d9d372bb6826bd81d3542a419d6"',
        "x-amz-copy-source-if-modified-since": "Tue, 24 Nov 2026 16:00:00 GMT",
        "x-amz-metadata-directive": "REPLACE", "x-amz-tagging-directive": "COPY",
        "Content-Length": "0",
    }, **{k.replace("x-amz-", "x-amz-copy-source-"): v for k, v in SSEC.items()}), "v4")
    yield "preflight", head("OPTIONS", base + "/bkt/k", {
        "Origin": "http://app.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-amz-meta-a",
    })
    yield "preflight-root", head("OPTIONS", base + "/", {"Origin": "http://app.example",
                                                          "Access-Control-Request-Method": "GET"})
    yield "v2-get", head("GET", base + "/bkt/a", {}, "v2")
    yield "health", head("GET", base + "/_localstack/health", {})
    yield "reset", head("POST", base + "/_localstack/state/reset", {}, "v4")
    yield "delete-objects", head("POST", base + "/bkt?delete", {
        "Content-Length": "120", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
    }, "v4")
    yield "list-v2", head("GET", base + "/bkt?list-type=2&prefix=a%2F&delimiter=%2F&max-keys=5",
                          {}, "v4")
    yield "multipart-part", head("PUT", base + "/bkt/mp?partNumber=2&uploadId=abc", {
        "Content-Length": "5242880", "x-amz-checksum-sha256": base64.b64encode(
            hashlib.sha256(b"x").digest()).decode(),
    }, "v4")
    yield "absolute-form", b"GET http://localhost:4566/bkt/k?tagging HTTP/1.1\r\n" \
                           b"Host: localhost:4566\r\n\r\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
