#!/usr/bin/env bash
# One command: install dependencies and test clients, build, and run every test suite (unit,
# fuzz corpus replay, integration with boto3 / aws CLI / curl), first in a normal build and
# then in an ASan+UBSan build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh --test

run_suite() {
    local dir=$1; shift
    [[ -f "$dir/build.ninja" ]] || meson setup "$dir" "$@"
    meson compile -C "$dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2
}

echo "== build and test (debugoptimized, -Dwerror=true)"
run_suite build-test -Dwerror=true

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
COFFER_ASAN=1 run_suite build-asan -Db_sanitize=address,undefined -Dwerror=true

echo "== all suites passed"
