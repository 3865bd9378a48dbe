"""Injected I/O faults at every step (issue 14, item 5).

The server runs under the test-only LD_PRELOAD shim tests/fault/libcoffer_fault.so
(faultshim.py). For each operation class the test first counts the file system calls one run
of it makes, per call class (write, sync, rename, mkdir, unlink, trunc, create: see
tests/fault/faultctl.h), then sweeps N over those calls with each error kind (ENOSPC and EIO
everywhere, plus a short write followed by ENOSPC for writes), and at every point asserts:

- the request either fails with 500 InternalError, or succeeds (a fault the server can get past,
  such as a failed unlink of a replaced blob after the commit);
- a failure's log names the failing file and the strerror text, never a bare errno;
- the server keeps serving (a PUT and GET of a probe object work right after);
- nothing acknowledged is lost (every earlier object reads back byte-exact);
- no partial state is visible: HEAD, GET and List show the old state or the new one;
- tmp/ holds no leftover body;
- after a restart `coffer fsck --dry-run` is clean (0 damaged, 0 unreferenced).

By default every call is faulted once: every N of every class, with ENOSPC and with EIO for the
classes other than write, while for writes (the most numerous) the three kinds take turns along
N; fsck runs after each operation's sweep. COFFER_FAULT_FULL=1 sweeps every N with every kind
and restarts and runs fsck after every single point (about ten times as long). The disk-full
case runs on a real small tmpfs when the test can mount one (root), else through the shim.
The AddressSanitizer pass skips everything that preloads the shim (the reason is printed): the
shim would be loaded ahead of the sanitizer runtime, which ASan refuses, and the sweep is slow
there. The tmpfs disk-full case runs in both passes."""

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ASAN, COFFER_BIN, CofferServer, make_s3, server_env
from faultshim import CLASSES, STRERROR, FaultCtl, shim_path

FULL = os.environ.get("COFFER_FAULT_FULL") == "1"

# Everything that preloads the shim; the tmpfs disk-full case runs under ASan too.
needs_shim = pytest.mark.skipif(
    ASAN, reason="fault sweep: not under ASan (the LD_PRELOAD shim must precede the ASan "
                 "runtime, and the sweep is slow there); it runs in the normal pass")

KINDS = {c: ("ENOSPC", "EIO", "short") if c == "write" else ("ENOSPC", "EIO") for c in CLASSES}
ERRNO_RE = re.compile(r"errno \d+")


def body(n, tag):
    seed = (tag * 64).encode()[:64]
    return (seed * (n // 64 + 1))[:n]


def error_code(e):
    return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]


# --------------------------------------------------------------------------
# the rig: one server under the shim, and what it has acknowledged
# --------------------------------------------------------------------------

class Rig:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.d = self.workdir / "d"
        self.d.mkdir(parents=True, exist_ok=True)
        self.ctl = FaultCtl(self.workdir / "fault.ctl", str(self.d) + "/")
        self.srv = CofferServer(self.workdir, data_dir=self.d / "data",
                                root_key=self.d / "root.key", env=self.ctl.env())
        self.acked = {}          # (bucket, key) -> bytes
        self.acked_versions = {}  # (bucket, key, version id) -> bytes
        self.points = 0
        self.fired_points = 0
        self.failed_requests = 0
        self.survived = 0
        self.seq = 0
        self.log_problems = []  # collected per operation, asserted at its end
        self.unlogged = set()    # faults survived without a log line (see check_log)

    def start(self):
        self.srv.start()
        self.c = make_s3(f"http://127.0.0.1:{self.srv.port}")

    def name(self, prefix):
        self.seq += 1
        return f"{prefix}-{self.seq}"

    # -- log ------------------------------------------------------------------
    def log_mark(self):
        return self.srv.stderr_path.stat().st_size

    def log_since(self, mark):
        with open(self.srv.stderr_path, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    # -- invariants -------------------------------------------------------------
    def check_acked(self):
        for (b, k), data in self.acked.items():
            got = self.c.get_object(Bucket=b, Key=k)["Body"].read()
            assert got == data, f"acknowledged s3://{b}/{k} changed"
        for (b, k, v), data in self.acked_versions.items():
            got = self.c.get_object(Bucket=b, Key=k, VersionId=v)["Body"].read()
            assert got == data, f"acknowledged s3://{b}/{k}?versionId={v} changed"

    def probe(self):
        data = os.urandom(300)
        self.c.put_object(Bucket="fault-plain", Key="probe", Body=data)
        assert self.c.get_object(Bucket="fault-plain", Key="probe")["Body"].read() == data

    def tmp_leftovers(self):
        return sorted(p.name for p in (self.d / "data" / "tmp").iterdir())

    def fsck(self):
        """Restart (draining the unlink queue), stop, fsck offline, start again."""
        self.srv.restart()
        self.srv.stop()
        p = subprocess.run(
            [COFFER_BIN, "fsck", "--dry-run", "--data-dir", str(self.d / "data"),
             "--root-key-file", str(self.d / "root.key")],
            capture_output=True, text=True, env=server_env(), timeout=120)
        self.start()
        assert p.returncode == 0, f"fsck exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        m = re.search(r"(\d+) damaged, (\d+) unreferenced blobs", p.stdout)
        assert m and m.group(1) == "0" and m.group(2) == "0", p.stdout + p.stderr
        return p.stdout


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    if not os.path.exists(shim_path()):
        pytest.fail(f"fault shim not built: {shim_path()} (meson builds tests/fault)")
    r = Rig(tmp_path_factory.mktemp("faults"))
    r.start()
    r.c.create_bucket(Bucket="fault-plain")
    r.c.create_bucket(Bucket="fault-versioned")
    r.c.put_bucket_versioning(Bucket="fault-versioned",
                              VersioningConfiguration={"Status": "Enabled"})
    for key, n in (("small", 100), ("seg", 65536), ("big", 200_000)):
        data = body(n, key)
        r.c.put_object(Bucket="fault-plain", Key=key, Body=data)
        r.acked["fault-plain", key] = data
    data = body(70_000, "v1")
    v = r.c.put_object(Bucket="fault-versioned", Key="doc", Body=data)["VersionId"]
    r.acked_versions["fault-versioned", "doc", v] = data
    yield r
    r.ctl.disarm_all()
    print(f"\nfault points: {r.points} armed, {r.fired_points} hit, "
          f"{r.failed_requests} failed cleanly, {r.survived} survived with success; "
          f"survived unlogged: {sorted(r.unlogged)}")
    r.srv.stop()


# --------------------------------------------------------------------------
# operation classes: prepare (no faults), run (under a fault), check (old or new state)
# --------------------------------------------------------------------------

class Op:
    """prepare() -> ctx; run(ctx) raises ClientError on failure; check(ctx, ok) asserts that
    the state is the new one (ok) or the old one, or either where a failure may come after the
    commit; cleanup(ctx) tidies without faults."""
    name = "?"

    def __init__(self, rig):
        self.r = rig

    @property
    def c(self):
        return self.r.c  # a restart gives a new port

    def prepare(self):
        return {}

    def cleanup(self, ctx):
        pass

    def either(self, ctx):
        """Which state is visible: 'old' or 'new' (asserting it is one of them)."""
        raise NotImplementedError


def object_state(c, bucket, key, old, new):
    """'old' (None: absent) or 'new' for s3://bucket/key, by HEAD, GET and List together."""
    try:
        head = c.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        assert error_code(e)[0] == 404, e.response
        head = None
    listed = {o["Key"]: o for o in c.list_objects_v2(Bucket=bucket, Prefix=key)
              .get("Contents", []) if o["Key"] == key}
    if head is None:
        assert key not in listed, f"{key}: listed but HEAD says absent"
        assert old is None, f"{key}: gone, but it was neither deleted nor new"
        return "old"
    got = c.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert head["ContentLength"] == len(got)
    assert listed.get(key, {}).get("Size") == len(got), f"{key}: List and GET disagree"
    assert listed[key]["ETag"] == head["ETag"]
    if old is not None and got == old:
        return "old"
    assert new is not None and got == new, f"{key}: neither old nor new bytes ({len(got)})"
    return "new"


class PutNew(Op):
    name = "put-new"

    def prepare(self):
        return {"key": self.r.name("new"), "data": body(150_000, self.r.name("d"))}

    def run(self, ctx):
        self.c.put_object(Bucket="fault-plain", Key=ctx["key"], Body=ctx["data"])

    def either(self, ctx):
        return object_state(self.c, "fault-plain", ctx["key"], None, ctx["data"])

    def cleanup(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


class PutOverwrite(Op):
    name = "put-overwrite"

    def prepare(self):
        key = self.r.name("ow")
        old = body(80_000, key + "old")
        self.c.put_object(Bucket="fault-plain", Key=key, Body=old)
        return {"key": key, "old": old, "data": body(90_000, key + "new")}

    def run(self, ctx):
        self.c.put_object(Bucket="fault-plain", Key=ctx["key"], Body=ctx["data"])

    def either(self, ctx):
        return object_state(self.c, "fault-plain", ctx["key"], ctx["old"], ctx["data"])

    def cleanup(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


def uploads_of(c, key):
    ups = c.list_multipart_uploads(Bucket="fault-plain", Prefix=key).get("Uploads", [])
    return [u["UploadId"] for u in ups if u["Key"] == key]


class MpuCreate(Op):
    name = "multipart-create"

    def prepare(self):
        return {"key": self.r.name("mc")}

    def run(self, ctx):
        ctx["upload"] = self.c.create_multipart_upload(
            Bucket="fault-plain", Key=ctx["key"])["UploadId"]

    def either(self, ctx):
        ups = uploads_of(self.c, ctx["key"])
        assert len(ups) <= 1
        return "new" if ups else "old"

    def cleanup(self, ctx):
        for u in uploads_of(self.c, ctx["key"]):
            self.c.abort_multipart_upload(Bucket="fault-plain", Key=ctx["key"], UploadId=u)


class MpuPart(Op):
    name = "multipart-upload-part"

    def prepare(self):
        key = self.r.name("mp")
        up = self.c.create_multipart_upload(Bucket="fault-plain", Key=key)["UploadId"]
        return {"key": key, "upload": up, "data": body(100_000, key)}

    def run(self, ctx):
        self.c.upload_part(Bucket="fault-plain", Key=ctx["key"], UploadId=ctx["upload"],
                           PartNumber=1, Body=ctx["data"])

    def either(self, ctx):
        parts = self.c.list_parts(Bucket="fault-plain", Key=ctx["key"],
                                  UploadId=ctx["upload"]).get("Parts", [])
        if not parts:
            return "old"
        assert len(parts) == 1 and parts[0]["Size"] == len(ctx["data"]), parts
        # The listed part is whole: completing with it gives the bytes back.
        self.c.complete_multipart_upload(
            Bucket="fault-plain", Key=ctx["key"], UploadId=ctx["upload"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"]}]})
        got = self.c.get_object(Bucket="fault-plain", Key=ctx["key"])["Body"].read()
        assert got == ctx["data"]
        return "new"

    def cleanup(self, ctx):
        for u in uploads_of(self.c, ctx["key"]):
            self.c.abort_multipart_upload(Bucket="fault-plain", Key=ctx["key"], UploadId=u)
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


class MpuComplete(Op):
    name = "multipart-complete"

    def prepare(self):
        key = self.r.name("mx")
        up = self.c.create_multipart_upload(Bucket="fault-plain", Key=key)["UploadId"]
        data = body(100_000, key)
        etag = self.c.upload_part(Bucket="fault-plain", Key=key, UploadId=up, PartNumber=1,
                                  Body=data)["ETag"]
        return {"key": key, "upload": up, "data": data, "etag": etag}

    def run(self, ctx):
        self.c.complete_multipart_upload(
            Bucket="fault-plain", Key=ctx["key"], UploadId=ctx["upload"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": ctx["etag"]}]})

    def either(self, ctx):
        state = object_state(self.c, "fault-plain", ctx["key"], None, ctx["data"])
        ups = uploads_of(self.c, ctx["key"])
        if state == "old":
            # The upload is intact: completing it again (no fault) works.
            assert ups == [ctx["upload"]], ups
            self.run(ctx)
            assert object_state(self.c, "fault-plain", ctx["key"], None, ctx["data"]) == "new"
        else:
            assert ups == [], ups
        return state

    def cleanup(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


class MpuAbort(Op):
    name = "multipart-abort"

    def prepare(self):
        ctx = MpuComplete.prepare(self)
        return ctx

    def run(self, ctx):
        self.c.abort_multipart_upload(Bucket="fault-plain", Key=ctx["key"],
                                      UploadId=ctx["upload"])

    def either(self, ctx):
        ups = uploads_of(self.c, ctx["key"])
        if not ups:
            return "new"
        parts = self.c.list_parts(Bucket="fault-plain", Key=ctx["key"],
                                  UploadId=ctx["upload"]).get("Parts", [])
        assert [p["ETag"] for p in parts] == [ctx["etag"]], parts
        return "old"

    def cleanup(self, ctx):
        for u in uploads_of(self.c, ctx["key"]):
            self.c.abort_multipart_upload(Bucket="fault-plain", Key=ctx["key"], UploadId=u)


class Copy(Op):
    name = "copy"

    def prepare(self):
        return {"key": self.r.name("cp")}

    def run(self, ctx):
        self.c.copy_object(Bucket="fault-plain", Key=ctx["key"],
                           CopySource={"Bucket": "fault-plain", "Key": "big"})

    def either(self, ctx):
        return object_state(self.c, "fault-plain", ctx["key"], None,
                            self.r.acked["fault-plain", "big"])

    def cleanup(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


class Delete(Op):
    name = "delete"

    def prepare(self):
        key = self.r.name("del")
        data = body(70_000, key)
        self.c.put_object(Bucket="fault-plain", Key=key, Body=data)
        return {"key": key, "data": data}

    def run(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])

    def either(self, ctx):
        return object_state_del(self.c, ctx["key"], ctx["data"])

    def cleanup(self, ctx):
        self.c.delete_object(Bucket="fault-plain", Key=ctx["key"])


def object_state_del(c, key, data):
    """'new' (deleted) or 'old' (intact) for a key being deleted; List agrees with GET."""
    listed = [o["Key"] for o in c.list_objects_v2(Bucket="fault-plain", Prefix=key)
              .get("Contents", []) if o["Key"] == key]
    try:
        got = c.get_object(Bucket="fault-plain", Key=key)["Body"].read()
    except ClientError as e:
        assert error_code(e) == (404, "NoSuchKey"), e.response
        assert not listed, f"{key}: listed but GET says absent"
        return "new"
    assert got == data and listed == [key]
    return "old"


class DeleteObjects(Op):
    """DeleteObjects reports per key: a key in Errors must be intact, one in Deleted gone."""
    name = "delete-objects"

    def prepare(self):
        keys = {}
        for _ in range(3):
            k = self.r.name("dm")
            keys[k] = body(5_000, k)
            self.c.put_object(Bucket="fault-plain", Key=k, Body=keys[k])
        return {"keys": keys}

    def run(self, ctx):
        out = self.c.delete_objects(Bucket="fault-plain", Delete={
            "Objects": [{"Key": k} for k in ctx["keys"]]})
        ctx["deleted"] = {d["Key"] for d in out.get("Deleted", [])}
        ctx["errors"] = {e["Key"]: e["Code"] for e in out.get("Errors", [])}
        if ctx["errors"]:
            assert set(ctx["errors"].values()) == {"InternalError"}, ctx["errors"]
            raise ClientError({"Error": {"Code": "InternalError", "Message": "per key"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "DeleteObjects")

    def either(self, ctx):
        states = {k: object_state_del(self.c, k, d) for k, d in ctx["keys"].items()}
        for k in ctx.get("deleted", ()):
            assert states[k] == "new", f"{k} reported deleted but still there"
        for k in ctx.get("errors", ()):
            assert states[k] == "old", f"{k} reported failed but gone"
        return "new" if all(s == "new" for s in states.values()) else "old"

    def cleanup(self, ctx):
        for k in ctx["keys"]:
            self.c.delete_object(Bucket="fault-plain", Key=k)


class VersionedPut(Op):
    name = "versioned-put"

    def prepare(self):
        versions = self.c.list_object_versions(Bucket="fault-versioned", Prefix="doc")
        return {"before": {v["VersionId"] for v in versions.get("Versions", [])},
                "data": body(70_000, self.r.name("vd"))}

    def run(self, ctx):
        ctx["vid"] = self.c.put_object(Bucket="fault-versioned", Key="doc",
                                       Body=ctx["data"])["VersionId"]

    def either(self, ctx):
        versions = self.c.list_object_versions(Bucket="fault-versioned", Prefix="doc")
        now = {v["VersionId"]: v for v in versions.get("Versions", [])}
        assert ctx["before"] <= set(now), "a version vanished"
        added = set(now) - ctx["before"]
        assert len(added) <= 1, added
        if not added:
            return "old"
        (vid,) = added
        assert now[vid]["IsLatest"] and now[vid]["Size"] == len(ctx["data"])
        got = self.c.get_object(Bucket="fault-versioned", Key="doc")["Body"].read()
        assert got == ctx["data"]
        # Acknowledged or not, a complete visible version is kept as acknowledged from now on.
        self.r.acked_versions["fault-versioned", "doc", vid] = ctx["data"]
        return "new"


class Tagging(Op):
    name = "tagging"

    def prepare(self):
        old = self.c.get_object_tagging(Bucket="fault-plain", Key="seg")["TagSet"]
        return {"old": old, "new": [{"Key": "n", "Value": self.r.name("t")}]}

    def run(self, ctx):
        self.c.put_object_tagging(Bucket="fault-plain", Key="seg",
                                  Tagging={"TagSet": ctx["new"]})

    def either(self, ctx):
        now = self.c.get_object_tagging(Bucket="fault-plain", Key="seg")["TagSet"]
        if now == ctx["old"]:
            return "old"
        assert now == ctx["new"], now
        return "new"


OPS = [PutNew, PutOverwrite, MpuCreate, MpuPart, MpuComplete, MpuAbort, Copy, Delete,
       DeleteObjects, VersionedPut, Tagging]


# --------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------

def settle():
    """Lets background work of the previous step (the unlink queue) finish."""
    time.sleep(0.02)


def count_calls(rig, op):
    ctx = op.prepare()
    settle()
    before = rig.ctl.counts()
    op.run(ctx)
    settle()
    after = rig.ctl.counts()
    assert op.either(ctx) == "new"
    op.cleanup(ctx)
    return {c: after[c] - before[c] for c in CLASSES}


def log_names_fault(log, path, kind):
    """The log has a line naming the failing file and the strerror text."""
    name = os.path.basename(path)
    # SQLite's own files are named by the database they belong to.
    names = {name, re.sub(r"-(wal|shm|journal)$", "", name)}
    for line in log.splitlines():
        if STRERROR[kind] in line and any(n and n in line for n in names):
            return True
    return False


def check_log(rig, where, log, cls, kind, succeeded):
    """Records a problem unless the log names the faulted file with the strerror text. The one
    fault allowed to pass unlogged: SQLite's fsync of the data directory after it creates its WAL
    file, whose failure SQLite ignores by design (the request then succeeds)."""
    path = rig.ctl.last_path()
    if succeeded and cls == "sync" and Path(path) == rig.d / "data":
        rig.unlogged.add(f"{cls} {path}")
        return
    if not log_names_fault(log, path, kind):
        rig.log_problems.append(
            f"{where}: log does not name {path} with {STRERROR[kind]!r}:\n{log[-1500:]}")
    if ERRNO_RE.search(log):
        rig.log_problems.append(f"{where}: bare errno in the log:\n{log[-1500:]}")


def one_point(rig, op, cls, n, kind):
    ctx = op.prepare()
    settle()
    mark = rig.log_mark()
    fired0 = rig.ctl.fired(cls)
    rig.ctl.arm(cls, n, kind)
    err = None
    try:
        op.run(ctx)
    except ClientError as e:
        err = e
    rig.ctl.disarm(cls)
    fired = rig.ctl.fired(cls) - fired0
    where = f"{op.name}: {cls} #{n} {kind}"
    rig.points += 1
    if fired:
        rig.fired_points += 1
    log = rig.log_since(mark)
    if err is not None:
        assert fired, f"{where}: failed without a fault: {err.response}"
        assert error_code(err) == (500, "InternalError"), f"{where}: {err.response}"
        rig.failed_requests += 1
    elif fired:
        rig.survived += 1
    if fired:
        check_log(rig, where, log, cls, kind, err is None)
    # The server keeps serving, nothing acknowledged is lost, no partial state is visible.
    rig.probe()
    rig.check_acked()
    state = op.either(ctx)
    if err is None:
        assert state == "new", f"{where}: succeeded but the old state is visible"
    else:
        assert state == "old", f"{where}: failed but the new state is visible"
    assert rig.tmp_leftovers() == [], f"{where}: tmp/ not emptied: {rig.tmp_leftovers()}"
    op.cleanup(ctx)
    return fired


def points(counts):
    """(class, N, kind) to sweep. Full: every N with every kind. Default: every N of every class;
    ENOSPC and EIO each at every N of the classes other than write, and for writes (the most
    numerous: one per 64 KiB segment and per WAL frame) the three kinds take turns along N."""
    for cls in CLASSES:
        kinds = KINDS[cls]
        for n in range(1, counts[cls] + 1):
            if FULL or cls != "write":
                yield from ((cls, n, k) for k in kinds)
            else:
                yield cls, n, kinds[(n - 1) % len(kinds)]


def sweep(rig, op_cls):
    op = op_cls(rig)
    counts = count_calls(rig, op)
    todo = list(points(counts))
    print(f"\n{op.name}: calls {counts}, {len(todo)} fault points")
    for cls, n, kind in todo:
        one_point(rig, op, cls, n, kind)
        if FULL:
            rig.fsck()
    rig.fsck()
    return counts


@needs_shim
@pytest.mark.parametrize("op_cls", OPS, ids=[o.name for o in OPS])
def test_fault_sweep(rig, op_cls):
    rig.log_problems.clear()
    counts = sweep(rig, op_cls)
    assert sum(counts.values()) > 0
    assert not rig.log_problems, f"{len(rig.log_problems)} points:\n" + "\n".join(
        [p.split("\n", 1)[0] for p in rig.log_problems] + rig.log_problems[:3])


class PutLarge(PutNew):
    """A 6 MiB body: with durability full its blob is flushed by a helper thread while it still
    arrives (storage/blob.c, every 4 MiB), so its sync calls include that background flush."""
    name = "put-large"

    def prepare(self):
        return {"key": self.r.name("big"), "data": body(6 * 1024 * 1024, self.r.name("d"))}


@needs_shim
def test_fault_sweep_large_put_syncs(rig):
    """Each sync call of a large PUT, the background flush first, fails in turn with ENOSPC and
    EIO: the PUT answers 500 with nothing published (a failed background flush is reported by
    the commit: the kernel tells only one fdatasync per open file of a writeback error), the log
    names the file, and nothing acknowledged is lost."""
    rig.log_problems.clear()
    op = PutLarge(rig)
    counts = count_calls(rig, op)
    assert counts["sync"] >= 4, counts  # background flush, blob, its directory, the WAL
    failed0 = rig.failed_requests
    for n in range(1, counts["sync"] + 1):
        for kind in KINDS["sync"]:
            one_point(rig, op, "sync", n, kind)
    assert rig.failed_requests - failed0 >= 4  # at least the flushes of the blob, both kinds
    assert not rig.log_problems, "\n".join(rig.log_problems[:3])
    rig.fsck()


# --------------------------------------------------------------------------
# key rotation: `coffer keys rotate` next to the running server
# --------------------------------------------------------------------------

def keys_cmd(rig, *args, env=None):
    return subprocess.run(
        [COFFER_BIN, "keys", *args, "--data-dir", str(rig.d / "data"),
         "--root-key-file", str(rig.d / "root.key")],
        capture_output=True, text=True, env=server_env(env), timeout=120)


def key_dir_leftovers(rig):
    return sorted(p.name for p in rig.d.iterdir() if p.name not in ("data", "root.key"))


@needs_shim
def test_fault_sweep_key_rotation(rig):
    """Each rotation either completes or fails with exit status 1 and a log line naming the file
    and strerror; the server keeps reading every object; `coffer keys rewrap` (no fault) then
    finishes any half-done rotation; no temporary key file is left; fsck is clean."""
    rig.log_problems.clear()
    settle()
    before = rig.ctl.counts()
    p = keys_cmd(rig, "rotate", env=rig.ctl.env())
    after = rig.ctl.counts()
    assert p.returncode == 0, p.stdout + p.stderr
    counts = {c: after[c] - before[c] for c in CLASSES}
    todo = list(points(counts))
    print(f"\nkey-rotation: calls {counts}, {len(todo)} fault points")
    for cls, n, kind in todo:
        where = f"key-rotation: {cls} #{n} {kind}"
        fired0 = rig.ctl.fired(cls)
        rig.ctl.arm(cls, n, kind)
        p = keys_cmd(rig, "rotate", env=rig.ctl.env())
        rig.ctl.disarm(cls)
        fired = rig.ctl.fired(cls) - fired0
        rig.points += 1
        rig.fired_points += bool(fired)
        if p.returncode != 0:
            assert fired, f"{where}: failed without a fault:\n{p.stderr}"
            assert p.returncode in (1, 2), f"{where}: exit {p.returncode}\n{p.stderr}"
            rig.failed_requests += 1
        elif fired:
            rig.survived += 1
        if fired:
            check_log(rig, where, p.stderr, cls, kind, p.returncode == 0)
        try:
            rig.check_acked()  # the server reloads the keyring it finds
        except ClientError as e:
            pytest.fail(f"{where} (rotate exit {p.returncode}): then {e}\n{p.stderr[-3000:]}\n"
                        f"server log:\n{rig.srv.logs(3000)}")
        assert key_dir_leftovers(rig) == [], f"{where}: left {key_dir_leftovers(rig)}"
        if p.returncode != 0:
            r = keys_cmd(rig, "rewrap")
            assert r.returncode == 0, f"{where}: rewrap after it: {r.stdout}{r.stderr}"
        if FULL:
            rig.fsck()
    rig.fsck()
    assert not rig.log_problems, f"{len(rig.log_problems)} points:\n" + "\n".join(
        [p.split("\n", 1)[0] for p in rig.log_problems] + rig.log_problems[:3])


# --------------------------------------------------------------------------
# disk full: a real small file system (tmpfs, as root), else the shim's sticky ENOSPC
# --------------------------------------------------------------------------

def mount_tmpfs(path, size):
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                        str(path)], capture_output=True, text=True)
    return p.returncode == 0


def fsck_offline(data_dir, root_key):
    p = subprocess.run([COFFER_BIN, "fsck", "--dry-run", "--data-dir", str(data_dir),
                        "--root-key-file", str(root_key)],
                       capture_output=True, text=True, env=server_env(), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r" 0 damaged, 0 unreferenced blobs", p.stdout), p.stdout
    return p.stdout


@pytest.mark.parametrize("medium", ["tmpfs", pytest.param("shim", marks=needs_shim)])
def test_disk_full(tmp_path, medium):
    """Fill the data dir's file system with PUTs: each refused PUT is 500 InternalError, the log
    says "No space left on device" with the file, nothing acknowledged is lost, no refused object
    is visible, reads go on; once space is freed writes work again, and fsck is clean."""
    d = tmp_path / "d"
    d.mkdir()
    ctl = FaultCtl(tmp_path / "fault.ctl", str(d) + "/")
    mounted = False
    if medium == "tmpfs":
        mounted = mount_tmpfs(d, "8m")
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root); the shim variant covers disk full")
    srv = CofferServer(tmp_path, data_dir=d / "data", root_key=tmp_path / "root.key",
                       env=ctl.env() if medium == "shim" else None)
    try:
        srv.start()
        c = make_s3(f"http://127.0.0.1:{srv.port}")
        c.create_bucket(Bucket="full")
        acked = {}
        for i in range(3):
            acked[f"pre-{i}"] = os.urandom(100_000)
            c.put_object(Bucket="full", Key=f"pre-{i}", Body=acked[f"pre-{i}"])
        ballast = d / "ballast"
        if mounted:
            ballast.write_bytes(b"\0" * (1 << 20))
        else:
            ctl.arm("write", 1, "short", repeat=1 << 40)  # from now on the disk is full
        mark = srv.stderr_path.stat().st_size
        refused = []
        for i in range(200):
            key, data = f"fill-{i}", os.urandom(256 * 1024)
            try:
                c.put_object(Bucket="full", Key=key, Body=data)
                acked[key] = data
            except ClientError as e:
                assert error_code(e) == (500, "InternalError"), e.response
                refused.append(key)
                if len(refused) >= 3:
                    break
        assert len(refused) >= 3, "the file system never filled up"
        log = srv.stderr_path.read_bytes()[mark:].decode(errors="replace")
        assert "No space left on device" in log, log[-3000:]
        assert any("No space left on device" in line and str(d) in line
                   for line in log.splitlines()), log[-3000:]
        assert not ERRNO_RE.search(log), log[-3000:]
        # Reads go on; nothing acknowledged is lost; nothing refused is visible.
        for key, data in acked.items():
            assert c.get_object(Bucket="full", Key=key)["Body"].read() == data, key
        listed = {o["Key"] for o in c.list_objects_v2(Bucket="full").get("Contents", [])}
        assert listed == set(acked)
        for key in refused:
            with pytest.raises(ClientError) as ei:
                c.head_object(Bucket="full", Key=key)
            assert error_code(ei.value)[0] == 404
        assert sorted((d / "data" / "tmp").iterdir()) == []
        # Space comes back: writes work again.
        if mounted:
            ballast.unlink()
        ctl.disarm_all()
        data = os.urandom(200_000)
        c.put_object(Bucket="full", Key="after", Body=data)
        assert c.get_object(Bucket="full", Key="after")["Body"].read() == data
        srv.stop()
        fsck_offline(d / "data", tmp_path / "root.key")
        srv.start()
        c = make_s3(f"http://127.0.0.1:{srv.port}")
        for key, want in acked.items():
            assert c.get_object(Bucket="full", Key=key)["Body"].read() == want, key
        srv.stop()
    finally:
        srv.kill()
        if mounted:
            subprocess.run(["umount", "-l", str(d)], capture_output=True)
