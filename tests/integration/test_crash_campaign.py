"""A short crash campaign (tests/crash/): 20 kill -9s of the real server under concurrent mixed
load (PUTs at segment-boundary sizes, multipart, copy, delete, DeleteObjects, versioning, tags,
SSE-S3/KMS/C, root key rotation and KMS key creation alongside), with kills during
`coffer keys rotate`, during `coffer fsck` and during start-up. After each kill `coffer fsck`
is clean and every acknowledged write reads back exactly. Longer campaigns:
tests/crash/campaign.py --kills N.

It runs once per test command: the AddressSanitizer pass (COFFER_ASAN=1) skips it (the reason
is printed). Cost: about 1.5-3 minutes on 2 cores."""

import sys

import pytest

from conftest import ASAN, COFFER_BIN, REPO

sys.path.insert(0, str(REPO / "tests" / "crash"))
import crashlib  # noqa: E402

KILLS = 20


@pytest.fixture
def campaign(tmp_path):
    if ASAN:
        pytest.skip("the crash campaign runs once per test command, in the normal build's pass "
                    "(COFFER_ASAN=1: too slow under AddressSanitizer)")
    lines = []
    camp = crashlib.Campaign(COFFER_BIN, tmp_path / "crash", seed=20261205,
                             log=lines.append, snapshots=1)
    camp.lines = lines
    return camp


def test_short_crash_campaign(campaign):
    s = campaign.run(KILLS, progress_every=0)
    report = "\n".join(campaign.lines[-40:])
    assert s["failures"] == 0, report + "\n" + "\n".join(s["failure messages"])
    assert s["kills"] == KILLS, s
    assert s["fsck runs"] >= KILLS, s
    # every cycle kind ran at least once (the first four cycles cover them)
    for mode in crashlib.MODES:
        assert s.get(f"cycles: {mode}", 0) >= 1, (mode, s)
    assert s["acknowledged writes verified"] == s["acknowledged writes"] > 100, s
    mix = s["op mix (acknowledged)"]
    for op in ("put", "copy", "delete", "delete-objects-key", "put-tagging", "mp-part"):
        assert mix.get(op, 0) > 0, (op, mix)


@pytest.mark.parametrize("damage", ["blob", "inline", "rollback"])
def test_campaign_notices_damage(tmp_path, damage):
    """The harness itself: a removed blob file, a removed inline blob and a database rolled back
    one cycle (lost acknowledged writes) are all reported."""
    if ASAN:
        pytest.skip("the crash campaign runs once per test command, in the normal build's pass")
    camp = crashlib.Campaign(COFFER_BIN, tmp_path / "crash", seed=7, workers=2,
                             log=lambda m: None, snapshots=0, inject=damage,
                             load_seconds=(1.0, 1.5))
    s = camp.run(2, progress_every=0)
    assert s["failures"] > 0, s
    msgs = "\n".join(s["failure messages"])
    if damage in ("blob", "inline"):
        assert "blob file missing" in msgs, msgs
    else:
        # the lost writes read back old (or, when the rolled-back rows name blobs reclaimed
        # since, fail to read and fsck reports them): either way the campaign notices
        assert "expected Obj(" in msgs or ("fsck exit" in msgs and "reading s3://" in msgs), msgs
