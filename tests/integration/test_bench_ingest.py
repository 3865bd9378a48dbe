"""bench/ingest.c (coffer-ingest), the direct ingest helper of bench/scale.py: the objects it
writes must be what a PutObject writes, since the scale benchmark measures them. Compared with
a template PUT over HTTP through boto3: bytes, ETag, content type, the stored CRC64NVME, listing,
and fsck reading every one back."""
import os
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import COFFER_BIN, md5_hex

INGEST = Path(COFFER_BIN).parent / "bench" / "coffer-ingest"
BODY = b"coffer ingest test body\n"


def ingest(srv, *args):
    return subprocess.run([str(INGEST), str(srv.data_dir), str(srv.root_key), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def filled(coffer_factory):
    if not INGEST.exists():
        pytest.fail(f"{INGEST} is not built (meson compile -C build)")
    srv = coffer_factory()
    c = srv.client()
    c.create_bucket(Bucket="ingest")
    c.put_object(Bucket="ingest", Key="template", Body=BODY, ContentType="text/plain")
    srv.stop()
    p = ingest(srv, "ingest", "template", BODY.decode(), "25", "10")
    assert p.returncode == 0, p.stderr
    srv.start()
    return srv


def test_ingested_objects_are_what_a_put_writes(filled):
    c = filled.client()
    t = c.head_object(Bucket="ingest", Key="template", ChecksumMode="ENABLED")
    keys = [f"d{i // 10:04d}/k{i:07d}" for i in range(25)]
    for k in (keys[0], keys[13], keys[24]):
        g = c.get_object(Bucket="ingest", Key=k, ChecksumMode="ENABLED")
        assert g["Body"].read() == BODY
        assert g["ETag"] == f'"{md5_hex(BODY)}"' == t["ETag"]
        assert g["ContentType"] == "text/plain"
        # Debian's boto3 predates CRC64NVME: read the header itself
        crc = g["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc64nvme")
        assert crc is not None
        assert crc == t["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"]
        assert g["ServerSideEncryption"] == "AES256"
        assert g["ContentLength"] == len(BODY)
    listed = c.list_objects_v2(Bucket="ingest", Prefix="d")
    assert [o["Key"] for o in listed["Contents"]] == keys
    deli = c.list_objects_v2(Bucket="ingest", Delimiter="/")
    assert [p["Prefix"] for p in deli["CommonPrefixes"]] == ["d0000/", "d0001/", "d0002/"]
    assert [o["Key"] for o in deli["Contents"]] == ["template"]
    # an ingested object is overwritten and deleted like any other
    c.put_object(Bucket="ingest", Key=keys[5], Body=b"new")
    assert c.get_object(Bucket="ingest", Key=keys[5])["Body"].read() == b"new"
    c.delete_object(Bucket="ingest", Key=keys[6])
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="ingest", Key=keys[6])
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_fsck_reads_every_ingested_object(filled):
    filled.stop()
    p = subprocess.run([COFFER_BIN, "fsck", "--data-dir", str(filled.data_dir),
                        "--root-key-file", str(filled.root_key)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("fsck: 26 objects checked")
    assert " 0 damaged, 0 unreferenced blobs" in p.stdout
    filled.start()


def test_ingest_refuses_a_body_other_than_the_templates(filled):
    filled.stop()
    blobs = sum(len(f) for _, _, f in os.walk(filled.data_dir / "blobs"))
    p = ingest(filled, "ingest", "template", "another body", "3")
    assert p.returncode == 1
    assert "is not the template's ETag" in p.stderr
    assert sum(len(f) for _, _, f in os.walk(filled.data_dir / "blobs")) == blobs
    p = ingest(filled, "no-such-bucket", "template", BODY.decode(), "3")
    assert p.returncode == 1 and "COF_ERR_NO_BUCKET" in p.stderr
    p = ingest(filled, "ingest", "template", BODY.decode(), "0")
    assert p.returncode == 2
    filled.start()
