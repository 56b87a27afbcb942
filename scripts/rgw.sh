#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with a RADOS Gateway (S3) on 127.0.0.1, for tests and
# benchmarks. No systemd, no cephadm: one monitor, one OSD on the in-memory memstore backend,
# radosgw with the beast frontend, a test user with fixed keys. Comes up in a few seconds.
#
#   scripts/rgw.sh start DIR   start a cluster whose state lives in DIR (created); prints the
#                              environment to use it and writes it to DIR/env:
#                              AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                              AWS_REGION; a bucket "tessera" exists
#   scripts/rgw.sh stop DIR    stop every daemon of that cluster by its pid (and remove DIR)
#   scripts/rgw.sh shared DIR  for ctest's "rgw" fixture (one gateway shared by every S3 test
#                              process of a run): stop whatever DIR held, start anew (three
#                              tries); exits 0 even when Ceph is missing or will not start, so
#                              that the tests themselves decide (each then starts its own, and
#                              skips or, under CI, fails with the reason)
#
# Ports are picked free at start, so two clusters (two test runs) can coexist. Needs Debian's
# ceph-mon ceph-osd radosgw ceph-common (scripts/install_deps.sh). Facts this relies on (found
# the hard way): `auth * required = none`; pool size 1 with `mon allow pool size one`;
# `osd crush chooseleaf type = 0`; a short `paxos propose interval` (the 1 s default makes
# start-up 13 s); `ms mon client mode = crc secure` for radosgw, which otherwise hangs with
# passwordless auth; no `rgw zone`/`rgw zonegroup` on a fresh cluster.
set -euo pipefail

readonly ACCESS_KEY="TESSERATESTACCESSKEY"
readonly SECRET_KEY="tesseratestsecretkey0123456789abcdefghij"

die() { echo "rgw.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  for tool in monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install ceph-mon ceph-osd radosgw ceph-common)"
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log"
  local fsid mon_port rgw_port osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
ms bind msgr2 = false
ms bind ipv6 = false
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
mon warn on pool no redundancy = false
paxos propose interval = 0.05
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = $dir/keyring
mon data = $dir/mon/\$name
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
osd op num threads per shard = 1
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
ms mon client mode = crc secure
rgw enable usage log = false
rgw thread pool size = 32
EOF
  export CEPH_CONF="$dir/ceph.conf"
  # Monitor.
  monmaptool --create --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" >/dev/null 2>&1 ||
    die "ceph-mon --mkfs failed (see $dir/log)"
  ceph-mon -i a >>"$dir/log/daemons.out" 2>&1 || die "ceph-mon did not start (see $dir/log/mon.a.log)"
  # One OSD in memory.
  local osd_id
  osd_id=$(timeout 30 ceph osd new "$osd_uuid" 2>/dev/null) || die "ceph osd new failed"
  mkdir -p "$dir/osd/osd.$osd_id"
  ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 ||
    die "ceph-osd --mkfs failed (see $dir/log/osd.$osd_id.log)"
  ceph-osd -i "$osd_id" >>"$dir/log/daemons.out" 2>&1 || die "ceph-osd did not start"
  # The gateway.
  mkdir -p "$dir/rgw"
  radosgw -n client.rgw.test >>"$dir/log/daemons.out" 2>&1 || die "radosgw did not start"
  local up=0
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "http://127.0.0.1:$rgw_port/"; then up=1; break; fi
    sleep 0.1
  done
  [ "$up" = 1 ] || die "radosgw not answering on 127.0.0.1:$rgw_port (see $dir/log/client.rgw.test.log)"
  timeout 60 radosgw-admin user create --uid=tessera --display-name=tessera \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>&1 ||
    die "radosgw-admin user create failed"
  # A bucket to start with: s3://tessera/...
  curl -s -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "http://127.0.0.1:$rgw_port/tessera" ||
    die "creating bucket 'tessera' failed"
  cat >"$dir/env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:$rgw_port
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
AWS_REGION=us-east-1
EOF
  cat "$dir/env"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  local pids=()
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] && pids+=("$(cat "$pidfile")")
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}

shared() {
  local dir=$1
  stop "$dir"
  if ! command -v radosgw >/dev/null; then
    echo "rgw.sh: Ceph not installed; S3 tests start their own gateway or skip"
    return 0
  fi
  for attempt in 1 2 3; do
    if (start "$dir"); then return 0; fi
    echo "rgw.sh: shared gateway start attempt $attempt failed"
    stop "$dir"
  done
  echo "rgw.sh: no shared gateway; S3 tests start their own"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: rgw.sh start DIR"; start "$2" ;;
  shared) [ $# -eq 2 ] || die "usage: rgw.sh shared DIR"; shared "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: rgw.sh stop DIR"; stop "$2" ;;
  *) die "usage: rgw.sh start|stop|shared DIR" ;;
esac
