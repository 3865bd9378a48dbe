#!/usr/bin/env bash
# A one-node Ceph cluster with the RADOS Gateway (S3 on 127.0.0.1:7480, user test/test), for
# issue 16's upstream blob store tests. No cephadm, no containers, no systemd: each daemon runs
# in its own session from a private directory, its PID recorded, and is stopped by that PID only.
#   scripts/ceph-dev.sh install          apt-get the packages (ceph ceph-mon ceph-mgr ceph-osd radosgw)
#   scripts/ceph-dev.sh start [DIR]      make a fresh cluster in DIR (default /tmp/coffer-ceph) and
#                                        start it; prints the S3 endpoint when RGW answers
#   scripts/ceph-dev.sh stop [DIR]       stop it (RGW and mgr, then the OSD, then the mon; SIGTERM,
#                                        SIGKILL after 10 s) and remove DIR
#   scripts/ceph-dev.sh status [DIR]     which recorded daemons still run
#   scripts/ceph-dev.sh rgw-stop [DIR]   stop the gateway only (an upstream outage, for fault tests)
#   scripts/ceph-dev.sh rgw-start [DIR]  start it again; returns when it answers
# Environment: CEPH_RGW_PORT (7480), CEPH_OSD_SIZE (10G, a sparse file), CEPH_S3_KEY/SECRET
# (test/test). Facts behind the settings: ../shared/reference/ceph-one-node.md.
set -euo pipefail

dir=${2:-${CEPH_DIR:-/tmp/coffer-ceph}}
port=${CEPH_RGW_PORT:-7480}
osd_size=${CEPH_OSD_SIZE:-10G}
s3_key=${CEPH_S3_KEY:-test}
s3_secret=${CEPH_S3_SECRET:-test}
conf=$dir/ceph.conf

log() { echo "[ceph-dev] $*" >&2; }

need() {
    for b in ceph ceph-mon ceph-osd ceph-mgr radosgw radosgw-admin ceph-authtool monmaptool; do
        command -v "$b" >/dev/null || { log "$b is not installed (scripts/ceph-dev.sh install)"; exit 2; }
    done
}

install_packages() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The postinst scripts complain that systemd is not running; no daemon is started by them.
    apt-get install -y -qq --no-install-recommends ceph ceph-mon ceph-mgr ceph-osd radosgw >/dev/null
}

write_conf() {
    local fsid=$1
    cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$cluster-\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
paxos propose interval = 0.05
mon data avail crit = 1
[mon]
mon data = $dir/mon/\$cluster-\$id
[mgr]
mgr data = $dir/mgr/\$cluster-\$id
[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $osd_size
bdev aio poll ms = 20
[client.rgw.x]
rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw data = $dir/rgw
rgw gc obj min wait = 30
rgw gc processor period = 30
EOF
}

# Starts one daemon in its own session, recording its PID under DIR/pids/NAME.
spawn() {
    local name=$1
    shift
    setsid "$@" >>"$dir/log/$name.out" 2>&1 </dev/null &
    echo $! >"$dir/pids/$name"
}

wait_for() {
    local what=$1 secs=$2
    shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= end)); then
            log "$what not ready after ${secs} s; logs in $dir/log"
            return 1
        fi
        sleep 0.2
    done
}

cephc() { ceph -c "$conf" --connect-timeout 10 "$@"; }

start() {
    need
    if [[ -e $dir/pids ]]; then
        log "$dir already holds a cluster (scripts/ceph-dev.sh stop $dir first)"
        exit 1
    fi
    mkdir -p "$dir"/{run,log,pids,mon,mgr,osd,rgw}
    chmod 700 "$dir"
    local fsid
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$fsid"
    local kr=$dir/keyring
    ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
        --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n mgr.x --cap mon 'allow profile mgr' --cap osd 'allow *' \
        --cap mds 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' \
        --cap osd 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n client.rgw.x --cap mon 'allow rw' --cap osd 'allow rwx' \
        --cap mgr 'allow rw' >/dev/null
    monmaptool --create --fsid "$fsid" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' \
        "$dir/monmap" >/dev/null
    ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$kr" >/dev/null
    spawn mon.a ceph-mon -c "$conf" -i a -f
    wait_for "the monitor" 30 cephc mon stat

    local uuid
    uuid=$(cat /proc/sys/kernel/random/uuid)
    mkdir -p "$dir/osd/ceph-0"
    cephc osd new "$uuid" 0 >/dev/null
    ceph-authtool "$dir/osd/ceph-0/keyring" --create-keyring -n osd.0 \
        --add-key "$(ceph-authtool "$kr" -p -n osd.0)" >/dev/null
    ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>&1
    spawn osd.0 ceph-osd -c "$conf" -i 0 -f
    wait_for "the OSD" 60 bash -c "ceph -c '$conf' osd stat | grep -q '1 up'"

    # RGW's pools up front: created on first use they cost 2-2.6 s each.
    local p
    for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
        default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
        cephc osd pool create "$p" 8 8 >/dev/null 2>&1
        cephc osd pool application enable "$p" rgw >/dev/null 2>&1
    done
    cephc osd pool ls | grep -q default.rgw.buckets.data || { log "pools not created"; exit 1; }

    spawn rgw.x radosgw -c "$conf" -n client.rgw.x -f
    wait_for "RGW" 60 curl -sf "http://127.0.0.1:$port/"
    radosgw-admin -c "$conf" user create --uid "$s3_key" --display-name "$s3_key" \
        --access-key "$s3_key" --secret-key "$s3_secret" >/dev/null
    # mgr last: loading its modules takes CPU an OSD still starting would miss.
    mkdir -p "$dir/mgr/ceph-x"
    ceph-authtool "$dir/mgr/ceph-x/keyring" --create-keyring -n mgr.x \
        --add-key "$(ceph-authtool "$kr" -p -n mgr.x)" >/dev/null
    spawn mgr.x ceph-mgr -c "$conf" -i x -f
    echo "http://127.0.0.1:$port"
}

# SIGTERM to the recorded daemon NAME, SIGKILL after 10 s.
stop_one() {
    local f=$dir/pids/$1
    [[ -f $f ]] || return 0
    local pid
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local end=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

stop() {
    [[ -d $dir/pids ]] || { log "no cluster in $dir"; return 0; }
    # RGW and mgr first (RGW hangs on SIGTERM when the mon goes with it), then OSD, then mon.
    stop_one rgw.x
    stop_one mgr.x
    stop_one osd.0
    stop_one mon.a
    rm -rf "$dir"
}

status() {
    [[ -d $dir/pids ]] || { echo "no cluster in $dir"; return 0; }
    local f
    for f in "$dir"/pids/*; do
        if kill -0 "$(cat "$f")" 2>/dev/null; then
            echo "$(basename "$f") running (pid $(cat "$f"))"
        else
            echo "$(basename "$f") not running"
        fi
    done
}

rgw_start() {
    [[ -d $dir/pids ]] || { log "no cluster in $dir"; exit 1; }
    spawn rgw.x radosgw -c "$conf" -n client.rgw.x -f
    wait_for "RGW" 60 curl -sf "http://127.0.0.1:$port/"
}

case "${1:-}" in
install) install_packages ;;
start) start ;;
stop) stop ;;
status) status ;;
rgw-stop) stop_one rgw.x ;;
rgw-start) rgw_start ;;
*)
    sed -n '2,15p' "$0" >&2
    exit 2
    ;;
esac
