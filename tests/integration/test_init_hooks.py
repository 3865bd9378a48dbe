"""LocalStack init hooks run by the server itself (--init-dir DIR): DIR/{boot,start,ready,
shutdown}.d scripts at their stage, in LocalStack's walk order, their states on
/_localstack/init, ready.d before "Ready.", failures logged and survived, shutdown.d on SIGTERM.
The container image passes --init-dir /etc/localstack/init (tests/integration/test_container.py)."""

import json
import os
import time
from pathlib import Path

import pytest

from conftest import STOP_TIMEOUT


def write(path, text, mode=0o755):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def init_doc(srv, stage=None):
    path = "/_localstack/init" + (f"/{stage}" if stage else "")
    r = srv.http("GET", path, auth=None)
    assert r.status == 200, r
    return json.loads(r.body)


def wait_for(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def initdir(tmp_path):
    d = tmp_path / "init"
    for stage in ("boot", "start", "ready", "shutdown"):
        (d / f"{stage}.d").mkdir(parents=True)
    return d


def test_stages_order_and_states(coffer_factory, initdir, tmp_path):
    log = tmp_path / "order.log"
    sh = f'#!/bin/sh\necho "$0" >> {log}\n'
    write(initdir / "boot.d/b.sh", sh)
    write(initdir / "start.d/s.sh", sh)
    # LocalStack's walk: a directory's files by name, then its subdirectories by name.
    write(initdir / "ready.d/20-second.sh", sh)
    write(initdir / "ready.d/10-first.sh", sh)
    write(initdir / "ready.d/a-sub/50-in-sub.sh", sh)
    write(initdir / "ready.d/30-fails.sh", "#!/bin/sh\necho 'stdout of a failure'\n"
          "echo 'stderr of a failure' >&2\nexit 7\n")
    write(initdir / "ready.d/40-not-executable.sh", sh, mode=0o644)
    write(initdir / "ready.d/45-python.py",
          f"import sys\nopen({str(log)!r}, 'a').write('python ' + sys.argv[0] + '\\n')\n"
          "print('hello from python')\n", mode=0o644)
    write(initdir / "ready.d/README.txt", "not a script\n", mode=0o644)
    write(initdir / "shutdown.d/z.sh", sh)

    srv = coffer_factory(extra_args=["--init-dir", str(initdir)])
    doc = init_doc(srv)
    assert doc["completed"] == {"BOOT": True, "START": True, "READY": True, "SHUTDOWN": False}
    assert doc["scripts"] == [
        {"stage": "BOOT", "name": "b.sh", "state": "SUCCESSFUL"},
        {"stage": "START", "name": "s.sh", "state": "SUCCESSFUL"},
        {"stage": "READY", "name": "10-first.sh", "state": "SUCCESSFUL"},
        {"stage": "READY", "name": "20-second.sh", "state": "SUCCESSFUL"},
        {"stage": "READY", "name": "30-fails.sh", "state": "ERROR"},
        {"stage": "READY", "name": "40-not-executable.sh", "state": "ERROR"},
        {"stage": "READY", "name": "45-python.py", "state": "SUCCESSFUL"},
        {"stage": "READY", "name": "50-in-sub.sh", "state": "SUCCESSFUL"},
        {"stage": "SHUTDOWN", "name": "z.sh", "state": "UNKNOWN"},
    ]
    ready = init_doc(srv, "ready")
    assert ready["completed"] is True
    assert [s["name"] for s in ready["scripts"]] == [
        "10-first.sh", "20-second.sh", "30-fails.sh", "40-not-executable.sh", "45-python.py",
        "50-in-sub.sh"]
    assert init_doc(srv, "SHUTDOWN") == {
        "completed": False,
        "scripts": [{"stage": "SHUTDOWN", "name": "z.sh", "state": "UNKNOWN"}]}
    assert srv.http("GET", "/_localstack/init/nope", auth=None).status == 404

    # The failure is logged with its output and the exit status; the server serves on.
    err = srv.stderr_text()
    assert "ERROR init READY 30-fails.sh: stdout of a failure" in err
    assert "ERROR init READY 30-fails.sh: stderr of a failure" in err
    assert "30-fails.sh: ERROR: exit status 7" in err
    assert "40-not-executable.sh: cannot run: Permission denied" in err
    assert "INFO  init READY 45-python.py: hello from python" in err
    srv.client().list_buckets()

    srv.stop()
    names = [Path(l.split()[-1]).name for l in log.read_text().splitlines()]
    assert names == ["b.sh", "s.sh", "10-first.sh", "20-second.sh", "45-python.py",
                     "50-in-sub.sh", "z.sh"]


def test_ready_hook_runs_after_serving_and_before_ready(coffer_factory, initdir, tmp_path):
    """A ready.d script reaches S3 (COFFER_ENDPOINT) and finishes before "Ready." is printed."""
    marker = tmp_path / "marker"
    write(initdir / "ready.d/10-bucket.sh", f"""#!/bin/bash
set -e
curl -fsS -X PUT "$COFFER_ENDPOINT/hook-bucket" -o /dev/null
curl -fsS -X PUT "$COFFER_ENDPOINT/hook-bucket?encryption" -o /dev/null --data-binary \\
  '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>'
sleep 0.5
if grep -q 'Ready\\.' stdout.*.log; then echo early > {marker}; else echo before > {marker}; fi
""")
    srv = coffer_factory(extra_args=["--init-dir", str(initdir)])
    assert marker.read_text().strip() == "before"
    enc = srv.client().get_bucket_encryption(Bucket="hook-bucket")
    rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_running_state_while_ready_hook_runs(coffer_factory, initdir, tmp_path):
    started, release = tmp_path / "started", tmp_path / "release"
    write(initdir / "ready.d/slow.sh", f"""#!/bin/sh
touch {started}
i=0
while [ ! -e {release} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
""")
    srv = coffer_factory(extra_args=["--init-dir", str(initdir)], start=False)
    srv.start(timeout=1.0, expect_ready=False)
    wait_for(started.exists, what="the ready.d script to start")
    assert "Ready." not in srv.stdout_text()
    assert init_doc(srv, "ready") == {
        "completed": False, "scripts": [{"stage": "READY", "name": "slow.sh", "state": "RUNNING"}]}
    assert init_doc(srv)["completed"] == {"BOOT": True, "START": True, "READY": False,
                                          "SHUTDOWN": False}
    release.touch()
    wait_for(lambda: "Ready." in srv.stdout_text(), what="Ready.")
    assert init_doc(srv, "ready") == {
        "completed": True,
        "scripts": [{"stage": "READY", "name": "slow.sh", "state": "SUCCESSFUL"}]}


def test_shutdown_hook_runs_on_sigterm_while_serving(coffer_factory, initdir, tmp_path):
    out = tmp_path / "shutdown.out"
    write(initdir / "shutdown.d/save.sh", f"""#!/bin/sh
curl -s -o /dev/null -w '%{{http_code}}' -I "$COFFER_ENDPOINT/kept" > {out}
""")
    srv = coffer_factory(extra_args=["--init-dir", str(initdir)])
    srv.client().create_bucket(Bucket="kept")
    srv.stop()    # exit 0 within the stop timeout
    assert out.read_text() == "200"
    assert "init SHUTDOWN save.sh: SUCCESSFUL" in srv.stderr_text()


def test_sigterm_during_a_hung_ready_hook_stops_cleanly(coffer_factory, initdir, tmp_path):
    started = tmp_path / "started"
    write(initdir / "ready.d/10-hangs.sh", f"#!/bin/sh\ntouch {started}\nsleep 300\n")
    write(initdir / "ready.d/20-never.sh", f"#!/bin/sh\ntouch {tmp_path / 'never'}\n")
    srv = coffer_factory(extra_args=["--init-dir", str(initdir)], start=False)
    srv.start(timeout=1.0, expect_ready=False)
    wait_for(started.exists, what="the ready.d script to start")
    t0 = time.monotonic()
    srv.stop()    # asserts exit 0
    assert time.monotonic() - t0 < STOP_TIMEOUT
    assert not (tmp_path / "never").exists()
    assert "Ready." not in srv.stdout_text()
    err = srv.stderr_text()
    assert "10-hangs.sh: ERROR: killed by signal 15" in err
    assert "remaining scripts are not run" in err


def test_missing_init_dir_is_no_scripts(coffer_factory, tmp_path):
    srv = coffer_factory(extra_args=["--init-dir", str(tmp_path / "absent")])
    doc = init_doc(srv)
    assert doc == {"completed": {"BOOT": True, "START": True, "READY": True, "SHUTDOWN": False},
                   "scripts": []}


def test_hook_environment_is_clean(coffer_factory, initdir, tmp_path):
    """Scripts start with default signal handling and an empty signal mask (the server blocks
    SIGTERM/SIGINT/SIGCHLD and ignores SIGPIPE), stdin from /dev/null, in their own process
    group."""
    out = tmp_path / "env.out"
    write(initdir / "boot.d/env.sh", f"""#!/bin/bash
grep -E '^(SigBlk|SigIgn):' /proc/self/status > {out}
[ -t 0 ] && echo tty >> {out}
head -c 1 >> {out}
cut -d' ' -f5 /proc/$$/stat >> {out}
echo $$ >> {out}
""")
    srv = coffer_factory(extra_args=["--init-dir", str(initdir)])
    lines = out.read_text().split("\n")
    assert lines[0] == "SigBlk:\t0000000000000000", lines
    # glibc's posix_spawn leaves its two internal signals (32, 33) ignored; none below.
    assert int(lines[1].split("\t")[1], 16) & 0x7FFFFFFF == 0, lines
    assert lines[2] == lines[3], "hook not in its own process group"
    srv.stop()
