#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Drop-rate benchmark: ctrwatch's XDP firewall against xdp-tools' xdp-filter
# (native), an nftables netdev-ingress drop (set of prefixes), an iptables
# raw drop (one rule per prefix) and a tc BPF classifier drop (LPM), each with 1, 1 000 and 100 000 source prefixes, on one veth
# pair between two namespaces this script makes (ctwpb-*).  Not part of
# `make test`.
#
#   tests/bench/xdp-bench.sh [BUILD_DIR]
#   env: SECS=3 (per run) REPS=3 CIDRS="1 1000 100000"
#        FILTERS="ctrwatch xdp-filter nft iptables tc"
#
# Traffic: tests/bench/xdp-gen (BPF_PROG_TEST_RUN, live frames, XDP_TX out
# of the sender's veth), 64-byte UDP frames from 10.97.0.1, a source that
# only the LAST of the N prefixes covers, so every filter holds N entries and
# drops every frame.
#  - "inline" Mpps: the receiver's NAPI runs in softirq on the sender's CPU
#    (both pinned to CPU 0), so the send rate is the drop rate; best of
#    REPS runs (the machine is shared: the best run is the least disturbed).
#  - "ns/pkt": receiver CPU per dropped packet, with threaded NAPI pinned to
#    CPU 1 (the kthread's CPU time / packets its filter counted).
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
O=${1:-build}
BIN=$PWD/$O/ctrwatch
SECS=${SECS:-3}
REPS=${REPS:-3}
CIDRS=${CIDRS:-1 1000 100000}
FILTERS=${FILTERS:-ctrwatch xdp-filter nft iptables tc}
[ "$(id -u)" = 0 ] || { echo "xdp-bench: needs root" >&2; exit 1; }
[ -x "$BIN" ] || { echo "xdp-bench: build $O first" >&2; exit 1; }

W=$(mktemp -d /tmp/ctwpb.XXXXXX)
PS=ctwpb-s$$
PR=ctwpb-r$$
SIF=ctwpb$$s
RIF=ctwpb$$r
export CTRWATCH_BPF_PIN=/sys/fs/bpf/ctwpb-$$ CTRWATCH_STATE=$W/state
GEN=$W/xdp-gen
SRC=10.97.0.1

cleanup() {
	"$BIN" policy flush >/dev/null 2>&1
	rm -rf "$CTRWATCH_BPF_PIN" "$CTRWATCH_BPF_PIN-tcdrops"
	nsenter --net="/run/netns/$PR" xdp-filter unload "$RIF" >/dev/null 2>&1
	ip netns del "$PS" 2>/dev/null
	ip netns del "$PR" 2>/dev/null
	rm -rf "$W"
	rmdir /sys/fs/bpf/xdp 2>/dev/null # libxdp's, when xdp-filter left it empty
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -O2 -Wall -Wextra -Werror -o "$GEN" tests/bench/xdp-gen.c -lbpf || exit 1
gcc -O2 -Wall -Wextra -Werror -o "$W/xdp-tcdrop" tests/bench/xdp-tcdrop.c -lbpf || exit 1
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -D__bpf__ -Wall -Werror -Ibpf -Ibpf/vmlinux/x86 \
	-c tests/bench/xdp-tcdrop.bpf.c -o "$W/xdp-tcdrop.bpf.o" || exit 1
ip netns add "$PS" && ip netns add "$PR" || exit 1
ip link add "$SIF" netns "$PS" type veth peer name "$RIF" netns "$PR" || exit 1
ip -n "$PS" addr add 10.96.0.1/24 dev "$SIF"
ip -n "$PR" addr add 10.96.0.2/24 dev "$RIF"
ip -n "$PS" link set "$SIF" up
ip -n "$PR" link set "$RIF" up
ip netns exec "$PR" ethtool -K "$RIF" gro on >/dev/null
RMAC=$(ip -n "$PR" -br link show "$RIF" | awk '{print $3}')
inr() { nsenter --net="/run/netns/$PR" "$@"; }

# N disjoint prefixes (nft sets refuse overlaps), the last one covering
# $SRC: /24s of 100.64.0.0/10, then /32s of 172.16.0.0/12.
prefixes() { # N
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n - 1; i++) {
			if (i < 16384) printf "100.%d.%d.0/24\n", 64 + int(i / 256), i % 256
			else { j = i - 16384; printf "172.%d.%d.%d/32\n", 16 + int(j / 65536), int(j / 256) % 256, j % 256 }
		}
		print "10.97.0.0/16" }'
}
# xdp-filter matches exact addresses: N addresses, the last one $SRC.
addresses() { # N
	awk -v n="$1" 'BEGIN { for (i = 0; i < n - 1; i++) printf "100.%d.%d.%d\n", 64 + int(i / 65536), int(i / 256) % 256, i % 256; print "10.97.0.1" }'
}

# ---- filters: setup N / counter / teardown ----
setup_ctrwatch() {
	{
		echo "rules:"
		echo "  - name: bench-drop"
		echo "    action: deny"
		echo "    interfaces: [$RIF]"
		echo "    match:"
		echo "      cidrs:"
		prefixes "$1" | sed 's/^/        - /'
	} >"$W/p.yaml"
	inr "$BIN" policy apply "$W/p.yaml" >/dev/null
}
count_ctrwatch() { "$BIN" policy stats --json | jq '.[] | select(.rule == "bench-drop") | .packets'; }
teardown_ctrwatch() { "$BIN" policy flush; }

setup_xdp-filter() {
	local n=$1
	[ "$n" -gt 10000 ] && n=10000 # its map holds 10 000 addresses
	inr xdp-filter load -m native -f ipv4 "$RIF" >/dev/null || return 1
	addresses "$n" | awk '{ split($1, a, "."); printf "map update pinned /sys/fs/bpf/xdp-filter/filter_ipv4 key hex %02x %02x %02x %02x value hex 01 00 00 00 00 00 00 00\n", a[1], a[2], a[3], a[4] }' >"$W/xf.batch"
	bpftool batch file "$W/xf.batch" >/dev/null
}
count_xdp-filter() { inr xdp-filter status | awk '/XDP_DROP/ {print $2}'; }
teardown_xdp-filter() { inr xdp-filter unload "$RIF" >/dev/null; }

setup_nft() {
	{
		echo "table netdev ctwpb {"
		echo "  set deny { type ipv4_addr; flags interval; elements = {"
		prefixes "$1" | sed 's/$/,/'
		echo "  } }"
		echo "  chain in { type filter hook ingress device \"$RIF\" priority -500; ip saddr @deny counter drop; }"
		echo "}"
	} >"$W/nft.conf"
	inr nft -f "$W/nft.conf"
}
count_nft() { inr nft -j list chain netdev ctwpb in | jq '[.. | .counter? | select(. != null) | .packets] | add'; }
teardown_nft() { inr nft delete table netdev ctwpb; }

setup_iptables() {
	{
		echo "*raw"
		echo ":PREROUTING ACCEPT [0:0]"
		prefixes "$1" | sed "s|^|-A PREROUTING -i $RIF -s |; s|$| -j DROP|"
		echo "COMMIT"
	} >"$W/ipt.rules"
	ip netns exec "$PR" iptables-restore <"$W/ipt.rules"
}
count_iptables() { ip netns exec "$PR" iptables -t raw -L PREROUTING -v -x -n | awk 'NR > 2 {s += $1} END {print s + 0}'; }
teardown_iptables() { ip netns exec "$PR" iptables -t raw -F PREROUTING; }

# tc: this kernel has no flower/u32/gact, so tc's filter is a BPF classifier
# (direct action) with the same LPM lookup: the cost of the later hook.
setup_tc() {
	prefixes "$1" >"$W/tc.cidrs"
	inr "$W/xdp-tcdrop" attach "$W/xdp-tcdrop.bpf.o" "$RIF" "$W/tc.cidrs" \
		"$CTRWATCH_BPF_PIN-tcdrops"
}
count_tc() { "$W/xdp-tcdrop" count "$CTRWATCH_BPF_PIN-tcdrops"; }
teardown_tc() {
	ip netns exec "$PR" "$W/xdp-tcdrop" detach "$RIF"
	rm -f "$CTRWATCH_BPF_PIN-tcdrops"
}

# ---- one measurement ----
gen() { ip netns exec "$PS" taskset -c 0 "$GEN" "$SIF" "$RMAC" "$SRC" 10.96.0.2 "$1"; }
napi_pid() { ps -eo pid,comm | awk -v n="napi/$RIF" 'index($2, n) == 1 {print $1; exit}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A MPPS NSPP SETUP
for f in $FILTERS; do
	for n in $CIDRS; do
		t0=$(date +%s%N)
		if ! "setup_$f" "$n" >"$W/setup.log" 2>&1; then
			echo "# $f $n: setup failed: $(tail -2 "$W/setup.log")" >&2
			"teardown_$f" >/dev/null 2>&1
			MPPS[$f,$n]=fail
			continue
		fi
		SETUP[$f,$n]=$((($(date +%s%N) - t0) / 1000000))
		rates=()
		ok=1
		for _ in $(seq "$REPS"); do
			c0=$("count_$f")
			out=$(gen "$SECS")
			c1=$("count_$f")
			sent=$(awk '{print $2}' <<<"$out")
			pps=$(awk '{gsub(/[()]/, ""); print $(NF-1)}' <<<"$out")
			# Inline, every frame reaches the filter: it must have dropped them all.
			[ $((c1 - c0)) -ge $((sent * 99 / 100)) ] || ok=0
			rates+=("$pps")
		done
		MPPS[$f,$n]=$(printf '%s\n' "${rates[@]}" | sort -n | tail -1 | awk '{printf "%.3f", $1 / 1e6}')
		[ "$ok" = 1 ] || MPPS[$f,$n]="${MPPS[$f,$n]}!"
		# Receiver CPU per packet: threaded NAPI on CPU 1.
		ip netns exec "$PR" sh -c "echo 1 > /sys/class/net/$RIF/threaded"
		np=$(napi_pid)
		if [ -n "$np" ]; then
			taskset -pc 1 "$np" >/dev/null
			c0=$("count_$f")
			k0=$(cpu_ticks "$np")
			gen "$SECS" >/dev/null
			k1=$(cpu_ticks "$np")
			c1=$("count_$f")
			NSPP[$f,$n]=$(awk -v k=$((k1 - k0)) -v p=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
				'BEGIN { if (p > 0) printf "%.0f", k / hz * 1e9 / p; else print "-" }')
		else
			NSPP[$f,$n]="-"
		fi
		ip netns exec "$PR" sh -c "echo 0 > /sys/class/net/$RIF/threaded"
		"teardown_$f" >/dev/null 2>&1
		printf '# %-10s %6s prefixes: %6s Mpps inline, %5s ns/pkt receiver CPU (setup %s ms)\n' \
			"$f" "$n" "${MPPS[$f,$n]}" "${NSPP[$f,$n]}" "${SETUP[$f,$n]}"
	done
done

echo
printf '%-12s' "drop Mpps"
for n in $CIDRS; do printf '%12s' "$n"; done
echo
for f in $FILTERS; do
	printf '%-12s' "$f"
	for n in $CIDRS; do printf '%12s' "${MPPS[$f,$n]:-}"; done
	echo
done
printf '%-12s' "ns/pkt rx"
echo
for f in $FILTERS; do
	printf '%-12s' "$f"
	for n in $CIDRS; do printf '%12s' "${NSPP[$f,$n]:-}"; done
	echo
done
echo
echo "ratios (ctrwatch / peer, drop rate; goals: >= 0.95 x xdp-filter, >= 4 x nftables):"
for f in $FILTERS; do
	[ "$f" = ctrwatch ] && continue
	printf '  vs %-10s' "$f"
	for n in $CIDRS; do
		printf '%12s' "$(awk -v a="${MPPS[ctrwatch,$n]:-}" -v b="${MPPS[$f,$n]:-}" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "-" }')"
	done
	echo
done
echo "ratios (receiver CPU per dropped packet, peer / ctrwatch: how many times more packets"
echo "        one core drops with ctrwatch):"
for f in $FILTERS; do
	[ "$f" = ctrwatch ] && continue
	printf '  vs %-10s' "$f"
	for n in $CIDRS; do
		printf '%12s' "$(awk -v a="${NSPP[ctrwatch,$n]:-}" -v b="${NSPP[$f,$n]:-}" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", b / a; else print "-" }')"
	done
	echo
done
first=${CIDRS%% *}
last=${CIDRS##* }
echo "flatness: ctrwatch $last / $first prefixes = $(awk -v a="${MPPS[ctrwatch,$last]:-}" -v b="${MPPS[ctrwatch,$first]:-}" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }') (drop rate)," \
	"$(awk -v a="${NSPP[ctrwatch,$last]:-}" -v b="${NSPP[ctrwatch,$first]:-}" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }') (ns/pkt)"
echo "(xdp-filter holds at most 10 000 exact addresses: its 100000 column ran with 10 000;"
echo " '!' marks a run where the filter counted fewer drops than frames sent)"
# machine-readable lines (tests/bench/result.sh): per prefix count, each
# filter's drop rate and receiver CPU; the goals per prefix count
num() { local v=${1//!/}; echo "${v:--}"; }
for n in $CIDRS; do
	line="prefixes=$n"
	for f in $FILTERS; do
		line+=" ${f//-/_}_mpps=$(num "${MPPS[$f,$n]:-}") ${f//-/_}_ns_per_pkt=$(num "${NSPP[$f,$n]:-}")"
	done
	result xdp "$line"
done
for n in $CIDRS; do
	c=$(num "${MPPS[ctrwatch,$n]:-}")
	for pg in "xdp-filter 0.95" "nft 4"; do
		read -r f lim <<<"$pg"
		case " $FILTERS " in *" $f "*) ;; *) continue ;; esac
		goal xdp "ctrwatch_over_${f//-/_}_$n" "$(awk -v a="$c" -v b="$(num "${MPPS[$f,$n]:-}")" \
			'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')" ">=" "$lim" \
			"x $f" "$f drop rate, $n prefixes"
	done
done
