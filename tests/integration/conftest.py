"""Black-box integration fixtures for coffer.

The real binary is started on an ephemeral port with a temporary data dir and
driven with Debian's boto3, /usr/bin/aws, /usr/bin/curl and raw http.client.
"""

import hashlib
import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

# Session fixtures for the container and package tests (podman), shared by their modules.
pytest_plugins = ["podmanlib"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

BLOB_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def inline_blob_ids(data_dir):
    """Ids of the blobs kept inline in the metadata store (bodies up to --inline-max bytes)."""
    db = Path(data_dir) / "coffer.db"
    if not db.exists():
        return set()
    con = sqlite3.connect(str(db), timeout=30)
    try:
        return {r[0] for r in con.execute("SELECT blob_id FROM inline_blobs")}
    except sqlite3.OperationalError:  # a schema from before inline storage
        return set()
    finally:
        con.close()


def stored_blob_ids(data_dir):
    """Every stored blob's id, wherever it is: blob files under blobs/, and inline rows."""
    files = {p.name for p in (Path(data_dir) / "blobs").rglob("*")
             if p.is_file() and BLOB_ID_RE.match(p.name)}
    return sorted(files | inline_blob_ids(data_dir))


def _default_bin():
    top = REPO / "build" / "coffer"
    nested = REPO / "build" / "server" / "coffer"     # where meson puts server/'s executable
    if not top.exists() and nested.exists():
        return str(nested)
    return str(top)


COFFER_BIN = os.environ.get("COFFER_BIN") or _default_bin()
ASAN = os.environ.get("COFFER_ASAN") == "1"

PYTHON = "/usr/bin/python3"
AWS = "/usr/bin/aws"
CURL = "/usr/bin/curl"

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

VHOST_SUFFIX = "localhost.localstack.cloud"


# --------------------------------------------------------------------------
# server process
# --------------------------------------------------------------------------

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def server_env(extra=None):
    """A clean environment: nothing from the caller that coffer might honour."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    if extra:
        env.update(extra)
    return env


class CofferServer:
    """One coffer process: start, stop (SIGTERM, exit 0), restart."""

    def __init__(self, workdir, data_dir=None, root_key=None, extra_args=(),
                 ephemeral=False, env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(data_dir) if data_dir else self.workdir / "data"
        self.root_key = Path(root_key) if root_key else self.workdir / "root.key"
        self.extra_args = list(extra_args)
        self.ephemeral = ephemeral
        self.env = env
        self.proc = None
        self.port = None
        self.runs = 0
        self.stdout_path = None
        self.stderr_path = None

    # -- lifecycle ---------------------------------------------------------
    def argv(self, port):
        argv = [COFFER_BIN, "--listen", f"127.0.0.1:{port}"]
        if self.ephemeral:
            argv += ["--ephemeral"]
        else:
            argv += ["--data-dir", str(self.data_dir),
                     "--root-key-file", str(self.root_key)]
        argv += ["--log-level", "debug"]
        argv += self.extra_args
        return argv

    def start(self, timeout=READY_TIMEOUT, expect_ready=True):
        if not os.path.exists(COFFER_BIN):
            pytest.skip(f"coffer binary not built: {COFFER_BIN}")
        last_err = ""
        for _attempt in range(3):
            self.runs += 1
            self.port = free_port()
            self.stdout_path = self.workdir / f"stdout.{self.runs}.log"
            self.stderr_path = self.workdir / f"stderr.{self.runs}.log"
            out = open(self.stdout_path, "wb")
            err = open(self.stderr_path, "wb")
            self.proc = subprocess.Popen(
                self.argv(self.port), stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, cwd=str(self.workdir),
                env=server_env(self.env))
            out.close()
            err.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self._ready():
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            if not expect_ready:
                return self
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"coffer did not print 'Ready.' within {timeout}s\n"
                    + self.logs())
            last_err = self.logs()
            if "in use" not in last_err.lower():
                break
        self.proc = None
        raise AssertionError("coffer exited before 'Ready.'\n" + last_err)

    def _ready(self):
        try:
            data = self.stdout_path.read_bytes()
        except FileNotFoundError:
            return False
        return any(line.strip() == b"Ready." or line.rstrip().endswith(b"Ready.")
                   for line in data.splitlines())

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, check=True):
        """SIGTERM; assert exit code 0 within 10 s (and no sanitizer report)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            if check:
                raise AssertionError(
                    f"coffer did not exit within {STOP_TIMEOUT}s of SIGTERM\n"
                    + self.logs())
            return None
        if check:
            assert rc == 0, f"coffer exited with {rc} after SIGTERM\n" + self.logs()
            self.check_sanitizers()
        return rc

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    def check_sanitizers(self):
        err = self.stderr_path.read_text(errors="replace")
        assert "WARNING: ThreadSanitizer" not in err, err[-8000:]  # the TSan build
        if not ASAN:
            return
        assert "ERROR: AddressSanitizer" not in err, err[-8000:]
        assert "runtime error:" not in err, err[-8000:]
        assert "ERROR: LeakSanitizer" not in err, err[-8000:]

    def stdout_text(self):
        return self.stdout_path.read_text(errors="replace") if self.stdout_path else ""

    def stderr_text(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""

    def logs(self, tail=6000):
        return ("--- stdout ---\n" + self.stdout_text()[-tail:]
                + "\n--- stderr ---\n" + self.stderr_text()[-tail:])

    # -- clients -----------------------------------------------------------
    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw):
        return make_s3(self.endpoint, **kw)

    def http(self, method, path, **kw):
        return raw_request(self.port, method, path, **kw)

    def vmhwm_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc status")


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

def make_s3(endpoint, region="us-east-1", addressing_style="path", **cfg):
    config = Config(
        region_name=region,
        signature_version="s3v4",
        s3={"addressing_style": addressing_style, **cfg.pop("s3", {})},
        # botocore: retries.max_attempts counts *retries*; total_max_attempts=1
        # is "one attempt, no retry" (what max_attempts 1 is meant to say).
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        **cfg,
    )
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test",
        aws_secret_access_key="test", region_name=region, config=config)


class RawResponse:
    def __init__(self, status, reason, headers, body, error=None):
        self.status = status
        self.reason = reason
        self.headers = headers          # http.client.HTTPMessage (case-insensitive)
        self.body = body
        self.error = error              # exception raised while reading the body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def xml(self):
        import xml.etree.ElementTree as ET
        return ET.fromstring(self.body)

    def __repr__(self):
        return (f"<RawResponse {self.status} {self.reason} "
                f"headers={dict(self.headers.items())} body={self.body[:600]!r}>")


def sigv4_headers(method, host, path, headers, body, region="us-east-1"):
    url = f"http://{host}{path}"
    req = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    req.headers["Host"] = host
    S3SigV4Auth(Credentials("test", "test"), "s3", region).add_auth(req)
    return dict(req.headers.items())


def raw_request(port, method, path, headers=None, body=None, host=None,
                auth="sigv4", timeout=60):
    """One HTTP request to 127.0.0.1:port with an explicit Host header.

    auth: "sigv4" (signed with test/test), None (anonymous) or a literal
    Authorization header value.
    """
    host = host or f"127.0.0.1:{port}"
    headers = dict(headers or {})
    if body is None and method in ("PUT", "POST"):
        body = b""
    if auth == "sigv4":
        headers = sigv4_headers(method, host, path, headers, body)
    elif auth is not None:
        headers["Authorization"] = auth
    headers["Host"] = host
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        err = None
        try:
            data = resp.read()
        except http.client.IncompleteRead as e:
            data, err = e.partial, e
        except (ConnectionError, OSError, http.client.HTTPException) as e:
            data, err = b"", e
        return RawResponse(resp.status, resp.reason, resp.headers, data, err)
    finally:
        conn.close()


def error_of(excinfo_or_exc):
    """(HTTP status, S3 error code) of a botocore ClientError."""
    e = getattr(excinfo_or_exc, "value", excinfo_or_exc)
    assert isinstance(e, ClientError), repr(e)
    return (e.response["ResponseMetadata"]["HTTPStatusCode"],
            e.response["Error"]["Code"])


def unique_name(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def etag_of(data):
    return '"' + md5_hex(data) + '"'


def empty_and_delete(client, bucket):
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            for i in range(0, len(keys), 1000):
                client.delete_objects(Bucket=bucket,
                                      Delete={"Objects": keys[i:i + 1000], "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except Exception:
        pass


def hdrs(resp):
    """Response headers of a boto3 call (lower-cased names)."""
    return resp["ResponseMetadata"]["HTTPHeaders"]


RFC1123_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} GMT$")


# --------------------------------------------------------------------------
# aws CLI
# --------------------------------------------------------------------------

def aws_env(home):
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def run_aws(endpoint, *args, cwd=None, home=None, check=True, timeout=120):
    home = home or cwd or "/tmp"
    cmd = [AWS, "--endpoint-url", endpoint, *args]
    p = subprocess.run(cmd, cwd=cwd, env=aws_env(home), capture_output=True,
                       text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, (
            f"{cmd} -> {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def output_lines(text):
    """CLI output lines with progress (\\r) fragments split off."""
    return [l.strip() for l in re.split(r"[\r\n]", text) if l.strip()]


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = CofferServer(tmp_path_factory.mktemp("session-server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def coffer_factory(tmp_path):
    """Start coffer processes with a given data dir; all stopped (exit 0) at teardown."""
    started = []
    counter = [0]

    def make(data_dir=None, root_key=None, extra_args=(), ephemeral=False,
             env=None, start=True, workdir=None):
        counter[0] += 1
        wd = Path(workdir) if workdir else tmp_path / f"srv{counter[0]}"
        srv = CofferServer(wd, data_dir=data_dir, root_key=root_key,
                           extra_args=extra_args, ephemeral=ephemeral, env=env)
        started.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    failures = []
    for srv in started:
        if srv.running:
            try:
                srv.stop()
            except AssertionError as e:
                failures.append(str(e))
        elif srv.proc is not None:
            srv.kill()
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="session")
def s3(server):
    return server.client()


@pytest.fixture(scope="session")
def vhost_dns():
    """Resolve *.localhost.localstack.cloud to 127.0.0.1 inside this process
    (its public DNS answer), since there is no DNS here."""
    real = socket.getaddrinfo

    def fake(host, *a, **kw):
        if isinstance(host, str) and (host == VHOST_SUFFIX or host.endswith("." + VHOST_SUFFIX)):
            host = "127.0.0.1"
        return real(host, *a, **kw)

    socket.getaddrinfo = fake
    yield
    socket.getaddrinfo = real


@pytest.fixture(scope="session")
def s3_vhost(server, vhost_dns):
    return make_s3(f"http://s3.{VHOST_SUFFIX}:{server.port}", addressing_style="virtual")


@pytest.fixture
def bucket_name():
    return unique_name


@pytest.fixture
def bucket(s3):
    name = unique_name("b")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def raw(server):
    def do(method, path, **kw):
        return raw_request(server.port, method, path, **kw)
    return do


@pytest.fixture
def aws(server, tmp_path):
    def do(*args, **kw):
        kw.setdefault("cwd", str(tmp_path))
        return run_aws(server.endpoint, *args, **kw)
    return do
