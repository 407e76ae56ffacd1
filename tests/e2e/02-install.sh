#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Outside Kubernetes: `make install` and `make uninstall`, the systemd unit,
# the example agent config, the man pages and the shell completion.
#   - make install DESTDIR=D puts exactly the binary, one man page per
#     command (and ctrwatch.1), bash and zsh completion, the unit (with the
#     install's paths) and the example config there; a config already there
#     is kept; make uninstall removes all of it (the config only while it is
#     the example): nothing is left;
#   - installed to a prefix: `systemd-analyze verify` passes (the binary and
#     the man pages it names exist), `systemd-analyze security` rates the
#     unit OK;
#   - the agent runs as the unit confines it: the unit's capability bounding
#     set, no_new_privs, its SystemCallFilter, RestrictAddressFamilies and
#     MemoryDenyWriteExecute as a seccomp filter and prctl, every file
#     system read-only but its ReadWritePaths and RuntimeDirectory
#     (emulated: no systemd here); every module starts, a policy is applied
#     and pinned;
#   - each man page renders with `man -l` and `groff -ww` without a warning
#     and names every option its command's --help lists;
#   - the completions list every command, a command's options, policy's
#     subcommands and the running containers' names.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd make man groff systemd-analyze setpriv unshare zsh jq curl /usr/bin/python3

W=$CTW_WORK/install02
D=$W/dest
mkdir -p "$W"
on_exit "rm -rf '$W'"
mk() { make -s -C "$CTW_SRC" O="$CTW_BUILD" "$@"; }

mapfile -t cmds < <(/usr/bin/python3 "$CTW_SRC/scripts/helpgen.py" commands "$CTW_BIN" | cut -f1)
t_cmp "ctrwatch --help lists its commands (${#cmds[@]})" "${#cmds[@]}" -ge 20

# ---- make install DESTDIR= / make uninstall ----
t_ok "make install DESTDIR=..." mk install DESTDIR="$D"
want=$( (
	echo etc/ctrwatch/agent.yaml
	echo usr/local/bin/ctrwatch
	echo usr/local/bin/ctrwatch-runc
	echo usr/local/lib/systemd/system/ctrwatch-agent.service
	echo usr/local/share/bash-completion/completions/ctrwatch
	echo usr/local/share/doc/ctrwatch/agent.yaml.example
	echo usr/local/share/man/man1/ctrwatch.1
	for c in "${cmds[@]}"; do echo "usr/local/share/man/man1/ctrwatch-$c.1"; done
	echo usr/local/share/zsh/site-functions/_ctrwatch
) | sort)
t_eq "the installed tree: binary, a man page per command, completions, unit, config" "$want" \
	"$(cd "$D" && find . -type f -o -type l | sed 's|^\./||' | sort)"
t_ok "the binary is the built one" cmp "$CTW_BIN" "$D/usr/local/bin/ctrwatch"
t_eq "ctrwatch-runc: the OCI runtime's name, a link to it" ctrwatch "$(readlink "$D/usr/local/bin/ctrwatch-runc")"
t_eq "modes: binary 755, the rest 644" "755 644" \
	"$(stat -c %a "$D/usr/local/bin/ctrwatch") $(find "$D" -type f ! -name ctrwatch -printf '%m\n' | sort -u | xargs)"
t_eq "the unit runs the installed binary with the installed config" \
	"ExecStart=/usr/local/bin/ctrwatch agent --config /etc/ctrwatch/agent.yaml" \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/ctrwatch-agent.service")"
t_ok "the example config passes ctrwatch agent --check" \
	"$CTW_BIN" agent --config "$D/etc/ctrwatch/agent.yaml" --check
echo "listen: 127.0.0.1:19999" >>"$D/etc/ctrwatch/agent.yaml"
mk install DESTDIR="$D" >/dev/null
t_eq "install again: an edited config is kept" "listen: 127.0.0.1:19999" "$(tail -1 "$D/etc/ctrwatch/agent.yaml")"
t_ok "make uninstall DESTDIR=..." mk uninstall DESTDIR="$D"
t_eq "uninstall: only the edited config is left" "etc/ctrwatch/agent.yaml" \
	"$(cd "$D" && find . -type f -o -type l | sed 's|^\./||')"
cp "$CTW_SRC/deploy/systemd/agent.yaml" "$D/etc/ctrwatch/agent.yaml"
mk uninstall DESTDIR="$D" >/dev/null
t_eq "uninstall with the example config: no file left" "" "$(find "$D" -type f -o -type l)"
t_eq "  ... and ctrwatch's own directories gone" "" "$(find "$D" -type d -name ctrwatch | sed "s|^$D||")"

# ---- installed to a prefix: the unit as systemd reads it ----
P=$W/prefix
mk install PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null
unit=$P/lib/systemd/system/ctrwatch-agent.service
t_eq "systemd-analyze verify: no complaint" "" \
	"$(MANPATH=$P/share/man systemd-analyze verify "$unit" 2>&1)"
exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
t_ok "systemd-analyze security: exposure ${exposure:-?} <= 4.0 (OK)" \
	awk -v e="${exposure:-99}" 'BEGIN {exit !(e <= 4.0)}'
t_eq "systemd-analyze verify fails on a unit naming a missing binary (the check is real)" 1 \
	"$(sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/ctrwatch|' "$unit" >"$W/broken.service";
		MANPATH=$P/share/man systemd-analyze verify "$W/broken.service" >/dev/null 2>&1; echo $?)"

# ---- the agent as the unit confines it ----
val() { sed -n "s/^$1=//p" "$unit" | tail -1; }
caps=$(val CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
filter=$(val SystemCallFilter)
t_eq "the unit: no_new_privs, strict read-only system, private devices" "yes strict yes" \
	"$(val NoNewPrivileges) $(val ProtectSystem) $(val PrivateDevices)"
expand() { # syscall names of systemd's groups and names
	local x
	for x in "$@"; do
		case $x in
		@*) systemd-analyze syscall-filter "$x" | sed -n '2,$ s/^    \([^#]\S*\)$/\1/p' |
			while read -r y; do expand "$y"; done ;;
		*) echo "$x" ;;
		esac
	done
}
# shellcheck disable=SC2086 # words of the unit's SystemCallFilter
expand $filter | sort -u >"$W/syscalls"
t_cmp "SystemCallFilter expands to syscalls ($(wc -l <"$W/syscalls"))" "$(wc -l <"$W/syscalls")" -ge 200
cat >"$W/confine.py" <<'PY'
# confine.py SYSCALLS FAMILIES -- CMD...: seccomp allow-list (EPERM
# otherwise, socket() only for FAMILIES), no writable+executable memory,
# then exec CMD.  Run under setpriv --no-new-privs.
import ctypes, errno, os, socket, sys
import seccomp
names = open(sys.argv[1]).read().split()
fams = [getattr(socket, f) for f in sys.argv[2].split()]
f = seccomp.SyscallFilter(seccomp.ERRNO(errno.EPERM))
for n in names:
    if n in ("socket",):
        continue
    try:
        f.add_rule(seccomp.ALLOW, n)
    except (RuntimeError, ValueError, OSError):
        pass  # not a syscall of this architecture
for fam in fams:
    f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, fam))
f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.NE, fams[0]))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit("prctl(PR_SET_MDWE): " + os.strerror(ctypes.get_errno()))
f.load()
os.execv(sys.argv[4], sys.argv[4:])
PY
fams=$(val RestrictAddressFamilies)
mkdir -p "$CTRWATCH_STATE" "$W/pol"
on_exit "'$CTW_BIN' policy flush; rm -rf '$CTRWATCH_BPF_PIN'"
cat >"$W/pol/policy.yaml" <<'EOF'
rules:
  - name: no-metadata
    action: deny
    containers: {name: "confined-*"}
    direction: egress
    match: {cidrs: [169.254.169.254/32]}
EOF
port=$(free_port)
cp "$P/etc/ctrwatch/agent.yaml" "$W/agent.yaml"
cat >>"$W/agent.yaml" <<EOF
listen: 127.0.0.1:$port
policy: $W/pol/policy.yaml
discovery_interval: 1s
EOF
"$CTW_BIN" run -d --name "confined-$$" busybox sleep 60 >/dev/null && on_exit "'$CTW_BIN' rm -f confined-$$"
mkdir -p "$CTRWATCH_BPF_PIN"
# ProtectSystem=strict (+ Protect{KernelTunables,ControlGroups}): every
# mount read-only in a mount namespace of its own; ReadWritePaths and the
# RuntimeDirectory (here the run's state dir) writable again.
rw="$(val ReadWritePaths) $CTRWATCH_STATE"
unshare -m --propagation private bash -c '
	awk "{print \$5}" /proc/self/mountinfo | while read -r mp; do
		case $mp in /proc | /proc/* | /dev | /dev/*) continue ;; esac
		mount -o remount,bind,ro "$mp" 2>/dev/null
	done
	for p in $1; do mount --bind "$p" "$p" && mount -o remount,bind,rw "$p"; done
	touch /etc/.ctrwatch-rw-probe 2>/dev/null && { echo "/etc is writable"; exit 97; }
	shift
	exec "$@"' confine "$rw" \
	setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$caps" \
	/usr/bin/python3 "$W/confine.py" "$W/syscalls" "$fams" -- \
	"$P/bin/ctrwatch" agent --config "$W/agent.yaml" >"$W/agent.log" 2>&1 &
apid=$!
on_exit "kill $apid; wait $apid"
ready() { curl -fsS "http://127.0.0.1:$port/readyz"; }
if wait_for 60 ready; then
	t_ok "the confined agent becomes ready" true
else
	t_fail "the confined agent becomes ready" true
	sed 's/^/#   agent: /' "$W/agent.log" | tail -15
fi
m=$(curl -fsS "http://127.0.0.1:$port/metrics")
t_eq "confined: every module up" 'dns=1 policy=1 resources=1 syscalls=1 tcp=1' \
	"$(sed -n 's/^ctrwatch_module_up{module="\([a-z]*\)"} \([0-9]\)$/\1=\2/p' <<<"$m" | sort | xargs)"
t_eq "confined: the policy applied (pinned under the writable /sys/fs/bpf)" 1 \
	"$(awk '/^ctrwatch_policy_rules / {print $2}' <<<"$m")"
t_ok "  ... and visible to ctrwatch policy show outside" sh -c "'$CTW_BIN' policy show --json | jq -e '.rules[0].name == \"no-metadata\"'"
t_match "confined: it sees the container beside it" "ctrwatch_container_info\\{container=\"confined-$$\"" "$m"
# unshare, bash, setpriv and python exec each other: $apid is the agent.
t_eq "confined: it is the agent, with the unit's capability bounding set" \
	"ctrwatch $(setpriv --bounding-set="-all,$caps" grep CapBnd /proc/self/status)" \
	"$(cat "/proc/$apid/comm") $(grep CapBnd "/proc/$apid/status")"
t_eq "  ... and no_new_privs, seccomp filtering" "1 2" \
	"$(awk '/^NoNewPrivs/ {n = $2} /^Seccomp:/ {s = $2} END {print n, s}' "/proc/$apid/status")"
kill "$apid"
wait "$apid"
t_eq "confined: SIGTERM, exit 0" 0 $?
t_nomatch "confined: nothing refused on the way (no EPERM, EROFS in its log)" \
	'Operation not permitted|Read-only file system' "$(cat "$W/agent.log")"
mk uninstall PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null

# ---- man pages ----
mk install DESTDIR="$D" >/dev/null
MAN=$D/usr/local/share/man/man1
# Every command's options, as helpgen reads them from --help (one run).
/usr/bin/python3 -c 'import json, sys; sys.path.insert(0, sys.argv[1]); import helpgen
print(json.dumps({c: helpgen.options_of(helpgen.helptext(sys.argv[2], c)) for c, _ in helpgen.commands(sys.argv[2])}))' \
	"$CTW_SRC/scripts" "$CTW_BIN" >"$W/options.json"
for page in "$MAN"/ctrwatch*.1; do
	name=$(basename "$page" .1)
	out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$page" 2>"$W/man.err")
	rc=$?
	warn=$(cat "$W/man.err"; LC_ALL=C.UTF-8 groff -ww -z -man -Tutf8 "$page" 2>&1)
	if [ $rc -eq 0 ] && [ -z "$warn" ] && grep -q "^NAME" <<<"$out"; then
		_t_report ok "man -l $name.1 renders without warnings"
	else
		_t_report fail "man -l $name.1 renders without warnings"
		printf '%s\n' "$warn" | head -5 | sed 's/^/#   /'
	fi
	[ "$name" = ctrwatch ] && continue
	cmd=${name#ctrwatch-}
	missing=""
	for f in $(jq -r --arg c "$cmd" '.[$c][]' "$W/options.json"); do
		grep -qF -- "$f" <<<"$out" || missing="$missing $f"
	done
	t_eq "  ... names every option of ctrwatch $cmd --help" "" "$missing"
done
main=$(MANWIDTH=80 man -l "$MAN/ctrwatch.1" 2>/dev/null)
missing=""
for c in "${cmds[@]}"; do grep -q "ctrwatch-$c(1)" <<<"$main" || missing="$missing $c"; done
t_eq "ctrwatch(1) lists every command's page" "" "$missing"

# ---- completion ----
export PATH="$D/usr/local/bin:$PATH"
bcomp() { # words...: what bash completes for the last (possibly empty) word
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ctrwatch
		printf "%s\n" "${COMPREPLY[@]}"' bcomp "$D/usr/local/share/bash-completion/completions/ctrwatch" "$@" | sort
}
zcomp() { # words...: the same in zsh, with compadd/_describe/_files stubbed
	zsh -f -c '
		compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift; print -l -- ${(M)@:#${PREFIX}*}; }
		_describe() { local a=${@[-1]}; print -l -- ${(M)${${(P)a}%%:*}:#${PREFIX}*}; }
		_files() { print -- _files; }
		f=$1; shift; words=("$@"); CURRENT=$#; PREFIX=${words[-1]}
		source $f' zcomp "$D/usr/local/share/zsh/site-functions/_ctrwatch" "$@" | sort
}
all=$(printf '%s\n' "${cmds[@]}" | sort)
t_eq "bash: every command" "$(printf '%s\n' "${cmds[@]}" --help --version --root | sort)" "$(bcomp ctrwatch "")"
t_eq "zsh: every command" "$all" "$(zcomp ctrwatch "")"
runopts=$(jq -r '.run + ["--help"] | .[] | select(startswith("--m"))' "$W/options.json" | sort)
t_eq "bash: ctrwatch run --m<TAB>: run's options" "$runopts" "$(bcomp ctrwatch run --m)"
t_match "  ... among them --memory" '--memory' "$runopts"
t_eq "zsh: ctrwatch run --m<TAB>" "$runopts" "$(zcomp ctrwatch run --m)"
t_eq "bash: ctrwatch policy <TAB>: its subcommands" "add apply check del flush show stats" "$(bcomp ctrwatch policy "" | xargs)"
t_eq "zsh: ctrwatch policy <TAB>" "add apply check del flush show stats" "$(zcomp ctrwatch policy "" | xargs)"
t_match "bash: ctrwatch logs <TAB>: the running container's name" "^confined-$$\$" "$(bcomp ctrwatch logs "")"
t_match "zsh: ctrwatch logs <TAB>" "^confined-$$\$" "$(zcomp ctrwatch logs "")"
t_match "bash: ctrwatch run <TAB>: the images" '^busybox' "$(bcomp ctrwatch run "")"
t_eq "bash: after --root, a directory" "$(cd / && compgen -d -- /us)" "$(bcomp ctrwatch --root /us)"
mk uninstall DESTDIR="$D" >/dev/null
