#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a container sees of an imported image: a file deleted by a whiteout is
# absent, an opaque directory shows only the upper layer's content, the
# config's Cmd/Env/WorkingDir apply, writes stay out of the layer store; the
# built-in busybox image; rmi refuses an image a running container uses.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd umoci python3 jq
# shellcheck source=tests/integration/image-fixtures.bash
. "$(dirname "$0")/image-fixtures.bash"
if ! ctw run --help >/dev/null 2>&1; then
	t_skip "$(basename "$0")" "ctrwatch run is not built in"
	exit 0
fi

export CTRWATCH_ROOT=$CTW_WORK/root-22
W=$CTW_WORK/img22
mkdir -p "$W"
on_exit "rm -rf '$CTRWATCH_ROOT' '$W'"
L=$W/oci
crun() { timeout 30 "$CTW_BIN" run --net none "$@"; }

t_ok "build the 3-layer test image with umoci" img_layout "$L"
t_ok "import it" ctw import "$L" app:v1

t_eq "the image's Cmd, Env and WorkingDir" "hi from bar in /data" "$(crun app:v1 2>&1)"
t_eq "opaque dir: only the top layer's content" "opaque-only.txt" \
	"$(crun app:v1 ls -A /data 2>&1)"
out=$(crun app:v1 sh -c 'test -e /etc/gone.txt; echo $?; cat /etc/keep.txt' 2>&1)
t_eq "whiteout: the deleted file is absent, its sibling is there" "1
keep" "$out"
t_eq "no whiteout devices visible" "" "$(crun app:v1 sh -c 'ls -A /etc /data | grep -e "^\.wh\." -e gone' 2>&1)"
out=$(crun app:v1 sh -c 'echo changed >/data/opaque-only.txt; rm /etc/keep.txt; cat /data/opaque-only.txt' 2>&1)
t_eq "the container may write its root" changed "$out"
l3=$(ctw image inspect app:v1 | jq -r '.[0].layer_dirs[2]')
l1=$(ctw image inspect app:v1 | jq -r '.[0].layer_dirs[0]')
t_eq "  ... the layer store is untouched" "opaque" "$(cat "$l3/data/opaque-only.txt")"
t_eq "  ... also for deletions" keep "$(cat "$l1/etc/keep.txt")"
t_eq "  ... and the next container sees the image again" "opaque keep" \
	"$(crun app:v1 sh -c 'echo $(cat /data/opaque-only.txt /etc/keep.txt)' 2>&1)"

# The built-in image, first used here (a store of its own).
t_eq "busybox: built on first use" "hi" "$(crun busybox echo hi 2>&1)"
t_match "busybox: /etc/passwd has root and nobody" "^root:x:0:0:.*nobody:x:65534:" \
	"$(crun busybox cat /etc/passwd 2>&1 | tr '\n' ' ')"
n=$(crun busybox sh -c 'ls /bin /sbin /usr/bin /usr/sbin | wc -l' 2>&1)
t_cmp "busybox: applet links installed (>200)" "${n:-0}" -gt 200
t_eq "busybox: default Cmd is sh" "0" "$(echo 'exit 0' | crun -i busybox >/dev/null 2>&1; echo $?)"
t_eq "busybox: /tmp is 1777" "1777" "$(crun busybox stat -c %a /tmp 2>&1)"

# (`ctrwatch rm` must exist by its own name: a unique prefix would run rmi)
if ctw --help | grep -qE '^  rm +'; then
	cid=$(timeout 30 "$CTW_BIN" run -d --net none --name img22-$$ app:v1 sleep 60 2>&1)
	on_exit "'$CTW_BIN' rm -f img22-$$"
	t_match "a detached container of the image" '^[0-9a-f]+$' "$cid"
	out=$(ctw rmi app:v1 2>&1)
	t_eq "rmi refuses the image of a running container" 1 "$?"
	t_match "  ... naming it" "in use by container" "$out"
	ctw rm -f "${cid:-img22-$$}" >/dev/null 2>&1
	t_match "rmi once the container is gone" "Deleted: sha256:" "$(ctw rmi app:v1 2>&1)"
else
	t_skip "rmi refuses the image of a running container" "no ctrwatch rm yet"
fi

# 20 `ctrwatch run` at once on a store without busybox: one build, 20 runs.
export CTRWATCH_ROOT=$CTW_WORK/root-22-par
on_exit "rm -rf '$CTRWATCH_ROOT'"
pids=()
for i in $(seq 1 20); do
	crun busybox sh -c "echo ok$i" >"$W/par.$i" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_eq "20 parallel first uses of busybox all run" 0 "$fails"
t_eq "  ... each printed its line" 20 "$(cat "$W"/par.* | grep -c '^ok[0-9]*$')"
t_eq "  ... one layer was stored" 1 "$(count_entries "$CTRWATCH_ROOT/layers/sha256")"
t_eq "  ... one image record (+ index)" 2 "$(count_entries "$CTRWATCH_ROOT/images")"
t_eq "  ... nothing left in tmp" 0 "$(count_entries "$CTRWATCH_ROOT/tmp")"
