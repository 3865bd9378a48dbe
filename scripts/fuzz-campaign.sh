#!/usr/bin/env bash
# A fuzzing campaign of any length over the libFuzzer build: runs each target for SECONDS on one
# core (nice -n 15), starting from its committed corpus, then merges what it found that adds
# coverage into tests/fuzz/corpus/<target> (existing inputs are kept: they are regression
# cases) and prints one ledger row per target for tests/fuzz/CAMPAIGN.md. A crash stops that
# target; its input is left in WORKDIR/crash-* (add it to the corpus once fixed).
#   usage: scripts/fuzz-campaign.sh BUILD_DIR SECONDS [TARGET...]   (default: every target)
# BUILD_DIR is configured with CC=clang -Dfuzzing_engine=libfuzzer (scripts/test-fuzz-build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?build dir}" && pwd)
secs=${2:?seconds per target}
shift 2
targets=("$@")
if ((${#targets[@]} == 0)); then
    for d in "$root"/tests/fuzz/corpus/fuzz_*; do targets+=("$(basename "$d")"); done
fi
work=${WORKDIR:-$(mktemp -d /tmp/coffer-fuzz.XXXXXX)}
mkdir -p "$work"
echo "| target | date | CPU min | executions | cov | ft | corpus before -> after | crashes |"
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/$t"
    corpus="$root/tests/fuzz/corpus/$t"
    grown="$work/$t"
    mkdir -p "$grown"
    cp -n "$corpus"/* "$grown"/ 2>/dev/null || true
    log="$work/$t.log"
    before=$(ls "$corpus" | wc -l)
    rc=0
    # CPU time of the fuzzer (user + system), from bash's accounting of the timed command.
    TIMEFORMAT='%3U %3S'
    { time nice -n 15 "$bin" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$work/$t-" "$grown" >"$log" 2>&1 || rc=$?; } 2>"$work/$t.time"
    cpu_s=$(awk '{print $1 + $2}' "$work/$t.time")
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
    crashes=0
    if ((rc != 0)); then
        crashes=$(ls "$work/$t-"* 2>/dev/null | wc -l)
        echo "$t: fuzzer exited $rc; see $log and $work/$t-*" >&2
    fi
    "$bin" -merge=1 -timeout=25 "$corpus" "$grown" >"$work/$t.merge.log" 2>&1 ||
        echo "$t: merge failed; see $work/$t.merge.log" >&2
    after=$(ls "$corpus" | wc -l)
    printf '| %s | %s | %.1f | %s | %s | %s | %s -> %s | %s |\n' "$t" "$(date -u +%F)" \
        "$(awk -v s="$cpu_s" 'BEGIN{print s / 60}')" "$execs" "$cov" "$ft" "$before" "$after" "$crashes"
done
