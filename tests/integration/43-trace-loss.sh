#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loss is never silent: with a ring buffer far too small for a syscall storm,
# the kernel counts every event it could not emit, per container, and the
# CLI reports it; the lines printed plus the lost events account for every
# call the kernel's own counters (-C) saw.  With the default buffer the same
# storm loses nothing.
. "$(dirname "$0")/../lib.sh"
require_root
export CTRWATCH_NET=none

w=$CTW_WORK/t43
mkdir -p "$w"
name=t43loss$$

ctw run --name "$name" --trace='-C --stats --buffer-size 4096' --trace-output "$w/small.out" \
	busybox dd if=/dev/zero of=/dev/null bs=1 count=50000 2>"$w/small.err" >/dev/null
t_eq "the storm runs to its end" 0 "$?"
err=$(cat "$w/small.err")
lines=$(grep -cE '^[0-9]+ +[a-z0-9_]+\(' "$w/small.out")
lost=$(sed -n 's/.*, \([0-9]*\) lost$/\1/p' <<<"$err")
total=$(awk '$NF == "total" { print $4 }' "$w/small.out")
t_match "the loss is reported per container" "trace: $name: lost [0-9]+ events \(ring buffer full\)" "$err"
t_cmp "a 4 KiB ring buffer loses events" "${lost:-0}" -gt 0
# the summary does not list exit_group (as strace): at most a few of those
t_cmp "lines + lost cover every counted call" $((lines + ${lost:-0})) -ge "${total:-1}"
t_cmp "lines + lost add nothing beyond the exits" $((lines + ${lost:-0} - ${total:-0})) -le 3
t_cmp "dd's reads and writes were all counted" "${total:-0}" -ge 100000

ctw run --name "$name" --trace='--stats' --trace-output "$w/big.out" \
	busybox dd if=/dev/zero of=/dev/null bs=1 count=50000 2>"$w/big.err" >/dev/null
t_match "the default buffer loses nothing" ', 0 lost$' "$(cat "$w/big.err")"
t_cmp "every call became a line" "$(grep -cE '^[0-9]+ +[a-z0-9_]+\(' "$w/big.out")" -ge 100000
t_nomatch "no loss warning" 'lost [0-9]+ events' "$(cat "$w/big.err")"
