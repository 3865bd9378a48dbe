"""podman for the container and package tests (test_container.py, test_deb.py): the test-only
containers.conf, the image build once per session, one `podman run` as an object, and podman's
Docker-compatible API socket. Loaded by conftest.py as a plugin so that its session fixtures are
shared."""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ASAN, COFFER_BIN, REPO

HERE = Path(__file__).resolve().parent
CONF = HERE / "container" / "containers.conf"
SLIM = "localhost/coffer:latest"
COMPAT = "localhost/coffer:compat"
BASE = "localhost/coffer-base:bookworm-minbase"
TIMINGS = {}


def podman_env():
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONF)
    return env


def podman(*args, check=True, timeout=300):
    p = subprocess.run(["podman", *args], env=podman_env(), capture_output=True, text=True,
                       timeout=timeout)
    if check:
        assert p.returncode == 0, f"podman {' '.join(args)} -> {p.returncode}\n{p.stderr[-3000:]}"
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --------------------------------------------------------------------------
# the runtime and the images (once per session)
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def images(tmp_path_factory):
    if ASAN:
        pytest.skip("container tests run once per test command, in the normal build's pass "
                    "(COFFER_ASAN=1 here)")
    for tool in ("podman", "debootstrap", "docker-compose"):
        if shutil.which(tool) is None:
            pytest.skip(f"cannot run containers: {tool} is not installed "
                        "(scripts/install-deps.sh --test installs it)")
    if os.geteuid() != 0:
        pytest.skip("cannot run containers: debootstrap and rootful podman need root")
    info = podman("info", check=False, timeout=120)
    if info.returncode != 0:
        pytest.skip(f"cannot run containers: podman info failed: {info.stderr.strip()[-500:]}")
    cache = Path(COFFER_BIN).resolve().parent / "image-cache"
    t0 = time.monotonic()
    p = subprocess.run([str(REPO / "scripts" / "build-image.sh"), "--binary", COFFER_BIN,
                        "--cache", str(cache)], env=podman_env(), capture_output=True,
                       text=True, timeout=1800)
    TIMINGS["build_s"] = round(time.monotonic() - t0, 1)
    assert p.returncode == 0, f"build-image.sh failed\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    probe = podman("run", "--rm", BASE, "/bin/true", check=False, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"cannot run containers here: {probe.stderr.strip()[-500:]}")
    sizes = podman("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}").stdout
    TIMINGS["sizes"] = sizes.strip().splitlines()
    yield {"cache": cache}
    (cache / "container-test-timings.json").write_text(json.dumps(TIMINGS, indent=1) + "\n")


class Container:
    """One `podman run` in the foreground: its output is collected as it comes."""

    def __init__(self, image, env=None, volumes=(), extra=(), cmd=()):
        self.image = image
        self.cmd = list(cmd)
        self.name = f"coffer-test-{uuid.uuid4().hex[:12]}"
        self.env = env or {}
        self.volumes = list(volumes)
        self.extra = list(extra)
        self.proc = None
        self.out, self.err = [], []
        self.port = None
        self.ready_s = None

    def _pump(self, stream, sink):
        for line in iter(stream.readline, ""):
            sink.append(line)

    def start(self, expect_ready=True, timeout=90):
        argv = ["podman", "run", "--name", self.name, "-p", "127.0.0.1::4566"]
        for k, v in self.env.items():
            argv += ["-e", f"{k}={v}"]
        for v in self.volumes:
            argv += ["-v", v]
        argv += self.extra + [self.image] + self.cmd
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, env=podman_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()
        return self.wait_ready(timeout) if expect_ready else self

    def wait_ready(self, timeout=90):
        wait_for(lambda: "Ready.\n" in self.out or self.proc.poll() is not None, timeout,
                 f"'Ready.' from {self.name}")
        assert "Ready.\n" in self.out, f"container exited before Ready.\n{self.logs()}"
        self.ready_s = time.monotonic() - self.t0
        port = podman("port", self.name, "4566/tcp").stdout.strip().splitlines()[0]
        self.port = int(port.rsplit(":", 1)[1])
        return self

    @property
    def endpoint(self):
        return f"http://localhost:{self.port}"

    def stop(self):
        """podman stop (SIGTERM, SIGKILL after Docker's 10 s): (exit code, seconds)."""
        t0 = time.monotonic()
        podman("stop", "-t", "10", self.name, timeout=60)
        rc = self.proc.wait(timeout=30)
        return rc, time.monotonic() - t0

    def wait(self, timeout=60):
        return self.proc.wait(timeout=timeout)

    def logs(self):
        return "--- stdout ---\n" + "".join(self.out)[-4000:] + \
               "\n--- stderr ---\n" + "".join(self.err)[-6000:]

    def remove(self):
        if self.proc is not None and self.proc.poll() is None:
            podman("stop", "-t", "2", self.name, check=False)
            self.proc.wait(timeout=30)
        podman("rm", "-f", "-v", self.name, check=False)


@pytest.fixture
def run_container(images):
    made = []

    def make(image=SLIM, start=True, **kw):
        c = Container(image, **kw)
        made.append(c)
        return c.start() if start else c

    yield make
    for c in made:
        c.remove()


@pytest.fixture(scope="session")
def docker_socket(images, tmp_path_factory):
    """podman's Docker-compatible API on a private socket, for docker-compose and
    Testcontainers."""
    d = tmp_path_factory.mktemp("podman-api")
    sock = d / "podman.sock"
    log = open(d / "service.log", "wb")
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                            env=podman_env(), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    try:
        wait_for(sock.exists, 30, "podman's API socket")
        yield f"unix://{sock}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
