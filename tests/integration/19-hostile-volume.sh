#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The volume target swap race (runc CVE-2021-30465 class), tried for real:
# container A swaps a directory of a volume it shares with B for a symlink
# to "/" as fast as it can, while B is started again and again with a
# second volume whose target lies below that directory.  Before, the target
# was checked and then made and mounted by its path: when the swap fell in
# between, ctrwatch made the target's directories on the host's own root
# (and mounted the volume there).  Now every target is resolved inside the
# container's root with an fd and mounted onto that inode: nothing lands
# outside it, however often it is tried.
. "$(dirname "$0")/../lib.sh"
require_root

require_helper ctw-hostile
H=$CTW_BUILD/tests/helpers
W=$CTW_WORK/hostile19
mkdir -p "$W/shared" "$W/src"
echo volume >"$W/src/marker"
tag=ctw19-$$
on_exit "rm -rf '$W' /$tag-*"
on_exit 'ctw rm -f swap19 >/dev/null 2>&1; ctw gc'

ctw run -d --name swap19 -v "$W/shared:/shared" -v "$H:/t:ro" busybox \
	/t/ctw-hostile swap /shared 120 >/dev/null
wait_for 5 test -e "$W/shared/alt"
n=${HOSTILE19_RUNS:-60}
# The volume lands on sub/T/x of the shared directory or, where sub was the
# symlink, on T/x of the container's root; the directory is named sub or
# alt as the swap goes on.  The container looks in all three places a few
# times and always exits 0, so a failed start is ctrwatch's own exit code.
ok=0 outside=0 inside=0
for i in $(seq "$n"); do
	t=$tag-$i
	out=$(ctw run -v "$W/shared:/vol" -v "$W/src:/vol/sub/$t/x" busybox sh -c \
		"for k in 1 2 3 4 5 6 7 8; do cat /vol/sub/$t/x/marker /vol/alt/$t/x/marker /$t/x/marker 2>/dev/null | grep -m1 volume && break; done; true" 2>&1) &&
		ok=$((ok + 1))
	[ -e "/$t" ] && outside=$((outside + 1))
	[[ $out == *volume* ]] && inside=$((inside + 1))
	[[ $out == *volume* ]] || echo "# start $i: $out" >&2
done
t_eq "$n starts while another container swaps a directory on the way: nothing made on the host's /" \
	0 "$outside"
t_match "  ... and the race was on (the container swapped its directory)" '.' \
	"$(find "$W/shared" -maxdepth 1 -name alt)"
t_cmp "  ... half of the starts went through, the volume in the container's own root" "$ok" -ge $((n / 2))
t_cmp "  ... each one that started sees its volume" "$inside" -ge "$ok"
ctw rm -f swap19 >/dev/null

# A -v target through an absolute symlink of the image stays in the root.
R=$W/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/dev" "$R/sys" "$R/etc"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
ln -s / "$R/up"
ln -s "/$tag-link" "$R/abs"
out=$(ctw run --rootfs "$R" -v "$W/src:/up/$tag-up" -v "$W/src:/abs/in" /bin/sh -c \
	"/bin/busybox cat /$tag-up/marker /$tag-link/in/marker" 2>&1)
t_eq "-v targets through the image's symlinks (to / and to /$tag-link) land inside its root" \
	"volume
volume" "$out"
t_ok "  ... not on the host" test ! -e "/$tag-up" -a ! -e "/$tag-link"

# :ro is read-only all the way down: a mount below the source too.
mkdir -p "$W/ro/sub"
mount -t tmpfs -o size=1m "ctw19-$$" "$W/ro/sub"
on_exit "umount '$W/ro/sub'"
t_eq ":ro: neither the volume nor a mount below it is writable" "ro ro" \
	"$(ctw run -v "$W/ro:/ro:ro" busybox sh -c 'for d in /ro /ro/sub; do touch $d/new 2>/dev/null && printf "rw " || printf "ro "; done' | xargs)"
umount "$W/ro/sub"
