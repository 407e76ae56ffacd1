#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real Podman (Debian's 4.3, runc) with its own graph root, run root, runc
# root and a cgroup parent below ours: its containers are named, with image,
# labels and ids, in the agent's /metrics, `ctrwatch containers --json` and
# `ctrwatch trace NAME`.
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd podman unshare nsenter jq curl
engines_init
podman_setup

t0=$(date +%s%N)
t_ok "busybox imported (nothing pulled)" pm import "$(eng_busybox_tar)" ctwtest/busybox:1
echo "# podman import in $((($(date +%s%N) - t0) / 1000000)) ms"
t0=$(date +%s%N)
pm run -d --name pweb --cgroup-parent "$PODMAN_CG" -l app=pdemo -l tier=be ctwtest/busybox:1 \
	sh -c 'while :; do cat /etc/hostname >/dev/null; sleep 0.2; done' >/dev/null
echo "# podman run -d in $((($(date +%s%N) - t0) / 1000000)) ms"
id=$(pm inspect -f '{{.Id}}' pweb)
cg=$(eng_cgroup2 "$PODMAN_CG")/libpod-$id
t_ok "pweb runs in its cgroup below our parent" test -d "$cg"
t_ok "the graph root is ours" test -d "$PODMAN_ROOT/overlay-containers/$id"
cgid=$(stat -c %i "$cg")

port=$(free_port)
agent_start "$port" --discovery-interval 1s
info_re="ctrwatch_container_info\{container=\"pweb\",container_id=\"${id:0:12}\",image=\"localhost/ctwtest/busybox:1\",runtime=\"podman\",cgroup_id=\"$cgid\",full_id=\"$id\",id=\"[^\"]*\"\} 1"
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -qE '$info_re'"
t_match "agent: pweb named, with its image, full id, runtime and cgroup id" "$info_re" "$(scrape "$port")"
agent_stop

js=$("$CTW_BIN" containers --json | jq -c --arg id "$id" '.[] | select(.id == $id)')
t_eq "containers --json: pweb's name, runtime, image, cgroup id" \
	"pweb podman localhost/ctwtest/busybox:1 $cgid" \
	"$(printf '%s' "$js" | jq -r '"\(.name) \(.runtime) \(.image) \(.cgroup_id)"')"
t_eq "containers --json: pweb's labels (libpod's state)" "pdemo be" \
	"$(printf '%s' "$js" | jq -r '"\(.labels.app) \(.labels.tier)"')"

out=$CTW_WORK/t97-trace.txt
timeout -s INT 6 "$CTW_BIN" trace -e trace=openat pweb >"$out" 2>"$out.err"
t_match "trace pweb: attached by name" "attached to pweb \(cgroup $cgid\)" "$(cat "$out.err")"
t_match "trace pweb: its openat of /etc/hostname" '^\[pid +[0-9]+\] openat\(AT_FDCWD, "/etc/hostname"' "$(cat "$out")"

t_ok "podman rm -f" pm rm -f -t 0 pweb
# (conmon removes it after rm returns: podman's cleanup runs in its own
# process, and under load it has left the empty cgroup v2 directory behind
# for longer than 10 s: what matters is that nothing of pweb runs there.)
t_ok "nothing of it runs any more" wait_for 20 sh -c \
	"! test -d '$cg' || ! test -s '$cg/cgroup.procs'"
rmdir "$cg" 2>/dev/null || true
