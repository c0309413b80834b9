#!/usr/bin/env bash
# Starts a throwaway one-node Ceph cluster serving S3: one monitor, one in-memory OSD (memstore, nothing on disk but
# logs), no manager, cluster auth off, and radosgw on http://127.0.0.1:$RGW_PORT with one user (access key and secret
# $RGW_ACCESS_KEY / $RGW_SECRET_KEY, default test/test). Takes about 11 s. Stop it with radosgw-stop.sh (same CEPH_BASE).
# Used by the S3 bridge tests' RadosgwServer fixture; runs by hand too:
#   CEPH_BASE=/tmp/rgw RGW_PORT=7480 MON_PORT=6789 bash .ci/lib/radosgw-start.sh
# Needs (Debian 12): apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd   (.ci/run does this)
# Environment: CEPH_BASE (required: a new or empty directory, it holds config, pids, logs), RGW_PORT (default 7480),
# MON_PORT (default 6789), RGW_ACCESS_KEY, RGW_SECRET_KEY, RGW_MEMSTORE_BYTES (the OSD's RAM budget, default 2 GiB).
set -euo pipefail

base=${CEPH_BASE:?CEPH_BASE must name a new or empty directory for the cluster}
rgw_port=${RGW_PORT:-7480}
mon_port=${MON_PORT:-6789}
access_key=${RGW_ACCESS_KEY:-test}
secret_key=${RGW_SECRET_KEY:-test}
memstore_bytes=${RGW_MEMSTORE_BYTES:-2147483648}

for tool in monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "radosgw-start.sh: '$tool' is missing; install it: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd" >&2
        exit 2
    fi
done
if [[ -d "$base" && -n "$(ls -A "$base")" ]]; then
    echo "radosgw-start.sh: CEPH_BASE '$base' is not empty; give a new or empty directory" >&2
    exit 2
fi
mkdir -p "$base"/{run,log,mon,osd/ceph-0}
# The monitor refuses to start (and says so only in its log) when its disk has less than 5% free.
free_pct=$(df -P "$base" | awk 'NR == 2 { gsub("%", "", $5); print 100 - $5 }')
if ((free_pct < 6)); then
    echo "radosgw-start.sh: only ${free_pct}% of the disk holding '$base' is free; ceph-mon needs at least 5%" >&2
    exit 2
fi

# On failure, stop whatever already runs so that no daemon outlives a failed start.
started=0
on_exit() {
    if [[ $? -ne 0 && $started -eq 1 ]]; then
        echo "radosgw-start.sh: start failed; last log lines:" >&2
        tail -n 15 "$base"/log/*.log "$base"/log/*.out 2>/dev/null >&2 || true
        CEPH_BASE="$base" bash "$(dirname "${BASH_SOURCE[0]}")/radosgw-stop.sh" --keep || true
    fi
}
trap on_exit EXIT

fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$base/ceph.conf" <<CONF
[global]
fsid = $fsid
mon initial members = a
mon host = v1:127.0.0.1:$mon_port
public network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $base/run
admin socket = $base/run/\$name.asok
log file = $base/log/\$name.log
mon data = $base/mon/\$cluster-\$id
osd data = $base/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $memstore_bytes
keyring = /dev/null
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
CONF
export CEPH_CONF=$base/ceph.conf

started=1
monmaptool --create --add a "v1:127.0.0.1:$mon_port" --fsid "$fsid" "$base/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$base/monmap" >"$base/log/mon-mkfs.out" 2>&1
ceph-mon -f -i a >"$base/log/mon.out" 2>&1 &
echo $! >"$base/mon.pid"
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
# Also waits until the monitor answers.
timeout 60 ceph osd new "$osd_uuid" >/dev/null
ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" >"$base/log/osd-mkfs.out" 2>&1
ceph-osd -f -i 0 >"$base/log/osd.out" 2>&1 &
echo $! >"$base/osd.pid"
radosgw -f -n client.rgw.a >"$base/log/rgw.out" 2>&1 &
echo $! >"$base/rgw.pid"

# Up to 180 s: on a loaded 2-core machine (CI beside other builds) radosgw has taken more than 60 s to listen.
listen_deadline=$((SECONDS + 180))
while ((SECONDS < listen_deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$rgw_port") 2>/dev/null; then break; fi
    if ! kill -0 "$(cat "$base/rgw.pid")" 2>/dev/null; then
        echo "radosgw-start.sh: radosgw exited (port $rgw_port taken?)" >&2
        exit 1
    fi
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$rgw_port") 2>/dev/null || { echo "radosgw-start.sh: radosgw did not listen on port $rgw_port within 180 s" >&2; exit 1; }
timeout 60 radosgw-admin user create --uid=test --display-name=test --access-key="$access_key" --secret-key="$secret_key" >/dev/null
echo "radosgw ready on http://127.0.0.1:$rgw_port (pids: mon $(cat "$base/mon.pid") osd $(cat "$base/osd.pid") rgw $(cat "$base/rgw.pid"))"
