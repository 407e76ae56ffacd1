# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the 3x-agent-*.sh suites (sourced after tests/lib.sh).
#
#   agent_start PORT [ARGS...]   start `ctrwatch agent --listen 127.0.0.1:PORT`,
#                                wait for /readyz; sets AGENT_PID, AGENT_LOG
#   agent_stop                   SIGTERM; returns the agent's exit status
#   scrape PORT                  GET /metrics
#   series_value TEXT REGEX      value of the first series line matching REGEX
#   agent_prog_ids PID           ids of the BPF programs a process holds
#   cg_spawn DIR CMD...          start CMD inside the v2 cgroup DIR (which it
#                                creates); sets CG_PID
#   metrics_vs_tables FILE       what in a scrape (saved to FILE) the metric
#                                family tables do not declare (empty: none)
AGENT_PORT_BASE=${AGENT_PORT_BASE:-19100}

agent_start() {
	local port=$1; shift
	AGENT_LOG=$CTW_WORK/agent-$port.log
	"$CTW_BIN" agent --listen "127.0.0.1:$port" "$@" >"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	on_exit "kill -TERM $AGENT_PID 2>/dev/null; sleep 0.3; kill -KILL $AGENT_PID 2>/dev/null"
	if ! wait_for 30 curl -fsS "http://127.0.0.1:$port/readyz"; then
		echo "# agent did not become ready:"
		sed 's/^/#   /' "$AGENT_LOG"
		return 1
	fi
}

agent_stop() {
	local rc=0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" || rc=$?
	return $rc
}

scrape() { curl -fsS "http://127.0.0.1:$1/metrics"; }

metrics_vs_tables() { # file
	python3 "$CTW_SRC/tests/check-metrics-tables.py" "$CTW_BIN" "$1" 2>&1
}

series_value() { # text regex
	printf '%s\n' "$1" | grep -E -- "$2" | head -1 | awk '{print $NF}'
}

# Sum of every series matching REGEX (0 when none).
series_sum() { # text regex
	printf '%s\n' "$1" | grep -E -- "$2" | awk '{s += $NF} END {printf "%d\n", s}'
}

# (bpftool here has no pid column: read the process's fdinfo instead)
agent_prog_ids() { # pid
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un
}

cg_spawn() { # dir cmd...
	local dir=$1; shift
	mkdir -p "$dir" || return 1
	# The new shell moves itself into the cgroup, then becomes CMD.
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$dir" "$@" &
	CG_PID=$!
	on_exit "kill -KILL $CG_PID 2>/dev/null; wait $CG_PID 2>/dev/null; cg_rmdir '$dir'"
	wait_for 5 grep -qx "$CG_PID" "$dir/cgroup.procs"
}

# rmdir a cgroup tree we made, depth first, retrying while killed tasks
# still hold it for a moment.
cg_rmdir() { # dir
	local d
	[ -d "$1" ] || return 0
	for _ in $(seq 1 30); do
		find "$1" -depth -type d 2>/dev/null | while IFS= read -r d; do rmdir "$d" 2>/dev/null; done
		[ -d "$1" ] || return 0
		sleep 0.1
	done
	echo "# cgroup $1 could not be removed"
	return 1
}

# Every series once: name{labels} without the value, repeated ones printed.
duplicate_series() {
	grep -v '^#' | sed -E 's/ [^ ]+$//' | sort | uniq -d
}
