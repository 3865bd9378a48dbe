"""Crash campaign harness: kill -9 a real coffer under concurrent mixed load, restart it, and
check that every acknowledged write survived exactly.

One campaign is a loop of cycles on one data dir:

    start coffer -> verify every key against the model -> mixed load (workers, key rotation,
    KMS key creation) -> kill -9 at a random moment -> coffer fsck (must be clean) -> start ...

The model: each worker thread owns its keys (prefix w<N>/), so the operations on one key are
sequential and at most one of them is in flight when the server dies. A write whose 2xx
response arrived is *acknowledged*: after the restart its effect must be there exactly (bytes
by SHA-256, size, ETag, user metadata, tags, version ids, deletions). A write in flight at the
kill (no response, or a connection error) may have happened or not, but nothing in between:
the key must read as its old state or as its new state.

Some cycles also kill `coffer keys rotate` (with the server) or `coffer fsck` (after the
server) part-way, and some kill the server during its start-up; afterwards everything must
still be readable and fsck clean.
"""

import collections
import dataclasses
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

SEG = 65536  # crypto/aead.h CRY_SEG_SIZE: plaintext bytes per AES-GCM segment
MIB = 1024 * 1024
MIN_PART = 5 * MIB  # every multipart part but the last (AWS, ops/multipart.c)

# PUT sizes around the segment boundaries (and 0 bytes), plus a random one now and then.
# 4096, INLINE_MAX and one past it: bodies up to coffer's default --inline-max are stored inline
# in coffer.db (in the object row's transaction), the others as blob files.
INLINE_MAX = 16384
BOUNDARY_SIZES = [0, 1, 4096, INLINE_MAX, INLINE_MAX + 1, SEG - 1, SEG, SEG + 1, 2 * SEG - 1,
                  2 * SEG, 2 * SEG + 1, 3 * SEG, 4 * SEG + 1, 16 * SEG - 1, 16 * SEG,
                  16 * SEG + 1]
PART_SIZES = [MIN_PART, MIN_PART + 1, MIN_PART + SEG - 1, MIN_PART + SEG]
LAST_PART_SIZES = [1, SEG - 1, SEG, SEG + 1, 3 * SEG + 7]

PLAIN = "crash-plain"      # an unversioned bucket
VERSIONED = "crash-ver"    # a versioned bucket
PLAIN_KEYS = 6             # per worker
VERSIONED_KEYS = 3         # per worker
MAX_VERSIONS = 4           # per versioned key; older ones are deleted by version id
MAX_MP_VERSIONS = 2        # per versioned multipart key (they are 5 MiB and more)
SAMPLE_UNTOUCHED = 0.15    # share of the keys not written in a cycle read back after it
FULL_CHECK_EVERY = 20      # cycles; then every key is read back
SSEC_KEY = bytes(range(32))
READY_TIMEOUT = 30.0


def sha(b):
    return hashlib.sha256(b).hexdigest()


def gen_bytes(seed, n):
    return random.Random(seed).randbytes(n)


def clean_env():
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Obj:
    """An object (or one version of it) as the client expects it. None fields are not known
    yet (an in-flight write's ETag or version id) and match anything; observation fills them."""
    size: int
    sha: str
    sse: str                 # "AES256", "aws:kms" or "C" (SSE-C, with SSEC_KEY)
    meta: tuple = ()         # sorted (name, value) user metadata
    tags: tuple = ()         # sorted (key, value)
    etag: str = None
    vid: str = None

    def matches(self, seen):
        return (isinstance(seen, Obj) and self.size == seen.size and self.sha == seen.sha
                and self.sse == seen.sse and self.meta == seen.meta and self.tags == seen.tags
                and self.etag in (None, seen.etag) and self.vid in (None, seen.vid))


@dataclasses.dataclass(frozen=True)
class Marker:
    """A delete marker in a versioned bucket."""
    vid: str = None

    def matches(self, seen):
        return isinstance(seen, Marker) and self.vid in (None, seen.vid)


def state_matches(expected, seen):
    """A plain key's state (Obj or None), or a versioned key's (tuple of entries, newest first;
    the newest is the latest version)."""
    if expected is None or seen is None:
        return expected is None and seen is None
    if isinstance(expected, Obj):
        return expected.matches(seen)
    if len(expected) != len(seen):
        return False
    # Versions are compared as a set by id (an expected entry without an id is the new one);
    # the latest must be the same.
    if expected and not expected[0].matches(seen[0]):
        return False
    by_vid = {e.vid: e for e in seen}
    unknown = [e for e in expected if e.vid is None]
    rest = [e for e in seen if e.vid not in {x.vid for x in expected}]
    if len(unknown) != len(rest):
        return False
    for e in expected:
        if e.vid is not None and (e.vid not in by_vid or not e.matches(by_vid[e.vid])):
            return False
    return all(u.matches(r) for u, r in zip(unknown, rest))


def describe(state):
    if state is None:
        return "absent"
    if isinstance(state, (Obj, Marker)):
        return repr(state)
    return "[" + ", ".join(describe(e) for e in state) + "]"


class Upload:
    """A multipart upload a worker drives one step per operation: create, parts, complete."""

    def __init__(self, rng, bucket, key):
        self.bucket, self.key = bucket, key
        self.upload_id = None
        n = rng.choice([1, 1, 2, 2, 3] if bucket == PLAIN else [1, 1, 2])
        sizes = [rng.choice(PART_SIZES) for _ in range(n - 1)] + [rng.choice(LAST_PART_SIZES)]
        self.plan = [(i + 1, rng.getrandbits(48), size) for i, size in enumerate(sizes)]
        self.done = {}           # part number -> ETag, acknowledged
        self.pending_part = None  # part number in flight at the kill
        self.pending_end = None   # "complete" or "abort" in flight at the kill
        self.tags = tuple(sorted({("mp", str(rng.randrange(100)))})) if rng.random() < 0.5 else ()

    def next_part(self):
        for p in self.plan:
            if p[0] not in self.done:
                return p
        return None

    def body(self):
        return b"".join(gen_bytes(seed, size) for _n, seed, size in self.plan)


# --------------------------------------------------------------------------------------------
# the server and the CLIs
# --------------------------------------------------------------------------------------------

class Server:
    def __init__(self, binary, workdir):
        self.binary = str(binary)
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.root_key = self.workdir / "root.key"
        self.proc = None
        self.port = None
        self.starts = 0
        self.log = self.workdir / "server.log"

    def args(self):
        return ["--data-dir", str(self.data_dir), "--root-key-file", str(self.root_key)]

    def spawn(self, durability):
        self.starts += 1
        self.port = free_port()
        out = open(self.workdir / "stdout.log", "wb")
        err = open(self.log, "ab")
        err.write(f"--- start {self.starts} durability={durability}\n".encode())
        err.flush()
        self.proc = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.port}", *self.args(),
             "--log-level", "warn", "--durability", durability],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=clean_env(),
            cwd=str(self.workdir))
        out.close()
        err.close()
        return self.proc

    def ready(self):
        try:
            return b"Ready." in (self.workdir / "stdout.log").read_bytes()
        except FileNotFoundError:
            return False

    def start(self, durability):
        """Starts coffer and waits for Ready. Returns the seconds it took."""
        for _attempt in range(5):
            t0 = time.monotonic()
            self.spawn(durability)
            while time.monotonic() - t0 < READY_TIMEOUT:
                if self.ready():
                    return time.monotonic() - t0
                if self.proc.poll() is not None:
                    break
                time.sleep(0.005)
            rc = self.proc.poll()
            if rc is None:
                self.kill()
                raise RuntimeError(f"coffer did not print Ready. in {READY_TIMEOUT}s")
            tail = self.log.read_text(errors="replace")[-2000:]
            if "in use" not in tail.lower():
                raise RuntimeError(f"coffer exited with status {rc} at start:\n{tail}")
        raise RuntimeError("coffer could not bind a port")

    def kill(self):
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=30)
            self.proc = None
            return rc
        return None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def cli_argv(self, *words):
        return [self.binary, *words, *self.args(), "--log-level", "warn"]

    def cli(self, *words, timeout=300):
        return subprocess.run(self.cli_argv(*words), capture_output=True, text=True,
                              timeout=timeout, env=clean_env(), stdin=subprocess.DEVNULL)

    def cli_popen(self, *words):
        return subprocess.Popen(self.cli_argv(*words), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=clean_env(),
                                stdin=subprocess.DEVNULL)


def make_client(endpoint, session):
    cfg = Config(region_name="us-east-1", signature_version="s3v4",
                 s3={"addressing_style": "path"},
                 retries={"total_max_attempts": 1, "mode": "standard"},
                 connect_timeout=5, read_timeout=60, max_pool_connections=4)
    return session.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1", config=cfg)


def http_status(e):
    return e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def error_code(e):
    return e.response.get("Error", {}).get("Code")


class ServerGone(Exception):
    """The request got no HTTP response (the server was killed)."""

    def __init__(self, msg, never_sent=False):
        super().__init__(msg)
        self.never_sent = never_sent


# --------------------------------------------------------------------------------------------
# a worker: owns keys w<N>/..., issues one operation at a time, keeps the model of its keys
# --------------------------------------------------------------------------------------------

class Worker:
    def __init__(self, campaign, wid, seed):
        self.c = campaign
        self.wid = wid
        self.rng = random.Random(seed)
        self.prefix = f"w{wid}/"
        self.plain = {f"{self.prefix}k{i}": None for i in range(PLAIN_KEYS)}
        self.plain[f"{self.prefix}mp"] = None
        self.vers = {f"{self.prefix}v{i}": () for i in range(VERSIONED_KEYS)}
        self.vers[f"{self.prefix}vmp"] = ()
        self.uploads = {}     # (bucket, key) -> Upload
        self.pending = {}     # (bucket, key) -> the other state the key may be in
        self.blocked = set()  # keys with a pending write while the server still runs
        self.touched = set()  # keys written since the last verification
        self.history = collections.deque(maxlen=400)  # (cycle, op, key, outcome) for reports
        self.counter = 0
        self.client = None
        self.acked = 0        # acknowledged writes this cycle
        self.ops = {}         # op name -> acknowledged count (whole campaign)

    # -- helpers -----------------------------------------------------------------------------
    def seed(self):
        self.counter += 1
        return (self.c.seed << 40) ^ (self.wid << 32) ^ self.counter ^ (self.c.cycle << 20)

    def state(self, bucket, key):
        return self.plain[key] if bucket == PLAIN else self.vers[key]

    def set_state(self, bucket, key, st):
        if bucket == PLAIN:
            self.plain[key] = st
        else:
            self.vers[key] = tuple(st)

    def call(self, fn, **kw):
        """One request. ClientError (an HTTP answer) propagates; no answer -> ServerGone."""
        keys = kw.get("Key") or ",".join(o["Key"] for o in kw.get("Delete", {}).get("Objects", []))
        what = (self.c.cycle, fn.__name__, keys, kw.get("UploadId") or kw.get("VersionId"))
        try:
            resp = fn(**kw)
        except ClientError as e:
            self.history.append(what + (f"HTTP {http_status(e)}",))
            raise
        except EndpointConnectionError as e:  # refused: the request never left
            self.history.append(what + ("refused",))
            raise ServerGone(repr(e), never_sent=True) from e
        except Exception as e:  # connection reset or closed, read timeout: no answer
            self.history.append(what + (type(e).__name__,))
            raise ServerGone(repr(e)) from e
        self.history.append(what + ("ok",))
        return resp

    def story(self, key):
        """The recent requests on key, for a failure report."""
        return "; ".join(f"c{c} {op} {k} {ref or ''} -> {out}"
                         for c, op, k, ref, out in self.history
                         if k and key in k.split(","))[-3000:]

    def write(self, name, bucket, key, new_state, fn, **kw):
        """Issues a write that turns (bucket, key) into new_state when it happens."""
        self.pending[(bucket, key)] = new_state
        self.touched.add((bucket, key))
        try:
            resp = self.call(fn, **kw)
        except ClientError as e:
            self.blocked.add((bucket, key))
            self.c.failure(f"{name} s3://{bucket}/{key}: HTTP {http_status(e)} "
                           f"{error_code(e)} from a live server")
            raise
        except ServerGone as e:
            self.blocked.add((bucket, key))
            if e.never_sent:
                del self.pending[(bucket, key)]  # the key must be as it was
            raise
        del self.pending[(bucket, key)]
        self.acked += 1
        self.ops[name] = self.ops.get(name, 0) + 1
        return resp

    def free(self, bucket, key):
        return (bucket, key) not in self.blocked and (bucket, key) not in self.pending

    def pick(self, keys, bucket, cond=lambda k: True):
        ks = [k for k in keys if self.free(bucket, k) and cond(k)]
        return self.rng.choice(ks) if ks else None

    def body_for(self):
        size = self.rng.choice(BOUNDARY_SIZES) if self.rng.random() < 0.8 else \
            self.rng.randrange(2, 300000)
        return gen_bytes(self.seed(), size)

    def sse_args(self, allow_c=True):
        r = self.rng.random()
        if r < 0.15 and self.c.kms_keys:
            return "aws:kms", {"ServerSideEncryption": "aws:kms",
                               "SSEKMSKeyId": self.rng.choice(self.c.kms_keys)}
        if r < 0.3 and allow_c:
            return "C", ssec_args()
        return "AES256", {}

    def new_tags(self):
        n = self.rng.choice([0, 1, 1, 2])
        return tuple(sorted({(f"t{i}", str(self.rng.randrange(1000))) for i in range(n)}))

    # -- the operations ----------------------------------------------------------------------
    def step(self):
        r = self.rng.random()
        if r < 0.30:
            self.op_put(PLAIN)
        elif r < 0.45:
            self.op_put(VERSIONED)
        elif r < 0.52:
            self.op_copy()
        elif r < 0.58:
            self.op_delete(PLAIN)
        elif r < 0.63:
            self.op_delete(VERSIONED)
        elif r < 0.68:
            self.op_delete_objects()
        elif r < 0.76:
            self.op_tag()
        elif r < 0.93:
            self.op_multipart(self.rng.choice([PLAIN, VERSIONED]))
        else:
            self.op_read_own()

    def op_put(self, bucket):
        keys = self.plain if bucket == PLAIN else self.vers
        key = self.pick([k for k in keys if not k.endswith("mp")], bucket)
        if key is None:
            return
        if bucket == VERSIONED and len(self.vers[key]) >= MAX_VERSIONS:
            return self.op_prune(key)
        body = self.body_for()
        sse, extra = self.sse_args(allow_c=bucket == PLAIN)
        meta = {"n": str(self.counter), "w": str(self.wid)}
        tags = self.new_tags()
        if tags:
            extra["Tagging"] = "&".join(f"{k}={v}" for k, v in tags)
        etag = '"' + hashlib.md5(body).hexdigest() + '"' if sse == "AES256" else None
        obj = Obj(len(body), sha(body), sse, tuple(sorted(meta.items())), tags, etag)
        new = obj if bucket == PLAIN else (obj,) + self.vers[key]
        resp = self.write("put", bucket, key, new, self.client.put_object, Bucket=bucket,
                          Key=key, Body=body, Metadata=meta, **extra)
        obj = dataclasses.replace(obj, etag=resp["ETag"], vid=resp.get("VersionId"))
        if etag is not None and resp["ETag"] != etag:
            self.c.failure(f"put s3://{bucket}/{key}: ETag {resp['ETag']} is not the MD5 {etag}")
        if bucket == VERSIONED and not obj.vid:
            self.c.failure(f"put s3://{bucket}/{key}: no version id")
        self.set_state(bucket, key, obj if bucket == PLAIN else (obj,) + self.vers[key])

    def op_prune(self, key):
        """Deletes the oldest version of a versioned key by its id (a permanent delete)."""
        entries = self.vers[key]
        victim = entries[-1]
        new = entries[:-1]
        self.write("delete-version", VERSIONED, key, new, self.client.delete_object,
                   Bucket=VERSIONED, Key=key, VersionId=victim.vid)
        self.set_state(VERSIONED, key, new)

    def op_copy(self):
        # source: a present SSE-S3/KMS object of this worker (either bucket); target: another key
        srcs = [(PLAIN, k) for k, v in self.plain.items() if isinstance(v, Obj) and v.sse != "C"]
        srcs += [(VERSIONED, k) for k, v in self.vers.items() if v and isinstance(v[0], Obj)]
        srcs = [s for s in srcs if self.free(*s)]
        if not srcs:
            return self.op_put(PLAIN)
        sb, sk = self.rng.choice(srcs)
        src = self.state(sb, sk) if sb == PLAIN else self.state(sb, sk)[0]
        db = self.rng.choice([PLAIN, VERSIONED])
        keys = self.plain if db == PLAIN else self.vers
        dk = self.pick([k for k in keys if not k.endswith("mp") and k != sk], db)
        if dk is None or (db == VERSIONED and len(self.vers[dk]) >= MAX_VERSIONS):
            return
        kw = {"Bucket": db, "Key": dk, "CopySource": {"Bucket": sb, "Key": sk}}
        if src.vid:
            kw["CopySource"]["VersionId"] = src.vid
        meta, tags = src.meta, src.tags
        if self.rng.random() < 0.5:
            m = {"copied": str(self.counter)}
            kw.update(MetadataDirective="REPLACE", Metadata=m)
            meta = tuple(sorted(m.items()))
        if self.rng.random() < 0.5:
            tags = self.new_tags()
            kw.update(TaggingDirective="REPLACE",
                      Tagging="&".join(f"{k}={v}" for k, v in tags))
        sse = "AES256"
        if self.rng.random() < 0.2 and self.c.kms_keys:
            kw.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.rng.choice(self.c.kms_keys))
            sse = "aws:kms"
        obj = Obj(src.size, src.sha, sse, meta, tags)
        new = obj if db == PLAIN else (obj,) + self.vers[dk]
        resp = self.write("copy", db, dk, new, self.client.copy_object, **kw)
        obj = dataclasses.replace(obj, etag=resp["CopyObjectResult"]["ETag"],
                                  vid=resp.get("VersionId"))
        self.set_state(db, dk, obj if db == PLAIN else (obj,) + self.vers[dk])

    def op_delete(self, bucket):
        if bucket == PLAIN:
            key = self.pick(list(self.plain), PLAIN, lambda k: self.plain[k] is not None)
            if key is None:
                return
            self.write("delete", PLAIN, key, None, self.client.delete_object, Bucket=PLAIN,
                       Key=key)
            self.set_state(PLAIN, key, None)
            return
        key = self.pick(list(self.vers), VERSIONED)
        if key is None:
            return
        entries = self.vers[key]
        if len(entries) >= MAX_VERSIONS or (entries and self.rng.random() < 0.3):
            # permanent delete of one version (any, the latest included)
            victim = self.rng.choice(entries)
            new = tuple(e for e in entries if e.vid != victim.vid)
            self.write("delete-version", VERSIONED, key, new, self.client.delete_object,
                       Bucket=VERSIONED, Key=key, VersionId=victim.vid)
            self.set_state(VERSIONED, key, new)
            return
        new = (Marker(),) + entries
        resp = self.write("delete-marker", VERSIONED, key, new, self.client.delete_object,
                          Bucket=VERSIONED, Key=key)
        if not resp.get("DeleteMarker") or not resp.get("VersionId"):
            self.c.failure(f"delete s3://{VERSIONED}/{key}: no delete marker in {resp}")
        self.set_state(VERSIONED, key, (Marker(resp.get("VersionId")),) + entries)

    def op_delete_objects(self):
        bucket = self.rng.choice([PLAIN, VERSIONED])
        if bucket == PLAIN:
            keys = [k for k in self.plain if self.free(PLAIN, k)]
            chosen = self.rng.sample(keys, min(len(keys), self.rng.randint(1, 4)))
            items = [{"Key": k} for k in chosen]
            news = {k: None for k in chosen}
        else:
            items, news = [], {}
            for k in self.rng.sample(list(self.vers), 2):
                if not self.free(VERSIONED, k):
                    continue
                entries = self.vers[k]
                if entries and self.rng.random() < 0.6:
                    victim = self.rng.choice(entries)
                    items.append({"Key": k, "VersionId": victim.vid})
                    news[k] = tuple(e for e in entries if e.vid != victim.vid)
                else:
                    items.append({"Key": k})
                    news[k] = (Marker(),) + entries
        if not items:
            return
        for k, st in news.items():
            self.pending[(bucket, k)] = st
            self.touched.add((bucket, k))
        try:
            resp = self.call(self.client.delete_objects, Bucket=bucket,
                             Delete={"Objects": items, "Quiet": False})
        except ClientError as e:
            self.blocked.update((bucket, k) for k in news)
            self.c.failure(f"DeleteObjects {bucket}: HTTP {http_status(e)} {error_code(e)}")
            raise
        except ServerGone as e:
            self.blocked.update((bucket, k) for k in news)
            if e.never_sent:
                for k in news:
                    del self.pending[(bucket, k)]
            raise
        for err in resp.get("Errors", []):
            self.blocked.add((bucket, err.get("Key")))
            self.c.failure(f"DeleteObjects {bucket}: error entry {err}")
        for d in resp.get("Deleted", []):
            k = d["Key"]
            if k not in news or (bucket, k) in self.blocked:
                continue
            st = news[k]
            if bucket == VERSIONED and "VersionId" not in [i for i in items if i["Key"] == k][0]:
                st = (Marker(d.get("DeleteMarkerVersionId")),) + self.vers[k]
                if not d.get("DeleteMarkerVersionId"):
                    self.c.failure(f"DeleteObjects {bucket}/{k}: no delete marker id in {d}")
            self.set_state(bucket, k, st)
            del self.pending[(bucket, k)]
            self.acked += 1
            self.ops["delete-objects-key"] = self.ops.get("delete-objects-key", 0) + 1
        for k in news:
            if (bucket, k) in self.pending and (bucket, k) not in self.blocked:
                self.blocked.add((bucket, k))
                self.c.failure(f"DeleteObjects {bucket}: {k} neither deleted nor an error")

    def op_tag(self):
        bucket = self.rng.choice([PLAIN, VERSIONED])
        if bucket == PLAIN:
            key = self.pick(list(self.plain), PLAIN, lambda k: isinstance(self.plain[k], Obj))
            if key is None:
                return
            cur = self.plain[key]
            vid, target = None, cur
        else:
            key = self.pick(list(self.vers), VERSIONED,
                            lambda k: any(isinstance(e, Obj) for e in self.vers[k]))
            if key is None:
                return
            target = self.rng.choice([e for e in self.vers[key] if isinstance(e, Obj)])
            vid = target.vid
        tags = self.new_tags() if self.rng.random() < 0.8 else ()
        changed = dataclasses.replace(target, tags=tags)
        new = changed if bucket == PLAIN else tuple(
            changed if e is target else e for e in self.vers[key])
        kw = {"Bucket": bucket, "Key": key}
        if vid:
            kw["VersionId"] = vid
        if tags or self.rng.random() < 0.5:
            kw["Tagging"] = {"TagSet": [{"Key": k, "Value": v} for k, v in tags]}
            self.write("put-tagging", bucket, key, new, self.client.put_object_tagging, **kw)
        else:
            self.write("delete-tagging", bucket, key, new, self.client.delete_object_tagging, **kw)
        self.set_state(bucket, key, new)

    def op_multipart(self, bucket):
        key = f"{self.prefix}mp" if bucket == PLAIN else f"{self.prefix}vmp"
        if not self.free(bucket, key):
            return
        if bucket == VERSIONED and len(self.vers[key]) >= MAX_MP_VERSIONS:
            return self.op_prune(key)
        up = self.uploads.get((bucket, key))
        if up is None:
            up = self.uploads[(bucket, key)] = Upload(self.rng, bucket, key)
        if up.upload_id is None:
            kw = {}
            if up.tags:
                kw["Tagging"] = "&".join(f"{k}={v}" for k, v in up.tags)
            try:
                resp = self.call(self.client.create_multipart_upload, Bucket=bucket, Key=key,
                                 Metadata={"mp": "1"}, **kw)
            except ClientError as e:
                self.c.failure(f"CreateMultipartUpload {bucket}/{key}: HTTP {http_status(e)}")
                raise
            except ServerGone:
                del self.uploads[(bucket, key)]  # it may exist; the verifier aborts strays
                raise
            up.upload_id = resp["UploadId"]
            self.acked += 1
            self.ops["mp-create"] = self.ops.get("mp-create", 0) + 1
            return
        part = up.next_part()
        if part is not None:
            n, seed, size = part
            body = gen_bytes(seed, size)
            up.pending_part = n
            try:
                resp = self.call(self.client.upload_part, Bucket=bucket, Key=key,
                                 UploadId=up.upload_id, PartNumber=n, Body=body)
            except ClientError as e:
                self.c.failure(f"UploadPart {bucket}/{key} #{n}: HTTP {http_status(e)} "
                               f"{error_code(e)}")
                raise
            except ServerGone:
                self.blocked.add((bucket, key))  # nothing more on this upload until verified
                raise
            up.pending_part = None
            want = '"' + hashlib.md5(body).hexdigest() + '"'
            if resp["ETag"] != want:
                self.c.failure(f"UploadPart {bucket}/{key} #{n}: ETag {resp['ETag']} != {want}")
            up.done[n] = resp["ETag"]
            self.acked += 1
            self.ops["mp-part"] = self.ops.get("mp-part", 0) + 1
            return
        body = up.body()
        cur = self.state(bucket, key)
        if self.rng.random() < 0.1:
            up.pending_end = "abort"
            try:
                self.call(self.client.abort_multipart_upload, Bucket=bucket, Key=key,
                          UploadId=up.upload_id)
            except ClientError as e:
                self.c.failure(f"AbortMultipartUpload {bucket}/{key}: HTTP {http_status(e)}")
                raise
            except ServerGone:
                # The abort may have happened: no complete may follow (and overwrite
                # pending_end) before the verifier has looked.
                self.blocked.add((bucket, key))
                raise
            del self.uploads[(bucket, key)]
            self.acked += 1
            self.ops["mp-abort"] = self.ops.get("mp-abort", 0) + 1
            return
        obj = Obj(len(body), sha(body), "AES256", (("mp", "1"),), up.tags)
        new = obj if bucket == PLAIN else (obj,) + cur
        up.pending_end = "complete"
        parts = [{"PartNumber": n, "ETag": up.done[n]} for n, _s, _z in up.plan]
        resp = self.write("mp-complete", bucket, key, new, self.client.complete_multipart_upload,
                          Bucket=bucket, Key=key, UploadId=up.upload_id,
                          MultipartUpload={"Parts": parts})
        del self.uploads[(bucket, key)]
        etag = resp["ETag"]
        if not re.fullmatch(r'"[0-9a-f]{32}-%d"' % len(parts), etag):
            self.c.failure(f"CompleteMultipartUpload {bucket}/{key}: ETag {etag}")
        obj = dataclasses.replace(obj, etag=etag, vid=resp.get("VersionId"))
        self.set_state(bucket, key, obj if bucket == PLAIN else (obj,) + cur)

    def op_read_own(self):
        """A read while the server runs must give the acknowledged state (read your writes)."""
        key = self.pick(list(self.plain), PLAIN)
        if key is None:
            return
        try:
            seen = self.c.observe_plain(self.client, key)
        except ClientError:
            raise
        except Exception as e:
            raise ServerGone(repr(e)) from e
        if not state_matches(self.plain[key], seen):
            self.c.failure(f"live read s3://{PLAIN}/{key}: expected {describe(self.plain[key])}"
                           f", got {describe(seen)}")
            self.plain[key] = seen

    # -- the load loop -----------------------------------------------------------------------
    def run(self, stop):
        while not stop.is_set():
            try:
                self.step()
            except ServerGone:
                if not stop.is_set():
                    time.sleep(0.01)
            except ClientError:
                pass  # recorded as a failure where it happened
            except Exception as e:  # a harness bug must not pass silently
                self.c.failure(f"worker {self.wid}: {e!r}")
                return


def ssec_args():
    # botocore base64-encodes the key and adds its MD5 itself
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}


# --------------------------------------------------------------------------------------------
# the campaign: cycles of verify -> load -> kill -> fsck -> start
# --------------------------------------------------------------------------------------------

MODES = ["load", "rotate", "fsck", "startup"]  # what a cycle kills, besides the server
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
KEYS_LIST_RE = re.compile(r"^(\S+)\t(active|inactive)\t(\d+) objects\t(\d+) KMS keys$")
# what a `keys rotate` killed before it wrote its key leaves (nothing needs it; a start forgets it)
KEYS_PENDING_RE = re.compile(r"^\S+\tPENDING ROTATION \(.*\)\t0 objects\t0 KMS keys$")
# what a `keys retire` killed between forgetting the record and rewriting the key file leaves
# (an idle key in the keyring; the next start records it again)
KEYS_UNRECORDED_RE = re.compile(r"^\S+\tinactive\t0 objects\t0 KMS keys\tnot recorded yet$")
FSCK_RE = re.compile(r"^fsck: (\d+) objects checked .*?, (\d+) damaged, (\d+) unreferenced "
                     r"blobs .*?, (\d+) with a root key absent", re.M)


class Campaign:
    def __init__(self, binary, workdir, seed, workers=6, log=print, snapshots=3, inject=None,
                 cover_modes=True, load_seconds=None):
        self.server = Server(binary, workdir)
        self.workdir = Path(workdir)
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log
        self.lock = threading.Lock()
        self.failures = []
        self.snapshots = snapshots
        self.cycle = 0
        self.kms_keys = []
        self.session = boto3.session.Session()
        self.workers = [Worker(self, i, self.rng.getrandbits(64)) for i in range(workers)]
        self.stats = {"kills": 0, "kills during keys rotate": 0, "kills during fsck": 0,
                      "kills during start-up": 0, "acknowledged writes": 0,
                      "acknowledged writes verified": 0, "in-flight writes found applied": 0,
                      "in-flight writes found not applied": 0, "stray uploads aborted": 0,
                      "object versions read back": 0, "fsck runs": 0, "keys rotate": 0,
                      "keys rewrap": 0, "keys retire": 0, "kms create-key": 0,
                      "online fsck": 0}
        self.rotation = {"phase": "rotate", "since": 0.0}
        self.cli_proc = None
        self.cover_modes = cover_modes
        self.load_seconds = load_seconds  # (lo, hi): the load's length before a kill, if fixed
        self.load_started = 0.0
        self.log_offset = 0
        self.inject = inject  # None, or a damage to do on purpose (to test the harness)
        self.times = {}
        self.est = {"rotate": 0.3, "fsck": 0.3, "start": 0.05}

    # -- bookkeeping -------------------------------------------------------------------------
    def failure(self, msg):
        with self.lock:
            self.failures.append(f"cycle {self.cycle}: {msg}")
            n = len(self.failures)
        self.log(f"FAILURE {n}: cycle {self.cycle}: {msg}")
        if n <= self.snapshots:
            self.snapshot(f"failure-{n}")

    def snapshot(self, name):
        """Copies the data dir, the key file and the log for a post-mortem (best effort)."""
        dst = self.workdir / name
        try:
            shutil.copytree(self.server.data_dir, dst / "data", dirs_exist_ok=True)
            for f in (self.server.root_key, self.server.log):
                if f.exists():
                    shutil.copy2(f, dst / f.name)
        except (OSError, shutil.Error) as e:
            self.log(f"snapshot {name}: {e}")

    def count(self, name, n=1):
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + n

    def op_mix(self):
        mix = {}
        for w in self.workers:
            for k, v in w.ops.items():
                mix[k] = mix.get(k, 0) + v
        return dict(sorted(mix.items(), key=lambda kv: -kv[1]))

    # -- set-up ------------------------------------------------------------------------------
    def setup(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        p = self.server.cli("kms", "create-key", "--alias", "alias/crash")
        if p.returncode != 0:
            raise RuntimeError(f"kms create-key: {p.stdout}{p.stderr}")
        self.kms_keys = ["alias/crash", p.stdout.split()[0]]
        self.server.start("full")
        c = make_client(self.server.endpoint, self.session)
        c.create_bucket(Bucket=PLAIN)
        c.create_bucket(Bucket=VERSIONED)
        c.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})

    # -- observation -------------------------------------------------------------------------
    def read_obj(self, client, bucket, key, vid=None):
        """GET (+ tagging) of one object or version -> Obj, or None on 404."""
        kw = {"Bucket": bucket, "Key": key}
        if vid:
            kw["VersionId"] = vid
        try:
            r = client.get_object(**kw)
        except ClientError as e:
            if http_status(e) == 404:
                return None
            if http_status(e) != 400:
                raise
            kw.update(ssec_args())
            r = client.get_object(**kw)
        h = hashlib.sha256()
        n = 0
        for chunk in r["Body"].iter_chunks(1 << 20):
            h.update(chunk)
            n += len(chunk)
        if n != r["ContentLength"]:
            raise RuntimeError(f"GET s3://{bucket}/{key}: {n} bytes of {r['ContentLength']}")
        tkw = {k: v for k, v in kw.items() if k in ("Bucket", "Key", "VersionId")}
        tags = client.get_object_tagging(**tkw)["TagSet"]
        sse = "C" if r.get("SSECustomerAlgorithm") else r.get("ServerSideEncryption")
        self.count("object versions read back")
        return Obj(n, h.hexdigest(), sse, tuple(sorted(r.get("Metadata", {}).items())),
                   tuple(sorted((t["Key"], t["Value"]) for t in tags)), r["ETag"],
                   r.get("VersionId") if bucket == VERSIONED else None)

    def observe_plain(self, client, key):
        return self.read_obj(client, PLAIN, key)

    def observe_versions(self, client, key):
        r = client.list_object_versions(Bucket=VERSIONED, Prefix=key)
        if r.get("IsTruncated"):
            raise RuntimeError(f"versions of {key}: truncated listing")
        listed = [(v, False) for v in r.get("Versions", []) if v["Key"] == key]
        listed += [(m, True) for m in r.get("DeleteMarkers", []) if m["Key"] == key]
        latest = [v for v, _ in listed if v["IsLatest"]]
        if listed and len(latest) != 1:
            self.failure(f"versions of {key}: {len(latest)} marked latest")
        entries = []
        for v, is_marker in listed:
            if is_marker:
                e = Marker(v["VersionId"])
            else:
                e = self.read_obj(client, VERSIONED, key, v["VersionId"])
                if e is None:
                    self.failure(f"s3://{VERSIONED}/{key}?versionId={v['VersionId']}: listed, "
                                 "GET 404")
                    continue
                if e.size != v["Size"] or e.etag != v["ETag"]:
                    self.failure(f"s3://{VERSIONED}/{key} {v['VersionId']}: listing says "
                                 f"{v['Size']} {v['ETag']}, GET {e.size} {e.etag}")
            entries.insert(0, e) if v["IsLatest"] else entries.append(e)
        # the plain GET/HEAD gives the latest version, or 404 behind a delete marker
        try:
            head = client.head_object(Bucket=VERSIONED, Key=key)
            cur = head.get("VersionId")
        except ClientError as e:
            if http_status(e) != 404:
                raise
            cur = None
        want = entries[0].vid if entries and isinstance(entries[0], Obj) else None
        if cur != want:
            self.failure(f"HEAD s3://{VERSIONED}/{key}: version {cur}, latest listed {want}")
        return tuple(entries)

    # -- verification after a restart --------------------------------------------------------
    def resolve(self, w, bucket, key, seen):
        """Checks what the server has against the model; returns the state to keep."""
        confirmed = w.state(bucket, key)
        pending = w.pending.pop((bucket, key), "none")
        if state_matches(confirmed, seen):
            if pending != "none":
                self.count("in-flight writes found not applied")
            return confirmed if bucket == PLAIN else fill(confirmed, seen)
        if pending != "none" and state_matches(pending, seen):
            self.count("in-flight writes found applied")
            return seen if bucket == PLAIN else fill(pending, seen)
        alt = "" if pending == "none" else f" (or, the write in flight, {describe(pending)})"
        self.failure(f"s3://{bucket}/{key}: expected {describe(confirmed)}{alt}; "
                     f"the server has {describe(seen)}; requests: {w.story(key)}")
        return seen

    def verify_worker(self, w, client, full):
        """Every key written since the last restart, and (to keep cycles short) a sample of
        the others; every key when full."""
        def chosen(bucket, key):
            return full or (bucket, key) in w.touched or w.rng.random() < SAMPLE_UNTOUCHED

        for bucket, keys in ((PLAIN, w.plain), (VERSIONED, w.vers)):
            for key in keys:
                if not chosen(bucket, key):
                    continue
                self.count("keys checked")
                try:
                    seen = self.observe_plain(client, key) if bucket == PLAIN else \
                        self.observe_versions(client, key)
                except Exception as e:  # an error answer, or a body cut short
                    self.failure(f"reading s3://{bucket}/{key}: {e!r}")
                    w.pending.pop((bucket, key), None)
                    continue
                w.set_state(bucket, key, self.resolve(w, bucket, key, seen))
        w.touched.clear()
        self.verify_uploads(w, client)
        self.verify_listing(w, client)
        w.pending.clear()
        w.blocked.clear()

    def verify_uploads(self, w, client):
        for (bucket, key), up in list(w.uploads.items()):
            if up.upload_id is None:
                continue
            try:
                parts = client.list_parts(Bucket=bucket, Key=key, UploadId=up.upload_id)
                gone = False
            except ClientError as e:
                if error_code(e) != "NoSuchUpload":
                    raise
                parts, gone = None, True
            if up.pending_end == "complete":
                completed = isinstance(w.state(bucket, key), Obj) and \
                    w.state(bucket, key).meta == (("mp", "1"),) and \
                    w.state(bucket, key).sha == sha(up.body()) if bucket == PLAIN else \
                    any(isinstance(e, Obj) and e.sha == sha(up.body()) for e in w.vers[key])
                if completed != gone:
                    self.failure(f"upload {up.upload_id} of s3://{bucket}/{key}: object "
                                 f"{'completed' if completed else 'not completed'} but the "
                                 f"upload is {'gone' if gone else 'still there'}; model "
                                 f"{describe(w.state(bucket, key))}; requests: {w.story(key)}")
                if gone:
                    del w.uploads[(bucket, key)]
                    continue
            elif up.pending_end == "abort" and gone:
                del w.uploads[(bucket, key)]
                continue
            elif gone:
                self.failure(f"upload {up.upload_id} of s3://{bucket}/{key} (acknowledged "
                             f"with parts {sorted(up.done)}) is gone; requests: {w.story(key)}")
                del w.uploads[(bucket, key)]
                continue
            up.pending_end = None
            listed = {p["PartNumber"]: (p["ETag"], p["Size"]) for p in parts.get("Parts", [])}
            sizes = {n: size for n, _s, size in up.plan}
            for n, etag in up.done.items():
                if listed.get(n) != (etag, sizes[n]):
                    self.failure(f"upload {up.upload_id} of s3://{bucket}/{key}: acknowledged "
                                 f"part {n} {etag} {sizes[n]}, listed {listed.get(n)}")
            for n, (etag, size) in listed.items():
                if n in up.done:
                    continue
                seed = [s for pn, s, _z in up.plan if pn == n][0]
                want = '"' + hashlib.md5(gen_bytes(seed, sizes[n])).hexdigest() + '"'
                if n != up.pending_part or (etag, size) != (want, sizes[n]):
                    self.failure(f"upload {up.upload_id} of s3://{bucket}/{key}: part {n} "
                                 f"{etag} {size} was never sent or is not what was sent")
                else:
                    up.done[n] = etag  # the part in flight made it
            up.pending_part = None
        # uploads whose create was in flight: abort them (and they must be this worker's)
        known = {up.upload_id for up in w.uploads.values()}
        for bucket in (PLAIN, VERSIONED):
            r = client.list_multipart_uploads(Bucket=bucket, Prefix=w.prefix)
            for u in r.get("Uploads", []):
                if u["UploadId"] not in known:
                    client.abort_multipart_upload(Bucket=bucket, Key=u["Key"],
                                                  UploadId=u["UploadId"])
                    self.count("stray uploads aborted")

    def verify_listing(self, w, client):
        r = client.list_objects_v2(Bucket=PLAIN, Prefix=w.prefix)
        listed = {o["Key"]: (o["Size"], o["ETag"]) for o in r.get("Contents", [])}
        want = {k: (v.size, v.etag) for k, v in w.plain.items() if v is not None}
        if listed != want:
            self.failure(f"ListObjectsV2 {w.prefix}: {listed} != model {want}")

    def verify_all(self, full=False):
        errors = []
        full = full or self.cycle % FULL_CHECK_EVERY == 0
        clients_ready = [make_client(self.server.endpoint, self.session) for _ in self.workers]
        threads = []
        for w, c in zip(self.workers, clients_ready):
            t = threading.Thread(target=self._verify_one, args=(w, c, full, errors))
            threads.append(t)
            t.start()
        for t in threads:
            t.join()
        for e in errors:
            self.failure(e)
        acked = sum(w.acked for w in self.workers)
        self.count("acknowledged writes verified", acked)
        for w in self.workers:
            w.acked = 0
        leftovers = list((self.server.data_dir / "tmp").iterdir())
        if leftovers:
            self.failure(f"tmp/ not emptied at start-up: {leftovers[:5]}")

    def _verify_one(self, w, client, full, errors):
        try:
            self.verify_worker(w, client, full)
        except Exception as e:  # a broken GET (e.g. an aborted body) included
            errors.append(f"worker {w.wid} verification: {e!r}")
            w.pending.clear()
            w.blocked.clear()

    # -- the CLIs ----------------------------------------------------------------------------
    def fsck(self):
        """coffer fsck on the stopped server: exit 0, nothing damaged or keyless."""
        t0 = time.monotonic()
        p = self.server.cli("fsck")
        self.est["fsck"] = 0.8 * self.est["fsck"] + 0.2 * (time.monotonic() - t0)
        self.count("fsck runs")
        self.sanitizer_check("coffer fsck", p.stderr)
        m = FSCK_RE.search(p.stdout)
        if p.returncode != 0 or not m or m.group(2) != "0" or m.group(4) != "0":
            self.failure(f"fsck exit {p.returncode}:\n{p.stdout[-3000:]}{p.stderr[-2000:]}")
        p = self.server.cli("keys", "list")
        bad = [ln for ln in p.stdout.splitlines()
               if not any(r.match(ln) for r in (KEYS_LIST_RE, KEYS_PENDING_RE, KEYS_UNRECORDED_RE))]
        if p.returncode != 0 or bad:
            self.failure(f"keys list exit {p.returncode}: {bad} {p.stderr[-2000:]}")
        return p.stdout

    def fsck_killed(self):
        """Starts fsck and kills it part-way; the next fsck must still be clean."""
        proc = self.server.cli_popen("fsck")
        time.sleep(self.rng.uniform(0, 1.2 * self.est["fsck"]))
        if proc.poll() is None:
            proc.kill()
            self.count("kills during fsck")
        proc.communicate()

    def rotation_step(self, stop):
        """One step of the key life cycle that runs beside the load."""
        r = self.rotation
        now = time.monotonic()
        if self.rng.random() < 0.05 and len(self.kms_keys) < 6:
            words, name = ("kms", "create-key"), "kms create-key"
        elif r["phase"] == "rotate":
            words, name = ("keys", "rotate"), "keys rotate"
        elif r["phase"] == "rewrap" and now - r["since"] > 2.5:
            words, name = ("keys", "rewrap"), "keys rewrap"
        elif r["phase"] == "retire":
            p = self.server.cli("keys", "list")
            rows = [KEYS_LIST_RE.match(ln) for ln in p.stdout.splitlines()]
            idle = [m.group(1) for m in rows if m and m.group(2) == "inactive"
                    and m.group(3) == "0" and m.group(4) == "0"]
            if not idle:
                r["phase"], r["since"] = "rotate", now
                return
            words, name = ("keys", "retire", idle[0]), "keys retire"
        elif r["phase"] == "online-fsck" or self.rng.random() < 0.02:
            words, name = ("fsck", "--dry-run"), "online fsck"
        else:
            return
        t0 = time.monotonic()
        proc = self.cli_proc = self.server.cli_popen(*words)
        out, err = proc.communicate()
        self.cli_proc = None
        if proc.returncode == -signal.SIGKILL:
            self.count(f"kills during {name}")
            if name == "keys rotate":
                r["phase"], r["since"] = "rewrap", time.monotonic()  # rewrap resumes it
            return
        self.sanitizer_check(f"coffer {' '.join(words)}", err)
        if name == "online fsck":
            m = FSCK_RE.search(out)
            if proc.returncode != 0 or not m or m.group(2) != "0":
                self.failure(f"fsck while the server runs: exit {proc.returncode}\n{out[-3000:]}"
                             f"{err[-1000:]}")
            self.count(name)
            return
        if proc.returncode != 0:
            if name == "keys retire" and "still wraps" in err:
                r["phase"] = "rewrap"  # the server wrapped more under it meanwhile
                return
            self.failure(f"coffer {' '.join(words)}: exit {proc.returncode}\n{out[-2000:]}"
                         f"{err[-2000:]}")
            return
        self.count(name)
        if name == "kms create-key":
            self.kms_keys.append(out.split()[0])
        elif name == "keys rotate":
            self.est["rotate"] = 0.8 * self.est["rotate"] + 0.2 * (time.monotonic() - t0)
            r["phase"], r["since"] = "rewrap", time.monotonic()
        elif name == "keys rewrap":
            r["phase"] = "retire"

    def rotation_loop(self, stop):
        while not stop.is_set():
            try:
                self.rotation_step(stop)
            except Exception as e:
                self.failure(f"rotation: {e!r}")
                return
            stop.wait(self.rng.uniform(0.1, 0.6))

    # -- one cycle ---------------------------------------------------------------------------
    def load_and_kill(self):
        mode = self.rng.choices(MODES, [70, 12, 12, 6])[0]
        if self.cover_modes and self.cycle <= len(MODES):
            mode = MODES[-self.cycle]  # a short campaign still has one cycle of each
        stop = threading.Event()
        self.load_started = time.time()
        for w in self.workers:
            w.client = make_client(self.server.endpoint, self.session)
        threads = [threading.Thread(target=w.run, args=(stop,)) for w in self.workers]
        if mode != "rotate":
            threads.append(threading.Thread(target=self.rotation_loop, args=(stop,)))
        for t in threads:
            t.start()
        delay = self.rng.choice([self.rng.uniform(0, 0.3), self.rng.uniform(0.2, 0.8),
                                 self.rng.uniform(0.2, 0.8), self.rng.uniform(0.8, 2)])
        if self.load_seconds:
            delay = self.rng.uniform(*self.load_seconds)
        if mode == "rotate":
            time.sleep(delay / 2)
            proc = self.server.cli_popen("keys", "rotate")
            time.sleep(self.rng.uniform(0, 1.2 * self.est["rotate"]))
            cli_alive = proc.poll() is None
            if cli_alive:
                proc.kill()
            self.server.kill()
            stop.set()
            out, err = proc.communicate()
            if cli_alive:
                self.count("kills during keys rotate")
            elif proc.returncode != 0:
                self.failure(f"keys rotate: exit {proc.returncode}\n{out}{err}")
            # a rotation the kill cut short is resumed by the next rewrap
            self.rotation["phase"], self.rotation["since"] = "rewrap", time.monotonic()
        else:
            time.sleep(delay)
            cli = self.cli_proc  # what the key life cycle runs now, if anything
            if cli is not None and self.rng.random() < 0.5:
                cli.kill()
            self.server.kill()
            stop.set()
        self.count("kills")
        self.count(f"cycles: {mode}")
        self.server_log_check()
        for t in threads:
            t.join()
        return mode

    def sanitizer_check(self, what, text):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                i = text.index(marker)
                self.failure(f"{what}: {text[max(0, i - 200):i + 3000]}")
                return

    def server_log_check(self):
        """The server's stderr since the last look: no sanitizer report."""
        try:
            with open(self.server.log, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode(errors="replace")
                self.log_offset = f.tell()
        except FileNotFoundError:
            return
        self.sanitizer_check("coffer (server)", text)

    def injure(self):
        """Damage on purpose, so that a test can see the harness notice: "blob" removes one
        blob file, "inline" one inline blob (a row of inline_blobs), "rollback" puts back the database as it was one cycle ago (losing the
        acknowledged writes of the last cycle)."""
        d = self.server.data_dir
        if self.inject == "blob":
            # one that an object refers to (an unreferenced one, e.g. the old blob of an
            # overwrite the kill left unreclaimed, would be no damage); the server is down
            db = sqlite3.connect(str(d / "coffer.db"))
            try:
                used = {r[0] for r in db.execute(
                    "SELECT blob_id FROM objects UNION SELECT blob_id FROM object_versions"
                    " UNION SELECT blob_id FROM object_parts") if r[0]}
            finally:
                db.close()
            blobs = sorted(p for p in (d / "blobs").rglob("*") if p.is_file() and p.name in used)
            if blobs:
                self.rng.choice(blobs).unlink()
        elif self.inject == "inline":
            db = sqlite3.connect(str(d / "coffer.db"))
            try:
                with db:
                    ids = sorted(r[0] for r in db.execute(
                        "SELECT blob_id FROM inline_blobs WHERE blob_id IN (SELECT blob_id FROM"
                        " objects UNION SELECT blob_id FROM object_versions)"))
                    if ids:
                        db.execute("DELETE FROM inline_blobs WHERE blob_id = ?",
                                   (self.rng.choice(ids),))
            finally:
                db.close()
        elif self.inject == "rollback":
            saved = self.workdir / "rollback"
            if saved.exists():
                for f in d.glob("coffer.db*"):
                    f.unlink()
                for f in saved.iterdir():
                    shutil.copy2(f, d / f.name)
            shutil.rmtree(saved, ignore_errors=True)
            saved.mkdir()
            for f in d.glob("coffer.db*"):
                shutil.copy2(f, saved / f.name)

    def timed(self, phase, fn, *args):
        t0 = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.times[phase] = self.times.get(phase, 0.0) + time.monotonic() - t0

    def run_cycle(self):
        self.cycle += 1
        mode = self.timed("load", self.load_and_kill)
        if self.inject:
            self.injure()
        if mode == "fsck":
            self.timed("fsck", self.fsck_killed)
        self.timed("fsck", self.fsck)
        if mode == "startup":
            self.server.spawn(self.rng.choice(["full", "relaxed"]))
            time.sleep(self.rng.uniform(0, 1.5 * self.est["start"]))
            self.server.kill()
            self.server_log_check()
            self.count("kills during start-up")
            self.fsck()
        took = self.timed("start", self.server.start, self.rng.choice(["full", "relaxed"]))
        self.est["start"] = 0.8 * self.est["start"] + 0.2 * took
        self.timed("verify", self.verify_all)

    def run(self, kills, time_limit=None, progress_every=50):
        t0 = time.monotonic()
        self.setup()
        try:
            for _ in range(kills):
                try:
                    self.run_cycle()
                except RuntimeError as e:  # coffer would not start again: nothing more to do
                    self.failure(str(e))
                    break
                if progress_every and self.cycle % progress_every == 0:
                    self.log(f"[{time.monotonic() - t0:7.1f}s] cycle {self.cycle}: "
                             f"{self.stats['acknowledged writes verified']} acknowledged writes "
                             f"verified, {len(self.failures)} failures")
                if time_limit and time.monotonic() - t0 > time_limit:
                    self.log(f"time limit reached after {self.cycle} cycles")
                    break
            if self.server.proc is not None:
                self.timed("verify", self.verify_all, True)  # every key, one last time
        finally:
            self.server.kill()
        self.stats["wall seconds"] = round(time.monotonic() - t0, 1)
        self.stats["acknowledged writes"] = sum(
            sum(w.ops.values()) for w in self.workers)
        return self.summary()

    def summary(self):
        return {"seed": self.seed, "cycles": self.cycle, **self.stats,
                "op mix (acknowledged)": self.op_mix(),
                "seconds per phase": {k: round(v, 1) for k, v in self.times.items()},
                "failures": len(self.failures),
                "failure messages": self.failures[:50]}


def fill(expected, seen):
    """A versioned key's expected entries with the unknown version id taken from seen."""
    by_vid = {e.vid: e for e in seen}
    known = {e.vid for e in expected}
    rest = [e for e in seen if e.vid not in known]
    out = []
    for e in expected:
        out.append(by_vid[e.vid] if e.vid in by_vid else rest.pop(0))
    # keep the model's order (newest first), with what the server says of each entry
    return tuple(out)
