"""The Debian package (scripts/build-deb.sh) built from the binary under test: its contents and
dependencies, coffer(1) generated from the option table, and an install with `dpkg -i` into a
fresh root filesystem from the image's debootstrap base, booted with systemd (podman
--systemd=always): the coffer user, the paths and modes, `systemd-analyze verify` and
`security`, the service started by the package as that user, Type=notify, a clean stop.

Like the container tests, they run once per test command (not in the AddressSanitizer pass)."""

import re
import subprocess
import uuid

import pytest

from conftest import COFFER_BIN, REPO
from podmanlib import BASE, TIMINGS, podman, wait_for

DEPS_TAG = "localhost/coffer-debtest:deps"


@pytest.fixture(scope="module")
def deb(images, tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run([str(REPO / "scripts" / "build-deb.sh"), "--binary", COFFER_BIN,
                        "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    path = p.stdout.strip().splitlines()[-1]
    assert path.endswith(".deb") and path.startswith(str(out)), p.stdout
    return path


def field(deb_path, name):
    return subprocess.run(["dpkg-deb", "-f", deb_path, name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_package_contents(deb):
    files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                           check=True).stdout
    paths = {line.split()[-1] for line in files.splitlines()}
    for want in ("./usr/bin/coffer", "./etc/coffer/coffer.conf",
                 "./lib/systemd/system/coffer.service", "./usr/share/man/man1/coffer.1.gz",
                 "./usr/share/doc/coffer/copyright"):
        assert want in paths, files
    version = subprocess.run([COFFER_BIN, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[1]
    assert field(deb, "Package") == "coffer"
    assert field(deb, "Version") == version
    depends = field(deb, "Depends")
    # ${shlibs:Depends}: every library ldd shows, with versions; and adduser for the user.
    for lib in ("libc6 (>=", "libmicrohttpd12 (>=", "libssl3 (>=", "libsqlite3-0 (>=",
                "libxml2 (>=", "libjansson4 (>=", "libisal2 (>=", "adduser"):
        assert lib in depends, depends
    control = subprocess.run(["dpkg-deb", "-I", deb, "conffiles"], capture_output=True,
                             text=True, check=True).stdout
    assert control.split() == ["/etc/coffer/coffer.conf"]


def test_man_page_from_the_option_table(tmp_path):
    """coffer(1) and --help come from one table: every option of one is in the other."""
    help_text = subprocess.run([COFFER_BIN, "--help"], capture_output=True, text=True,
                               check=True).stdout
    man = subprocess.run([COFFER_BIN, "--man"], capture_output=True, text=True,
                         check=True).stdout
    flags = set(re.findall(r"^  (--[a-z-]+)", help_text, re.M))
    assert "--init-dir" in flags and "--listen" in flags and len(flags) > 20
    man_flags = {f.replace("\\-", "-") for f in re.findall(r"^\.B ((?:\\-)+[a-z\\-]+)", man,
                                                            re.M)}
    assert flags == man_flags
    page = tmp_path / "coffer.1"
    page.write_text(man)
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def deps_image(deb_path):
    """The base plus the package's dependencies (from its Depends), systemd and man-db: cached
    by podman's layer cache, so only the first run downloads them. The base's slimming
    (no man pages) is undone so that coffer(1) is installed as on a real system."""
    names = [d.split()[0] for d in field(deb_path, "Depends").split(", ")]
    ctx = deb_path.rsplit("/", 1)[0] + "/deps-context"
    subprocess.run(["mkdir", "-p", ctx], check=True)
    with open(ctx + "/Containerfile", "w") as f:
        f.write(f"FROM {BASE}\n"
                "RUN rm -f /etc/dpkg/dpkg.cfg.d/01-coffer-slim && apt-get update "
                "&& apt-get install -y --no-install-recommends "
                + " ".join(sorted(names) + ["man-db", "systemd"])
                + " && rm -rf /var/lib/apt/lists/*\n")
    podman("build", "-q", "-t", DEPS_TAG, ctx, timeout=900)


def test_install_into_a_fresh_root_with_systemd(deb):
    deps_image(deb)
    name = f"coffer-debtest-{uuid.uuid4().hex[:8]}"
    debdir, debfile = deb.rsplit("/", 1)
    podman("run", "-d", "--name", name, "--systemd=always", "-v", f"{debdir}:/deb:ro",
           DEPS_TAG, "/lib/systemd/systemd")

    def sh(script, check=True):
        p = podman("exec", name, "bash", "-c", script, check=False, timeout=120)
        if check:
            assert p.returncode == 0, f"{script}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    try:
        def booted():
            state = podman("exec", name, "systemctl", "is-system-running", check=False)
            return state.stdout.strip() in ("running", "degraded")
        wait_for(booted, 60, "systemd in the container")
        sh(f"dpkg -i /deb/{debfile}")

        # The user, the paths, the modes.
        user = sh("getent passwd coffer").strip().split(":")
        assert int(user[2]) < 1000 and user[5] == "/var/lib/coffer", user
        assert user[6] in ("/usr/sbin/nologin", "/bin/false"), user
        modes = sh("stat -c '%U:%G %a %n' /etc/coffer /etc/coffer/coffer.conf "
                   "/etc/coffer/root.key /var/lib/coffer").splitlines()
        assert modes == ["root:coffer 770 /etc/coffer", "root:coffer 640 /etc/coffer/coffer.conf",
                         "coffer:coffer 600 /etc/coffer/root.key",
                         "coffer:coffer 750 /var/lib/coffer"], modes
        conf = sh("grep -v '^#' /etc/coffer/coffer.conf | grep .").splitlines()
        assert conf == ["data_dir = /var/lib/coffer", "root_key_file = /etc/coffer/root.key"]
        version = subprocess.run([COFFER_BIN, "--version"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        assert sh("coffer --version").strip() == version
        assert sh("man -w coffer").strip() == "/usr/share/man/man1/coffer.1.gz"

        # The unit: valid, hardened, enabled and started by the package, as the coffer user.
        sh("systemd-analyze verify /lib/systemd/system/coffer.service")
        exposure = sh("systemd-analyze security --offline=yes --no-pager coffer.service | tail -1")
        level = float(re.search(r"exposure level for coffer.service: ([0-9.]+)", exposure)[1])
        TIMINGS["systemd_exposure"] = level
        assert level <= 2.5, exposure
        assert sh("systemctl is-enabled coffer").strip() == "enabled"
        wait_for(lambda: sh("systemctl is-active coffer", check=False).strip() == "active", 30,
                 "coffer.service to be active")
        pid = sh("systemctl show -p MainPID --value coffer").strip()
        uid = sh(f"awk '/^Uid:/ {{print $2}}' /proc/{pid}/status").strip()
        assert uid == user[2]
        # Type=notify: systemd called it started only after READY=1, which follows "Ready.".
        journal = sh("journalctl -u coffer --no-pager -o cat")
        assert "Ready." in journal and "serving http and https on 127.0.0.1:4566" in journal
        health = sh("exec 3<>/dev/tcp/127.0.0.1/4566; "
                    "printf 'GET /_localstack/health HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3")
        assert health.startswith("HTTP/1.1 200"), health
        assert sh("test -f /var/lib/coffer/coffer.db && stat -c %U /var/lib/coffer/coffer.db")\
            .strip() == "coffer"

        # A restart keeps the key; a stop is clean.
        key = sh("sha256sum /etc/coffer/root.key")
        sh("systemctl restart coffer")
        assert sh("sha256sum /etc/coffer/root.key") == key
        sh("systemctl stop coffer")
        assert sh("systemctl show -p Result --value coffer").strip() == "success"
        assert sh("systemctl show -p ExecMainStatus --value coffer").strip() == "0"
        assert "INFO  stopped" in sh("journalctl -u coffer --no-pager -o cat")
    finally:
        podman("rm", "-f", name, check=False)
