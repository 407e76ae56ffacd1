#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Files the container controls, tried for real: `exec -u` and `run -u` read
# the container's /etc/passwd and /etc/group.  A FIFO there hung exec (with
# SIGTERM blocked), /dev/zero spun it; now each is refused at once with a
# clear error for a user given by name (read inside the root, regular files
# only, size-capped), and left out with a warning for one given by id.  A
# stop signal ends an exec whose process cannot start (its cgroup frozen).
# 100 000 environment variables (-e, an image's Env) made run spin: now it
# is linear, and more than 65 536 variables is a clear error.
. "$(dirname "$0")/../lib.sh"
require_root

on_exit 'ctw rm -f files18 >/dev/null 2>&1; ctw gc'
W=$CTW_WORK/hostile18
mkdir -p "$W"
on_exit "rm -rf '$W'"

ctw run -d --name files18 busybox sleep 120 >/dev/null
# replace FILE WHAT: make the container's /etc/FILE a fifo, /dev/zero, ...
replace() {
	ctw exec files18 sh -c "rm -rf /etc/$1 && case $2 in
		fifo) mkfifo /etc/$1 ;;
		zero) ln -s /dev/zero /etc/$1 ;;
		magic) ln -s /proc/self/fd/0 /etc/$1 ;;
		dir) mkdir /etc/$1 ;;
		big) head -c 5242880 /dev/zero | tr '\0' x >/etc/$1 ;;
		ok) printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' >/etc/passwd
		    printf 'root:x:0:\nnogroup:x:65534:\n' >/etc/group ;;
		esac"
}
for f in passwd group; do
	for what in fifo zero magic dir big; do
		replace "$f" "$what"
		t0=$SECONDS
		out=$(timeout -k 5 20 "$CTW_BIN" exec -u nobody files18 id 2>&1)
		rc=$?
		t_eq "exec -u with /etc/$f a $what: refused (125) at once" "125 fast" \
			"$rc $( ((SECONDS - t0 < 10)) && echo fast || echo slow)"
		case $what in
		fifo | zero | dir) want="/etc/$f of the container is not a regular file" ;;
		magic) want="/etc/$f of the container: refused \(a magic link" ;;
		big) want="/etc/$f of the container is larger than 4 MiB" ;;
		esac
		t_match "  ... saying why" "$want" "$out"
		if [ "$what" = fifo ]; then
			# (grep, not id: the container's own tools would hang on it)
			out=$(timeout -k 5 20 "$CTW_BIN" exec -u 65534 files18 grep ^Uid: /proc/self/status 2>&1)
			t_match "  ... by id (-u 65534) the exec runs, warning that /etc/$f was left out" \
				"/etc/$f of the container is not a regular file.*going on without it" "$out"
			t_match "  ... as that user" 'Uid:\s+65534' "$out"
		fi
		replace "$f" ok
	done
done
t_match "with both files restored, exec -u nobody works" \
	'^uid=65534\(nobody\) gid=65534\(nogroup\)' "$(ctw exec -u nobody files18 id 2>&1)"

# run -u with an image whose /etc/passwd is a FIFO (a --rootfs here).
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/proc" "$R/dev" "$R/sys"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/id"
ln -s busybox "$R/bin/grep"
mkfifo "$R/etc/passwd"
t0=$SECONDS
out=$(timeout -k 5 20 "$CTW_BIN" run --rootfs "$R" -u nobody /bin/id 2>&1)
rc=$?
t_eq "run -u with the image's /etc/passwd a FIFO: refused (125) at once" "125 fast" \
	"$rc $( ((SECONDS - t0 < 10)) && echo fast || echo slow)"
t_match "  ... saying why" "/etc/passwd of the container is not a regular file" "$out"
t_match "  ... without -u (root, by id), it runs, warning that it was left out" \
	'going on without it.*Uid:\s+0' \
	"$(timeout -k 5 20 "$CTW_BIN" run --rootfs "$R" /bin/grep ^Uid: /proc/self/status 2>&1 | tr '\n' ' ')"

# A stop signal ends an exec whose process cannot start: the container's
# cgroup is frozen, so is the new process; SIGTERM used to wait behind it.
cg=$(ctw inspect files18 | jq -r '.[0].cgroup')
if [ -w "$cg/cgroup.freeze" ]; then
	echo 1 >"$cg/cgroup.freeze"
	on_exit "echo 0 >'$cg/cgroup.freeze'"
	"$CTW_BIN" exec files18 true >"$W/exec.out" 2>&1 &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	t0=$SECONDS
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		t_eq "SIGTERM ends an exec stuck in its start" "exited" "still running after 5 s"
	else
		wait "$pid"
		t_eq "SIGTERM ends an exec stuck in its start (128+15)" 143 "$?"
	fi
	t_match "  ... saying so" "interrupted by SIGTERM" "$(cat "$W/exec.out")"
	echo 0 >"$cg/cgroup.freeze"
	t_eq "  ... and the container still works once thawed" ok "$(ctw exec files18 echo ok 2>&1)"
else
	t_skip "SIGTERM ends an exec stuck in its start" "no cgroup.freeze in $cg"
fi
ctw rm -f files18 >/dev/null

# The environment: linear, capped.
seq 1 60000 | sed 's/^/V/; s/$/=x/' >"$W/env60k"
seq 1 100000 | sed 's/^/V/; s/$/=x/' >"$W/env100k"
t0=$SECONDS
# (busybox env, not sh: ash's own table of 60 000 variables is slow)
out=$(timeout -k 5 20 "$CTW_BIN" run --env-file "$W/env60k" busybox env 2>&1 | grep -c '^V')
t_eq "60 000 variables (--env-file): all there" 60000 "$out"
t_cmp "  ... in a few seconds" $((SECONDS - t0)) -lt 10
t0=$SECONDS
out=$(timeout -k 5 20 "$CTW_BIN" run --env-file "$W/env100k" busybox true 2>&1)
rc=$?
t_eq "100 000 variables: refused (125) at once" "125 fast" \
	"$rc $( ((SECONDS - t0 < 10)) && echo fast || echo slow)"
t_match "  ... naming the cap" "more than 65536 variables" "$out"

# The same from an image's config (Env with 100 000 entries).
if command -v umoci >/dev/null && command -v python3 >/dev/null; then
	# shellcheck source=tests/integration/image-fixtures.bash
	. "$(dirname "$0")/image-fixtures.bash"
	export CTRWATCH_ROOT=$CTW_WORK/root-18
	on_exit "rm -rf '$CTRWATCH_ROOT'"
	L=$W/oci
	if img_layout "$L" >/dev/null 2>&1 && python3 - "$L" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def blob(dg): return os.path.join(d, "blobs", "sha256", dg.split(":", 1)[1])
def put(data):
    dg = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(dg), "wb").write(data)
    return dg, len(data)
idx = json.load(open(os.path.join(d, "index.json")))
desc = idx["manifests"][0]
man = json.load(open(blob(desc["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
cfg["config"]["Env"] = ["PATH=/bin"] + ["E%d=x" % i for i in range(100000)]
man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
m = dict(desc)
m["digest"], m["size"] = put(json.dumps(man).encode())
m["annotations"] = {"org.opencontainers.image.ref.name": "env"}
idx["manifests"].append(m)
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
	then
		# import refuses such a config (its Env cap), so the image never
		# reaches run; run's own cap is items 34-35 (--env-file)
		t0=$SECONDS
		out=$(timeout -k 5 20 "$CTW_BIN" import "$L" big:env 2>&1)
		rc=$?
		t_eq "an image with 100 000 Env entries: import refuses it at once" "1 fast" \
			"$rc $( ((SECONDS - t0 < 10)) && echo fast || echo slow)"
		t_match "  ... naming the field and the cap" "config.Env: 100001 entries, more than [0-9]+" "$out"
		out=$("$CTW_BIN" run big:env true 2>&1)
		t_match "  ... and nothing of it is in the store" "image .big:env. not found" "$out"
	else
		t_skip "an image with 100 000 Env entries" "could not build the test image"
	fi
else
	t_skip "an image with 100 000 Env entries" "needs umoci and python3"
fi
