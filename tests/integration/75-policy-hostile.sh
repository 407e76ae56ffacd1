#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Policy files that would stall the agent, each tried for real:
#   - large policies checked fast: 6 000 DNS names, and 256 rules sharing 370
#     names through a YAML alias (~95 000 names: minutes before);
#   - a 10^6-rule file rejected at rule 257 with little memory (2.4 GB
#     before), a 10^6-line one at the size limit, 200 000 levels of nesting,
#     /dev/zero and a FIFO as the policy file;
#   - invalid UTF-8, NUL and control bytes reported at their real
#     FILE:LINE:COL; a second YAML document is an error;
#   - the agent keeps answering /healthz and /metrics (within a short
#     timeout) while it reloads a large policy (6 000 names on 5 cgroups:
#     30 000 kernel entries), a bad file leaves the running policy as it was,
#     and a 10^6-rule file does not grow the agent.
# CPU time and peak memory are taken with /usr/bin/time (user+sys): they do
# not depend on how busy the machine is.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd curl jq timeout /usr/bin/time
# shellcheck source=scripts/cgroup-lib.sh
. "$CTW_SRC/scripts/cgroup-lib.sh"

P=$CTW_WORK/pol75
mkdir -p "$P"
on_exit "rm -rf '$P'"
PY=$(command -v /usr/bin/python3 || command -v python3)

# check FILE: run `policy check` bounded in time; sets OUT, RC, CPU (s), KB.
check() {
	timeout -k 5 60 /usr/bin/time -o "$P/time" -f '%U %S %M' "$CTW_BIN" policy check "$1" \
		>"$P/out" 2>&1
	RC=$?
	OUT=$(cat "$P/out")
	# (time writes "Command exited with non-zero status" first)
	read -r u s KB < <(tail -1 "$P/time" 2>/dev/null) || { u=99 s=0 KB=0; }
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}
under() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; } # a < b, decimals

# ---- large policies ----
"$PY" - "$P" <<'PY'
import sys
d = sys.argv[1]
def rule(name, act, dns):
    return ("  - name: %s\n    action: %s\n    containers: {name: web}\n"
            "    direction: egress\n    match:\n      dns: %s\n" % (name, act, dns))
# 6 000 names: the second rule's 3 000 all covered by the last of the first's
a = ["x%d.net" % i for i in range(2999)] + ['"*.io"']
b = ["h%d.io" % i for i in range(3000)]
with open(d + "/names6000.yaml", "w") as f:
    f.write("rules:\n" + rule("a", "deny", "[" + ", ".join(a) + "]")
            + rule("b", "deny", "[" + ", ".join(b) + "]"))
# 256 rules sharing 370 long names: ~95 000 names, every rule redundant
names = ["h%d.%s.example.com" % (i, ".".join("lab%02d" % k for k in range(20))) for i in range(370)]
with open(d + "/alias.yaml", "w") as f:
    f.write("rules:\n" + rule("r0", "deny", "&L [" + ", ".join(reversed(names)) + "]"))
    for k in range(1, 256):
        f.write(rule("r%d" % k, "deny", "*L"))
# 10^6 rules, flow style (3 MB) and block style (5 MB)
with open(d + "/million.yaml", "w") as f:
    f.write("rules: [" + "{}," * 1000000 + "]\n")
with open(d + "/million-lines.yaml", "w") as f:
    f.write("rules:\n" + "- {}\n" * 1000000)
with open(d + "/deep.yaml", "w") as f:
    f.write("rules: " + "[" * 200000 + "]" * 200000 + "\n")
PY
check "$P/names6000.yaml"
t_eq "6 000 DNS names: accepted" 0 "$RC"
t_match "  ... the covered rule found" "rule 'b' is redundant: rule 'a'" "$OUT"
t_ok "  ... in well under a second of CPU (${CPU}s)" under "$CPU" 0.5
check "$P/alias.yaml"
t_eq "256 rules x 370 aliased names: accepted" 0 "$RC"
t_eq "  ... one warning per redundant rule" 255 "$(grep -c "is redundant" <<<"$OUT")"
t_ok "  ... within 2 s of CPU (${CPU}s; 62 s before)" under "$CPU" 2

check "$P/million.yaml"
t_eq "10^6 rules: rejected" 1 "$RC"
t_match "  ... at the 257th, FILE:LINE:COL" "million\\.yaml:1:777: too many rules: this is rule 257, at most 256" "$OUT"
t_ok "  ... with little memory (peak ${KB} KB; 276 MB before)" test "$KB" -lt 65536
t_ok "  ... fast (${CPU}s CPU)" under "$CPU" 1
check "$P/million-lines.yaml"
# byte 4 MiB of "rules:\n" and 5-byte lines: its line and column
t_match "10^6 rule lines: stopped at the size limit, where it is" \
	"million-lines\\.yaml:$(((4194304 - 7) / 5 + 2)):$(((4194304 - 7) % 5 + 1)): the policy goes on past 4096 KiB" "$OUT"
t_ok "  ... with little memory (peak ${KB} KB)" test "$KB" -lt 65536
check "$P/deep.yaml"
t_eq "200 000 levels of nesting: rejected" 1 "$RC"
t_match "  ... at level 33" "deep\\.yaml:1:39: nesting deeper than 32 levels" "$OUT"
t_ok "  ... fast (${CPU}s CPU; more than 60 s before)" under "$CPU" 1
check /dev/zero
t_match "/dev/zero as a policy: read no further than the limit, NUL named" "^/dev/zero:1:1: NUL byte" "$OUT"
mkfifo "$P/fifo"
check "$P/fifo"
t_match "a FIFO nobody writes: read as empty, not waited for" "empty policy" "$OUT"

# ---- positions of bad bytes, a second document ----
bad() { # name printf-format regex label
	printf "$2" >"$P/$1.yaml"
	check "$P/$1.yaml"
	t_eq "$4: rejected" 1 "$RC"
	t_match "  ... at $3" "$1\\.yaml:$3" "$OUT"
}
bad utf8 'rules:\n  - name: "caf\xc3\xa9 \xff"\n' '2:17: invalid UTF-8 \(byte 0xff\)' "invalid UTF-8"
bad nul 'default: deny\nrules:\n\n  - {name: a\0b}\n' '4:13: NUL byte' "a NUL byte"
bad ctrl 'rules: []\n# \xe2\x82\xac \x1b[31m\n' '2:5: control character U\+001B' "an escape character"
bad twodocs 'rules: []\n---\nrules:\n  - {name: x, action: deny, interfaces: [lo]}\n' \
	'2:1: a second YAML document' "a second document"

# ---- the agent during the reload of a large policy ----
port=$(free_port)
cgs=()
for i in 1 2 3 4 5; do
	d=$(cgroup2_dir "$CTRWATCH_CGROUP_PARENT/ctw75-$i")
	mkdir -p "$d" || { t_fail "create test cgroup $d" true; exit 1; }
	cgs+=("$d")
done
on_exit "rmdir ${cgs[*]} 2>/dev/null"
on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
"$PY" - "$P" "${cgs[@]}" <<'PY'
import sys
d, cgs = sys.argv[1], sys.argv[2:]
names = ["h%d.test" % i for i in range(6000)]
def write(path, bad=False):
    with open(path, "w") as f:
        f.write("rules:\n")
        for i, cg in enumerate(cgs):
            dns = "&L [" + ", ".join(names) + (", bad*name" if bad else "") + "]" if i == 0 else "*L"
            f.write('  - name: deny-%d\n    action: deny\n    containers: {cgroup: "%s"}\n'
                    "    direction: egress\n    match:\n      dns: %s\n" % (i, cg, dns))
write(d + "/big.yaml")
write(d + "/big-bad.yaml", True)
with open(d + "/small.yaml", "w") as f:
    f.write('rules:\n  - name: one\n    action: deny\n    containers: {cgroup: "%s"}\n'
            "    direction: egress\n    match: {dns: [one.test]}\n" % cgs[0])
PY
cp "$P/small.yaml" "$P/policy.yaml"
LOG=$P/agent.log
"$CTW_BIN" agent --listen "127.0.0.1:$port" --metrics policy --discovery-interval 1s \
	--policy "$P/policy.yaml" >"$LOG" 2>&1 &
APID=$!
on_exit "kill -TERM $APID 2>/dev/null; sleep 0.3; kill -KILL $APID 2>/dev/null"
t_ok "agent with a small policy is ready" wait_for 20 curl -fsS "http://127.0.0.1:$port/readyz"
metric() { curl -fsS -m 5 "http://127.0.0.1:$port/metrics" | sed -n "s/^$1 //p"; }
t_eq "  ... applied once" 1 "$(metric ctrwatch_policy_reloads_total)"

# Replace the file (as an editor does) and probe while the agent reloads:
# every probe must be answered within 1 s, until the reload is done.
probe_during_reload() { # file want_log_regex
	local ok=0 slow=0 t0=$SECONDS
	cp "$1" "$P/policy.yaml.new" && mv "$P/policy.yaml.new" "$P/policy.yaml"
	while [ $((SECONDS - t0)) -lt 60 ]; do
		curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$port/healthz" && ok=$((ok + 1)) || slow=$((slow + 1))
		curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$port/metrics" && ok=$((ok + 1)) || slow=$((slow + 1))
		grep -qE "$2" "$LOG" && break
	done
	PROBES_OK=$ok PROBES_SLOW=$slow
}
probe_during_reload "$P/big.yaml" 'policy\.yaml applied \(5 rules\)'
t_match "the large policy (6 000 names x 5 cgroups) is applied" 'policy\.yaml applied \(5 rules\)' "$(cat "$LOG")"
t_eq "  ... /healthz and /metrics answered within 1 s throughout ($PROBES_OK answered)" 0 "$PROBES_SLOW"
t_cmp "  ... probed during the reload" "$PROBES_OK" -ge 2
t_eq "  ... reloads_total 2" 2 "$(metric ctrwatch_policy_reloads_total)"
t_eq "  ... 5 rules enforced" 5 "$(metric ctrwatch_policy_rules)"
t_eq "  ... policy show lists them" 5 "$(ctw policy show --json | jq '.rules | length')"
gen=$(ctw policy show --json | jq .generation)

probe_during_reload "$P/big-bad.yaml" 'rejected; the running policy stays'
t_match "a bad large file: rejected, FILE:LINE:COL logged" \
	"policy\\.yaml:[0-9]+:[0-9]+: invalid character '\\*' in DNS name 'bad\\*name'" "$(cat "$LOG")"
t_eq "  ... answered throughout ($PROBES_OK answered)" 0 "$PROBES_SLOW"
t_eq "  ... reload_errors_total 1" 1 "$(metric ctrwatch_policy_reload_errors_total)"
t_eq "  ... the running policy stays (generation $gen)" "$gen" "$(ctw policy show --json | jq .generation)"
t_eq "  ... last_reload_success 0" 0 "$(metric ctrwatch_policy_last_reload_success)"

probe_during_reload "$P/million.yaml" 'too many rules: this is rule 257'
t_eq "10^6 rules given to the agent: answered throughout" 0 "$PROBES_SLOW"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$APID/status")
t_ok "  ... the agent's peak memory stays small (${hwm} kB)" test "${hwm:-999999}" -lt 131072
t_eq "  ... the running policy stays" "$gen" "$(ctw policy show --json | jq .generation)"
probe_during_reload "$P/deep.yaml" 'nesting deeper than 32 levels'
t_eq "200 000 levels given to the agent: answered throughout" 0 "$PROBES_SLOW"
t_eq "  ... reload_errors_total 3" 3 "$(metric ctrwatch_policy_reload_errors_total)"
t_ok "the agent is still alive" kill -0 "$APID"
