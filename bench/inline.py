#!/usr/bin/python3
"""Where the inline threshold comes from: durable PUT and GET rates of small bodies stored inline
in the metadata store against the same bodies stored as blob files.

Two coffer instances (durability full, the default), one with COFFER_INLINE_MAX=65536 (every body
measured is inline) and one with COFFER_INLINE_MAX=0 (every body is a file). For each body size
(--sizes, bytes) and each instance, alternating which goes first: loadgen PUTs of new keys on 16
keep-alive connections (1 s warm-up, --duration s measured), then GETs of random keys among those
written. Prints ops/s and the inline/file ratio per size, and the data dir's bytes per object.

    bench/inline.py [--coffer BIN] [--sizes 1024,4096,...] [--duration 4] [--reps 2]

Builds loadgen with cc; the coffer binary defaults to $COFFER_BIN, else build/coffer. Python
standard library only (imports bench/bench.py's server and loadgen wrappers).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (bench/bench.py: Coffer, Endpoint)


def du_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def measure(binary, loadgen, work, tag, inline_max, size, args):
    os.environ["COFFER_INLINE_MAX"] = str(inline_max)
    srv = bench.Coffer(binary, work, f"{tag}-{size}")
    try:
        srv.start()
    finally:
        del os.environ["COFFER_INLINE_MAX"]
    try:
        ep = bench.Endpoint(tag, "127.0.0.1", srv.port, "bench", loadgen)
        ep.lg("req", "--method", "PUT", "--path", "/bench")
        put = ep.lg("put-small", "--size", size, "--conns", 16, "--duration", args.duration,
                    "--warmup", 1, "--prefix", "p", timeout=120)
        n = put["ok"] if put else 0
        get = ep.lg("get-small", "--nkeys", max(n, 1), "--prefix", "p", "--conns", 16,
                    "--duration", args.duration, "--warmup", 1, timeout=120)
        srv.stop()
        per_obj = du_bytes(srv.data_dir) / max(n, 1)
        return (put["ops_per_s"] if put else 0.0, get["ops_per_s"] if get else 0.0, per_obj)
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coffer", default=os.environ.get("COFFER_BIN",
                                                       os.path.join(HERE, "..", "build",
                                                                    "coffer")))
    ap.add_argument("--sizes", default="1024,4096,16384,32768,65536")
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="coffer-inline-") as work:
        loadgen = os.path.join(work, "loadgen")
        subprocess.run(["cc", "-O2", "-pthread", "-o", loadgen,
                        os.path.join(HERE, "loadgen.c")], check=True)
        rows = []
        for size in sizes:
            got = {"inline": [], "file": []}
            for rep in range(args.reps):
                order = [("inline", 65536), ("file", 0)]
                if rep % 2:
                    order.reverse()
                for tag, limit in order:
                    got[tag].append(measure(args.coffer, loadgen, work, f"{tag}{rep}", limit,
                                            size, args))
            med = {t: [statistics.median(v[i] for v in got[t]) for i in range(3)] for t in got}
            rows.append((size, med))
            print(f"[inline] {size} B: inline PUT {med['inline'][0]:.0f}/s GET "
                  f"{med['inline'][1]:.0f}/s; file PUT {med['file'][0]:.0f}/s GET "
                  f"{med['file'][1]:.0f}/s", file=sys.stderr)
    print(f"durable PUT and GET, 16 connections, {args.duration:g} s each, median of "
          f"{args.reps}; ratio = inline / file")
    print(f"{'size':>8} {'PUT inline':>11} {'PUT file':>9} {'ratio':>6} {'GET inline':>11} "
          f"{'GET file':>9} {'ratio':>6} {'disk/obj inline':>16} {'disk/obj file':>14}")
    for size, m in rows:
        pi, gi, di = m["inline"]
        pf, gf, df = m["file"]
        print(f"{size:>8} {pi:>11.0f} {pf:>9.0f} {pi / pf if pf else 0:>6.2f} {gi:>11.0f} "
              f"{gf:>9.0f} {gi / gf if gf else 0:>6.2f} {di:>16.0f} {df:>14.0f}")


if __name__ == "__main__":
    main()
