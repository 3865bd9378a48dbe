"""Seed 000, the blog post "AWS S3 Encryption" (SSE-S3 with LocalStack): its aws CLI
session and its sse-s3.py script with the session that runs it, replayed against a
fresh coffer.

Where the commands come from (see seedtext.py): when the seed exists at
<repo>/../shared/seeds/000_*.txt, the CLI session, the Python session and the script
are extracted from it, and the vendored copies under tests/integration/seeds/
(sse-s3-aws-cli-session.txt, sse-s3-python-session.txt, sse-s3.py) must be identical
to what it contains, so they cannot drift. When it is absent (CI machines may not have
../shared/), the vendored copies are run. Either way the tests run; they never skip.
"""

import json
import shlex
import subprocess

import pytest

from conftest import PYTHON, aws_env, output_lines, run_aws
from seedtext import fenced_blocks, fenced_file, section, seed_source, session

BUCKET = "sse-s3-encrypted-bucket"
SECRET = b"This is a secret file content.\n"
SEED_ENDPOINT = "http://localhost:4566"


def cli_session():
    return seed_source("000", "sse-s3-aws-cli-session.txt",
                       lambda t: fenced_blocks(section(t, "## Using aws", "## Using Python")))


def python_session():
    return seed_source("000", "sse-s3-python-session.txt",
                       lambda t: fenced_blocks(section(t, "## Using Python", "## Using Perl")))


def script_source():
    return seed_source("000", "sse-s3.py", lambda t: fenced_file(t, "sse-s3.py", "python"))


@pytest.fixture
def seed_server(coffer_factory):
    return coffer_factory()


def _normalise_json(doc, actual):
    """The post's JSON with the values that differ per run taken from the actual output."""
    if isinstance(doc, dict) and "LastModified" in doc:
        assert "LastModified" in actual, actual
        doc = {**doc, "LastModified": actual["LastModified"]}
    return doc


def test_seed_cli_session(seed_server, tmp_path):
    """Each command of the post's aws CLI session, as written (aws pointed at this
    server), prints what the post shows; the JSON ones compare as JSON, with the
    LastModified time of this run."""
    endpoint = f"http://localhost:{seed_server.port}"
    cwd = tmp_path / "work"
    cwd.mkdir()
    steps = session(cli_session())
    assert [c.split()[0] for c, _ in steps].count("aws") == 8, steps
    env = {**aws_env(tmp_path), "COFFER_ENDPOINT": endpoint}
    prelude = 'aws() { /usr/bin/aws --endpoint-url "$COFFER_ENDPOINT" "$@"; }\n'
    for cmd, shown in steps:
        p = subprocess.run(["/bin/bash", "-c", prelude + cmd], cwd=str(cwd), env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        text = "\n".join(shown).strip()
        if text.startswith("{"):
            actual = json.loads(p.stdout)
            assert actual == _normalise_json(json.loads(text), actual), (cmd, p.stdout)
        else:
            # `aws s3 cp` may add "Completed ..." progress lines; the post shows the last one.
            got = [l for l in output_lines(p.stdout) if not l.startswith("Completed ")]
            assert got == [l.strip() for l in shown if l.strip()], (cmd, p.stdout)
    assert (cwd / "secret-file.txt").read_bytes() == SECRET
    assert (cwd / "downloaded-secret-file.txt").read_bytes() == SECRET
    # the last command removed the bucket
    p = run_aws(endpoint, "s3api", "head-bucket", "--bucket", BUCKET, cwd=str(cwd),
                home=str(tmp_path), check=False)
    assert p.returncode != 0


def _script_env(home):
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true"}


# Where the post's printed output is not what its own script prints (the post was
# captured from an earlier version of the script): post line -> script line.
POST_VS_SCRIPT = {
    "  --bucket BUCKET      Bucket namei, default sse-se-encrypted-bucket":
        "  --bucket BUCKET      Bucket namei, default sse-s3-encrypted-bucket",
    "File encryption: AES256": "Object encryption: AES256",
    f"Bucket '{BUCKET}' deleted successfully.": f"Bucket '{BUCKET}' deleted successfully",
}


def test_seed_python_session(seed_server, tmp_path):
    """The post's script, with only its endpoint changed, run with each command line of
    the post's Python session, prints what the post shows (but for POST_VS_SCRIPT)."""
    src = script_source()
    assert src.count(SEED_ENDPOINT) == 1
    script = tmp_path / "sse-s3.py"
    script.write_text(src.replace(SEED_ENDPOINT, f"http://localhost:{seed_server.port}"),
                      encoding="utf-8")
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / "secret-file.txt").write_bytes(SECRET)
    steps = session(python_session(), prompt="(myenv) $ ")
    assert len(steps) == 7, steps
    for cmd, shown in steps:
        argv = shlex.split(cmd)
        assert argv[:2] == ["py", "sse-s3.py"], cmd
        # COLUMNS: the post's terminal was wide enough for a one-line usage.
        p = subprocess.run([PYTHON, str(script), *argv[2:]], cwd=str(cwd),
                           env={**_script_env(tmp_path), "COLUMNS": "200"},
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        want = [POST_VS_SCRIPT.get(l, l) for l in shown]
        assert p.stdout.rstrip("\n").split("\n") == want, (cmd, p.stdout)
        if "--make-enc-bucket" in argv:
            # what the script did is really there: an eu-west-1 bucket with SSE-S3
            c = seed_server.client()
            assert c.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
            enc = c.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
            assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == \
                "AES256"
        if "--upload" in argv:
            h = seed_server.client().head_object(Bucket=BUCKET, Key="secret-file.txt")
            assert h["ETag"] == '"5c1c7463b3b94cd0e204abf746a42671"'
            assert h["ServerSideEncryption"] == "AES256"
    assert (cwd / "new_secret-file.txt").read_bytes() == SECRET
    assert seed_server.client().list_buckets()["Buckets"] == []
