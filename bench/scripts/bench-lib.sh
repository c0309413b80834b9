# Shared helpers for bench/run-e2e.sh and bench/run-issue3.sh (sourced, not run).
#
# A run is a CSV with one line per timed command:
#   round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note
# wall_s, cpu_s (user + sys of the command and its children) and peak_rss_kib come from
# /usr/bin/time -f '%e %U %S %M'. For a shell pipeline run under `bash -c`, %M is the peak RSS of its largest single
# process (getrusage keeps the maximum, not the sum), so a pipeline's memory is understated by its smaller members.
# Callers set: work (scratch dir), csv (output file), round (1-based round number).

# bench_require TOOL... : exits 2 naming the first missing tool.
bench_require() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "$(basename "$0"): $tool not found (apt-get install mawk time zstd openssl s3cmd; dotnet from the .NET SDK)" >&2
            exit 2
        fi
    done
}

# bench_build_cli : builds src/Replica.Cli in Release and sets $replica (the Debug build uses 509-byte read blocks on
# purpose, which is useless to time).
bench_build_cli() {
    echo "== building src/Replica.Cli (Release)"
    dotnet build -c Release src/Replica.Cli -nologo -v quiet >/dev/null
    replica="$PWD/src/Replica.Cli/bin/Release/net10.0/replica"
}

# bench_check_space DIR BYTES : exits 1 unless DIR's file system has BYTES free.
bench_check_space() {
    local avail_kib
    avail_kib=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
    if ((avail_kib < $2 / 1024)); then
        echo "$(basename "$0"): $1 has $((avail_kib / 1024)) MiB free, needs $(($2 / 1048576)) MiB" >&2
        exit 1
    fi
}

# time_case NAME INPUT STDOUT COMMAND... : runs COMMAND once with stdout to STDOUT ('OUT' means a file in the fresh
# output dir $work/out, which also holds REPLICA_BENCH_BRIDGE), appends a CSV line, prints a summary line, and deletes
# the output. If a function bench_after_case is defined, its stdout becomes the note column (e.g. a server's RSS).
time_case() {
    local name=$1 input=$2 target=$3
    shift 3
    rm -rf "$work/out"
    mkdir "$work/out"
    [[ "$target" == OUT ]] && target="$work/out/stdout.dat"
    if ! REPLICA_BENCH_BRIDGE="$work/out/bridge" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >"$target"; then
        echo "$(basename "$0"): case $name failed (round $round): $*" >&2
        tail -n 5 "$work/time.txt" >&2 || true
        exit 1
    fi
    local wall user sys rss cpu out_bytes note=""
    read -r wall user sys rss <"$work/time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    out_bytes=$(du -sb "$work/out" | cut -f1)
    if declare -F bench_after_case >/dev/null; then note=$(bench_after_case "$name"); fi
    echo "$round,$name,$input,$(stat -c %s "$input"),$wall,$cpu,$rss,$out_bytes,$note" >>"$csv"
    printf '   %-24s %7s s wall %7s s CPU %8s KiB peak RSS %s\n' "$name" "$wall" "$cpu" "$rss" "$note"
    rm -rf "$work/out"
}

# bench_median CSV CASE COLUMN : the median of a numeric column (5 wall_s, 6 cpu_s, 7 peak_rss_kib) over a case's runs.
bench_median() {
    awk -F, -v c="$2" -v col="$3" '
    NR > 1 && $2 == c { v[++n] = $col + 0 }
    END {
        if (n == 0) { print 0; exit }
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        print (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
    }' "$1"
}

# bench_div A B [FORMAT] : A / B, printed with FORMAT (default %.2f).
bench_div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b == 0) print "n/a"; else printf f, a / b }'; }

# bench_ge A B : exit status 0 when A >= B (floating point).
bench_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# bench_table CSV : a Markdown table, one row per case in order of first appearance, medians over its runs.
bench_table() {
    awk -F, '
    NR == 1 { next }
    {
        k = $2; m = ++n[k]; wall[k, m] = $5; cpu[k, m] = $6; rss[k, m] = $7; bytes[k] = $4
        if (!(k in seen)) { seen[k] = 1; order[++cases] = k }
    }
    function median(arr, k, count,    i, j, t, v) {
        for (i = 1; i <= count; i++) v[i] = arr[k, i] + 0
        for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END {
        print "| case | input MiB | runs | median wall s | MiB/s | median CPU s | median peak RSS MiB | max peak RSS MiB | wall s (all runs) |"
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        for (x = 1; x <= cases; x++) {
            k = order[x]; w = median(wall, k, n[k]); maxr = 0; all = ""
            for (i = 1; i <= n[k]; i++) { if (rss[k, i] + 0 > maxr) maxr = rss[k, i] + 0; all = all (i > 1 ? ", " : "") wall[k, i] }
            printf "| %s | %.0f | %d | %.2f | %.0f | %.2f | %.1f | %.1f | %s |\n", k, bytes[k] / 1048576, n[k], w,
                bytes[k] / 1048576 / w, median(cpu, k, n[k]), median(rss, k, n[k]) / 1024, maxr / 1024, all
        }
    }' "$1"
}

# bench_live_server DB_MB : starts the live benchmarks' throwaway PostgreSQL (.ci/lib/pg.sh, sourced by the caller; the
# caller's EXIT trap calls pg_stop) with bulk settings and no background work, and fills database 'bench' with
# fill-bench-db.sh. Sets pg_version and postmaster_pid, defines sql (psql -At, ON_ERROR_STOP) and exports
# REPLICA_PG_BINDIR, so that replica runs the same pg_dump and psql as the baselines.
bench_live_server() {
    PG_EXTRA_CONF="shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
autovacuum = off"
    pg_start
    pg_version=$("$PG_BIN/postgres" --version)
    export REPLICA_PG_BINDIR=$PG_BIN
    postmaster_pid=$(head -n 1 "$PG_ROOT/data/postmaster.pid")
    sql() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
    echo "$pg_version on 127.0.0.1:$PGPORT, data in $PG_ROOT"
    "$PG_BIN/createdb" --template=template0 --encoding=UTF8 bench
    PG_BIN=$PG_BIN bench/scripts/fill-bench-db.sh --db-mb "$1" --dbname bench
}

# bench_server_ticks PID : CPU clock ticks (getconf CLK_TCK per second) a server has used so far: the postmaster PID,
# the children it reaped, and the children still running. The difference around a case is the server's CPU for it.
bench_server_ticks() {
    local total=0 server=$1 pid rest
    for pid in "$server" $(cat "/proc/$server/task/$server/children" 2>/dev/null); do
        rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2086
        set -- $rest
        total=$((total + ${12} + ${13} + (pid == server ? ${14} + ${15} : 0)))
    done
    echo "$total"
}

# bench_machine : one line naming the machine and the tool versions that matter.
bench_machine() {
    local cpu ram os
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    os=$(. /etc/os-release && echo "$PRETTY_NAME")
    echo "$(nproc) cores ($cpu), $ram RAM, $os, kernel $(uname -r), .NET SDK $(dotnet --version)," \
        "replica at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (+ uncommitted src changes)')"
}
