#!/usr/bin/env python3
# Samples a process's RSS by kind of mapping once a second: python3 smaps-by-kind.py PID OUT.csv [INTERVAL_S]
# (glibc arenas = anonymous 64 MiB-aligned mappings; anon_other = anonymous over 1 MiB, mostly the GC regions).
import sys, time, re
pid = int(sys.argv[1]); out = open(sys.argv[2], 'w'); interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
hdr = re.compile(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$')
cats = ['gc', 'arena', 'heap', 'stack', 'anon_small', 'anon_other', 'code_file', 'other_file']
out.write('t,' + ','.join(cats) + ',total\n')
t0 = time.time()
while True:
    try:
        data = open(f'/proc/{pid}/smaps').read()
    except Exception:
        break
    sums = dict.fromkeys(cats, 0); cur = None
    for line in data.splitlines():
        m = hdr.match(line)
        if m:
            a, b, perm, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
            size = b - a
            if name == '[heap]': cur = 'heap'
            elif name.startswith('[stack'): cur = 'stack'
            elif name == '' :
                if size >= 2**30: cur = 'gc'
                elif size == 64 * 2**20 or (size < 64 * 2**20 and a % (64 * 2**20) == 0): cur = 'arena'
                elif size <= 2**20: cur = 'anon_small'
                else: cur = 'anon_other'
            elif name.startswith('/') and ('.so' in name or '.dll' in name or name.endswith('replica')): cur = 'code_file'
            else: cur = 'other_file'
            continue
        if line.startswith('Rss:'):
            sums[cur] += int(line.split()[1])
    tot = sum(sums.values())
    out.write(f'{time.time()-t0:.1f},' + ','.join(f'{sums[c]/1024:.2f}' for c in cats) + f',{tot/1024:.2f}\n'); out.flush()
    time.sleep(interval)
