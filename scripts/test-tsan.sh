#!/usr/bin/env bash
# ThreadSanitizer pass (called by ./test.sh): builds build-tsan (gcc, -Db_sanitize=thread) and
# runs the unit suite and tests/integration/test_concurrency.py (real boto3 clients hammering
# the same keys) with halt_on_error=1, so the first data race, lock-order inversion or other
# report fails the run. Exits non-zero on any failure. Usage: scripts/test-tsan.sh [BUILD_DIR]
#
# The process runs with address-space randomisation off (setarch -R): gcc 12's TSan runtime is
# known to abort at start ("unexpected memory mapping") on kernels with vm.mmap_rnd_bits above
# 28, and it costs nothing here. No suppressions file: the uninstrumented libraries
# (libmicrohttpd, SQLite, OpenSSL) gave no false reports.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${1:-build-tsan}")
t0=$SECONDS
[[ -f "$dir/build.ninja" ]] ||
    meson setup "$dir" -Db_sanitize=thread -Dwerror=true -Dintegration=disabled >/dev/null
meson compile -C "$dir" >/dev/null
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4"
norand=(setarch "$(uname -m)" -R)
"${norand[@]}" meson test -C "$dir" --suite unit --print-errorlogs --num-processes 2
[[ -x "$dir/coffer" ]] || { echo "no coffer binary in $dir" >&2; exit 1; }
COFFER_BIN="$dir/coffer" "${norand[@]}" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/integration/test_concurrency.py
echo "ThreadSanitizer pass: no reports ($((SECONDS - t0)) s)"
