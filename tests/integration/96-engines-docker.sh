#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real Docker (Debian's dockerd 20.10) with a data root that is not
# /var/lib/docker (set in its daemon.json), its own exec root and a cgroup
# parent that is not docker/: its containers are named, with image, labels
# and ids, in the agent's /metrics, in `ctrwatch containers --json` and by
# `ctrwatch trace NAME`; a name that a ctrwatch container shares is an
# error listing both.
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd dockerd unshare nsenter jq curl
engines_init

t0=$(date +%s%N)
docker_start
t_eq "dockerd starts: own data root, exec root and socket, cgroupfs, parent below ours" 0 $?
echo "# dockerd ready in $((($(date +%s%N) - t0) / 1000000)) ms"
[ -n "${DOCKER_PID:-}" ] || exit 1
t_eq "the data root is not the default one" "$DOCKER_DATA" "$(dk info -f '{{.DockerRootDir}}' 2>&1)"
t_ok "busybox imported (nothing pulled)" dk import "$(eng_busybox_tar)" ctwtest/busybox:1

# web opens /etc/hostname five times a second
dk run -d --name web --network none -l app=demo -l tier=fe ctwtest/busybox:1 \
	sh -c 'while :; do cat /etc/hostname >/dev/null; sleep 0.2; done' >/dev/null
dk run -d --name app --network none ctwtest/busybox:1 sleep 600 >/dev/null
web_id=$(dk inspect -f '{{.Id}}' web)
app_id=$(dk inspect -f '{{.Id}}' app)
web_cg=$(eng_cgroup2 "$DOCKER_CG")/$web_id
t_ok "web runs in its cgroup below our parent" test -d "$web_cg"
web_cgid=$(stat -c %i "$web_cg")

# ---- the agent ----
port=$(free_port)
agent_start "$port" --discovery-interval 1s
info_re="ctrwatch_container_info\{container=\"web\",container_id=\"${web_id:0:12}\",image=\"ctwtest/busybox:1\",runtime=\"docker\",cgroup_id=\"$web_cgid\",full_id=\"$web_id\",id=\"[^\"]*\"\} 1"
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -qE '$info_re'"
m=$(scrape "$port")
t_match "agent: web named, with its image, full id, runtime and cgroup id" "$info_re" "$m"
t_match "agent: app named" "ctrwatch_container_info\{container=\"app\",container_id=\"${app_id:0:12}\",image=\"ctwtest/busybox:1\",runtime=\"docker\"" "$m"
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q 'ctrwatch_syscalls_total{container=\"web\",.*syscall=\"openat\"'"
t_cmp "agent: web's openat calls counted under its name" \
	"$(series_sum "$(scrape "$port")" 'ctrwatch_syscalls_total\{container="web",.*syscall="openat"')" -gt 0
# a container started while the agent runs, in Docker's own layout (.../docker/<id>,
# recognised at the cgroup's mkdir, before runc wrote its state or a process
# was in it) is named too
dk run -d --name late --cgroup-parent "$ENG_CG/docker" --network none ctwtest/busybox:1 \
	sleep 600 >/dev/null
late_id=$(dk inspect -f '{{.Id}}' late)
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q 'container=\"late\",container_id=\"${late_id:0:12}\"'"
t_match "agent: a container started later is named" \
	"ctrwatch_container_info\{container=\"late\",container_id=\"${late_id:0:12}\",image=\"ctwtest/busybox:1\",runtime=\"docker\"" \
	"$(scrape "$port")"
agent_stop

# ---- ctrwatch containers ----
js=$("$CTW_BIN" containers --json)
row() { printf '%s' "$js" | jq -c --arg id "$1" '.[] | select(.id == $id)'; }
t_eq "containers --json: web's name, runtime, image, cgroup id, state" \
	"web docker ctwtest/busybox:1 $web_cgid running" \
	"$(row "$web_id" | jq -r '"\(.name) \(.runtime) \(.image) \(.cgroup_id) \(.state)"')"
t_eq "containers --json: web's labels" "demo fe" "$(row "$web_id" | jq -r '"\(.labels.app) \(.labels.tier)"')"
t_match "containers --json: since is a time" '^20[0-9]{2}-' "$(row "$web_id" | jq -r .since)"
t_match "containers: a table row for web" "^${web_id:0:12} +docker +web +- +- +ctwtest/busybox:1 +$web_cgid +running" \
	"$("$CTW_BIN" containers --runtime docker)"

# ---- trace NAME ----
out=$CTW_WORK/t96-trace.txt
timeout -s INT 6 "$CTW_BIN" trace -e trace=openat web >"$out" 2>"$out.err"
t_match "trace web: attached to the Docker container by name" "attached to web \(cgroup $web_cgid\)" "$(cat "$out.err")"
t_match "trace web: its openat of /etc/hostname" '^\[pid +[0-9]+\] openat\(AT_FDCWD, "/etc/hostname"' "$(cat "$out")"

# ---- a name two containers share ----
"$CTW_BIN" run -d --name app busybox sleep 600 >/dev/null
on_exit "'$CTW_BIN' rm -f app"
err=$(timeout -s INT 10 "$CTW_BIN" trace app 2>&1 >/dev/null)
t_fail "trace app: ambiguous, refused" timeout -s INT 10 "$CTW_BIN" trace app
t_match "the error lists the Docker container" "app \(docker, id ${app_id:0:12}" "$err"
t_match "the error lists the ctrwatch container" 'app \(ctrwatch, id' "$err"
timeout -s INT 1 "$CTW_BIN" trace "${app_id:0:12}" >/dev/null 2>"$out.err"
t_match "trace by id prefix picks the Docker one" "attached to app \(cgroup $(stat -c %i "$(eng_cgroup2 "$DOCKER_CG")/$app_id")\)" "$(cat "$out.err")"

# ---- stopping ----
dk rm -f web app late >/dev/null
t_ok "dockerd stops by PID" eng_stop "$DOCKER_PID"
t_fail "dockerd is gone" kill -0 "$DOCKER_PID"
