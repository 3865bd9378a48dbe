#!/usr/bin/env bash
# Every tracked C file is clang-format clean (.clang-format at the root).
set -u
root=${1:?source root}
cd "$root" || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[[ -n "$files" ]] || files=$(find common crypto storage s3 object ops server tests bench -name '*.[ch]')
clang-format --dry-run -Werror $files
