#!/usr/bin/env bash
# Builds coffer's container images with podman, from Debian packages and this repository only
# (no registry): a `debootstrap --variant=minbase bookworm` root filesystem (cached), imported
# as the base, then container/Containerfile adds coffer's runtime libraries and the binary.
#
#   coffer:<version>, coffer:latest                 slim: coffer, bash, curl
#   coffer:<version>-compat, coffer:compat          plus the aws CLI (awslocal) and python3/boto3
#
# Usage: scripts/build-image.sh [--binary PATH] [--cache DIR] [--flavour slim|compat|both]
#   --binary   the coffer executable to ship (stripped on the way in); default: a release build
#              made in build-release/
#   --cache    where the debootstrap tree and the build context live (default build-release/
#              image-cache); the tree is reused while its stamp matches
#   --flavour  which images to build (default both)
# Prints the tags and sizes at the end. Needs root (debootstrap), podman, debootstrap, strip.
# CONTAINERS_CONF etc. are passed through to podman (the tests use their own containers.conf).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
binary=
cache=
flavour=both
while (($#)); do
    case $1 in
    --binary) binary=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --flavour) flavour=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $flavour in slim | compat | both) ;; *) echo "build-image.sh: bad --flavour" >&2; exit 2 ;; esac
for tool in podman debootstrap strip; do
    command -v "$tool" >/dev/null || { echo "build-image.sh: $tool not found" >&2; exit 1; }
done

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$repo/meson.build" | head -n1)
suite=bookworm
mirror=${COFFER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_tag=localhost/coffer-base:$suite-minbase

if [[ -z $binary ]]; then
    if [[ ! -f $repo/build-release/build.ninja ]]; then
        meson setup "$repo/build-release" "$repo" --buildtype=release -Db_ndebug=true \
            -Dtests=disabled >/dev/null
    fi
    meson compile -C "$repo/build-release" coffer >/dev/null
    binary=$repo/build-release/coffer
fi
[[ -x $binary ]] || { echo "build-image.sh: no executable at $binary" >&2; exit 1; }
cache=${cache:-$repo/build-release/image-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# --- the base: a slimmed minbase tree, cached under $cache and imported once -------------------
# The stamp names everything the tree depends on; change it (or the slimming below) and the
# tree is rebuilt. A base image with this stamp already in podman's storage needs no tree.
stamp="suite=$suite variant=minbase mirror=$mirror slim=1"
tree=$cache/rootfs-$suite-minbase
base_stamp=$(podman image inspect --format '{{index .Config.Labels "org.coffer.base"}}' \
    "$base_tag" 2>/dev/null || true)
if [[ $base_stamp != "$stamp" && ( ! -f $tree.stamp || $(cat "$tree.stamp") != "$stamp" ) ]]; then
    echo "== debootstrap --variant=minbase $suite into $tree (cached for later builds)"
    rm -rf "$tree" "$tree.stamp"
    debootstrap --variant=minbase "$suite" "$tree" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
        tail -n 20 "$cache/debootstrap.log" >&2
        exit 1
    }
    # What Debian's own slim images leave out, now and for packages installed later.
    cat >"$tree/etc/dpkg/dpkg.cfg.d/01-coffer-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$tree/etc/apt/apt.conf.d/01-coffer-no-recommends"
    find "$tree/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$tree/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$tree"/usr/share/man/* "$tree"/usr/share/info/* "$tree"/usr/share/locale/* \
        "$tree"/usr/share/lintian/* "$tree"/var/cache/apt/*.bin "$tree"/var/lib/apt/lists/* \
        "$tree"/var/cache/apt/archives/*.deb "$tree"/var/log/*.log "$tree"/var/log/apt/*
    echo "$stamp" >"$tree.stamp"
fi
if [[ $base_stamp != "$stamp" ]]; then
    echo "== podman import $tree as $base_tag"
    tar -C "$tree" --numeric-owner -c . |
        podman import -q --change "LABEL org.coffer.base=\"$stamp\"" \
            --change 'CMD ["/bin/bash"]' - "$base_tag" >/dev/null
fi

# --- the images ---------------------------------------------------------------------------------
ctx=$cache/context
rm -rf "$ctx"
mkdir -p "$ctx"
cp "$repo"/container/* "$ctx"/
strip --strip-unneeded -o "$ctx/coffer" "$binary"
chmod 0755 "$ctx/coffer" "$ctx/docker-entrypoint.sh" "$ctx/awslocal" "$ctx/coffer-health"

build() { # build <extra packages> <tag>...
    local extra=$1; shift
    local tags=()
    for t in "$@"; do tags+=(-t "$t"); done
    echo "== podman build ${*}"
    local old
    old=$(podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true)
    # docker format: OCI images cannot carry HEALTHCHECK.
    podman build --format docker --build-arg "BASE=$base_tag" --build-arg "EXTRA=$extra" \
        --build-arg "VERSION=$version" -f "$ctx/Containerfile" "${tags[@]}" "$ctx" >"$cache/build.log" 2>&1 || {
        tail -n 40 "$cache/build.log" >&2
        exit 1
    }
    # The image the tags named before, now untagged: remove it unless a container uses it.
    if [[ -n $old && $old != $(podman image inspect --format '{{.Id}}' "$1") ]]; then
        podman rmi "$old" >/dev/null 2>&1 || true
    fi
}
if [[ $flavour == slim || $flavour == both ]]; then
    build "" "localhost/coffer:$version" localhost/coffer:latest
fi
if [[ $flavour == compat || $flavour == both ]]; then
    build "awscli python3-boto3" "localhost/coffer:$version-compat" localhost/coffer:compat
fi
podman images --filter reference=localhost/coffer --format '{{.Repository}}:{{.Tag}} {{.Size}}'
