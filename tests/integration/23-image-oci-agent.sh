#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make oci-image` (scripts/oci-image.sh): the agent's OCI image layout tar.
# It is reproducible, skopeo reads it, `ctrwatch import` takes it, the layer
# holds the binary and every library ldd lists, and the agent runs from it in
# a container with the mounts, capabilities and host network the Helm chart
# grants the pod, serving /metrics that show another container on the host.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd skopeo jq curl
if ! ctw run --help >/dev/null 2>&1; then
	t_skip "$(basename "$0")" "ctrwatch run is not built in"
	exit 0
fi

export CTRWATCH_ROOT=$CTW_WORK/root-23
W=$CTW_WORK/img23
mkdir -p "$W"
on_exit "rm -rf '$CTRWATCH_ROOT' '$W'"
version=$(ctw version --json | jq -r .version)
img=ctrwatch:$version

export SOURCE_DATE_EPOCH=1700000000
t_ok "scripts/oci-image.sh builds the image" "$CTW_SRC/scripts/oci-image.sh" "$CTW_BIN" "$W/agent.tar"
t_ok "  ... again" "$CTW_SRC/scripts/oci-image.sh" "$CTW_BIN" "$W/agent2.tar"
t_eq "  ... byte for byte the same (reproducible)" "$(sha256sum <"$W/agent.tar")" \
	"$(sha256sum <"$W/agent2.tar")"
unset SOURCE_DATE_EPOCH
sk=$(skopeo inspect "oci-archive:$W/agent.tar" 2>&1)
t_eq "skopeo reads it as an OCI archive" "linux 1" "$(jq -r '"\(.Os) \(.Layers | length)"' <<<"$sk" 2>&1)"

t_match "ctrwatch import takes it, named by its annotation" "^Imported $img sha256:" \
	"$(ctw import "$W/agent.tar" 2>&1)"
insp=$(ctw image inspect "$img")
layer=$(jq -r '.[0].layer_dirs[0]' <<<"$insp")
t_eq "Entrypoint is the agent binary" '["/usr/bin/ctrwatch"]' \
	"$(jq -c '.[0].config.config.Entrypoint' <<<"$insp")"
t_eq "Cmd runs the agent" '["agent","--listen","0.0.0.0:9464"]' \
	"$(jq -c '.[0].config.config.Cmd' <<<"$insp")"
t_ok "the layer has /usr/bin/ctrwatch" test -x "$layer/usr/bin/ctrwatch"
missing=""
for lib in $(ldd "$CTW_BIN" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
	case $lib in /usr/*) p=$lib ;; *) p=/usr$lib ;; esac
	[ -f "$layer$p" ] || missing="$missing $lib"
done
t_eq "every library ldd lists is in the layer" "" "$missing"
missing=""
for so in $(sed -n 's/.*\.soname = "\([^"]*\)".*/\1/p' "$CTW_SRC"/*/*_dl.c); do
	[ -n "$(find "$layer/usr/lib" -name "$so")" ] || missing="$missing $so"
done
t_eq "so is every library it loads on first use (libmicrohttpd, libarchive, ...)" "" "$missing"
t_eq "the binary runs in a container of the image" "ctrwatch $version" \
	"$(timeout 30 "$CTW_BIN" run --net none "$img" version 2>&1 | head -1)"

# The agent as the chart runs it: host network, read-only root, caps
# BPF PERFMON NET_ADMIN SYS_RESOURCE SYS_PTRACE (SYS_RESOURCE only where our
# own bounding set has it), host /proc, bpffs, BTF, tracefs, cgroupfs.
caps=(--cap-drop ALL --cap-add BPF --cap-add PERFMON --cap-add NET_ADMIN --cap-add SYS_PTRACE)
bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
(((bnd >> 24) & 1)) && caps+=(--cap-add SYS_RESOURCE)
mounts=(-v /proc:/host/proc:ro -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/btf:/sys/kernel/btf:ro
	-v /sys/fs/cgroup:/sys/fs/cgroup:ro -v "$CTRWATCH_STATE:/run/ctrwatch:ro")
[ -d /sys/kernel/tracing ] && mounts+=(-v /sys/kernel/tracing:/sys/kernel/tracing:ro)
mkdir -p "$CTRWATCH_STATE"
port=$(free_port)
wl=img23wl$$
timeout 60 "$CTW_BIN" run --net none --name "$wl" busybox \
	sh -c 'while :; do cat /etc/passwd >/dev/null; done' >"$W/wl.log" 2>&1 &
wl_pid=$!
on_exit "kill $wl_pid"
"$CTW_BIN" run --net host --read-only "${caps[@]}" "${mounts[@]}" --name "img23agent$$" \
	"$img" agent --listen "127.0.0.1:$port" --proc-root /host/proc --discovery-interval 1s \
	>"$W/agent.log" 2>&1 &
agent_pid=$!
on_exit "kill -9 $agent_pid"
t_ok "the agent container serves /healthz" wait_for 20 curl -sf "http://127.0.0.1:$port/healthz"
seen() { curl -sf "http://127.0.0.1:$port/metrics" | grep -q "ctrwatch_syscalls_total{container=\"$wl\""; }
if wait_for 25 seen; then
	t_ok "its /metrics show the workload container $wl" true
else
	t_fail "its /metrics show the workload container $wl" true
	sed 's/^/#   agent: /' "$W/agent.log" | tail -10
fi
kill "$agent_pid" 2>/dev/null
# SIGTERM goes to `ctrwatch run`, which forwards it to the agent (PID 2
# under ctrwatch's init); the agent stops cleanly within 2 s.
wait_for 10 sh -c "! kill -0 $agent_pid 2>/dev/null" || kill -9 "$agent_pid"
wait "$agent_pid"
rc=$?
t_eq "the agent container stops on SIGTERM with status 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   agent: /' "$W/agent.log" | tail -10
kill "$wl_pid" 2>/dev/null
wait "$wl_pid" 2>/dev/null || true
