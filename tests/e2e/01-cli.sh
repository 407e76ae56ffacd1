#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI frame as a user types it: help, usage errors, version, probe.
. "$(dirname "$0")/../lib.sh"

out=$(ctw --help); rc=$?
t_eq "--help exits 0" 0 "$rc"
t_match "--help lists version" '^  version +print version' "$out"
t_match "--help lists probe" '^  probe +report what' "$out"

out=$(ctw no-such-command 2>&1 >/dev/null); rc=$?
t_eq "unknown subcommand exits 2" 2 "$rc"
t_match "unknown subcommand named on stderr" "unknown command 'no-such-command'" "$out"
t_match "unknown subcommand prints usage" 'Usage: ctrwatch' "$out"

ctw version --no-such-flag >/dev/null 2>&1; rc=$?
t_eq "unknown option exits 2" 2 "$rc"

out=$(ctw probe --help); rc=$?
t_eq "probe --help exits 0" 0 "$rc"
t_match "probe --help has examples" 'Examples:' "$out"

out=$(ctw version)
t_match "version has revision" '^revision: [0-9a-f]{7,}|^revision: unknown' "$out"
t_match "version has kernel release" "kernel: +$(uname -r | sed 's/[.+]/\\&/g')\$" "$out"
t_match "version has libbpf" '^libbpf: +[0-9]+\.[0-9]+' "$out"
json=$(ctw version --json)
t_eq "version --json is JSON with version" "$(grep -o '"[0-9]*\.[0-9]*\.[0-9]*"' <<<"$json" | head -1 | tr -d '"')" \
	"$(jq -r .version <<<"$json")"

if [ "$(id -u)" -eq 0 ]; then
	json=$(ctw probe --json); rc=$?
	t_ok "probe --json is valid JSON" jq -e . <<<"$json"
	# Compare the reported layout with what the filesystem says.
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then want=unified
	elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then want=hybrid
	else want=legacy; fi
	t_eq "probe reports the cgroup layout" "$want" "$(jq -r .cgroup_layout <<<"$json")"
	want_k=false; [ -e /sys/bus/event_source/devices/kprobe/type ] && want_k=true
	t_eq "probe reports kprobes as the PMU list does" "$want_k" "$(jq -r .features.kprobes.ok <<<"$json")"
	want_b=false; [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] && want_b=true
	t_eq "probe reports bpffs as mounted or not" "$want_b" "$(jq -r .features.bpffs.ok <<<"$json")"
	ready=$(jq -r .ready <<<"$json")
	if [ "$ready" = true ]; then want_rc=0; else want_rc=1; fi
	t_eq "probe exit status follows readiness" "$want_rc" "$rc"
	t_eq "probe leaves no cgroup behind" "" "$(find /sys/fs/cgroup/ -maxdepth 3 -name 'ctrwatch-probe-*' 2>/dev/null)"
	# The kernel frees a detached program after an RCU grace period.
	t_ok "probe leaves no program loaded" wait_for 5 sh -c '! bpftool prog show | grep -q ctw_probe'

else
	t_skip "probe checks" "needs root"
fi

if [ "$(id -u)" -eq 0 ]; then
	d=$(mktemp -d "$CTW_WORK/root.XXXXXX" 2>/dev/null || mktemp -d)
	out=$(CTRWATCH_ROOT='' ctw --root "$d" run busybox echo hi 2>&1)
	t_eq "--root DIR: run works from a new store" hi "$out"
	t_ok "--root DIR: the built-in image landed there" test -d "$d/layers"
	t_match "--root=DIR: images lists busybox" '^busybox +latest' "$(ctw --root="$d" images)"
	rm -rf "$d"
fi
ctw --root >/dev/null 2>&1; rc=$?
t_eq "--root without a directory exits 2" 2 "$rc"

# The README documents every subcommand the binary has (docs stay true).
missing=()
for c in $(ctw --help | awk '/^Commands:/{f=1; next} /^$/{next} /^Global/{f=0} f && /^  [a-z]/{print $1}'); do
	grep -qE "^(=+ .*[ ,]$c([ ,]|\$)|ctrwatch $c( |\$))" "$CTW_SRC/README.adoc" || missing+=("$c")
done
t_eq "README.adoc documents every subcommand" "" "${missing[*]}"

# The README's metrics table is the agent's metric family tables (make
# metrics-readme): a family added, renamed or retyped in a table without
# regenerating it fails here.
out=$(python3 "$CTW_SRC/scripts/metrics-readme.py" --check "$CTW_BIN" "$CTW_SRC/README.adoc" 2>&1); rc=$?
t_eq "README.adoc's metrics table is the one agent --list-metrics makes" "0" "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | head -20 >&2
t_match "agent --list-metrics lists a module's family with its labels" \
	'^ctrwatch_syscalls_total +counter +syscalls +container,pod,namespace,container_id,syscall$' \
	"$(ctw agent --list-metrics)"
t_eq "agent --list-metrics=json: one entry per family, none twice" "" \
	"$(ctw agent --list-metrics=json | jq -r '.[].name' | sort | uniq -d)"
ctw agent --list-metrics=yaml >/dev/null 2>&1; rc=$?
t_eq "agent --list-metrics=yaml is a usage error" 2 "$rc"
# Every metric name the docs, alerts and dashboards use is a declared family
# (or a histogram's _bucket/_sum/_count): a family renamed in its table
# without its users fails here.
ctw agent --list-metrics=json | jq -r '.[].name' >"$CTW_WORK/families.txt"
unknown=()
for f in "$CTW_SRC/README.adoc" "$CTW_SRC/agent/README.md" "$CTW_SRC"/deploy/helm/ctrwatch/files/* \
	"$CTW_SRC"/deploy/monitoring/*.yaml "$CTW_SRC"/deploy/monitoring/*.md "$CTW_SRC/scripts/dashboard.py"; do
	[ -f "$f" ] || continue
	for n in $(grep -oE '\bctrwatch_[a-z0-9_]*[a-z0-9]\b' "$f" | sort -u); do
		[ "$n" = ctrwatch_mine_total ] && continue # agent/README.md's example module
		grep -qxF -e "$n" -e "$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")" "$CTW_WORK/families.txt" ||
			unknown+=("${f#"$CTW_SRC"/}:$n")
	done
done
t_eq "the docs, alerts and dashboards name only declared families" "" "${unknown[*]}"
