"""Every byte class of a stored blob, tampered with programmatically: each header byte, the
first, middle and last ciphertext byte and the first and last tag byte of every segment
(the short final one included), segments swapped inside a blob, segments moved between blobs
of the same object (two versions) and of different objects, truncation at every segment
boundary and inside a segment, and extension. For each, a GET of the whole object and of a
range inside the damaged segment fails, and no byte that differs from the original is ever
sent. The blob is restored after each case, and the object reads back intact at the end."""

import os
import re
from pathlib import Path

import pytest

HDR = 40                       # crypto/aead.h: magic, version, blob id, nonce base, seg size
SEG = 64 * 1024
TAG = 16
STORED = SEG + TAG
SIZE = 2 * SEG + 1000          # two full segments and a short final one
BLOB_RE = re.compile(r"^[0-9a-f]{32}$")


def blob_set(data_dir):
    return {p for p in Path(data_dir, "blobs").rglob("*") if p.is_file() and BLOB_RE.match(p.name)}


def seg_bounds(i):
    """(start, end) of stored segment i (ciphertext then tag) in the blob."""
    start = HDR + i * STORED
    n = SEG if i < 2 else SIZE - 2 * SEG
    return start, start + n + TAG


@pytest.fixture(scope="module")
def setup(tmp_path_factory, request):
    from conftest import CofferServer
    work = tmp_path_factory.mktemp("tamper")
    srv = CofferServer(work)
    srv.start()
    request.addfinalizer(srv.stop)
    c = srv.client()
    c.create_bucket(Bucket="tamper-classes")
    c.put_bucket_versioning(Bucket="tamper-classes", VersioningConfiguration={"Status": "Enabled"})
    objs = {}
    for name in ("a1", "a2", "b"):
        data = os.urandom(SIZE)
        before = blob_set(srv.data_dir)
        key = "a" if name.startswith("a") else "b"
        c.put_object(Bucket="tamper-classes", Key=key, Body=data)
        (blob,) = blob_set(srv.data_dir) - before
        objs[name] = (key, data, blob)
    # a1 is the noncurrent version of key "a", a2 the current one
    vers = c.list_object_versions(Bucket="tamper-classes", Prefix="a")["Versions"]
    vid = {v["IsLatest"]: v["VersionId"] for v in vers}
    return srv, objs, vid[False]


def fetch(srv, key, rng=None, version=None):
    path = f"/tamper-classes/{key}" + (f"?versionId={version}" if version else "")
    headers = {"Range": rng} if rng else {}
    return srv.http("GET", path, headers=headers, timeout=30)


def assert_refused(r, original, offset=0):
    """Not served completely, and every byte that was sent is the original's."""
    complete = r.status in (200, 206) and r.error is None
    assert not complete, f"tampered data served completely: {r}"
    if r.status < 500:
        assert r.body == original[offset:offset + len(r.body)], "unauthenticated bytes sent"


def cases():
    out = [("header", i) for i in range(HDR)]
    for s in range(3):
        start, end = seg_bounds(s)
        for what, at in (("ct-first", start), ("ct-mid", (start + end - TAG) // 2),
                         ("ct-last", end - TAG - 1), ("tag-first", end - TAG),
                         ("tag-last", end - 1)):
            out.append((f"seg{s}-{what}", at))
    return out


@pytest.mark.parametrize("name,at", cases(), ids=[c[0] + f"@{c[1]}" for c in cases()])
def test_flipped_byte(setup, name, at):
    srv, objs, _ = setup
    key, data, blob = objs["b"]
    raw = blob.read_bytes()
    bad = bytearray(raw)
    bad[at] ^= 0x5A
    blob.write_bytes(bytes(bad))
    try:
        assert_refused(fetch(srv, key), data)
        if at >= HDR:
            seg = (at - HDR) // STORED
            lo = seg * SEG
            r = fetch(srv, key, f"bytes={lo + 5}-{lo + 50}")
            assert_refused(r, data, lo + 5)
            assert r.status >= 500 or r.body == b""
    finally:
        blob.write_bytes(raw)


def _swap(raw, i, j):
    a, b = seg_bounds(i), seg_bounds(j)
    assert a[1] - a[0] == b[1] - b[0]
    out = bytearray(raw)
    out[a[0]:a[1]], out[b[0]:b[1]] = raw[b[0]:b[1]], raw[a[0]:a[1]]
    return bytes(out)


def _transplant(dst, src, i):
    s, e = seg_bounds(i)
    out = bytearray(dst)
    out[s:e] = src[s:e]
    return bytes(out)


def structural_cases():
    out = ["swap-0-1"]
    for i in range(3):
        out += [f"same-object-seg{i}", f"other-object-seg{i}"]
    out += [f"truncate-{n}" for n in ("hdr", "hdr-1", "seg0", "seg1", "mid-seg1",
                                      "final-1", "final-tag")]
    out += ["extend-copy", "extend-byte", "final-from-other-object"]
    return out


@pytest.mark.parametrize("case", structural_cases())
def test_structural_damage(setup, case):
    srv, objs, old_vid = setup
    key, data, blob = objs["a2"]
    other_version = objs["a1"][2].read_bytes()
    other_object = objs["b"][2].read_bytes()
    raw = blob.read_bytes()
    if case == "swap-0-1":
        bad = _swap(raw, 0, 1)
    elif case.startswith("same-object-seg"):
        bad = _transplant(raw, other_version, int(case[-1]))
    elif case.startswith("other-object-seg"):
        bad = _transplant(raw, other_object, int(case[-1]))
    elif case.startswith("truncate-"):
        cut = {"hdr": HDR, "hdr-1": HDR - 1, "seg0": seg_bounds(0)[1],
               "seg1": seg_bounds(1)[1], "mid-seg1": seg_bounds(1)[0] + 1000,
               "final-1": len(raw) - 1, "final-tag": len(raw) - TAG}[case[len("truncate-"):]]
        bad = raw[:cut]
    elif case == "extend-copy":
        s, e = seg_bounds(1)
        bad = raw + raw[s:e]
    elif case == "extend-byte":
        bad = raw + b"\0"
    else:  # the final segment of another object of the same length
        bad = raw[:seg_bounds(2)[0]] + other_object[seg_bounds(2)[0]:]
    assert bad != raw
    blob.write_bytes(bad)
    try:
        assert_refused(fetch(srv, key), data)
        # The short final segment alone: intact where only an earlier segment was damaged
        # (a range decrypts just the segments it touches), refused everywhere else.
        lo = 2 * SEG
        r = fetch(srv, key, f"bytes={lo}-")
        if case == "swap-0-1" or case[-4:] in ("seg0", "seg1") and "object" in case:
            assert r.status == 206 and r.error is None and r.body == data[lo:], r
        else:
            assert_refused(r, data, lo)
    finally:
        blob.write_bytes(raw)


def test_everything_restored_reads_back(setup):
    srv, objs, old_vid = setup
    c = srv.client()
    assert c.get_object(Bucket="tamper-classes", Key="b")["Body"].read() == objs["b"][1]
    assert c.get_object(Bucket="tamper-classes", Key="a")["Body"].read() == objs["a2"][1]
    got = c.get_object(Bucket="tamper-classes", Key="a", VersionId=old_vid)["Body"].read()
    assert got == objs["a1"][1]
