#!/usr/bin/env bash
# Where does the CPU go while one command runs? Samples /proc (no sysstat needed) for bench/run-issue4.sh.
#
#   bench/scripts/cpu-profile.sh sample FILE [INTERVAL_S]   # until killed: every INTERVAL_S (default 0.25) appends,
#                                                            # per replica/pg_dump/psql/postgres process, "t pid ppid comm ticks"
#                                                            # (ticks = utime + stime) and a "t 0 0 machine busy_ticks" line
#   bench/scripts/cpu-profile.sh summarize FILE              # one Markdown table row per process group
#
# Groups: replica, pg_dump, psql, backend (postgres processes that were not there at the first sample: the client
# backends), server-aux (postgres processes from the first sample: postmaster, checkpointer, walwriter ...), others
# (every other process on the machine: busy time of all CPUs minus the groups above). A process's CPU is its last
# sampled ticks (minus its first sample when it existed at the first sample), so a process that exits loses at most one
# interval. "busiest" is the CPU share of the group's busiest process over the time it was seen: ~100% means that
# process is bound by one core.
set -euo pipefail

case "${1:-}" in
    sample)
        out=$2
        interval=${3:-0.25}
        while :; do
            t=$(date +%s.%N)
            # cat, not awk, reads /proc/*/stat: a process that exits between the glob and the read is skipped silently.
            { head -n 1 /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v t="$t" '
                $1 == "cpu" { print t, 0, 0, "machine", $2 + $3 + $4 + $7 + $8; next }
                {
                    # comm is in parentheses and may hold spaces; the fields after the last ")" start at state (field 3).
                    if (!match($0, /\(.*\)/)) next
                    comm = substr($0, RSTART + 1, RLENGTH - 2)
                    if (comm != "replica" && comm != "pg_dump" && comm != "psql" && comm != "postgres") next
                    n = split(substr($0, RSTART + RLENGTH + 1), f, " ")
                    print t, $1, f[2], comm, f[12] + f[13]
                }' >>"$out"
            sleep "$interval"
        done
        ;;
    summarize)
        hz=$(getconf CLK_TCK)
        cores=$(nproc)
        awk -v hz="$hz" -v cores="$cores" '
        NR == 1 { t0 = $1 }
        $1 == t0 && $4 != "machine" { base[$2] = $5 }
        {
            t = $1; pid = $2; comm = $4; ticks = $5
            if (comm == "machine") { if (!(mfirst_set)) { mfirst = ticks; mfirst_set = 1 } mlast = ticks; tlast = t; next }
            if (!(pid in first_t)) { first_t[pid] = t; cm[pid] = comm }
            last_t[pid] = t; last[pid] = ticks
        }
        END {
            wall = tlast - t0
            for (pid in last) {
                c = cm[pid]
                g = c == "postgres" ? (pid in base ? "server-aux" : "backend") : c
                used = (last[pid] - (pid in base ? base[pid] : 0)) / hz
                cpu[g] += used; mine += used
                span = last_t[pid] - first_t[pid]
                if (span > 0.5 && used / span > busiest[g]) busiest[g] = used / span
            }
            machine = (mlast - mfirst) / hz
            printf "| %.1f | %.0f%% |", wall, (wall > 0 ? 100 * machine / (wall * cores) : 0)
            split("replica pg_dump psql backend server-aux", order, " ")
            for (i = 1; i <= 5; i++) {
                g = order[i]
                if (g in cpu) printf " %.1f (%.0f%%) |", cpu[g], 100 * busiest[g]
                else printf " - |"
            }
            printf " %.1f |\n", (machine > mine ? machine - mine : 0)
        }' "$2"
        ;;
    header)
        echo "| case | wall s | machine busy | replica CPU s (busiest) | pg_dump | psql | backend | server-aux | others CPU s |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        ;;
    *)
        sed -n '2,16p' "$0" >&2
        exit 2
        ;;
esac
