"""The `coffer kms ...` admin command: create-key, list, describe, enable,
disable, schedule-deletion, cancel-deletion, create-alias; against a stopped
server's data dir and while a server runs on it (SQLite transactions)."""

import os
import re
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, error_of, server_env

ARN_PREFIX = "arn:aws:kms:us-east-1:000000000000:"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CREATE_RE = re.compile(r"^(" + UUID + r")\t(arn:aws:kms:us-east-1:000000000000:key/(" + UUID
                       + r"))\n$")
CREATED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(autouse=True)
def _need_binary():
    if not os.path.exists(COFFER_BIN):
        pytest.skip(f"coffer binary not built: {COFFER_BIN}")


class Store:
    """A data dir and root key file that the admin command works on."""

    def __init__(self, data_dir, root_key):
        self.data_dir = data_dir
        self.root_key = root_key

    def run(self, *args, timeout=60):
        return subprocess.run(
            [COFFER_BIN, "kms", *args, "--data-dir", str(self.data_dir),
             "--root-key-file", str(self.root_key)],
            capture_output=True, text=True, env=server_env(), timeout=timeout)

    def ok(self, *args):
        p = self.run(*args)
        assert p.returncode == 0, f"coffer kms {args} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout

    def create(self, alias=None):
        out = self.ok("create-key", *(["--alias", alias] if alias else []))
        m = CREATE_RE.match(out)
        assert m, repr(out)
        assert m.group(1) == m.group(3)
        return m.group(1), m.group(2)

    def rows(self):
        """list, parsed: id -> fields."""
        out = self.ok("list")
        rows = {}
        for line in out.splitlines():
            f = line.split("\t")
            assert len(f) >= 5, line
            rows[f[0]] = f
        return rows


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "data", tmp_path / "root.key")


def put_kms(c, bucket, key, body, key_ref=None):
    kw = {"SSEKMSKeyId": key_ref} if key_ref is not None else {}
    return c.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms", **kw)


# --------------------------------------------------------------------------
# offline (no server)
# --------------------------------------------------------------------------

def test_create_key_prints_id_and_arn(store):
    kid, arn = store.create()
    assert arn == ARN_PREFIX + "key/" + kid
    kid2, arn2 = store.create()
    assert kid2 != kid
    # the data dir and the root key file were created as for the server
    assert store.root_key.is_file()
    assert store.data_dir.is_dir()


def test_list_columns(store):
    assert store.ok("list") == ""
    kid, arn = store.create(alias="alias/listed")
    kid2, arn2 = store.create()
    rows = store.rows()
    assert set(rows) == {kid, kid2}
    f = rows[kid]
    assert f[1] == "Enabled"
    assert CREATED_RE.match(f[2]), f
    assert f[3] == arn
    assert f[4] == "alias/listed"
    g = rows[kid2]
    assert g[1] == "Enabled" and g[3] == arn2
    assert g[4] == "-", g


def test_create_key_alias_twice_fails(store):
    kid, arn = store.create(alias="alias/a")
    p = store.run("create-key", "--alias", "alias/a")
    assert p.returncode == 1, p
    assert p.stdout == "", p
    assert "alias already exists" in p.stderr
    # no second key was made
    assert set(store.rows()) == {kid}


def test_create_key_alias_must_start_with_alias(store):
    p = store.run("create-key", "--alias", "plainname")
    assert p.returncode == 2, p
    assert store.ok("list") == ""


def test_create_key_with_description(store):
    out = store.ok("create-key", "--description", "for the tests")
    kid = out.split("\t")[0]
    line = store.ok("describe", kid)
    assert line.rstrip("\n").endswith("\tfor the tests"), line


def test_describe_by_every_reference(store):
    kid, arn = store.create(alias="alias/desc")
    lines = {ref: store.ok("describe", ref)
             for ref in (kid, arn, "alias/desc", ARN_PREFIX + "alias/desc")}
    assert len(set(lines.values())) == 1, lines
    f = lines[kid].rstrip("\n").split("\t")
    assert f[0] == kid and f[1] == "Enabled" and f[3] == arn and f[4] == "alias/desc"
    assert CREATED_RE.match(f[2])


@pytest.mark.parametrize("ref", ["00000000-0000-4000-8000-000000000000", "alias/missing",
                                 ARN_PREFIX + "key/00000000-0000-4000-8000-000000000000",
                                 "not a key!"])
def test_describe_unknown_fails(store, ref):
    store.create()
    p = store.run("describe", ref)
    assert p.returncode == 1, p
    assert p.stdout == ""
    assert p.stderr.strip()


def test_describe_does_not_create(store):
    """The admin command never creates keys on lookup (unlike the localstack profile's PUT)."""
    store.run("describe", "alias/nope")
    store.run("disable", "11111111-1111-4111-8111-111111111111")
    assert store.ok("list") == ""


def test_create_alias(store):
    kid, arn = store.create(alias="alias/first")
    out = store.ok("create-alias", "alias/second", kid)
    assert out.split() == ["alias/second", kid]
    f = store.rows()[kid]
    assert set(f[4].split(",")) == {"alias/first", "alias/second"}, f
    assert store.ok("describe", "alias/second") == store.ok("describe", kid)
    # by ARN / alias as the target
    store.ok("create-alias", "alias/third", arn)
    store.ok("create-alias", "alias/fourth", "alias/first")
    for a in ("alias/third", "alias/fourth"):
        assert store.ok("describe", a).split("\t")[0] == kid


def test_create_alias_errors(store):
    kid, _arn = store.create(alias="alias/taken")
    kid2, _arn2 = store.create()
    # the alias already names a key
    p = store.run("create-alias", "alias/taken", kid2)
    assert p.returncode == 1, p
    assert store.ok("describe", "alias/taken").split("\t")[0] == kid
    # not alias/..., or the reserved alias/aws/ prefix
    for bad in ("taken2", "alias/aws/mine"):
        p = store.run("create-alias", bad, kid)
        assert p.returncode == 2, (bad, p)
    # unknown target
    p = store.run("create-alias", "alias/x", "alias/nope")
    assert p.returncode == 1, p
    p = store.run("describe", "alias/x")
    assert p.returncode == 1, p


def test_disable_enable(store):
    kid, arn = store.create(alias="alias/s")
    assert store.ok("disable", "alias/s").split() == [kid, "Disabled"]
    assert store.rows()[kid][1] == "Disabled"
    assert store.ok("describe", kid).split("\t")[1] == "Disabled"
    assert store.ok("enable", arn).split() == [kid, "Enabled"]
    assert store.rows()[kid][1] == "Enabled"


def test_schedule_deletion(store):
    kid, arn = store.create()
    for days in ("3", "6", "31", "0"):
        p = store.run("schedule-deletion", kid, "--days", days)
        assert p.returncode == 2, (days, p)
        assert store.rows()[kid][1] == "Enabled"
    out = store.ok("schedule-deletion", kid, "--days", "7")
    assert out.split() == [kid, "PendingDeletion"]
    f = store.rows()[kid]
    assert f[1] == "PendingDeletion"
    assert any(x.startswith("deletion ") for x in f[5:]), f
    assert store.ok("cancel-deletion", kid).split() == [kid, "Disabled"]
    f = store.rows()[kid]
    assert f[1] == "Disabled"
    assert not any(x.startswith("deletion ") for x in f[5:]), f
    # default window (30 days) and the upper bound
    store.ok("schedule-deletion", kid)
    assert store.rows()[kid][1] == "PendingDeletion"
    store.ok("cancel-deletion", kid)
    store.ok("schedule-deletion", kid, "--days", "30")
    assert store.rows()[kid][1] == "PendingDeletion"


def test_deletion_window_in_days(store):
    import time
    kid, _arn = store.create()
    before = int(time.time())
    store.ok("schedule-deletion", kid, "--days", "10")
    after = int(time.time())
    f = store.rows()[kid]
    when = [int(x.split()[1]) for x in f[5:] if x.startswith("deletion ")]
    assert when and before + 10 * 86400 <= when[0] <= after + 10 * 86400 + 1, f


@pytest.mark.parametrize("args", [["frobnicate"], ["frobnicate", "x"], ["describe"],
                                  ["disable"], ["create-alias", "alias/x"]])
def test_usage_errors_exit_2(store, args):
    p = store.run(*args)
    assert p.returncode == 2, p


def test_no_subcommand_exit_2(store):
    p = subprocess.run([COFFER_BIN, "kms", "--data-dir", str(store.data_dir),
                        "--root-key-file", str(store.root_key)],
                       capture_output=True, text=True, env=server_env(), timeout=60)
    assert p.returncode == 2, p


def test_keys_survive_and_server_uses_them(store, coffer_factory, tmp_path):
    """Keys made offline are there when a server starts on that data dir."""
    kid, arn = store.create(alias="alias/offline")
    srv = coffer_factory(data_dir=store.data_dir, root_key=store.root_key,
                         env={"S3_SKIP_KMS_KEY_VALIDATION": "0"})
    c = srv.client()
    c.create_bucket(Bucket="offline")
    p = put_kms(c, "offline", "k", b"made offline", key_ref="alias/offline")
    assert p["SSEKMSKeyId"] == arn
    assert c.get_object(Bucket="offline", Key="k")["Body"].read() == b"made offline"


def test_material_not_stored_in_clear(store):
    """KMS key material is wrapped by the root key: the ids are in the DB, the root key is not."""
    store.create(alias="alias/m")
    rk = store.root_key.read_bytes()
    hexes = re.findall(rb"[0-9a-f]{64}", rk)
    assert hexes, "root key file has no hex key line"
    for p in store.data_dir.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for h in hexes:
                assert h not in data, p
                assert bytes.fromhex(h.decode()) not in data, p


# --------------------------------------------------------------------------
# while the server runs
# --------------------------------------------------------------------------

@pytest.fixture
def live(coffer_factory):
    srv = coffer_factory()
    srv.client().create_bucket(Bucket="live")
    return srv, Store(srv.data_dir, srv.root_key)


def test_create_alias_used_by_put(live):
    srv, st = live
    c = srv.client()
    kid, arn = st.create()
    st.ok("create-alias", "alias/b", kid)
    p = put_kms(c, "live", "k", b"via alias/b", key_ref="alias/b")
    assert p["SSEKMSKeyId"] == arn
    assert p["ResponseMetadata"]["HTTPHeaders"]["x-amz-server-side-encryption-aws-kms-key-id"] \
        == arn
    g = c.get_object(Bucket="live", Key="k")
    assert g["Body"].read() == b"via alias/b"
    assert g["SSEKMSKeyId"] == arn
    assert put_kms(c, "live", "k2", b"x", key_ref=ARN_PREFIX + "alias/b")["SSEKMSKeyId"] == arn


def test_keys_created_by_server_are_listed(live):
    srv, st = live
    c = srv.client()
    kid = str(uuid.uuid4())
    put_kms(c, "live", "a", b"a", key_ref=kid)                  # created on first use
    arn_default = put_kms(c, "live", "b", b"b")["SSEKMSKeyId"]  # the account's aws/s3 key
    arn_alias = put_kms(c, "live", "c", b"c", key_ref="alias/by-server")["SSEKMSKeyId"]
    rows = st.rows()
    assert rows[kid][3] == ARN_PREFIX + "key/" + kid
    by_arn = {f[3]: f for f in rows.values()}
    assert by_arn[arn_default][4] == "alias/aws/s3"
    assert by_arn[arn_alias][4] == "alias/by-server"
    assert all(f[1] == "Enabled" for f in rows.values())
    assert st.ok("describe", "alias/aws/s3").split("\t")[3] == arn_default


def test_alias_clash_with_server_created(live):
    """create-key --alias for an alias the server already created on first use fails."""
    srv, st = live
    put_kms(srv.client(), "live", "k", b"x", key_ref="alias/clash")
    p = st.run("create-key", "--alias", "alias/clash")
    assert p.returncode == 1, p


def test_state_changes_visible_immediately(live):
    srv, st = live
    c = srv.client()
    kid, arn = st.create(alias="alias/flip")
    put_kms(c, "live", "k", b"flip", key_ref=kid)
    for _ in range(3):
        st.ok("disable", kid)
        with pytest.raises(ClientError) as ei:
            c.get_object(Bucket="live", Key="k")
        assert error_of(ei) == (400, "KMS.DisabledException")
        st.ok("enable", kid)
        assert c.get_object(Bucket="live", Key="k")["Body"].read() == b"flip"


def test_admin_concurrent_with_traffic(live):
    """Many admin commands while the server serves KMS writes: no errors either side."""
    srv, st = live
    c = srv.client()
    kid, arn = st.create(alias="alias/busy")
    procs = [subprocess.Popen(
        [COFFER_BIN, "kms", "create-key", "--data-dir", str(st.data_dir),
         "--root-key-file", str(st.root_key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server_env())
        for _ in range(8)]
    for i in range(40):
        assert put_kms(c, "live", f"k{i}", str(i).encode(), key_ref="alias/busy")["SSEKMSKeyId"] \
            == arn
    ids = set()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        m = CREATE_RE.match(out)
        assert m, out
        ids.add(m.group(1))
    assert len(ids) == 8
    rows = st.rows()
    assert ids <= set(rows)
    for i in range(40):
        assert c.get_object(Bucket="live", Key=f"k{i}")["Body"].read() == str(i).encode()
