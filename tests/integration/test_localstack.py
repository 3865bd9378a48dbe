"""LocalStack internal endpoints."""

import json

import pytest

from conftest import unique_name


def _json(r):
    assert r.header("Content-Type", "").startswith("application/json"), r
    return json.loads(r.body)


def test_health(raw, s3):
    r = raw("GET", "/_localstack/health", auth=None)
    assert r.status == 200
    doc = _json(r)
    assert doc["services"]["s3"] in ("running", "available")
    assert doc.get("version")
    assert doc.get("edition")
    assert r.header("x-localstack"), "x-localstack header missing"
    s3.list_buckets()
    doc = _json(raw("GET", "/_localstack/health", auth=None))
    assert doc["services"]["s3"] == "running"


def test_health_fresh_server_available_then_running(coffer_factory):
    srv = coffer_factory()
    doc = json.loads(srv.http("GET", "/_localstack/health", auth=None).body)
    assert doc["services"]["s3"] in ("available", "running")
    srv.client().list_buckets()
    doc = json.loads(srv.http("GET", "/_localstack/health", auth=None).body)
    assert doc["services"]["s3"] == "running"


def test_health_head(raw):
    r = raw("HEAD", "/_localstack/health", auth=None)
    assert r.status == 200
    assert r.body == b""


def test_health_reload(raw):
    r = raw("GET", "/_localstack/health?reload", auth=None)
    assert r.status == 200
    assert _json(r)["services"]["s3"] in ("running", "available")


def test_x_localstack_header_on_s3_responses(raw, bucket):
    for method, path, status in (("GET", "/", 200), ("GET", f"/{bucket}", 200),
                                 ("GET", f"/{bucket}/nope", 404)):
        r = raw(method, path)
        assert r.status == status
        assert r.header("x-localstack"), (method, path)


def test_info(raw):
    r = raw("GET", "/_localstack/info", auth=None)
    assert r.status == 200
    doc = _json(r)
    assert doc["version"]
    assert "edition" in doc
    assert "uptime" in doc


def test_init(raw):
    r = raw("GET", "/_localstack/init", auth=None)
    assert r.status == 200
    doc = _json(r)
    completed = doc["completed"]
    assert completed["BOOT"] is True
    assert completed["START"] is True
    assert completed["READY"] is True
    assert completed["SHUTDOWN"] is False
    assert isinstance(doc["scripts"], list)


@pytest.mark.parametrize("stage", ["ready", "READY", "boot", "start"])
def test_init_stage_completed(raw, stage):
    r = raw("GET", f"/_localstack/init/{stage}", auth=None)
    assert r.status == 200
    doc = _json(r)
    assert doc["completed"] is True
    assert isinstance(doc["scripts"], list)


def test_init_shutdown_not_completed(raw):
    doc = _json(raw("GET", "/_localstack/init/shutdown", auth=None))
    assert doc["completed"] is False


def test_init_unknown_stage(raw):
    r = raw("GET", "/_localstack/init/bogus", auth=None)
    assert r.status == 404


def test_unknown_internal_endpoint(raw):
    r = raw("GET", "/_localstack/no-such-endpoint", auth=None)
    assert r.status == 404


@pytest.mark.parametrize("path", [
    "/_localstack/state/reset",
    "/_localstack/state/s3/reset",
    "/moto-api/reset",
])
def test_reset_empties_all_buckets(coffer_factory, path):
    srv = coffer_factory()
    c = srv.client()
    names = [unique_name("rs") for _ in range(3)]
    for n in names:
        c.create_bucket(Bucket=n)
        for i in range(3):
            c.put_object(Bucket=n, Key=f"k{i}", Body=b"data" * 1000)
    assert len(c.list_buckets()["Buckets"]) == 3
    r = srv.http("POST", path, auth=None)
    assert 200 <= r.status < 300, r
    assert c.list_buckets()["Buckets"] == []
    for n in names:
        r = srv.http("HEAD", f"/{n}")
        assert r.status == 404
    # the server keeps working, and a re-created bucket is empty
    c.create_bucket(Bucket=names[0])
    assert c.list_objects_v2(Bucket=names[0])["KeyCount"] == 0
    c.put_object(Bucket=names[0], Key="after", Body=b"ok")
    assert c.get_object(Bucket=names[0], Key="after")["Body"].read() == b"ok"


def test_reset_survives_restart(coffer_factory):
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="gone")
    c.put_object(Bucket="gone", Key="k", Body=b"x")
    assert srv.http("POST", "/_localstack/state/reset", auth=None).status in (200, 204)
    srv.restart()
    assert srv.client().list_buckets()["Buckets"] == []
