"""State resets in every profile and setting: who may wipe the server.

Each setting gets an unsigned, a badly signed and a properly signed reset on each of the three
reset paths; afterwards the data is still there, or gone, exactly as the README says:

| setting                                   | unsigned | bad signature | signed |
|-------------------------------------------|----------|---------------|--------|
| localstack (default)                      | reset    | reset         | reset  |
| localstack, S3_SKIP_SIGNATURE_VALIDATION=0| 403      | 403           | reset  |
| localstack, --admin-endpoints=off         | 403      | 403           | 403    |
| aws                                       | 403      | 403           | 403    |
| aws, --admin-endpoints (or env, or file)  | 403      | 403           | reset  |

Health, info and init stay readable, unsigned, everywhere.
"""

import subprocess

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import COFFER_BIN, CURL, raw_request, unique_name

RESET_PATHS = ["/_localstack/state/reset", "/_localstack/state/s3/reset", "/moto-api/reset"]

DISABLED = "disabled"  # in the 403's message when admin endpoints are off


def signed_headers(port, path, secret):
    host = f"127.0.0.1:{port}"
    req = AWSRequest(method="POST", url=f"http://{host}{path}", data=b"",
                     headers={"Host": host})
    S3SigV4Auth(Credentials("test", secret), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def reset(srv, path, how):
    """POST a reset: how is 'unsigned', 'bad' (signed with a wrong secret) or 'signed'."""
    if how == "unsigned":
        return raw_request(srv.port, "POST", path, auth=None)
    secret = "test" if how == "signed" else "not-the-secret"
    return raw_request(srv.port, "POST", path, headers=signed_headers(srv.port, path, secret),
                       auth=None)


def seed(srv):
    s3 = srv.client()
    name = unique_name("keep")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"still here")
    return name


def present(srv, name):
    s3 = srv.client()
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if name not in names:
        return False
    return s3.get_object(Bucket=name, Key="k")["Body"].read() == b"still here"


SETTINGS = {
    # id: (extra args, env, outcome per how: "reset" or the S3 error code)
    "localstack": ([], {}, {"unsigned": "reset", "bad": "reset", "signed": "reset"}),
    "localstack-signatures": ([], {"S3_SKIP_SIGNATURE_VALIDATION": "0"},
                              {"unsigned": "AccessDenied", "bad": "SignatureDoesNotMatch",
                               "signed": "reset"}),
    "localstack-off": (["--admin-endpoints=off"], {},
                       {"unsigned": DISABLED, "bad": DISABLED, "signed": DISABLED}),
    "aws": (["--profile", "aws"], {},
            {"unsigned": DISABLED, "bad": DISABLED, "signed": DISABLED}),
    "aws-enabled": (["--profile", "aws", "--admin-endpoints"], {},
                    {"unsigned": "AccessDenied", "bad": "SignatureDoesNotMatch",
                     "signed": "reset"}),
    "aws-enabled-env": (["--profile", "aws"], {"COFFER_ADMIN_ENDPOINTS": "1"},
                        {"unsigned": "AccessDenied", "bad": "SignatureDoesNotMatch",
                         "signed": "reset"}),
}


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_reset_by_profile_and_signature(coffer_factory, setting):
    args, env, outcomes = SETTINGS[setting]
    srv = coffer_factory(extra_args=args, env=env)
    for path in RESET_PATHS:
        for how in ("unsigned", "bad", "signed"):
            name = seed(srv)
            r = reset(srv, path, how)
            want = outcomes[how]
            where = f"{setting}: {how} POST {path} -> {r}"
            if want == "reset":
                assert r.status == 200, where
                assert r.body == b"{}", where
                assert not present(srv, name), where
                continue
            assert r.status == 403, where
            code = r.xml().findtext("Code")
            message = r.xml().findtext("Message") or ""
            if want == DISABLED:
                assert code == "AccessDenied", where
                assert DISABLED in message and "--admin-endpoints" in message, where
            else:
                assert code == want, where
            assert present(srv, name), where


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_health_and_info_readable_everywhere(coffer_factory, setting):
    args, env, _ = SETTINGS[setting]
    srv = coffer_factory(extra_args=args, env=env)
    for path in ("/_localstack/health", "/_localstack/info", "/_localstack/init"):
        r = raw_request(srv.port, "GET", path, auth=None)
        assert r.status == 200, (setting, path, r)
    assert raw_request(srv.port, "HEAD", "/_localstack/health", auth=None).status == 200


def curl_reset(srv, path, secret):
    cmd = [CURL, "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST",
           "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"test:{secret}",
           "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
           f"http://127.0.0.1:{srv.port}{path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.parametrize("args,env", [
    ([], {"S3_SKIP_SIGNATURE_VALIDATION": "0"}),
    (["--profile", "aws", "--admin-endpoints"], {}),
], ids=["localstack-signatures", "aws-enabled"])
def test_reset_signed_with_curl(coffer_factory, args, env):
    """The README's command: curl --aws-sigv4 with a configured credential."""
    srv = coffer_factory(extra_args=args + ["--credentials", "test:test,ops:s3cret"], env=env)
    name = seed(srv)
    status, body = curl_reset(srv, "/_localstack/state/reset", "wrong")
    assert status == 403 and "SignatureDoesNotMatch" in body, body
    assert present(srv, name)
    cmd_ok = [CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
              "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "ops:s3cret",
              "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
              f"http://127.0.0.1:{srv.port}/moto-api/reset"]
    p = subprocess.run(cmd_ok, capture_output=True, text=True, timeout=30)
    assert p.stdout == "200", p
    assert not present(srv, name)


def test_admin_endpoints_from_config_file(coffer_factory, tmp_path):
    conf = tmp_path / "coffer.conf"
    conf.write_text("profile = aws\nadmin_endpoints = on\n")
    srv = coffer_factory(extra_args=["--config", str(conf)])
    name = seed(srv)
    assert reset(srv, "/_localstack/state/reset", "unsigned").status == 403
    assert present(srv, name)
    assert reset(srv, "/_localstack/state/reset", "signed").status == 200
    assert not present(srv, name)


def test_help_lists_the_options():
    p = subprocess.run([COFFER_BIN, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    for flag in ("--admin-endpoints", "--header-timeout", "--keepalive-timeout",
                 "--body-timeout", "--max-connections", "--max-connections-per-client",
                 "--shutdown-grace"):
        assert flag in p.stdout, flag
