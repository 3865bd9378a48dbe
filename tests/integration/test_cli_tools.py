"""s3cmd and rclone (Debian's packages, installed by the test command) against coffer:
syncing a directory up and down, with SSE-S3 and, for rclone, SSE-C over HTTPS."""
import base64
import hashlib
import os
import re
import subprocess

import pytest

S3CMD = "/usr/bin/s3cmd"
RCLONE = "/usr/bin/rclone"


def make_tree(root):
    files = {}
    for i in range(12):
        sub = root / f"d{i % 3}" / ("deep" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        data = os.urandom(1000 * i + 7) + b"CLI-CANARY"
        p = sub / f"f{i}.bin"
        p.write_bytes(data)
        files[str(p.relative_to(root))] = hashlib.sha256(data).hexdigest()
    big = root / "big.bin"
    data = os.urandom(17 * 1024 * 1024)  # s3cmd and rclone switch to multipart above 15/5 MiB
    big.write_bytes(data)
    files["big.bin"] = hashlib.sha256(data).hexdigest()
    return files


def tree_hashes(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def s3cmd(srv, tmp_path, *args):
    cfg = tmp_path / "s3cfg"
    cfg.write_text(f"""[default]
access_key = test
secret_key = test
host_base = 127.0.0.1:{srv.port}
host_bucket = 127.0.0.1:{srv.port}
use_https = False
signature_v2 = False
bucket_location = us-east-1
""")
    p = subprocess.run([S3CMD, "-c", str(cfg), *args], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_s3cmd_sync_up_and_down(server, tmp_path):
    src = tmp_path / "src"
    files = make_tree(src)
    s3cmd(server, tmp_path, "mb", "s3://s3cmd-bkt")
    s3cmd(server, tmp_path, "sync", str(src) + "/", "s3://s3cmd-bkt/tree/")
    listing = s3cmd(server, tmp_path, "ls", "-r", "s3://s3cmd-bkt/tree/")
    assert listing.count("s3://s3cmd-bkt/tree/") == len(files)
    dst = tmp_path / "dst"
    dst.mkdir()
    s3cmd(server, tmp_path, "sync", "s3://s3cmd-bkt/tree/", str(dst) + "/")
    assert tree_hashes(dst) == files
    # a second sync transfers nothing and deletes nothing
    out = s3cmd(server, tmp_path, "sync", str(src) + "/", "s3://s3cmd-bkt/tree/")
    assert "upload:" not in out
    info = s3cmd(server, tmp_path, "info", "s3://s3cmd-bkt/tree/big.bin")
    assert "s3://s3cmd-bkt/tree/big.bin" in info


def rclone(srv, *args, https_ca=None, extra_env=None):
    env = dict(os.environ,
               RCLONE_CONFIG="/dev/null",
               RCLONE_CONFIG_COFFER_TYPE="s3",
               RCLONE_CONFIG_COFFER_PROVIDER="Other",
               RCLONE_CONFIG_COFFER_ACCESS_KEY_ID="test",
               RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY="test",
               RCLONE_CONFIG_COFFER_REGION="us-east-1",
               RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE="true",
               RCLONE_CONFIG_COFFER_ENDPOINT=(f"https://localhost:{srv.port}" if https_ca
                                             else f"http://127.0.0.1:{srv.port}"))
    env.update(extra_env or {})
    # rclone's AWS SDK refuses AWS_CA_BUNDLE next to its own transport: certificates come from
    # --ca-cert here
    env.pop("AWS_CA_BUNDLE", None)
    cmd = [RCLONE, *args]
    if https_ca:
        cmd += ["--ca-cert", https_ca]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_rclone_sync(server, tmp_path):
    src = tmp_path / "src"
    files = make_tree(src)
    rclone(server, "mkdir", "coffer:rclone-bkt")
    rclone(server, "sync", str(src), "coffer:rclone-bkt/tree")
    dst = tmp_path / "dst"
    rclone(server, "sync", "coffer:rclone-bkt/tree", str(dst))
    assert tree_hashes(dst) == files
    rclone(server, "check", str(src), "coffer:rclone-bkt/tree")


def test_rclone_sse_c_over_https(coffer_factory, tmp_path):
    srv = coffer_factory()
    pem = open(os.path.join(str(srv.data_dir), "tls.pem")).read()
    cert = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", pem, re.S)
    ca = tmp_path / "ca.pem"
    ca.write_text(cert.group(0))
    key = os.urandom(32)
    sse = {"RCLONE_CONFIG_COFFER_SSE_CUSTOMER_ALGORITHM": "AES256",
           "RCLONE_CONFIG_COFFER_SSE_CUSTOMER_KEY_BASE64": base64.b64encode(key).decode()}
    src = tmp_path / "src"
    files = make_tree(src)
    rclone(srv, "mkdir", "coffer:rclone-ssec", https_ca=str(ca))
    rclone(srv, "sync", str(src), "coffer:rclone-ssec/t", https_ca=str(ca), extra_env=sse)
    # without the key the objects cannot be read
    c = srv.client()
    with pytest.raises(Exception):
        c.get_object(Bucket="rclone-ssec", Key="t/big.bin")
    dst = tmp_path / "dst"
    rclone(srv, "copy", "coffer:rclone-ssec/t", str(dst), https_ca=str(ca), extra_env=sse)
    assert tree_hashes(dst) == files
