# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by 56-dns-first-packet.sh (this host's layout) and
# 57-dns-first-packet-v2.sh (pure cgroup v2): the DNS programs attached
# once, above the containers (issue 15), so that a container whose very
# first syscalls send its queries, and which is gone at once, is seen:
#   - the agent (--dns-cgroup) and `ctrwatch dns` (every container,
#     --attach-cgroup) each attach once, to the test's cgroup, not per
#     container;
#   - with both stopped (SIGSTOP), a container is made below the cgroup,
#     sends 3 queries as the first thing it does (distinct ids: the sender
#     numbers them by name length) and is removed; then both go on: exactly
#     3 queries and 3 responses in the agent (kept after its exit), exactly
#     its 3 queries, named, in the CLI;
#   - a query from outside the attachment cgroup is not seen;
#   - on exit (SIGINT, and SIGKILL) nothing is left attached.
# Sourced after tests/lib.sh, agent-lib.bash and 60-dns-common.bash; $1 of
# dns_first_packet: a tag for names.
dns_first_packet() {
	local tag=$1 base port id d t0 all
	require_cmd dnsmasq gcc curl bpftool nsenter jq
	dns_setup
	t_eq "$tag: dnsmasq up in netns $DNS_NS" 0 "$?"
	dns_build_sender
	t_eq "$tag: the crafted-packet sender builds" 0 "$?"
	base=$(cgroup2_dir "$CTW_RUN_ID-$tag")
	mkdir -p "$base/system.slice" || return 1
	on_exit "cg_rmdir '$base'"
	progs() { bpftool cgroup show "$base" 2>/dev/null | grep -c 'dns_egress\|dns_ingress'; }

	port=$(free_port)
	agent_start "$port" --metrics dns --discovery-interval 1s --exit-grace 120s \
		--dns-cgroup "$base" || return 1
	all=$DNS_DIR/all-$tag.json
	CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json -d 60 --attach-cgroup "$base" \
		>"$all" 2>"$DNS_DIR/all-$tag.err" &
	local cpid=$!
	on_exit "kill $cpid 2>/dev/null"
	both() { [ "$(progs)" -eq 4 ]; }
	t_ok "$tag: agent and CLI attached once each, to the test's cgroup (egress, ingress)" \
		wait_for 10 both
	wait_for 10 grep -q 'no containers yet\|watching' "$DNS_DIR/all-$tag.err"

	# Both stopped from before the container's mkdir to after its rmdir:
	# only programs attached above it beforehand can see its packets (user
	# space attaching per container, however fast, cannot), and the
	# records wait in the rings.
	kill -STOP "$AGENT_PID" "$cpid"
	on_exit "kill -CONT $AGENT_PID $cpid 2>/dev/null"
	id=$(printf '%s-%s' "$tag" "$$" | sha256sum | cut -c1-64)
	d=$base/system.slice/docker-$id.scope
	t0=$(date +%s%N)
	mkdir "$d" || return 1
	# the first at once, 20 ms after each for its response (the socket
	# must still be open when it comes)
	DNS_SEND_GAP_US=20000 in_cg "$d" "$DNS_SEND" "$DNS_SERVER" query:a.example.test \
		query:bb.example.test query:web.example.test
	rmdir "$d"
	t_fail "$tag: the container's cgroup is gone" test -d "$d"
	kill -CONT "$AGENT_PID" "$cpid"
	# the test's own cgroup is outside the attachment: not seen at all
	nsenter --net="/run/netns/$DNS_NS" "$DNS_SEND" "$DNS_SERVER" query:outside.example.test

	local m
	counted() {
		m=$(scrape "$port")
		[ "$(series_sum "$m" "^ctrwatch_dns_responses_total\\{container=\"${id:0:12}\",")" -ge 3 ]
	}
	t_ok "$tag: agent: the gone container's responses are counted" wait_for 10 counted
	m=$(scrape "$port")
	t_eq "$tag: agent: exactly its 3 queries (qtype A)" 3 \
		"$(series_sum "$m" "^ctrwatch_dns_queries_total\\{container=\"${id:0:12}\",container_id=\"${id:0:12}\",qtype=\"A\"\\}")"
	t_eq "$tag: agent: exactly 3 responses" 3 \
		"$(series_sum "$m" "^ctrwatch_dns_responses_total\\{container=\"${id:0:12}\",")"
	seen() { [ "$(jq -c "select(.container == \"${id:0:12}\")" "$all" | wc -l)" -ge 3 ]; }
	t_ok "$tag: CLI: its queries, named by the container" wait_for 10 seen
	sleep 0.5
	t_eq "$tag: CLI: exactly its 3 queries" "a.example.test bb.example.test web.example.test" \
		"$(jq -r "select(.container == \"${id:0:12}\") | .qname" "$all" | sort | xargs)"
	local first
	first=$(jq -r "select(.container == \"${id:0:12}\") | .time" "$all" | sort | head -1)
	echo "# first query at $first; mkdir at $(date -u -d "@${t0:0:10}.${t0:10:6}" +%H:%M:%S.%6N)"
	t_eq "$tag: CLI: nothing from outside the attachment cgroup" "" \
		"$(jq -r 'select(.qname == "outside.example.test") | .container' "$all")"
	t_eq "$tag: agent: only the container's series" "" \
		"$(printf '%s\n' "$m" | grep -E '^ctrwatch_dns_queries_total' | grep -v "${id:0:12}")"

	kill -INT "$cpid"
	wait "$cpid"
	t_eq "$tag: CLI exits 0" 0 "$?"
	t_eq "$tag: the CLI's programs detached at its exit" 2 "$(progs)"
	agent_stop
	t_eq "$tag: the agent stops cleanly" 0 "$?"
	t_eq "$tag: the agent's programs detached at its exit: none left" 0 "$(progs)"
	"$CTW_BIN" dns -d 60 --attach-cgroup "$base" >/dev/null 2>&1 &
	cpid=$!
	one() { [ "$(progs)" -eq 2 ]; }
	wait_for 10 one
	kill -KILL "$cpid"
	wait "$cpid" 2>/dev/null
	none() { [ "$(progs)" -eq 0 ]; }
	t_ok "$tag: a CLI killed with SIGKILL leaves nothing attached" wait_for 5 none
}
