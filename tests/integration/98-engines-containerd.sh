#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real containerd (Debian's 1.6, runc) with its own root, state dir and
# socket, plain `ctr` containers in two containerd namespaces: they are
# named NAMESPACE/ID in the agent's /metrics, `ctrwatch containers --json`
# and `ctrwatch trace`; `trace app`, which both namespaces have, is an error
# listing both, and -n NAMESPACE or the full name picks one.  Then a plain
# runc container, found by its runtime state alone.
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd containerd ctr unshare nsenter jq curl
engines_init

t0=$(date +%s%N)
containerd_start
t_eq "containerd starts: own root, state dir and socket" 0 $?
echo "# containerd ready in $((($(date +%s%N) - t0) / 1000000)) ms"
[ -n "${CTRD_PID:-}" ] || exit 1
for ns in shop lab; do
	ctrd -n "$ns" images import "$(eng_busybox_oci)" >/dev/null
done
t_ok "busybox imported in both namespaces (nothing pulled)" \
	sh -c "ctr -a '$CTRD_SOCK' -n lab images ls -q | grep -qx docker.io/ctwtest/busybox:1"
loop='while :; do cat /etc/hostname >/dev/null; sleep 0.2; done'
ctrd_run shop app --label team=cart docker.io/ctwtest/busybox:1 sh -c "$loop"
ctrd_run lab app docker.io/ctwtest/busybox:1 sleep 600
ctrd_run shop web docker.io/ctwtest/busybox:1 sleep 600
cg_shop=$(eng_cgroup2 "$CTRD_CG")/shop-app
t_ok "shop/app runs in its cgroup below our parent" test -d "$cg_shop"
cgid=$(stat -c %i "$cg_shop")

port=$(free_port)
agent_start "$port" --discovery-interval 1s
info_re="ctrwatch_container_info\{container=\"shop/app\",container_id=\"app\",image=\"[^\"]*\",runtime=\"containerd\",cgroup_id=\"$cgid\",full_id=\"app\",id=\"[^\"]*\"\} 1"
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -qE '$info_re'"
m=$(scrape "$port")
t_match "agent: shop/app named NAMESPACE/ID, runtime containerd, its cgroup id" "$info_re" "$m"
t_match "agent: lab/app named" 'ctrwatch_container_info\{container="lab/app",container_id="app"' "$m"
t_match "agent: shop/web named" 'ctrwatch_container_info\{container="shop/web",container_id="web"' "$m"
agent_stop

js=$("$CTW_BIN" containers --json)
t_eq "containers --json: shop/app's runtime, id, cgroup id, label" "containerd app $cgid cart" \
	"$(printf '%s' "$js" | jq -r '.[] | select(.name == "shop/app") | "\(.runtime) \(.id) \(.cgroup_id) \(.labels.team)"')"
t_eq "containers -n lab: only lab's" "lab/app" \
	"$("$CTW_BIN" containers -n lab --json | jq -r '[.[] | select(.runtime == "containerd") | .name] | join(" ")')"

out=$CTW_WORK/t98-trace.txt
err=$(timeout -s INT 10 "$CTW_BIN" trace app 2>&1 >/dev/null)
t_fail "trace app: ambiguous, refused" timeout -s INT 10 "$CTW_BIN" trace app
t_match "the error lists shop/app" 'shop/app \(containerd' "$err"
t_match "the error lists lab/app" 'lab/app \(containerd' "$err"
timeout -s INT 6 "$CTW_BIN" trace -n shop -e trace=openat app >"$out" 2>"$out.err"
t_match "trace -n shop app: attached to shop/app" "attached to shop/app \(cgroup $cgid\)" "$(cat "$out.err")"
t_match "trace -n shop app: its openat of /etc/hostname" '^\[pid +[0-9]+\] openat\(AT_FDCWD, "/etc/hostname"' "$(cat "$out")"
timeout -s INT 1 "$CTW_BIN" trace lab/app >/dev/null 2>"$out.err"
t_match "trace lab/app: the full name picks one" "attached to lab/app" "$(cat "$out.err")"

t_ok "containerd stops by PID" eng_stop "$CTRD_PID"

# ---- runc alone: found by its state in /run/runc (the default root; in the
# engines' mount namespace, so ctrwatch looks from there) ----
b=$ENG_DIR/plain-bundle
mkdir -p "$b/rootfs"
tar -C "$b/rootfs" -xf "$(eng_busybox_tar)"
(cd "$b" && runc spec)
jq --arg cg "$ENG_CG/runc/plain1" '.process.terminal = false | .process.args = ["sleep", "600"]
	| .linux.cgroupsPath = $cg | .annotations = {"org.example.team": "infra"}' \
	"$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
eng_ns runc run -d --bundle "$b" plain1 </dev/null >/dev/null 2>&1
t_ok "runc runs plain1 below our parent" test -d "$(eng_cgroup2 "$ENG_CG/runc/plain1")"
t_eq "containers --json: plain1 is a runc container, its annotation a label" \
	"oci plain1 $(stat -c %i "$(eng_cgroup2 "$ENG_CG/runc/plain1")") infra" \
	"$(eng_ns "$CTW_BIN" containers --json |
		jq -r '.[] | select(.name == "plain1") | "\(.runtime) \(.id) \(.cgroup_id) \(.labels["org.example.team"])"')"
