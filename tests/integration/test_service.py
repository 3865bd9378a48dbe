"""coffer under a service manager: systemd's readiness protocol (Type=notify) without
libsystemd. READY=1 reaches $NOTIFY_SOCKET once coffer serves, STOPPING=1 on SIGTERM; a path
or an abstract ('@') socket; nothing is sent without the variable."""

import socket
import uuid

import pytest


def notify_socket(tmp_path, abstract):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = f"coffer-test-{uuid.uuid4().hex}"
        s.bind("\0" + name)
        env = "@" + name
    else:
        path = str(tmp_path / "notify.sock")
        s.bind(path)
        env = path
    s.settimeout(10)
    return s, env


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_and_stopping_notifications(coffer_factory, tmp_path, abstract):
    s, env = notify_socket(tmp_path, abstract)
    try:
        srv = coffer_factory(env={"NOTIFY_SOCKET": env})
        assert "Ready." in srv.stdout_text()
        assert s.recv(4096) == b"READY=1"
        srv.stop()
        assert s.recv(4096) == b"STOPPING=1"
    finally:
        s.close()


def test_no_socket_no_notification(coffer_factory):
    srv = coffer_factory(env={"NOTIFY_SOCKET": "relative-is-ignored"})
    srv.client().list_buckets()
    srv.stop()
