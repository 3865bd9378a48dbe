#!/usr/bin/env bash
# Installs what coffer needs from Debian's registry: build deps always; test clients with --test.
# Skips apt-get entirely when everything is already installed.
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config
      libmicrohttpd-dev libssl-dev libsqlite3-dev libxml2-dev libisal-dev libjansson-dev
      libcurl4-openssl-dev)
if [[ "${1:-}" == "--test" ]]; then
    pkgs+=(python3 python3-boto3 python3-pytest python3-cryptography awscli curl sqlite3 clang-format git openssl
           s3cmd rclone)
    # ThreadSanitizer runtime for scripts/test-tsan.sh (gcc's; normally already there with gcc)
    pkgs+=(libtsan2)
    # The libFuzzer variant of the fuzz targets (scripts/test-fuzz-build.sh): clang, its
    # sanitizer and libFuzzer runtimes (libclang-rt-14-dev, a recommendation only) and
    # libFuzzer itself; 14 is Debian 12's clang.
    pkgs+=(clang libclang-rt-14-dev libfuzzer-14-dev)
    # Headless browser for test_browser.py (driven by playwright-core, which never downloads one)
    pkgs+=(chromium)
    # The container image and its tests (test_container.py, scripts/build-image.sh): podman with
    # runc (crun refuses hybrid cgroup layouts) and netavark networking, debootstrap for the
    # base, Debian's docker-compose against podman's Docker-compatible socket.
    pkgs+=(podman runc netavark aardvark-dns iptables debootstrap docker-compose)
    # A one-node Ceph cluster with the RADOS Gateway (scripts/ceph-dev.sh) for the upstream blob
    # store tests (test_upstream.py).
    pkgs+=(ceph ceph-mon ceph-mgr ceph-osd radosgw)
    # The JavaScript SDK tests need node and npm; use the machine's when present.
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi
if [[ "${1:-}" == "--test" ]]; then
    # JavaScript SDK v3 and playwright-core for the integration tests, pinned by
    # tests/integration/js/package-lock.json; the browser is Debian's chromium, never a download.
    (cd "$(dirname "$0")/../tests/integration/js" &&
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
