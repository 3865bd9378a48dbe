#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What the upstream blob store costs (issue 16): single-request PUT and GET throughput of one
large object straight to an S3-compatible store (Ceph RGW) against the same through coffer
keeping its blobs in that store (--blob-store s3://BUCKET/PREFIX).

Two targets in the same run, with the same client (boto3, path-style, credentials test/test):

  direct   the RGW endpoint itself, into a scratch bucket this script creates;
  coffer   a coffer started here (temporary data dir, 127.0.0.1:<free port>, durability
           default) whose blobs go to its own scratch bucket on the same RGW, under a prefix.

Per rep and per target: one PutObject of --size-mib MiB (default 64) from memory (Body=bytes,
never multipart from the client; coffer itself sends a body larger than --blob-store-part-size
upstream as a multipart upload while it streams in), then one GetObject reading the whole body,
each timed with time.perf_counter around the boto3 call. The order of the targets alternates
from rep to rep. The client does no hashing inside the timed calls: Content-MD5 is computed
beforehand and passed in, the payload goes as UNSIGNED-PAYLOAD (coffer signs its own upstream
requests the same way), and, where botocore knows it, request_checksum_calculation is
"when_required"; --signed-payload lets botocore SHA-256 the body instead, as it does by default
over plain http. Prints MB/s (10^6 bytes per second) per rep and the medians, and the ratio
coffer / direct for PUT and GET. Target: ratio >= 0.8 at 64 MiB for both.

    /usr/bin/python3 bench/upstream.py [--coffer BIN] [--endpoint http://127.0.0.1:7480]
                                       [--size-mib 64] [--reps 3] [--part-size BYTES]

Needs an RGW (or any S3 store) at --endpoint that accepts test/test (scripts/ceph-dev.sh
starts one); it is not started or stopped here. The coffer binary defaults to $COFFER_BIN, else
/tmp/coffer-bench-build/coffer, else build/coffer. Python standard library plus boto3 (Debian's
python3-boto3 will do); imports bench/bench.py's server helpers. The scratch buckets are
emptied (objects and unfinished multipart uploads) and deleted at the end.
"""
import argparse
import base64
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (bench/bench.py: Coffer, free_port, wait_ready, drop_dirty, log)

try:
    import boto3
    import botocore
    from botocore.config import Config
except ImportError:
    sys.exit("upstream.py needs boto3 (Debian: apt-get install python3-boto3)")

MiB = 1 << 20
ACCESS_KEY = SECRET_KEY = "test"
REGION = "us-east-1"
TARGET_RATIO = 0.8


def default_coffer():
    if os.environ.get("COFFER_BIN"):
        return os.environ["COFFER_BIN"]
    if os.path.exists("/tmp/coffer-bench-build/coffer"):
        return "/tmp/coffer-bench-build/coffer"
    return os.path.join(HERE, "..", "build", "coffer")


def client_config(args):
    """boto3 Config; returns (config, note on checksum calculation)."""
    kw = dict(region_name=REGION, signature_version="s3v4",
              s3={"addressing_style": "path",
                  "payload_signing_enabled": bool(args.signed_payload)},
              retries={"mode": "standard", "total_max_attempts": 1},
              connect_timeout=10, read_timeout=args.timeout, max_pool_connections=2)
    try:
        return (Config(request_checksum_calculation="when_required",
                       response_checksum_validation="when_required", **kw),
                "request_checksum_calculation=when_required")
    except TypeError:
        return Config(**kw), (f"botocore {botocore.__version__} predates "
                              "request_checksum_calculation (no flexible checksums sent)")


def s3client(endpoint, config):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=config)


def empty_and_delete(cli, bucket):
    """Deletes every object and unfinished multipart upload of bucket, then the bucket."""
    try:
        for page in cli.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                cli.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        for page in cli.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for u in page.get("Uploads", []):
                cli.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        cli.delete_bucket(Bucket=bucket)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        bench.PROBLEMS.add(f"cleanup of bucket {bucket}: {e}")


class UpstreamCoffer(bench.Coffer):
    """bench.Coffer with the upstream blob store flags and credentials; durability default."""

    def __init__(self, binary, work, tag, store, endpoint, part_size=None):
        super().__init__(binary, work, tag, durability=None)
        self.store = store
        self.endpoint = endpoint
        self.part_size = part_size

    def start(self, limit_s=10.0):
        self.port = bench.free_port()
        self.stderr_path = os.path.join(self.work, f"coffer-{self.tag}.log")
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
               "--root-key-file", self.key_file, "--blob-store", self.store,
               "--blob-store-endpoint", self.endpoint]
        if self.part_size:
            cmd += ["--blob-store-part-size", str(self.part_size)]
        env = dict(os.environ, COFFER_BLOB_STORE_ACCESS_KEY_ID=ACCESS_KEY,
                   COFFER_BLOB_STORE_SECRET_ACCESS_KEY=SECRET_KEY)
        with open(self.stderr_path, "ab") as err, \
                open(os.path.join(self.work, f"coffer-{self.tag}.stdout"), "ab") as out:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=self.work, close_fds=True, env=env)
            waited = bench.wait_ready(self.port, self.proc, limit_s)
        if waited is None:
            rc = self.proc.poll()
            if rc is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            raise RuntimeError(f"{self.name} did not become ready (exit {rc}): "
                               f"{tail(self.stderr_path)}")
        return time.perf_counter() - t0


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]).strip()
    except OSError:
        return ""


def put_get(cli, bucket, key, body, md5, label):
    """One timed PutObject and one timed GetObject; returns (put MB/s, get MB/s) or Nones."""
    bench.drop_dirty()
    t0 = time.perf_counter()
    try:
        cli.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=md5)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        bench.PROBLEMS.add(f"{label}: PUT {key}: {e}")
        return None, None
    put_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        got = cli.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        bench.PROBLEMS.add(f"{label}: GET {key}: {e}")
        return len(body) / put_s / 1e6, None
    get_s = time.perf_counter() - t0
    if got != body:
        bench.PROBLEMS.add(f"{label}: GET {key} returned {len(got)} bytes, not the "
                           f"{len(body)} written (or different bytes)")
        return len(body) / put_s / 1e6, None
    return len(body) / put_s / 1e6, len(body) / get_s / 1e6


def fmt(v, spec=".0f"):
    return "-" if v is None else format(v, spec)


def ratio(c, d):
    return None if c is None or d is None or d == 0 else c / d


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coffer", default=default_coffer())
    ap.add_argument("--endpoint", default="http://127.0.0.1:7480", help="the RGW")
    ap.add_argument("--size-mib", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--part-size", type=int, default=None,
                    help="coffer's --blob-store-part-size (default: coffer's, 8388608)")
    ap.add_argument("--signed-payload", action="store_true",
                    help="let botocore SHA-256 the body (x-amz-content-sha256) in the timed PUT")
    ap.add_argument("--timeout", type=int, default=300, help="per request, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (coffer's log)")
    args = ap.parse_args()

    binary = os.path.abspath(args.coffer)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no coffer binary at {binary} (set --coffer or $COFFER_BIN)")
    size = args.size_mib * MiB
    config, cknote = client_config(args)
    print(f"coffer binary: {binary}")
    print(f"nproc: {len(os.sched_getaffinity(0))}")
    print(f"client: boto3 {boto3.__version__}, botocore {botocore.__version__}; {cknote}; "
          f"payload {'SHA-256 signed' if args.signed_payload else 'UNSIGNED-PAYLOAD'}; "
          f"Content-MD5 precomputed")
    print(f"upstream: {args.endpoint}; object {args.size_mib} MiB ({size} bytes), "
          f"{args.reps} reps, coffer --blob-store-part-size "
          f"{args.part_size or 'default (8388608)'}", flush=True)

    body = os.urandom(size)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    stamp = f"{os.getpid()}-{int(time.time())}"
    direct_bucket = f"coffer-bench-direct-{stamp}"
    upstream_bucket = f"coffer-bench-up-{stamp}"
    rgw = s3client(args.endpoint, config)
    work = tempfile.mkdtemp(prefix="coffer-upstream-")
    srv = None
    runs = {"direct": [], "coffer": []}
    made = []
    try:
        for b in (direct_bucket, upstream_bucket):
            rgw.create_bucket(Bucket=b)
            made.append(b)
        srv = UpstreamCoffer(binary, work, "up", f"s3://{upstream_bucket}/blobs",
                             args.endpoint, args.part_size)
        srv.start()
        bench.log(f"coffer on port {srv.port}, log {srv.stderr_path}")
        cof = s3client(f"http://127.0.0.1:{srv.port}", config)
        cof.create_bucket(Bucket="bench")
        targets = {"direct": (rgw, direct_bucket), "coffer": (cof, "bench")}

        # untimed warm-up: connections open, first-request paths taken
        small = os.urandom(MiB)
        small_md5 = base64.b64encode(hashlib.md5(small).digest()).decode()
        for name, (cli, bucket) in targets.items():
            put_get(cli, bucket, "warmup", small, small_md5, f"{name} warm-up")

        for rep in range(args.reps):
            order = ["direct", "coffer"] if rep % 2 == 0 else ["coffer", "direct"]
            for name in order:
                cli, bucket = targets[name]
                p, g = put_get(cli, bucket, f"large-{rep}", body, md5, name)
                runs[name].append((p, g))
                bench.log(f"rep {rep} {name}: PUT {fmt(p, '.1f')} MB/s, GET {fmt(g, '.1f')} MB/s")
            # drop this rep's objects so the store holds one at a time
            for name in order:
                cli, bucket = targets[name]
                try:
                    cli.delete_object(Bucket=bucket, Key=f"large-{rep}")
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                    bench.PROBLEMS.add(f"{name}: DELETE large-{rep}: {e}")

        for key in ("warmup",):
            for name, (cli, bucket) in targets.items():
                try:
                    cli.delete_object(Bucket=bucket, Key=key)
                except (botocore.exceptions.BotoCoreError,
                        botocore.exceptions.ClientError) as e:
                    bench.PROBLEMS.add(f"{name}: DELETE {key}: {e}")
        try:
            cof.delete_bucket(Bucket="bench")
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            bench.PROBLEMS.add(f"coffer: DELETE bucket: {e}")
    finally:
        if srv is not None and srv.proc is not None:
            rc, _ = srv.stop()
            if rc not in (0, None):
                bench.PROBLEMS.add(f"coffer exited {rc} on SIGTERM")
        for b in made:
            empty_and_delete(rgw, b)

    print()
    print(f"{args.size_mib} MiB, one PutObject / GetObject per rep, MB/s = 10^6 bytes/s; "
          f"ratio = coffer / direct (target >= {TARGET_RATIO})")
    print(f"{'rep':>6} {'order':>14} {'PUT direct':>11} {'PUT coffer':>11} {'ratio':>6} "
          f"{'GET direct':>11} {'GET coffer':>11} {'ratio':>6}")
    for rep in range(args.reps):
        if rep >= len(runs["direct"]) or rep >= len(runs["coffer"]):
            break
        (pd, gd), (pc, gc) = runs["direct"][rep], runs["coffer"][rep]
        order = "direct,coffer" if rep % 2 == 0 else "coffer,direct"
        print(f"{rep:>6} {order:>14} {fmt(pd):>11} {fmt(pc):>11} "
              f"{fmt(ratio(pc, pd), '.2f'):>6} {fmt(gd):>11} {fmt(gc):>11} "
              f"{fmt(ratio(gc, gd), '.2f'):>6}")
    mpd, mgd = med(p for p, _ in runs["direct"]), med(g for _, g in runs["direct"])
    mpc, mgc = med(p for p, _ in runs["coffer"]), med(g for _, g in runs["coffer"])
    # the median ratio is taken over the per-rep ratios, not the ratio of the medians
    rp = med(ratio(c[0], d[0]) for d, c in zip(runs["direct"], runs["coffer"]))
    rg = med(ratio(c[1], d[1]) for d, c in zip(runs["direct"], runs["coffer"]))
    print(f"{'median':>6} {'':>14} {fmt(mpd):>11} {fmt(mpc):>11} {fmt(rp, '.2f'):>6} "
          f"{fmt(mgd):>11} {fmt(mgc):>11} {fmt(rg, '.2f'):>6}")
    for what, r in (("PUT", rp), ("GET", rg)):
        if r is not None:
            print(f"{what}: median ratio {r:.2f} {'meets' if r >= TARGET_RATIO else 'misses'} "
                  f"the target >= {TARGET_RATIO}")

    if srv is not None and srv.stderr_path:
        noisy = [ln for ln in tail(srv.stderr_path, 10000).splitlines()
                 if any(w in ln.lower() for w in ("error", "warn", "fail", "retry", "503"))]
        if noisy:
            print(f"\ncoffer log ({srv.stderr_path}), lines with error/warn/fail/retry/503:")
            for ln in noisy[-40:]:
                print("  " + ln)
    if bench.PROBLEMS.items:
        print("\nproblems:")
        for p in bench.PROBLEMS.items:
            print("  " + p)
    if args.keep:
        print(f"\nwork dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bench.PROBLEMS.items else 0


if __name__ == "__main__":
    sys.exit(main())
