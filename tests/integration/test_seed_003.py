"""Seed 003 (OVH guide "Encrypting your objects with SSE-C"): the aws CLI s3api
flow put-object / get-object / head-object with --sse-customer-algorithm,
--sse-customer-key, --sse-customer-key-md5, the Bad Request without the key,
deletion with `aws s3 rm`.

The guide computes the key MD5 as `echo $encKey | md5sum | awk '{print $1}' |
base64 -w0`, i.e. base64 of the hex MD5 of the base64 text plus a newline.
That is wrong for real S3 (it wants base64(MD5(raw 32-byte key))); the flow is
tested with the correct MD5, and separately the guide's value must get AWS's
400 InvalidArgument."""

import base64
import hashlib
import json
import os
import subprocess

import pytest

from conftest import output_lines, run_aws

BUCKET = "sse-c-seed-bucket"
OBJ = "encrypt_magic"
M_MD5 = "The calculated MD5 hash of the key did not match the hash that was provided."
M_BAD_KEY = "The secret key was invalid for the specified algorithm."
M_NO_KEY = ("The object was stored using a form of Server Side Encryption. "
            "The correct parameters must be provided to retrieve the object.")
M_WRONG_KEY = ("Requests specifying Server Side Encryption with Customer provided keys "
               "must provide the correct secret key.")


def sh(script, **env):
    p = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}, timeout=30)
    assert p.returncode == 0, p
    return p.stdout


@pytest.fixture
def flow(coffer_factory, tmp_path):
    srv = coffer_factory()
    cwd = tmp_path / "work"
    cwd.mkdir()
    endpoint = f"http://localhost:{srv.port}"

    def aws(*args, check=True):
        return run_aws(endpoint, *args, cwd=str(cwd), home=str(tmp_path), check=check)

    p = aws("s3", "mb", f"s3://{BUCKET}")
    assert output_lines(p.stdout) == [f"make_bucket: {BUCKET}"]
    # /etc/magic stand-in: 111 bytes, like the guide's output
    magic = (b"# Magic local data for file(1) command.\n"
             b"# Insert here your local magic data. Format is described in magic(5).\n\n")
    assert len(magic) == 111
    (cwd / "magic").write_bytes(magic)
    # encKey=$(openssl rand -base64 32)
    enc_key = sh("openssl rand -base64 32").strip()
    raw_key = base64.b64decode(enc_key)
    assert len(raw_key) == 32
    # the correct MD5 for S3: base64 of the MD5 of the raw key
    md5_key = sh('printf %s "$encKey" | base64 -d | openssl dgst -md5 -binary | base64 -w0',
                 encKey=enc_key)
    assert md5_key == base64.b64encode(hashlib.md5(raw_key).digest()).decode()
    # the guide's (wrong) MD5
    seed_md5 = sh("echo $encKey | md5sum | awk '{print $1}' | base64 -w0", encKey=enc_key)
    return srv, aws, cwd, magic, enc_key, raw_key, md5_key, seed_md5


def sse_args(enc_key, md5_key):
    return ["--sse-customer-algorithm", "AES256", "--sse-customer-key", enc_key,
            "--sse-customer-key-md5", md5_key]


def test_seed_sse_c_cli_flow(flow):
    srv, aws, cwd, magic, enc_key, raw_key, md5_key, _seed_md5 = flow

    p = aws("s3api", "put-object", "--body", "magic", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, md5_key))
    put = json.loads(p.stdout)
    assert set(put) == {"ETag", "SSECustomerAlgorithm", "SSECustomerKeyMD5"}, put
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == md5_key
    assert put["ETag"] != '"' + hashlib.md5(magic).hexdigest() + '"'

    p = aws("s3api", "get-object", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, md5_key), "decrypt_magic")
    get = json.loads(p.stdout)
    assert (cwd / "decrypt_magic").read_bytes() == magic
    assert get["ContentLength"] == 111
    assert get["ETag"] == put["ETag"]
    assert get["SSECustomerAlgorithm"] == "AES256"
    assert get["SSECustomerKeyMD5"] == md5_key
    assert "ServerSideEncryption" not in get

    # without the encryption headers: 400
    (cwd / "decrypt_magic_2").unlink(missing_ok=True)
    p = aws("s3api", "get-object", "--bucket", BUCKET, "--key", OBJ, "decrypt_magic_2",
            check=False)
    assert p.returncode != 0
    assert (f"An error occurred (InvalidRequest) when calling the GetObject operation: "
            f"{M_NO_KEY}") in p.stderr, p.stderr
    assert not (cwd / "decrypt_magic_2").exists() or \
        (cwd / "decrypt_magic_2").read_bytes() != magic
    # the guide's message comes from a download that starts with HeadObject
    p = aws("s3", "cp", f"s3://{BUCKET}/{OBJ}", "decrypt_magic_3", check=False)
    assert p.returncode != 0
    assert "An error occurred (400) when calling the HeadObject operation: Bad Request" \
        in p.stderr, p.stderr

    p = aws("s3api", "head-object", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, md5_key))
    head = json.loads(p.stdout)
    assert set(head) == {"AcceptRanges", "LastModified", "ContentLength", "ETag",
                         "ContentType", "Metadata", "SSECustomerAlgorithm",
                         "SSECustomerKeyMD5"}, head
    assert head["ContentLength"] == 111
    assert head["ETag"] == put["ETag"]
    assert head["ContentType"] == "binary/octet-stream"
    assert head["Metadata"] == {}
    assert head["SSECustomerAlgorithm"] == "AES256"
    assert head["SSECustomerKeyMD5"] == md5_key

    p = aws("s3api", "head-object", "--bucket", BUCKET, "--key", OBJ, check=False)
    assert p.returncode != 0
    assert "An error occurred (400) when calling the HeadObject operation: Bad Request" \
        in p.stderr, p.stderr

    p = aws("s3", "rm", f"s3://{BUCKET}/{OBJ}")
    assert output_lines(p.stdout) == [f"delete: s3://{BUCKET}/{OBJ}"]
    p = aws("s3api", "list-objects-v2", "--bucket", BUCKET)
    assert "Contents" not in (json.loads(p.stdout) if p.stdout.strip() else {})


def test_seed_wrong_md5_refused(flow):
    srv, aws, cwd, magic, enc_key, raw_key, md5_key, seed_md5 = flow
    assert seed_md5 != md5_key
    p = aws("s3api", "put-object", "--body", "magic", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, seed_md5), check=False)
    assert p.returncode != 0
    assert ("An error occurred (InvalidArgument) when calling the PutObject operation: "
            f"{M_MD5}") in p.stderr, p.stderr
    # nothing was stored
    p = aws("s3api", "list-objects-v2", "--bucket", BUCKET)
    assert "Contents" not in (json.loads(p.stdout) if p.stdout.strip() else {})
    # the same wrong MD5 on a read of a correctly stored object is refused too
    aws("s3api", "put-object", "--body", "magic", "--bucket", BUCKET, "--key", OBJ,
        *sse_args(enc_key, md5_key))
    p = aws("s3api", "get-object", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, seed_md5), "out", check=False)
    assert p.returncode != 0
    assert "(InvalidArgument)" in p.stderr and M_MD5 in p.stderr, p.stderr
    p = aws("s3api", "head-object", "--bucket", BUCKET, "--key", OBJ,
            *sse_args(enc_key, seed_md5), check=False)
    assert p.returncode != 0
    assert "An error occurred (400) when calling the HeadObject operation: Bad Request" \
        in p.stderr, p.stderr


def test_seed_md5_omitted_with_base64_key(flow):
    """The guide calls --sse-customer-key-md5 optional. Without it the CLI takes the
    key text as the raw key (base64-encodes the 44 characters and computes their MD5),
    so S3 sees a 44-byte key: 400 'The secret key was invalid ...'."""
    srv, aws, cwd, magic, enc_key, raw_key, md5_key, _ = flow
    p = aws("s3api", "put-object", "--body", "magic", "--bucket", BUCKET, "--key", OBJ,
            "--sse-customer-algorithm", "AES256", "--sse-customer-key", enc_key, check=False)
    assert p.returncode != 0
    # the 44-byte key is refused; which of the two InvalidArgument messages AWS gives
    # for it is not pinned down (one capture of this exact flow shows the MD5 one)
    prefix = "An error occurred (InvalidArgument) when calling the PutObject operation: "
    assert (prefix + M_BAD_KEY in p.stderr) or (prefix + M_MD5 in p.stderr), p.stderr
    p = aws("s3api", "list-objects-v2", "--bucket", BUCKET)
    assert "Contents" not in (json.loads(p.stdout) if p.stdout.strip() else {})


def test_seed_md5_omitted_with_raw_key_file(flow):
    """The working way to leave out the MD5: give the raw key (fileb://); the CLI
    computes the MD5. Objects written either way are the same SSE-C object."""
    srv, aws, cwd, magic, enc_key, raw_key, md5_key, _ = flow
    (cwd / "key.bin").write_bytes(raw_key)
    p = aws("s3api", "put-object", "--body", "magic", "--bucket", BUCKET, "--key", OBJ,
            "--sse-customer-algorithm", "AES256", "--sse-customer-key", "fileb://key.bin")
    assert json.loads(p.stdout)["SSECustomerKeyMD5"] == md5_key
    # readable with the base64 form + correct MD5
    aws("s3api", "get-object", "--bucket", BUCKET, "--key", OBJ, *sse_args(enc_key, md5_key),
        "out1")
    assert (cwd / "out1").read_bytes() == magic
    # and the high-level commands with --sse-c
    p = aws("s3", "cp", "magic", f"s3://{BUCKET}/cp_magic", "--sse-c", "AES256",
            "--sse-c-key", "fileb://key.bin")
    p = aws("s3", "cp", f"s3://{BUCKET}/cp_magic", "out2", "--sse-c", "AES256",
            "--sse-c-key", "fileb://key.bin")
    assert (cwd / "out2").read_bytes() == magic
    # a different key gets 403 through HeadObject
    (cwd / "other.bin").write_bytes(os.urandom(32))
    p = aws("s3", "cp", f"s3://{BUCKET}/cp_magic", "out3", "--sse-c", "AES256",
            "--sse-c-key", "fileb://other.bin", check=False)
    assert p.returncode != 0
    assert "An error occurred (403) when calling the HeadObject operation: Forbidden" \
        in p.stderr, p.stderr
    p = aws("s3api", "get-object", "--bucket", BUCKET, "--key", "cp_magic",
            "--sse-customer-algorithm", "AES256", "--sse-customer-key", "fileb://other.bin",
            "out4", check=False)
    assert p.returncode != 0
    assert ("An error occurred (AccessDenied) when calling the GetObject operation: "
            f"{M_WRONG_KEY}") in p.stderr, p.stderr
