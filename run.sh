#!/usr/bin/env bash
# One command: install dependencies, build, and serve S3 on 127.0.0.1:4566 with a persistent
# data dir (./coffer-data) and a root key generated on first start (./coffer-root.key, 0600,
# kept outside the data dir so that a copy of the data alone is unreadable).
# Extra arguments go to coffer (see ./build/coffer --help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
[[ -f build/build.ninja ]] || meson setup build
meson compile -C build
exec ./build/coffer --data-dir "${COFFER_DATA_DIR:-./coffer-data}" \
    --root-key-file "${COFFER_ROOT_KEY_FILE:-./coffer-root.key}" "$@"
