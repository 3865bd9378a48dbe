"""The JavaScript SDK v3 from npm (the test command installs it) against coffer.

It sends CRC32 checksums by default, streams bodies as aws-chunked with a trailing checksum,
and lib-storage switches to multipart: all of it must work unmodified, with every SSE mode.
"""
import base64
import hashlib
import json
import zlib
import os
import shutil
import subprocess

import pytest

JS_DIR = os.path.join(os.path.dirname(__file__), "js")


def node_binary():
    node = shutil.which("node") or "/usr/bin/node"
    if not os.path.exists(os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-s3")):
        pytest.fail("npm dependencies missing: run `npm ci` in tests/integration/js "
                    "(./test.sh does)")
    return node


def test_js_sdk_v3_flow(server):
    node = node_binary()
    p = subprocess.run([node, "sdk_flow.mjs", server.endpoint, "js-sdk-bucket"], cwd=JS_DIR,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])

    small = out["small"]
    assert small["body"] == "hello from the javascript sdk"
    body = b"hello from the javascript sdk"
    import zlib, base64
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert small["crc32"] == crc and small["getCrc32"] == crc
    assert small["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert small["sse"] == "AES256"

    st = out["streamed"]
    assert st["equal"] is True
    assert st["etag"] == '"%s"' % st["md5"]
    assert st["contentEncoding"] in (None, "")  # aws-chunked is never stored

    for name in ("mp-s3", "mp-kms", "mp-ssec"):
        o = out[name]
        assert o["equal"] is True, name
        assert o["length"] == 11 * 1024 * 1024 + 17
        assert o["etag"].strip('"').endswith("-3"), o
    assert out["mp-s3"]["sse"] == "AES256"
    assert out["mp-kms"]["sse"] == "aws:kms"
    assert out["mp-kms"]["kmsKey"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert out["mp-ssec"]["sse"] is None and out["mp-ssec"]["ssecAlg"] == "AES256"
    assert out["ssecNoKey"]["status"] == 400
    # lib-storage asks for CRC32 COMPOSITE checksums; SSE-KMS and SSE-C objects keep theirs too
    cks = [out[n]["checksum"] for n in ("mp-s3", "mp-kms", "mp-ssec")]
    for ck in cks:
        assert ck["type"] == "COMPOSITE" and ck["crc32"].endswith("-3"), ck
        assert ck["crc32"] == ck["uploadCrc32"] == cks[0]["crc32"]
    # a FULL_OBJECT upload: the CRC32 of the whole object
    full = out["mp-full"]
    data = base64.b64decode(full["data"])
    want = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert full["createType"] == full["completeType"] == full["headType"] == "FULL_OBJECT"
    assert full["completeCrc32"] == full["headCrc32"] == want
    assert sorted(out["keys"]) == ["mp-full", "mp-kms", "mp-s3", "mp-ssec", "small",
                                   "streamed"]
