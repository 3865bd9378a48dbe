#!/usr/bin/env bash
# One command: install dependencies and test clients, build, and run every test suite (unit,
# fuzz corpus replay, integration with boto3 / aws CLI / curl), first in a normal build and
# then in an ASan+UBSan build, with the libFuzzer build and a short run of each fuzzer in
# between, then the unit suite and the concurrency test under ThreadSanitizer.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh --test

# A one-node Ceph cluster with RGW for the upstream blob store tests (test_upstream.py in both
# passes), started once (about 20 s) and always stopped. If it cannot start, those tests skip
# and say why.
ceph_dir=$(mktemp -d /tmp/coffer-test-ceph.XXXXXX)
stop_ceph() { scripts/ceph-dev.sh stop "$ceph_dir" >/dev/null 2>&1 || true; }
trap stop_ceph EXIT
echo "== one-node Ceph cluster with RGW (scripts/ceph-dev.sh)"
if endpoint=$(scripts/ceph-dev.sh start "$ceph_dir" 2>"$ceph_dir.log"); then
    export COFFER_TEST_RGW=$endpoint COFFER_TEST_CEPH_DIR=$ceph_dir
    echo "RGW at $endpoint"
else
    echo "Ceph did not start: the upstream blob store tests will skip"
    tail -n 20 "$ceph_dir.log" || true
fi

passed=0
failed=0
skipped=0
run_suite() {
    local dir=$1; shift
    [[ -f "$dir/build.ninja" ]] || meson setup "$dir" "$@"
    meson compile -C "$dir"
    local rc=0
    rm -f "$dir/tests/integration/pytest-junit.xml"
    meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
    # Count test executables (each unit/fuzz binary, and the pytest run) from meson's log.
    read -r p f k < <(/usr/bin/python3 -c '
import json, os, sys
import xml.etree.ElementTree as ET
ok = bad = skip = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["name"] == "integration":
        continue  # counted per pytest case below
    if t["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
        ok += 1
    else:
        bad += 1
junit = sys.argv[2]
if os.path.exists(junit):
    for s in ET.parse(junit).getroot().iter("testsuite"):
        n, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        ok += n - f - e - sk
        bad += f + e
        skip += sk
print(ok, bad, skip)' "$dir/meson-logs/testlog.json" "$dir/tests/integration/pytest-junit.xml")
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + k))
    if ((rc != 0)); then
        echo "$passed passed, $failed failed, $skipped skipped"
        exit "$rc"
    fi
}

echo "== build and test (debugoptimized, -Dwerror=true)"
run_suite build-test -Dwerror=true

echo "== libFuzzer variant (clang, instrumented, ASan+UBSan): build, and 5 s of each fuzzer"
fuzzers=$(scripts/test-fuzz-build.sh build-fuzz) # fails the run on any failure (set -e)
passed=$((passed + fuzzers))

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
COFFER_ASAN=1 run_suite build-asan -Db_sanitize=address,undefined -Dwerror=true

echo "== ThreadSanitizer: unit suite and the concurrency test (~2-5 min)"
scripts/test-tsan.sh build-tsan

echo "== all suites passed"
echo "$passed passed, $failed failed, $skipped skipped"
