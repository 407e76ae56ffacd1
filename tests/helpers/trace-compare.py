#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare `strace -f -o FILE` with `ctrwatch trace -o FILE` of the same
workload (two runs on the same files), line by line.

    trace-compare.py STRACE_FILE CTRWATCH_FILE [--min SHARE] [--show N]

Both files have "PID  line" lines.  Before comparing:
  - strace's "<unfinished ...>" / "<... NAME resumed>" halves are joined
    (ctrwatch emits each call whole at its exit), and the padding before
    " = " is made one space;
  - pids (and numbers equal to a pid of the trace) become P1, P2, ... in
    numeric order, so the n-th process of each run has the same name; not
    a struct field's value (name=N) unless the field is a pid (si_pid=):
    a limit of 512 in one run whose pids wrapped around to 512 was taken
    for a pid, and the line differed from the other run's;
  - addresses (hex of 5+ digits), times that depend on the clock (select's
    and ppoll's "left", si_utime/si_stime, rusage), getrandom's bytes,
    getppid's value (the tracer's doing), and with -y inode and pty numbers
    are replaced by placeholders.
Each process's lines are then aligned with its counterpart's (longest
common subsequence); a line counts as identical when it is matched.  Prints
the share of identical lines per syscall (and for signal and exit lines)
and in all, share = matched / max(strace lines, ctrwatch lines); exits 1
when the overall share is below --min (default 0.95).
"""
import argparse
import collections
import difflib
import re
import sys

LINE = re.compile(r'^(\d+)\s+(.*)$')
UNFINISHED = ' <unfinished ...>'
RESUMED = re.compile(r'^<\.\.\. ([a-z0-9_]+) resumed>(.*)$')


def read(path, strace):
    """{pid: [lines]} in file order, strace's split calls joined."""
    out = collections.OrderedDict()
    pending = {}
    with open(path, errors='replace') as f:
        for raw in f:
            m = LINE.match(raw.rstrip('\n'))
            if not m:
                continue
            pid, text = int(m.group(1)), m.group(2)
            if strace:
                if text.endswith(UNFINISHED):
                    pending[pid] = text[:-len(UNFINISHED)]
                    continue
                r = RESUMED.match(text)
                if r:
                    text = pending.pop(pid, r.group(1) + '(') + r.group(2)
            out.setdefault(pid, []).append(text)
    return out


def normalise(text, pids):
    text = re.sub(r'\) +=( |$)', r') =\1', text)
    # -y: inode numbers of sockets and pipes, pty numbers
    text = re.sub(r'(<[A-Za-z0-9_-]+:\[)\d+', r'\1INO', text)
    text = re.sub(r'(\[INO)->\d+', r'\1->INO', text)
    text = re.sub(r'/dev/pts/\d+', '/dev/pts/N', text)
    text = re.sub(r':\d{4,5}(?=\]|->)', ':PORT', text)  # ephemeral ports
    text = re.sub(r'0x[0-9a-f]{5,}', '0xADDR', text)
    text = re.sub(r'left \{tv_sec=\d+, tv_[nu]sec=\d+\}', 'left {TIME}', text)
    text = re.sub(r'si_utime=\d+( /\* [^*]* \*/)?, si_stime=\d+( /\* [^*]* \*/)?',
                  'si_utime=T, si_stime=T', text)
    text = re.sub(r'ru_([us])time=\{[^}]*\}', r'ru_\1time={TIME}', text)
    text = re.sub(r'^getrandom\("[^"]*"', 'getrandom("RANDOM"', text)
    # the parent of the first process is the tracer's doing
    text = re.sub(r'^getppid\(\) = \d+$', 'getppid() = PPID', text)
    # a pid never starts with 0: octal modes (0777) are not pids
    return re.sub(r'(?:\b(\w+)=)?\b[1-9]\d+\b', lambda m: pid_token(m, pids), text)


def pid_token(m, pids):
    """A number's P-token when it is a pid of the trace, and not the value
    of a struct field other than a pid's."""
    field, num = m.group(1), m.group(0)
    if field is not None:
        if not field.endswith('pid'):
            return num
        name, num = num.split('=', 1)
        return name + '=' + pids.get(int(num), num)
    return pids.get(int(num), num)


def key(text):
    """What a line is about: the syscall, "--- SIGNAL", or "+++"."""
    if text.startswith('--- '):
        return '--- ' + text.split()[1]
    if text.startswith('+++ '):
        return '+++ exit'
    return text.split('(', 1)[0]


def labelled(trace):
    pids = {p: 'P%d' % (i + 1) for i, p in enumerate(sorted(trace))}
    return {pids[p]: [normalise(t, pids) for t in lines] for p, lines in trace.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('strace')
    ap.add_argument('ctrwatch')
    ap.add_argument('--min', type=float, default=0.95)
    ap.add_argument('--show', type=int, default=20, help='differing lines to print')
    a = ap.parse_args()

    s = labelled(read(a.strace, True))
    c = labelled(read(a.ctrwatch, False))
    n_s = collections.Counter()
    n_c = collections.Counter()
    matched = collections.Counter()
    only_s, only_c = [], []
    for proc in sorted(set(s) | set(c), key=lambda p: int(p[1:])):
        ls, lc = s.get(proc, []), c.get(proc, [])
        n_s.update(key(t) for t in ls)
        n_c.update(key(t) for t in lc)
        sm = difflib.SequenceMatcher(None, ls, lc, autojunk=False)
        seen_s, seen_c = set(), set()
        for blk in sm.get_matching_blocks():
            for k in range(blk.size):
                matched[key(ls[blk.a + k])] += 1
                seen_s.add(blk.a + k)
                seen_c.add(blk.b + k)
        only_s += ['%s %s' % (proc, t) for i, t in enumerate(ls) if i not in seen_s]
        only_c += ['%s %s' % (proc, t) for i, t in enumerate(lc) if i not in seen_c]

    total_m = sum(matched.values())
    total = sum(max(n_s[k], n_c[k]) for k in set(n_s) | set(n_c))
    print('%-24s %7s %8s %8s %7s' % ('syscall', 'strace', 'ctrwatch', 'same', 'share'))
    for k in sorted(set(n_s) | set(n_c)):
        d = max(n_s[k], n_c[k])
        print('%-24s %7d %8d %8d %6.1f%%' % (k, n_s[k], n_c[k], matched[k],
                                               100.0 * matched[k] / d))
    share = total_m / total if total else 0.0
    print('%-24s %7d %8d %8d %6.1f%%' % ('ALL', sum(n_s.values()), sum(n_c.values()),
                                           total_m, 100.0 * share))
    for title, lines in (('only in strace', only_s), ('only in ctrwatch', only_c)):
        if lines and a.show:
            print('%s (%d):' % (title, len(lines)))
            for t in lines[:a.show]:
                print('  ' + t)
    return 0 if share >= a.min else 1


if __name__ == '__main__':
    sys.exit(main())
