#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: start the agent on loopback, run a busybox container that does
# some work, show that container's series from /metrics, then stop and clean
# up everything (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/ctrwatch
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (BPF, namespaces, cgroups)" >&2; exit 1; }

# The demo's cgroups live below our own cgroup, never elsewhere.
export CTRWATCH_CGROUP_PARENT=ctrwatch-demo-$$
# ...and it leaves the machine's network alone (--net bridge would add ctrwatch0).
export CTRWATCH_NET=${CTRWATCH_NET:-none}
name=demo-web-$$
port=$( (for p in 9464 $(seq 19464 19480); do ss -Htln "sport = :$p" | grep -q . || { echo "$p"; break; }; done) )
log=$(mktemp /tmp/ctrwatch-demo-agent.XXXXXX.log)
agent_pid='' run_pid=''

cleanup() {
	set +e
	[ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
	"$bin" rm -f "$name" >/dev/null 2>&1
	if [ -n "$agent_pid" ]; then
		kill -TERM "$agent_pid" 2>/dev/null
		wait "$agent_pid" 2>/dev/null
	fi
	rm -f "$log"
	# The parent cgroups `run` made below ours, in every hierarchy.
	cgroup_rm_tree "$CTRWATCH_CGROUP_PARENT"
}
trap cleanup EXIT INT TERM

# shellcheck source=scripts/cgroup-lib.sh
. scripts/cgroup-lib.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "what this kernel offers (ctrwatch probe)"
"$bin" probe || true

step "starting the agent on 127.0.0.1:$port"
"$bin" agent --listen "127.0.0.1:$port" >"$log" 2>&1 &
agent_pid=$!
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	kill -0 "$agent_pid" 2>/dev/null || { cat "$log" >&2; echo "demo: the agent did not start" >&2; exit 1; }
	sleep 0.1
done
echo "agent pid $agent_pid ready: $(curl -fs "http://127.0.0.1:$port/healthz")"

step "running a busybox container ($name) that reads files in a loop"
"$bin" run --name "$name" busybox sh -c '
	echo "hello from $(hostname), pid $$ in my own pid namespace"
	end=$(( $(date +%s) + 4 ))
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do cat /etc/passwd >/dev/null; n=$((n+1)); done
	echo "read /etc/passwd $n times"' &
run_pid=$!
sleep 3

step "its series from http://127.0.0.1:$port/metrics (top 10 syscalls)"
curl -fs "http://127.0.0.1:$port/metrics" | grep -E "^ctrwatch_[a-z_]+\{[^}]*container=\"$name\"" |
	sort -t' ' -k2 -n -r | awk 'NR <= 10'

rc=0; wait "$run_pid" || rc=$?; run_pid=
echo "container exited with status $rc"

step "stopping the agent (SIGTERM) and cleaning up"
kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
echo "done: agent stopped (its programs detached), container and cgroups removed"
