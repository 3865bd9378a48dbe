"""A real browser against coffer: headless Chromium (Debian's chromium, driven by playwright-core
from npm through js/browser.mjs) loads a page served by this test from another origin and, in
the page, fetch()es presigned URLs. The browser does the CORS work itself (preflight for the
signed x-amz-server-side-encryption header, Access-Control-Allow-Origin checks, exposed
headers), so this checks CORS the way web applications meet it. Signatures are checked
(S3_SKIP_SIGNATURE_VALIDATION=0), so the browser must send exactly the signed headers.

js/browser.mjs takes a JSON plan of fetch steps (raw bodies or multipart forms), so browser
form uploads (POST Object) can be added as more steps."""

import base64
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading

import pytest

from conftest import unique_name

JS_DIR = os.path.join(os.path.dirname(__file__), "js")
CHROMIUM = "/usr/bin/chromium"
PAGE = b"<!doctype html><meta charset=utf-8><title>coffer browser test</title><p>coffer</p>\n"


def node_binary():
    node = shutil.which("node") or "/usr/bin/node"
    if not os.path.exists(os.path.join(JS_DIR, "node_modules", "playwright-core")):
        pytest.fail("npm dependencies missing: run `npm ci` in tests/integration/js "
                    "(./test.sh does)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium "
                    "(scripts/install-deps.sh --test does)")
    return node


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page_server(tmp_path):
    """The test's own web server (another origin than coffer's) serving one page."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes(PAGE)
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    t.join(10)


@pytest.fixture
def checked_server(coffer_factory, page_server):
    """coffer checking signatures; LocalStack's default CORS also allows the page's origin."""
    return coffer_factory(env={"S3_SKIP_SIGNATURE_VALIDATION": "0",
                               "EXTRA_CORS_ALLOWED_ORIGINS": page_server})


def run_browser(page_origin, steps, tmp_path):
    node = node_binary()
    plan = tmp_path / f"plan-{unique_name('p')}.json"
    plan.write_text(json.dumps({"page": page_origin + "/index.html", "steps": steps}))
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", HOME=str(tmp_path))
    p = subprocess.run([node, "browser.mjs", str(plan)], cwd=JS_DIR, capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-4000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return {s["name"]: s for s in out["steps"]}


def b64(data):
    return base64.b64encode(data).decode()


def presigned_put_and_get(s3, bucket, key):
    put = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ServerSideEncryption": "AES256"},
        ExpiresIn=600)
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                    ExpiresIn=600)
    # The encryption header is signed: the browser has to send it, hence a preflight.
    assert "x-amz-server-side-encryption" in put.split("X-Amz-SignedHeaders=")[1].split("&")[0]
    return put, get


def upload_steps(put, get, data):
    return [
        {"name": "put", "method": "PUT", "url": put, "body_b64": b64(data),
         "headers": {"x-amz-server-side-encryption": "AES256"},
         "read_headers": ["etag", "x-amz-server-side-encryption"]},
        {"name": "get", "method": "GET", "url": get, "expect_b64": b64(data),
         "read_headers": ["etag", "x-amz-server-side-encryption", "content-length",
                          "x-amz-request-id"]},
    ]


def test_browser_upload_download_with_bucket_rules(checked_server, page_server, tmp_path):
    s3 = checked_server.client()
    bucket = "browser-rules"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [page_server], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-server-side-encryption"],
        "MaxAgeSeconds": 60}]})
    data = os.urandom(300 * 1024) + bytes(range(256))
    put, get = presigned_put_and_get(s3, bucket, "from-browser.bin")

    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"},
                                        ExpiresIn=600)
    steps = upload_steps(put, get, data) + [
        {"name": "missing", "method": "GET", "url": missing, "read_headers": ["content-type"]}]

    res = run_browser(page_server, steps, tmp_path)

    etag = '"%s"' % hashlib.md5(data).hexdigest()
    assert res["put"]["ok"], res["put"]
    assert res["put"]["status"] == 200
    assert res["put"]["headers"] == {"etag": etag, "x-amz-server-side-encryption": "AES256"}
    g = res["get"]
    assert g["ok"] and g["status"] == 200, g
    assert g["equal"] is True and g["length"] == len(data)
    assert g["headers"]["etag"] == etag
    assert g["headers"]["x-amz-server-side-encryption"] == "AES256"
    assert g["headers"]["content-length"] == str(len(data))  # CORS-safelisted
    assert g["headers"]["x-amz-request-id"] is None          # not exposed by the rule

    # Errors carry the CORS headers too, so the page can read S3's answer.
    m = res["missing"]
    assert m["ok"] and m["status"] == 404, m
    assert b"<Code>NoSuchKey</Code>" in base64.b64decode(m["body_b64"])

    head = s3.head_object(Bucket=bucket, Key="from-browser.bin")
    assert head["ServerSideEncryption"] == "AES256" and head["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="from-browser.bin")["Body"].read() == data


def test_browser_refused_by_bucket_rules(checked_server, page_server, tmp_path):
    s3 = checked_server.client()
    bucket = "browser-refused"
    s3.create_bucket(Bucket=bucket)
    # Rules for another origin only; they replace LocalStack's default, which would allow the
    # page's origin (EXTRA_CORS_ALLOWED_ORIGINS).
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["http://other.example"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"]}]})
    s3.put_object(Bucket=bucket, Key="existing", Body=b"already here")
    put, _ = presigned_put_and_get(s3, bucket, "never-stored")
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "existing"},
                                    ExpiresIn=600)

    res = run_browser(page_server, [
        {"name": "put", "method": "PUT", "url": put, "body_b64": b64(b"refused"),
         "headers": {"x-amz-server-side-encryption": "AES256"}},
        {"name": "get", "method": "GET", "url": get},
    ], tmp_path)

    for name in ("put", "get"):
        assert res[name]["ok"] is False, res[name]
        assert res[name]["error"].startswith("TypeError"), res[name]
    # The preflight failed, so the PUT was never sent.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["existing"]


def test_browser_localstack_default_cors(checked_server, page_server, tmp_path):
    """No rules on the bucket: LocalStack's default CORS answers (the page's origin is in
    EXTRA_CORS_ALLOWED_ORIGINS) and exposes ETag and the encryption header."""
    s3 = checked_server.client()
    bucket = "browser-default"
    s3.create_bucket(Bucket=bucket)
    data = b"default cors " * 1000
    put, get = presigned_put_and_get(s3, bucket, "dflt")

    res = run_browser(page_server, upload_steps(put, get, data), tmp_path)

    assert res["put"]["ok"] and res["put"]["status"] == 200, res["put"]
    assert res["get"]["ok"] and res["get"]["equal"] is True, res["get"]
    assert res["get"]["headers"]["etag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert res["get"]["headers"]["x-amz-server-side-encryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="dflt")["Body"].read() == data


def form_step(name, post, data, extra_fields=(), filename="photo.bin", read_headers=()):
    fields = list(post["fields"].items()) + list(extra_fields)
    return {"name": name, "method": "POST", "url": post["url"],
            "form": {"fields": [[k, v] for k, v in fields],
                     "file": {"field": "file", "filename": filename,
                              "type": "application/octet-stream", "b64": b64(data)}},
            "read_headers": list(read_headers)}


def test_browser_post_form_upload(checked_server, page_server, tmp_path):
    """An HTML-form style upload (POST Object, multipart/form-data built by the browser's
    FormData) with a signed policy and SSE, then a download, all from the page's origin."""
    s3 = checked_server.client()
    bucket = "browser-post"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [page_server], "AllowedMethods": ["GET", "POST"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-server-side-encryption",
                                                   "Location"]}]})
    data = os.urandom(200 * 1024)
    sse = {"x-amz-server-side-encryption": "AES256"}
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={**sse, "success_action_status": "201"},
        Conditions=[sse, {"success_action_status": "201"}, ["starts-with", "$key", "uploads/"],
                    ["content-length-range", 1, 1024 * 1024]],
        ExpiresIn=600)
    get = s3.generate_presigned_url("get_object",
                                    Params={"Bucket": bucket, "Key": "uploads/photo.bin"},
                                    ExpiresIn=600)
    too_big = s3.generate_presigned_post(bucket, "big", Conditions=[
        ["content-length-range", 1, 1000]], ExpiresIn=600)

    res = run_browser(page_server, [
        form_step("post", post, data, read_headers=["etag", "x-amz-server-side-encryption"]),
        {"name": "get", "method": "GET", "url": get, "expect_b64": b64(data),
         "read_headers": ["x-amz-server-side-encryption"]},
        form_step("too-big", too_big, b"x" * 5000),
    ], tmp_path)

    p = res["post"]
    assert p["ok"] and p["status"] == 201, p
    body = base64.b64decode(p["body_b64"])
    assert b"<Key>uploads/photo.bin</Key>" in body and b"<Bucket>browser-post</Bucket>" in body
    etag = '"%s"' % hashlib.md5(data).hexdigest()
    assert p["headers"] == {"etag": etag, "x-amz-server-side-encryption": "AES256"}
    g = res["get"]
    assert g["ok"] and g["status"] == 200 and g["equal"] is True, g
    assert g["headers"]["x-amz-server-side-encryption"] == "AES256"
    t = res["too-big"]
    assert t["ok"] and t["status"] == 400, t
    assert b"<Code>EntityTooLarge</Code>" in base64.b64decode(t["body_b64"])

    head = s3.head_object(Bucket=bucket, Key="uploads/photo.bin")
    assert head["ServerSideEncryption"] == "AES256" and head["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="uploads/photo.bin")["Body"].read() == data
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["uploads/photo.bin"]


def test_browser_post_form_from_other_origin_is_unreadable(checked_server, page_server,
                                                           tmp_path):
    """A form POST is a CORS "simple request": the browser sends it without a preflight (as to
    AWS), but when the bucket's rules do not allow the page's origin the page cannot read the
    answer."""
    s3 = checked_server.client()
    bucket = "browser-post-refused"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["http://other.example"], "AllowedMethods": ["POST"]}]})
    post = s3.generate_presigned_post(bucket, "k", ExpiresIn=600)
    res = run_browser(page_server, [form_step("post", post, b"data")], tmp_path)
    assert res["post"]["ok"] is False and res["post"]["error"].startswith("TypeError")
