#!/usr/bin/env bash
# The libFuzzer variant in the test run, so that it cannot rot: configures BUILD_DIR (default
# build-fuzz) with clang and -Dfuzzing_engine=libfuzzer (every library instrumented, ASan+UBSan,
# warnings as errors), compiles the fuzzers, and runs each one for SMOKE_SECONDS (default 5)
# from its committed corpus. New inputs go to a scratch directory, never into the repository.
# Any crash, leak, sanitizer report, invariant failure or timeout fails the run. Progress goes
# to stderr; the number of fuzzers run is printed on stdout (test.sh counts them).
#   usage: scripts/test-fuzz-build.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
secs=${SMOKE_SECONDS:-5}
cd "$root"
command -v clang >/dev/null || { echo "clang is missing (scripts/install-deps.sh --test)" >&2; exit 1; }
[[ -f "$build/build.ninja" ]] ||
    CC=clang meson setup "$build" -Dfuzzing_engine=libfuzzer -Dwerror=true >&2
meson compile -C "$build" fuzzers >&2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
n=0
for corpus in tests/fuzz/corpus/fuzz_*; do
    t=$(basename "$corpus")
    mkdir -p "$scratch/$t"
    if ! "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=25 -artifact_prefix="$scratch/$t-" \
        "$scratch/$t" "$corpus" >"$scratch/$t.log" 2>&1; then
        tail -n 40 "$scratch/$t.log" >&2
        for a in "$scratch/$t-"*; do
            [[ -f "$a" ]] && echo "$t: failing input (base64): $(base64 -w0 "$a")" >&2
        done
        echo "$t: FAILED" >&2
        exit 1
    fi
    echo "$t: ok ($(grep -oE '^#[0-9]+' "$scratch/$t.log" | tail -1 | tr -d '#') runs," \
        "$(grep -oE 'cov: [0-9]+' "$scratch/$t.log" | tail -1))" >&2
    n=$((n + 1))
done
echo "$n"
