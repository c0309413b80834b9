#!/usr/bin/env python3
"""How busy a restore kept its connections, from a PostgreSQL server log written with log_min_duration_statement = 0
and log_line_prefix = '%m [%p] %d ' (bench/results/issue10-restore-2026-12-03.md).

    bench/issue10/restore-occupancy.py SERVER_LOG... [--timeline]

Every statement of a database whose name starts with bench_restore (the benchmark's destination and replica's staging
database for it) is an interval [end - duration, end]. Printed per log: the span from the first statement's start to the
last one's end, the share of it with two or more statements running, one, none; when the last COPY ended and how long
post-data ran after it. --timeline also lists the statements longer than 0.2 s.
"""
import datetime
import re
import sys

LINE = re.compile(r'(\S+ \S+) UTC \[(\d+)\] (\S+) LOG:  duration: ([\d.]+) ms  statement: (.*)')


def statements(path):
    found = []
    with open(path, errors='replace') as log:
        for line in log:
            m = LINE.match(line)
            if not m or not m.group(3).startswith('bench_restore'):
                continue
            end = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp()
            seconds = float(m.group(4)) / 1000
            found.append((end - seconds, end, m.group(2), m.group(5)))
    return found


def main(args):
    timeline = '--timeline' in args
    for path in (a for a in args if a != '--timeline'):
        found = statements(path)
        if not found:
            print(f'{path}: no statements')
            continue
        t0 = min(s for s, *_ in found)
        t1 = max(e for _, e, *_ in found)
        events = sorted([(s, 1) for s, *_ in found] + [(e, -1) for _, e, *_ in found])
        busy = [0.0, 0.0, 0.0]
        running, last = 0, t0
        for t, step in events:
            busy[min(running, 2)] += t - last
            running += step
            last = t
        span = t1 - t0
        copy_end = max((e for _, e, _, sql in found if sql.upper().startswith('COPY')), default=t0)
        print(f'{path}: span {span:.2f} s; 2+ running {busy[2] / span:.0%}, 1 running {busy[1] / span:.0%}, none {busy[0] / span:.0%}; '
              f'last COPY ends at {copy_end - t0:.2f} s, post-data after it {t1 - copy_end:.2f} s')
        if timeline:
            for s, e, pid, sql in sorted(found):
                if e - s > 0.2:
                    print(f'  {s - t0:7.2f} -> {e - t0:7.2f} [{pid}] {sql[:60]}')


if __name__ == '__main__':
    main(sys.argv[1:])
