"""HTTP and HTTPS on the same port (the first byte decides, as in LocalStack), the generated
certificate, CUSTOM_SSL_CERT_PATH, and the aws profile accepting SSE-C and SSE-KMS over TLS only.
"""
import base64
import hashlib
import os
import re
import ssl
import subprocess
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import raw_request

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def cert_only(pem_path, out_path):
    """The certificate block of a key+cert PEM, as a CA bundle for clients."""
    text = open(pem_path).read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", text, re.S)
    assert m, "no certificate in " + pem_path
    open(out_path, "w").write(m.group(0))
    return out_path


def https_client(srv, ca, **kw):
    return boto3.client("s3", endpoint_url=f"https://localhost:{srv.port}",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        region_name="us-east-1", verify=ca,
                        config=Config(retries={"total_max_attempts": 1},
                                      s3={"addressing_style": "path"}), **kw)


def data_dir(srv):
    return str(srv.data_dir)


def test_same_port_plain_and_tls(coffer_factory, tmp_path):
    srv = coffer_factory()
    pem = os.path.join(data_dir(srv), "tls.pem")
    assert os.stat(pem).st_mode & 0o777 == 0o600
    ca = cert_only(pem, str(tmp_path / "ca.pem"))
    plain = urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/_localstack/health").read()
    ctx = ssl.create_default_context(cafile=ca)
    secure = urllib.request.urlopen(f"https://localhost:{srv.port}/_localstack/health",
                                    context=ctx).read()
    assert b'"s3"' in plain and b'"s3"' in secure

    s3 = https_client(srv, ca)
    s3.create_bucket(Bucket="tls-bkt")
    s3.put_object(Bucket="tls-bkt", Key="k", Body=b"over tls")
    assert s3.get_object(Bucket="tls-bkt", Key="k")["Body"].read() == b"over tls"
    # and the same object over plain HTTP
    s3p = srv.client()
    assert s3p.get_object(Bucket="tls-bkt", Key="k")["Body"].read() == b"over tls"

    # the certificate names what LocalStack's does
    out = subprocess.run(["openssl", "x509", "-in", ca, "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True).stdout
    for name in ("DNS:localhost", "DNS:localhost.localstack.cloud",
                 "DNS:*.localhost.localstack.cloud", "IP Address:127.0.0.1"):
        assert name in out


def test_certificate_survives_restart(coffer_factory, tmp_path):
    srv = coffer_factory()
    pem = os.path.join(data_dir(srv), "tls.pem")
    before = open(pem, "rb").read()
    srv.stop()
    srv.start()
    assert open(pem, "rb").read() == before


def test_custom_ssl_cert_path(coffer_factory, tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=custom.coffer.test",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    both = tmp_path / "both.pem"
    both.write_bytes(key.read_bytes() + crt.read_bytes())
    srv = coffer_factory(env={"CUSTOM_SSL_CERT_PATH": str(both)})
    ctx = ssl.create_default_context(cafile=str(crt))
    body = urllib.request.urlopen(f"https://localhost:{srv.port}/_localstack/health",
                                  context=ctx).read()
    assert b'"s3"' in body
    assert not os.path.exists(os.path.join(data_dir(srv), "tls.pem"))


def _make_cert(tmp_path, name):
    key, crt = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(crt), "-days", "2", "-subj", f"/CN={name}.coffer.test",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    both = tmp_path / f"{name}.pem"
    both.write_bytes(key.read_bytes() + crt.read_bytes())
    return both, crt


def _served_cn(srv):
    pem = ssl.get_server_certificate(("127.0.0.1", srv.port))
    out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem,
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def test_tls_cert_option(coffer_factory, tmp_path):
    """--tls-cert, tls_cert in the config file and CUSTOM_SSL_CERT_PATH: config file <
    environment < command line."""
    file_pem, file_crt = _make_cert(tmp_path, "file")
    env_pem, _ = _make_cert(tmp_path, "env")
    cli_pem, _ = _make_cert(tmp_path, "cli")
    conf = tmp_path / "coffer.conf"
    conf.write_text(f"tls_cert = {file_pem}\n")
    srv = coffer_factory(extra_args=("--config", str(conf)))
    assert "file.coffer.test" in _served_cn(srv)
    ctx = ssl.create_default_context(cafile=str(file_crt))
    assert b'"s3"' in urllib.request.urlopen(
        f"https://localhost:{srv.port}/_localstack/health", context=ctx).read()
    assert not os.path.exists(os.path.join(data_dir(srv), "tls.pem"))
    srv.stop()
    srv = coffer_factory(extra_args=("--config", str(conf)),
                         env={"CUSTOM_SSL_CERT_PATH": str(env_pem)})
    assert "env.coffer.test" in _served_cn(srv)
    srv.stop()
    srv = coffer_factory(extra_args=("--config", str(conf), "--tls-cert", str(cli_pem)),
                         env={"CUSTOM_SSL_CERT_PATH": str(env_pem)})
    assert "cli.coffer.test" in _served_cn(srv)


def test_tls_cert_in_help(coffer_bin_help):
    assert "--tls-cert" in coffer_bin_help and "CUSTOM_SSL_CERT_PATH" in coffer_bin_help


@pytest.fixture
def coffer_bin_help():
    from conftest import COFFER_BIN
    return subprocess.run([COFFER_BIN, "--help"], capture_output=True, text=True,
                          check=True).stdout


def test_bad_custom_cert_refuses_to_start(coffer_factory, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a pem\n")
    srv = coffer_factory(env={"CUSTOM_SSL_CERT_PATH": str(bad)}, start=False)
    with pytest.raises(Exception):
        srv.start(timeout=5)


def test_aws_profile_sse_c_and_kms_need_tls(coffer_factory, tmp_path):
    srv = coffer_factory(extra_args=["--profile", "aws"])
    ca = cert_only(os.path.join(data_dir(srv), "tls.pem"), str(tmp_path / "ca.pem"))
    s3 = https_client(srv, ca)
    s3.create_bucket(Bucket="aws-tls")
    key = os.urandom(32)
    # plain HTTP: refused (400) ...
    with pytest.raises(ClientError) as ei:
        srv.client().put_object(Bucket="aws-tls", Key="c", Body=b"x",
                                SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as ei:
        srv.client().put_object(Bucket="aws-tls", Key="m", Body=b"x",
                                ServerSideEncryption="aws:kms")
    assert ei.value.response["Error"]["Code"] == "InvalidArgument"
    # ... over TLS SSE-KMS works; SSE-C is blocked on new buckets until unblocked (AWS 2026)
    r = s3.put_object(Bucket="aws-tls", Key="m", Body=b"kms over tls",
                      ServerSideEncryption="aws:kms")  # the account's aws/s3 key
    assert r["ServerSideEncryption"] == "aws:kms"
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket="aws-tls", Key="c", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=key)
    assert ei.value.response["Error"]["Code"] == "AccessDenied"
    unblock = ("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
               "<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
               "<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType>"
               "</BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>").encode()
    # (botocore of this Debian release cannot send BlockedEncryptionTypes: sign it by hand)
    r = raw_request(srv.port, "PUT", "/aws-tls?encryption", body=unblock)
    assert r.status == 200, r
    s3.put_object(Bucket="aws-tls", Key="c", Body=b"ssec over tls", SSECustomerAlgorithm="AES256",
                  SSECustomerKey=key)
    got = s3.get_object(Bucket="aws-tls", Key="c", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=key)
    assert got["Body"].read() == b"ssec over tls"


def test_garbage_before_tls_is_plain_http_error(coffer_factory):
    srv = coffer_factory()
    import socket
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    data = s.recv(200)
    s.close()
    assert data.startswith(b"HTTP/1.1 400") or data == b""
    # the server still serves
    assert urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/_localstack/health").status == 200
