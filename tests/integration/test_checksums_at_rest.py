"""Checksums of SSE-C and SSE-KMS objects are stored sealed (DESIGN: plaintext-derived values
are stored encrypted for those modes): they come back on GET/HEAD with x-amz-checksum-mode,
GetObjectAttributes and ListParts (SSE-C: with the customer key only), and a canary's checksum
(base64, hex and raw) appears nowhere under the data dir, while an SSE-S3 control's does."""
import base64
import hashlib
import os
import zlib
from pathlib import Path

import pytest

from conftest import raw_request

ALG = "x-amz-server-side-encryption-customer-algorithm"
KEY = "x-amz-server-side-encryption-customer-key"
KMD5 = "x-amz-server-side-encryption-customer-key-MD5"
SSE = "x-amz-server-side-encryption"


def b64(data):
    return base64.b64encode(data).decode()


def ssec(key):
    return {ALG: "AES256", KEY: b64(key), KMD5: b64(hashlib.md5(key).digest())}


def kms():
    return {SSE: "aws:kms"}


def crc32_raw(data):
    return zlib.crc32(data).to_bytes(4, "big")


@pytest.fixture
def srv(coffer_factory, tmp_path):
    s = coffer_factory(workdir=tmp_path / "w")
    assert raw_request(s.port, "PUT", "/cks").status == 200
    return s


def req(srv, method, path, **kw):
    return raw_request(srv.port, method, path, **kw)


def complete_body(etags):
    return ("<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{e}</ETag></Part>"
        for i, e in enumerate(etags)) + "</CompleteMultipartUpload>").encode()


@pytest.mark.parametrize("mode", ["sse-c", "sse-kms"])
def test_single_put_checksum_comes_back(srv, mode):
    key = os.urandom(32)
    enc = ssec(key) if mode == "sse-c" else kms()
    rd = ssec(key) if mode == "sse-c" else {}
    data = os.urandom(100000)
    want = b64(hashlib.sha256(data).digest())
    r = req(srv, "PUT", "/cks/o", body=data, headers={**enc, "x-amz-checksum-sha256": want})
    assert r.status == 200, r
    for method in ("HEAD", "GET"):
        g = req(srv, method, "/cks/o", headers={**rd, "x-amz-checksum-mode": "ENABLED"})
        assert g.status == 200, g
        assert g.header("x-amz-checksum-sha256") == want
        assert g.header("x-amz-checksum-type") == "FULL_OBJECT"
    a = req(srv, "GET", "/cks/o?attributes", headers={**rd, "x-amz-object-attributes": "Checksum"})
    assert a.xml().findtext("{*}Checksum/{*}ChecksumSHA256") == want
    # the default checksum (CRC64NVME) is kept too
    r = req(srv, "PUT", "/cks/d", body=data, headers=enc)
    got = r.header("x-amz-checksum-crc64nvme")
    assert got
    h = req(srv, "HEAD", "/cks/d", headers={**rd, "x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-crc64nvme") == got


@pytest.mark.parametrize("mode", ["sse-c", "sse-kms"])
@pytest.mark.parametrize("typ", ["FULL_OBJECT", "COMPOSITE"])
def test_multipart_checksum_comes_back(srv, mode, typ):
    key = os.urandom(32)
    enc = ssec(key) if mode == "sse-c" else kms()
    rd = ssec(key) if mode == "sse-c" else {}
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(777)]
    raws = [crc32_raw(p) for p in parts]
    if typ == "FULL_OBJECT":
        want = b64(crc32_raw(b"".join(parts)))
    else:
        want = b64(crc32_raw(b"".join(raws))) + "-2"
    r = req(srv, "POST", "/cks/m?uploads", headers={**enc, "x-amz-checksum-algorithm": "CRC32",
                                                    "x-amz-checksum-type": typ})
    assert r.status == 200, r
    uid = r.xml().findtext("{*}UploadId")
    etags = []
    for i, d in enumerate(parts):
        p = req(srv, "PUT", f"/cks/m?partNumber={i + 1}&uploadId={uid}", body=d, headers=rd)
        assert p.status == 200, p
        assert p.header("x-amz-checksum-crc32") == b64(raws[i])
        etags.append(p.header("ETag"))
    lp = req(srv, "GET", f"/cks/m?uploadId={uid}", headers=rd)
    assert [e.text for e in lp.xml().findall(".//{*}ChecksumCRC32")] == [b64(x) for x in raws]
    if mode == "sse-c":  # without the key the sealed part checksums stay hidden
        lp = req(srv, "GET", f"/cks/m?uploadId={uid}")
        assert lp.status == 200 and not list(lp.xml().findall(".//{*}ChecksumCRC32"))
        bad = req(srv, "GET", f"/cks/m?uploadId={uid}", headers=ssec(os.urandom(32)))
        assert bad.status == 400
    c = req(srv, "POST", f"/cks/m?uploadId={uid}", body=complete_body(etags),
            headers={**rd, "x-amz-checksum-crc32": want})
    assert c.status == 200, c
    assert c.xml().findtext("{*}ChecksumCRC32") == want
    for method in ("HEAD", "GET"):
        g = req(srv, method, "/cks/m", headers={**rd, "x-amz-checksum-mode": "ENABLED"})
        assert g.status == 200, g
        assert g.header("x-amz-checksum-crc32") == want
        assert g.header("x-amz-checksum-type") == typ
    a = req(srv, "GET", "/cks/m?attributes", headers={**rd, "x-amz-object-attributes": "Checksum"})
    assert a.xml().findtext("{*}Checksum/{*}ChecksumCRC32") == want
    assert a.xml().findtext("{*}Checksum/{*}ChecksumType") == typ


def test_checksum_canary_never_on_disk(srv):
    """SHA256 checksums of canary objects (single and multipart, SSE-C and SSE-KMS) are nowhere
    under the data dir: not as base64, not as hex, not raw."""
    key = os.urandom(32)
    canaries = {}
    for mode, enc in (("c", ssec(key)), ("kms", kms()), ("s3", {})):
        data = os.urandom(70000)
        d = hashlib.sha256(data).digest()
        r = req(srv, "PUT", f"/cks/single-{mode}", body=data,
                headers={**enc, "x-amz-checksum-sha256": b64(d)})
        assert r.status == 200, r
        canaries[f"single-{mode}"] = d
        # multipart: part checksums and the composite
        rd = ssec(key) if mode == "c" else {}
        r = req(srv, "POST", f"/cks/mp-{mode}?uploads",
                headers={**enc, "x-amz-checksum-algorithm": "SHA256"})
        uid = r.xml().findtext("{*}UploadId")
        part = os.urandom(1000)
        pd = hashlib.sha256(part).digest()
        p = req(srv, "PUT", f"/cks/mp-{mode}?partNumber=1&uploadId={uid}", body=part, headers=rd)
        assert p.header("x-amz-checksum-sha256") == b64(pd)
        canaries[f"part-{mode}"] = pd
        c = req(srv, "POST", f"/cks/mp-{mode}?uploadId={uid}",
                body=complete_body([p.header("ETag")]), headers=rd)
        assert c.status == 200, c
        comp = c.xml().findtext("{*}ChecksumSHA256")
        assert comp == b64(hashlib.sha256(pd).digest()) + "-1"
        canaries[f"composite-{mode}"] = hashlib.sha256(pd).digest()
    h = req(srv, "HEAD", "/cks/single-c", headers={**ssec(key), "x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-sha256") == b64(canaries["single-c"])
    srv.stop()

    files = [p for p in Path(srv.data_dir).rglob("*") if p.is_file()]
    blob = b"".join(p.read_bytes() for p in files)

    def forms(d):
        return {"base64": b64(d).encode(), "hex": d.hex().encode(),
                "HEX": d.hex().upper().encode(), "raw": d}

    for name, d in canaries.items():
        for form, needle in forms(d).items():
            found = needle in blob
            # (an SSE-S3 part's row is gone after Complete: only the objects are controls)
            if name.endswith("-s3") and not name.startswith("part") and form == "base64":
                assert found, f"control: SSE-S3 {name} checksum should be stored in clear"
            elif not name.endswith("-s3"):
                assert not found, f"{name} checksum ({form}) found under the data dir"
