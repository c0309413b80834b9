# Shell helpers for the S3 bridge tests' servers (sourced by .ci/run). The tests start their own servers (fixtures in
# tests/Replica.Bridges.S3.Tests/Servers): moto from Python, and Ceph radosgw through radosgw-start.sh beside this file.
#
#   source .ci/lib/s3.sh
#   moto_python            # prints a python3 that can import moto, or fails saying so
#   s3_missing_packages    # prints the Debian packages the S3 tests need that are not installed
#   s3_stop_leftovers DIR  # stops servers that fixtures started under DIR (REPLICA_S3_TMP) and a crash left behind

s3_lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

moto_python() {
    local candidates=() candidate
    if [[ -n "${REPLICA_MOTO_PYTHON:-}" ]]; then candidates+=("$REPLICA_MOTO_PYTHON"); fi
    if command -v python3 >/dev/null 2>&1; then candidates+=("$(command -v python3)"); fi
    for candidate in "$HOME"/.pyenv/versions/*/bin/python3; do
        [[ -x "$candidate" ]] && candidates+=("$candidate")
    done
    for candidate in "${candidates[@]}"; do
        if "$candidate" -c 'import moto.server' >/dev/null 2>&1; then
            # The interpreter itself, not a pyenv shim whose target could change with the working directory.
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    echo "s3.sh: moto is not installed in any python3 (tried: ${candidates[*]:-none}); the S3 bridge tests need moto 5 (python3 -m moto.server)" >&2
    return 1
}

s3_missing_packages() {
    local missing=()
    command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
    command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
    command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
    command -v s3cmd >/dev/null 2>&1 || missing+=(s3cmd)
    command -v zstd >/dev/null 2>&1 || missing+=(zstd)
    echo "${missing[@]}"
}

s3_stop_leftovers() {
    local dir=$1 base pid_file pid
    [[ -d "$dir" ]] || return 0
    for base in "$dir"/replica-rgw-*; do
        [[ -d "$base" ]] || continue
        echo "Stopping leftover radosgw test cluster in $base"
        CEPH_BASE="$base" bash "$s3_lib_dir/radosgw-stop.sh" || true
    done
    for pid_file in "$dir"/moto-*.pid; do
        [[ -f "$pid_file" ]] || continue
        pid=$(cat "$pid_file")
        # Only a process that still is moto: the pid may have been reused since.
        if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "moto.server"; then
            echo "Stopping leftover moto server (pid $pid)"
            kill "$pid" 2>/dev/null || true
        fi
        rm -f "$pid_file"
    done
}
