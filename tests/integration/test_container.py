"""coffer's container image in the place of localstack/localstack, run with podman (runc, and
the test-only tests/integration/container/containers.conf):

- scripts/build-image.sh builds coffer:latest (slim) and coffer:compat (aws CLI) from the
  binary under test; the debootstrap tree is cached under the build dir;
- the seed user guide's aws CLI flow from the host against the container;
- a ready.d hook (awslocal) creates a bucket with default encryption before "Ready.";
- PERSISTENCE=1 keeps objects across a restart (and a mounted root key works), without it a
  start is empty;
- SIGTERM (podman stop) exits 0 well within 10 s; the HEALTHCHECK passes;
- LocalStack's docker-compose.yml with only the image changed comes up (docker-compose against
  podman's Docker-compatible socket);
- Testcontainers' LocalStack module (npm) starts coffer:latest and an SSE-KMS put/get works.

They run once per test command: the AddressSanitizer pass (COFFER_ASAN=1) skips them, and so
does a machine that cannot run containers at all (the reason is printed)."""

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import test_seed_sse_s3_cli_and_script as seed
from conftest import COFFER_BIN, error_of, make_s3, run_aws
from podmanlib import (COMPAT, HERE, SLIM, TIMINGS, free_port, http_get, podman, port_free,
                       wait_for)

JS_DIR = HERE / "js"
COMPOSE = HERE / "container" / "docker-compose.localstack.yml"


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------

def test_image_contract(images):
    """What localstack/localstack's users rely on, read from the image's configuration."""
    image = json.loads(podman("image", "inspect", SLIM).stdout)[0]
    cfg = image["Config"]
    assert cfg["Entrypoint"] == ["docker-entrypoint.sh"]
    assert "4566/tcp" in cfg["ExposedPorts"]
    assert "/var/lib/localstack" in cfg["Volumes"]
    health = image.get("Healthcheck") or image.get("HealthCheck") or {}
    assert health.get("Test") == ["CMD", "/usr/local/bin/coffer-health"], image
    p = podman("run", "--rm", "--entrypoint", "/bin/sh", SLIM, "-c",
               "for c in bash sh curl docker-entrypoint.sh awslocal coffer; do command -v $c; done; "
               "coffer --version; "
               "ls -d /etc/localstack/init/boot.d /etc/localstack/init/ready.d "
               "/etc/localstack/init/start.d /etc/localstack/init/shutdown.d")
    lines = p.stdout.splitlines()
    assert [Path(l).name for l in lines[:6]] == [
        "bash", "sh", "curl", "docker-entrypoint.sh", "awslocal", "coffer"], p.stdout
    assert lines[3] == "/usr/local/bin/docker-entrypoint.sh"
    version = subprocess.run([COFFER_BIN, "--version"], capture_output=True, text=True).stdout
    assert lines[6] == version.strip() and lines[6].startswith("coffer "), p.stdout
    assert len(lines) == 11, p.stdout


def test_testcontainers_java_entrypoint_override(run_container):
    """Testcontainers' Java module replaces the entry point with a shell loop that waits for
    /testcontainers_start.sh (a bash script it copies in), which execs docker-entrypoint.sh."""
    loop = ("while [ ! -f /testcontainers_start.sh ]; do sleep 0.1; done; "
            "/testcontainers_start.sh")
    c = run_container(start=False, extra=["--entrypoint", "sh"], cmd=["-c", loop])
    c.start(expect_ready=False)
    wait_for(lambda: podman("exec", c.name, "true", check=False).returncode == 0, 60,
             "the container to run")
    podman("exec", c.name, "bash", "-c",
           "printf '#!/bin/bash\\nexec /usr/local/bin/docker-entrypoint.sh\\n' > /tmp/s && "
           "chmod +x /tmp/s && mv /tmp/s /testcontainers_start.sh")
    c.wait_ready()
    make_s3(c.endpoint).create_bucket(Bucket="java-style")


def test_seed_cli_flow_and_stop(run_container, tmp_path):
    """The seed guide's aws CLI flow from the host; then SIGTERM: exit 0 well within 10 s."""
    c = run_container()
    TIMINGS["run_to_ready_s"] = round(c.ready_s, 2)
    status, body = http_get(c.endpoint + "/_localstack/health")
    assert status == 200 and json.loads(body)["services"]["s3"] in ("available", "running")

    class Endpoint:
        port = c.port
    seed.test_seed_cli_session(Endpoint, tmp_path)

    assert podman("healthcheck", "run", c.name, check=False).returncode == 0, "HEALTHCHECK"
    rc, took = c.stop()
    TIMINGS["stop_s"] = round(took, 2)
    assert rc == 0, c.logs()
    assert took < 8, f"stop took {took:.1f}s"
    assert "stopped" in "".join(c.err), c.logs()


def test_ready_hook_with_awslocal_before_ready(run_container, tmp_path):
    init = tmp_path / "init"
    (init / "ready.d").mkdir(parents=True)
    hook = init / "ready.d" / "10-encrypted-bucket.sh"
    hook.write_text("""#!/bin/bash
set -euo pipefail
awslocal s3 mb s3://hooked-bucket
awslocal s3api put-bucket-encryption --bucket hooked-bucket \\
  --server-side-encryption-configuration \\
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}'
""")
    hook.chmod(0o755)
    (init / "ready.d" / "20-fails.sh").write_text("#!/bin/sh\necho 'this one fails' >&2\nexit 3\n")
    (init / "ready.d" / "20-fails.sh").chmod(0o755)
    c = run_container(COMPAT, start=False, volumes=[f"{init}:/etc/localstack/init:ro"])
    c.start(timeout=180)
    # At the moment "Ready." appeared the hook had already run.
    s3 = make_s3(c.endpoint)
    enc = s3.get_bucket_encryption(Bucket="hooked-bucket")
    rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    status, body = http_get(c.endpoint + "/_localstack/init/ready")
    assert json.loads(body) == {"completed": True, "scripts": [
        {"stage": "READY", "name": "10-encrypted-bucket.sh", "state": "SUCCESSFUL"},
        {"stage": "READY", "name": "20-fails.sh", "state": "ERROR"}]}
    err = "".join(c.err)
    assert "init READY 10-encrypted-bucket.sh: make_bucket: hooked-bucket" in err, c.logs()
    assert "ERROR init READY 20-fails.sh: this one fails" in err, c.logs()
    # awslocal works inside the running container too.
    p = podman("exec", c.name, "awslocal", "s3", "ls")
    assert "hooked-bucket" in p.stdout
    rc, _ = c.stop()
    assert rc == 0, c.logs()


def test_localstack_environment(run_container, tmp_path):
    """LocalStack's variables: the ones coffer maps work (DEBUG, GATEWAY_LISTEN ":port",
    S3_SKIP_SIGNATURE_VALIDATION=0), the rest of a compose file's are accepted and logged once
    at debug level by name, never by value."""
    c = run_container(env={
        "DEBUG": "1", "GATEWAY_LISTEN": ":4566", "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "SERVICES": "s3,sqs", "EAGER_SERVICE_LOADING": "1",
        "LOCALSTACK_AUTH_TOKEN": "ls-token-not-to-be-logged",
        "DOCKER_HOST": "unix:///var/run/docker.sock"})
    err = "".join(c.err)
    for name in ("SERVICES", "EAGER_SERVICE_LOADING", "LOCALSTACK_AUTH_TOKEN", "DOCKER_HOST"):
        assert err.count(f"DEBUG entrypoint: {name} ignored") == 1, c.logs()
    assert "ls-token-not-to-be-logged" not in err
    assert " DEBUG " in err.replace("entrypoint", "")    # coffer itself logs at debug level
    make_s3(c.endpoint).list_buckets()    # test/test signatures verify
    bad = boto3.client("s3", endpoint_url=c.endpoint, aws_access_key_id="test",
                       aws_secret_access_key="wrong", region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1},
                                     s3={"addressing_style": "path"}))
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert error_of(e) == (403, "SignatureDoesNotMatch")
    assert c.stop()[0] == 0


def test_persistence(run_container, tmp_path):
    vol = tmp_path / "volume"
    vol.mkdir()
    c = run_container(env={"PERSISTENCE": "1"}, volumes=[f"{vol}:/var/lib/localstack"])
    s3 = make_s3(c.endpoint)
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="k", Body=b"persisted canary 7d1f")
    assert c.stop()[0] == 0
    assert (vol / "coffer" / "data" / "coffer.db").exists()
    assert (vol / "coffer" / "root.key").exists()
    # LocalStack's entry point strips LOCALSTACK_: LOCALSTACK_PERSISTENCE=1 is the same.
    c2 = run_container(env={"LOCALSTACK_PERSISTENCE": "1"},
                       volumes=[f"{vol}:/var/lib/localstack"])
    assert make_s3(c2.endpoint).get_object(Bucket="kept", Key="k")["Body"].read() == \
        b"persisted canary 7d1f"
    assert c2.stop()[0] == 0
    for f in vol.rglob("*"):
        if f.is_file():
            assert b"persisted canary 7d1f" not in f.read_bytes(), f
    # Without PERSISTENCE the same volume is not used: every start is empty.
    c3 = run_container(volumes=[f"{vol}:/var/lib/localstack"])
    s3 = make_s3(c3.endpoint)
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="gone")
    assert c3.stop()[0] == 0
    c4 = run_container(volumes=[f"{vol}:/var/lib/localstack"])
    assert make_s3(c4.endpoint).list_buckets()["Buckets"] == []


def test_root_key_from_a_mounted_secret(run_container, tmp_path):
    key = tmp_path / "root.key"
    p = podman("run", "--rm", SLIM, "new-root-key")
    key.write_text(p.stdout)
    key.chmod(0o600)
    assert p.stdout.startswith("coffer-root-keyring v1\n")
    vol = tmp_path / "volume"
    vol.mkdir()
    env = {"PERSISTENCE": "1", "COFFER_ROOT_KEY_FILE": "/run/secrets/coffer-root-key"}
    vols = [f"{vol}:/var/lib/localstack", f"{key}:/run/secrets/coffer-root-key:ro"]
    c = run_container(env=env, volumes=vols)
    make_s3(c.endpoint).create_bucket(Bucket="with-secret")
    assert c.stop()[0] == 0
    assert not (vol / "coffer" / "root.key").exists(), "the key must stay out of the volume"
    c2 = run_container(env=env, volumes=vols)
    assert [b["Name"] for b in make_s3(c2.endpoint).list_buckets()["Buckets"]] == ["with-secret"]
    assert c2.stop()[0] == 0
    # A named key that is missing is an error, never a new key.
    c3 = run_container(start=False, env={"COFFER_ROOT_KEY_FILE": "/run/secrets/absent"})
    c3.start(expect_ready=False)
    assert c3.wait() == 1
    assert "COFFER_ROOT_KEY_FILE=/run/secrets/absent does not exist" in "".join(c3.err)


def test_docker_compose_localstack_file(images, docker_socket, tmp_path):
    """LocalStack's documented docker-compose.yml with only the image changed."""
    text = COMPOSE.read_text()
    assert "image: coffer:latest" in text
    if not port_free(4566):    # another server on this machine: map the gateway elsewhere
        text = text.replace('"127.0.0.1:4566:4566"', f'"127.0.0.1:{free_port()}:4566"')
    port = int(text.split('"127.0.0.1:', 1)[1].split(":", 1)[0])
    (tmp_path / "docker-compose.yml").write_text(text)
    name = f"coffer-compose-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DOCKER_HOST=docker_socket, LOCALSTACK_DOCKER_NAME=name,
               LOCALSTACK_VOLUME_DIR=str(tmp_path / "volume"), COMPOSE_PROJECT_NAME=name)
    sock_dir = Path("/var/run/docker.sock")
    had_sock = sock_dir.exists()

    def compose(*args, check=True):
        p = subprocess.run(["docker-compose", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
        if check:
            assert p.returncode == 0, f"docker-compose {args}: {p.stdout}\n{p.stderr}"
        return p

    try:
        compose("up", "-d")

        def ready():
            try:
                return http_get(f"http://127.0.0.1:{port}/_localstack/health")[0] == 200
            except OSError:
                return False
        wait_for(ready, 60, "the compose service")
        wait_for(lambda: "Ready." in compose("logs").stdout, 30, "Ready. in compose logs")
        run_aws(f"http://localhost:{port}", "s3", "mb", "s3://compose-bucket", home=str(tmp_path))
        p = run_aws(f"http://localhost:{port}", "s3", "ls", home=str(tmp_path))
        assert "compose-bucket" in p.stdout
        assert podman("healthcheck", "run", name, check=False).returncode == 0
    finally:
        compose("down", "-v", check=False)
        # The file mounts /var/run/docker.sock; where there is none, the engine made an empty
        # directory in its place (Docker does the same). Leave the host as it was.
        if not had_sock and sock_dir.is_dir() and not any(sock_dir.iterdir()):
            sock_dir.rmdir()


def test_testcontainers_localstack_module(images, docker_socket):
    node = shutil.which("node") or "/usr/bin/node"
    if not (JS_DIR / "node_modules" / "@testcontainers" / "localstack").exists():
        pytest.fail("npm dependencies missing: run `npm ci` in tests/integration/js "
                    "(./test.sh does)")
    env = dict(os.environ, DOCKER_HOST=docker_socket, TESTCONTAINERS_RYUK_DISABLED="true",
               NODE_NO_WARNINGS="1")
    t0 = time.monotonic()
    p = subprocess.run([node, "testcontainers_flow.mjs", "coffer:latest"], cwd=JS_DIR, env=env,
                       capture_output=True, text=True, timeout=300)
    TIMINGS["testcontainers_wall_s"] = round(time.monotonic() - t0, 2)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    TIMINGS["testcontainers_start_ms"] = out["startMs"]
    assert out["putSse"] == "aws:kms" and out["getSse"] == "aws:kms", out
    assert out["putKey"].startswith("arn:aws:kms:us-east-1:000000000000:key/"), out
    assert out["getKey"] == out["putKey"]
    assert out["equal"] is True
